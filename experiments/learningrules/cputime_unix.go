//go:build unix

package learningrules

import "syscall"

// CPUSeconds is the process's user+system CPU time, for the run's time report (on a machine
// shared with other jobs the wall time alone says little).
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
