package ceiling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/metrics/stats"
)

// NewResponsesMissing is NewResponses for recordings where NaN marks a missing repetition (a
// stimulus shown fewer times than others, stored NaN-padded). Infinite values are errors.
func NewResponsesMissing(stimuli, neuroids, reps int, data []float64) (*Responses, error) {
	if stimuli < 3 || neuroids < 1 || reps < 2 {
		return nil, fmt.Errorf("ceiling: need at least 3 stimuli, 1 neuroid and 2 repetitions, got %dx%dx%d", stimuli, neuroids, reps)
	}
	if len(data) != stimuli*neuroids*reps {
		return nil, fmt.Errorf("ceiling: %d values for %dx%dx%d responses", len(data), stimuli, neuroids, reps)
	}
	for k, v := range data {
		if math.IsInf(v, 0) {
			s, n, r := k/(neuroids*reps), k/reps%neuroids, k%reps
			return nil, fmt.Errorf("ceiling: infinite response at stimulus %d, neuroid %d, repetition %d", s, n, r)
		}
	}
	return &Responses{Stimuli: stimuli, Neuroids: neuroids, Reps: reps, Data: data}, nil
}

// Split is one random split of every stimulus's repetitions into two halves: Order[s] is a
// permutation of the repetition slots of stimulus s, and Extra[s] says where the odd one of an
// odd count of present repetitions goes (true: the first half).
type Split struct {
	Order [][]int
	Extra []bool
}

// DrawSplits draws n splits for stimuli x reps slots; split i draws from PCG(seed, i): for
// each stimulus in order a permutation of the slots, then a coin for the odd repetition.
func DrawSplits(stimuli, reps, n int, seed uint64) []Split {
	out := make([]Split, n)
	for i := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		sp := Split{Order: make([][]int, stimuli), Extra: make([]bool, stimuli)}
		for s := 0; s < stimuli; s++ {
			sp.Order[s] = rng.Perm(reps)
			sp.Extra[s] = rng.IntN(2) == 0
		}
		out[i] = sp
	}
	return out
}

// SplitHalfMissing estimates split-half internal consistency when stimuli have different
// numbers of present (non-NaN) repetitions. For each split and neuroid, each stimulus's present
// repetitions, taken in the split's Order, go k/2 to each half (with an odd count k the last
// one goes to the half Extra names); a stimulus with fewer than 2 present repetitions is left
// out for that neuroid. The Pearson r across the used stimuli between the half means is
// averaged over splits and Spearman-Brown corrected; Median is over the neuroids with a finite
// value. Reliability.Stimuli counts the stimuli used for every neuroid and StimuliPerNeuroid
// those used for each.
func SplitHalfMissing(x *Responses, splits []Split) (*Reliability, error) {
	if len(splits) == 0 {
		return nil, fmt.Errorf("ceiling: no splits")
	}
	for i, sp := range splits {
		if len(sp.Order) != x.Stimuli || len(sp.Extra) != x.Stimuli {
			return nil, fmt.Errorf("ceiling: split %d covers %d stimuli, the responses have %d", i, len(sp.Order), x.Stimuli)
		}
	}
	sum := make([]float64, x.Neuroids)
	bad := make([]bool, x.Neuroids)
	perN := make([]int, x.Neuroids)
	usedAll := make([]bool, x.Stimuli)
	for s := range usedAll {
		usedAll[s] = true
	}
	ma := make([]float64, 0, x.Stimuli)
	mb := make([]float64, 0, x.Stimuli)
	present := make([]int, 0, x.Reps)
	for n := 0; n < x.Neuroids; n++ {
		for i, sp := range splits {
			ma, mb = ma[:0], mb[:0]
			for s := 0; s < x.Stimuli; s++ {
				base := (s*x.Neuroids + n) * x.Reps
				present = present[:0]
				for _, r := range sp.Order[s] {
					if !math.IsNaN(x.Data[base+r]) {
						present = append(present, r)
					}
				}
				k := len(present)
				if k < 2 {
					if i == 0 {
						usedAll[s] = false
					}
					continue
				}
				h := k / 2
				var sa, sb float64
				na, nb := h, h
				for _, r := range present[:h] {
					sa += x.Data[base+r]
				}
				for _, r := range present[h : 2*h] {
					sb += x.Data[base+r]
				}
				if k%2 == 1 {
					if sp.Extra[s] {
						sa += x.Data[base+present[k-1]]
						na++
					} else {
						sb += x.Data[base+present[k-1]]
						nb++
					}
				}
				ma = append(ma, sa/float64(na))
				mb = append(mb, sb/float64(nb))
			}
			if i == 0 {
				perN[n] = len(ma)
			}
			r := math.NaN()
			if len(ma) >= 3 {
				r = stats.Pearson(ma, mb)
			}
			if math.IsNaN(r) {
				bad[n] = true
			}
			sum[n] += r
		}
		sum[n] /= float64(len(splits))
	}
	rel := finish(x, sum, bad, len(splits))
	rel.StimuliPerNeuroid = perN
	for _, u := range usedAll {
		if u {
			rel.Stimuli++
		}
	}
	for _, v := range rel.PerNeuroid {
		if !math.IsNaN(v) {
			rel.Neuroids++
		}
	}
	return rel, nil
}
