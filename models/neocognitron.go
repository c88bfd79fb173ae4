package models

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	register("neocognitron", "Neocognitron (Fukushima 1980): three S/C stages for 1x28x28 digits, S-cells as rectified normalised similarity with V-cell inhibition, C-cells as blurred averages, linear readout; S-planes learned without labels (TrainNeocognitron)", neocognitron)
}

// NeocognitronStages are the S-layer names, lowest first; each is followed by its C-layer
// ("c1", ...). NeocognitronReadout is the linear readout on the top C-layer.
var NeocognitronStages = []string{"s1", "s2", "s3"}

const NeocognitronReadout = "readout"

// neocognitron builds the model after Fukushima 1980 (Biological Cybernetics 36:193), sized for
// 28x28 digits. Layers:
//
//	s1  16 S-planes, 5x5 patches of the image (pad 2)       -> 16x28x28, selectivity θ = 0.7
//	c1  blurred average, 5x5 window, stride 2 (pad 2)       -> 16x14x14
//	s2  32 S-planes, 5x5x16 patches of c1 (pad 2)            -> 32x14x14, θ = 0.6
//	c2  blurred average, 5x5, stride 2                      -> 32x7x7
//	s3  64 S-planes, 5x5x32 patches of c2 (pad 2)            -> 64x7x7, θ = 0.5
//	c3  blurred average, 5x5, stride 2                      -> 64x4x4 (1024 features)
//	readout  a linear classifier on c3 (flatten + dense, 10 classes)
//
// An S-cell computes u = φ(â·x − θ v)/(1 − θ) with â its plane's unit weight patch, x the input
// patch and v = ||x|| the V-cell (see nn.SCell), so θ = r/(1+r) plays the part of Fukushima's
// selectivity r. Simplified relative to the 1980 paper: the S-cell's divisive inhibition by the
// V-cell is replaced by this subtractive-then-rectified normalised form (Fukushima's later
// papers), the V-cell and the learning input are not weighted by a Gaussian c (uniform over the
// patch), C-cells are a plain average over an overlapping window (no saturating ψ, no
// Gaussian d), the 1980 paper's many-stage narrowing to single cells is replaced by three
// stages and a linear readout trained with labels, there is no contrast-extracting input
// layer, and cells at every position of a plane share weights by construction (as in the
// paper). The S-weights of a freshly built model are seeded non-negative random unit patches:
// the random-weight baseline. TrainNeocognitron learns them layer by layer without labels;
// FitNeocognitronReadout fits the readout.
func neocognitron(o Options) (*nn.Graph, error) {
	size := or(o.InputSize, 28)
	classes := or(o.Classes, 10)
	if size < 8 {
		return nil, fmt.Errorf("neocognitron: input size %d is too small (at least 8)", size)
	}
	blur := func() *nn.AvgPool2D {
		return &nn.AvgPool2D{Kernel: nn.Dims{5}, Stride: nn.Dims{2}, Pad: nn.Dims{2}, ExcludePad: true}
	}
	g := &nn.Graph{Name: "neocognitron", InputShape: []int{1, size, size}}
	g.Chain("s1", &nn.SCell{Planes: 16, Kernel: nn.Dims{5}, Pad: nn.Dims{2}, Selectivity: 0.7}).Chain("c1", blur()).
		Chain("s2", &nn.SCell{Planes: 32, Kernel: nn.Dims{5}, Pad: nn.Dims{2}, Selectivity: 0.6}).Chain("c2", blur()).
		Chain("s3", &nn.SCell{Planes: 64, Kernel: nn.Dims{5}, Pad: nn.Dims{2}, Selectivity: 0.5}).Chain("c3", blur()).
		Chain("flatten", nn.Flatten{}).
		Chain(NeocognitronReadout, &nn.Dense{Out: classes})
	var names []string
	if classes == 10 {
		names = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	}
	return meta(g, "Fukushima 1980, Biol. Cybern. 36:193; S-cell normalisation after Fukushima 2003, Neurocomputing 51:161", names,
		stimuli.Preprocess{Size: size, Grey: true})
}

// NeoConfig sets the unsupervised learning of the S-layers. Zero values take the defaults in
// brackets.
type NeoConfig struct {
	// Epochs is the number of passes over the images per layer [1].
	Epochs int
	// Competition is the radius (in S-cell positions, Chebyshev distance) of the competition
	// area around a winner within which no other cell of any plane may win or recruit in the
	// same image [half the kernel side].
	Competition int
	// MinContrast: a new plane is recruited only from a patch whose V-cell is at least this
	// fraction of the largest V-cell in the image [0.3], so that faint edges do not seed planes.
	MinContrast float64
	// Layers limits learning to the named S-layers (default: every s_cell layer, in order).
	Layers []string
	// Log receives progress lines (nil: silent).
	Log io.Writer
}

