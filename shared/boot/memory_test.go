package boot

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"lakestream/shared/config"
)

func TestLimitMemory(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want int64
	}{
		"128 MB function":  {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, want: 96 << 20},
		"10 GB function":   {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}, want: 7680 << 20},
		"GOMEMLIMIT wins":  {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": "50MiB"}},
		"outside Lambda":   {env: map[string]string{}},
		"GOMEMLIMIT alone": {env: map[string]string{"GOMEMLIMIT": "off"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var set int64
			old := setMemoryLimit
			setMemoryLimit = func(n int64) int64 { set = n; return 0 }
			t.Cleanup(func() { setMemoryLimit = old })
			env := config.New(config.FromMap(tc.env))
			assert.Equal(t, tc.want, limitMemory(env))
			assert.Equal(t, tc.want, set)
			assert.NoError(t, env.Err())
		})
	}
}
