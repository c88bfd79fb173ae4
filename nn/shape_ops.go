package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("pad2d", func() Op { return &Pad2D{} })
	Register("reshape", func() Op { return &Reshape{} })
	Register("transpose", func() Op { return &Transpose{} })
	Register("slice", func() Op { return &Slice{} })
}

// Pad2D pads the two spatial axes of a [C H W] input. Spec fields: pads [top, bottom, left,
// right] (non-negative), value (for mode constant, default 0), mode: constant (default), reflect
// (mirror without repeating the edge, as numpy's "reflect" and ONNX's "reflect"; each pad must
// be smaller than the axis) or edge (repeat the border pixel). TF's "SAME" and ONNX's asymmetric
// pads become a pad2d before a conv or max pool (value -3.4028235e38 before a max pool).
type Pad2D struct {
	Pads  []int   `json:"pads"`
	Value float32 `json:"value,omitempty"`
	Mode  string  `json:"mode,omitempty"`
}

func (p *Pad2D) Type() string     { return "pad2d" }
func (p *Pad2D) Params() []*Param { return nil }

func (p *Pad2D) shape(in []int) ([]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("pad2d needs a [C H W] input, got %v", in)
	}
	if len(p.Pads) != 4 {
		return nil, fmt.Errorf("pad2d: pads must be [top, bottom, left, right], got %v", p.Pads)
	}
	for _, v := range p.Pads {
		if v < 0 {
			return nil, fmt.Errorf("pad2d: pads %v must be non-negative", p.Pads)
		}
	}
	switch p.Mode {
	case "", "constant", "edge":
	case "reflect":
		if p.Pads[0] >= in[1] || p.Pads[1] >= in[1] || p.Pads[2] >= in[2] || p.Pads[3] >= in[2] {
			return nil, fmt.Errorf("pad2d: reflect pads %v must be smaller than the %dx%d input", p.Pads, in[1], in[2])
		}
	default:
		return nil, fmt.Errorf("pad2d: unknown mode %q (expected constant, reflect or edge)", p.Mode)
	}
	if !finite32(p.Value) {
		return nil, fmt.Errorf("pad2d: value must be finite, got %g", p.Value)
	}
	return []int{in[0], in[1] + p.Pads[0] + p.Pads[1], in[2] + p.Pads[2] + p.Pads[3]}, nil
}

func (p *Pad2D) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if err := oneInput("pad2d", in); err != nil {
		return nil, err
	}
	return p.shape(in[0])
}
func (p *Pad2D) PartialShape(in [][]int) ([]int, bool) {
	if len(in) != 1 || in[0] == nil {
		return nil, false
	}
	s, err := p.shape(in[0])
	return s, err == nil
}

// src maps an output coordinate to the input coordinate it copies, or -1 for the constant.
func (p *Pad2D) src(o, pad, n int) int {
	i := o - pad
	if i >= 0 && i < n {
		return i
	}
	switch p.Mode {
	case "edge":
		return min(max(i, 0), n-1)
	case "reflect":
		if n == 1 {
			return 0
		}
		period := 2 * (n - 1)
		i = ((i % period) + period) % period
		if i >= n {
			i = period - i
		}
		return i
	}
	return -1
}

func (p *Pad2D) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := h+p.Pads[0]+p.Pads[1], w+p.Pads[2]+p.Pads[3]
	y := ctx.Alloc(n, c, oh, ow)
	cols := make([]int, ow)
	for ox := range cols {
		cols[ox] = p.src(ox, p.Pads[2], w)
	}
	for pl := 0; pl < n*c; pl++ {
		src := x.Data[pl*h*w : (pl+1)*h*w]
		dst := y.Data[pl*oh*ow : (pl+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			row := dst[oy*ow : (oy+1)*ow]
			iy := p.src(oy, p.Pads[0], h)
			if iy < 0 {
				for i := range row {
					row[i] = p.Value
				}
				continue
			}
			line := src[iy*w : (iy+1)*w]
			for ox, ix := range cols {
				if ix < 0 {
					row[ox] = p.Value
				} else {
					row[ox] = line[ix]
				}
			}
		}
	}
	return y, nil
}

