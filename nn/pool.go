package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("maxpool2d", func() Op { return &MaxPool2D{} })
	Register("avgpool2d", func() Op { return &AvgPool2D{} })
	Register("global_avgpool", func() Op { return &GlobalAvgPool{} })
	Register("adaptive_avgpool", func() Op { return &AdaptiveAvgPool{} })
}

// poolGeom resolves a pooling window as PyTorch does: out = floor or ceil of
// (H + 2 pad - kernel) / stride, plus 1; in ceil mode the last window must start inside the
// input or the left padding. Padding is at most half the kernel. pads, when given instead of pad,
// is asymmetric padding [top, bottom, left, right] (ONNX pads, TF "SAME"), each side smaller than
// the kernel.
//
// dil spaces the window's taps (max pooling only; nil is 1): a window then spans
// dilation (kernel - 1) + 1 pixels, which replaces the kernel in the sizes above.
func poolGeom(op string, in []int, kernel, stride, pad Dims, pads []int, ceil bool, dil Dims) (convGeom, error) {
	var g convGeom
	if len(stride) == 0 {
		stride = kernel
	}
	if len(pads) > 0 {
		if len(pad) > 0 {
			return g, fmt.Errorf("%s: give pad or pads, not both", op)
		}
		if len(pads) != 4 {
			return g, fmt.Errorf("%s: pads must be [top, bottom, left, right], got %v", op, pads)
		}
		kh, kw := kernel.HW(1)
		t, b, l, r := pads[0], pads[1], pads[2], pads[3]
		if min(t, b, l, r) < 0 || max(t, b) >= kh || max(l, r) >= kw {
			return g, fmt.Errorf("%s: pads %v must be non-negative and smaller than the kernel %dx%d", op, pads, kh, kw)
		}
		// The larger side checks that the window fits the padded input; the sizes follow.
		if err := g.setup(op, in, kernel, stride, Dims{max(t, b), max(l, r)}, dil); err != nil {
			return g, err
		}
		ekh, ekw := g.dh*(g.kh-1)+1, g.dw*(g.kw-1)+1
		g.ph, g.pb, g.pw, g.pr = t, b, l, r
		g.oh = (g.h+t+b-ekh)/g.sh + 1
		g.ow = (g.w+l+r-ekw)/g.sw + 1
		if ceil {
			g.oh = ceilOutAsym(g.h, ekh, t, b, g.sh)
			g.ow = ceilOutAsym(g.w, ekw, l, r, g.sw)
		}
		if g.oh < 1 || g.ow < 1 {
			return g, fmt.Errorf("%s: kernel %dx%d (dilation %dx%d, pads %v) does not fit the %dx%d input", op, g.kh, g.kw, g.dh, g.dw, pads, g.h, g.w)
		}
		return g, g.tapsReach(op)
	}
	if err := g.setup(op, in, kernel, stride, pad, dil); err != nil {
		return g, err
	}
	g.pb, g.pr = g.ph, g.pw
	if g.ph > g.kh/2 || g.pw > g.kw/2 {
		return g, fmt.Errorf("%s: pad %dx%d exceeds half the kernel %dx%d", op, g.ph, g.pw, g.kh, g.kw)
	}
	if ceil {
		g.oh = ceilOut(g.h, g.dh*(g.kh-1)+1, g.ph, g.sh)
		g.ow = ceilOut(g.w, g.dw*(g.kw-1)+1, g.pw, g.sw)
	}
	return g, g.tapsReach(op)
}

// tapsReach checks that every window of a dilated pool has a tap on the input, not only on
// padding (whose maximum would be -inf, with nowhere for the gradient to go). Rows and columns
// are independent, so it checks each output row and column once.
func (g *convGeom) tapsReach(op string) error {
	if !g.dilated() {
		return nil // a window always starts on the input or within less than a kernel of it
	}
	check := func(n, size, k, s, p, d int, axis string) error {
		for o := 0; o < n; o++ {
			hit := false
			for t := 0; t < k && !hit; t++ {
				i := o*s - p + t*d
				hit = i >= 0 && i < size
			}
			if !hit {
				return fmt.Errorf("%s: window %d along the %s has every tap (kernel %d, dilation %d) in the padding", op, o, axis, k, d)
			}
		}
		return nil
	}
	if err := check(g.oh, g.h, g.kh, g.sh, g.ph, g.dh, "height"); err != nil {
		return err
	}
	return check(g.ow, g.w, g.kw, g.sw, g.pw, g.dw, "width")
}

