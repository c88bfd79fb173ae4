package imports

import (
	"fmt"
	"math"

	"github.com/ventral-lab/ventral/formats/onnx"
)

// cval is a tensor known at import time: an initializer, a Constant node's value, or the result
// of folding the shape arithmetic exporters emit (Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape). Values are float64, which holds every int32 and every shape-sized int64 exactly.
type cval struct {
	shape []int
	data  []float64
	dtype onnx.DataType
	// f holds a large float initializer's values as read (data is filled from it only when a
	// fold needs it), so that weights are not held in float64 too.
	f []float32
}

// v returns the values as float64.
func (c *cval) v() []float64 {
	if c.data == nil && c.f != nil {
		c.data = make([]float64, len(c.f))
		for i, x := range c.f {
			c.data[i] = float64(x)
		}
	}
	return c.data
}

func (c *cval) numel() int {
	if c.f != nil {
		return len(c.f)
	}
	return len(c.data)
}

func (c *cval) isInt() bool {
	switch c.dtype {
	case onnx.Float, onnx.Double, onnx.Float16, onnx.BFloat16:
		return false
	}
	return true
}

func (c *cval) ints() []int {
	out := make([]int, len(c.v()))
	for i, v := range c.v() {
		out[i] = int(v)
	}
	return out
}

// f32 returns the values as float32; the slice may be shared, callers must not modify it.
func (c *cval) f32() []float32 {
	if c.f != nil {
		return c.f
	}
	out := make([]float32, len(c.v()))
	for i, v := range c.v() {
		out[i] = float32(v)
	}
	return out
}

// scalar returns the single value of a one-element constant.
func (c *cval) scalar() (float64, bool) {
	if len(c.v()) != 1 {
		return 0, false
	}
	return c.v()[0], true
}

func tensorToConst(t *onnx.Tensor) (*cval, error) {
	c := &cval{shape: t.Shape(), dtype: t.DataType}
	switch t.DataType {
	case onnx.Int64, onnx.Uint64, onnx.Int32, onnx.Uint32:
		v, err := t.Int64()
		if err != nil {
			return nil, err
		}
		c.data = make([]float64, len(v))
		for i, x := range v {
			c.data[i] = float64(x)
		}
		return c, nil
	case onnx.Double:
		n, err := t.NumElements()
		if err != nil {
			return nil, err
		}
		c.data = make([]float64, 0, n)
		if t.Raw != nil {
			// Float32 would round; read the doubles exactly.
			f, err := t.Float32()
			if err != nil {
				return nil, err
			}
			for _, x := range f {
				c.data = append(c.data, float64(x))
			}
			return c, nil
		}
		if len(t.DoubleData) != n {
			return nil, fmt.Errorf("tensor %q: double_data has %d values, dims need %d", t.Name, len(t.DoubleData), n)
		}
		c.data = append(c.data, t.DoubleData...)
		return c, nil
	}
	f, err := t.Float32()
	if err != nil {
		return nil, err
	}
	if len(f) > 4096 {
		c.f = f
		return c, nil
	}
	c.data = make([]float64, len(f))
	for i, x := range f {
		c.data[i] = float64(x)
	}
	return c, nil
}

// strides of a row-major shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	k := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = k
		k *= shape[i]
	}
	return s
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// broadcastShape is numpy's broadcast of two shapes.
func broadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if k := i - (r - len(a)); k >= 0 {
			da = a[k]
		}
		if k := i - (r - len(b)); k >= 0 {
			db = b[k]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastIndex maps a flat index of out to the flat index of an operand of shape in.
func broadcastIndex(out, in []int, outStrides []int, idx int) int {
	inStrides := strides(in)
	off := len(out) - len(in)
	j := 0
	for i := range out {
		coord := (idx / outStrides[i]) % out[i]
		if k := i - off; k >= 0 && in[k] != 1 {
			j += coord * inStrides[k]
		}
	}
	return j
}

func foldBinary(op string, a, b *cval) (*cval, error) {
	shape, err := broadcastShape(a.shape, b.shape)
	if err != nil {
		return nil, err
	}
	out := &cval{shape: shape, data: make([]float64, numel(shape)), dtype: a.dtype}
	os := strides(shape)
	for i := range out.data {
		x := a.v()[broadcastIndex(shape, a.shape, os, i)]
		y := b.v()[broadcastIndex(shape, b.shape, os, i)]
		var v float64
		switch op {
		case "Add":
			v = x + y
		case "Sub":
			v = x - y
		case "Mul":
			v = x * y
		case "Div":
			if a.isInt() && b.isInt() {
				if y == 0 {
					return nil, fmt.Errorf("integer division by zero")
				}
				v = math.Trunc(x / y)
			} else {
				v = x / y
			}
		}
		if !a.isInt() {
			v = float64(float32(v))
		}
		out.data[i] = v
	}
	return out, nil
}

// normAxis turns a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

func foldGather(data, idx *cval, axis int) (*cval, error) {
	r := len(data.shape)
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	shape := append(append(append([]int{}, data.shape[:ax]...), idx.shape...), data.shape[ax+1:]...)
	outer := numel(data.shape[:ax])
	inner := numel(data.shape[ax+1:])
	n := data.shape[ax]
	out := &cval{shape: shape, dtype: data.dtype}
	for o := 0; o < outer; o++ {
		for _, iv := range idx.v() {
			i := int(iv)
			if i < 0 {
				i += n
			}
			if i < 0 || i >= n {
				return nil, fmt.Errorf("index %d out of range for axis of size %d", int(iv), n)
			}
			base := (o*n + i) * inner
			out.data = append(out.data, data.v()[base:base+inner]...)
		}
	}
	return out, nil
}

func foldConcat(cs []*cval, axis int) (*cval, error) {
	r := len(cs[0].shape)
	if r == 0 {
		return nil, fmt.Errorf("cannot concatenate scalars")
	}
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	shape := append([]int{}, cs[0].shape...)
	shape[ax] = 0
	for _, c := range cs {
		if len(c.shape) != r {
			return nil, fmt.Errorf("concat of ranks %d and %d", r, len(c.shape))
		}
		for i := range c.shape {
			if i != ax && c.shape[i] != cs[0].shape[i] {
				return nil, fmt.Errorf("concat of shapes %v and %v on axis %d", cs[0].shape, c.shape, ax)
			}
		}
		shape[ax] += c.shape[ax]
	}
	outer := numel(shape[:ax])
	out := &cval{shape: shape, dtype: cs[0].dtype}
	for o := 0; o < outer; o++ {
		for _, c := range cs {
			blk := numel(c.shape[ax:])
			out.data = append(out.data, c.v()[o*blk:(o+1)*blk]...)
		}
	}
	return out, nil
}

func foldTranspose(c *cval, perm []int) (*cval, error) {
	r := len(c.shape)
	if len(perm) != r {
		return nil, fmt.Errorf("perm %v for rank %d", perm, r)
	}
	shape := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= r {
			return nil, fmt.Errorf("perm %v out of range", perm)
		}
		shape[i] = c.shape[p]
	}
	in := strides(c.shape)
	os := strides(shape)
	out := &cval{shape: shape, data: make([]float64, len(c.v())), dtype: c.dtype}
	for i := range out.data {
		j := 0
		for k := range shape {
			j += ((i / os[k]) % shape[k]) * in[perm[k]]
		}
		out.data[i] = c.v()[j]
	}
	return out, nil
}

