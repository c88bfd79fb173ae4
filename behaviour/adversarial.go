package behaviour

import (
	"fmt"
	"math"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// AttackConfig configures the minimal-perturbation search.
type AttackConfig struct {
	// Method is "fgsm" (Goodfellow et al. 2015: x + eps sign(grad_x loss)) or "pgd" (Madry et
	// al. 2018: Steps signed-gradient steps of 2.5 eps/Steps from x, each projected onto the
	// L-infinity ball of radius eps and onto [0,1]; no random start, so it is deterministic).
	Method string
	// MaxEps is the largest L-infinity radius tried, in [0,1] pixel units (default 0.25).
	MaxEps float64
	Steps  int // PGD steps (default 10)
	// Bisect is the number of bisection steps on eps between 0 and MaxEps (default 10).
	Bisect int
}

// AttackImage is the result for one attacked image (pixel units, [0,1] scale).
type AttackImage struct {
	Index, Label, Adv int     // image index in the set, true class, class after the attack
	Flipped           bool    // the decision changed at some eps <= MaxEps
	Eps               float64 // smallest flipping eps the bisection found
	L2, Linf          float64 // norms of the actual perturbation (adversarial - clean, after clipping)
}

// AttackResult summarises an attack over an image set: only images the model classifies
// correctly are attacked; norms are means and medians over the flipped ones.
type AttackResult struct {
	Method, Model, Data  string
	MaxEps               float64
	Images               int // images looked at
	Attacked             int // correctly classified, hence attacked
	Flipped              int
	MeanL2, MedianL2     float64
	MeanLinf, MedianLinf float64
	PerImage             []AttackImage
}

// MinimalAttack searches, for every correctly classified image of ds, the smallest
// L-infinity radius at which FGSM or PGD changes the model's decision (bisection on eps), and
// reports the L2 and L-infinity norms of that perturbation. The model's preprocessing may only
// normalise (the images must already have the model's input size); the gradient is taken
// with respect to the [0,1] pixels.
func MinimalAttack(c *Classifier, ds *datasets.Dataset, cfg AttackConfig) (*AttackResult, error) {
	if cfg.Method == "" {
		cfg.Method = "fgsm"
	}
	if cfg.Method != "fgsm" && cfg.Method != "pgd" {
		return nil, fmt.Errorf("attack: unknown method %q (fgsm or pgd)", cfg.Method)
	}
	if cfg.MaxEps == 0 {
		cfg.MaxEps = 0.25
	}
	if cfg.MaxEps < 0 || cfg.MaxEps > 1 {
		return nil, fmt.Errorf("attack: max eps %g outside (0,1]", cfg.MaxEps)
	}
	if cfg.Steps <= 0 {
		cfg.Steps = 10
	}
	if cfg.Bisect <= 0 {
		cfg.Bisect = 10
	}
	if ds == nil || ds.N == 0 || ds.Labels == nil {
		return nil, fmt.Errorf("attack: need a non-empty labelled image set")
	}
	shape := []int{ds.C, ds.H, ds.W}
	if !tensor.SameShape(shape, c.G.InputShape) {
		return nil, fmt.Errorf("attack: model %q takes %v, the images of %s are %v (resize them first)", c.G.Name, c.G.InputShape, ds.Name, shape)
	}
	var mean, std []float32
	if c.HasPre {
		p := c.Pre
		if p.Grey || (p.Crop != 0 && p.Crop != 1) || (p.Size != 0 && p.Size != ds.H) {
			return nil, fmt.Errorf("attack: model %q's preprocessing does more than normalise", c.G.Name)
		}
		if len(p.Mean) > 0 {
			mean, std = bcast(p.Mean, ds.C), bcast(p.Std, ds.C)
		}
	}
	a := &attacker{c: c, cfg: cfg, per: ds.ImageSize(), hw: ds.H * ds.W, mean: mean, std: std}
	res := &AttackResult{Method: cfg.Method, Model: c.G.Name, Data: ds.Name, MaxEps: cfg.MaxEps, Images: ds.N}
	bs := c.Batch
	if bs <= 0 {
		bs = 64
	}
	for lo := 0; lo < ds.N; lo += bs {
		m := min(bs, ds.N-lo)
		x := ds.X[lo*a.per : (lo+m)*a.per]
		pred, _, err := a.forward(x, nil)
		if err != nil {
			return nil, err
		}
		var idx []int
		var xs []float32
		var ys []int
		for i := range m {
			if pred[i] == ds.Labels[lo+i] {
				idx = append(idx, lo+i)
				xs = append(xs, x[i*a.per:(i+1)*a.per]...)
				ys = append(ys, ds.Labels[lo+i])
			}
		}
		if len(idx) == 0 {
			continue
		}
		imgs, err := a.minimal(xs, ys)
		if err != nil {
			return nil, err
		}
		for i := range imgs {
			imgs[i].Index = idx[i]
		}
		res.PerImage = append(res.PerImage, imgs...)
	}
	res.Attacked = len(res.PerImage)
	var l2, li []float64
	for _, im := range res.PerImage {
		if im.Flipped {
			res.Flipped++
			l2 = append(l2, im.L2)
			li = append(li, im.Linf)
		}
	}
	res.MeanL2, res.MedianL2 = mean64(l2), median(l2)
	res.MeanLinf, res.MedianLinf = mean64(li), median(li)
	return res, nil
}

func mean64(x []float64) float64 { return mean(x) }

func bcast(v []float32, c int) []float32 {
	if len(v) == c {
		return v
	}
	out := make([]float32, c)
	for i := range out {
		out[i] = v[0]
	}
	return out
}

type attacker struct {
	c         *Classifier
	cfg       AttackConfig
	per, hw   int
	mean, std []float32
}

// forward returns predictions for a batch of [0,1] images and, when labels is non-nil, the
// gradient of the cross-entropy loss with respect to those pixels.
func (a *attacker) forward(x []float32, labels []int) ([]int, []float32, error) {
	g := a.c.G
	m := len(x) / a.per
	in := append([]float32(nil), x...)
	if a.mean != nil {
		for i := range m {
			datasets.Normalize(in[i*a.per:(i+1)*a.per], len(a.mean), a.mean, a.std)
		}
	}
	ctx := nn.NewCtx(false, 0)
	ctx.Backward = labels != nil
	tr, err := g.Forward(ctx, tensor.FromData(in, append([]int{m}, g.InputShape...)...))
	if err != nil {
		return nil, nil, err
	}
	out := tr.Output()
	k := out.Len() / m
	pred := nn.Argmax(out.Reshape(m, k))
	if labels == nil {
		return pred, nil, nil
	}
	_, dl, _, err := nn.SoftmaxCrossEntropy(out.Reshape(m, k), labels)
	if err != nil {
		return nil, nil, err
	}
	tr.WantInputGrad()
	if err := tr.Backward(dl.Reshape(out.Shape...)); err != nil {
		return nil, nil, err
	}
	grad := append([]float32(nil), tr.InputGrad().Data...)
	g.ZeroGrad()
	if a.std != nil {
		for i := range m {
			for ch, s := range a.std {
				seg := grad[i*a.per+ch*a.hw : i*a.per+(ch+1)*a.hw]
				for j := range seg {
					seg[j] /= s
				}
			}
		}
	}
	return pred, grad, nil
}

func sign(v float32) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// perturb returns the adversarial images at radius eps[i] for each image.
func (a *attacker) perturb(x []float32, labels []int, g0 []float32, eps []float64) ([]float32, error) {
	adv := append([]float32(nil), x...)
	if a.cfg.Method == "fgsm" {
		for i := range eps {
			e := float32(eps[i])
			for j := i * a.per; j < (i+1)*a.per; j++ {
				adv[j] = clip(x[j] + e*sign(g0[j]))
			}
		}
		return adv, nil
	}
	g := g0
	for s := 0; s < a.cfg.Steps; s++ {
		if s > 0 {
			var err error
			if _, g, err = a.forward(adv, labels); err != nil {
				return nil, err
			}
		}
		for i := range eps {
			e := float32(eps[i])
			step := 2.5 * e / float32(a.cfg.Steps)
			for j := i * a.per; j < (i+1)*a.per; j++ {
				v := adv[j] + step*sign(g[j])
				v = min(max(v, x[j]-e), x[j]+e)
				adv[j] = clip(v)
			}
		}
	}
	return adv, nil
}

// minimal bisects eps per image.
func (a *attacker) minimal(x []float32, labels []int) ([]AttackImage, error) {
	m := len(labels)
	_, g0, err := a.forward(x, labels)
	if err != nil {
		return nil, err
	}
	lo, hi := make([]float64, m), make([]float64, m)
	for i := range hi {
		hi[i] = a.cfg.MaxEps
	}
	best := make([]float32, len(x))
	out := make([]AttackImage, m)
	// try attacks at radius eps and keeps, as the best so far, the flipped images of those
	// still being searched (all of them on the first call).
	try := func(eps []float64, first bool) ([]bool, error) {
		adv, err := a.perturb(x, labels, g0, eps)
		if err != nil {
			return nil, err
		}
		pred, _, err := a.forward(adv, nil)
		if err != nil {
			return nil, err
		}
		fl := make([]bool, m)
		for i := range m {
			fl[i] = pred[i] != labels[i]
			if fl[i] && (first || out[i].Flipped) {
				out[i].Adv = pred[i]
				copy(best[i*a.per:(i+1)*a.per], adv[i*a.per:(i+1)*a.per])
			}
		}
		return fl, nil
	}
	for i := range m {
		out[i].Label, out[i].Adv = labels[i], labels[i]
	}
	fl, err := try(hi, true)
	if err != nil {
		return nil, err
	}
	for i := range m {
		out[i].Flipped = fl[i]
	}
	for range a.cfg.Bisect {
		mid := make([]float64, m)
		for i := range m {
			mid[i] = (lo[i] + hi[i]) / 2
		}
		f, err := try(mid, false)
		if err != nil {
			return nil, err
		}
		for i := range m {
			if !out[i].Flipped {
				continue
			}
			if f[i] {
				hi[i] = mid[i]
			} else {
				lo[i] = mid[i]
			}
		}
	}
	for i := range m {
		if !out[i].Flipped {
			out[i].Eps = math.NaN()
			out[i].L2, out[i].Linf = math.NaN(), math.NaN()
			continue
		}
		out[i].Eps = hi[i]
		var s, mx float64
		for j := i * a.per; j < (i+1)*a.per; j++ {
			d := math.Abs(float64(best[j]) - float64(x[j]))
			s += d * d
			mx = math.Max(mx, d)
		}
		out[i].L2, out[i].Linf = math.Sqrt(s), mx
	}
	return out, nil
}
