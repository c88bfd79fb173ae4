package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("batchnorm", func() Op { return &BatchNorm{} })
	Register("groupnorm", func() Op { return &GroupNorm{} })
}

// Stateful is implemented by ops that hold non-trainable state which must be saved with the
// weights: batchnorm's running statistics, a fixed gain. Buffers maps a short name
// ("running_mean") to the live tensor; checkpoint code saves each as "node.name" beside the
// parameters and, when loading, copies the saved values into these tensors. Buffers carry no
// gradient and optimizers never see them.
type Stateful interface {
	Buffers() map[string]*tensor.Tensor
}

// GraphBuffers collects the buffers of every Stateful op in a built graph, keyed "node.name".
func GraphBuffers(g *Graph) map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for _, n := range g.Nodes {
		if s, ok := n.Op.(Stateful); ok {
			for k, t := range s.Buffers() {
				out[n.Name+"."+k] = t
			}
		}
	}
	return out
}

// BatchNorm normalises each channel (axis 0 of the per-sample shape) over the batch and all
// other axes: 2-D batch norm for [C H W] inputs, 1-D for [F] (Ioffe & Szegedy 2015). In training
// it uses the batch statistics and updates running averages,
// running = (1 - momentum) running + momentum batch (the variance unbiased, as PyTorch); in
// inference it uses the running averages. Spec fields: momentum (default 0.1), eps (default
// 1e-5), no_affine (drop the per-channel weight and bias). The running statistics are buffers
// (see Stateful), not parameters.
type BatchNorm struct {
	Momentum float32 `json:"momentum,omitempty"`
	Eps      float32 `json:"eps,omitempty"`
	NoAffine bool    `json:"no_affine,omitempty"`

	w, b          *Param
	runMean, runV *tensor.Tensor
	c             int
}

func (bn *BatchNorm) Type() string { return "batchnorm" }
func (bn *BatchNorm) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 1 {
		return nil, fmt.Errorf("batchnorm takes one [C ...] input")
	}
	if bn.Momentum < 0 || bn.Momentum > 1 || bn.Eps < 0 {
		return nil, fmt.Errorf("batchnorm: momentum must be in [0,1] and eps >= 0")
	}
	bn.c = in[0][0]
	bn.w, bn.b = affineParams(bn.c, bn.NoAffine)
	bn.runMean = tensor.New(bn.c)
	bn.runV = tensor.New(bn.c)
	for i := range bn.runV.Data {
		bn.runV.Data[i] = 1
	}
	return append([]int(nil), in[0]...), nil
}

func affineParams(c int, none bool) (*Param, *Param) {
	if none {
		return nil, nil
	}
	w := NewParam("weight", false, c)
	for i := range w.Value.Data {
		w.Value.Data[i] = 1
	}
	return w, NewParam("bias", false, c)
}

func (bn *BatchNorm) PartialShape(in [][]int) ([]int, bool) {
	return in[0], len(in) == 1 && in[0] != nil
}
func (bn *BatchNorm) Params() []*Param {
	if bn.w == nil {
		return nil
	}
	return []*Param{bn.w, bn.b}
}

// Buffers returns the running mean and variance.
func (bn *BatchNorm) Buffers() map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{"running_mean": bn.runMean, "running_var": bn.runV}
}

func (bn *BatchNorm) eps() float64 {
	if bn.Eps == 0 {
		return 1e-5
	}
	return float64(bn.Eps)
}

// affine returns channel ch's map y = x*scale + shift for the statistics mean and inv (1/std).
func (bn *BatchNorm) affine(ch int, mean, inv float32) (scale, shift float32) {
	scale, shift = inv, -mean*inv
	if bn.w != nil {
		scale, shift = scale*bn.w.Value.Data[ch], shift*bn.w.Value.Data[ch]+bn.b.Value.Data[ch]
	}
	return scale, shift
}

// inferenceAffine returns the per-channel map of inference mode (the running statistics), for
// the epilogue of the layer before (see fuse.go); computed from the current buffers and
// parameters on each call, so it never goes stale.
func (bn *BatchNorm) inferenceAffine() (scale, shift []float32) {
	scale, shift = make([]float32, bn.c), make([]float32, bn.c)
	for ch := range scale {
		scale[ch], shift[ch] = bn.affine(ch, bn.runMean.Data[ch], bn.invStd(ch))
	}
	return scale, shift
}

// invStd is 1/sqrt(running variance + eps) of channel ch.
func (bn *BatchNorm) invStd(ch int) float32 {
	return float32(1 / math.Sqrt(float64(bn.runV.Data[ch])+bn.eps()))
}

