// Package pretrain is greedy layer-wise unsupervised pretraining of a network's weighted layers
// as denoising autoencoders (Vincent et al. 2008; Bengio et al. 2007), before supervised
// training. Each conv2d and dense layer, with the shape-preserving layers that follow it alone
// (ReLU, batch norm, dropout), is an encoder; a fresh decoder (a transposed convolution of the
// same geometry for a convolution, a dense layer for a dense one) learns, together with the
// encoder, to reconstruct the layer's clean input from its output on a noise-corrupted input.
// Then the decoder is dropped, the encoder keeps its weights and the next layer trains on the
// outputs of the ones before it. The classifier (the layer ending in the graph's output) is
// left to the supervised run.
//
// It is written here rather than as a second graph because the encoder must be the graph's own
// op objects (a rebuilt graph re-initialises its parameters): the ops' Forward and Backward are
// driven directly. Every random choice (batch order, noise, decoder weights) derives from the
// seed and the layer's index, and a folder checkpoint after each layer lets an interrupted run
// continue from the last finished layer with the same result.
package pretrain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// CheckpointFile holds the weights after the last finished layer, in the run folder.
const CheckpointFile = "pretrain.safetensors"

// Autoencoder names the (denoising) autoencoder pretraining method, the only one.
const Autoencoder = "autoencoder"

// Config sets up pretraining. Zero fields take the defaults given.
type Config struct {
	// Epochs over the images per layer (default 1).
	Epochs int `json:"epochs"`
	// Batch size (default 64).
	Batch int `json:"batch"`
	// Noise is the standard deviation of the additive Gaussian corruption, as a fraction of
	// the standard deviation of the layer's input (measured on the first batch); 0 gives a
	// plain autoencoder. Default 0.3 when Clean is false.
	Noise float64 `json:"noise"`
	// Clean makes Noise 0 a plain (not denoising) autoencoder instead of the default.
	Clean bool `json:"clean,omitempty"`
	// KeepScale leaves each pretrained layer as the autoencoder left it. By default its
	// weights and bias are then rescaled per output channel so that its outputs (before the
	// activation) have mean 0 and SD 1 over a batch of images, as data-dependent
	// initialisations do (Kraehenbuehl et al. 2016; Mishkin and Matas 2016): the filters'
	// directions are what pretraining learnt, and without this a ReLU network's autoencoders
	// shrink and silence units (a whole dense layer of cifar-cnn ended dead, so fine-tuning
	// stayed at chance).
	KeepScale bool `json:"keep_scale,omitempty"`
	// ConvOnly pretrains the convolutions only; dense layers keep their initialisation.
	ConvOnly bool `json:"conv_only,omitempty"`
	// LR is Adam's learning rate (default 1e-3).
	LR   float64 `json:"lr"`
	Seed uint64  `json:"seed"`
	// Mean and Std normalise the images per channel as the supervised run does (nil: none).
	Mean []float32 `json:"mean,omitempty"`
	Std  []float32 `json:"std,omitempty"`
	// Dir, when set, receives CheckpointFile after each layer; a checkpoint already there with
	// the same settings and model is continued.
	Dir string    `json:"-"`
	Log io.Writer `json:"-"`
}

func (c Config) defaults() Config {
	if c.Epochs <= 0 {
		c.Epochs = 1
	}
	if c.Batch <= 0 {
		c.Batch = 64
	}
	if c.Noise == 0 && !c.Clean {
		c.Noise = 0.3
	}
	if c.LR <= 0 {
		c.LR = 1e-3
	}
	return c
}

// LayerResult is one pretrained layer's reconstruction error per epoch, as the mean squared
// error over the mean variance of its input (1 = no better than the input's mean).
type LayerResult struct {
	Layer string
	Loss  []float64
}

// Block is one encoder: a weighted layer, the shape-preserving layers after it, and the node
// whose output it reconstructs.
type Block struct {
	Input string // the node feeding the layer (nn.InputName for the images)
	Nodes []*nn.Node
	In    []int // per-sample input shape
}

// Name is the weighted layer's name.
func (b *Block) Name() string { return b.Nodes[0].Name }

