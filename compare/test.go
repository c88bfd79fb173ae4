package compare

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/metrics/stats"
)

// hmaxTest tests the best model other than HMAX against HMAX on one benchmark (see the
// package documentation).
func hmaxTest(all []Row, s *benchmarks.Spec) (Test, error) {
	best, hmax := leaders(rowsOf(all, s.Name))
	switch {
	case hmax == nil:
		t := noTest(s.Name, "no HMAX model in the comparison")
		if best != nil {
			t.Model = best.Model
		}
		return t, nil
	case best == nil:
		t := noTest(s.Name, "no model other than HMAX")
		t.Reference = hmax.Model
		return t, nil
	}
	return pairedTest(best, hmax)
}

func noTest(bench, note string) Test {
	return Test{Benchmark: bench, P: math.NaN(), PHolm: math.NaN(), Diff: math.NaN(), DiffLow: math.NaN(), DiffHigh: math.NaN(), Note: note}
}

// pairedTest tests row a against reference row b (TestPair on their results).
func pairedTest(a, b *Row) (Test, error) {
	t, err := TestPair(a.res, b.res)
	t.Model, t.Reference = a.Model, b.Model
	return t, err
}

// TestPair is the paired bootstrap test of model a against reference b on one benchmark, from
// their benchmarks.Score results (same benchmark, seed and bootstrap count). It tests the
// numbers the tables show: the held-out scores of the best layers, on the data that score the
// models (rsa and pls: the held-out half of the stimuli, the half the layer was not chosen on;
// ridge: the test stimuli). Each result carries its held-out score under Bootstrap resamples of
// that data drawn from the seed alone (Result.HeldOutSamples), so sample k resamples the same
// stimuli (or folds) for both models: Diff = a.HeldOut - b.HeldOut, its 95% percentile interval
// over the paired differences, and the two-sided bootstrap p = min(1, 2 (min(#d<=0, #d>=0) + 1)
// / (valid + 1)), as rsa.BootstrapTest.
func TestPair(a, b *benchmarks.Result) (Test, error) {
	if a == nil || b == nil {
		return noTest("", "no result"), nil
	}
	t := noTest(a.Benchmark, "")
	t.Model, t.Reference = a.Model, b.Model
	switch {
	case a.Benchmark != b.Benchmark || a.Version != b.Version:
		return t, fmt.Errorf("compare: results of %s v%d and %s v%d cannot be paired", a.Benchmark, a.Version, b.Benchmark, b.Version)
	case a.Seed != b.Seed || a.Bootstrap != b.Bootstrap || a.Selection != b.Selection || a.HeldOutResampling != b.HeldOutResampling:
		return t, fmt.Errorf("compare: %s and %s on %s were scored with different seeds, bootstrap counts or held-out data (seed %d/%d, %d/%d samples); score both with the same", a.Model, b.Model, a.Benchmark, a.Seed, b.Seed, a.Bootstrap, b.Bootstrap)
	case a.Bootstrap == 0 || len(a.HeldOutSamples) == 0:
		t.Note = "no bootstrap samples"
		return t, nil
	case len(a.HeldOutSamples) != len(b.HeldOutSamples):
		return t, fmt.Errorf("compare: %s has %d held-out resamples, %s %d", a.Model, len(a.HeldOutSamples), b.Model, len(b.HeldOutSamples))
	}
	var d []float64
	var le, ge int
	for k := range a.HeldOutSamples {
		v := a.HeldOutSamples[k] - b.HeldOutSamples[k]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		d = append(d, v)
		if v <= 0 {
			le++
		}
		if v >= 0 {
			ge++
		}
	}
	t.Samples = len(a.HeldOutSamples)
	t.Diff = a.HeldOut - b.HeldOut
	if len(d) > 0 {
		t.DiffLow, t.DiffHigh = stats.Percentile(d, 2.5), stats.Percentile(d, 97.5)
		t.P = math.Min(1, 2*float64(min(le, ge)+1)/float64(len(d)+1))
	}
	t.PHolm, t.Family = t.P, 1
	t.Method = fmt.Sprintf("paired bootstrap of the held-out scores the table shows (best layers %s vs %s; %s), %d resamples of %s drawn alike for both models, two-sided p",
		a.BestLayer, b.BestLayer, a.Selection, t.Samples, a.HeldOutResampling)
	return t, nil
}

// Holm returns Holm's (1979) step-down adjusted p values for a family of tests: with the m
// finite p sorted ascending, p_(i) becomes max over j <= i of min(1, (m - j + 1) p_(j)). NaN
// entries (no test) stay NaN and do not count in m.
func Holm(p []float64) []float64 {
	out := make([]float64, len(p))
	var idx []int
	for i, v := range p {
		out[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	m := len(idx)
	run := 0.0
	for j, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-j)*p[i]))
		out[i] = run
	}
	return out
}

// applyHolm sets every test's Holm-adjusted p over the family of all tests with a p.
func applyHolm(tests []Test) {
	p := make([]float64, len(tests))
	for i, t := range tests {
		p[i] = t.P
	}
	adj := Holm(p)
	m := len(slices.DeleteFunc(slices.Clone(p), math.IsNaN))
	for i := range tests {
		tests[i].PHolm = adj[i]
		if !math.IsNaN(p[i]) {
			tests[i].Family = m
		}
	}
}
