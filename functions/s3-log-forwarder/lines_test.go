package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
)

type readLine struct {
	text    string
	n       int
	tooLong bool
}

func readAll(t *testing.T, r io.Reader, max int) ([]readLine, error) {
	t.Helper()
	lr := newLineReader(r, max)
	var out []readLine
	for {
		line, n, tooLong, err := lr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, readLine{string(line), n, tooLong})
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", readBuffer+10)
	tests := map[string]struct {
		in   string
		max  int
		want []readLine
	}{
		"lines":                 {in: "a\nbb\n", max: 10, want: []readLine{{"a", 1, false}, {"bb", 2, false}}},
		"no final LF":           {in: "a\nbb", max: 10, want: []readLine{{"a", 1, false}, {"bb", 2, false}}},
		"CRLF":                  {in: "a\r\nbb\r\n", max: 10, want: []readLine{{"a", 1, false}, {"bb", 2, false}}},
		"CR without LF at end":  {in: "a\r", max: 10, want: []readLine{{"a", 1, false}}},
		"blank lines count":     {in: "\n\na\n", max: 10, want: []readLine{{"", 1, false}, {"", 2, false}, {"a", 3, false}}},
		"empty":                 {in: "", max: 10},
		"exactly max":           {in: "abcd\nx\n", max: 4, want: []readLine{{"abcd", 1, false}, {"x", 2, false}}},
		"over max, short":       {in: "abcde\nx\n", max: 4, want: []readLine{{"abcd", 1, true}, {"x", 2, false}}},
		"over max, last":        {in: "x\nabcde", max: 4, want: []readLine{{"x", 1, false}, {"abcd", 2, true}}},
		"over the buffer":       {in: long + "\nx\n", max: 2 * readBuffer, want: []readLine{{long, 1, false}, {"x", 2, false}}},
		"over the buffer, CRLF": {in: long + "\r\nx", max: 2 * readBuffer, want: []readLine{{long, 1, false}, {"x", 2, false}}},
		"over the buffer and max": {in: long + long + "\nx\n", max: readBuffer + 5,
			want: []readLine{{long[:readBuffer+5], 1, true}, {"x", 2, false}}},
		"over the buffer and max, last": {in: "x\n" + long + long, max: readBuffer + 5,
			want: []readLine{{"x", 1, false}, {long[:readBuffer+5], 2, true}}},
		"max within the last chunk": {in: long + "\nx\n", max: readBuffer + 2,
			want: []readLine{{long[:readBuffer+2], 1, true}, {"x", 2, false}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, r := range map[string]io.Reader{"whole": strings.NewReader(tc.in), "byte by byte": iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := readAll(t, r, tc.max)
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

// TestLineReaderError: a failed read is returned, after the lines read
// before it.
func TestLineReaderError(t *testing.T) {
	boom := errors.New("connection reset")
	got, err := readAll(t, io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(boom)), 10)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, []readLine{{"a", 1, false}, {"b", 2, false}}, got)

	// Also while skipping the rest of a long line.
	got, err = readAll(t, io.MultiReader(strings.NewReader("abcdefgh"+strings.Repeat("y", readBuffer)), iotest.ErrReader(boom)), 4)
	assert.ErrorIs(t, err, boom)
	assert.Len(t, got, 1)
}

// FuzzLineReader: the lines read are bufio.Scanner's lines (CR dropped)
// cut to max, with their numbers, for any input and max.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\nccc"), 2)
	f.Add([]byte("\r\n\r"), 1)
	f.Add(bytes.Repeat([]byte("z"), 70000), 65540)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 1 || max > 1<<20 {
			return
		}
		got, err := readAll(t, bytes.NewReader(in), max)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(in))
		sc.Buffer(nil, len(in)+10)
		var want []readLine
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			tooLong := len(line) > max
			if tooLong {
				line = line[:max]
			}
			want = append(want, readLine{line, n, tooLong})
		}
		require.NoError(t, sc.Err())
		assert.Equal(t, want, got)
	})
}

// FuzzForwardObject forwards any bytes as an object, plain or gzipped,
// through the JSON format: nothing panics, and every line read is sent,
// skipped, filtered or failed, unless the object failed as a whole.
func FuzzForwardObject(f *testing.F) {
	f.Add([]byte("{\"n\":1}\n{bad\n\n{\"n\":2}"), false)
	f.Add([]byte("{\"n\":1}\r\n"), true)
	f.Add([]byte("\x1f\x8b\x08\x00garbage"), false)
	f.Add([]byte("PAR1...."), false)
	cfg := testConfig(f, map[string]string{"FORMAT": "json", "MAX_LINE_BYTES": "1KiB", "DROP_IF": "n=3", "SCHEMA": "n:int"})
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		s := newFakeS3()
		s.add("b", "k", body, gz)
		fh := &fakeFirehose{}
		fw := &forwarder{cfg: cfg, s3: s, put: newWriter(fh, cfg), log: discardLog()}
		out, err := fw.forwardObject(context.Background(), batch.S3Object{Bucket: "b", Key: "k", Event: "ObjectCreated:Put"})
		if err == nil {
			require.Equal(t, out.LinesRead, out.LinesSent+out.LinesSkipped+out.LinesFiltered+out.LinesFailed)
			require.EqualValues(t, len(fh.lines()), out.LinesSent)
		}
	})
}