// Blocks lists the encoders of g in node order: every conv2d and dense layer with one input,
// except the one whose block produces the graph's output (the classifier).
func Blocks(g *nn.Graph) ([]*Block, error) {
	if !g.Built() {
		return nil, fmt.Errorf("pretrain %s: the model is not built", g.Name)
	}
	if g.NumSteps() > 1 {
		return nil, fmt.Errorf("pretrain %s: a recurrent model (%d steps) cannot be pretrained layer by layer", g.Name, g.NumSteps())
	}
	users := map[string][]*nn.Node{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			users[in] = append(users[in], n)
		}
	}
	shape := func(name string) []int {
		if name == nn.InputName {
			return g.InputShape
		}
		return g.Node(name).Shape
	}
	// Layers a fine-tuning run freezes keep their (trained) weights here too.
	frozen := g.Meta[train.MetaFreezeUntil] != ""
	var out []*Block
	for _, n := range g.Nodes {
		if frozen {
			frozen = n.Name != g.Meta[train.MetaFreezeUntil]
			continue
		}
		if t := n.Op.Type(); (t != "conv2d" && t != "dense") || len(n.Inputs) != 1 || strings.HasSuffix(n.Inputs[0], nn.PrevSuffix) {
			continue
		}
		b := &Block{Input: n.Inputs[0], Nodes: []*nn.Node{n}, In: shape(n.Inputs[0])}
		for last := n; ; {
			u := users[last.Name]
			if len(u) != 1 || len(u[0].Inputs) != 1 || !tensor.SameShape(u[0].Shape, last.Shape) || u[0].Op.Type() == "conv2d" || u[0].Op.Type() == "dense" {
				break
			}
			last = u[0]
			b.Nodes = append(b.Nodes, last)
		}
		if b.Nodes[len(b.Nodes)-1].Name == g.OutputName() || len(users[b.Nodes[len(b.Nodes)-1].Name]) == 0 {
			continue
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pretrain %s: no trainable conv2d or dense layer before the classifier", g.Name)
	}
	return out, nil
}

// decoder returns a built op mapping the block's output back to its input's shape.
func decoder(g *nn.Graph, b *Block, rng *rand.Rand) (nn.Op, error) {
	n := b.Nodes[0]
	outShape := b.Nodes[len(b.Nodes)-1].Shape
	var dec nn.Op
	switch op := n.Op.(type) {
	case *nn.Conv2D:
		if len(b.In) != 3 || len(outShape) != 3 {
			return nil, fmt.Errorf("pretrain %s: layer %q: expected [C H W] shapes, got %v -> %v", g.Name, n.Name, b.In, outShape)
		}
		kh, kw := op.Kernel.HW(1)
		sh, sw := op.Stride.HW(1)
		ph, pw := op.Pad.HW(0)
		dh, dw := op.Dilation.HW(1)
		oph := b.In[1] - ((outShape[1]-1)*sh - 2*ph + dh*(kh-1) + 1)
		opw := b.In[2] - ((outShape[2]-1)*sw - 2*pw + dw*(kw-1) + 1)
		if oph < 0 || opw < 0 || oph >= sh || opw >= sw {
			return nil, fmt.Errorf("pretrain %s: layer %q: no transposed convolution of its geometry maps %v back to %v", g.Name, n.Name, outShape, b.In)
		}
		dec = &nn.ConvTranspose2D{Out: b.In[0], Kernel: op.Kernel, Stride: op.Stride, Pad: op.Pad, Dilation: op.Dilation, OutputPad: nn.Dims{oph, opw}}
	case *nn.Dense:
		dec = &nn.Dense{Out: tensor.Numel(b.In)}
	default:
		return nil, fmt.Errorf("pretrain %s: layer %q: %s has no decoder", g.Name, n.Name, n.Op.Type())
	}
	if _, err := dec.Build([][]int{outShape}, rng); err != nil {
		return nil, fmt.Errorf("pretrain %s: layer %q: decoder: %w", g.Name, n.Name, err)
	}
	return dec, nil
}

// saved is what a checkpoint records to be continued only by the same run.
type saved struct {
	Config
	Images int `json:"images"`
}

