package firehose

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/jsonscan"
)

// TestAppendBase64 compares with encoding/base64 at every length around
// the vector encoder's blocks, onto a buffer with and without room.
func TestAppendBase64(t *testing.T) {
	src := make([]byte, 200)
	for i := range src {
		src[i] = byte(i*151 + 7) // every bit pattern somewhere
	}
	for n := 0; n <= len(src); n++ {
		want := base64.StdEncoding.AppendEncode([]byte("prefix"), src[:n])
		assert.Equal(t, string(want), string(AppendBase64([]byte("prefix"), src[:n])), "length %d, no room", n)
		roomy := append(make([]byte, 0, 400), "prefix"...)
		assert.Equal(t, string(want), string(AppendBase64(roomy, src[:n])), "length %d, room", n)
	}
	all := make([]byte, 0, 3*4096)
	for v := range 4096 * 4 { // every 12-bit value at each place of a round
		all = append(all, byte(v>>4), byte(v<<4|v>>8), byte(v))
	}
	assert.Equal(t, base64.StdEncoding.EncodeToString(all), string(AppendBase64(nil, all)))
	// Every value of the padded last group, after whole blocks and alone.
	for v := range 1 << 16 {
		for _, src := range [][]byte{{byte(v)}, {byte(v >> 8), byte(v)}} {
			for _, lead := range [][]byte{nil, bytes.Repeat([]byte{0xa5}, 27)} {
				in := append(bytes.Clone(lead), src...)
				if want := base64.StdEncoding.EncodeToString(in); string(AppendBase64(nil, in)) != want {
					require.Equal(t, want, string(AppendBase64(nil, in)), "% x", in)
				}
			}
		}
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte("hello, world: 24 bytes+ of data to encode"), 3)
	f.Fuzz(func(t *testing.T, src []byte, prefix int) {
		dst := bytes.Repeat([]byte("p"), prefix&63)
		want := base64.StdEncoding.AppendEncode(bytes.Clone(dst), src)
		require.Equal(t, want, AppendBase64(dst, src))
	})
}

// BenchmarkAppendBase64 encodes a record's worth of output (42 KB, a VPC
// flow log payload's lines) against encoding/base64.
func BenchmarkAppendBase64(b *testing.B) {
	src := bytes.Repeat([]byte("2 123456789012 eni-0a1b2c3d 10.0.1.2 172.31.3.4 1024 443 6 12 3456 ACCEPT OK\n"), 550)
	dst := make([]byte, 0, base64.StdEncoding.EncodedLen(len(src)))
	b.Run("AppendBase64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = AppendBase64(dst[:0], src)
		}
	})
	b.Run("encoding-base64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = base64.StdEncoding.AppendEncode(dst[:0], src)
		}
	})
}

// checkPlainBase64Len holds plainBase64Len to jsonscan.DecodeBase64Text,
// which decodes what the plain way used to: the same text taken, of the
// same length; and canonicalBase64 to encoding/base64: text is canonical
// exactly when encoding its value gives it back.
func checkPlainBase64Len(t *testing.T, src []byte) {
	t.Helper()
	n, ok := plainBase64Len(src)
	_, wantN, wantOK := jsonscan.DecodeBase64Text(nil, src)
	require.Equal(t, wantOK, ok, "%q", src)
	if !ok {
		return
	}
	require.Equal(t, wantN, n, "%q", src)
	text := src[:n]
	value, err := base64.StdEncoding.DecodeString(string(text))
	require.NoError(t, err, "%q", text)
	assert.Equal(t, len(value), base64Len(text), "%q", text)
	assert.Equal(t, base64.StdEncoding.EncodeToString(value) == string(text), canonicalBase64(text), "%q", text)
}

// TestPlainBase64Len: every byte at every place of a round, padding in
// and out of place, and stray bits after the last byte.
func TestPlainBase64Len(t *testing.T) {
	for _, s := range []string{`"`, `aGk="`, `aGk=`, `aGl="`, `aGi="`, `aQ=="`, `aR=="`, `aGVsbG8sIHdvcmxkIQ=="`, `aGk"`,
		`a==="`, `aGk=="`, `aG=k"`, `aGk=x"`, `aGVsbG8/+w=="`, `aGVsbG8\/"`, "aGVs\nbG8=\"", `====`, `""`} {
		checkPlainBase64Len(t, []byte(s))
	}
	base := []byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0")
	for c := range 256 {
		for at := range 20 {
			src := append(bytes.Clone(base[:at+12]), `"`...)
			src[at] = byte(c)
			checkPlainBase64Len(t, src)
		}
	}
}

func FuzzPlainBase64Len(f *testing.F) {
	f.Add([]byte(`aGVsbG8sIHdvcmxkIQ=="`))
	f.Add([]byte(`aGl="`))
	f.Fuzz(func(t *testing.T, src []byte) {
		checkPlainBase64Len(t, src)
		// And as the text of a JSON string, the way it is mostly met.
		checkPlainBase64Len(t, []byte(base64.StdEncoding.EncodeToString(src)+`"`))
	})
}

// TestBase64TextLen: the length encoding/base64 gives, for every length
// around the groups of three and large ones.
func TestBase64TextLen(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 299, 300, 301, 6_000_000, 1<<40 + 1} {
		assert.Equal(t, base64.StdEncoding.EncodedLen(n), base64TextLen(n), "%d bytes", n)
	}
}