// bnCache holds per-channel mean and 1/std used by the forward pass.
type bnCache struct {
	stats *tensor.Tensor // [2, C]: mean, invstd
	train bool
}

func (bn *BatchNorm) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	n, c := x.Shape[0], bn.c
	p := x.Len() / (n * c)
	stats := ctx.Alloc(2, c)
	mean, inv := stats.Data[:c], stats.Data[c:]
	train := ctx != nil && ctx.Train
	mom := bn.Momentum
	if mom == 0 {
		mom = 0.1
	}
	for ch := 0; ch < c; ch++ {
		if !train {
			mean[ch] = bn.runMean.Data[ch]
			inv[ch] = bn.invStd(ch)
			continue
		}
		var s float64
		for i := 0; i < n; i++ {
			for _, v := range x.Data[(i*c+ch)*p : (i*c+ch+1)*p] {
				s += float64(v)
			}
		}
		m := s / float64(n*p)
		var ss float64
		for i := 0; i < n; i++ {
			for _, v := range x.Data[(i*c+ch)*p : (i*c+ch+1)*p] {
				d := float64(v) - m
				ss += d * d
			}
		}
		vr := ss / float64(n*p)
		mean[ch] = float32(m)
		inv[ch] = float32(1 / math.Sqrt(vr+bn.eps()))
		unb := vr
		if n*p > 1 {
			unb = ss / float64(n*p-1)
		}
		bn.runMean.Data[ch] = (1-mom)*bn.runMean.Data[ch] + mom*float32(m)
		bn.runV.Data[ch] = (1-mom)*bn.runV.Data[ch] + mom*float32(unb)
	}
	y := ctx.Alloc(x.Shape...)
	inf := float32(math.Inf(1))
	parallelWork(n*c, x.Len(), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			sc, sh := bn.affine(r%c, mean[r%c], inv[r%c])
			// (v + 0)*sc + sh, each step rounded, as the fused epilogue (fuse.go) computes it.
			if p < 8 { // [F] inputs: a call per value costs more than the loop
				for j, v := range x.Data[r*p : (r+1)*p] {
					y.Data[r*p+j] = float32(float32(v+0)*sc) + sh
				}
				continue
			}
			tensor.AffineClamp(y.Data[r*p:(r+1)*p], x.Data[r*p:(r+1)*p], 0, sc, sh, -inf, inf)
		}
	})
	return y, bnCache{stats, train}
}

func (bn *BatchNorm) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x := in[0]
	n, c := x.Shape[0], bn.c
	p := x.Len() / (n * c)
	bc := cache.(bnCache)
	mean, inv := bc.stats.Data[:c], bc.stats.Data[c:]
	var dx *tensor.Tensor
	if need[0] {
		dx = ctx.Alloc(x.Shape...)
	}
	m := float64(n * p)
	for ch := 0; ch < c; ch++ {
		// sums of dy and dy*xhat over the channel
		var sdy, sdyx float64
		for i := 0; i < n; i++ {
			off := (i*c + ch) * p
			g := dy.Data[off : off+p]
			for j, v := range x.Data[off : off+p] {
				sdy += float64(g[j])
				sdyx += float64(g[j]) * float64((v-mean[ch])*inv[ch])
			}
		}
		gamma := float32(1)
		if bn.w != nil {
			gamma = bn.w.Value.Data[ch]
			bn.w.Grad.Data[ch] += float32(sdyx)
			bn.b.Grad.Data[ch] += float32(sdy)
		}
		if dx == nil {
			continue
		}
		k := gamma * inv[ch]
		a, b := float32(0), float32(0)
		if bc.train {
			// dx = gamma inv (dy - mean(dy) - xhat mean(dy xhat))
			a, b = float32(sdy/m), float32(sdyx/m)
		}
		for i := 0; i < n; i++ {
			off := (i*c + ch) * p
			g := dy.Data[off : off+p]
			d := dx.Data[off : off+p]
			for j, v := range x.Data[off : off+p] {
				d[j] = k * (g[j] - a - (v-mean[ch])*inv[ch]*b)
			}
		}
	}
	return []*tensor.Tensor{dx}
}

