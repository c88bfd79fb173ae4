// Package stats holds the small numerical helpers shared by the metrics packages: Pearson
// correlation, average ranks (ties get the mean of the ranks they span, as scipy.stats.rankdata's
// default 'average' method), column-wise correlations and percentiles.
package stats

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// ErrLength reports vectors of different lengths.
var ErrLength = errors.New("vectors differ in length")

// Pearson returns the Pearson correlation of x and y. It is NaN when either is constant or the
// vectors have fewer than two elements.
func Pearson(x, y []float64) float64 {
	n := len(x)
	if n != len(y) || n < 2 {
		return math.NaN()
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Cosine returns the cosine similarity of x and y (NaN when either is zero).
func Cosine(x, y []float64) float64 {
	if len(x) != len(y) {
		return math.NaN()
	}
	var sxy, sxx, syy float64
	for i := range x {
		sxy += x[i] * y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Ranks returns the 1-based average ranks of x: tied values share the mean of their ranks.
func Ranks(x []float64) []float64 {
	n := len(x)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// Spearman returns Spearman's rho: the Pearson correlation of the average ranks.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		return math.NaN()
	}
	return Pearson(Ranks(x), Ranks(y))
}

// ColumnPearson returns the Pearson correlation between matching columns of a and b (same shape).
// A constant column gives NaN in its slot; callers decide what to do with it.
func ColumnPearson(a, b mat.Matrix) ([]float64, error) {
	ra, ca := a.Dims()
	rb, cb := b.Dims()
	if ra != rb || ca != cb {
		return nil, fmt.Errorf("stats: column correlation of %dx%d and %dx%d matrices", ra, ca, rb, cb)
	}
	out := make([]float64, ca)
	x := make([]float64, ra)
	y := make([]float64, ra)
	for j := 0; j < ca; j++ {
		mat.Col(x, j, a)
		mat.Col(y, j, b)
		out[j] = Pearson(x, y)
	}
	return out, nil
}

// Percentile returns the q-th percentile (0..100) of x with linear interpolation between order
// statistics (numpy's default 'linear' method). x is not modified.
func Percentile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	pos := q / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if lo < 0 {
		lo = 0
	}
	if hi >= len(s) {
		hi = len(s) - 1
	}
	frac := pos - float64(lo)
	return s[lo] + frac*(s[hi]-s[lo])
}

// MeanSE returns the mean of x and its standard error (sample sd with n-1 over sqrt(n)); the
// standard error is NaN for fewer than two values.
func MeanSE(x []float64) (mean, se float64) {
	n := float64(len(x))
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range x {
		mean += v
	}
	mean /= n
	if len(x) < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}

// Median returns the median of x (NaN for an empty slice). x is not modified.
func Median(x []float64) float64 { return Percentile(x, 50) }

// HasNaN reports the first NaN or Inf in m, as (row, col, true).
func HasNaN(m mat.Matrix) (int, int, bool) {
	r, c := m.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v := m.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}
