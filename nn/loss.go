package nn

import (
	"fmt"
	"math"

	"github.com/ventral-lab/ventral/tensor"
)

// SoftmaxCrossEntropy returns the mean cross-entropy of softmax(logits) against integer labels,
// its gradient with respect to the logits, and the number of correct top-1 predictions.
// A non-finite loss is an error (it names the first bad sample), never a silent NaN.
func SoftmaxCrossEntropy(logits *tensor.Tensor, labels []int) (loss float64, dlogits *tensor.Tensor, correct int, err error) {
	if len(logits.Shape) != 2 || logits.Shape[0] != len(labels) {
		return 0, nil, 0, fmt.Errorf("softmax cross-entropy: logits %v for %d labels", logits.Shape, len(labels))
	}
	n, c := logits.Shape[0], logits.Shape[1]
	dlogits = tensor.New(n, c)
	inv := 1 / float64(n)
	for i := 0; i < n; i++ {
		row := logits.Data[i*c : (i+1)*c]
		y := labels[i]
		if y < 0 || y >= c {
			return 0, nil, 0, fmt.Errorf("softmax cross-entropy: label %d of sample %d outside [0,%d)", y, i, c)
		}
		m, arg := row[0], 0
		for j, v := range row {
			if v > m {
				m, arg = v, j
			}
		}
		if arg == y {
			correct++
		}
		var sum float64
		d := dlogits.Data[i*c : (i+1)*c]
		for j, v := range row {
			e := math.Exp(float64(v - m))
			d[j] = float32(e)
			sum += e
		}
		l := math.Log(sum) - float64(row[y]-m)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return 0, nil, 0, fmt.Errorf("softmax cross-entropy: loss is %v at sample %d (logits contain NaN or Inf: training diverged; lower the learning rate)", l, i)
		}
		loss += l
		for j := range d {
			d[j] = float32(float64(d[j]) / sum * inv)
		}
		d[y] -= float32(inv)
	}
	return loss * inv, dlogits, correct, nil
}

// MSE returns the mean squared error over all elements and its gradient with respect to pred.
func MSE(pred, target *tensor.Tensor) (float64, *tensor.Tensor, error) {
	if !tensor.SameShape(pred.Shape, target.Shape) {
		return 0, nil, fmt.Errorf("mse: prediction %v and target %v differ in shape", pred.Shape, target.Shape)
	}
	d := tensor.New(pred.Shape...)
	var s float64
	inv := 1 / float64(pred.Len())
	for i, p := range pred.Data {
		e := float64(p - target.Data[i])
		s += e * e
		d.Data[i] = float32(2 * e * inv)
	}
	l := s * inv
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return 0, nil, fmt.Errorf("mse: loss is %v (NaN or Inf in predictions or targets)", l)
	}
	return l, d, nil
}

// Softmax returns row-wise probabilities of a [N C] tensor.
func Softmax(logits *tensor.Tensor) *tensor.Tensor {
	n, c := logits.Shape[0], logits.Shape[1]
	p := tensor.New(n, c)
	for i := 0; i < n; i++ {
		row := logits.Data[i*c : (i+1)*c]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			p.Data[i*c+j] = float32(e)
			s += e
		}
		for j := range row {
			p.Data[i*c+j] = float32(float64(p.Data[i*c+j]) / s)
		}
	}
	return p
}

// Argmax returns each row's index of the largest value.
func Argmax(t *tensor.Tensor) []int {
	n := t.Shape[0]
	c := t.Len() / n
	out := make([]int, n)
	for i := 0; i < n; i++ {
		row := t.Data[i*c : (i+1)*c]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}
