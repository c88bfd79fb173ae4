package stats

import (
	"cmp"
	"math"
	"slices"
)

// Weighted statistics treat element i as if it appeared w[i] times (w[i] >= 0; zero drops it).
// They give the statistic of the expanded vector without building it, so a bootstrap sample
// (stimulus i drawn w[i] times) or a subset (weights 0 and 1) costs one pass over the original
// elements instead of a copy per sample.

// SortOrder returns the permutation that sorts x ascending (stable; NaNs are not allowed).
// Compute it once and reuse it with WeightedRanksOrdered for many weight vectors.
func SortOrder(x []float64) []int {
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	return order
}

// WeightedRanks returns, for each element i, the average rank (1-based) of its w[i] copies in
// the expanded vector, ties sharing the mean of the ranks they span (Ranks when every weight
// is 1). Elements of weight 0 get the rank they would have as a single copy's position; they
// are meant to be ignored downstream (WeightedPearson gives them no weight).
func WeightedRanks(x, w []float64) []float64 {
	out := make([]float64, len(x))
	WeightedRanksOrdered(out, x, w, SortOrder(x))
	return out
}

// WeightedRanksOrdered is WeightedRanks with the sort order of x given (SortOrder(x)); it
// writes the ranks into dst (len(x)).
func WeightedRanksOrdered(dst, x, w []float64, order []int) {
	pos := 0.0
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && x[order[j]] == x[order[i]] {
			j++
		}
		var tw float64
		for k := i; k < j; k++ {
			tw += w[order[k]]
		}
		avg := pos + (tw+1)/2
		for k := i; k < j; k++ {
			dst[order[k]] = avg
		}
		pos += tw
		i = j
	}
}

// WeightedPearson returns the Pearson correlation of x and y where element i counts w[i]
// times: NaN when the lengths differ, the total weight is zero, or either is constant over the
// elements of positive weight.
func WeightedPearson(x, y, w []float64) float64 {
	if len(x) != len(y) || len(x) != len(w) {
		return math.NaN()
	}
	var sw, mx, my float64
	for i := range x {
		if w[i] == 0 {
			continue
		}
		sw += w[i]
		mx += w[i] * x[i]
		my += w[i] * y[i]
	}
	if sw == 0 {
		return math.NaN()
	}
	mx /= sw
	my /= sw
	var sxy, sxx, syy float64
	for i := range x {
		if w[i] == 0 {
			continue
		}
		dx, dy := x[i]-mx, y[i]-my
		sxy += w[i] * dx * dy
		sxx += w[i] * dx * dx
		syy += w[i] * dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}
