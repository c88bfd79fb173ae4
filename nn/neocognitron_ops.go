package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("s_cell", func() Op { return &SCell{} })
}

// SCell is a layer of the neocognitron's S-cells (Fukushima 1980, Biol. Cybern. 36:193), in the
// normalised form of Fukushima's later papers: every plane p holds one weight patch a_p
// [C, k, k], and the S-cell of plane p at a position responds to the input patch x there as
//
//	u = φ(â_p·x − θ v) / (1 − θ),   v = sqrt(Σ x² + ε),   â_p = a_p / ||a_p||
//
// where φ is half-wave rectification, v is the inhibitory V-cell (the root of the patch's
// energy, the unnormalised root-mean-square), and θ = r/(1+r) in [0, 1) is the selectivity
// (Fukushima's r): the cell fires only when the cosine between its weights and the patch
// exceeds θ, and then in proportion to the patch's contrast. A plane whose weights are all zero
// (not yet recruited by learning) is silent. The weights are not trainable by gradient descent:
// they are a buffer "weight" (see Stateful) saved with checkpoints and counted in the digest.
// Build fills them with seeded non-negative random patches of unit norm (the random baseline);
// models.TrainNeocognitron learns them without labels.
//
// Spec fields: planes (number of S-planes), kernel (patch side, 5 or [h, w]), pad (zero padding,
// default 0), selectivity (θ, default 0: any positive cosine excites).
type SCell struct {
	Planes      int     `json:"planes"`
	Kernel      Dims    `json:"kernel"`
	Pad         Dims    `json:"pad,omitempty"`
	Selectivity float64 `json:"selectivity,omitempty"`

	w *tensor.Tensor
	g convGeom
}

// sCellEps keeps the V-cell differentiable at blank patches.
const sCellEps = 1e-6

func (s *SCell) Type() string     { return "s_cell" }
func (s *SCell) Params() []*Param { return nil }

// Buffers exposes the weights (Stateful).
func (s *SCell) Buffers() map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{"weight": s.w}
}

// WeightTensor returns the live weights [planes, C, kh, kw] (after Build).
func (s *SCell) WeightTensor() *tensor.Tensor { return s.w }

// Theta is the selectivity θ.
func (s *SCell) Theta() float64 { return s.Selectivity }

// Geometry returns the input [C H W], the kernel side and the output positions after Build.
func (s *SCell) Geometry() (c, h, w, kh, kw, oh, ow int) {
	return s.g.c, s.g.h, s.g.w, s.g.kh, s.g.kw, s.g.oh, s.g.ow
}

func (s *SCell) Build(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) != 3 {
		return nil, fmt.Errorf("s_cell takes one [C H W] input, got %v", in)
	}
	if s.Planes <= 0 {
		return nil, fmt.Errorf("s_cell: planes must be positive, got %d", s.Planes)
	}
	if th := s.Selectivity; th < 0 || th >= 1 || math.IsNaN(th) {
		return nil, fmt.Errorf("s_cell: selectivity θ must be in [0, 1) (θ = r/(1+r) for Fukushima's r >= 0), got %v", th)
	}
	if err := s.g.setup("s_cell", in[0], s.Kernel, nil, s.Pad, nil); err != nil {
		return nil, err
	}
	s.w = tensor.New(s.Planes, s.g.c, s.g.kh, s.g.kw)
	n := s.g.c * s.g.kh * s.g.kw
	for p := 0; p < s.Planes; p++ {
		row := s.w.Data[p*n : (p+1)*n]
		for i := range row {
			row[i] = float32(rng.Float64())
		}
		normalizeRow(row)
	}
	return []int{s.Planes, s.g.oh, s.g.ow}, nil
}

// normalizeRow scales v to unit Euclidean norm (a zero vector stays zero).
func normalizeRow(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
}

// unitWeights returns the weights with every non-zero plane scaled to unit norm.
func (s *SCell) unitWeights() []float32 {
	n := s.g.c * s.g.kh * s.g.kw
	a := make([]float32, len(s.w.Data))
	copy(a, s.w.Data)
	for p := 0; p < s.Planes; p++ {
		normalizeRow(a[p*n : (p+1)*n])
	}
	return a
}

