//go:build !amd64 || purego

package tensor

func axpy(alpha float32, x, y []float32) { axpyGo(alpha, x, y) }

func dot(x, y []float32) float32 { return dotGo(x, y) }
