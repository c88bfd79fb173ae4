package rules

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// Layer-local unsupervised learning for convolutions: each filter is a unit that sees image
// patches (the layer's receptive fields on the output of the layers below, already trained)
// and learns by a Hebbian rule, without labels and without any error from above; layers train
// one after another, bottom up, as in the neocognitron's competitive self-organisation
// (Fukushima 1980). A readout trained by backpropagation on the frozen features then measures
// what they are good for (HebbianNet, and the learning-rules experiment).
//
// With x a patch, W the filters (rows w_k) and u = W x the responses, the two rules are
//
//   - "oja": Sanger's generalised Hebbian algorithm (1989), Oja's rule (1982) for several units:
//     dW = eta (u x^T - LT(u u^T) W), LT the lower triangle with the diagonal. Filter 1 converges
//     to the first principal component of the patches (of their second moment: the covariance
//     for zero-mean patches), filter k to the k-th.
//   - "wta": soft winner-take-all Hebbian learning with Oja's decay (the SoftHebb rule of Journe
//     et al. 2023): y = softmax(cos(w_k, x) / T), dw_k = eta y_k (x - u_k w_k). Units compete for
//     patches; each converges to a unit vector along the centre of the patches it wins, so on
//     clustered data the filters are the cluster directions (soft k-means on the sphere). The
//     competition runs on cosines so that one temperature serves every layer.
//
// The step eta is LR / E|x|^2 over the batch of patches, so one setting serves inputs of any
// scale; it decays linearly to zero over a layer's training. The rules see centred patches
// (x minus the running mean of the patches seen so far): without centring, patches of
// non-negative inputs (a ReLU layer's output) all point near their common mean and every
// filter learns that one direction. The layer's bias is set to -W m at the end, so that it
// computes W (x - m) as trained. Oja's
// filters start from the layer's random initialisation scaled to unit norm; winner-take-all
// filters start at patches of the first batch chosen as k-means++ does (each next one drawn
// with probability growing with its angular distance from those chosen; Arthur and
// Vassilvitskii 2007): a random direction in a high-dimensional patch space wins almost no
// patch and would never learn.

// HebbConfig sets up Hebbian training. Zero fields take the defaults given.
type HebbConfig struct {
	Rule        string  // "wta" (default) or "oja"
	Epochs      int     // passes over the images per layer (default 1)
	Batch       int     // images per update (default 32)
	Patches     int     // patches drawn at random positions per image and update (default 16)
	LR          float64 // default 0.2 (see above)
	Temperature float64 // wta softmax temperature over cosines (default 0.1)
	Seed        uint64
	// Mean and Std normalise the images per channel as the supervised readout's run does.
	Mean, Std []float32
}

func (c HebbConfig) defaults() HebbConfig {
	if c.Rule == "" {
		c.Rule = "wta"
	}
	if c.Epochs <= 0 {
		c.Epochs = 1
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.Patches <= 0 {
		c.Patches = 16
	}
	if c.LR <= 0 {
		c.LR = 0.2
	}
	if c.Temperature <= 0 {
		c.Temperature = 0.1
	}
	return c
}

// HebbianLayers lists the conv2d layers that precede the first dense layer: the feature
// extractor a Hebbian rule trains.
func HebbianLayers(g *nn.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		switch n.Op.(type) {
		case *nn.Dense:
			return out
		case *nn.Conv2D:
			out = append(out, n.Name)
		}
	}
	return out
}

