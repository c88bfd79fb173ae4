//go:build unix

package nn_test

import (
	"syscall"
	"time"
)

// cpuNow is the process's user+system CPU time: benchmarks report CPU time per op, which stays
// comparable on a machine shared with other jobs.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
