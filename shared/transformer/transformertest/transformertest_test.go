package transformertest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolvePrefix(t *testing.T) {
	keys := map[string]string{"year": "2024", "month": "05", "day": "01", "hour": "13"}
	tests := map[string]struct {
		prefix string
		want   string
		err    string
	}{
		"every key":          {prefix: Prefix, want: "year=2024/month=05/day=01/hour=13/"},
		"no expressions":     {prefix: "logs/", want: "logs/"},
		"key used twice":     {prefix: "!{partitionKeyFromLambda:year}/!{partitionKeyFromLambda:year}", want: "2024/2024"},
		"missing key":        {prefix: "x=!{partitionKeyFromLambda:status}/", err: `no partition key "status" for the prefix`},
		"unclosed reference": {prefix: "x=!{partitionKeyFromLambda:year", err: "unclosed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ResolvePrefix(tc.prefix, keys)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