// HebbianNet returns base's feature extractor (its layers up to the input of its first dense
// layer) with a fresh linear readout ("readout", classes outputs) on the flattened features,
// built from seed; the graph's metadata freezes everything before the readout (MetaFreezeUntil),
// so a training run (package train) fits the readout alone.
func HebbianNet(base *nn.Graph, classes int, seed uint64) (*nn.Graph, error) {
	js, err := base.SpecJSON()
	if err != nil {
		return nil, err
	}
	var sp map[string]any
	if err := json.Unmarshal(js, &sp); err != nil {
		return nil, err
	}
	raw, _ := sp["layers"].([]any)
	var layers []any
	feature := ""
	for _, l := range raw {
		m := l.(map[string]any)
		if m["type"] == "dense" {
			ins, _ := m["inputs"].([]any)
			if len(ins) != 1 {
				return nil, fmt.Errorf("hebbian %s: dense layer %v has %d inputs, expected 1", base.Name, m["name"], len(ins))
			}
			feature, _ = ins[0].(string)
			break
		}
		layers = append(layers, m)
	}
	if feature == "" || feature == nn.InputName {
		return nil, fmt.Errorf("hebbian %s: no convolutional feature extractor before a dense layer", base.Name)
	}
	// Keep only what the features depend on (a chain model: everything before them).
	var kept []any
	for _, l := range layers {
		kept = append(kept, l)
		if l.(map[string]any)["name"] == feature {
			break
		}
	}
	kept = append(kept, map[string]any{"name": "readout", "type": "dense", "out": classes, "inputs": []any{feature}})
	sp["layers"] = kept
	sp["output"] = "readout"
	sp["name"] = base.Name + "-hebbian"
	meta := map[string]string{}
	for k, v := range base.Meta {
		meta[k] = v
	}
	meta[MetaFreezeUntil] = feature
	sp["meta"] = meta
	b, err := json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	g, err := nn.ParseSpec(b, base.Name+" (hebbian)")
	if err != nil {
		return nil, fmt.Errorf("hebbian %s: %w", base.Name, err)
	}
	if err := g.Build(seed); err != nil {
		return nil, fmt.Errorf("hebbian %s: %w", base.Name, err)
	}
	return g, nil
}

// HebbLayerResult summarises one layer's training.
type HebbLayerResult struct {
	Layer   string
	Updates int
	// Change is the mean over filters of 1 - |cos| between the filters before and after the
	// last epoch (0: converged).
	Change float64
	// Norm is the mean filter norm at the end (about 1 once converged).
	Norm float64
}

// TrainHebbian trains the named conv2d layers of g (default HebbianLayers) in order, each on
// the images of data passed through the layers below it.
func TrainHebbian(g *nn.Graph, data *datasets.Dataset, layers []string, cfg HebbConfig, log io.Writer) ([]HebbLayerResult, error) {
	cfg = cfg.defaults()
	if cfg.Rule != "wta" && cfg.Rule != "oja" {
		return nil, fmt.Errorf("hebbian: rule %q (expected wta or oja)", cfg.Rule)
	}
	if !g.Built() {
		return nil, fmt.Errorf("hebbian %s: the model must be built", g.Name)
	}
	if data == nil || data.N == 0 {
		return nil, fmt.Errorf("hebbian %s: no images", g.Name)
	}
	if layers == nil {
		layers = HebbianLayers(g)
	}
	ld, err := datasets.NewLoader(data, datasets.LoaderConfig{Batch: cfg.Batch, Seed: cfg.Seed, Shuffle: true, Mean: cfg.Mean, Std: cfg.Std})
	if err != nil {
		return nil, fmt.Errorf("hebbian %s: %w", g.Name, err)
	}
	var res []HebbLayerResult
	for li, name := range layers {
		n := g.Node(name)
		if n == nil {
			return nil, fmt.Errorf("hebbian %s: no layer %q", g.Name, name)
		}
		cv, ok := n.Op.(*nn.Conv2D)
		if !ok {
			return nil, fmt.Errorf("hebbian %s: layer %q is %s, not conv2d", g.Name, name, n.Op.Type())
		}
		if cv.Groups > 1 || len(n.Inputs) != 1 {
			return nil, fmt.Errorf("hebbian %s: layer %q: grouped or multi-input convolutions are not supported", g.Name, name)
		}
		w := cv.Weight().Value
		k, d := w.Shape[0], w.Len()/w.Shape[0]
		normalizeRows(w.Data, k, d)
		if b := cv.Bias(); b != nil {
			b.Value.Zero()
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(li)+0x4ebb))
		total := cfg.Epochs * ld.NumBatches()
		step := 0
		var before []float32
		mean := make([]float64, d)
		for ep := 0; ep < cfg.Epochs; ep++ {
			before = append(before[:0], w.Data...)
			for b := range ld.Epoch(ep) {
				x := tensor.FromData(b.X, b.N, b.C, b.H, b.W)
				ctx := nn.NewCtx(false, 0)
				in, err := inputOf(g, ctx, x, n.Inputs[0])
				if err != nil {
					return nil, err
				}
				patches := samplePatches(in, cv, cfg.Patches, rng)
				centre(patches, mean, step)
				if step == 0 && cfg.Rule == "wta" {
					seedFilters(w.Data, patches, k, d, rng)
					before = append(before[:0], w.Data...)
				}
				lr := cfg.LR * (1 - float64(step)/float64(total))
				if cfg.Rule == "oja" {
					ojaStep(w.Data, patches, k, d, lr)
				} else {
					wtaStep(w.Data, patches, k, d, lr, cfg.Temperature)
				}
				step++
			}
		}
		if b := cv.Bias(); b != nil {
			for i := 0; i < k; i++ {
				var v float64
				for j := 0; j < d; j++ {
					v -= float64(w.Data[i*d+j]) * mean[j]
				}
				b.Value.Data[i] = float32(v)
			}
		}
		r := HebbLayerResult{Layer: name, Updates: step}
		for i := 0; i < k; i++ {
			a, b := before[i*d:(i+1)*d], w.Data[i*d:(i+1)*d]
			r.Change += 1 - math.Abs(cosine(a, b))
			r.Norm += math.Sqrt(dot(b, b))
		}
		r.Change /= float64(k)
		r.Norm /= float64(k)
		if log != nil {
			fmt.Fprintf(log, "hebbian %s (%s): %d updates, mean filter norm %.3f, last-epoch change %.2g\n", name, cfg.Rule, step, r.Norm, r.Change)
		}
		res = append(res, r)
	}
	return res, nil
}

