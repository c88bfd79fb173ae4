package tensor

import "math"

// AdamParams are the per-step constants of an Adam update (see AdamUpdate).
type AdamParams struct {
	Beta1, Beta2 float64
	WD           float64 // L2 weight decay added to the gradient (when not Decoupled)
	Decay        float64 // decoupled (AdamW) factor applied to the weights first: 1 - lr*wd
	Decoupled    bool
	StepSize     float64 // lr / (1 - beta1^t)
	BC2          float64 // sqrt(1 - beta2^t)
	Eps          float64
}

// AdamUpdate applies one Adam (or AdamW) step to the weights w given gradients g and the moment
// buffers m and v (all of len(w)), in float64 arithmetic per element:
//
//	w' = w*Decay (decoupled), g' = g + WD*w (otherwise)
//	m = b1*m + (1-b1)*g';  v = b2*v + (1-b2)*g'*g'
//	w = w' - StepSize*m / (sqrt(v)/BC2 + Eps)
//
// The AVX2 path computes four elements at a time with the same operations in the same order, so
// both paths give identical bits.
func AdamUpdate(w, g, m, v []float32, p AdamParams) {
	n := len(w)
	if n == 0 {
		return
	}
	g, m, v = g[:n], m[:n], v[:n]
	i := 0
	if useAVX2 && n >= 4 {
		i = n &^ 3
		adamAVX2(&w[0], &g[0], &m[0], &v[0], i, &p)
	}
	adamGo(w[i:], g[i:], m[i:], v[i:], p)
}

func adamGo(w, g, m, v []float32, p AdamParams) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		wi := float64(w[i])
		gi := float64(g[i])
		if p.Decoupled {
			wi *= p.Decay
		} else {
			gi += p.WD * wi
		}
		mi := p.Beta1*float64(m[i]) + (1-p.Beta1)*gi
		vi := p.Beta2*float64(v[i]) + (1-p.Beta2)*gi*gi
		m[i], v[i] = float32(mi), float32(vi)
		w[i] = float32(wi - p.StepSize*mi/(math.Sqrt(vi)/p.BC2+p.Eps))
	}
}
