package jsonscan

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appendBase64AsJSON is what encoding/json makes of data as a []byte: the
// value, or why it is not base64 (encoding/base64's error), or why data is
// not one JSON string at all.
func appendBase64AsJSON(data []byte) (value []byte, b64err, notString error) {
	if !json.Valid(data) {
		return nil, nil, json.Unmarshal(data, new(any))
	}
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(`"`)) {
		return nil, nil, errors.New("not a string")
	}
	var v []byte
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err, nil
	}
	return v, nil, nil
}

// checkAppendBase64 reads data (one JSON text) with AppendBase64 onto a
// prefix, with and without spare room, alone and as the first element of
// an array, and holds it to encoding/json.
func checkAppendBase64(t *testing.T, data []byte) {
	t.Helper()
	want, wantB64, notString := appendBase64AsJSON(data)
	for _, room := range []int{0, 3, 1 << 16} {
		for _, inArray := range []bool{false, true} {
			dst := append(make([]byte, 0, len("prefix")+room), "prefix"...)
			text := data
			if inArray {
				text = []byte("[" + string(data) + ` , "next"]`)
			}
			s := New(text)
			var got []byte
			var err error
			if inArray {
				for i := range s.Array() {
					if i == 0 {
						got, err = s.AppendBase64(dst)
					}
				}
			} else {
				got, err = s.AppendBase64(dst)
			}
			end := s.End()
			if notString != nil {
				require.Error(t, end, "%q is not a JSON string for encoding/json (%v)", text, notString)
				continue
			}
			require.NoError(t, end, "%q", text)
			if wantB64 != nil {
				require.Error(t, err, "%q is not base64 for encoding/json (%v)", data, wantB64)
				var corrupt base64.CorruptInputError
				require.ErrorAs(t, err, &corrupt)
				assert.Equal(t, wantB64, err, "encoding/base64's own error, offset and all")
				assert.Equal(t, "prefix", string(got), "dst comes back as it was")
				continue
			}
			require.NoError(t, err, "%q", data)
			assert.Equal(t, "prefix"+string(want), string(got), "%q, room %d", data, room)
		}
	}
	checkDecodeBase64Text(t, data)
}

// checkDecodeBase64Text holds DecodeBase64Text to encoding/json on data:
// where it takes the text after the opening quote, the string it says
// ends at n (the closing quote at data[1+n]) is one encoding/json reads
// as base64, to the same value; where it does not, dst comes back as it
// was.
func checkDecodeBase64Text(t *testing.T, data []byte) {
	t.Helper()
	if len(data) == 0 || data[0] != '"' {
		return
	}
	for _, room := range []int{0, 3, 1 << 16} {
		dst := append(make([]byte, 0, len("prefix")+room), "prefix"...)
		got, n, ok := DecodeBase64Text(dst, data[1:])
		if !ok {
			assert.Equal(t, "prefix", string(got), "dst comes back as it was")
			continue
		}
		require.Less(t, 1+n, len(data))
		require.Equal(t, byte('"'), data[1+n], "%q: n is where the closing quote is", data)
		want, wantB64, notString := appendBase64AsJSON(data[:1+n+1])
		require.NoError(t, notString, "%q", data)
		require.NoError(t, wantB64, "%q taken, but encoding/json does not read it as base64", data)
		assert.Equal(t, "prefix"+string(want), string(got), "%q, room %d", data, room)
	}
}

