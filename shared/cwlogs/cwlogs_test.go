package cwlogs_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/cwlogs"
	"lakestream/shared/golden"
)

// limit is the decompressed-size cap the fixture tests decode with.
const limit = 1 << 20

// TestDecodeGolden decodes each testdata/<case>.json (gzipped here, as
// CloudWatch Logs would send it) and testdata/<case>.gz (sent as is) and
// compares the result, or the error message and kind, with
// <case>.golden.json.
func TestDecodeGolden(t *testing.T) {
	inputs := fixtures(t)
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
		t.Run(name, func(t *testing.T) {
			d, err := cwlogs.Decode(payload(t, in), limit)
			result := map[string]any{"data": d}
			if err != nil {
				result = map[string]any{"error": err.Error(), "class": classOf(err)}
			}
			golden.JSON(t, filepath.Join("testdata", name+".golden.json"), result)
		})
	}
}

// fixtures lists the testdata inputs: every .json that is not a golden
// file, and every .gz.
func fixtures(t testing.TB) []string {
	t.Helper()
	all, err := filepath.Glob("testdata/*")
	require.NoError(t, err)
	var inputs []string
	for _, p := range all {
		if strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".json") && !strings.HasSuffix(p, ".golden.json") {
			inputs = append(inputs, p)
		}
	}
	require.NotEmpty(t, inputs)
	return inputs
}