func (p *Pad2D) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := dy.Shape[2], dy.Shape[3]
	dx := ctx.Zeros(x.Shape...)
	for pl := 0; pl < n*c; pl++ {
		d := dx.Data[pl*h*w : (pl+1)*h*w]
		g := dy.Data[pl*oh*ow : (pl+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			iy := p.src(oy, p.Pads[0], h)
			if iy < 0 {
				continue
			}
			for ox := 0; ox < ow; ox++ {
				if ix := p.src(ox, p.Pads[2], w); ix >= 0 {
					d[iy*w+ix] += g[oy*ow+ox]
				}
			}
		}
	}
	return []*tensor.Tensor{dx}
}

// Reshape gives each sample a new shape with the same number of elements, in row-major order
// (the output shares the input's storage). Spec field: shape, the per-sample target; one entry
// may be -1 and is inferred.
type Reshape struct {
	Shape []int `json:"shape"`
}

func (r *Reshape) Type() string     { return "reshape" }
func (r *Reshape) Params() []*Param { return nil }

func (r *Reshape) shape(in []int) ([]int, error) {
	if len(r.Shape) == 0 {
		return nil, fmt.Errorf("reshape: shape is required")
	}
	out := append([]int(nil), r.Shape...)
	infer, known := -1, 1
	for i, d := range out {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d == -1:
			return nil, fmt.Errorf("reshape: shape %v has more than one -1", r.Shape)
		case d <= 0:
			return nil, fmt.Errorf("reshape: shape %v has a size %d (sizes are positive, or -1 for one inferred axis)", r.Shape, d)
		default:
			known *= d
		}
	}
	n := tensor.Numel(in)
	if infer >= 0 {
		if n%known != 0 {
			return nil, fmt.Errorf("reshape: cannot reshape %v (%d elements) to %v", in, n, r.Shape)
		}
		out[infer] = n / known
	} else if known != n {
		return nil, fmt.Errorf("reshape: cannot reshape %v (%d elements) to %v (%d)", in, n, r.Shape, known)
	}
	return out, nil
}

func (r *Reshape) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if err := oneInput("reshape", in); err != nil {
		return nil, err
	}
	return r.shape(in[0])
}
func (r *Reshape) PartialShape(in [][]int) ([]int, bool) {
	if len(in) != 1 || in[0] == nil {
		return nil, false
	}
	s, err := r.shape(in[0])
	return s, err == nil
}
func (r *Reshape) Forward(_ *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	s, _ := r.shape(x.Shape[1:])
	return x.Reshape(append([]int{x.Shape[0]}, s...)...), nil
}
func (r *Reshape) Backward(_ *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	return []*tensor.Tensor{dy.Reshape(in[0].Shape...)}
}

// Transpose permutes the per-sample axes: output axis i is input axis perm[i] (numpy's
// transpose; the batch axis stays first). Spec field: perm.
type Transpose struct {
	Perm []int `json:"perm"`
}

func (t *Transpose) Type() string     { return "transpose" }
func (t *Transpose) Params() []*Param { return nil }

func (t *Transpose) shape(in []int) ([]int, error) {
	if len(t.Perm) != len(in) {
		return nil, fmt.Errorf("transpose: perm %v does not match the %d axes of %v", t.Perm, len(in), in)
	}
	seen := make([]bool, len(in))
	out := make([]int, len(in))
	for i, a := range t.Perm {
		if a < 0 || a >= len(in) || seen[a] {
			return nil, fmt.Errorf("transpose: perm %v is not a permutation of 0..%d", t.Perm, len(in)-1)
		}
		seen[a] = true
		out[i] = in[a]
	}
	return out, nil
}

func (t *Transpose) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if err := oneInput("transpose", in); err != nil {
		return nil, err
	}
	return t.shape(in[0])
}
func (t *Transpose) PartialShape(in [][]int) ([]int, bool) {
	if len(in) != 1 || in[0] == nil {
		return nil, false
	}
	s, err := t.shape(in[0])
	return s, err == nil
}