// inputOf computes node target's output in inference mode, running only what it depends on.
func inputOf(g *nn.Graph, ctx *nn.Ctx, x *tensor.Tensor, target string) (*tensor.Tensor, error) {
	if target == nn.InputName {
		return x, nil
	}
	tr, err := g.Forward(ctx, x, target)
	if err != nil {
		return nil, err
	}
	return tr.Out(target), nil
}

// samplePatches draws per image p receptive fields of cv at random output positions, laid out
// as the weight's rows ([C, KH, KW]), zero where they cross the padding.
func samplePatches(in *tensor.Tensor, cv *nn.Conv2D, p int, rng *rand.Rand) *tensor.Tensor {
	n, c, h, wd := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
	kh, kw := cv.Kernel.HW(1)
	sh, sw := cv.Stride.HW(1)
	ph, pw := cv.Pad.HW(0)
	dh, dw := cv.Dilation.HW(1)
	oh, ow := tensor.ConvOut(h, kh, ph, sh, dh), tensor.ConvOut(wd, kw, pw, sw, dw)
	d := c * kh * kw
	out := tensor.New(n*p, d)
	for s := 0; s < n; s++ {
		img := in.Data[s*c*h*wd : (s+1)*c*h*wd]
		for q := 0; q < p; q++ {
			oy, ox := rng.IntN(oh), rng.IntN(ow)
			row := out.Data[(s*p+q)*d : (s*p+q+1)*d]
			for ch := 0; ch < c; ch++ {
				for i := 0; i < kh; i++ {
					y := oy*sh - ph + i*dh
					if y < 0 || y >= h {
						continue
					}
					for j := 0; j < kw; j++ {
						xx := ox*sw - pw + j*dw
						if xx < 0 || xx >= wd {
							continue
						}
						row[ch*kh*kw+i*kw+j] = img[ch*h*wd+y*wd+xx]
					}
				}
			}
		}
	}
	return out
}

// ojaStep applies Sanger's rule to W (k x d) for the m x d patches X:
// dW = eta/m (U^T X - LT(U^T U) W), U = X W^T, eta = lr / mean |x|^2.
func ojaStep(w []float32, x *tensor.Tensor, k, d int, lr float64) {
	m := x.Shape[0]
	u := make([]float32, m*k)
	tensor.Sgemm(false, true, m, k, d, 1, x.Data, d, w, d, 0, u, k)
	eta := lr / meanSq(x.Data, m)
	gram := make([]float32, k*k)
	tensor.Sgemm(true, false, k, k, m, 1, u, k, u, k, 0, gram, k)
	for i := 0; i < k; i++ {
		for j := i + 1; j < k; j++ {
			gram[i*k+j] = 0
		}
	}
	dw := make([]float32, k*d)
	tensor.Sgemm(true, false, k, d, m, 1, u, k, x.Data, d, 0, dw, d)
	tensor.Sgemm(false, false, k, d, k, -1, gram, k, w, d, 1, dw, d)
	tensor.Axpy(float32(eta/float64(m)), dw, w)
}

