package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// expand repeats element i w[i] times.
func expand(x, w []float64) []float64 {
	var out []float64
	for i, v := range x {
		for k := 0; k < int(w[i]); k++ {
			out = append(out, v)
		}
	}
	return out
}

func randomCase(rng *rand.Rand, n int) (x, y, w []float64) {
	for i := 0; i < n; i++ {
		x = append(x, float64(rng.IntN(6))) // ties
		y = append(y, rng.NormFloat64())
		w = append(w, float64(rng.IntN(3)))
	}
	return
}

func TestWeightedMatchesExpanded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		x, y, w := randomCase(rng, 3+rng.IntN(30))
		ex, ey := expand(x, w), expand(y, w)
		if len(ex) < 3 {
			continue
		}
		// Ranks of the copies.
		r := WeightedRanks(x, w)
		er := Ranks(ex)
		k := 0
		for i := range x {
			for c := 0; c < int(w[i]); c++ {
				if math.Abs(r[i]-er[k]) > 1e-12 {
					t.Fatalf("trial %d: rank of element %d = %v, expanded %v", trial, i, r[i], er[k])
				}
				k++
			}
		}
		got, want := WeightedPearson(x, y, w), Pearson(ex, ey)
		if !(math.Abs(got-want) < 1e-12 || math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("trial %d: weighted Pearson %v, expanded %v", trial, got, want)
		}
		// Spearman of the expanded vectors from weighted ranks.
		got = WeightedPearson(WeightedRanks(x, w), WeightedRanks(y, w), w)
		want = Spearman(ex, ey)
		if !(math.Abs(got-want) < 1e-12 || math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("trial %d: weighted Spearman %v, expanded %v", trial, got, want)
		}
	}
}

func TestWeightedUnitWeights(t *testing.T) {
	x := []float64{3, 1, 2, 2, 5}
	y := []float64{1, 0, 4, 2, 2}
	w := []float64{1, 1, 1, 1, 1}
	if got, want := WeightedPearson(x, y, w), Pearson(x, y); math.Abs(got-want) > 1e-15 {
		t.Fatalf("%v != %v", got, want)
	}
	r := WeightedRanks(x, w)
	for i, v := range Ranks(x) {
		if r[i] != v {
			t.Fatalf("ranks %v != %v", r, Ranks(x))
		}
	}
	if !math.IsNaN(WeightedPearson(x, y, make([]float64, 5))) || !math.IsNaN(WeightedPearson(x, y[:4], w)) {
		t.Fatal("zero weights or length mismatch should give NaN")
	}
}
