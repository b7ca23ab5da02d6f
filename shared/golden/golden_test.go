package golden

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withUpdate runs f as if the tests ran with -update.
func withUpdate(t *testing.T, f func()) {
	t.Helper()
	old := *update
	*update = true
	defer func() { *update = old }()
	f()
}

func TestJSONWritesThenCompares(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "case.golden.json")
	withUpdate(t, func() { JSON(t, path, map[string]any{"b": "<&>", "a": 1}) })
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"a\": 1,\n  \"b\": \"<&>\"\n}\n", string(got))

	JSON(t, path, json.RawMessage(`{"b":"<&>","a":1.0}`)) // order and number form do not count
}

func TestRawMessageWrittenAsIs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case.golden.json")
	withUpdate(t, func() { JSON(t, path, json.RawMessage(`{"z":1,"a":2}`)) })
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "{\"z\":1,\"a\":2}\n", string(got))
}

func TestBytesExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case.golden.json")
	withUpdate(t, func() { Bytes(t, path, []byte(`{"n":1.50}`+"\n")) })
	Bytes(t, path, []byte(`{"n":1.50}`+"\n"))

	assert.True(t, fails(t, func(ft testing.TB) { Bytes(ft, path, []byte(`{"n":1.5}`+"\n")) }),
		"1.5 is not 1.50 byte for byte")
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.golden.json")
	assert.True(t, fails(t, func(ft testing.TB) { Bytes(ft, path, nil) }), "a missing golden file fails the test")
	assert.True(t, fails(t, func(ft testing.TB) { JSON(ft, path, 1) }), "a missing golden file fails the test")
}

// fails reports whether f fails the test it is given.
func fails(t *testing.T, f func(testing.TB)) bool {
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(ft)
	}()
	<-done
	return ft.failed
}

// fakeT records failures instead of failing the real test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) FailNow()              { f.failed = true; runtime.Goexit() }