// GroupNorm normalises each sample over groups of channels and all positions (Wu & He 2018),
// then applies a per-channel affine map. Spec fields: groups (required; must divide the
// channels; 1 is layer norm, C is instance norm), eps (default 1e-5), no_affine. It behaves the
// same in training and inference.
type GroupNorm struct {
	Groups   int     `json:"groups"`
	Eps      float32 `json:"eps,omitempty"`
	NoAffine bool    `json:"no_affine,omitempty"`

	w, b *Param
	c    int
}

func (gn *GroupNorm) Type() string { return "groupnorm" }
func (gn *GroupNorm) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 1 {
		return nil, fmt.Errorf("groupnorm takes one [C ...] input")
	}
	gn.c = in[0][0]
	if gn.Groups < 1 || gn.c%gn.Groups != 0 {
		return nil, fmt.Errorf("groupnorm: groups %d must be positive and divide the %d channels", gn.Groups, gn.c)
	}
	gn.w, gn.b = affineParams(gn.c, gn.NoAffine)
	return append([]int(nil), in[0]...), nil
}
func (gn *GroupNorm) PartialShape(in [][]int) ([]int, bool) {
	return in[0], len(in) == 1 && in[0] != nil
}
func (gn *GroupNorm) Params() []*Param {
	if gn.w == nil {
		return nil
	}
	return []*Param{gn.w, gn.b}
}

func (gn *GroupNorm) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	n, c := x.Shape[0], gn.c
	p := x.Len() / (n * c)
	cg := c / gn.Groups
	sz := cg * p
	eps := float64(gn.Eps)
	if eps == 0 {
		eps = 1e-5
	}
	stats := ctx.Alloc(2, n*gn.Groups)
	y := ctx.Alloc(x.Shape...)
	ng := n * gn.Groups
	for q := 0; q < ng; q++ {
		xs := x.Data[q*sz : (q+1)*sz]
		var s float64
		for _, v := range xs {
			s += float64(v)
		}
		m := s / float64(sz)
		var ss float64
		for _, v := range xs {
			d := float64(v) - m
			ss += d * d
		}
		mean, inv := float32(m), float32(1/math.Sqrt(ss/float64(sz)+eps))
		stats.Data[q], stats.Data[ng+q] = mean, inv
		for k := 0; k < cg; k++ {
			ch := (q%gn.Groups)*cg + k
			sc, sh := inv, -mean*inv
			if gn.w != nil {
				sc, sh = sc*gn.w.Value.Data[ch], sh*gn.w.Value.Data[ch]+gn.b.Value.Data[ch]
			}
			ys := y.Data[q*sz+k*p : q*sz+(k+1)*p]
			for j, v := range xs[k*p : (k+1)*p] {
				ys[j] = v*sc + sh
			}
		}
	}
	return y, stats
}

func (gn *GroupNorm) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x := in[0]
	n, c := x.Shape[0], gn.c
	p := x.Len() / (n * c)
	cg := c / gn.Groups
	sz := cg * p
	ng := n * gn.Groups
	stats := cache.(*tensor.Tensor)
	var dx *tensor.Tensor
	if need[0] {
		dx = ctx.Alloc(x.Shape...)
	}
	for q := 0; q < ng; q++ {
		mean, inv := stats.Data[q], stats.Data[ng+q]
		// sums over the group of dxhat = dy*gamma and dxhat*xhat
		var sd, sdx float64
		for k := 0; k < cg; k++ {
			ch := (q%gn.Groups)*cg + k
			off := q*sz + k*p
			g := dy.Data[off : off+p]
			var cdy, cdyx float64
			for j, v := range x.Data[off : off+p] {
				xh := float64((v - mean) * inv)
				cdy += float64(g[j])
				cdyx += float64(g[j]) * xh
			}
			gamma := 1.0
			if gn.w != nil {
				gamma = float64(gn.w.Value.Data[ch])
				gn.w.Grad.Data[ch] += float32(cdyx)
				gn.b.Grad.Data[ch] += float32(cdy)
			}
			sd += gamma * cdy
			sdx += gamma * cdyx
		}
		if dx == nil {
			continue
		}
		a, b := float32(sd/float64(sz)), float32(sdx/float64(sz))
		for k := 0; k < cg; k++ {
			ch := (q%gn.Groups)*cg + k
			gamma := float32(1)
			if gn.w != nil {
				gamma = gn.w.Value.Data[ch]
			}
			off := q*sz + k*p
			g := dy.Data[off : off+p]
			d := dx.Data[off : off+p]
			for j, v := range x.Data[off : off+p] {
				d[j] = inv * (gamma*g[j] - a - (v-mean)*inv*b)
			}
		}
	}
	return []*tensor.Tensor{dx}
}
