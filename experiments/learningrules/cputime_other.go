//go:build !unix

package learningrules

// CPUSeconds is 0 where the process's CPU time is not available.
func CPUSeconds() float64 { return 0 }
