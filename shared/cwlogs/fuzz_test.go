package cwlogs_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/cwlogs"
)

// fuzzLimit is small enough for the fuzzer to reach ErrTooLarge.
const fuzzLimit = 64 << 10

// FuzzDecode checks that Decode never panics, that every error it returns is
// exactly one of its documented kinds, and that whatever it accepts survives
// Encode and Decode unchanged. With compress set the input is a JSON
// document gzipped here, which lets the fuzzer work on the JSON and the
// checks rather than on gzip checksums; without it the input is the payload
// itself.
func FuzzDecode(f *testing.F) {
	for _, in := range fixtures(f) {
		f.Add(payload(f, in), false)
		if strings.HasSuffix(in, ".json") {
			doc, err := os.ReadFile(in)
			require.NoError(f, err)
			f.Add(doc, true)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		p := data
		if compress {
			p = gz(t, data)
		}
		d, err := cwlogs.Decode(p, fuzzLimit)
		if err != nil {
			assert.Len(t, classOf(err), 1, "error %q must be exactly one documented kind, is %v", err, classOf(err))
			return
		}
		again, err := cwlogs.Encode(d)
		require.NoError(t, err)
		// Re-encoding can grow a document (invalid UTF-8 comes back as
		// three-byte U+FFFD), so decode it without the fuzzing limit.
		back, err := cwlogs.Decode(again, 1<<30)
		require.NoError(t, err)
		assert.Equal(t, d, back)
	})
}
