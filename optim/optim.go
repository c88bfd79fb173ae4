// Package optim updates an nn graph's parameters from their gradients: SGD (momentum,
// Nesterov), Adam and AdamW, with L2 or decoupled weight decay, global-norm gradient clipping
// and per-step learning-rate schedules.
//
// The update rules follow PyTorch's torch.optim.SGD, torch.optim.Adam and torch.optim.AdamW
// (dampening 0, amsgrad off), so hyper-parameters carry over from published training recipes.
// Weight decay applies only to parameters with Decay set. After every update each parameter's
// Constraint is applied.
package optim

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// StatePrefix starts the names of optimizer state tensors in checkpoints.
const StatePrefix = "optim/"

// Config selects and parameterises an optimizer. Zero fields take the defaults listed.
type Config struct {
	// Name is "sgd" (default), "adam" or "adamw".
	Name string `json:"name"`
	// LR is the base learning rate (default 0.01 for SGD, 0.001 for Adam and AdamW); a
	// Schedule scales it per step.
	LR float64 `json:"lr"`
	// Momentum for SGD (0: plain SGD).
	Momentum float64 `json:"momentum,omitempty"`
	// Nesterov uses Nesterov momentum (SGD; needs Momentum > 0).
	Nesterov bool `json:"nesterov,omitempty"`
	// Beta1, Beta2, Eps for Adam and AdamW (defaults 0.9, 0.999, 1e-8).
	Beta1 float64 `json:"beta1,omitempty"`
	Beta2 float64 `json:"beta2,omitempty"`
	Eps   float64 `json:"eps,omitempty"`
	// WeightDecay is an L2 penalty added to the gradient for SGD and Adam, and decoupled
	// decay (p -= lr*wd*p) for AdamW. It applies only to parameters with Decay set.
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// ClipNorm > 0 rescales all gradients together so their global L2 norm is at most ClipNorm.
	ClipNorm float64 `json:"clip_norm,omitempty"`
}

// Defaults returns c with zero fields set to their defaults.
func (c Config) Defaults() Config {
	c.Name = strings.ToLower(c.Name)
	if c.Name == "" {
		c.Name = "sgd"
	}
	if c.LR == 0 {
		if c.Name == "sgd" {
			c.LR = 0.01
		} else {
			c.LR = 0.001
		}
	}
	if c.Name != "sgd" {
		if c.Beta1 == 0 {
			c.Beta1 = 0.9
		}
		if c.Beta2 == 0 {
			c.Beta2 = 0.999
		}
		if c.Eps == 0 {
			c.Eps = 1e-8
		}
	}
	return c
}

// Validate reports an unusable configuration.
func (c Config) Validate() error {
	switch c.Name {
	case "sgd", "adam", "adamw":
	default:
		return fmt.Errorf("optim: unknown optimizer %q (expected sgd, adam or adamw)", c.Name)
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		return fmt.Errorf("optim: learning rate must be positive and finite, got %v", c.LR)
	}
	if c.Momentum < 0 || c.Momentum >= 1 {
		return fmt.Errorf("optim: momentum must be in [0,1), got %v", c.Momentum)
	}
	if c.Nesterov && (c.Name != "sgd" || c.Momentum == 0) {
		return fmt.Errorf("optim: nesterov needs sgd with momentum > 0")
	}
	if c.Name != "sgd" && (c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1 || c.Eps <= 0) {
		return fmt.Errorf("optim: need 0 <= beta1, beta2 < 1 and eps > 0, got %v, %v, %v", c.Beta1, c.Beta2, c.Eps)
	}
	if c.WeightDecay < 0 {
		return fmt.Errorf("optim: weight decay must be >= 0, got %v", c.WeightDecay)
	}
	if c.ClipNorm < 0 {
		return fmt.Errorf("optim: clip norm must be >= 0, got %v", c.ClipNorm)
	}
	return nil
}

// Optimizer holds per-parameter state (keyed by parameter name) and applies updates.
type Optimizer struct {
	cfg   Config
	step  int
	state map[string]map[string]*tensor.Tensor // param name -> buffer name -> tensor
}

// New returns an optimizer for cfg (defaults filled in).
func New(cfg Config) (*Optimizer, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Optimizer{cfg: cfg, state: map[string]map[string]*tensor.Tensor{}}, nil
}

