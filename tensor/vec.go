package tensor

// Vector kernels used by the layers. Axpy and Dot use AVX2+FMA assembly on amd64 when the CPU has
// it (they are memory-light and vectorise 4-8x over scalar Go); the rest are simple Go loops.

// Axpy computes y[i] += alpha*x[i] for i < len(x); y must be at least as long as x.
func Axpy(alpha float32, x, y []float32) {
	if len(y) < len(x) {
		panic("tensor.Axpy: len(y) < len(x)")
	}
	if len(x) == 0 {
		return
	}
	axpy(alpha, x, y[:len(x)])
}

func axpyGo(alpha float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs := (*[4]float32)(x[i:])
		ys := (*[4]float32)(y[i:])
		ys[0] += alpha * xs[0]
		ys[1] += alpha * xs[1]
		ys[2] += alpha * xs[2]
		ys[3] += alpha * xs[3]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

// Dot returns sum_i x[i]*y[i] over i < len(x); y must be at least as long as x.
func Dot(x, y []float32) float32 {
	if len(y) < len(x) {
		panic("tensor.Dot: len(y) < len(x)")
	}
	if len(x) == 0 {
		return 0
	}
	return dot(x, y[:len(x)])
}

func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs := (*[4]float32)(x[i:])
		ys := (*[4]float32)(y[i:])
		s0 += xs[0] * ys[0]
		s1 += xs[1] * ys[1]
		s2 += xs[2] * ys[2]
		s3 += xs[3] * ys[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Scale multiplies x by alpha in place.
func Scale(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// Add computes y[i] += x[i] for i < len(x).
func Add(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += v
	}
}

// AddConst adds v to every element of x (a per-channel bias on one plane).
func AddConst(v float32, x []float32) {
	for i := range x {
		x[i] += v
	}
}

// Sum returns the sum of x.
func Sum(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs := (*[4]float32)(x[i:])
		s0 += xs[0]
		s1 += xs[1]
		s2 += xs[2]
		s3 += xs[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// ReluInPlace sets negative elements (and NaN) of x to 0.
func ReluInPlace(x []float32) {
	for i, v := range x {
		if !(v > 0) {
			x[i] = 0
		}
	}
}

// ReluBackward zeroes grad where the ReLU output out is not positive (grad and out have equal
// length); it is the backward pass of ReluInPlace given its output.
func ReluBackward(grad, out []float32) {
	out = out[:len(grad)]
	for i, v := range out {
		if !(v > 0) {
			grad[i] = 0
		}
	}
}
