package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/metrics/regression"
	"github.com/ventral-lab/ventral/nn"
)

// DecodeOptions control Decode.
type DecodeOptions struct {
	Folds int    // stratified cross-validation folds (default 5)
	Seed  uint64 // drives the folds, the feature hashing, SGD's order and ShuffleLabels
	// MaxFeatures caps the features per layer (default 1024): a layer with more is reduced by
	// seeded feature hashing (each feature added, with a random sign, to one of MaxFeatures
	// bins; Weinberger et al. 2009), which preserves inner products in expectation.
	MaxFeatures int
	Epochs      int     // SGD epochs of the classifier (default 40)
	LR          float64 // SGD learning rate on unit-norm standardised features (default 0.5)
	L2          float64 // weight decay (default 1e-4)
	Batch       int     // images per forward pass (default 64)
	// ShuffleLabels permutes the labels (seeded) before decoding: a control whose accuracy
	// should sit at chance.
	ShuffleLabels bool
}

func (o DecodeOptions) withDefaults() DecodeOptions {
	if o.Folds <= 1 {
		o.Folds = 5
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = 1024
	}
	if o.Epochs <= 0 {
		o.Epochs = 40
	}
	if o.LR <= 0 {
		o.LR = 0.5
	}
	if o.L2 < 0 {
		o.L2 = 0
	} else if o.L2 == 0 {
		o.L2 = 1e-4
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	return o
}

// DecodeResult is one layer's linear decodability of category.
type DecodeResult struct {
	Layer string
	// Features is the layer's size; Used is the number of features the classifier saw
	// (MaxFeatures after hashing).
	Features, Used int
	// Accuracy is the mean held-out accuracy over folds, SD its standard deviation across
	// folds, FoldAccuracy each fold's.
	Accuracy, SD float64
	FoldAccuracy []float64
	// Chance is the accuracy of always guessing the most frequent class.
	Chance float64
}

// Decode measures, for each layer (a node, or a node at one time step of a recurrent model:
// "IT@t2", see nn.StepSep), how well the category of ds's images can be read out by a
// linear classifier: multinomial logistic regression on the layer's activations (standardised
// with the training folds' statistics), scored by stratified K-fold cross-validation. Plotted
// against depth this is the "untangling" curve (DiCarlo and Cox 2007): category becomes more
// linearly separable along the ventral stream.
func Decode(g *nn.Graph, ds *datasets.Dataset, layers []string, o DecodeOptions) ([]DecodeResult, error) {
	o = o.withDefaults()
	if err := CheckStepLayers(g, layers); err != nil {
		return nil, err
	}
	if ds == nil || ds.N == 0 || ds.Labels == nil {
		return nil, fmt.Errorf("decode: a labelled image set is needed")
	}
	labels := append([]int(nil), ds.Labels[:ds.N]...)
	if o.ShuffleLabels {
		rng := rand.New(rand.NewPCG(o.Seed, 0x73687566))
		rng.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	}
	feats, err := layerFeatures(g, ds, layers, o.MaxFeatures, o.Seed, o.Batch)
	if err != nil {
		return nil, err
	}
	out := make([]DecodeResult, len(layers))
	for k, l := range layers {
		f := feats[k]
		accs, err := CrossValidateLinear(f.x, ds.N, f.used, labels, o)
		if err != nil {
			return nil, fmt.Errorf("decode layer %s: %w", l, err)
		}
		m, sd := meanSD(accs)
		out[k] = DecodeResult{Layer: l, Features: f.size, Used: f.used, Accuracy: m, SD: sd, FoldAccuracy: accs, Chance: chance(labels)}
	}
	return out, nil
}

type features struct {
	x          []float32 // n x used
	size, used int
}

// layerFeatures runs ds through g and returns each layer's activations (hashed down to at most
// maxF features), n x used row-major.
func layerFeatures(g *nn.Graph, ds *datasets.Dataset, layers []string, maxF int, seed uint64, batch int) ([]features, error) {
	out := make([]features, len(layers))
	type hasher struct {
		bin  []int32
		sign []float32
	}
	hs := make([]*hasher, len(layers))
	for k, l := range layers {
		node, _, err := g.ResolveLayer(l)
		if err != nil {
			return nil, err
		}
		size := 1
		for _, d := range node.Shape {
			size *= d
		}
		used := size
		if size > maxF {
			used = maxF
			rng := rand.New(rand.NewPCG(seed, hash64("hash/"+l)))
			h := &hasher{bin: make([]int32, size), sign: make([]float32, size)}
			for i := range h.bin {
				h.bin[i] = int32(rng.IntN(maxF))
				h.sign[i] = float32(2*rng.IntN(2) - 1)
			}
			hs[k] = h
		}
		out[k] = features{x: make([]float32, ds.N*used), size: size, used: used}
	}
	for lo := 0; lo < ds.N; lo += batch {
		n := min(batch, ds.N-lo)
		x, err := ModelInputs(g, ds, lo, n)
		if err != nil {
			return nil, err
		}
		ctx := nn.NewCtx(false, 0)
		tr, err := g.Forward(ctx, x, nn.KeepNodes(layers)...)
		if err != nil {
			return nil, err
		}
		for k, l := range layers {
			y := tr.Layer(l)
			f := &out[k]
			for i := 0; i < n; i++ {
				row := y.Data[i*f.size : (i+1)*f.size]
				dst := f.x[(lo+i)*f.used : (lo+i+1)*f.used]
				if hs[k] == nil {
					copy(dst, row)
					continue
				}
				h := hs[k]
				for j, v := range row {
					dst[h.bin[j]] += h.sign[j] * v
				}
			}
		}
		ctx.Reset()
	}
	return out, nil
}

// CrossValidateLinear returns the held-out accuracy of each stratified fold of a multinomial
// logistic regression on x (n x d row-major) with integer labels.
func CrossValidateLinear(x []float32, n, d int, labels []int, o DecodeOptions) ([]float64, error) {
	o = o.withDefaults()
	if len(labels) != n || len(x) != n*d {
		return nil, fmt.Errorf("decode: %d labels and %d values for %d samples of %d features", len(labels), len(x), n, d)
	}
	strs := make([]string, n)
	classes := 0
	for i, l := range labels {
		if l < 0 {
			return nil, fmt.Errorf("decode: negative label %d", l)
		}
		strs[i] = strconv.Itoa(l)
		classes = max(classes, l+1)
	}
	folds, err := regression.KFold(n, o.Folds, strs, o.Seed)
	if err != nil {
		return nil, err
	}
	accs := make([]float64, len(folds))
	for f, test := range folds {
		isTest := make([]bool, n)
		for _, i := range test {
			isTest[i] = true
		}
		var train []int
		for i := 0; i < n; i++ {
			if !isTest[i] {
				train = append(train, i)
			}
		}
		m := fitLogistic(x, d, labels, classes, train, o, o.Seed+uint64(f)+1)
		correct := 0
		for _, i := range test {
			if m.predict(x[i*d:(i+1)*d]) == labels[i] {
				correct++
			}
		}
		accs[f] = float64(correct) / float64(len(test))
	}
	return accs, nil
}

type logistic struct {
	d, c      int
	mean, inv []float64 // standardisation (inv includes the 1/sqrt(d) scaling)
	w         []float64 // c x d
	b         []float64
}

func (m *logistic) scores(x []float32, z []float64, s []float64) {
	for j := 0; j < m.d; j++ {
		z[j] = (float64(x[j]) - m.mean[j]) * m.inv[j]
	}
	for k := 0; k < m.c; k++ {
		w := m.w[k*m.d : (k+1)*m.d]
		v := m.b[k]
		for j, zj := range z {
			v += w[j] * zj
		}
		s[k] = v
	}
}

func (m *logistic) predict(x []float32) int {
	z, s := make([]float64, m.d), make([]float64, m.c)
	m.scores(x, z, s)
	best := 0
	for k := range s {
		if s[k] > s[best] {
			best = k
		}
	}
	return best
}

// fitLogistic trains softmax regression by mini-batch SGD with momentum and a cosine schedule.
func fitLogistic(x []float32, d int, labels []int, c int, train []int, o DecodeOptions, seed uint64) *logistic {
	m := &logistic{d: d, c: c, mean: make([]float64, d), inv: make([]float64, d), w: make([]float64, c*d), b: make([]float64, c)}
	nt := float64(len(train))
	for _, i := range train {
		for j, v := range x[i*d : (i+1)*d] {
			m.mean[j] += float64(v)
		}
	}
	for j := range m.mean {
		m.mean[j] /= nt
	}
	for _, i := range train {
		for j, v := range x[i*d : (i+1)*d] {
			dv := float64(v) - m.mean[j]
			m.inv[j] += dv * dv
		}
	}
	for j := range m.inv {
		sd := math.Sqrt(m.inv[j] / nt)
		if sd < 1e-8 {
			m.inv[j] = 0 // a constant feature carries nothing
		} else {
			m.inv[j] = 1 / (sd * math.Sqrt(float64(d)))
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c6f6769))
	order := append([]int(nil), train...)
	const bs = 32
	vw, vb := make([]float64, c*d), make([]float64, c)
	gw, gb := make([]float64, c*d), make([]float64, c)
	z, s := make([]float64, d), make([]float64, c)
	steps := o.Epochs * ((len(order) + bs - 1) / bs)
	step := 0
	for e := 0; e < o.Epochs; e++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for lo := 0; lo < len(order); lo += bs {
			hi := min(lo+bs, len(order))
			clear(gw)
			clear(gb)
			for _, i := range order[lo:hi] {
				m.scores(x[i*d:(i+1)*d], z, s)
				mx := s[0]
				for _, v := range s {
					mx = math.Max(mx, v)
				}
				var sum float64
				for k := range s {
					s[k] = math.Exp(s[k] - mx)
					sum += s[k]
				}
				for k := range s {
					p := s[k] / sum
					if k == labels[i] {
						p--
					}
					if p == 0 {
						continue
					}
					gb[k] += p
					g := gw[k*d : (k+1)*d]
					for j, zj := range z {
						g[j] += p * zj
					}
				}
			}
			lr := o.LR * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(steps)))
			step++
			inv := 1 / float64(hi-lo)
			for j := range m.w {
				vw[j] = 0.9*vw[j] + gw[j]*inv + o.L2*m.w[j]
				m.w[j] -= lr * vw[j]
			}
			for k := range m.b {
				vb[k] = 0.9*vb[k] + gb[k]*inv
				m.b[k] -= lr * vb[k]
			}
		}
	}
	return m
}