// Config returns the optimizer's configuration, defaults filled in.
func (o *Optimizer) Config() Config { return o.cfg }

// Steps is the number of updates applied so far.
func (o *Optimizer) Steps() int { return o.step }

func (o *Optimizer) buf(p *nn.Param, name string) (*tensor.Tensor, bool) {
	m := o.state[p.Name]
	if m == nil {
		m = map[string]*tensor.Tensor{}
		o.state[p.Name] = m
	}
	t := m[name]
	if t == nil {
		t = tensor.New(p.Value.Shape...)
		m[name] = t
		return t, true
	}
	return t, false
}

// Step clips the gradients (when ClipNorm > 0), applies one update with learning rate lr,
// and applies each parameter's Constraint. It returns the global gradient norm before clipping
// (computed only when clipping; 0 otherwise). Gradients are left as they are (scaled if
// clipped): clear them with the graph's ZeroGrad before the next backward pass.
func (o *Optimizer) Step(params []*nn.Param, lr float64) (float64, error) {
	if math.IsNaN(lr) || math.IsInf(lr, 0) || lr < 0 {
		return 0, fmt.Errorf("optim: learning rate %v", lr)
	}
	for _, p := range params {
		if p.Grad == nil || len(p.Grad.Data) != len(p.Value.Data) {
			return 0, fmt.Errorf("optim: parameter %q has no gradient of its size", p.Name)
		}
	}
	var norm float64
	if o.cfg.ClipNorm > 0 {
		norm = ClipGradNorm(params, o.cfg.ClipNorm)
	}
	o.step++
	c := o.cfg
	for _, p := range params {
		wd := 0.0
		if p.Decay {
			wd = c.WeightDecay
		}
		switch c.Name {
		case "sgd":
			o.sgd(p, lr, wd)
		case "adam":
			o.adam(p, lr, wd, false)
		case "adamw":
			o.adam(p, lr, wd, true)
		}
		if p.Constraint != nil {
			p.Constraint.Apply(p.Value)
		}
	}
	return norm, nil
}

// sgd follows torch.optim.SGD with dampening 0:
//
//	g = grad + wd*p
//	b = g (first step), b = mu*b + g (later)
//	g = g + mu*b (Nesterov) or g = b
//	p = p - lr*g
func (o *Optimizer) sgd(p *nn.Param, lr, wd float64) {
	mu := o.cfg.Momentum
	w, gr := p.Value.Data, p.Grad.Data
	if mu == 0 {
		for i, g := range gr {
			gi := float64(g) + wd*float64(w[i])
			w[i] = float32(float64(w[i]) - lr*gi)
		}
		return
	}
	b, fresh := o.buf(p, "momentum_buffer")
	bd := b.Data
	for i, g := range gr {
		gi := float64(g) + wd*float64(w[i])
		var bi float64
		if fresh {
			bi = gi
		} else {
			bi = mu*float64(bd[i]) + gi
		}
		bd[i] = float32(bi)
		if o.cfg.Nesterov {
			gi += mu * bi
		} else {
			gi = bi
		}
		w[i] = float32(float64(w[i]) - lr*gi)
	}
}

// adam follows torch.optim.Adam (decoupled=false: g = grad + wd*p) and torch.optim.AdamW
// (decoupled=true: p = p*(1 - lr*wd) first), amsgrad off:
//
//	m = b1*m + (1-b1)*g
//	v = b2*v + (1-b2)*g^2
//	p = p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
func (o *Optimizer) adam(p *nn.Param, lr, wd float64, decoupled bool) {
	c := o.cfg
	m, _ := o.buf(p, "exp_avg")
	v, _ := o.buf(p, "exp_avg_sq")
	t := float64(o.step)
	bc1 := 1 - math.Pow(c.Beta1, t)
	bc2 := math.Sqrt(1 - math.Pow(c.Beta2, t))
	// tensor.AdamUpdate vectorises the float64 arithmetic above (same bits as a scalar loop).
	tensor.AdamUpdate(p.Value.Data, p.Grad.Data, m.Data, v.Data, tensor.AdamParams{
		Beta1: c.Beta1, Beta2: c.Beta2, WD: wd, Decay: 1 - lr*wd, Decoupled: decoupled,
		StepSize: lr / bc1, BC2: bc2, Eps: c.Eps,
	})
}

