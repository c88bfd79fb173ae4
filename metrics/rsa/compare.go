package rsa

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/ventral-lab/ventral/metrics/stats"
)

// Method names an RDM comparison, computed over the upper triangle.
type Method string

const (
	// Spearman is Spearman's rho with average ranks for ties.
	Spearman Method = "spearman"
	// Pearson is the Pearson correlation of the dissimilarities.
	Pearson Method = "pearson"
	// KendallTauA is Kendall's tau-a: (concordant - discordant) / (n(n-1)/2) over all pairs of
	// dissimilarities, ties counting as neither; recommended by Nili et al. 2014 for models that
	// predict tied dissimilarities.
	KendallTauA Method = "tau-a"
	// CosineSim is the cosine similarity of the dissimilarity vectors.
	CosineSim Method = "cosine"
)

// Compare returns the similarity of two RDMs of the same size under method m.
func Compare(a, b *RDM, m Method) (float64, error) {
	if a.n != b.n {
		return math.NaN(), fmt.Errorf("rsa: compare RDMs of %d and %d stimuli", a.n, b.n)
	}
	if len(a.vec) < 2 {
		return math.NaN(), fmt.Errorf("rsa: compare needs at least 3 stimuli, got %d", a.n)
	}
	switch m {
	case Spearman, Pearson, KendallTauA, CosineSim:
	default:
		return math.NaN(), fmt.Errorf("rsa: unknown comparison %q", m)
	}
	return CompareVectors(a.vec, b.vec, m), nil
}

// CompareVectors compares two dissimilarity vectors of equal length under m (NaN for an unknown
// method, unequal lengths or a constant vector where the measure is undefined).
func CompareVectors(x, y []float64, m Method) float64 {
	if len(x) != len(y) {
		return math.NaN()
	}
	switch m {
	case Spearman:
		return stats.Spearman(x, y)
	case Pearson:
		return stats.Pearson(x, y)
	case KendallTauA:
		return TauA(x, y)
	case CosineSim:
		return stats.Cosine(x, y)
	}
	return math.NaN()
}

// TauA returns Kendall's tau-a of x and y in O(n log n) time, following Knight (1966, "A computer
// method for calculating Kendall's tau with ungrouped data", JASA 61:436): sort the pairs by
// (x, y), count the pairs tied in x (n1) and tied in both (n3), then merge-sort by y counting the
// exchanges, which are the discordant pairs, and the pairs tied in y (n2). The pairs tied in
// neither are n0-n1-n2+n3, so concordant - discordant = n0-n1-n2+n3-2·exchanges; tau-a divides by
// n0 = n(n-1)/2 (not by the tie-corrected denominator of tau-b).
func TauA(x, y []float64) float64 {
	n := len(x)
	if n != len(y) || n < 2 {
		return math.NaN()
	}
	type pair struct{ x, y float64 }
	ps := make([]pair, n)
	for i := range ps {
		ps[i] = pair{x[i], y[i]}
	}
	slices.SortFunc(ps, func(a, b pair) int {
		if c := cmp.Compare(a.x, b.x); c != 0 {
			return c
		}
		return cmp.Compare(a.y, b.y)
	})
	ys := make([]float64, n)
	for i, p := range ps {
		ys[i] = p.y
	}
	var n1, n3 int64
	for i := 0; i < n; {
		j := i + 1
		for j < n && ps[j].x == ps[i].x {
			j++
		}
		t := int64(j - i)
		n1 += t * (t - 1) / 2
		for a := i; a < j; {
			b := a + 1
			for b < j && ys[b] == ys[a] {
				b++
			}
			u := int64(b - a)
			n3 += u * (u - 1) / 2
			a = b
		}
		i = j
	}
	buf := make([]float64, n)
	swaps := mergeCount(ys, buf)
	var n2 int64
	for i := 0; i < n; {
		j := i + 1
		for j < n && ys[j] == ys[i] {
			j++
		}
		t := int64(j - i)
		n2 += t * (t - 1) / 2
		i = j
	}
	n0 := int64(n) * int64(n-1) / 2
	return float64(n0-n1-n2+n3-2*swaps) / float64(n0)
}

// mergeCount sorts a ascending (stable) and returns the number of pairs i<j with a[i] > a[j].
func mergeCount(a, buf []float64) int64 {
	n := len(a)
	if n < 2 {
		return 0
	}
	if n <= 16 {
		var c int64
		for i := 1; i < n; i++ {
			v := a[i]
			j := i - 1
			for j >= 0 && a[j] > v {
				a[j+1] = a[j]
				j--
				c++
			}
			a[j+1] = v
		}
		return c
	}
	mid := n / 2
	c := mergeCount(a[:mid], buf[:mid]) + mergeCount(a[mid:], buf[mid:])
	i, j, k := 0, mid, 0
	for i < mid && j < n {
		if a[j] < a[i] {
			buf[k] = a[j]
			c += int64(mid - i)
			j++
		} else {
			buf[k] = a[i]
			i++
		}
		k++
	}
	k += copy(buf[k:], a[i:mid])
	copy(buf[k:], a[j:n])
	copy(a, buf[:n])
	return c
}