func ceilOutAsym(in, k, lo, hi, stride int) int {
	o := (in+lo+hi-k+stride-1)/stride + 1
	if (o-1)*stride >= in+lo {
		o--
	}
	return o
}

func ceilOut(in, k, pad, stride int) int {
	o := (in+2*pad-k+stride-1)/stride + 1
	if (o-1)*stride >= in+pad {
		o--
	}
	return o
}

func poolPartial(op string, in [][]int, kernel, stride, pad Dims, pads []int, ceil bool, dil Dims) ([]int, bool) {
	if len(in) != 1 || in[0] == nil {
		return nil, false
	}
	g, err := poolGeom(op, in[0], kernel, stride, pad, pads, ceil, dil)
	if err != nil {
		return nil, false
	}
	return []int{g.c, g.oh, g.ow}, true
}

// parallelPlanes runs body over the n image planes, in parallel when there is enough work.
func parallelPlanes(planes, work int, body func(lo, hi int)) {
	if work < 1<<16 {
		body(0, planes)
		return
	}
	parallelRange(planes, func(_, lo, hi int) { body(lo, hi) })
}

// MaxPool2D takes the maximum over each window. Spec fields: kernel, stride (default: kernel),
// pad (padding counts as -inf, at most kernel/2) or pads ([top, bottom, left, right], each
// smaller than the kernel: ONNX's asymmetric pads and TF's "SAME"), ceil_mode, dilation (the
// spacing of the window's taps, default 1: ONNX's dilations). In training (or with ctx.Backward)
// the index of each maximum is kept for the backward pass; 2x2 windows at stride 2 take an AVX2
// path (tensor.MaxPool2x2). Inference computes the maxima only (tensor.MaxPoolPlane).
type MaxPool2D struct {
	Kernel   Dims  `json:"kernel"`
	Stride   Dims  `json:"stride,omitempty"`
	Pad      Dims  `json:"pad,omitempty"`
	Pads     []int `json:"pads,omitempty"`
	CeilMode bool  `json:"ceil_mode,omitempty"`
	Dilation Dims  `json:"dilation,omitempty"`

	g convGeom
}

func (m *MaxPool2D) Type() string     { return "maxpool2d" }
func (m *MaxPool2D) Params() []*Param { return nil }
func (m *MaxPool2D) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("maxpool2d takes 1 input, got %d", len(in))
	}
	g, err := poolGeom("maxpool2d", in[0], m.Kernel, m.Stride, m.Pad, m.Pads, m.CeilMode, m.Dilation)
	if err != nil {
		return nil, err
	}
	m.g = g
	return []int{g.c, g.oh, g.ow}, nil
}
func (m *MaxPool2D) PartialShape(in [][]int) ([]int, bool) {
	return poolPartial("maxpool2d", in, m.Kernel, m.Stride, m.Pad, m.Pads, m.CeilMode, m.Dilation)
}

func (m *MaxPool2D) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	g := m.g
	if ctx != nil && !ctx.Train && !ctx.Backward && !g.pool2x2() && !g.dilated() {
		// Inference: the maxima only (no backward pass will want their positions).
		n := x.Shape[0]
		y := ctx.Alloc(n, g.c, g.oh, g.ow)
		ip, op := g.h*g.w, g.oh*g.ow
		parallelPlanes(n*g.c, len(x.Data), func(lo, hi int) {
			row := getScratch(g.w)
			for pl := lo; pl < hi; pl++ {
				tensor.MaxPoolPlane(x.Data[pl*ip:(pl+1)*ip], g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.oh, g.ow, y.Data[pl*op:(pl+1)*op], row)
			}
			putScratch(row)
		})
		return y, nil
	}
	return m.argmax(ctx, x)
}

