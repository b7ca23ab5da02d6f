package boot

import (
	"runtime/debug"

	"lakestream/shared/config"
)

// setMemoryLimit is debug.SetMemoryLimit, replaced in tests.
var setMemoryLimit = debug.SetMemoryLimit

// limitMemory gives the Go runtime a soft memory limit of three quarters
// of the function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, MiB), unless
// GOMEMLIMIT sets one. Without it the collector lets the heap grow to twice
// what is live: cwlogs-decompressor on a worst-case 6 MB batch once peaked
// at 128-150 MiB resident without it and 106-109 MiB with it. With it the
// collector works harder only when memory is short. (As of 2026-12 that
// batch's live heap is about 20 MiB and the collector's own goal about
// 50 MiB, under the limit at 128 MB and 256 MB alike: peak RSS 73-82 MiB
// at either, measured under shared/cmd/bench. A higher GOGC lets the heap
// run up to the limit: at 128 MB, GOGC=200 or off peaked at about
// 100 MiB for 1-1.5 ms less collection in a 55 ms invocation, so it is
// left at 100.) It returns the limit set, 0 for none.
func limitMemory(env *config.Env) int64 {
	mib := env.Int("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0, 0, 1<<20)
	if mib == 0 || env.Has("GOMEMLIMIT") {
		return 0
	}
	limit := int64(mib) << 20 * 3 / 4
	setMemoryLimit(limit)
	return limit
}
