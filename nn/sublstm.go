package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

// Gated recurrent layers over a sequence: the standard LSTM and the subLSTM of Costa, Assael,
// Shillingford, de Freitas and Vogels (2017, NeurIPS, "Cortical microcircuits as
// gated-recurrent neural networks"), whose gates subtract instead of multiply, as inhibitory
// interneurons do in their mapping onto a cortical microcircuit.
//
// Both read a per-sample sequence [T F] (T steps of F features; an MNIST image reshaped to
// [28 28] is read row by row) and run their own loop over the T steps, with backpropagation
// through time inside Backward. They are not unrolled by Graph.Steps, which presents the same
// input at every step: a sequence layer needs a different input at each step. Gates are
// computed from a = W x_t + R h_{t-1} + b, with W [G*H F], R [G*H H], b [G*H], G gate blocks of
// H rows each, stacked in the order below. PyTorch's nn.LSTM has the same layout (weight_ih,
// weight_hh) with two biases whose sum is b, so its weights exchange directly.
//
// LSTM (blocks i, f, g, o):
//
//	i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
//	c_t = f*c_{t-1} + i*g;  h_t = o*tanh(c_t)
//
// subLSTM (blocks i, f, z, o; every gate and the input z are sigmoids):
//
//	c_t = f*c_{t-1} + z - i;  h_t = sigmoid(c_t) - o
//
// The fixed-forget-gate variant (fix-subLSTM, fixed_forget: true) has no f block (G = 3: i, z, o):
// its forget gate is a learned per-unit vector, independent of input and state, clamped to
// [0, 1] as in the authors' code, so that each unit has its own learned memory decay.
// States start at zero. The output is h at the last step ([H]), or at every step ([T H]) with
// sequence: true, so that layers can be stacked.

func init() {
	Register("lstm", func() Op { return &LSTM{} })
	Register("sublstm", func() Op { return &LSTM{Sub: true} })
}

// LSTM is the op of both spec types "lstm" and "sublstm" (Sub true); see the comment above for
// the equations. Weights start as PyTorch's do (uniform, limit 1/sqrt(H)); the fixed forget
// gate starts uniform in [0.5, 1), a memory that decays slowly.
type LSTM struct {
	Sub bool `json:"-"`
	// Hidden is the number of units H.
	Hidden int `json:"hidden"`
	// Sequence returns h at every step ([T H]) instead of the last ([H]).
	Sequence bool `json:"sequence,omitempty"`
	// FixedForget (subLSTM only) replaces the forget gate by a learned per-unit constant.
	FixedForget bool `json:"fixed_forget,omitempty"`

	w, r, b, f *Param
	steps, in  int
}

// NewLSTM and NewSubLSTM construct the layers for Go-written models.
func NewLSTM(hidden int) *LSTM    { return &LSTM{Hidden: hidden} }
func NewSubLSTM(hidden int) *LSTM { return &LSTM{Sub: true, Hidden: hidden} }

func (l *LSTM) Type() string {
	if l.Sub {
		return "sublstm"
	}
	return "lstm"
}

// gates is G, the number of H-row blocks of W, R and b.
func (l *LSTM) gates() int {
	if l.Sub && l.FixedForget {
		return 3
	}
	return 4
}

func (l *LSTM) Build(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s takes 1 input, got %d", l.Type(), len(in))
	}
	if len(in[0]) != 2 {
		return nil, fmt.Errorf("%s: input shape %v: expected a sequence [steps features] (reshape an image [1 28 28] to [28 28] to read it row by row)", l.Type(), in[0])
	}
	if l.Hidden <= 0 {
		return nil, fmt.Errorf("%s: hidden must be positive, got %d", l.Type(), l.Hidden)
	}
	if l.FixedForget && !l.Sub {
		return nil, fmt.Errorf("lstm: fixed_forget applies to sublstm only")
	}
	l.steps, l.in = in[0][0], in[0][1]
	gh := l.gates() * l.Hidden
	limit := 1 / math.Sqrt(float64(l.Hidden))
	l.w = NewParam("weight_ih", true, gh, l.in)
	l.r = NewParam("weight_hh", true, gh, l.Hidden)
	l.b = NewParam("bias", false, gh)
	for _, p := range []*Param{l.w, l.r, l.b} {
		fillUniform(p.Value, limit, rng)
	}
	l.f = nil
	if l.Sub && l.FixedForget {
		l.f = NewParam("forget", false, l.Hidden)
		for i := range l.f.Value.Data {
			l.f.Value.Data[i] = float32(0.5 + 0.5*rng.Float64())
		}
	}
	if l.Sequence {
		return []int{l.steps, l.Hidden}, nil
	}
	return []int{l.Hidden}, nil
}

