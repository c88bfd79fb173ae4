//go:build !amd64 || purego

package tensor

// fmaPeak has no portable form: a Go loop would measure the compiler, not the machine.
func fmaPeak(iters int, out *[peakLanes]float32) int { return 0 }

func peakKernel() string { return "none" }