// Run pretrains g's encoders in place on the images of data (labels unused) and returns each
// layer's reconstruction error per epoch.
func Run(g *nn.Graph, data *datasets.Dataset, cfg Config) ([]LayerResult, error) {
	cfg = cfg.defaults()
	if data == nil || data.N == 0 {
		return nil, fmt.Errorf("pretrain %s: no images", g.Name)
	}
	blocks, err := Blocks(g)
	if err != nil {
		return nil, err
	}
	if cfg.ConvOnly {
		blocks = slices.DeleteFunc(blocks, func(b *Block) bool { return b.Nodes[0].Op.Type() != "conv2d" })
		if len(blocks) == 0 {
			return nil, fmt.Errorf("pretrain %s: no convolution to pretrain", g.Name)
		}
	}
	if len(g.InputShape) != 3 || g.InputShape[0] != data.C || g.InputShape[1] != data.H || g.InputShape[2] != data.W {
		return nil, fmt.Errorf("pretrain %s: the model takes %v, the images of %s are [%d %d %d]", g.Name, g.InputShape, data.Name, data.C, data.H, data.W)
	}
	if cfg.Noise < 0 || math.IsNaN(cfg.Noise) {
		return nil, fmt.Errorf("pretrain %s: noise %g must be 0 or more", g.Name, cfg.Noise)
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	key, _ := json.Marshal(saved{Config: cfg, Images: data.N})
	spec, err := g.SpecJSON()
	if err != nil {
		return nil, err
	}
	start, err := resume(g, cfg.Dir, string(key), string(spec), len(blocks))
	if err != nil {
		return nil, err
	}
	switch {
	case start == len(blocks):
		fmt.Fprintf(log, "pretrain: %s holds all %d layers pretrained; using it\n", filepath.Join(cfg.Dir, CheckpointFile), start)
	case start > 0:
		fmt.Fprintf(log, "pretrain: %s holds %d of %d layers pretrained; continuing\n", filepath.Join(cfg.Dir, CheckpointFile), start, len(blocks))
	}
	ld, err := datasets.NewLoader(data, datasets.LoaderConfig{Batch: cfg.Batch, Seed: cfg.Seed, Shuffle: true, Mean: cfg.Mean, Std: cfg.Std})
	if err != nil {
		return nil, fmt.Errorf("pretrain %s: %w", g.Name, err)
	}
	var res []LayerResult
	for k := start; k < len(blocks); k++ {
		r, err := layer(g, blocks[k], k, len(blocks), ld, cfg, log)
		if err != nil {
			return nil, err
		}
		res = append(res, r)
		if afterLayer != nil {
			if err := afterLayer(k); err != nil {
				return nil, err
			}
		}
		if cfg.Dir != "" {
			meta := map[string]string{"pretrain": string(key), "pretrain_done": strconv.Itoa(k + 1)}
			if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
				return nil, err
			}
			if err := train.SaveWeights(filepath.Join(cfg.Dir, CheckpointFile), g, meta); err != nil {
				return nil, fmt.Errorf("pretrain %s: checkpoint after layer %q: %w", g.Name, blocks[k].Name(), err)
			}
		}
	}
	return res, nil
}

// Hook returns cfg's pretraining as a train.Config.Pretrain: the run's normalisation and
// folder replace cfg's, and the log goes where the run's does.
func Hook(cfg Config) func(g *nn.Graph, data *datasets.Dataset, mean, std []float32, dir string, log io.Writer) error {
	return func(g *nn.Graph, data *datasets.Dataset, mean, std []float32, dir string, log io.Writer) error {
		c := cfg
		c.Mean, c.Std, c.Dir, c.Log = mean, std, dir, log
		_, err := Run(g, data, c)
		return err
	}
}

// HookFor is Hook for a method named on the command line ("" gives nil: no pretraining).
func HookFor(method string, cfg Config) (func(g *nn.Graph, data *datasets.Dataset, mean, std []float32, dir string, log io.Writer) error, error) {
	switch method {
	case "":
		return nil, nil
	case Autoencoder:
		if cfg.Epochs <= 0 {
			return nil, fmt.Errorf("pretraining epochs %d: expected 1 or more", cfg.Epochs)
		}
		if cfg.Noise < 0 || math.IsNaN(cfg.Noise) || math.IsInf(cfg.Noise, 0) {
			return nil, fmt.Errorf("pretraining noise %g: expected a fraction of the input's SD, 0 or more", cfg.Noise)
		}
		return Hook(cfg), nil
	}
	return nil, fmt.Errorf("pretraining method %q: expected %s", method, Autoencoder)
}

// afterLayer, when set (by tests), runs after each layer before its checkpoint; an error
// stops the run there, as a crash would.
var afterLayer func(k int) error