func (l *LSTM) Params() []*Param {
	if l.f != nil {
		return []*Param{l.w, l.r, l.b, l.f}
	}
	return []*Param{l.w, l.r, l.b}
}

// lstmCache holds, time-major, what BPTT needs: the input, the gate activations and the cell and
// hidden states of every step.
type lstmCache struct {
	x    []float32 // [T N F]
	gate []float32 // [T N G*H] activations
	c, h []float32 // [T N H]
}

func sigm(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

func (l *LSTM) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	n, T, F, H, G := x.Shape[0], l.steps, l.in, l.Hidden, l.gates()
	gh := G * H
	cc := &lstmCache{
		x:    ctx.Alloc(T, n, F).Data,
		gate: ctx.Alloc(T, n, gh).Data,
		c:    ctx.Alloc(T, n, H).Data,
		h:    ctx.Alloc(T, n, H).Data,
	}
	// Time-major copy of the input, so that each step's rows are contiguous and the input
	// projection of all steps is one matrix product.
	for s := 0; s < n; s++ {
		for t := 0; t < T; t++ {
			copy(cc.x[(t*n+s)*F:(t*n+s+1)*F], x.Data[(s*T+t)*F:(s*T+t+1)*F])
		}
	}
	a := cc.gate
	for row := 0; row < T*n; row++ {
		copy(a[row*gh:(row+1)*gh], l.b.Value.Data)
	}
	tensor.Sgemm(false, true, T*n, gh, F, 1, cc.x, F, l.w.Value.Data, F, 1, a, gh)
	for t := 0; t < T; t++ {
		at := a[t*n*gh : (t+1)*n*gh]
		ct, ht := cc.c[t*n*H:(t+1)*n*H], cc.h[t*n*H:(t+1)*n*H]
		var cp []float32
		if t > 0 {
			tensor.Sgemm(false, true, n, gh, H, 1, cc.h[(t-1)*n*H:t*n*H], H, l.r.Value.Data, H, 1, at, gh)
			cp = cc.c[(t-1)*n*H : t*n*H]
		}
		for s := 0; s < n; s++ {
			row := at[s*gh : (s+1)*gh]
			for j, v := range row {
				if !l.Sub && j >= 2*H && j < 3*H {
					row[j] = float32(math.Tanh(float64(v)))
				} else {
					row[j] = sigm(v)
				}
			}
			for k := 0; k < H; k++ {
				var prev float32
				if cp != nil {
					prev = cp[s*H+k]
				}
				var c, h float32
				switch {
				case !l.Sub:
					i, f, g, o := row[k], row[H+k], row[2*H+k], row[3*H+k]
					c = f*prev + i*g
					h = o * float32(math.Tanh(float64(c)))
				case l.f != nil:
					i, z, o := row[k], row[H+k], row[2*H+k]
					f := min(max(l.f.Value.Data[k], 0), 1)
					c = f*prev + z - i
					h = sigm(c) - o
				default:
					i, f, z, o := row[k], row[H+k], row[2*H+k], row[3*H+k]
					c = f*prev + z - i
					h = sigm(c) - o
				}
				ct[s*H+k], ht[s*H+k] = c, h
			}
		}
	}
	var y *tensor.Tensor
	if l.Sequence {
		y = ctx.Alloc(n, T, H)
		for s := 0; s < n; s++ {
			for t := 0; t < T; t++ {
				copy(y.Data[(s*T+t)*H:(s*T+t+1)*H], cc.h[(t*n+s)*H:(t*n+s+1)*H])
			}
		}
	} else {
		y = ctx.Alloc(n, H)
		copy(y.Data, cc.h[(T-1)*n*H:])
	}
	return y, cc
}