// permute copies src (batched shape in) into dst in the axis order perm (of the per-sample
// axes); inverse scatters instead, which is the adjoint.
func permute(src, dst []float32, in, perm []int, inverse bool) {
	r := len(in) // includes the batch axis
	full := append([]int{0}, perm...)
	for i := 1; i < r; i++ {
		full[i] = perm[i-1] + 1
	}
	stride := make([]int, r)
	s := 1
	for k := r - 1; k >= 0; k-- {
		stride[k] = s
		s *= in[k]
	}
	out := make([]int, r)
	ost := make([]int, r) // input stride of each output axis
	for i, a := range full {
		out[i] = in[a]
		ost[i] = stride[a]
	}
	idx := make([]int, r)
	last := r - 1
	n, st := out[last], ost[last]
	si := 0
	for o := 0; o < len(dst); o += n {
		if inverse {
			for j := 0; j < n; j++ {
				dst[si+j*st] = src[o+j]
			}
		} else {
			for j := 0; j < n; j++ {
				dst[o+j] = src[si+j*st]
			}
		}
		for k := last - 1; k >= 0; k-- {
			idx[k]++
			si += ost[k]
			if idx[k] < out[k] {
				break
			}
			si -= ost[k] * out[k]
			idx[k] = 0
		}
	}
}

func (t *Transpose) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	s, _ := t.shape(x.Shape[1:])
	y := ctx.Alloc(append([]int{x.Shape[0]}, s...)...)
	permute(x.Data, y.Data, x.Shape, t.Perm, false)
	return y, nil
}
func (t *Transpose) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	dx := ctx.Alloc(in[0].Shape...)
	permute(dy.Data, dx.Data, in[0].Shape, t.Perm, true)
	return []*tensor.Tensor{dx}
}

// Slice keeps indices [start, end) of one per-sample axis (ONNX Split and Slice become slices).
// Spec fields: axis (per-sample, negative counts from the end), start, end (negative values
// count from the end of the axis, as in Python; end 0 means the end of the axis).
type Slice struct {
	Axis  int `json:"axis"`
	Start int `json:"start,omitempty"`
	End   int `json:"end,omitempty"`
}

func (s *Slice) Type() string     { return "slice" }
func (s *Slice) Params() []*Param { return nil }

// resolve returns the axis and the half-open range on it.
func (s *Slice) resolve(in []int) (axis, lo, hi int, err error) {
	axis = s.Axis
	if axis < 0 {
		axis += len(in)
	}
	if axis < 0 || axis >= len(in) {
		return 0, 0, 0, fmt.Errorf("slice: axis %d out of range for %v", s.Axis, in)
	}
	n := in[axis]
	lo, hi = s.Start, s.End
	if lo < 0 {
		lo += n
	}
	if hi <= 0 {
		hi += n
	}
	if lo < 0 || hi > n || lo >= hi {
		return 0, 0, 0, fmt.Errorf("slice: range start %d end %d is empty or outside axis %d of size %d", s.Start, s.End, axis, n)
	}
	return axis, lo, hi, nil
}

func (s *Slice) shape(in []int) ([]int, error) {
	axis, lo, hi, err := s.resolve(in)
	if err != nil {
		return nil, err
	}
	out := append([]int(nil), in...)
	out[axis] = hi - lo
	return out, nil
}

func (s *Slice) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if err := oneInput("slice", in); err != nil {
		return nil, err
	}
	return s.shape(in[0])
}
func (s *Slice) PartialShape(in [][]int) ([]int, bool) {
	if len(in) != 1 || in[0] == nil {
		return nil, false
	}
	out, err := s.shape(in[0])
	return out, err == nil
}

// blocks describes the slice as outer x [axis] x inner blocks of a batched tensor.
func (s *Slice) blocks(shape []int) (outer, n, inner, lo, hi int) {
	axis, lo, hi, _ := s.resolve(shape[1:])
	axis++
	outer = tensor.Numel(shape[:axis])
	inner = tensor.Numel(shape[axis+1:])
	return outer, shape[axis], inner, lo, hi
}

func (s *Slice) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	out, _ := s.shape(x.Shape[1:])
	y := ctx.Alloc(append([]int{x.Shape[0]}, out...)...)
	outer, n, inner, lo, hi := s.blocks(x.Shape)
	m := (hi - lo) * inner
	for b := 0; b < outer; b++ {
		copy(y.Data[b*m:(b+1)*m], x.Data[b*n*inner+lo*inner:b*n*inner+hi*inner])
	}
	return y, nil
}

func (s *Slice) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	dx := ctx.Zeros(x.Shape...)
	outer, n, inner, lo, hi := s.blocks(x.Shape)
	m := (hi - lo) * inner
	for b := 0; b < outer; b++ {
		copy(dx.Data[b*n*inner+lo*inner:b*n*inner+hi*inner], dy.Data[b*m:(b+1)*m])
	}
	return []*tensor.Tensor{dx}
}
