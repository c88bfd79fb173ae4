package rsa

import (
	"cmp"
	"math"
	"slices"
)

// WeightedTauA returns Kendall's tau-a of x and y where element i counts w[i] times (w[i] >= 0):
// the tau-a of the expanded vectors, in which the copies of one element are tied with each
// other. It is TauA when every weight is 1, and lets a bootstrap sample (stimulus pairs drawn
// w[i] times) be scored without building it, in O(n log n) time: elements are visited in
// order of x, a group tied in x at a time, and a Fenwick tree over the ranks of y holds the
// weight already seen below and above each y, so
//
//	S = Σ_{i<j} w_i w_j sign(x_i - x_j) sign(y_i - y_j),  tau-a = S / (N(N-1)/2),  N = Σ w_i.
//
// It is NaN for unequal lengths, a NaN value, or a total weight below 2.
func WeightedTauA(x, y, w []float64) float64 {
	n := len(x)
	if len(y) != n || len(w) != n {
		return math.NaN()
	}
	idx := make([]int, 0, n)
	var N float64
	for i := 0; i < n; i++ {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) || math.IsNaN(w[i]) {
			return math.NaN()
		}
		if w[i] > 0 {
			idx = append(idx, i)
			N += w[i]
		}
	}
	if N < 2 {
		return math.NaN()
	}
	// Dense ranks of y (1-based; ties share one).
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(y[a], y[b]) })
	ry := make([]int, n)
	m := 0
	for k, i := range idx {
		if k == 0 || y[i] != y[idx[k-1]] {
			m++
		}
		ry[i] = m
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(x[a], x[b]); c != 0 {
			return c
		}
		return cmp.Compare(y[a], y[b])
	})
	tree := make([]float64, m+1)
	prefix := func(r int) (s float64) {
		for ; r > 0; r -= r & -r {
			s += tree[r]
		}
		return
	}
	var S, seen float64
	for g := 0; g < len(idx); {
		h := g + 1
		for h < len(idx) && x[idx[h]] == x[idx[g]] {
			h++
		}
		// Pairs with an earlier group: x strictly larger now, so the sign follows y.
		for _, i := range idx[g:h] {
			below := prefix(ry[i] - 1)
			above := seen - prefix(ry[i])
			S += w[i] * (below - above)
		}
		for _, i := range idx[g:h] {
			for r := ry[i]; r <= m; r += r & -r {
				tree[r] += w[i]
			}
			seen += w[i]
		}
		g = h
	}
	return S / (N * (N - 1) / 2)
}