// NeoLayerStats reports what learning did to one S-layer.
type NeoLayerStats struct {
	Layer   string
	Planes  int   // planes recruited (at most the layer's planes)
	Wins    []int // per plane: reinforcements, the recruiting patch included
	Updates int   // reinforcements in all
	Images  int
}

// TrainNeocognitron learns the S-planes of a neocognitron-style graph (a chain whose S-layers
// are nn.SCell) from unlabelled images [N, InputShape...] (preprocessed model inputs), layer by
// layer from the lowest, by competitive learning with plane recruitment after Fukushima 1980
// and his later self-organising neocognitrons. Every plane of a learned layer starts empty
// (zero weights, silent). For each image, in a seeded random order, the S-responses u to the
// current weights are computed at every position; then, repeatedly, the strongest response
// among the planes that have not yet won in this image, at positions outside the competition
// areas of earlier winners, becomes a seed (winner-take-all across planes and within the
// competition area), and its plane is reinforced by Fukushima's rule Δa = q·u with q = 1 (the
// input patch is added to the plane's weights; the S-cell uses only the weights' direction, so
// a plane's weight is the contrast-weighted mean of the patches it won). When no plane responds
// at a position (every cosine below the selectivity θ) and fewer than the layer's maximum
// planes exist, the silent position with the strongest V-cell (at least MinContrast of the
// image's largest) recruits a new plane whose weights are that patch, and so on until no
// silent candidate remains. The result depends only on the images, cfg and seed. The graph's
// metadata records what was done ("learning").
func TrainNeocognitron(g *nn.Graph, images *tensor.Tensor, cfg NeoConfig, seed uint64) ([]NeoLayerStats, error) {
	if cfg.Epochs < 0 || cfg.Competition < 0 || cfg.MinContrast < 0 || cfg.MinContrast > 1 || math.IsNaN(cfg.MinContrast) {
		return nil, fmt.Errorf("neocognitron learning: epochs %d and competition %d must be >= 0 and min contrast %v in [0, 1]", cfg.Epochs, cfg.Competition, cfg.MinContrast)
	}
	epochs := or(cfg.Epochs, 1)
	minContrast := cfg.MinContrast
	if minContrast == 0 {
		minContrast = 0.3
	}
	if err := checkImages("neocognitron learning", g, images); err != nil {
		return nil, err
	}
	if !g.Built() {
		if err := g.Build(g.Seed()); err != nil {
			return nil, err
		}
	}
	var layers []int
	for i, n := range g.Nodes {
		if _, ok := n.Op.(*nn.SCell); !ok {
			continue
		}
		if cfg.Layers == nil || contains(cfg.Layers, n.Name) {
			layers = append(layers, i)
		}
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("neocognitron learning: model %q has no s_cell layer to learn (layers %v)", g.Name, cfg.Layers)
	}
	if err := checkChain(g, layers[len(layers)-1]); err != nil {
		return nil, err
	}
	nimg := images.Shape[0]
	var stats []NeoLayerStats
	for _, li := range layers {
		node := g.Nodes[li]
		s := node.Op.(*nn.SCell)
		start := time.Now()
		in, err := runPrefix(g, li, images)
		if err != nil {
			return nil, err
		}
		c, _, _, kh, kw, oh, ow := s.Geometry()
		radius := cfg.Competition
		if radius == 0 {
			radius = max(kh, kw) / 2
		}
		n, l := c*kh*kw, oh*ow
		w := s.WeightTensor()
		clear(w.Data)
		st := NeoLayerStats{Layer: node.Name, Wins: make([]int, s.Planes), Images: nimg * epochs}
		per := in.Len() / nimg
		col := make([]float32, n*l)
		out := make([]float32, s.Planes*l)
		v := make([]float32, l)
		blocked := make([]bool, l)
		won := make([]bool, s.Planes)
		rng := rand.New(rand.NewPCG(seed, hashName(node.Name)))
		a := s.UnitWeights()
		for ep := 0; ep < epochs; ep++ {
			order := rng.Perm(nimg)
			for k, img := range order {
				s.Im2col(in.Data[img*per:(img+1)*per], col)
				s.Respond(a, col, out, v)
				clear(blocked)
				clear(won)
				changed := false
				// Winners: the strongest free response, repeatedly.
				for {
					best, bp, bj := float32(0), -1, -1
					for p := 0; p < st.Planes; p++ {
						if won[p] {
							continue
						}
						for j, u := range out[p*l : (p+1)*l] {
							if u > best && !blocked[j] {
								best, bp, bj = u, p, j
							}
						}
					}
					if bp < 0 {
						break
					}
					won[bp] = true
					reinforce(w.Data[bp*n:(bp+1)*n], col, bj, l)
					st.Wins[bp]++
					st.Updates++
					changed = true
					block(blocked, bj, oh, ow, radius)
				}
				// Recruitment where every plane is silent.
				if st.Planes < s.Planes {
					vmax := float32(0)
					for _, x := range v {
						vmax = max(vmax, x)
					}
					thr := float32(minContrast) * vmax
					for st.Planes < s.Planes {
						bj, bv := -1, thr
						for j, x := range v {
							if x > bv && !blocked[j] && silent(out, j, l, st.Planes) {
								bj, bv = j, x
							}
						}
						if bj < 0 || bv <= 1e-3 {
							break
						}
						p := st.Planes
						reinforce(w.Data[p*n:(p+1)*n], col, bj, l)
						st.Wins[p]++
						st.Updates++
						st.Planes++
						changed = true
						block(blocked, bj, oh, ow, radius)
					}
				}
				if changed {
					a = s.UnitWeights()
				}
				if cfg.Log != nil && ((k+1)%max(nimg/4, 1) == 0 || k+1 == nimg) {
					fmt.Fprintf(cfg.Log, "%s: epoch %d/%d, %d/%d images, %d/%d planes, %d reinforcements (%.1fs)\n",
						node.Name, ep+1, epochs, k+1, nimg, st.Planes, s.Planes, st.Updates, time.Since(start).Seconds())
				}
			}
		}
		stats = append(stats, st)
	}
	if g.Meta == nil {
		g.Meta = map[string]string{}
	}
	desc := ""
	for i, st := range stats {
		if i > 0 {
			desc += ", "
		}
		desc += fmt.Sprintf("%s %d planes", st.Layer, st.Planes)
	}
	g.Meta["learning"] = fmt.Sprintf("competitive learning with recruitment (TrainNeocognitron), %d images x %d epochs, seed %d: %s", nimg, epochs, seed, desc)
	return stats, nil
}

