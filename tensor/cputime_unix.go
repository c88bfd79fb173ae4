//go:build unix

package tensor

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time of the process; GemmTable and the benchmarks use it
// to report throughput per busy core, which is stable on a machine shared with other jobs.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