// argmax pools x and records each maximum's index within its plane (as float32 bits).
func (m *MaxPool2D) argmax(ctx *Ctx, x *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	g := m.g
	n := x.Shape[0]
	y := ctx.Alloc(n, g.c, g.oh, g.ow)
	arg := ctx.Alloc(n, g.c, g.oh, g.ow) // argmax index within the plane, as float32 bits
	ip, op := g.h*g.w, g.oh*g.ow
	fast := g.pool2x2()
	parallelPlanes(n*g.c, len(x.Data), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x.Data[pl*ip : (pl+1)*ip]
			dst := y.Data[pl*op : (pl+1)*op]
			ai := arg.Data[pl*op : (pl+1)*op]
			if fast {
				tensor.MaxPool2x2(src, g.w, g.oh, g.ow, dst, ai)
				continue
			}
			if g.dilated() {
				g.dilatedMax(src, dst, ai)
				continue
			}
			for oy := 0; oy < g.oh; oy++ {
				y0 := oy*g.sh - g.ph
				y1 := min(y0+g.kh, g.h)
				y0 = max(y0, 0)
				for ox := 0; ox < g.ow; ox++ {
					x0 := ox*g.sw - g.pw
					x1 := min(x0+g.kw, g.w)
					x0 = max(x0, 0)
					best, bi := float32(math.Inf(-1)), y0*g.w+x0
					for iy := y0; iy < y1; iy++ {
						row := src[iy*g.w : iy*g.w+x1]
						for ix := x0; ix < x1; ix++ {
							if v := row[ix]; v > best || v != v {
								best, bi = v, iy*g.w+ix
							}
						}
					}
					dst[oy*g.ow+ox] = best
					ai[oy*g.ow+ox] = math.Float32frombits(uint32(bi))
				}
			}
		}
	})
	return y, arg
}

// pool2x2 reports whether the 2x2, stride-2, unpadded fast path applies.
func (g *convGeom) pool2x2() bool {
	return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && 2*g.oh <= g.h && 2*g.ow <= g.w && !g.dilated()
}

func (g *convGeom) dilated() bool { return g.dh > 1 || g.dw > 1 }

// dilatedMax pools one plane with spaced taps, recording each maximum's index (as float32
// bits, as argmax does); taps in the padding are skipped.
func (g *convGeom) dilatedMax(src, dst, ai []float32) {
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			best, bi := float32(math.Inf(-1)), -1
			for ky := 0; ky < g.kh; ky++ {
				iy := oy*g.sh - g.ph + ky*g.dh
				if iy < 0 || iy >= g.h {
					continue
				}
				for kx := 0; kx < g.kw; kx++ {
					ix := ox*g.sw - g.pw + kx*g.dw
					if ix < 0 || ix >= g.w {
						continue
					}
					if v := src[iy*g.w+ix]; v > best || v != v || bi < 0 {
						best, bi = v, iy*g.w+ix
					}
				}
			}
			bi = max(bi, 0) // poolGeom rejects windows with every tap in the padding
			dst[oy*g.ow+ox] = best
			ai[oy*g.ow+ox] = math.Float32frombits(uint32(bi))
		}
	}
}

func (m *MaxPool2D) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	g := m.g
	x := in[0]
	arg, ok := cache.(*tensor.Tensor)
	if !ok {
		// The forward pass ran in inference mode without recording the maxima.
		_, arg = m.argmax(ctx, x)
	}
	fast := g.pool2x2()
	var dx *tensor.Tensor
	if fast {
		dx = ctx.Alloc(x.Shape...)
	} else {
		dx = ctx.Zeros(x.Shape...)
	}
	ip, op := g.h*g.w, g.oh*g.ow
	parallelPlanes(x.Shape[0]*g.c, len(x.Data), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			d := dx.Data[pl*ip : (pl+1)*ip]
			a := arg.Data[pl*op : (pl+1)*op]
			if fast {
				tensor.MaxPool2x2Grad(d, g.w, g.h, g.oh, g.ow, dy.Data[pl*op:(pl+1)*op], a)
				continue
			}
			for i, v := range dy.Data[pl*op : (pl+1)*op] {
				d[math.Float32bits(a[i])] += v
			}
		}
	})
	return []*tensor.Tensor{dx}
}

