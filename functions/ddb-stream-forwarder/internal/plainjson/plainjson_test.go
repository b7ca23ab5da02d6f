package plainjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// stringEnd is StringEnd a byte at a time.
func stringEnd(d []byte, i int) (int, bool) {
	for ; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			return i, true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return i, false
		}
	}
	return i, false
}

func TestStringEnd(t *testing.T) {
	for text, want := range map[string]int{
		`"`: 0, `abc"`: 3, `abcdefgh"`: 8, `abcdefghijklmnop"x`: 16, `a~ !#"`: 5,
		`ab\"`: -2, "abcdefg\x1f\"": -7, "abcdefghi\x80\"": -9, `abc`: -3, `abcdefghij`: -10, "\x7f\"": 1,
	} {
		end, ok := StringEnd([]byte(text), 0)
		if want < 0 {
			assert.False(t, ok, "%q", text)
			want = -want
		} else {
			assert.True(t, ok, "%q", text)
		}
		assert.Equal(t, want, end, "%q", text)
	}
}

// FuzzStringEnd: the eight-byte search finds what a byte loop finds, from
// any offset, in StringEnd and in the copies of its loop in String and
// Key.
func FuzzStringEnd(f *testing.F) {
	f.Add([]byte(`abcdefgh"ijkl"`), 0)
	f.Add([]byte("é\"\\\x00~\x7f\"a"), 3)
	f.Fuzz(func(t *testing.T, d []byte, i int) {
		if i < 0 || i > len(d) {
			return
		}
		end, ok := StringEnd(d, i)
		wantEnd, wantOK := stringEnd(d, i)
		assert.Equal(t, wantOK, ok)
		assert.Equal(t, wantEnd, end)

		q := append([]byte{'"'}, d[i:]...)
		text, next, ok := String(q, 0)
		assert.Equal(t, wantOK, ok)
		key, value, keyOK := Key(append(q[:next:next], ':'), 0)
		assert.Equal(t, wantOK, keyOK)
		if ok {
			assert.Equal(t, string(d[i:wantEnd]), string(text))
			assert.Equal(t, wantEnd-i+2, next)
			assert.Equal(t, string(text), string(key))
			assert.Equal(t, next+1, value)
		}
	})
}

func TestKeyLiteralNext(t *testing.T) {
	key, i, ok := Key([]byte(`"ab" :  1`), 0)
	assert.True(t, ok)
	assert.Equal(t, "ab", string(key))
	assert.Equal(t, 8, i)
	for _, bad := range []string{`"ab" 1`, `"a\"b":1`, `ab:1`, `"ab"`} {
		_, _, ok := Key([]byte(bad), 0)
		assert.False(t, ok, bad)
	}
	for _, lit := range []string{"true", "false", "null"} {
		got, i, ok := Literal([]byte(lit+"}"), 0)
		assert.True(t, ok)
		assert.Equal(t, lit, string(got))
		assert.Equal(t, len(lit), i)
	}
	for _, bad := range []string{"tru", "nul}", "fals", "1", ""} {
		_, _, ok := Literal([]byte(bad), 0)
		assert.False(t, ok, bad)
	}
	i, more, ok := Next([]byte(" , x"), 0, '}')
	assert.True(t, ok && more)
	assert.Equal(t, 3, i)
	i, more, ok = Next([]byte(" }x"), 0, '}')
	assert.True(t, ok && !more)
	assert.Equal(t, 2, i)
	_, _, ok = Next([]byte(" ]"), 0, '}')
	assert.False(t, ok)
}