func (l *LSTM) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	cc := cache.(*lstmCache)
	x := in[0]
	n, T, F, H, G := x.Shape[0], l.steps, l.in, l.Hidden, l.gates()
	gh := G * H
	da := ctx.Alloc(T, n, gh).Data // gradients of the pre-activations a, time-major
	dh := ctx.Zeros(n, H).Data     // dL/dh_t from later steps and the output
	dc := ctx.Zeros(n, H).Data     // dL/dc_t from later steps
	if !l.Sequence {
		copy(dh, dy.Data)
	}
	for t := T - 1; t >= 0; t-- {
		if l.Sequence {
			for s := 0; s < n; s++ {
				tensor.Axpy(1, dy.Data[(s*T+t)*H:(s*T+t+1)*H], dh[s*H:(s+1)*H])
			}
		}
		gt := cc.gate[t*n*gh : (t+1)*n*gh]
		dat := da[t*n*gh : (t+1)*n*gh]
		ct, ht := cc.c[t*n*H:(t+1)*n*H], cc.h[t*n*H:(t+1)*n*H]
		var cp []float32
		if t > 0 {
			cp = cc.c[(t-1)*n*H : t*n*H]
		}
		for s := 0; s < n; s++ {
			g := gt[s*gh : (s+1)*gh]
			d := dat[s*gh : (s+1)*gh]
			for k := 0; k < H; k++ {
				var prev float32
				if cp != nil {
					prev = cp[s*H+k]
				}
				j := s*H + k
				dhj, c := dh[j], ct[j]
				switch {
				case !l.Sub:
					i, f, gg, o := g[k], g[H+k], g[2*H+k], g[3*H+k]
					tc := float32(math.Tanh(float64(c)))
					dcj := dc[j] + dhj*o*(1-tc*tc)
					d[k] = dcj * gg * i * (1 - i)
					d[H+k] = dcj * prev * f * (1 - f)
					d[2*H+k] = dcj * i * (1 - gg*gg)
					d[3*H+k] = dhj * tc * o * (1 - o)
					dc[j] = dcj * f
				case l.f != nil:
					i, z, o := g[k], g[H+k], g[2*H+k]
					p := l.f.Value.Data[k]
					f := min(max(p, 0), 1)
					sc := ht[j] + o // sigmoid(c), since h = sigmoid(c) - o
					dcj := dc[j] + dhj*sc*(1-sc)
					d[k] = -dcj * i * (1 - i)
					d[H+k] = dcj * z * (1 - z)
					d[2*H+k] = -dhj * o * (1 - o)
					if p > 0 && p < 1 {
						l.f.Grad.Data[k] += dcj * prev
					}
					dc[j] = dcj * f
				default:
					i, f, z, o := g[k], g[H+k], g[2*H+k], g[3*H+k]
					sc := ht[j] + o
					dcj := dc[j] + dhj*sc*(1-sc)
					d[k] = -dcj * i * (1 - i)
					d[H+k] = dcj * prev * f * (1 - f)
					d[2*H+k] = dcj * z * (1 - z)
					d[3*H+k] = -dhj * o * (1 - o)
					dc[j] = dcj * f
				}
			}
		}
		// dh_{t-1} = da_t R (h_{-1} is the zero initial state: nothing to propagate).
		if t > 0 {
			tensor.Sgemm(false, false, n, H, gh, 1, dat, gh, l.r.Value.Data, H, 0, dh, H)
		}
	}
	// Parameter gradients over all steps at once: dW = da^T x, dR = da[1:]^T h[:-1], db = sum da.
	tensor.Sgemm(true, false, gh, F, T*n, 1, da, gh, cc.x, F, 1, l.w.Grad.Data, F)
	if T > 1 {
		tensor.Sgemm(true, false, gh, H, (T-1)*n, 1, da[n*gh:], gh, cc.h[:(T-1)*n*H], H, 1, l.r.Grad.Data, H)
	}
	bg := l.b.Grad.Data
	for row := 0; row < T*n; row++ {
		tensor.Axpy(1, da[row*gh:(row+1)*gh], bg)
	}
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	dxt := ctx.Alloc(T, n, F).Data
	tensor.Sgemm(false, false, T*n, F, gh, 1, da, gh, l.w.Value.Data, F, 0, dxt, F)
	dx := ctx.Alloc(x.Shape...)
	for s := 0; s < n; s++ {
		for t := 0; t < T; t++ {
			copy(dx.Data[(s*T+t)*F:(s*T+t+1)*F], dxt[(t*n+s)*F:(t*n+s+1)*F])
		}
	}
	return []*tensor.Tensor{dx}
}