// AvgPool2D averages each window. Spec fields: kernel, stride (default: kernel), pad or pads
// ([top, bottom, left, right], as for MaxPool2D), ceil_mode, exclude_pad. By default padding
// counts in the divisor (PyTorch's count_include_pad=True, the behaviour of every existing model);
// with exclude_pad only the input pixels under the window count, which is ONNX's default
// (count_include_pad=0) and TF's "SAME" average pooling, so importers set exclude_pad unless the
// file says count_include_pad=1. Either way, windows that reach past the padding into ceil mode's
// extra area count only up to the padding's edge, as in PyTorch.
type AvgPool2D struct {
	Kernel     Dims  `json:"kernel"`
	Stride     Dims  `json:"stride,omitempty"`
	Pad        Dims  `json:"pad,omitempty"`
	Pads       []int `json:"pads,omitempty"`
	CeilMode   bool  `json:"ceil_mode,omitempty"`
	ExcludePad bool  `json:"exclude_pad,omitempty"`

	g convGeom
}

func (a *AvgPool2D) Type() string     { return "avgpool2d" }
func (a *AvgPool2D) Params() []*Param { return nil }
func (a *AvgPool2D) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("avgpool2d takes 1 input, got %d", len(in))
	}
	g, err := poolGeom("avgpool2d", in[0], a.Kernel, a.Stride, a.Pad, a.Pads, a.CeilMode, nil)
	if err != nil {
		return nil, err
	}
	a.g = g
	return []int{g.c, g.oh, g.ow}, nil
}
func (a *AvgPool2D) PartialShape(in [][]int) ([]int, bool) {
	return poolPartial("avgpool2d", in, a.Kernel, a.Stride, a.Pad, a.Pads, a.CeilMode, nil)
}

// window returns the clipped window and the divisor of output (oy, ox).
func (a *AvgPool2D) window(oy, ox int) (y0, y1, x0, x1 int, scale float32) {
	g := a.g
	y0, x0 = oy*g.sh-g.ph, ox*g.sw-g.pw
	y1, x1 = min(y0+g.kh, g.h+g.pb), min(x0+g.kw, g.w+g.pr)
	cnt := (y1 - y0) * (x1 - x0)
	y0, x0 = max(y0, 0), max(x0, 0)
	y1, x1 = min(y1, g.h), min(x1, g.w)
	if a.ExcludePad {
		cnt = (y1 - y0) * (x1 - x0)
	}
	return y0, y1, x0, x1, 1 / float32(max(cnt, 1))
}

func (a *AvgPool2D) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	g := a.g
	y := ctx.Alloc(x.Shape[0], g.c, g.oh, g.ow)
	ip, op := g.h*g.w, g.oh*g.ow
	parallelPlanes(x.Shape[0]*g.c, len(x.Data), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x.Data[pl*ip : (pl+1)*ip]
			dst := y.Data[pl*op : (pl+1)*op]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					y0, y1, x0, x1, sc := a.window(oy, ox)
					var s float32
					for iy := y0; iy < y1; iy++ {
						for _, v := range src[iy*g.w+x0 : iy*g.w+x1] {
							s += v
						}
					}
					dst[oy*g.ow+ox] = s * sc
				}
			}
		}
	})
	return y, nil
}

func (a *AvgPool2D) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	g := a.g
	dx := ctx.Zeros(x.Shape...)
	ip, op := g.h*g.w, g.oh*g.ow
	parallelPlanes(x.Shape[0]*g.c, len(x.Data), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			d := dx.Data[pl*ip : (pl+1)*ip]
			gy := dy.Data[pl*op : (pl+1)*op]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					y0, y1, x0, x1, sc := a.window(oy, ox)
					v := gy[oy*g.ow+ox] * sc
					for iy := y0; iy < y1; iy++ {
						r := d[iy*g.w+x0 : iy*g.w+x1]
						for i := range r {
							r[i] += v
						}
					}
				}
			}
		}
	})
	return []*tensor.Tensor{dx}
}

// GlobalAvgPool averages each channel over all positions: [C H W] -> [C].
type GlobalAvgPool struct{}

