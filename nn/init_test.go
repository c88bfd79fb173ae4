package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/tensor"
)

// Sample moments of every scheme against the distribution it names.
func TestInitWeightsMoments(t *testing.T) {
	const fanIn, fanOut, n = 50, 30, 200000
	dann := math.Sqrt(2 * math.Pi / ((2*math.Pi - 1) * fanIn))
	for _, c := range []struct {
		scheme         string
		mean, std, min float64
	}{
		{"he", 0, math.Sqrt(2.0 / fanIn), math.Inf(-1)},
		{"lecun", 0, math.Sqrt(1.0 / fanIn), math.Inf(-1)},
		{"glorot", 0, math.Sqrt(6.0/(fanIn+fanOut)) / math.Sqrt(3), -math.Sqrt(6.0 / (fanIn + fanOut))},
		{"torch", 0, 1 / math.Sqrt(fanIn) / math.Sqrt(3), -1 / math.Sqrt(fanIn)},
		// An exponential distribution's mean equals its standard deviation.
		{"dann-exc", dann, dann, 0},
		{"dann-inh", -1.0 / fanIn, 0, -1.0 / fanIn},
	} {
		w := tensor.New(n)
		if err := InitWeights(w, c.scheme, fanIn, fanOut, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
		var mean, sq float64
		lo := math.Inf(1)
		for _, v := range w.Data {
			mean += float64(v)
			lo = math.Min(lo, float64(v))
		}
		mean /= n
		for _, v := range w.Data {
			sq += (float64(v) - mean) * (float64(v) - mean)
		}
		std := math.Sqrt(sq / n)
		tol := 0.01*c.std + 1e-6
		if math.Abs(mean-c.mean) > 5*c.std/math.Sqrt(n)+1e-6 || math.Abs(std-c.std) > tol || lo < c.min-1e-6 {
			t.Errorf("%s: mean %.5g std %.5g min %.5g; want %.5g, %.5g, >= %.5g", c.scheme, mean, std, lo, c.mean, c.std, c.min)
		}
	}
	if err := InitWeights(tensor.New(3), "kaiming", 1, 1, rand.New(rand.NewPCG(1, 2))); err == nil {
		t.Error("unknown scheme: no error")
	}
}