// ClipGradNorm rescales the gradients of params together so that their global L2 norm is at
// most maxNorm (as torch.nn.utils.clip_grad_norm_, with its 1e-6 guard), and returns the norm
// before clipping.
func ClipGradNorm(params []*nn.Param, maxNorm float64) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.Grad.Data {
			s += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(s)
	coef := maxNorm / (norm + 1e-6)
	if coef < 1 {
		for _, p := range params {
			for i, g := range p.Grad.Data {
				p.Grad.Data[i] = float32(float64(g) * coef)
			}
		}
	}
	return norm
}

// State exports the optimizer's state as named tensors for a checkpoint:
// "optim/step" (a one-element tensor) and "optim/<param>.<buffer>" with PyTorch's buffer names
// (momentum_buffer, exp_avg, exp_avg_sq). float32 holds step counts exactly up to 2^24.
func (o *Optimizer) State() map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{
		StatePrefix + "step": tensor.FromData([]float32{float32(o.step)}, 1),
	}
	for pn, m := range o.state {
		for bn, t := range m {
			out[StatePrefix+pn+"."+bn] = t.Clone()
		}
	}
	return out
}

// LoadState restores state exported by State. Tensors whose names do not start with
// StatePrefix are ignored, so a whole checkpoint may be passed. Every buffer must belong to one
// of params and match its shape, and the buffers must be those this optimizer's kind keeps.
func (o *Optimizer) LoadState(state map[string]*tensor.Tensor, params []*nn.Param) error {
	byName := map[string]*nn.Param{}
	for _, p := range params {
		byName[p.Name] = p
	}
	want := map[string]bool{}
	switch {
	case o.cfg.Name == "sgd" && o.cfg.Momentum > 0:
		want["momentum_buffer"] = true
	case o.cfg.Name == "adam" || o.cfg.Name == "adamw":
		want["exp_avg"], want["exp_avg_sq"] = true, true
	}
	st, ok := state[StatePrefix+"step"]
	if !ok || len(st.Data) != 1 {
		return fmt.Errorf("optim: state has no %q", StatePrefix+"step")
	}
	newState := map[string]map[string]*tensor.Tensor{}
	names := make([]string, 0, len(state))
	for k := range state {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		rest, ok := strings.CutPrefix(k, StatePrefix)
		if !ok || rest == "step" {
			continue
		}
		dot := strings.LastIndexByte(rest, '.')
		if dot < 0 {
			return fmt.Errorf("optim: state tensor %q is not <param>.<buffer>", k)
		}
		pn, bn := rest[:dot], rest[dot+1:]
		if !want[bn] {
			return fmt.Errorf("optim: state tensor %q: a %s optimizer keeps no %q buffer", k, o.cfg.Name, bn)
		}
		p, ok := byName[pn]
		if !ok {
			return fmt.Errorf("optim: state tensor %q: no parameter %q", k, pn)
		}
		t := state[k]
		if !tensor.SameShape(t.Shape, p.Value.Shape) {
			return fmt.Errorf("optim: state tensor %q has shape %v, parameter has %v", k, t.Shape, p.Value.Shape)
		}
		if newState[pn] == nil {
			newState[pn] = map[string]*tensor.Tensor{}
		}
		newState[pn][bn] = t.Clone()
	}
	step := st.Data[0]
	if step < 0 || step != float32(int(step)) {
		return fmt.Errorf("optim: state step %v is not a count", step)
	}
	o.step = int(step)
	o.state = newState
	return nil
}

// String describes the configuration on one line, e.g. "sgd lr=0.01 momentum=0.9".
func (c Config) String() string {
	c = c.Defaults()
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	s := c.Name + " lr=" + f(c.LR)
	if c.Name == "sgd" && c.Momentum > 0 {
		s += " momentum=" + f(c.Momentum)
		if c.Nesterov {
			s += " nesterov"
		}
	}
	if c.Name != "sgd" {
		s += " betas=" + f(c.Beta1) + "," + f(c.Beta2) + " eps=" + f(c.Eps)
	}
	if c.WeightDecay > 0 {
		s += " weight_decay=" + f(c.WeightDecay)
	}
	if c.ClipNorm > 0 {
		s += " clip_norm=" + f(c.ClipNorm)
	}
	return s
}
