//go:build !unix

package benchdata

import "time"

// CPUTime is not measured here: it is always 0, and so are the figures
// per CPU second.
func CPUTime() time.Duration { return 0 }
