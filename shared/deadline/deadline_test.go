package deadline

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReserve(t *testing.T) {
	tests := map[string]struct {
		timeout  time.Duration // 0: no deadline
		margin   time.Duration
		wantDone bool
	}{
		"no deadline":              {margin: Margin},
		"time left past margin":    {timeout: time.Hour, margin: Margin},
		"deadline inside margin":   {timeout: time.Second, margin: Margin, wantDone: true},
		"zero margin keeps it all": {timeout: time.Hour},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			parent := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithTimeout(parent, tc.timeout)
				defer cancel()
			}
			ctx, cancel := Reserve(parent, tc.margin)
			defer cancel()
			assert.Equal(t, tc.wantDone, ctx.Err() != nil)
			pd, hasParent := parent.Deadline()
			d, has := ctx.Deadline()
			require.Equal(t, hasParent, has)
			if has {
				assert.Equal(t, pd.Add(-tc.margin), d)
			}
			cancel()
			assert.Error(t, ctx.Err(), "cancel ends the reserved context")
			assert.NoError(t, parent.Err(), "and leaves the invocation's own alone")
		})
	}
}
