package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAdamUpdateBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, dec := range []bool{false, true} {
		n := 103
		w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			m[i], v[i] = float32(rng.NormFloat64()*0.1), float32(rng.Float64()*0.01)
		}
		p := AdamParams{Beta1: 0.9, Beta2: 0.999, WD: 1e-2, Decay: 1 - 1e-3*1e-2, Decoupled: dec,
			StepSize: 1e-3 / (1 - math.Pow(0.9, 3)), BC2: math.Sqrt(1 - math.Pow(0.999, 3)), Eps: 1e-8}
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		AdamUpdate(w, g, m, v, p)
		adamGo(w2, g, m2, v2, p)
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || m[i] != m2[i] || v[i] != v2[i] {
				t.Fatalf("decoupled=%v: element %d differs: w %v/%v m %v/%v v %v/%v", dec, i, w[i], w2[i], m[i], m2[i], v[i], v2[i])
			}
		}
	}
}
