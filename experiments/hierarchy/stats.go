package hierarchy

import (
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/metrics/stats"
)

// BestDepthSamples returns, for each bootstrap resample b, the relative depth of the layer that
// scores best under that resample: samples[i][b] is layer i's score under resample b (one
// resample for all layers alike, benchmarks.Result.LayerSamples) and depths[i] its relative
// depth. A resample where every layer is NaN gives NaN. Ties go to the shallower layer.
func BestDepthSamples(samples [][]float64, depths []float64) []float64 {
	if len(samples) == 0 {
		return nil
	}
	B := len(samples[0])
	out := make([]float64, B)
	for b := 0; b < B; b++ {
		best, bv := -1, math.Inf(-1)
		for i := range samples {
			if b >= len(samples[i]) {
				continue
			}
			v := samples[i][b]
			if !math.IsNaN(v) && v > bv {
				best, bv = i, v
			}
		}
		out[b] = math.NaN()
		if best >= 0 {
			out[b] = depths[best]
		}
	}
	return out
}

// Interval is the 95% percentile interval of the finite values of x (NaN, NaN when none).
func Interval(x []float64) (lo, hi float64) {
	f := finite(x)
	if len(f) == 0 {
		return math.NaN(), math.NaN()
	}
	return stats.Percentile(f, 2.5), stats.Percentile(f, 97.5)
}

func finite(x []float64) []float64 {
	var out []float64
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// Ordering is the bootstrap test that three regions' best depths increase (V1 < V4 < IT).
type Ordering struct {
	// Prob is the fraction of paired resamples in which d1 < d2 < d3 strictly.
	Prob float64
	// P12 and P23 are one-sided bootstrap p values of d1 < d2 and of d2 < d3:
	// (1 + #{b: not a_b < b_b}) / (valid + 1); P, their maximum, is the intersection-union p
	// of the whole ordering (it holds at level alpha when both steps do).
	P12, P23, P float64
	Samples     int // resamples with all three depths finite
}

// OrderTest tests d1 < d2 < d3 from bootstrap samples of the three depths (index b of each is
// one draw; samples from different benchmarks are independent draws, so pairing by index is
// a draw from the joint distribution).
func OrderTest(d1, d2, d3 []float64) Ordering {
	n := min(len(d1), len(d2), len(d3))
	var all, n12, n23, valid int
	for b := 0; b < n; b++ {
		a, m, c := d1[b], d2[b], d3[b]
		if math.IsNaN(a) || math.IsNaN(m) || math.IsNaN(c) {
			continue
		}
		valid++
		if !(a < m) {
			n12++
		}
		if !(m < c) {
			n23++
		}
		if a < m && m < c {
			all++
		}
	}
	o := Ordering{Prob: math.NaN(), P12: math.NaN(), P23: math.NaN(), P: math.NaN(), Samples: valid}
	if valid == 0 {
		return o
	}
	o.Prob = float64(all) / float64(valid)
	o.P12 = float64(1+n12) / float64(valid+1)
	o.P23 = float64(1+n23) / float64(valid+1)
	o.P = math.Max(o.P12, o.P23)
	return o
}

// ExactPermutations is the largest number of permutations SpearmanPerm enumerates exactly
// (n <= 8); above it the p value is a Monte Carlo estimate.
const ExactPermutations = 40320

// SpearmanPerm returns Spearman's rho of x and y (average ranks for ties) and its two-sided
// permutation p: the fraction of permutations of y whose |rho| reaches the observed |rho|
// (within 1e-12). Up to 8 pairs every permutation is enumerated (exact p); above, perms
// random permutations drawn with seed give p = (1 + k) / (perms + 1). Fewer than 3 pairs, or
// a constant variable, give NaN.
func SpearmanPerm(x, y []float64, perms int, seed uint64) (rho, p float64, exact bool) {
	n := len(x)
	if n != len(y) || n < 3 {
		return math.NaN(), math.NaN(), false
	}
	rx, ry := stats.Ranks(x), stats.Ranks(y)
	rho = stats.Pearson(rx, ry)
	if math.IsNaN(rho) {
		return rho, math.NaN(), false
	}
	obs := math.Abs(rho) - 1e-12
	py := make([]float64, n)
	fact := 1
	for i := 2; i <= n; i++ {
		fact *= i
	}
	if fact <= ExactPermutations {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		k, total := 0, 0
		var rec func(int)
		rec = func(d int) {
			if d == n {
				for i, j := range idx {
					py[i] = ry[j]
				}
				total++
				if math.Abs(stats.Pearson(rx, py)) >= obs {
					k++
				}
				return
			}
			for i := d; i < n; i++ {
				idx[d], idx[i] = idx[i], idx[d]
				rec(d + 1)
				idx[d], idx[i] = idx[i], idx[d]
			}
		}
		rec(0)
		return rho, float64(k) / float64(total), true
	}
	if perms <= 0 {
		perms = 10000
	}
	r := rand.New(rand.NewPCG(seed, 0x5bea_12a7))
	copy(py, ry)
	k := 0
	for t := 0; t < perms; t++ {
		r.Shuffle(n, func(i, j int) { py[i], py[j] = py[j], py[i] })
		if math.Abs(stats.Pearson(rx, py)) >= obs {
			k++
		}
	}
	return rho, float64(1+k) / float64(perms+1), false
}

// Thin keeps at most n of layers at evenly spaced positions, always the first and the last
// (n <= 0 or n >= len(layers): all).
func Thin(layers []string, n int) []string {
	if n <= 0 || n >= len(layers) {
		return layers
	}
	if n == 1 {
		return layers[len(layers)-1:]
	}
	var out []string
	last := -1
	for k := 0; k < n; k++ {
		i := int(math.Round(float64(k) * float64(len(layers)-1) / float64(n-1)))
		if i != last {
			out = append(out, layers[i])
			last = i
		}
	}
	return out
}
