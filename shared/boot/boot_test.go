package boot

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
)

func TestNewFromReadsNameAndLevel(t *testing.T) {
	var out bytes.Buffer
	fn := NewFrom(config.FromMap(map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "fx", "LOG_LEVEL": "warn"}), &out)
	assert.Equal(t, "fx", fn.Name)
	fn.Log.Info("hidden")
	fn.Log.Warn("shown")
	assert.NotContains(t, out.String(), "hidden")
	assert.Contains(t, out.String(), `"function":"fx"`)
	require.NoError(t, fn.Err())
}

func TestErrCollectsSettingsAndSetUp(t *testing.T) {
	fn := NewFrom(config.FromMap(map[string]string{"LOG_LEVEL": "loud"}), io.Discard)
	fn.Check(nil)
	fn.Check(errors.New("bucket name missing"))
	err := fn.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `LOG_LEVEL="loud" is invalid: one of debug, info, warn, error`)
	assert.Contains(t, err.Error(), "bucket name missing")
}
