package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/record"
)

func newStreamPipeline(t *testing.T, env map[string]string) *Pipeline {
	t.Helper()
	e := config.New(config.FromMap(env))
	opts := Load(e)
	require.NoError(t, e.Err())
	p, err := New(parseKV, opts)
	require.NoError(t, err)
	return p
}

// TestLineStream: each line is decided alone, a failed line writes
// nothing, and the lines written are what Transform writes for the same
// lines (without partition keys, which a stream does not evaluate).
func TestLineStream(t *testing.T) {
	env := map[string]string{
		"DROP_IF":            "method=HEAD",
		"SCHEMA":             "status:int:100..599",
		"MASK_FIELDS":        "remote_host=truncate-ip",
		"ARRIVAL_TIME_FIELD": "arrival_time",
		"FIELDS":             "ip=remote_host,status,arrival_time",
		// Not evaluated by a stream: a line without a time would fail
		// Transform's record, never a stream's line.
		"TIME_FIELD":     "time",
		"PARTITION_KEYS": "year",
	}
	p := newStreamPipeline(t, env)
	s := p.NewLineStream(arrival)
	lines := []struct {
		line    string
		want    LineResult
		wantErr string
	}{
		{line: "remote_host=203.0.113.7 method=GET status=200 time=2024-03-05T06:07:08Z", want: LineWritten},
		{line: "# a comment", want: LineSkipped},
		{line: "remote_host=203.0.113.8 method=HEAD status=200", want: LineFiltered},
		{line: "remote_host=203.0.113.9 status=700", wantErr: `field "status": 700 is above the maximum 599`},
		{line: "not a pair", wantErr: `word (value withheld: MASK_FIELDS) has no =`}, // as Transform: MASK_FIELDS is set
		{line: "remote_host=198.51.100.1 method=GET status=404 time=not-a-time", want: LineWritten},
	}
	for _, l := range lines {
		got, err := s.Line([]byte(l.line))
		if l.wantErr != "" {
			assert.ErrorContains(t, err, l.wantErr, l.line)
			continue
		}
		require.NoError(t, err, l.line)
		assert.Equal(t, l.want, got, l.line)
	}
	assert.Equal(t, `{"ip":"203.0.113.0","status":200,"arrival_time":"2024-03-05T06:07:08.009Z"}`+"\n"+
		`{"ip":"198.51.100.0","status":404,"arrival_time":"2024-03-05T06:07:08.009Z"}`+"\n", string(s.Output()))

	// The same lines through Transform, one record each, write the same.
	noKeys := map[string]string{}
	for k, v := range env {
		noKeys[k] = v
	}
	delete(noKeys, "PARTITION_KEYS")
	tp := newStreamPipeline(t, noKeys)
	var want strings.Builder
	for _, l := range lines {
		out, err := tp.Transform(context.Background(), firehose.Record{ID: "r", Data: []byte(l.line), ArrivalTime: arrival})
		if err == nil && !out.Drop {
			want.Write(out.Data)
		}
	}
	assert.Equal(t, want.String(), string(s.Output()))

	taken := s.Take(make([]byte, 0, 16))
	assert.Equal(t, want.String(), string(taken))
	assert.Empty(t, s.Output())
	_, err := s.Line([]byte("remote_host=192.0.2.2 status=202"))
	require.NoError(t, err)
	assert.Equal(t, want.String(), string(taken), "what was taken is not written over")
	n := len(s.Output())
	_, err = s.Line([]byte("remote_host=192.0.2.3 status=203"))
	require.NoError(t, err)
	s.Truncate(n)
	assert.Len(t, s.Output(), n, "the line taken back")
	s.Reset()
	assert.Empty(t, s.Output())
	_, err = s.Line([]byte("remote_host=192.0.2.1 status=201"))
	require.NoError(t, err)
	assert.Equal(t, `{"ip":"192.0.2.0","status":201,"arrival_time":"2024-03-05T06:07:08.009Z"}`+"\n", string(s.Output()))
}

// TestLineStreamHalfWritten: a line that fails while being written (a
// csv column whose value has no text) leaves nothing behind.
func TestLineStreamHalfWritten(t *testing.T) {
	// A value of no type a record holds has no text.
	parse := func(line []byte) (*record.Record, error) {
		if string(line) == "bad" {
			return rec("a", "y", "b", struct{}{}), nil
		}
		return rec("a", "x", "b", int64(1)), nil
	}
	p, err := New(parse, Options{OutputFormat: FormatCSV, OutputColumns: "a,b"})
	require.NoError(t, err)
	s := p.NewLineStream(arrival)
	_, err = s.Line([]byte("good"))
	require.NoError(t, err)
	_, err = s.Line([]byte("bad"))
	var fe *FieldError
	require.True(t, errors.As(err, &fe), "got %v", err)
	assert.Equal(t, "b", fe.Field)
	assert.Equal(t, "x,1\n", string(s.Output()))
}