// payload reads a fixture as Decode receives it: a .json fixture is the
// decompressed document and is gzipped here with the standard library, not
// with Encode, so the tests of Encode have an independent reference.
func payload(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if strings.HasSuffix(path, ".gz") {
		return b
	}
	return gz(t, b)
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// errorClasses are the error kinds Decode documents; every error it returns
// for a payload must be exactly one of them.
var errorClasses = map[string]func(error) bool{
	"ErrNotGzip":            func(err error) bool { return errors.Is(err, cwlogs.ErrNotGzip) },
	"ErrTruncated":          func(err error) bool { return errors.Is(err, cwlogs.ErrTruncated) },
	"ErrTooLarge":           func(err error) bool { return errors.Is(err, cwlogs.ErrTooLarge) },
	"ErrInvalidJSON":        func(err error) bool { return errors.Is(err, cwlogs.ErrInvalidJSON) },
	"ErrUnknownMessageType": func(err error) bool { return errors.Is(err, cwlogs.ErrUnknownMessageType) },
	"MissingFieldError": func(err error) bool {
		var missing *cwlogs.MissingFieldError
		return errors.As(err, &missing)
	},
}

func classOf(err error) []string {
	var names []string
	for name, is := range errorClasses {
		if is(err) {
			names = append(names, name)
		}
	}
	return names
}

func TestDecodeErrors(t *testing.T) {
	valid := payload(t, "testdata/lambda-data.json")
	fromTool := payload(t, "testdata/gzip-tool.gz")
	with := func(b []byte, edit func([]byte)) []byte {
		b = bytes.Clone(b)
		edit(b)
		return b
	}
	tests := map[string]struct {
		payload  []byte
		maxBytes int64
		class    string
		cause    error // also in the chain, when set
		msg      string
	}{
		"empty": {
			payload: nil, class: "ErrNotGzip",
			msg: "cwlogs: payload is not gzip: it is empty",
		},
		"plain JSON": {
			payload: []byte(`{"messageType":"DATA_MESSAGE"}`), class: "ErrNotGzip",
			msg: "cwlogs: payload is not gzip: it starts with 7b22, not 1f8b",
		},
		"half a magic number": {
			payload: []byte{0x1f}, class: "ErrNotGzip",
			msg: "cwlogs: payload is not gzip: it starts with 1f, not 1f8b",
		},
		"magic number only": {
			payload: valid[:2], class: "ErrTruncated", cause: io.ErrUnexpectedEOF,
			msg: "cwlogs: gzip stream is truncated or corrupt: unexpected EOF",
		},
		"cut inside the header's file name": {
			payload: fromTool[:14], class: "ErrTruncated", cause: io.ErrUnexpectedEOF,
			msg: "cwlogs: gzip stream is truncated or corrupt: unexpected EOF",
		},
		"cut inside the deflate data": {
			payload: valid[:len(valid)/2], class: "ErrTruncated", cause: io.ErrUnexpectedEOF,
			msg: "cwlogs: gzip stream is truncated or corrupt: unexpected EOF",
		},
		"no trailer": {
			payload: valid[:len(valid)-8], class: "ErrTruncated", cause: io.ErrUnexpectedEOF,
			msg: "cwlogs: gzip stream is truncated or corrupt: unexpected EOF",
		},
		"bad checksum": {
			payload: with(valid, func(b []byte) { b[len(b)-8] ^= 0xff }), class: "ErrTruncated", cause: gzip.ErrChecksum,
			msg: "cwlogs: gzip stream is truncated or corrupt: gzip: invalid checksum",
		},
		"trailer lies about the size": {
			payload: with(valid, func(b []byte) { b[len(b)-4] ^= 0xff }), class: "ErrTruncated", cause: gzip.ErrChecksum,
			msg: "cwlogs: gzip stream is truncated or corrupt: gzip: invalid checksum",
		},
		"unknown compression method": {
			payload: with(valid, func(b []byte) { b[2] = 7 }), class: "ErrTruncated", cause: gzip.ErrHeader,
			msg: "cwlogs: gzip stream is truncated or corrupt: gzip: invalid header",
		},
		"corrupt deflate data": {
			payload: with(valid, func(b []byte) { b[10] = 0xff }), class: "ErrTruncated",
			msg: "cwlogs: gzip stream is truncated or corrupt: flate: corrupt input before offset 1",
		},
		"garbage after the member": {
			payload: append(bytes.Clone(valid), "junk after the gzip member"...), class: "ErrTruncated", cause: gzip.ErrHeader,
			msg: "cwlogs: gzip stream is truncated or corrupt: gzip: invalid header",
		},
		"over the limit": {
			payload: valid, maxBytes: 100, class: "ErrTooLarge",
			msg: "cwlogs: decompressed payload exceeds the limit of 100 bytes",
		},
		"not JSON": {
			payload: gz(t, []byte("START RequestId: 6c1f2a9e")), class: "ErrInvalidJSON",
			msg: "cwlogs: decompressed payload is not a CloudWatch Logs JSON document: invalid character 'S' looking for beginning of value",
		},
		"empty document": {
			payload: gz(t, nil), class: "ErrInvalidJSON",
			msg: "cwlogs: decompressed payload is not a CloudWatch Logs JSON document: unexpected end of JSON input",
		},
		"null document": {
			payload: gz(t, []byte("null")), class: "MissingFieldError",
			msg: "cwlogs: required field messageType is missing or empty",
		},
		"unknown message type, cut for the message": {
			payload: gz(t, []byte(`{"messageType":"`+strings.Repeat("X", 100)+`","owner":"1"}`)), class: "ErrUnknownMessageType",
			msg: `cwlogs: unknown messageType "` + strings.Repeat("X", 40) + `"…, want DATA_MESSAGE or CONTROL_MESSAGE`,
		},
		"control message without owner": {
			payload: gz(t, []byte(`{"messageType":"CONTROL_MESSAGE"}`)), class: "MissingFieldError",
			msg: "cwlogs: required field owner is missing or empty",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.maxBytes == 0 {
				tc.maxBytes = limit
			}
			d, err := cwlogs.Decode(tc.payload, tc.maxBytes)
			require.Error(t, err)
			assert.Equal(t, events.CloudwatchLogsData{}, d)
			assert.EqualError(t, err, tc.msg)
			assert.Equal(t, []string{tc.class}, classOf(err))
			if tc.cause != nil {
				assert.ErrorIs(t, err, tc.cause)
			}
		})
	}
}

func TestDecodeMissingFieldNamesTheField(t *testing.T) {
	_, err := cwlogs.Decode(payload(t, "testdata/event-without-timestamp.json"), limit)
	var missing *cwlogs.MissingFieldError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, "logEvents[2].timestamp", missing.Field)
}

func TestDecodeRejectsANonPositiveLimit(t *testing.T) {
	for _, maxBytes := range []int64{0, -1} {
		_, err := cwlogs.Decode(payload(t, "testdata/control.json"), maxBytes)
		assert.EqualError(t, err, fmt.Sprintf("cwlogs: maxBytes must be positive, got %d", maxBytes))
	}
}