// resume loads a checkpoint of the same run from dir and returns how many layers it finished.
func resume(g *nn.Graph, dir, key, spec string, layers int) (int, error) {
	if dir == "" {
		return 0, nil
	}
	path := filepath.Join(dir, CheckpointFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	ck, err := train.LoadCheckpoint(path)
	if err != nil {
		return 0, err
	}
	if ck.Meta["pretrain"] != key || ck.Meta["spec"] != spec {
		return 0, fmt.Errorf("%s: pretraining checkpoint of another model or other settings (%s); remove it or use another folder", path, ck.Meta["pretrain"])
	}
	done, err := strconv.Atoi(ck.Meta["pretrain_done"])
	if err != nil || done < 1 || done > layers {
		return 0, fmt.Errorf("%s: metadata pretrain_done=%q, expected 1 to %d", path, ck.Meta["pretrain_done"], layers)
	}
	if err := train.LoadWeights(g, path); err != nil {
		return 0, err
	}
	return done, nil
}

// layer pretrains block k.
func layer(g *nn.Graph, b *Block, k, nblocks int, ld *datasets.Loader, cfg Config, log io.Writer) (LayerResult, error) {
	res := LayerResult{Layer: b.Name()}
	dec, err := decoder(g, b, rand.New(rand.NewPCG(mix(cfg.Seed, k, 0, 1), 0x0dec0de)))
	if err != nil {
		return res, err
	}
	var params []*nn.Param
	for _, n := range b.Nodes {
		params = append(params, n.Op.Params()...)
	}
	params = append(params, dec.Params()...)
	opt, err := optim.New(optim.Config{Name: "adam", LR: cfg.LR})
	if err != nil {
		return res, err
	}
	inf := nn.NewCtx(false, 0)
	trc := nn.NewCtx(true, cfg.Seed)
	sigma := -1.0
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		t0 := time.Now()
		var sse, ss, cnt float64
		var seen, nb int
		steps := ld.NumBatches()
		for bt := range ld.Epoch(epoch) {
			x := tensor.FromData(bt.X, bt.N, bt.C, bt.H, bt.W)
			h, err := prefix(g, inf, x, b.Input)
			if err != nil {
				return res, err
			}
			h = h.Clone()
			inf.Reset()
			if sigma < 0 {
				sigma = cfg.Noise * math.Sqrt(variance(h.Data))
			}
			rng := rand.New(rand.NewPCG(mix(cfg.Seed, k, epoch, bt.Index), 0x6e6f697365))
			trc.Rng = rng
			hn := corrupt(h, sigma, rng)
			for _, p := range params {
				clear(p.Grad.Data)
			}
			loss, err := step(trc, b, dec, h, hn)
			if err != nil {
				return res, fmt.Errorf("pretrain %s: layer %q, epoch %d, batch %d: %w", g.Name, b.Name(), epoch+1, bt.Index+1, err)
			}
			if _, err := opt.Step(params, cfg.LR); err != nil {
				return res, err
			}
			trc.Reset()
			n := float64(len(h.Data))
			sse += loss * n
			ss += variance(h.Data) * n
			cnt += n
			seen += bt.N
			nb++
			if nb%20 == 0 || nb == steps {
				fmt.Fprintf(log, "\rpretrain layer %d/%d %s epoch %d/%d batch %d/%d recon %.4f %.0f img/s   ", k+1, nblocks, b.Name(), epoch+1, cfg.Epochs,
					nb, steps, sse/ss, float64(seen)/time.Since(t0).Seconds())
			}
		}
		fmt.Fprintln(log)
		res.Loss = append(res.Loss, sse/ss)
	}
	if !cfg.KeepScale {
		if err := renormalise(g, b, ld, inf); err != nil {
			return res, err
		}
	}
	return res, nil
}

// renormalise rescales the weighted layer of b per output channel so that its outputs on the
// first batch of epoch 0 have mean 0 (when it has a bias) and SD 1.
func renormalise(g *nn.Graph, b *Block, ld *datasets.Loader, ctx *nn.Ctx) error {
	bt := ld.MakeBatch(0, 0, ld.Order(0))
	h, err := prefix(g, ctx, tensor.FromData(bt.X, bt.N, bt.C, bt.H, bt.W), b.Input)
	if err != nil {
		return err
	}
	n := b.Nodes[0]
	y, _ := n.Op.Forward(ctx, []*tensor.Tensor{h})
	defer ctx.Reset()
	w, bias := n.Param("weight"), n.Param("bias")
	if w == nil {
		return fmt.Errorf("pretrain %s: layer %q has no weight", g.Name, n.Name)
	}
	ch := y.Shape[1]
	per := len(y.Data) / (y.Shape[0] * ch) // positions per channel and sample
	wper := len(w.Value.Data) / ch
	for c := 0; c < ch; c++ {
		var s, ss float64
		for i := 0; i < y.Shape[0]; i++ {
			for _, v := range y.Data[(i*ch+c)*per : (i*ch+c+1)*per] {
				s += float64(v)
				ss += float64(v) * float64(v)
			}
		}
		cnt := float64(y.Shape[0] * per)
		m := s / cnt
		if bias == nil {
			m = 0
		}
		sd := math.Sqrt(max(ss/cnt-m*m, 0))
		if sd < 1e-8 || math.IsNaN(sd) {
			continue
		}
		for i := c * wper; i < (c+1)*wper; i++ {
			w.Value.Data[i] = float32(float64(w.Value.Data[i]) / sd)
		}
		if bias != nil {
			bias.Value.Data[c] = float32((float64(bias.Value.Data[c]) - m) / sd)
		}
	}
	return nil
}

