package boot

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

func TestReportInitError(t *testing.T) {
	var got struct {
		path, errType string
		body          map[string]string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path = r.URL.Path
		got.errType = r.Header.Get("Lambda-Runtime-Function-Error-Type")
		json.NewDecoder(r.Body).Decode(&got.body) //nolint:errcheck // checked below through got.body.
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	api := strings.TrimPrefix(srv.URL, "http://")

	require.NoError(t, reportInitError(api, errors.New(`X="y" is invalid`)))
	assert.Equal(t, "/2018-06-01/runtime/init/error", got.path)
	assert.Equal(t, "Runtime.InitError", got.errType)
	assert.Equal(t, map[string]string{"errorMessage": `X="y" is invalid`, "errorType": "InvalidConfiguration"}, got.body)

	assert.NoError(t, reportInitError("", errors.New("x")), "outside Lambda there is nobody to tell")
}