// TestDecodeLimitIsExact decodes a payload at exactly its size, and one byte
// under it.
func TestDecodeLimitIsExact(t *testing.T) {
	doc, err := os.ReadFile("testdata/lambda-data.json")
	require.NoError(t, err)
	p := gz(t, doc)
	size := int64(len(doc))

	d, err := cwlogs.Decode(p, size)
	require.NoError(t, err)
	assert.Len(t, d.LogEvents, 3)

	_, err = cwlogs.Decode(p, size-1)
	assert.ErrorIs(t, err, cwlogs.ErrTooLarge)
}

// TestDecodeBomb feeds Decode a single gzip member of about 1 MiB that
// inflates to 1 GiB of zeros. With a 10 MiB limit it must fail with
// ErrTooLarge having allocated about the limit, not the gigabyte.
func TestDecodeBomb(t *testing.T) {
	const maxBytes = 10 << 20
	p := bomb(t, 1024)
	require.Less(t, len(p), 2<<20)
	require.Equal(t, uint32(1<<30), binary.LittleEndian.Uint32(p[len(p)-4:]), "the trailer must claim 1 GiB")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := cwlogs.Decode(p, maxBytes)
	runtime.ReadMemStats(&after)

	require.ErrorIs(t, err, cwlogs.ErrTooLarge)
	assert.EqualError(t, err, "cwlogs: decompressed payload exceeds the limit of 10485760 bytes")
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(maxBytes+2<<20), "Decode allocated %d bytes for a %d-byte limit", allocated, maxBytes)
}

// bomb returns one gzip member that inflates to mib MiB of zeros, built in
// milliseconds rather than by compressing a gigabyte: once deflate's 32 KiB
// window holds only zeros, the blocks that encode the next MiB of zeros
// decode the same wherever they are repeated, so two MiB are compressed and
// the second MiB's blocks are repeated. Flush ends each run of blocks on a
// byte boundary, without the final-block flag.
func bomb(t testing.TB, mib int) []byte {
	t.Helper()
	zeros := make([]byte, 1<<20)
	var deflated bytes.Buffer
	fw, err := flate.NewWriter(&deflated, flate.BestCompression)
	require.NoError(t, err)
	compress := func() []byte {
		deflated.Reset()
		_, err := fw.Write(zeros)
		require.NoError(t, err)
		require.NoError(t, fw.Flush())
		return bytes.Clone(deflated.Bytes())
	}
	first, next := compress(), compress()

	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff} // gzip header: deflate, no flags, no time, unknown OS
	out = append(out, first...)
	out = append(out, bytes.Repeat(next, mib-1)...)
	out = append(out, 1, 0, 0, 0xff, 0xff) // an empty final stored block ends the deflate stream
	crc := uint32(0)
	for range mib {
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, uint32(mib<<20))
}

func TestEncode(t *testing.T) {
	for _, name := range []string{"lambda-data", "control", "unicode-messages"} {
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", name+".json"))
			require.NoError(t, err)
			d, err := cwlogs.Decode(gz(t, doc), limit)
			require.NoError(t, err)

			p, err := cwlogs.Encode(d)
			require.NoError(t, err)
			encoded := gunzip(t, p)
			assert.JSONEq(t, string(doc), string(encoded))
			assert.NotContains(t, string(encoded), `\u003c`, "HTML characters are written as they are")
			assert.False(t, bytes.HasSuffix(encoded, []byte("\n")), "one JSON object, as CloudWatch Logs sends it")

			again, err := cwlogs.Decode(p, limit)
			require.NoError(t, err)
			assert.Equal(t, d, again)
		})
	}
}

// TestEncodeDoesNotValidate builds an invalid payload, as tests of callers
// need to.
func TestEncodeDoesNotValidate(t *testing.T) {
	p, err := cwlogs.Encode(events.CloudwatchLogsData{MessageType: "BOGUS"})
	require.NoError(t, err)
	assert.JSONEq(t,
		`{"owner":"","logGroup":"","logStream":"","subscriptionFilters":null,"messageType":"BOGUS","logEvents":null}`,
		string(gunzip(t, p)))
}

