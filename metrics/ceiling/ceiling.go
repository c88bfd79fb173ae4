// Package ceiling estimates how much of a neural response is reliable, so that model scores can be
// reported relative to it: split-half reliability over repetitions with the Spearman-Brown
// correction (Spearman 1910, Brown 1910; as used for neural predictivity ceilings by Yamins et al.
// 2014, PNAS 111:8619, and Schrimpf et al. 2018, Brain-Score, bioRxiv 407007), and explicit score
// normalisation formulas.
package ceiling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/metrics/stats"
)

// Responses holds stimuli x neuroids x repetitions, row-major: Data[(s*Neuroids+n)*Reps+r].
type Responses struct {
	Stimuli, Neuroids, Reps int
	Data                    []float64
}

// NewResponses checks the shape and values of a stimuli x neuroids x repetitions array.
func NewResponses(stimuli, neuroids, reps int, data []float64) (*Responses, error) {
	if stimuli < 3 || neuroids < 1 || reps < 2 {
		return nil, fmt.Errorf("ceiling: need at least 3 stimuli, 1 neuroid and 2 repetitions, got %dx%dx%d", stimuli, neuroids, reps)
	}
	if len(data) != stimuli*neuroids*reps {
		return nil, fmt.Errorf("ceiling: %d values for %dx%dx%d responses", len(data), stimuli, neuroids, reps)
	}
	for k, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s, n, r := k/(neuroids*reps), k/reps%neuroids, k%reps
			return nil, fmt.Errorf("ceiling: non-finite response at stimulus %d, neuroid %d, repetition %d", s, n, r)
		}
	}
	return &Responses{Stimuli: stimuli, Neuroids: neuroids, Reps: reps, Data: data}, nil
}

// At returns the response of neuroid n to stimulus s on repetition r.
func (x *Responses) At(s, n, r int) float64 { return x.Data[(s*x.Neuroids+n)*x.Reps+r] }

// SpearmanBrown predicts the reliability of the full data from the correlation r of two halves:
// 2r / (1 + r).
func SpearmanBrown(r float64) float64 { return 2 * r / (1 + r) }

// Reliability is a split-half internal consistency estimate.
type Reliability struct {
	HalfR      []float64 // per neuroid: Pearson r between half means, averaged over splits
	PerNeuroid []float64 // SpearmanBrown(HalfR): the internal consistency per neuroid
	Median     float64   // median of PerNeuroid over the scored neuroids
	Splits     int
	Excluded   []int // neuroids whose half means were constant in some split (NaN in HalfR)
	Warnings   []string
	// SplitHalfMissing only: the stimuli with at least 2 present repetitions for every
	// neuroid, the number used for each neuroid, and the neuroids with a finite value.
	Stimuli           int
	StimuliPerNeuroid []int
	Neuroids          int
}

// SplitHalf estimates internal consistency from splits random splits (default 100) of the
// repetitions into two halves of floor(Reps/2) each (with an odd count one repetition, chosen at
// random, sits out of each split). For each split and neuroid it correlates (Pearson, across
// stimuli) the mean response over the first half with the mean over the second; the r are averaged
// over splits and then Spearman-Brown corrected. Split i draws from PCG(seed, i).
func SplitHalf(x *Responses, splits int, seed uint64) (*Reliability, error) {
	if splits <= 0 {
		splits = 100
	}
	sum := make([]float64, x.Neuroids)
	bad := make([]bool, x.Neuroids)
	for i := 0; i < splits; i++ {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		perm := rng.Perm(x.Reps)
		h := x.Reps / 2
		r := halfR(x, perm[:h], perm[h:2*h])
		for n, v := range r {
			if math.IsNaN(v) {
				bad[n] = true
			}
			sum[n] += v
		}
	}
	for n := range sum {
		sum[n] /= float64(splits)
	}
	return finish(x, sum, bad, splits), nil
}

// SplitHalfFixed is SplitHalf for one given split: repetitions a against repetitions b (disjoint,
// non-empty; they need not cover all repetitions).
func SplitHalfFixed(x *Responses, a, b []int) (*Reliability, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, fmt.Errorf("ceiling: empty half")
	}
	seen := make([]bool, x.Reps)
	for _, h := range [][]int{a, b} {
		for _, r := range h {
			if r < 0 || r >= x.Reps {
				return nil, fmt.Errorf("ceiling: repetition %d out of range 0..%d", r, x.Reps-1)
			}
			if seen[r] {
				return nil, fmt.Errorf("ceiling: repetition %d used twice", r)
			}
			seen[r] = true
		}
	}
	r := halfR(x, a, b)
	bad := make([]bool, x.Neuroids)
	for n, v := range r {
		bad[n] = math.IsNaN(v)
	}
	return finish(x, r, bad, 1), nil
}

func finish(x *Responses, halfR []float64, bad []bool, splits int) *Reliability {
	rel := &Reliability{HalfR: halfR, PerNeuroid: make([]float64, x.Neuroids), Splits: splits}
	var ok []float64
	for n, r := range halfR {
		if bad[n] {
			rel.HalfR[n] = math.NaN()
			rel.PerNeuroid[n] = math.NaN()
			rel.Excluded = append(rel.Excluded, n)
			continue
		}
		rel.PerNeuroid[n] = SpearmanBrown(r)
		ok = append(ok, rel.PerNeuroid[n])
	}
	if len(rel.Excluded) > 0 {
		rel.Warnings = append(rel.Warnings, fmt.Sprintf("%d neuroid(s) with constant half means excluded: %v", len(rel.Excluded), rel.Excluded))
	}
	rel.Median = math.NaN()
	if len(ok) > 0 {
		rel.Median = stats.Median(ok)
	}
	return rel
}

func halfR(x *Responses, a, b []int) []float64 {
	out := make([]float64, x.Neuroids)
	ma := make([]float64, x.Stimuli)
	mb := make([]float64, x.Stimuli)
	for n := 0; n < x.Neuroids; n++ {
		for s := 0; s < x.Stimuli; s++ {
			base := (s*x.Neuroids + n) * x.Reps
			var sa, sb float64
			for _, r := range a {
				sa += x.Data[base+r]
			}
			for _, r := range b {
				sb += x.Data[base+r]
			}
			ma[s] = sa / float64(len(a))
			mb[s] = sb / float64(len(b))
		}
		out[n] = stats.Pearson(ma, mb)
	}
	return out
}

// Formula names how a score is normalised by a ceiling, so that reports can print it.
type Formula string

const (
	// RatioR is r / ceiling: a correlation divided by the ceiling (e.g. the Spearman-Brown
	// corrected split-half r), as Brain-Score's neural predictivity.
	RatioR Formula = "r/ceiling"
	// RatioR2 is r² / ceiling: explained variance divided by the ceiling (for a ceiling that is
	// itself a variance fraction).
	RatioR2 Formula = "r^2/ceiling"
)

// Normalize applies formula f to score r with the given ceiling. A ceiling that is not positive
// or not finite is an error (no silent Inf or NaN).
func Normalize(r, ceiling float64, f Formula) (float64, error) {
	if !(ceiling > 0) || math.IsInf(ceiling, 0) {
		return math.NaN(), fmt.Errorf("ceiling: cannot normalise by ceiling %v", ceiling)
	}
	switch f {
	case RatioR:
		return r / ceiling, nil
	case RatioR2:
		return r * r / ceiling, nil
	}
	return math.NaN(), fmt.Errorf("ceiling: unknown formula %q", f)
}