func meanSD(v []float64) (float64, float64) {
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	if len(v) < 2 {
		return m, 0
	}
	return m, math.Sqrt(ss / float64(len(v)-1))
}

// chance is the accuracy of always guessing the most frequent label.
func chance(labels []int) float64 {
	counts := map[int]int{}
	best := 0
	for _, l := range labels {
		counts[l]++
		best = max(best, counts[l])
	}
	return float64(best) / float64(len(labels))
}

// CheckStepLayers is CheckLayers that also accepts a node at one time step ("V4@t2").
func CheckStepLayers(g *nn.Graph, layers []string) error {
	for _, l := range layers {
		if _, _, err := g.ResolveLayer(l); err != nil {
			return err
		}
	}
	return nil
}

// PerStep expands each plain layer name of a recurrent model to its outputs at every time step
// (V4 -> V4@t0 ... V4@t4), keeping names that already name a step; a model with one step keeps
// layers as they are.
func PerStep(g *nn.Graph, layers []string) []string {
	if g.NumSteps() < 2 {
		return layers
	}
	var out []string
	for _, l := range layers {
		if _, _, ok := nn.SplitStepLayer(l); ok {
			out = append(out, l)
		} else {
			out = append(out, g.StepLayers(l)...)
		}
	}
	return out
}