func TestSplit(t *testing.T) {
	tests := map[string]struct {
		events       int
		wantA, wantB int
	}{
		"none":  {0, 0, 0},
		"one":   {1, 0, 1},
		"two":   {2, 1, 1},
		"three": {3, 1, 2},
		"many":  {1001, 500, 501},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := events.CloudwatchLogsData{
				MessageType: cwlogs.MessageTypeData, Owner: "123456789012", LogGroup: "/aws/lambda/checkout",
				LogStream: "s", SubscriptionFilters: []string{"lake"},
			}
			for i := range tc.events {
				d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: fmt.Sprint(i), Timestamp: int64(i + 1), Message: "m"})
			}
			a, b := cwlogs.Split(d)
			assert.Len(t, a.LogEvents, tc.wantA)
			assert.Len(t, b.LogEvents, tc.wantB)
			assert.Equal(t, d.LogEvents, slices.Concat(a.LogEvents, b.LogEvents))
			for _, half := range []events.CloudwatchLogsData{a, b} {
				half.LogEvents = d.LogEvents
				assert.Equal(t, d, half, "both halves keep the metadata")
			}
			if tc.wantB > 0 {
				first := b.LogEvents[0]
				a.LogEvents = append(a.LogEvents, events.CloudwatchLogsLogEvent{ID: "appended"})
				assert.Equal(t, first, b.LogEvents[0], "appending to one half must not change the other")
			}
		})
	}
}

// benchmarkPayload is a DATA_MESSAGE of Lambda-style log lines that
// decompresses to about 1 MB.
func benchmarkPayload(b *testing.B) (payload []byte, size int) {
	d := events.CloudwatchLogsData{
		MessageType: cwlogs.MessageTypeData, Owner: "123456789012", LogGroup: "/aws/lambda/checkout",
		LogStream: "2024/03/05/[$LATEST]0f3c2b7e9d4a4c1e8a6b5d2f1e0c9b8a", SubscriptionFilters: []string{"lake-all"},
	}
	var doc []byte
	for len(doc) < 1_000_000 {
		for range 100 {
			i := len(d.LogEvents)
			d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{
				ID:        fmt.Sprintf("381384720142637108462111838936247163%020d", i),
				Timestamp: 1709618828009 + int64(i),
				Message: fmt.Sprintf("2024-03-05T06:07:08.%03dZ\t6c1f2a9e-3b1d-4b8e-9f0a-%012d\tINFO\torder accepted "+
					`{"orderId":"A-%d","customer":"c-%d","items":%d,"total":"%d.%02d","currency":"EUR"}`+"\n",
					i%1000, i, i, i*7%9973, i%9+1, i*37%500, i%100),
			})
		}
		var err error
		doc, err = json.Marshal(d)
		require.NoError(b, err)
	}
	return gz(b, doc), len(doc)
}

func BenchmarkDecode(b *testing.B) {
	p, size := benchmarkPayload(b)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cwlogs.Decode(p, 10<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoder is Decode without the copy out of the Decoder's
// buffers: what the decompressor does with every record.
func BenchmarkDecoder(b *testing.B) {
	p, size := benchmarkPayload(b)
	dec := new(cwlogs.Decoder)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(p, 10<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoderVPC decodes a payload of 400 VPC flow log events, as
// the reference batches hold: messages without escapes.
func BenchmarkDecoderVPC(b *testing.B) {
	d := events.CloudwatchLogsData{MessageType: cwlogs.MessageTypeData, Owner: "123456789012", LogGroup: "/vpc/flowlogs",
		LogStream: "eni-0a1b2c3d-all", SubscriptionFilters: []string{"Destination"}}
	for n := range 400 {
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: fmt.Sprintf("%056d", n), Timestamp: 1620000000000 + int64(n),
			Message: fmt.Sprintf("2 123456789012 eni-0a1b2c3d 10.0.%d.%d 172.31.%d.%d %d 443 6 %d %d 1620000000 1620000060 ACCEPT OK",
				n%250, n*7%250, n*3%250, n*11%250, 1024+n%60000, 1+n%40, 40+n%9000)})
	}
	doc, err := json.Marshal(d)
	require.NoError(b, err)
	p := gz(b, doc)
	dec := new(cwlogs.Decoder)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(p, 10<<20); err != nil {
			b.Fatal(err)
		}
	}
}