// reinforce adds the patch at position j of col ([n, l]) to the weights a (Δa = q·u, q = 1).
func reinforce(a, col []float32, j, l int) {
	for i := range a {
		a[i] += col[i*l+j]
	}
}

// silent reports whether no recruited plane responds at position j.
func silent(out []float32, j, l, planes int) bool {
	for p := 0; p < planes; p++ {
		if out[p*l+j] > 0 {
			return false
		}
	}
	return true
}

// block marks the competition area (Chebyshev radius r) around position j.
func block(blocked []bool, j, oh, ow, r int) {
	y, x := j/ow, j%ow
	for yy := max(y-r, 0); yy <= min(y+r, oh-1); yy++ {
		for xx := max(x-r, 0); xx <= min(x+r, ow-1); xx++ {
			blocked[yy*ow+xx] = true
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func hashName(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func checkImages(what string, g *nn.Graph, images *tensor.Tensor) error {
	if images == nil || len(images.Shape) != len(g.InputShape)+1 || !tensor.SameShape(images.Shape[1:], g.InputShape) || images.Shape[0] == 0 {
		var sh []int
		if images != nil {
			sh = images.Shape
		}
		return fmt.Errorf("%s: images have shape %v, expected [N %v] with N >= 1", what, sh, g.InputShape)
	}
	return nil
}

// checkChain makes sure nodes 0..upto each take the previous node (or the input) as their only
// input, so runPrefix can run them in order.
func checkChain(g *nn.Graph, upto int) error {
	for i := 0; i <= upto; i++ {
		want := nn.InputName
		if i > 0 {
			want = g.Nodes[i-1].Name
		}
		if n := g.Nodes[i]; len(n.Inputs) != 1 || n.Inputs[0] != want {
			return fmt.Errorf("neocognitron: layer %q must take only %q as input (a chain), has %v", n.Name, want, n.Inputs)
		}
	}
	return nil
}

// runPrefix returns the input of node upto for every image: nodes 0..upto-1 run in order.
func runPrefix(g *nn.Graph, upto int, images *tensor.Tensor) (*tensor.Tensor, error) {
	if upto == 0 {
		return images, nil
	}
	return chainOutput(g, upto-1, images)
}

// chainOutput runs nodes 0..last of a chain graph on the images in batches and returns the
// output of node last for all of them.
func chainOutput(g *nn.Graph, last int, images *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkChain(g, last); err != nil {
		return nil, err
	}
	nimg := images.Shape[0]
	per := images.Len() / nimg
	shape := append([]int{nimg}, g.Nodes[last].Shape...)
	res := tensor.New(shape...)
	operImg := res.Len() / nimg
	const batch = 64
	ctx := nn.NewCtx(false, 0)
	for s0 := 0; s0 < nimg; s0 += batch {
		nb := min(batch, nimg-s0)
		x := tensor.FromData(images.Data[s0*per:(s0+nb)*per], append([]int{nb}, g.InputShape...)...)
		for i := 0; i <= last; i++ {
			x, _ = g.Nodes[i].Op.Forward(ctx, []*tensor.Tensor{x})
		}
		copy(res.Data[s0*operImg:], x.Data)
		ctx.Reset()
	}
	return res, nil
}

// NeocognitronFeatures returns the top C-layer responses (the readout's input, flattened) of
// a built neocognitron for images [N, InputShape...]: [N, features].
func NeocognitronFeatures(g *nn.Graph, images *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkImages("neocognitron features", g, images); err != nil {
		return nil, err
	}
	ro := readoutIndex(g)
	if ro < 1 {
		return nil, fmt.Errorf("neocognitron features: model %q has no dense layer %q", g.Name, NeocognitronReadout)
	}
	f, err := chainOutput(g, ro-1, images)
	if err != nil {
		return nil, err
	}
	return tensor.FromData(f.Data, images.Shape[0], f.Len()/images.Shape[0]), nil
}

func readoutIndex(g *nn.Graph) int {
	for i, n := range g.Nodes {
		if _, ok := n.Op.(*nn.Dense); ok && n.Name == NeocognitronReadout {
			return i
		}
	}
	return -1
}

// ReadoutConfig sets the linear readout: multinomial logistic regression on standardised
// features, trained by minibatch SGD with momentum 0.9. Zero values take the defaults.
type ReadoutConfig struct {
	Epochs int     // [15]
	Batch  int     // [100]
	LR     float64 // learning rate [0.05], decayed linearly to zero
	L2     float64 // weight decay [1e-4]
	Log    io.Writer
}

// FitNeocognitronReadout trains the readout of a built neocognitron on the features
// (NeocognitronFeatures) of labelled training images and writes it into the graph's readout
// layer (the standardisation folded into its weights and bias). It returns the training
// accuracy. Deterministic for a seed.
func FitNeocognitronReadout(g *nn.Graph, feats *tensor.Tensor, labels []int, cfg ReadoutConfig, seed uint64) (float64, error) {
	ro := readoutIndex(g)
	if ro < 0 {
		return 0, fmt.Errorf("neocognitron readout: model %q has no dense layer %q", g.Name, NeocognitronReadout)
	}
	d := g.Nodes[ro].Op.(*nn.Dense)
	ps := d.Params()
	if d.NoBias || len(ps) != 2 {
		return 0, fmt.Errorf("neocognitron readout: layer %q needs a bias", NeocognitronReadout)
	}
	wt, bt := ps[0].Value, ps[1].Value
	k, f := wt.Shape[0], wt.Shape[1]
	if feats == nil || len(feats.Shape) != 2 || feats.Shape[1] != f || feats.Shape[0] != len(labels) || len(labels) == 0 {
		return 0, fmt.Errorf("neocognitron readout: features %v and %d labels, expected [N %d] with N = labels >= 1", shapeOrNil(feats), len(labels), f)
	}
	for i, y := range labels {
		if y < 0 || y >= k {
			return 0, fmt.Errorf("neocognitron readout: label %d of item %d is outside 0..%d", y, i, k-1)
		}
	}
	epochs, bs := or(cfg.Epochs, 15), or(cfg.Batch, 100)
	lr, l2 := cfg.LR, cfg.L2
	if lr == 0 {
		lr = 0.05
	}
	if l2 == 0 {
		l2 = 1e-4
	}
	if epochs < 0 || bs < 0 || lr < 0 || l2 < 0 {
		return 0, fmt.Errorf("neocognitron readout: epochs, batch, learning rate and L2 must be positive")
	}
	n := len(labels)
	// Standardise.
	mu, sd := make([]float64, f), make([]float64, f)
	for i := 0; i < n; i++ {
		for j, x := range feats.Data[i*f : (i+1)*f] {
			mu[j] += float64(x)
			sd[j] += float64(x) * float64(x)
		}
	}
	inv := make([]float32, f)
	for j := range mu {
		mu[j] /= float64(n)
		vr := sd[j]/float64(n) - mu[j]*mu[j]
		sd[j] = math.Sqrt(max(vr, 0)) + 1e-3
		inv[j] = float32(1 / sd[j])
	}
	W, B := make([]float32, k*f), make([]float32, k)
	vW, vB := make([]float32, k*f), make([]float32, k)
	gW, gB := make([]float32, k*f), make([]float32, k)
	xb := make([]float32, bs*f)
	logits := make([]float32, bs*k)
	rng := rand.New(rand.NewPCG(seed, 0x6e656f))
	steps, step := epochs*((n+bs-1)/bs), 0
	for ep := 0; ep < epochs; ep++ {
		order := rng.Perm(n)
		var loss float64
		for s0 := 0; s0 < n; s0 += bs {
			nb := min(bs, n-s0)
			for r := 0; r < nb; r++ {
				src := feats.Data[order[s0+r]*f : (order[s0+r]+1)*f]
				dst := xb[r*f : (r+1)*f]
				for j, x := range src {
					dst[j] = (x - float32(mu[j])) * inv[j]
				}
			}
			tensor.Sgemm(false, true, nb, k, f, 1, xb, f, W, f, 0, logits, k)
			clear(gB)
			for r := 0; r < nb; r++ {
				z := logits[r*k : (r+1)*k]
				m := z[0]
				for c := range z {
					z[c] += B[c]
					m = max(m, z[c])
				}
				var sum float64
				for c := range z {
					e := math.Exp(float64(z[c] - m))
					z[c] = float32(e)
					sum += e
				}
				y := labels[order[s0+r]]
				loss -= math.Log(float64(z[y])/sum + 1e-12)
				for c := range z {
					z[c] = float32(float64(z[c])/sum) / float32(nb)
				}
				z[y] -= 1 / float32(nb)
				for c := range z {
					gB[c] += z[c]
				}
			}
			tensor.Sgemm(true, false, k, f, nb, 1, logits, k, xb, f, 0, gW, f)
			rate := float32(lr * (1 - float64(step)/float64(steps)))
			step++
			for i := range W {
				vW[i] = 0.9*vW[i] + gW[i] + float32(l2)*W[i]
				W[i] -= rate * vW[i]
			}
			for c := range B {
				vB[c] = 0.9*vB[c] + gB[c]
				B[c] -= rate * vB[c]
			}
		}
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "readout: epoch %d/%d, loss %.4f\n", ep+1, epochs, loss/float64(n))
		}
	}
	// Fold the standardisation into the dense layer: W' = W/sd, b' = b − W'·mu.
	for c := 0; c < k; c++ {
		bias := float64(B[c])
		for j := 0; j < f; j++ {
			w := W[c*f+j] * inv[j]
			wt.Data[c*f+j] = w
			bias -= float64(w) * mu[j]
		}
		bt.Data[c] = float32(bias)
	}
	return NeocognitronAccuracy(g, feats, labels)
}

// NeocognitronAccuracy is the readout's accuracy on features (NeocognitronFeatures) and labels.
func NeocognitronAccuracy(g *nn.Graph, feats *tensor.Tensor, labels []int) (float64, error) {
	ro := readoutIndex(g)
	if ro < 0 {
		return 0, fmt.Errorf("neocognitron accuracy: model %q has no dense layer %q", g.Name, NeocognitronReadout)
	}
	ps := g.Nodes[ro].Op.(*nn.Dense).Params()
	wt, bt := ps[0].Value, ps[1].Value
	k, f := wt.Shape[0], wt.Shape[1]
	if feats == nil || len(feats.Shape) != 2 || feats.Shape[1] != f || feats.Shape[0] != len(labels) || len(labels) == 0 {
		return 0, fmt.Errorf("neocognitron accuracy: features %v and %d labels, expected [N %d] with N = labels >= 1", shapeOrNil(feats), len(labels), f)
	}
	n := len(labels)
	z := make([]float32, n*k)
	tensor.Sgemm(false, true, n, k, f, 1, feats.Data, f, wt.Data, f, 0, z, k)
	correct := 0
	for i := 0; i < n; i++ {
		best := 0
		for c := 1; c < k; c++ {
			if z[i*k+c]+bt.Data[c] > z[i*k+best]+bt.Data[best] {
				best = c
			}
		}
		if best == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(n), nil
}

func shapeOrNil(t *tensor.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}
