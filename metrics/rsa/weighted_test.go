package rsa

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestWeightedTauA(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 100; trial++ {
		n := 2 + rng.IntN(40)
		x, y, w, ones := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		var ex, ey []float64
		for i := range x {
			x[i] = float64(rng.IntN(5)) // many ties
			y[i] = float64(rng.IntN(7))
			w[i] = float64(rng.IntN(4))
			ones[i] = 1
			for k := 0; k < int(w[i]); k++ {
				ex = append(ex, x[i])
				ey = append(ey, y[i])
			}
		}
		// Unit weights: exactly TauA.
		if got, want := WeightedTauA(x, y, ones), TauA(x, y); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("trial %d: unit weights %v, TauA %v", trial, got, want)
		}
		// Integer weights: TauA of the expanded vectors (copies tie).
		want := TauA(ex, ey)
		got := WeightedTauA(x, y, w)
		if len(ex) < 2 {
			if !math.IsNaN(got) {
				t.Fatalf("trial %d: total weight %d gave %v", trial, len(ex), got)
			}
			continue
		}
		if math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d: weighted %v, expanded %v", trial, got, want)
		}
	}
	if !math.IsNaN(WeightedTauA([]float64{1, math.NaN()}, []float64{1, 2}, []float64{1, 1})) {
		t.Fatal("NaN input")
	}
}

func BenchmarkWeightedTauA(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 4186 // pairs of 92 stimuli
	x, y, w := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i], w[i] = rng.Float64(), rng.Float64(), float64(rng.IntN(3))
	}
	for b.Loop() {
		WeightedTauA(x, y, w)
	}
}

func BenchmarkTauAUnweighted(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 4186
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = rng.Float64(), rng.Float64()
	}
	for b.Loop() {
		TauA(x, y)
	}
}
