package tensor

// Elementwise kernels of the layers' memory-bound passes (ReLU, its gradient, accumulation,
// per-channel bias). On amd64 with AVX2 they run in assembly (branch-free, 8 lanes); elsewhere
// the Go loops below serve.

// ReluTo writes max(src[i], 0) to dst[i] for i < len(src) (NaN stays NaN, -0 becomes +0); dst
// must be at least as long as src and may be src itself.
func ReluTo(dst, src []float32) {
	if len(src) == 0 {
		return
	}
	reluTo(dst[:len(src)], src)
}

func reluToGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = max(v, 0) + 0
	}
}

// ReluGradTo writes dy[i] where out[i] > 0, else 0, to dx[i] for i < len(dx): the gradient of a
// ReLU given its output. dy and out must be at least as long as dx; dx may alias dy.
func ReluGradTo(dx, dy, out []float32) {
	if len(dx) == 0 {
		return
	}
	reluGradTo(dx, dy[:len(dx)], out[:len(dx)])
}

func reluGradToGo(dx, dy, out []float32) {
	dy = dy[:len(dx)]
	out = out[:len(dx)]
	for i, v := range out {
		g := dy[i]
		if !(v > 0) {
			g = 0
		}
		dx[i] = g
	}
}

// AddTo computes dst[i] += src[i] for i < len(src); dst must be at least as long as src.
func AddTo(dst, src []float32) {
	if len(src) == 0 {
		return
	}
	addTo(dst[:len(src)], src)
}

func addToGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// AddConstTo adds v to every element of x; with relu it then clamps at 0 as ReluTo does (a
// fused bias and ReLU pass).
func AddConstTo(x []float32, v float32, relu bool) {
	if len(x) == 0 {
		return
	}
	addConstTo(x, v, relu)
}

func addConstToGo(x []float32, v float32, relu bool) {
	if relu {
		for i, u := range x {
			x[i] = max(u+v, 0) + 0
		}
		return
	}
	for i := range x {
		x[i] += v
	}
}

// AddConstCopy writes src[i] + v to dst[i] for i < len(src) (a copy with a bias); dst must be at
// least as long as src.
func AddConstCopy(dst, src []float32, v float32) {
	if len(src) == 0 {
		return
	}
	addConstCopy(dst[:len(src)], src, v)
}

func addConstCopyGo(dst, src []float32, v float32) {
	dst = dst[:len(src)]
	for i, u := range src {
		dst[i] = u + v
	}
}
