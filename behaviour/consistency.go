package behaviour

import (
	"fmt"
	"math"
)

// Agreement compares two observers' correctness on the same trials.
type Agreement struct {
	N          int
	AccA, AccB float64
	// AccDiff is AccA - AccB.
	AccDiff float64
	// CObs is the observed consistency: the fraction of trials both got right or both got wrong.
	CObs float64
	// CExp = AccA AccB + (1-AccA)(1-AccB), the consistency expected from independent observers
	// with these accuracies.
	CExp float64
	// Kappa = (CObs - CExp)/(1 - CExp) (Geirhos et al. 2020); NaN when CExp is 1 (both always
	// right or both always wrong), where it is undefined.
	Kappa float64
}

// ErrorConsistency computes Cohen's kappa between two observers' per-trial correctness, as
// Geirhos et al. 2020 define error consistency.
func ErrorConsistency(a, b []bool) (Agreement, error) {
	if len(a) != len(b) {
		return Agreement{}, fmt.Errorf("error consistency: %d trials against %d", len(a), len(b))
	}
	if len(a) == 0 {
		return Agreement{}, fmt.Errorf("error consistency: no trials")
	}
	var ca, cb, same int
	for i := range a {
		if a[i] {
			ca++
		}
		if b[i] {
			cb++
		}
		if a[i] == b[i] {
			same++
		}
	}
	n := float64(len(a))
	r := Agreement{N: len(a), AccA: float64(ca) / n, AccB: float64(cb) / n, CObs: float64(same) / n}
	r.AccDiff = r.AccA - r.AccB
	r.CExp = r.AccA*r.AccB + (1-r.AccA)*(1-r.AccB)
	if r.CExp >= 1 {
		r.Kappa = math.NaN()
	} else {
		r.Kappa = (r.CObs - r.CExp) / (1 - r.CExp)
	}
	return r, nil
}
