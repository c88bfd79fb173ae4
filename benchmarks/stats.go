package benchmarks

import (
	"cmp"
	"math"
	"slices"

	"github.com/ventral-lab/ventral/tensor"
)

// ranks returns the average ranks (1-based, ties share their mean rank) of x.
func ranks(x []float64) []float64 {
	order := argsort(x)
	return ranksFromOrder(x, order)
}

func argsort(x []float64) []int32 {
	order := make([]int32, len(x))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(x[a], x[b]) })
	return order
}

func ranksFromOrder(x []float64, order []int32) []float64 {
	r := make([]float64, len(x))
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && x[order[j]] == x[order[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1..j
		for k := i; k < j; k++ {
			r[order[k]] = avg
		}
		i = j
	}
	return r
}

// pearson is the Pearson correlation of x and y (NaN when either is constant).
func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
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

// weightedPearson is the Pearson correlation of x and y where element i counts w[i] times.
func weightedPearson(x, y, w []float64) float64 {
	var sw, mx, my float64
	for i := range x {
		if w[i] == 0 {
			continue
		}
		sw += w[i]
		mx += w[i] * x[i]
		my += w[i] * y[i]
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

// weightedRanks returns, for the expanded vector in which element i appears w[i] times, the
// average rank of element i's copies; order sorts x ascending.
func weightedRanks(x []float64, order []int32, w []float64, out []float64) {
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
			out[order[k]] = avg
		}
		pos += tw
		i = j
	}
}

// kendallTauA is Kendall's tau-a: (concordant - discordant) / (n(n-1)/2), ties counting zero.
func kendallTauA(x, y []float64) float64 {
	n := len(x)
	var s float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			a := x[i] - x[j]
			b := y[i] - y[j]
			switch {
			case a*b > 0:
				s++
			case a*b < 0:
				s--
			}
		}
	}
	return s / (float64(n) * float64(n-1) / 2)
}

// weightedKendallTauA is tau-a on the expanded vector where element i appears w[i] times
// (copies of one element are ties).
func weightedKendallTauA(x, y, w []float64) float64 {
	n := len(x)
	var s, tw float64
	for i := 0; i < n; i++ {
		tw += w[i]
		if w[i] == 0 {
			continue
		}
		for j := i + 1; j < n; j++ {
			if w[j] == 0 {
				continue
			}
			a := x[i] - x[j]
			b := y[i] - y[j]
			switch {
			case a*b > 0:
				s += w[i] * w[j]
			case a*b < 0:
				s -= w[i] * w[j]
			}
		}
	}
	return s / (tw * (tw - 1) / 2)
}

// compare compares two RDM vectors.
func compare(comparison string, x, y []float64) float64 {
	switch comparison {
	case "pearson":
		return pearson(x, y)
	case "kendall_tau_a":
		return kendallTauA(x, y)
	default:
		return pearson(ranks(x), ranks(y))
	}
}

// featureRDM returns the S x S RDM (row-major) of S feature rows of length F. Correlation
// distance is 1 - Pearson r between rows; euclidean is the Euclidean distance. The Gram matrix
// is one float32 GEMM over rows centred and scaled in float64.
func featureRDM(feat []float32, S, F int, distance string) []float64 {
	x := make([]float32, len(feat))
	norms := make([]float64, S)
	for i := 0; i < S; i++ {
		row := feat[i*F : (i+1)*F]
		var m float64
		if distance == "correlation" {
			for _, v := range row {
				m += float64(v)
			}
			m /= float64(F)
		}
		var ss float64
		for _, v := range row {
			d := float64(v) - m
			ss += d * d
		}
		norms[i] = ss
		scale := 1.0
		if distance == "correlation" && ss > 0 {
			scale = 1 / math.Sqrt(ss)
		}
		if distance == "euclidean" && ss > 0 {
			// Scale rows to unit RMS to keep float32 sums accurate; undone below.
			scale = 1 / math.Sqrt(ss/float64(F))
		}
		out := x[i*F : (i+1)*F]
		for j, v := range row {
			out[j] = float32((float64(v) - m) * scale)
		}
	}
	g := make([]float32, S*S)
	tensor.Sgemm(false, true, S, S, F, 1, x, F, x, F, 0, g, S)
	d := make([]float64, S*S)
	for i := 0; i < S; i++ {
		for j := i + 1; j < S; j++ {
			// Symmetrise (the GEMM may round g[i,j] and g[j,i] differently).
			gij := (float64(g[i*S+j]) + float64(g[j*S+i])) / 2
			var v float64
			if distance == "correlation" {
				if norms[i] == 0 || norms[j] == 0 {
					v = 1
				} else {
					v = 1 - gij
				}
			} else {
				si := math.Sqrt(norms[i] / float64(F))
				sj := math.Sqrt(norms[j] / float64(F))
				if norms[i] == 0 {
					si = 0
				}
				if norms[j] == 0 {
					sj = 0
				}
				v2 := norms[i] + norms[j] - 2*gij*si*sj
				v = math.Sqrt(max(v2, 0))
			}
			d[i*S+j], d[j*S+i] = v, v
		}
	}
	return d
}

// upper returns the entries above the diagonal of an S x S matrix restricted to the stimuli
// idx (in that order), row by row.
func upper(d []float64, S int, idx []int) []float64 {
	out := make([]float64, 0, len(idx)*(len(idx)-1)/2)
	for a := 0; a < len(idx); a++ {
		for b := a + 1; b < len(idx); b++ {
			out = append(out, d[idx[a]*S+idx[b]])
		}
	}
	return out
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func median(x []float64) float64 {
	v := make([]float64, 0, len(x))
	for _, a := range x {
		if !math.IsNaN(a) {
			v = append(v, a)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func mean(x []float64) float64 {
	var s float64
	var k int
	for _, a := range x {
		if !math.IsNaN(a) {
			s += a
			k++
		}
	}
	if k == 0 {
		return math.NaN()
	}
	return s / float64(k)
}

// percentile returns the p-th percentile (0..100) of x with linear interpolation, NaNs dropped.
func percentile(x []float64, p float64) float64 {
	v := make([]float64, 0, len(x))
	for _, a := range x {
		if !math.IsNaN(a) {
			v = append(v, a)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	pos := p / 100 * float64(len(v)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(v)-1)
	f := pos - float64(lo)
	return v[lo]*(1-f) + v[hi]*f
}
