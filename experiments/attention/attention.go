// Package attention implements feature-similarity gain attention (Lindsay and Miller 2018, "How
// biological attention mechanisms improve task performance in a large-scale visual system
// model", eLife 7:e38105) on any ventral model, and the experiment that measures what it does
// to category detection as a function of gain strength and of the layer where it acts.
//
// Tuning: for a layer's feature map k and category c, r_kc is the map's mean response (over
// positions and images) to category c's images, and
//
//	f_kc = (r_kc - mean_c' r_kc') / sqrt(mean_c' (r_kc' - mean_c'' r_kc'')^2)
//
// the map's response to c relative to its mean over categories, normalised by its spread
// across categories (maps that do not vary get 0). Attending to c at strength beta multiplies
// map k by gain_k = max(0, 1 + beta f_kc): maps that prefer c are boosted and the others
// suppressed. The gains sit in a fixed "gain" op inserted after the layer in a copy of the
// graph (Attend), so a gain of 1 is exactly the unattended model. As the gain is non-negative,
// applying it after a ReLU equals applying it before (Lindsay and Miller scale the input to
// the ReLU).
package attention

import (
	"fmt"
	"math"

	"encoding/json"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// GainSuffix names the gain node Attend inserts: LAYER + GainSuffix.
const GainSuffix = "_attention"

// Tuning is a layer's feature-similarity tuning: F[c][k] for category c and feature map k.
type Tuning struct {
	Layer string
	F     [][]float64
	// Mean[c][k] is r_kc, the mean response of map k to category c.
	Mean [][]float64
}

// batches runs g in inference on ds (normalised as the model's metadata says) and hands each
// batch's trace to fn with the index of its first image.
func batches(g *nn.Graph, ds *datasets.Dataset, batch int, keep []string, fn func(lo, m int, tr *nn.Trace) error) error {
	if batch <= 0 {
		batch = 128
	}
	if len(g.InputShape) != 3 || g.InputShape[0] != ds.C || g.InputShape[1] != ds.H || g.InputShape[2] != ds.W {
		return fmt.Errorf("model %q takes %v, the images of %s are [%d %d %d]", g.Name, g.InputShape, ds.Name, ds.C, ds.H, ds.W)
	}
	p, ok, err := stimuli.FromMeta(g)
	if err != nil {
		return err
	}
	per := ds.ImageSize()
	buf := make([]float32, batch*per)
	ctx := nn.NewCtx(false, 0)
	for lo := 0; lo < ds.N; lo += batch {
		m := min(batch, ds.N-lo)
		copy(buf, ds.X[lo*per:(lo+m)*per])
		if ok && len(p.Mean) == ds.C {
			for i := 0; i < m; i++ {
				datasets.Normalize(buf[i*per:(i+1)*per], ds.C, p.Mean, p.Std)
			}
		}
		ctx.Reset()
		tr, err := g.Forward(ctx, tensor.FromData(buf[:m*per], m, ds.C, ds.H, ds.W), keep...)
		if err != nil {
			return err
		}
		if err := fn(lo, m, tr); err != nil {
			return err
		}
	}
	return nil
}

// ComputeTuning measures layer's tuning to the classes of the labelled set ds.
func ComputeTuning(g *nn.Graph, layer string, ds *datasets.Dataset, batch int) (*Tuning, error) {
	n := g.Node(layer)
	if n == nil {
		return nil, fmt.Errorf("attention: model %s has no layer %q", g.Name, layer)
	}
	if !g.Built() {
		return nil, fmt.Errorf("attention: model %s is not built", g.Name)
	}
	if ds.Labels == nil || len(ds.Classes) < 2 {
		return nil, fmt.Errorf("attention: tuning needs a labelled set with at least 2 classes")
	}
	nc, k := len(ds.Classes), n.Shape[0]
	sum := make([][]float64, nc)
	for c := range sum {
		sum[c] = make([]float64, k)
	}
	count := make([]int, nc)
	err := batches(g, ds, 0, []string{layer}, func(lo, m int, tr *nn.Trace) error {
		y := tr.Out(layer)
		p := y.Len() / (m * k)
		for i := 0; i < m; i++ {
			c := ds.Labels[lo+i]
			count[c]++
			for ch := 0; ch < k; ch++ {
				var s float64
				for _, v := range y.Data[(i*k+ch)*p : (i*k+ch+1)*p] {
					s += float64(v)
				}
				sum[c][ch] += s / float64(p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := &Tuning{Layer: layer, F: make([][]float64, nc), Mean: sum}
	for c := range sum {
		if count[c] == 0 {
			return nil, fmt.Errorf("attention: class %s has no images in %s", ds.Classes[c], ds.Name)
		}
		for ch := range sum[c] {
			sum[c][ch] /= float64(count[c])
		}
		t.F[c] = make([]float64, k)
	}
	for ch := 0; ch < k; ch++ {
		var mu, v float64
		for c := range sum {
			mu += sum[c][ch]
		}
		mu /= float64(nc)
		for c := range sum {
			v += (sum[c][ch] - mu) * (sum[c][ch] - mu)
		}
		sd := math.Sqrt(v / float64(nc))
		if sd < 1e-12 {
			continue
		}
		for c := range sum {
			t.F[c][ch] = (sum[c][ch] - mu) / sd
		}
	}
	return t, nil
}

// Gains returns max(0, 1 + beta f) for a tuning vector f.
func Gains(f []float64, beta float64) []float32 {
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(max(0, 1+beta*v))
	}
	return out
}

// Attended is a copy of a model with a gain op after one layer.
type Attended struct {
	Graph *nn.Graph
	Layer string
	gain  *nn.Scale
}

// Attend returns a built copy of g (same weights and buffers) with a fixed per-channel gain op
// after layer, named layer+GainSuffix; every consumer of layer reads the gain instead. The gains
// start at 1 (no attention). g must be built.
func Attend(g *nn.Graph, layer string) (*Attended, error) {
	if !g.Built() {
		return nil, fmt.Errorf("attention: model %s is not built", g.Name)
	}
	n := g.Node(layer)
	if n == nil {
		return nil, fmt.Errorf("attention: model %s has no layer %q", g.Name, layer)
	}
	if len(n.Shape) != 3 {
		return nil, fmt.Errorf("attention: layer %s has shape %v; feature-similarity gain needs feature maps [C H W]", layer, n.Shape)
	}
	gname := layer + GainSuffix
	if g.Node(gname) != nil {
		return nil, fmt.Errorf("attention: model %s already has a layer %s", g.Name, gname)
	}
	js, err := g.SpecJSON()
	if err != nil {
		return nil, err
	}
	var sp map[string]any
	if err := json.Unmarshal(js, &sp); err != nil {
		return nil, err
	}
	layers := sp["layers"].([]any)
	var out []any
	for _, l := range layers {
		m := l.(map[string]any)
		if ins, ok := m["inputs"].([]any); ok {
			for i, in := range ins {
				switch in {
				case layer:
					ins[i] = gname
				case layer + nn.PrevSuffix:
					ins[i] = gname + nn.PrevSuffix
				}
			}
		}
		out = append(out, m)
		if m["name"] == layer {
			out = append(out, map[string]any{"name": gname, "type": "gain", "inputs": []string{layer}, "fixed": true})
		}
	}
	sp["layers"] = out
	if sp["output"] == layer {
		sp["output"] = gname
	}
	js, err = json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	h, err := nn.ParseSpec(js, "attention "+g.Name)
	if err != nil {
		return nil, err
	}
	if err := h.Build(g.Seed()); err != nil {
		return nil, err
	}
	dst := train.ModelTensors(h)
	for name, t := range train.ModelTensors(g) {
		d, ok := dst[name]
		if !ok || !tensor.SameShape(d.Shape, t.Shape) {
			return nil, fmt.Errorf("attention: tensor %s does not carry over to the attended copy", name)
		}
		copy(d.Data, t.Data)
	}
	return &Attended{Graph: h, Layer: layer, gain: h.Node(gname).Op.(*nn.Scale)}, nil
}

// SetGains sets the per-channel gains (len = the layer's channels).
func (a *Attended) SetGains(g []float32) error {
	t := a.gain.Gain()
	if len(g) != len(t.Data) {
		return fmt.Errorf("attention: %d gains for %d channels of %s", len(g), len(t.Data), a.Layer)
	}
	copy(t.Data, g)
	return nil
}

// Attend sets the gains for attending to category c of tuning t at strength beta.
func (a *Attended) Attend(t *Tuning, c int, beta float64) error {
	if c < 0 || c >= len(t.F) {
		return fmt.Errorf("attention: category %d out of range", c)
	}
	return a.SetGains(Gains(t.F[c], beta))
}

// Logits runs the (attended) model on ds and returns the output rows [N][classes].
func Logits(g *nn.Graph, ds *datasets.Dataset, batch int) ([][]float32, error) {
	out := make([][]float32, ds.N)
	err := batches(g, ds, batch, nil, func(lo, m int, tr *nn.Trace) error {
		y := tr.Output()
		k := y.Len() / m
		for i := 0; i < m; i++ {
			out[lo+i] = append([]float32(nil), y.Data[i*k:(i+1)*k]...)
		}
		return nil
	})
	return out, err
}
