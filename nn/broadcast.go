package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("mul", func() Op { return &Binary{Kind: "mul"} })
	Register("sub", func() Op { return &Binary{Kind: "sub"} })
	Register("div", func() Op { return &Binary{Kind: "div"} })
}

// broadcastShape is numpy's broadcast of two per-sample shapes: aligned at the last axis, each
// pair of sizes equal or one of them 1.
func broadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for k := 0; k < r; k++ {
		da, db := 1, 1
		if i := k - (r - len(a)); i >= 0 {
			da = a[i]
		}
		if i := k - (r - len(b)); i >= 0 {
			db = b[i]
		}
		switch {
		case da == db, db == 1:
			out[k] = da
		case da == 1:
			out[k] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast (axis %d: %d vs %d)", a, b, k, da, db)
		}
	}
	return out, nil
}

// bplan walks a broadcast output in runs along its last (coalesced) axis: output elements
// o..o+n-1 read a at ia, ia+da, ... and b at ib, ib+db, ...
type bplan struct {
	out    []int
	sa, sb []int
}

// newBPlan plans the broadcast of two batched tensors (the batch axis must agree).
func newBPlan(a, b []int) bplan {
	r := max(len(a), len(b))
	pad := func(s []int) []int {
		p := make([]int, r)
		p[0] = s[0]
		for k := 1; k < r; k++ {
			p[k] = 1
		}
		copy(p[r-len(s)+1:], s[1:])
		return p
	}
	pa, pb := pad(a), pad(b)
	out := make([]int, r)
	sa, sb := make([]int, r), make([]int, r)
	strideA, strideB := 1, 1
	for k := r - 1; k >= 0; k-- {
		out[k] = max(pa[k], pb[k])
		if pa[k] != 1 {
			sa[k] = strideA
		}
		if pb[k] != 1 {
			sb[k] = strideB
		}
		strideA *= pa[k]
		strideB *= pb[k]
	}
	// Coalesce adjacent axes that both operands walk contiguously (or both skip), so a
	// per-channel operand over [C H W] runs in H*W-long stretches.
	p := bplan{out: []int{out[0]}, sa: []int{sa[0]}, sb: []int{sb[0]}}
	for k := 1; k < r; k++ {
		if out[k] == 1 {
			continue
		}
		j := len(p.out) - 1
		if p.out[j] == 1 || (p.sa[j] == sa[k]*out[k] && p.sb[j] == sb[k]*out[k]) {
			p.sa[j], p.sb[j] = sa[k], sb[k]
			p.out[j] *= out[k]
			continue
		}
		p.out, p.sa, p.sb = append(p.out, out[k]), append(p.sa, sa[k]), append(p.sb, sb[k])
	}
	return p
}

func (p *bplan) each(f func(o, ia, ib, n, da, db int)) {
	r := len(p.out)
	last := r - 1
	n := p.out[last]
	idx := make([]int, r)
	o, ia, ib := 0, 0, 0
	total := tensor.Numel(p.out)
	for o < total {
		f(o, ia, ib, n, p.sa[last], p.sb[last])
		o += n
		k := last - 1
		for ; k >= 0; k-- {
			idx[k]++
			ia += p.sa[k]
			ib += p.sb[k]
			if idx[k] < p.out[k] {
				break
			}
			ia -= p.sa[k] * p.out[k]
			ib -= p.sb[k] * p.out[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// binaryShape checks two inputs and returns their broadcast shape.
func binaryShape(typ string, in [][]int) ([]int, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%s takes 2 inputs, got %d", typ, len(in))
	}
	out, err := broadcastShape(in[0], in[1])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	return out, nil
}

// Binary is an elementwise binary op over exactly two inputs whose per-sample shapes broadcast
// as in numpy (a per-channel [C 1 1] operand scales a [C H W] map): mul, sub (a - b) or div
// (a / b). Registered as "mul", "sub" and "div"; "add" (Add) broadcasts the same way. No spec
// fields.
type Binary struct {
	Kind string `json:"-"`
}

func (b *Binary) Type() string     { return b.Kind }
func (b *Binary) Params() []*Param { return nil }
func (b *Binary) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	switch b.Kind {
	case "mul", "sub", "div":
	default:
		return nil, fmt.Errorf("unknown binary op %q", b.Kind)
	}
	return binaryShape(b.Kind, in)
}

func (b *Binary) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x, z := in[0], in[1]
	p := newBPlan(x.Shape, z.Shape)
	y := ctx.Alloc(outShape(x.Shape, z.Shape)...)
	xs, zs, ys := x.Data, z.Data, y.Data
	p.each(func(o, ia, ib, n, da, db int) {
		yr := ys[o : o+n]
		switch b.Kind {
		case "mul":
			for i := range yr {
				yr[i] = xs[ia+i*da] * zs[ib+i*db]
			}
		case "sub":
			for i := range yr {
				yr[i] = xs[ia+i*da] - zs[ib+i*db]
			}
		case "div":
			for i := range yr {
				yr[i] = xs[ia+i*da] / zs[ib+i*db]
			}
		}
	})
	return y, nil
}

// outShape is the batched broadcast shape of two batched tensors.
func outShape(a, b []int) []int {
	s, _ := broadcastShape(a[1:], b[1:])
	return append([]int{a[0]}, s...)
}

func (b *Binary) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x, z := in[0], in[1]
	var dx, dz *tensor.Tensor
	if need[0] {
		dx = ctx.Zeros(x.Shape...)
	}
	if need[1] {
		dz = ctx.Zeros(z.Shape...)
	}
	p := newBPlan(x.Shape, z.Shape)
	xs, zs, g := x.Data, z.Data, dy.Data
	p.each(func(o, ia, ib, n, da, db int) {
		gr := g[o : o+n]
		for i, gv := range gr {
			a, c := ia+i*da, ib+i*db
			switch b.Kind {
			case "mul":
				if dx != nil {
					dx.Data[a] += gv * zs[c]
				}
				if dz != nil {
					dz.Data[c] += gv * xs[a]
				}
			case "sub":
				if dx != nil {
					dx.Data[a] += gv
				}
				if dz != nil {
					dz.Data[c] -= gv
				}
			case "div":
				inv := 1 / zs[c]
				if dx != nil {
					dx.Data[a] += gv * inv
				}
				if dz != nil {
					dz.Data[c] -= gv * xs[a] * inv * inv
				}
			}
		}
	})
	return []*tensor.Tensor{dx, dz}
}

// addBroadcast is Add's path for two inputs of different shapes.
func addBroadcast(ctx *Ctx, x, z *tensor.Tensor) *tensor.Tensor {
	p := newBPlan(x.Shape, z.Shape)
	y := ctx.Alloc(outShape(x.Shape, z.Shape)...)
	p.each(func(o, ia, ib, n, da, db int) {
		yr := y.Data[o : o+n]
		for i := range yr {
			yr[i] = x.Data[ia+i*da] + z.Data[ib+i*db]
		}
	})
	return y
}

// reduceBroadcast sums a gradient dy of the broadcast output back onto input k's shape.
func reduceBroadcast(ctx *Ctx, x, z, dy *tensor.Tensor, k int) *tensor.Tensor {
	shape := x.Shape
	if k == 1 {
		shape = z.Shape
	}
	d := ctx.Zeros(shape...)
	p := newBPlan(x.Shape, z.Shape)
	p.each(func(o, ia, ib, n, da, db int) {
		s, st := ia, da
		if k == 1 {
			s, st = ib, db
		}
		for i, gv := range dy.Data[o : o+n] {
			d.Data[s+i*st] += gv
		}
	})
	return d
}