// foldSlice implements ONNX Slice on a constant (starts, ends, axes, steps already read).
func foldSlice(c *cval, starts, ends, axes, steps []int) (*cval, error) {
	r := len(c.shape)
	st := make([]int, r)
	en := append([]int{}, c.shape...)
	sp := make([]int, r)
	for i := range sp {
		sp[i] = 1
	}
	for k := range starts {
		ax := k
		if axes != nil {
			var err error
			if ax, err = normAxis(axes[k], r); err != nil {
				return nil, err
			}
		}
		step := 1
		if steps != nil {
			step = steps[k]
		}
		if step == 0 {
			return nil, fmt.Errorf("slice step 0")
		}
		d := c.shape[ax]
		s, e := starts[k], ends[k]
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		if step > 0 {
			s, e = clampInt(s, 0, d), clampInt(e, 0, d)
		} else {
			s, e = clampInt(s, 0, d-1), clampInt(e, -1, d-1)
		}
		st[ax], en[ax], sp[ax] = s, e, step
	}
	shape := make([]int, r)
	for i := range shape {
		if sp[i] > 0 {
			shape[i] = max(0, (en[i]-st[i]+sp[i]-1)/sp[i])
		} else {
			shape[i] = max(0, (st[i]-en[i]-sp[i]-1)/(-sp[i]))
		}
	}
	in := strides(c.shape)
	os := strides(shape)
	out := &cval{shape: shape, data: make([]float64, numel(shape)), dtype: c.dtype}
	for i := range out.data {
		j := 0
		for k := range shape {
			j += (st[k] + ((i/os[k])%shape[k])*sp[k]) * in[k]
		}
		out.data[i] = c.v()[j]
	}
	return out, nil
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

// reshapeTarget resolves an ONNX Reshape shape (0 copies the input's dim unless allowzero, -1
// is inferred) against the input's full shape.
func reshapeTarget(in []int, target []int, allowzero bool) ([]int, error) {
	out := append([]int{}, target...)
	infer := -1
	known := 1
	for i, d := range out {
		switch {
		case d == 0 && !allowzero:
			if i >= len(in) {
				return nil, fmt.Errorf("reshape to %v: 0 at position %d beyond input rank %d", target, i, len(in))
			}
			out[i] = in[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("reshape to %v: more than one -1", target)
			}
			infer = i
			continue
		case d < -1:
			return nil, fmt.Errorf("reshape to %v: negative size", target)
		}
		known *= out[i]
	}
	total := numel(in)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("reshape of %v to %v: sizes do not divide", in, target)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("reshape of %v (%d elements) to %v (%d)", in, total, target, known)
	}
	return out, nil
}

// castConst converts values to the element type to (rounding toward zero for integers, as
// ONNX Cast does for finite values).
func castConst(c *cval, to onnx.DataType) *cval {
	out := &cval{shape: c.shape, data: make([]float64, len(c.v())), dtype: to}
	for i, v := range c.v() {
		switch to {
		case onnx.Float, onnx.Float16, onnx.BFloat16:
			v = float64(float32(v))
		case onnx.Double:
		case onnx.Bool:
			if v != 0 {
				v = 1
			}
		default:
			v = math.Trunc(v)
		}
		out.data[i] = v
	}
	return out
}
