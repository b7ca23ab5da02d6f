package pipeline

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/record"
)

// TestFieldPathHint looks one path up in record after record, as a
// pass's stages do line after line: its field at the same place with the
// same name string, at the same place with the name in other memory, at
// another place, absent, and a field of the same length but another name
// where the path was last found. Each lookup finds what a scan finds.
func TestFieldPathHint(t *testing.T) {
	host := "host"
	other := strings.Clone(host)
	records := []*record.Record{
		rec("time", int64(1), host, "a"),
		rec("time", int64(2), host, "b"),
		rec("time", int64(3), other, "c"),
		rec(host, "d", "time", int64(4)),
		rec("time", int64(5), "hast", "e"),
		rec("time", int64(6)),
		rec("time", int64(7), "hast", "f", other, "g"),
		rec("time", int64(8), host, "h"),
		rec("user", rec("host", "nested"), "time", int64(9)),
	}
	p, err := newFieldPath("host")
	require.NoError(t, err)
	nested, err := newFieldPath("user.host")
	require.NoError(t, err)
	for i, r := range records {
		want, _ := r.Get("host")
		assert.Equal(t, want, p.get(r), "record %d", i)
		var wantNested any
		if u, ok := r.Get("user"); ok {
			wantNested, _ = u.(*record.Record).Get("host")
		}
		assert.Equal(t, wantNested, nested.get(r), "record %d, nested", i)
	}

	// Copies of the path share its hints, from passes running at once.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				r := records[(i+g)%len(records)]
				want, _ := r.Get("host")
				if !assert.Equal(t, want, p.get(r)) {
					return
				}
			}
		})
	}
	wg.Wait()
}
