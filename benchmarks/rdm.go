package benchmarks

import (
	"math"

	"github.com/ventral-lab/ventral/tensor"
)

// Model RDMs are computed here rather than by rsa.FromPatterns because layer activations are
// large float32 matrices (AlexNet's conv1 has 193,600 features): one float32 GEMM over the rows
// avoids a float64 copy of every layer and a gonum GEMM per layer, and a constant row (a
// silent unit map) gets distance 1 from everything instead of failing the whole layer.

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

// neuralRDM is featureRDM in float64 for neural responses, which may lie beyond float32's
// range (values near 1e39 became Inf in the float32 path and gave wrong scores). The data are
// first divided by their largest magnitude, so that squares cannot overflow even in float64;
// correlation distance does not change, Euclidean distances are scaled back.
func neuralRDM(data []float64, S, F int, distance string) []float64 {
	var c float64
	for _, v := range data {
		c = max(c, math.Abs(v))
	}
	if c == 0 || math.IsInf(c, 0) {
		c = 1
	}
	x := make([]float64, len(data))
	norms := make([]float64, S)
	for i := 0; i < S; i++ {
		row, out := data[i*F:(i+1)*F], x[i*F:(i+1)*F]
		var m float64
		if distance == "correlation" {
			for _, v := range row {
				m += v / c
			}
			m /= float64(F)
		}
		var ss float64
		for j, v := range row {
			out[j] = v/c - m
			ss += out[j] * out[j]
		}
		norms[i] = ss
	}
	d := make([]float64, S*S)
	for i := 0; i < S; i++ {
		for j := i + 1; j < S; j++ {
			xi, xj := x[i*F:(i+1)*F], x[j*F:(j+1)*F]
			var v float64
			if distance == "correlation" {
				if norms[i] == 0 || norms[j] == 0 {
					v = 1
				} else {
					var g float64
					for k := range xi {
						g += xi[k] * xj[k]
					}
					v = 1 - g/math.Sqrt(norms[i]*norms[j])
				}
			} else {
				var ss float64
				for k := range xi {
					e := xi[k] - xj[k]
					ss += e * e
				}
				v = c * math.Sqrt(ss)
			}
			d[i*S+j], d[j*S+i] = v, v
		}
	}
	return d
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