// step runs the encoder on hn and the decoder on its output, accumulates the gradients of the
// mean squared error against h into the parameters' Grad and returns the error.
func step(ctx *nn.Ctx, b *Block, dec nn.Op, h, hn *tensor.Tensor) (float64, error) {
	type rec struct {
		in    *tensor.Tensor
		out   *tensor.Tensor
		cache any
	}
	recs := make([]rec, len(b.Nodes))
	cur := hn
	for i, n := range b.Nodes {
		out, cache := n.Op.Forward(ctx, []*tensor.Tensor{cur})
		recs[i] = rec{cur, out, cache}
		cur = out
	}
	r, dcache := dec.Forward(ctx, []*tensor.Tensor{cur})
	if len(r.Data) != len(h.Data) {
		return 0, fmt.Errorf("decoder gives %v for an input of %v", r.Shape, h.Shape)
	}
	dr := tensor.New(r.Shape...)
	var loss float64
	scale := 2 / float64(len(r.Data))
	for i, v := range r.Data {
		d := float64(v) - float64(h.Data[i])
		loss += d * d
		dr.Data[i] = float32(scale * d)
	}
	loss /= float64(len(r.Data))
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, fmt.Errorf("reconstruction loss is %v", loss)
	}
	d := dec.Backward(ctx, dcache, []*tensor.Tensor{cur}, r, dr, []bool{true})[0]
	for i := len(recs) - 1; i >= 0; i-- {
		rc := recs[i]
		gs := b.Nodes[i].Op.Backward(ctx, rc.cache, []*tensor.Tensor{rc.in}, rc.out, d.Reshape(rc.out.Shape...), []bool{i > 0})
		if i > 0 {
			d = gs[0]
		}
	}
	return loss, nil
}

// prefix computes the output of node target for images x in inference mode, running only the
// nodes it depends on, in declaration order.
func prefix(g *nn.Graph, ctx *nn.Ctx, x *tensor.Tensor, target string) (*tensor.Tensor, error) {
	if target == nn.InputName {
		return x, nil
	}
	need := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if name == nn.InputName || need[name] {
			return
		}
		need[name] = true
		for _, in := range g.Node(name).Inputs {
			visit(in)
		}
	}
	visit(target)
	outs := map[string]*tensor.Tensor{nn.InputName: x}
	for _, n := range g.Nodes {
		if !need[n.Name] {
			continue
		}
		ins := make([]*tensor.Tensor, len(n.Inputs))
		for i, in := range n.Inputs {
			if ins[i] = outs[in]; ins[i] == nil {
				return nil, fmt.Errorf("pretrain %s: layer %q is declared before its input %q", g.Name, n.Name, in)
			}
		}
		outs[n.Name], _ = n.Op.Forward(ctx, ins)
		if n.Name == target {
			break
		}
	}
	return outs[target], nil
}

func corrupt(h *tensor.Tensor, sigma float64, rng *rand.Rand) *tensor.Tensor {
	out := h.Clone()
	if sigma == 0 {
		return out
	}
	for i := range out.Data {
		out.Data[i] += float32(sigma * rng.NormFloat64())
	}
	return out
}

func variance(x []float32) float64 {
	var s, ss float64
	for _, v := range x {
		s += float64(v)
		ss += float64(v) * float64(v)
	}
	n := float64(len(x))
	return max(ss/n-(s/n)*(s/n), 0)
}

// mix derives a stream seed from the seed and three counters (splitmix64 finaliser).
func mix(seed uint64, a, b, c int) uint64 {
	z := seed ^ uint64(a)*0x9e3779b97f4a7c15 ^ uint64(b)*0xbf58476d1ce4e5b9 ^ uint64(c)*0x94d049bb133111eb
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}