// wtaStep applies the soft winner-take-all rule: y = softmax_k(cos(w_k, x)/T),
// dw_k = eta/m sum_x y_k (x - u_k w_k).
func wtaStep(w []float32, x *tensor.Tensor, k, d int, lr, temp float64) {
	m := x.Shape[0]
	u := make([]float32, m*k)
	tensor.Sgemm(false, true, m, k, d, 1, x.Data, d, w, d, 0, u, k)
	eta := lr / meanSq(x.Data, m)
	wn := make([]float64, k)
	for i := 0; i < k; i++ {
		wn[i] = math.Sqrt(dot(w[i*d:(i+1)*d], w[i*d:(i+1)*d])) + 1e-12
	}
	y := make([]float32, m*k)
	decay := make([]float64, k)
	for s := 0; s < m; s++ {
		xs := x.Data[s*d : (s+1)*d]
		xn := math.Sqrt(dot(xs, xs)) + 1e-12
		mx := math.Inf(-1)
		for i := 0; i < k; i++ {
			mx = math.Max(mx, float64(u[s*k+i])/(wn[i]*xn*temp))
		}
		var sum float64
		for i := 0; i < k; i++ {
			e := math.Exp(float64(u[s*k+i])/(wn[i]*xn*temp) - mx)
			y[s*k+i] = float32(e)
			sum += e
		}
		for i := 0; i < k; i++ {
			y[s*k+i] = float32(float64(y[s*k+i]) / sum)
			decay[i] += float64(y[s*k+i]) * float64(u[s*k+i])
		}
	}
	dw := make([]float32, k*d)
	tensor.Sgemm(true, false, k, d, m, 1, y, k, x.Data, d, 0, dw, d)
	for i := 0; i < k; i++ {
		tensor.Axpy(float32(-decay[i]), w[i*d:(i+1)*d], dw[i*d:(i+1)*d])
	}
	tensor.Axpy(float32(eta/float64(m)), dw, w)
}

func meanSq(x []float32, m int) float64 {
	s := dot(x, x) / float64(m)
	if s <= 0 {
		return 1
	}
	return s
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func cosine(a, b []float32) float64 {
	na, nb := math.Sqrt(dot(a, a)), math.Sqrt(dot(b, b))
	if na == 0 || nb == 0 {
		return 0
	}
	return dot(a, b) / (na * nb)
}

func normalizeRows(w []float32, k, d int) {
	for i := 0; i < k; i++ {
		r := w[i*d : (i+1)*d]
		n := math.Sqrt(dot(r, r))
		if n == 0 {
			continue
		}
		for j := range r {
			r[j] = float32(float64(r[j]) / n)
		}
	}
}

// seedFilters sets the k filters to unit-norm patches chosen k-means++ style on the sphere: the
// first uniformly among the non-zero patches, each next with probability proportional to
// (1 - max cos)^2 with those already chosen.
func seedFilters(w []float32, x *tensor.Tensor, k, d int, rng *rand.Rand) {
	m := x.Shape[0]
	var cand []int
	for s := 0; s < m; s++ {
		if r := x.Data[s*d : (s+1)*d]; dot(r, r) > 0 {
			cand = append(cand, s)
		}
	}
	if len(cand) == 0 {
		return
	}
	best := make([]float64, len(cand)) // max cosine with a chosen filter
	for i := range best {
		best[i] = -1
	}
	pick := cand[rng.IntN(len(cand))]
	for f := 0; f < k; f++ {
		copy(w[f*d:(f+1)*d], x.Data[pick*d:(pick+1)*d])
		normalizeRows(w[f*d:(f+1)*d], 1, d)
		var total float64
		wt := make([]float64, len(cand))
		for i, s := range cand {
			best[i] = math.Max(best[i], cosine(x.Data[s*d:(s+1)*d], w[f*d:(f+1)*d]))
			wt[i] = (1 - best[i]) * (1 - best[i])
			total += wt[i]
		}
		if total <= 0 {
			pick = cand[rng.IntN(len(cand))]
			continue
		}
		r := rng.Float64() * total
		for i, v := range wt {
			r -= v
			if r <= 0 {
				pick = cand[i]
				break
			}
		}
	}
}

// centre folds the batch's mean patch into the running mean (the mean of the batch means, over
// step+1 batches of equal size) and subtracts the updated mean from every patch.
func centre(x *tensor.Tensor, mean []float64, step int) {
	m, d := x.Shape[0], x.Shape[1]
	bm := make([]float64, d)
	for s := 0; s < m; s++ {
		for j, v := range x.Data[s*d : (s+1)*d] {
			bm[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] += (bm[j]/float64(m) - mean[j]) / float64(step+1)
	}
	for s := 0; s < m; s++ {
		row := x.Data[s*d : (s+1)*d]
		for j := range row {
			row[j] -= float32(mean[j])
		}
	}
}