func (GlobalAvgPool) Type() string     { return "global_avgpool" }
func (GlobalAvgPool) Params() []*Param { return nil }
func (GlobalAvgPool) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 2 {
		return nil, fmt.Errorf("global_avgpool takes one [C H W] input, got %v", in)
	}
	return []int{in[0][0]}, nil
}
func (GlobalAvgPool) PartialShape(in [][]int) ([]int, bool) {
	if len(in) != 1 || len(in[0]) < 2 {
		return nil, false
	}
	return []int{in[0][0]}, true
}
func (GlobalAvgPool) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	n, c := x.Shape[0], x.Shape[1]
	p := x.Len() / (n * c)
	y := ctx.Alloc(n, c)
	for i := range y.Data {
		var s float32
		for _, v := range x.Data[i*p : (i+1)*p] {
			s += v
		}
		y.Data[i] = s / float32(p)
	}
	return y, nil
}
func (GlobalAvgPool) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	dx := ctx.Alloc(x.Shape...)
	p := x.Len() / dy.Len()
	for i, g := range dy.Data {
		v := g / float32(p)
		d := dx.Data[i*p : (i+1)*p]
		for j := range d {
			d[j] = v
		}
	}
	return []*tensor.Tensor{dx}
}

// AdaptiveAvgPool averages into a fixed output grid, spec field out (e.g. 6 or [6, 6]), with
// PyTorch's windows: output row i covers input rows floor(i H / out) to ceil((i+1) H / out).
type AdaptiveAvgPool struct {
	Out Dims `json:"out"`

	c, h, w, oh, ow int
}

func (a *AdaptiveAvgPool) Type() string     { return "adaptive_avgpool" }
func (a *AdaptiveAvgPool) Params() []*Param { return nil }
func (a *AdaptiveAvgPool) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) != 3 {
		return nil, fmt.Errorf("adaptive_avgpool takes one [C H W] input, got %v", in)
	}
	if len(a.Out) == 0 {
		return nil, fmt.Errorf("adaptive_avgpool: out is required")
	}
	if err := a.Out.valid("adaptive_avgpool out", 1); err != nil {
		return nil, err
	}
	a.c, a.h, a.w = in[0][0], in[0][1], in[0][2]
	a.oh, a.ow = a.Out.HW(1)
	return []int{a.c, a.oh, a.ow}, nil
}
func (a *AdaptiveAvgPool) PartialShape(in [][]int) ([]int, bool) {
	if len(in) != 1 || len(in[0]) != 3 || len(a.Out) == 0 {
		return nil, false
	}
	oh, ow := a.Out.HW(1)
	return []int{in[0][0], oh, ow}, true
}

func adaptiveRange(i, in, out int) (int, int) {
	return i * in / out, ((i+1)*in + out - 1) / out
}

func (a *AdaptiveAvgPool) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	y := ctx.Alloc(x.Shape[0], a.c, a.oh, a.ow)
	ip, op := a.h*a.w, a.oh*a.ow
	for pl := 0; pl < x.Shape[0]*a.c; pl++ {
		src := x.Data[pl*ip : (pl+1)*ip]
		for oy := 0; oy < a.oh; oy++ {
			y0, y1 := adaptiveRange(oy, a.h, a.oh)
			for ox := 0; ox < a.ow; ox++ {
				x0, x1 := adaptiveRange(ox, a.w, a.ow)
				var s float32
				for iy := y0; iy < y1; iy++ {
					for _, v := range src[iy*a.w+x0 : iy*a.w+x1] {
						s += v
					}
				}
				y.Data[pl*op+oy*a.ow+ox] = s / float32((y1-y0)*(x1-x0))
			}
		}
	}
	return y, nil
}

func (a *AdaptiveAvgPool) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	dx := ctx.Zeros(x.Shape...)
	ip, op := a.h*a.w, a.oh*a.ow
	for pl := 0; pl < x.Shape[0]*a.c; pl++ {
		d := dx.Data[pl*ip : (pl+1)*ip]
		for oy := 0; oy < a.oh; oy++ {
			y0, y1 := adaptiveRange(oy, a.h, a.oh)
			for ox := 0; ox < a.ow; ox++ {
				x0, x1 := adaptiveRange(ox, a.w, a.ow)
				v := dy.Data[pl*op+oy*a.ow+ox] / float32((y1-y0)*(x1-x0))
				for iy := y0; iy < y1; iy++ {
					r := d[iy*a.w+x0 : iy*a.w+x1]
					for i := range r {
						r[i] += v
					}
				}
			}
		}
	}
	return []*tensor.Tensor{dx}
}