func TestAppendBase64(t *testing.T) {
	var plain []string
	src := make([]byte, 70)
	for i := range src {
		src[i] = byte(i*151 + 7)
	}
	for n := range len(src) + 1 { // every length: every padding, every round
		plain = append(plain, `"`+base64.StdEncoding.EncodeToString(src[:n])+`"`)
	}
	all := make([]byte, 0, 3*4096)
	for v := range 4096 * 4 { // every 12-bit value at each place of a group
		all = append(all, byte(v>>4), byte(v<<4|v>>8), byte(v))
	}
	plain = append(plain, `"`+base64.StdEncoding.EncodeToString(all)+`"`)
	for _, in := range plain {
		checkAppendBase64(t, []byte(in))
	}
	// A bad character or padding at every place of the first vector
	// blocks.
	long := base64.StdEncoding.EncodeToString(src)
	for i := range 80 {
		for _, c := range []string{"!", "=", "-"} {
			checkAppendBase64(t, []byte(`"`+long[:i]+c+long[i+1:]+`"`))
		}
	}
	for name, in := range map[string]string{
		"escaped slash":       `"ab\/c"`,
		"escaped letter":      `"\u0061GVsbG8="`,
		"escaped line breaks": `"aGVs\r\nbG8="`,
		// encoding/base64 skips line breaks, which JSON does not allow
		// unescaped: four of them leave a text whose length is a
		// multiple of four.
		"raw line breaks":         "\"QUJD\n\n\n\nQUJD\"",
		"raw line breaks, long":   "\"" + strings.Repeat("QUJD", 20) + "\r\n\r\n" + strings.Repeat("QUJD", 20) + "\"",
		"raw line breaks, last":   "\"" + strings.Repeat("QUJD", 20) + "QQ==\n\n\n\n\"",
		"no padding":              `"aGVsbG8"`,
		"padding too short":       `"aGVsbG8=="`,
		"padding in the middle":   `"aGk=aGk="`,
		"one character":           `"a"`,
		"padding alone":           `"===="`,
		"non-zero trailing bits":  `"aGVsbG9="`,
		"non-zero bits, one byte": `"aR=="`,
		"bad third of three":      `"aG!="`,
		"bad second of two":       `"a!=="`,
		"bad in the last group":   `"aGVsbG8hIS!h"`,
		"URL alphabet":            `"a-_b"`,
		"space":                   `"aGVs bG8="`,
		"UTF-8":                   `"aGVsé=="`,
		"control byte":            "\"aGVs\x01bG8=\"",
		"unterminated":            `"aGVsbG8=`,
		"unterminated, long":      `"` + strings.Repeat("QUJD", 10),
		"bad escape":              `"aGVs\qbG8="`,
		"number":                  `12`,
		"empty":                   `""`,
		"null":                    `null`,
		"nothing":                 ``,
	} {
		t.Run(name, func(t *testing.T) { checkAppendBase64(t, []byte(in)) })
	}
}

// FuzzAppendBase64 holds AppendBase64 to encoding/json on any input, and
// on any bytes made into the base64 string that Firehose sends.
func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte(`"aGVsbG8="`), []byte("hello"))
	f.Add([]byte(`"ab\/c"`), []byte{})
	f.Add([]byte(`"aGk=aGk="`), []byte{0xff, 0, 1})
	f.Fuzz(func(t *testing.T, data, value []byte) {
		checkAppendBase64(t, data)
		checkAppendBase64(t, []byte(`"`+base64.StdEncoding.EncodeToString(value)+`"`))
	})
}

// BenchmarkAppendBase64 reads the data of a Firehose request's records
// (1 KB of base64 each): AppendBase64 against what it replaces,
// RawString to find the text and encoding/base64 to decode it.
func BenchmarkAppendBase64(b *testing.B) {
	line := strings.Repeat(`{"event":"page_view","user":"u-1","ts":"2024-03-05T06:00:00Z"}`+"\n", 12)
	var doc []byte
	doc = append(doc, '[')
	for i := range 1000 {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = append(doc, '"')
		doc = base64.StdEncoding.AppendEncode(doc, []byte(line[:len(line)-i%3]))
		doc = append(doc, '"')
	}
	doc = append(doc, ']')
	dst := make([]byte, 0, len(doc))
	b.Run("AppendBase64", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		s := New(nil)
		for b.Loop() {
			s.Reset(doc)
			dst = dst[:0]
			for range s.Array() {
				dst, _ = s.AppendBase64(dst)
			}
			if s.Err() != nil {
				b.Fatal(s.Err())
			}
		}
	})
	b.Run("RawString+encoding-base64", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		s := New(nil)
		for b.Loop() {
			s.Reset(doc)
			dst = dst[:0]
			for range s.Array() {
				raw, _, _ := s.RawString()
				dst, _ = base64.StdEncoding.AppendDecode(dst, raw)
			}
			if s.Err() != nil {
				b.Fatal(s.Err())
			}
		}
	})
}