// Respond computes one sample's S-cell responses from its im2col patch matrix col
// ([C*kh*kw, L], L = oh*ow) into out [planes, L], writing the V-cell v [L] and the unit weights
// used. It is the forward pass for one image, exposed for learning rules.
func (s *SCell) Respond(a, col []float32, out, v []float32) {
	n, l := s.g.c*s.g.kh*s.g.kw, s.g.oh*s.g.ow
	for j := range v[:l] {
		v[j] = sCellEps
	}
	for i := 0; i < n; i++ {
		r := col[i*l : (i+1)*l]
		for j, x := range r {
			v[j] += x * x
		}
	}
	for j := range v[:l] {
		v[j] = float32(math.Sqrt(float64(v[j])))
	}
	tensor.Sgemm(false, false, s.Planes, l, n, 1, a, n, col, l, 0, out, l)
	th := float32(s.Theta())
	inv := 1 / (1 - th)
	for p := 0; p < s.Planes; p++ {
		o := out[p*l : (p+1)*l]
		for j := range o {
			if u := o[j] - th*v[j]; u > 0 {
				o[j] = u * inv
			} else {
				o[j] = 0
			}
		}
	}
}

// UnitWeights returns a copy of the weights with every non-zero plane at unit norm, in the
// layout Respond takes.
func (s *SCell) UnitWeights() []float32 { return s.unitWeights() }

// Im2col writes one sample's patch matrix ([C*kh*kw, oh*ow]) from its [C H W] input.
func (s *SCell) Im2col(x, col []float32) { s.g.im2col(x, col, s.g.oh*s.g.ow) }

type sCellCache struct {
	a   []float32
	col []float32 // per sample [n, l]
	v   []float32 // per sample [l]
}

func (s *SCell) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	nb := x.Shape[0]
	n, l := s.g.c*s.g.kh*s.g.kw, s.g.oh*s.g.ow
	per := s.g.c * s.g.h * s.g.w
	y := ctx.Alloc(nb, s.Planes, s.g.oh, s.g.ow)
	a := s.unitWeights()
	keep := ctx == nil || ctx.Train || ctx.Backward
	var cache *sCellCache
	if keep {
		cache = &sCellCache{a: a, col: make([]float32, nb*n*l), v: make([]float32, nb*l)}
	}
	parallelPlanes(nb, nb*s.Planes*n*l, func(lo, hi int) {
		var col, v []float32
		if !keep {
			col, v = make([]float32, n*l), make([]float32, l)
		}
		for b := lo; b < hi; b++ {
			if keep {
				col, v = cache.col[b*n*l:(b+1)*n*l], cache.v[b*l:(b+1)*l]
			}
			s.g.im2col(x.Data[b*per:(b+1)*per], col, l)
			s.Respond(a, col, y.Data[b*s.Planes*l:(b+1)*s.Planes*l], v)
		}
	})
	if !keep {
		return y, nil
	}
	return y, cache
}

func (s *SCell) Backward(ctx *Ctx, c any, in []*tensor.Tensor, out, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	nb := x.Shape[0]
	n, l := s.g.c*s.g.kh*s.g.kw, s.g.oh*s.g.ow
	per := s.g.c * s.g.h * s.g.w
	cache, _ := c.(*sCellCache)
	if cache == nil {
		// An inference-mode forward pass kept nothing: recompute the patches and V-cells.
		cache = &sCellCache{a: s.unitWeights(), col: make([]float32, nb*n*l), v: make([]float32, nb*l)}
		tmp := make([]float32, s.Planes*l)
		for b := 0; b < nb; b++ {
			s.g.im2col(x.Data[b*per:(b+1)*per], cache.col[b*n*l:(b+1)*n*l], l)
			s.Respond(cache.a, cache.col[b*n*l:(b+1)*n*l], tmp, cache.v[b*l:(b+1)*l])
		}
	}
	dx := ctx.Zeros(x.Shape...)
	th := float32(s.Theta())
	inv := 1 / (1 - th)
	parallelPlanes(nb, nb*s.Planes*n*l, func(lo, hi int) {
		g := make([]float32, s.Planes*l)
		dcol := make([]float32, n*l)
		gv := make([]float32, l)
		for b := lo; b < hi; b++ {
			o := out.Data[b*s.Planes*l : (b+1)*s.Planes*l]
			d := dy.Data[b*s.Planes*l : (b+1)*s.Planes*l]
			clear(gv)
			for i := range g {
				if o[i] > 0 {
					g[i] = d[i] * inv
					gv[i%l] += g[i]
				} else {
					g[i] = 0
				}
			}
			// d/dx of â·x is â; d/dx of −θ v is −θ x / v.
			tensor.Sgemm(true, false, n, l, s.Planes, 1, cache.a, n, g, l, 0, dcol, l)
			col, v := cache.col[b*n*l:(b+1)*n*l], cache.v[b*l:(b+1)*l]
			for j := range gv {
				gv[j] *= th / v[j]
			}
			for i := 0; i < n; i++ {
				dc, cc := dcol[i*l:(i+1)*l], col[i*l:(i+1)*l]
				for j := range dc {
					dc[j] -= gv[j] * cc[j]
				}
			}
			s.g.col2im(dcol, l, dx.Data[b*per:(b+1)*per])
		}
	})
	return []*tensor.Tensor{dx}
}
