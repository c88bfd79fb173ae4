package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("conv_transpose2d", func() Op { return &ConvTranspose2D{} })
}

// ConvTranspose2D is the transposed 2-D convolution (ONNX ConvTranspose, PyTorch ConvTranspose2d):
// the adjoint of a Conv2D with the same kernel, stride, padding and dilation, so each input
// pixel scatters a kernel-weighted copy onto the output. Output size per axis:
// (in - 1) stride - 2 pad + dilation (kernel - 1) + output_pad + 1.
//
// Spec fields: out (output channels), kernel, stride (default 1), pad (default 0), dilation
// (default 1), output_pad (default 0, smaller than the stride), no_bias, init (as conv2d).
// One group only. The weight has PyTorch's layout [In, Out, KH, KW]; the bias is [Out].
//
// Implementation: the columns W^T x (a GEMM) are added back onto the output image by col2im, which
// is exactly a convolution's backward input pass; the backward pass is a convolution (im2col of
// the output gradient and a GEMM) for the input gradient and a GEMM for the weight gradient.
type ConvTranspose2D struct {
	Out       int    `json:"out"`
	Kernel    Dims   `json:"kernel"`
	Stride    Dims   `json:"stride,omitempty"`
	Pad       Dims   `json:"pad,omitempty"`
	Dilation  Dims   `json:"dilation,omitempty"`
	OutputPad Dims   `json:"output_pad,omitempty"`
	NoBias    bool   `json:"no_bias,omitempty"`
	Init      string `json:"init,omitempty"`

	w, b *Param
	// g is the geometry of the adjoint convolution: from this op's output (g.c = Out, g.h x
	// g.w) to its input (g.oh x g.ow); in is this op's input channels.
	g  convGeom
	in int
}

func (ct *ConvTranspose2D) Type() string { return "conv_transpose2d" }

func (ct *ConvTranspose2D) shape(in []int) (convGeom, error) {
	var g convGeom
	if len(in) != 3 {
		return g, fmt.Errorf("conv_transpose2d needs a [C H W] input, got %v", in)
	}
	if ct.Out <= 0 {
		return g, fmt.Errorf("conv_transpose2d: out must be positive, got %d", ct.Out)
	}
	if len(ct.Kernel) == 0 {
		return g, fmt.Errorf("conv_transpose2d: kernel is required")
	}
	for _, c := range []struct {
		name string
		d    Dims
		min  int
	}{{"kernel", ct.Kernel, 1}, {"stride", ct.Stride, 1}, {"pad", ct.Pad, 0}, {"dilation", ct.Dilation, 1}, {"output_pad", ct.OutputPad, 0}} {
		if err := c.d.valid("conv_transpose2d "+c.name, c.min); err != nil {
			return g, err
		}
	}
	kh, kw := ct.Kernel.HW(1)
	sh, sw := ct.Stride.HW(1)
	ph, pw := ct.Pad.HW(0)
	dh, dw := ct.Dilation.HW(1)
	oph, opw := ct.OutputPad.HW(0)
	if oph >= sh || opw >= sw {
		return g, fmt.Errorf("conv_transpose2d: output_pad %dx%d must be smaller than the stride %dx%d", oph, opw, sh, sw)
	}
	oh := (in[1]-1)*sh - 2*ph + dh*(kh-1) + oph + 1
	ow := (in[2]-1)*sw - 2*pw + dw*(kw-1) + opw + 1
	if oh < 1 || ow < 1 {
		return g, fmt.Errorf("conv_transpose2d: padding %dx%d leaves no output from a %dx%d input", ph, pw, in[1], in[2])
	}
	if err := g.setup("conv_transpose2d", []int{ct.Out, oh, ow}, ct.Kernel, ct.Stride, ct.Pad, ct.Dilation); err != nil {
		return g, err
	}
	if g.oh != in[1] || g.ow != in[2] {
		return g, fmt.Errorf("conv_transpose2d: internal geometry mismatch %dx%d vs %dx%d", g.oh, g.ow, in[1], in[2])
	}
	return g, nil
}

func (ct *ConvTranspose2D) Build(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("conv_transpose2d takes 1 input, got %d", len(in))
	}
	g, err := ct.shape(in[0])
	if err != nil {
		return nil, err
	}
	ct.g, ct.in = g, in[0][0]
	ct.w = NewParam("weight", true, ct.in, ct.Out, g.kh, g.kw)
	if err := InitWeights(ct.w.Value, ct.Init, ct.in*g.kh*g.kw, ct.Out*g.kh*g.kw, rng); err != nil {
		return nil, err
	}
	ct.b = nil
	if !ct.NoBias {
		ct.b = NewParam("bias", false, ct.Out)
	}
	return []int{ct.Out, g.h, g.w}, nil
}

func (ct *ConvTranspose2D) PartialShape(in [][]int) ([]int, bool) {
	if len(in) != 1 || in[0] == nil {
		return nil, false
	}
	g, err := ct.shape(in[0])
	return []int{ct.Out, g.h, g.w}, err == nil
}

func (ct *ConvTranspose2D) Params() []*Param {
	if ct.b == nil {
		return []*Param{ct.w}
	}
	return []*Param{ct.w, ct.b}
}

// Weight and Bias expose the parameters (Bias is nil with no_bias).
func (ct *ConvTranspose2D) Weight() *Param { return ct.w }
func (ct *ConvTranspose2D) Bias() *Param   { return ct.b }

func (ct *ConvTranspose2D) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	g := &ct.g
	n, p, k := x.Shape[0], g.oh*g.ow, ct.Out*g.kh*g.kw
	inSz, outSz := ct.in*p, ct.Out*g.h*g.w
	y := ctx.Zeros(n, ct.Out, g.h, g.w)
	col := getScratch(k * p)
	defer putScratch(col)
	for s := 0; s < n; s++ {
		tensor.Sgemm(true, false, k, p, ct.in, 1, ct.w.Value.Data, k, x.Data[s*inSz:(s+1)*inSz], p, 0, col, p)
		ys := y.Data[s*outSz : (s+1)*outSz]
		tensor.Col2im(col, ct.Out, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, ys)
		if ct.b != nil {
			for o := 0; o < ct.Out; o++ {
				tensor.AddConstTo(ys[o*g.h*g.w:(o+1)*g.h*g.w], ct.b.Value.Data[o], false)
			}
		}
	}
	return y, nil
}

func (ct *ConvTranspose2D) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x := in[0]
	g := &ct.g
	n, p, k := x.Shape[0], g.oh*g.ow, ct.Out*g.kh*g.kw
	inSz, outSz := ct.in*p, ct.Out*g.h*g.w
	var dx *tensor.Tensor
	if need[0] {
		dx = ctx.Alloc(x.Shape...)
	}
	col := getScratch(k * p)
	defer putScratch(col)
	for s := 0; s < n; s++ {
		ds := dy.Data[s*outSz : (s+1)*outSz]
		tensor.Im2col(ds, ct.Out, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, col)
		tensor.Sgemm(false, true, ct.in, k, p, 1, x.Data[s*inSz:(s+1)*inSz], p, col, p, 1, ct.w.Grad.Data, k)
		if dx != nil {
			tensor.Sgemm(false, false, ct.in, p, k, 1, ct.w.Value.Data, k, col, p, 0, dx.Data[s*inSz:(s+1)*inSz], p)
		}
		if ct.b != nil {
			for o := 0; o < ct.Out; o++ {
				ct.b.Grad.Data[o] += tensor.Sum(ds[o*g.h*g.w : (o+1)*g.h*g.w])
			}
		}
	}
	return []*tensor.Tensor{dx}
}
