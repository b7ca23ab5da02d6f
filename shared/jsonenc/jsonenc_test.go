package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stdlib is what encoding/json writes with HTML escaping off.
func stdlib(t testing.TB, v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestAppendString(t *testing.T) {
	for name, s := range map[string]string{
		"plain":        "hello",
		"quotes":       `say "hi" \ bye`,
		"controls":     "a\nb\rc\td\be\ff\x00g\x1f",
		"html":         "<a href='x'>&</a>",
		"unicode":      "Zürich 東京 🚀",
		"separators":   "line\u2028para\u2029",
		"invalid utf8": "bad\xff\xfe byte",
		"empty":        "",
		"long plain":   "0123456789abcdefghijklmnopqrstuvwxyz ~!@#$%^&*()",
		"late quote":   "0123456789abcdef\"",
		"late control": "0123456789abcdef\x7f\x1f",
		"late high":    "0123456789abcdefé",
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, stdlib(t, s), string(AppendString(nil, s)))
			assert.Equal(t, stdlib(t, s), string(AppendBytes(nil, []byte(s))))
			assert.Equal(t, len(AppendString(nil, s)), StringLen(s))
		})
	}
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456.789, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		got, err := AppendFloat(nil, f)
		require.NoError(t, err)
		assert.Equal(t, stdlib(t, f), string(got), "%v", f)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := AppendFloat(nil, f)
		assert.ErrorIs(t, err, ErrNotFinite)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff", "\u2028", "<>&", "\x00", "abc", "abcdefg", "0123456789abcdef0", "0123456789abcdef\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString([]byte("prefix"), s)
		assert.Equal(t, "prefix"+stdlib(t, s), string(got))
		assert.Equal(t, string(got), string(AppendBytes([]byte("prefix"), []byte(s))))
		assert.Equal(t, len(got)-len("prefix"), StringLen(s))
		// With room: the same bytes, and nothing written past them.
		for _, spare := range []int{0, 1, 8, 64} {
			buf := bytes.Repeat([]byte{'~'}, len(got)+2+len(s)*6+spare)
			roomy := AppendString(append(buf[:0], "prefix"...), s)
			assert.Equal(t, string(got), string(roomy))
			tail := buf[len(roomy):]
			if &roomy[0] != &buf[0] {
				tail = buf[len("prefix"):] // moved: buf past the prefix stays as it was
			}
			assert.Equal(t, strings.Repeat("~", len(tail)), string(tail), "written past the end")
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := `GET /index.html?q="x" HTTP/1.1 Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Zürich`
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}

func BenchmarkAppendStringShort(b *testing.B) {
	names := []string{"remote_host", "ident", "user", "time", "time_ms", "method", "path", "query", "protocol", "status", "bytes", "referrer", "user_agent", "203.0.113.0", "GET", "HTTP/1.1"}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, s := range names {
			buf = AppendString(buf, s)
		}
	}
}

// TestEscapeMask checks the word test against the byte it stands for:
// every byte value at every place of words of plain bytes, and words of
// bytes drawn at random (where a borrow from one byte could pass for
// another).
func TestEscapeMask(t *testing.T) {
	plainByte := func(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }
	const top = msb
	for _, bg := range []byte{' ', '!', '#', 'a', '[', ']', '~', 0x7f} {
		for c := range 256 {
			for k := range 8 {
				x := lsb*uint64(bg)&^(0xff<<(8*k)) | uint64(c)<<(8*k)
				require.Equal(t, !plainByte(byte(c)), EscapeMask(x)&top != 0, "byte %#x at %d among %q", c, k, bg)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		x := rng.Uint64()
		if rng.IntN(2) == 0 {
			x &= lsb * 0x7f // mostly ASCII
		}
		want := false
		for k := range 8 {
			want = want || !plainByte(byte(x>>(8*k)))
		}
		require.Equal(t, want, EscapeMask(x)&top != 0, "%#x", x)
	}
}

// TestAppendStringOverlap appends a string held in dst's own spare room
// (a decoder's scratch after its output): it is written as append would
// copy it, not read back after being written over.
func TestAppendStringOverlap(t *testing.T) {
	for _, text := range []string{"helloworld", "0123456789abcdefghijklmnop", "abc"} {
		buf := make([]byte, 0, 64)
		copy(buf[10:cap(buf)], text)
		s := unsafe.String(&buf[:cap(buf)][10], len(text))
		got := AppendString(append(buf, "dst:x"...), s)
		assert.Equal(t, `dst:x"`+text+`"`, string(got))
	}
}
