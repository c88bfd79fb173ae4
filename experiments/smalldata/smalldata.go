// Package smalldata is the small-data experiment: CIFAR-10 test accuracy against the number of
// labelled training images, for a network trained from scratch, the same network pretrained
// layer by layer as denoising autoencoders on unlabelled images (package pretrain) and then
// fine-tuned, and an ImageNet-trained MobileNet with a new classifier, either trained alone on
// the frozen network's features or with the whole network fine-tuned. It answers how much
// unsupervised and ImageNet pretraining buy when labels are few.
//
// Data: a fixed draw of the training set is the labelled pool (as large as the largest size);
// each seed takes its own nested subsets of it (the first N of a seeded permutation), so every
// size of a seed extends the smaller ones. The unlabelled images for pretraining are a fixed
// draw of the rest of the training set, disjoint from the pool. Accuracy is measured on a fixed
// subset of the test set (train.Subset). No augmentation anywhere, so that the head-only
// condition can train on cached features: the frozen network's features of each image are
// computed once and the new classifier, a linear layer, trains on them, which is the same
// computation as training the head behind the frozen network, at a fraction of the cost.
//
// Results are written after every run and a rerun with the same settings skips finished runs.
package smalldata

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/pretrain"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// The conditions, in table order.
const (
	Scratch      = "scratch"
	Autoencoder  = "autoencoder"
	ImageNetHead = "imagenet-head"
	ImageNetFull = "imagenet-full"
)

// Conditions lists every condition.
var Conditions = []string{Scratch, Autoencoder, ImageNetHead, ImageNetFull}

// Config sets up the experiment; start from Defaults.
type Config struct {
	// Train and Test are the labelled training and test sets (CIFAR-10).
	Train, Test *datasets.Dataset `json:"-"`
	Sizes       []int             `json:"sizes"`
	Seeds       []uint64          `json:"seeds"`
	Conditions  []string          `json:"conditions"`
	// Model is the network trained from scratch and pretrained (a zoo name or spec file).
	Model string `json:"model"`
	// ImageNet is the ImageNet-trained network given a new head (a registered name, a file).
	ImageNet string `json:"imagenet"`
	// Epochs of the scratch and autoencoder runs, at least MinSteps steps.
	Epochs int `json:"epochs"`
	// FineTuneEpochs of the full MobileNet fine-tuning, at least MinSteps steps.
	FineTuneEpochs int `json:"finetune_epochs"`
	// HeadEpochs of the new classifier on cached features, at least MinSteps steps.
	HeadEpochs int `json:"head_epochs"`
	MinSteps   int `json:"min_steps"`
	Batch      int `json:"batch"`
	// LR is Adam's learning rate for scratch, autoencoder and head runs; FineTuneLR for the
	// whole ImageNet network.
	LR         float64 `json:"lr"`
	FineTuneLR float64 `json:"finetune_lr"`
	// Pool is the number of training images the labelled subsets are drawn from (at least the
	// largest size).
	Pool int `json:"pool"`
	// Unlabelled images (from outside the labelled pool) for the autoencoders.
	Unlabelled     int     `json:"unlabelled"`
	PretrainEpochs int     `json:"pretrain_epochs"`
	PretrainNoise  float64 `json:"pretrain_noise"`
	// PretrainDense pretrains the dense layers too (by default only the convolutions: on
	// cifar-cnn the dense autoencoder on 4,096 inputs reconstructed worse than the mean, and
	// with its weights fine-tuning stayed at chance).
	PretrainDense bool `json:"pretrain_dense,omitempty"`
	// TestSize > 0 evaluates on that many test images (train.Subset), else all.
	TestSize int `json:"test_size"`
	// Out receives results.csv, accuracy.png, summary.txt and the pretrained weights.
	Out string    `json:"-"`
	Log io.Writer `json:"-"`
}

// Defaults fit about half an hour on two free cores (see the README).
func Defaults() Config {
	return Config{Sizes: []int{100, 300, 1000, 3000, 10000}, Seeds: []uint64{1, 2, 3}, Conditions: Conditions,
		Model: "cifar-cnn", ImageNet: "mobilenetv1-0.25-imagenet-tflite", Epochs: 3, FineTuneEpochs: 1, HeadEpochs: 30,
		MinSteps: 100, Batch: 32, LR: 1e-3, FineTuneLR: 3e-4, Pool: 10000, Unlabelled: 10000, PretrainEpochs: 1, PretrainNoise: 0.3, TestSize: 2000}
}

// Row is one run.
type Row struct {
	Condition string
	Size      int
	Seed      uint64
	Epochs    int
	Steps     int
	TestAcc   float64
	Seconds   float64
}

// Summary is one condition and size over seeds.
type Summary struct {
	Condition  string
	Size       int
	Mean, SD   float64
	N          int
	MeanSecond float64
}

func (c Config) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, a...)
	}
}

func (c Config) validate() error {
	if c.Train == nil || c.Test == nil {
		return errors.New("small-data: no training or test set")
	}
	if len(c.Sizes) == 0 || len(c.Seeds) == 0 || len(c.Conditions) == 0 {
		return errors.New("small-data: sizes, seeds and conditions must not be empty")
	}
	for _, s := range c.Sizes {
		if s <= 0 {
			return fmt.Errorf("small-data: size %d must be positive", s)
		}
	}
	for _, cd := range c.Conditions {
		if !slices.Contains(Conditions, cd) {
			return fmt.Errorf("small-data: unknown condition %q (expected %s)", cd, strings.Join(Conditions, ", "))
		}
	}
	if c.Epochs <= 0 || c.FineTuneEpochs <= 0 || c.HeadEpochs <= 0 || c.Batch <= 0 || c.MinSteps < 0 {
		return fmt.Errorf("small-data: epochs (%d, %d, %d) and batch (%d) must be positive", c.Epochs, c.FineTuneEpochs, c.HeadEpochs, c.Batch)
	}
	if slices.Max(c.Sizes) > c.Pool {
		return fmt.Errorf("small-data: size %d exceeds the labelled pool of %d images", slices.Max(c.Sizes), c.Pool)
	}
	need := c.Pool
	if slices.Contains(c.Conditions, Autoencoder) {
		if c.Unlabelled <= 0 {
			return fmt.Errorf("small-data: the autoencoder condition needs unlabelled images (have %d)", c.Unlabelled)
		}
		need += c.Unlabelled
	}
	if need > c.Train.N {
		return fmt.Errorf("small-data: a labelled pool of %d plus %d unlabelled images exceed the %d training images", c.Pool, c.Unlabelled, c.Train.N)
	}
	return nil
}

// Run runs every (condition, size, seed) not already in Out's results and returns all rows.
func Run(cfg Config) ([]Row, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sizes := slices.Clone(cfg.Sizes)
	sort.Ints(sizes)
	maxN := cfg.Pool
	perm := rand.New(rand.NewPCG(0x5a11da7a, uint64(cfg.Train.N))).Perm(cfg.Train.N)
	pool := pick(cfg.Train, perm[:maxN], "labelled pool")
	var unlab *datasets.Dataset
	if slices.Contains(cfg.Conditions, Autoencoder) {
		unlab = pick(cfg.Train, perm[maxN:maxN+cfg.Unlabelled], "unlabelled")
		unlab.Labels, unlab.Classes = nil, nil
	}
	test := train.Subset(cfg.Test, cfg.TestSize)

	var done []Row
	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return nil, err
		}
		var err error
		if done, err = previous(cfg); err != nil {
			return nil, err
		}
	}
	rows := slices.Clone(done)
	has := func(cond string, n int, seed uint64) bool {
		return slices.ContainsFunc(done, func(r Row) bool { return r.Condition == cond && r.Size == n && r.Seed == seed })
	}
	add := func(r Row) error {
		rows = append(rows, r)
		cfg.logf("%-14s n=%-6d seed %d: test accuracy %.4f (%d epochs, %d steps, %.0f s)\n", r.Condition, r.Size, r.Seed, r.TestAcc, r.Epochs, r.Steps, r.Seconds)
		if cfg.Out == "" {
			return nil
		}
		return WriteCSV(filepath.Join(cfg.Out, CSVFile), rows)
	}
	subsets := map[uint64][]int{}
	for _, seed := range cfg.Seeds {
		subsets[seed] = rand.New(rand.NewPCG(seed, 0x5ab5e7)).Perm(maxN)
	}

	// ImageNet network: features of the pool and the test images, computed once.
	var inet *imagenet
	for _, cond := range cfg.Conditions {
		if cond != ImageNetHead && cond != ImageNetFull {
			continue
		}
		for _, seed := range cfg.Seeds {
			for _, n := range sizes {
				if has(cond, n, seed) {
					continue
				}
				if inet == nil {
					var err error
					if inet, err = loadImageNet(cfg, pool, test); err != nil {
						return nil, err
					}
				}
				t0 := time.Now()
				idx := subsets[seed][:n]
				var r Row
				var err error
				if cond == ImageNetHead {
					r, _, err = inet.trainHead(cfg, idx, seed)
				} else {
					r, err = inet.full(cfg, pick(pool, idx, "labelled"), test, seed)
				}
				if err != nil {
					return nil, fmt.Errorf("small-data: %s, %d images, seed %d: %w", cond, n, seed, err)
				}
				r.Condition, r.Size, r.Seed, r.Seconds = cond, n, seed, time.Since(t0).Seconds()
				if err := add(r); err != nil {
					return nil, err
				}
			}
		}
	}

	for _, cond := range []string{Scratch, Autoencoder} {
		if !slices.Contains(cfg.Conditions, cond) {
			continue
		}
		for _, seed := range cfg.Seeds {
			var prePath string
			for _, n := range sizes {
				if has(cond, n, seed) {
					continue
				}
				t0 := time.Now()
				g, err := train.LoadModel(cfg.Model)
				if err != nil {
					return nil, err
				}
				if err := g.Build(seed); err != nil {
					return nil, err
				}
				if cond == Autoencoder {
					if prePath == "" {
						if prePath, err = pretrained(cfg, unlab, seed); err != nil {
							return nil, err
						}
					}
					if err := train.LoadWeights(g, prePath); err != nil {
						return nil, err
					}
				}
				r, err := supervised(cfg, g, pick(pool, subsets[seed][:n], "labelled"), test, seed, cfg.Epochs, cfg.LR)
				if err != nil {
					return nil, fmt.Errorf("small-data: %s, %d images, seed %d: %w", cond, n, seed, err)
				}
				r.Condition, r.Size, r.Seed, r.Seconds = cond, n, seed, time.Since(t0).Seconds()
				if err := add(r); err != nil {
					return nil, err
				}
			}
		}
	}
	return rows, nil
}

// pretrained pretrains cfg.Model (built with seed) on unlab and returns the weights' file;
// with Out the file is kept there and reused (and an interrupted pretraining continued).
func pretrained(cfg Config, unlab *datasets.Dataset, seed uint64) (string, error) {
	g, err := train.LoadModel(cfg.Model)
	if err != nil {
		return "", err
	}
	if err := g.Build(seed); err != nil {
		return "", err
	}
	dir := ""
	if cfg.Out != "" {
		dir = filepath.Join(cfg.Out, fmt.Sprintf("pretrain-seed%d", seed))
	} else {
		if dir, err = os.MkdirTemp("", "smalldata-pretrain"); err != nil {
			return "", err
		}
	}
	mean, std, err := norm(g)
	if err != nil {
		return "", err
	}
	cfg.logf("autoencoder pretraining of %s, seed %d, on %d unlabelled images\n", cfg.Model, seed, unlab.N)
	pc := pretrain.Config{Epochs: cfg.PretrainEpochs, Batch: cfg.Batch, Noise: cfg.PretrainNoise, Clean: cfg.PretrainNoise == 0,
		Seed: seed, Mean: mean, Std: std, Dir: dir, Log: cfg.Log, ConvOnly: !cfg.PretrainDense}
	res, err := pretrain.Run(g, unlab, pc)
	if err != nil {
		return "", err
	}
	for _, r := range res {
		cfg.logf("  %s: reconstruction error %.3f of the input variance\n", r.Layer, r.Loss[len(r.Loss)-1])
	}
	return filepath.Join(dir, pretrain.CheckpointFile), nil
}

// epochsFor is epochs, or more so that the run has at least minSteps steps.
func epochsFor(n, batch, epochs, minSteps int) int {
	per := (n + batch - 1) / batch
	return max(epochs, (minSteps+per-1)/per)
}

// supervised trains g on data with Adam (no augmentation) and evaluates it on test.
func supervised(cfg Config, g *nn.Graph, data, test *datasets.Dataset, seed uint64, epochs int, lr float64) (Row, error) {
	e := epochsFor(data.N, cfg.Batch, epochs, cfg.MinSteps)
	res, err := train.Run(train.Config{Model: g, Train: data, DataName: "cifar10", Epochs: e, Batch: cfg.Batch, Seed: seed,
		Optim: optim.Config{Name: "adam", LR: lr}})
	if err != nil {
		return Row{}, err
	}
	acc, _, err := train.Evaluate(g, test, 256)
	if err != nil {
		return Row{}, err
	}
	return Row{Epochs: e, Steps: res.Rows[len(res.Rows)-1].Step, TestAcc: acc}, nil
}

// imagenet is the ImageNet network prepared for the data: a new head behind the feature node,
// and the features of the pool and the test images.
type imagenet struct {
	base        *nn.Graph
	feature     string // the node feeding the classifier
	headName    string
	checked     bool              // the head's accuracy on features agreed with the network's
	pool, test  *datasets.Dataset // the images
	fPool, fTst *datasets.Dataset // their features, as [F 1 1] images
}

func loadImageNet(cfg Config, pool, test *datasets.Dataset) (*imagenet, error) {
	base, err := train.LoadModel(cfg.ImageNet)
	if err != nil {
		return nil, err
	}
	in := &imagenet{base: base, pool: pool, test: test}
	g, err := in.prepare(cfg, 0, false)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	cfg.logf("features of %s at %s for %d + %d images\n", cfg.ImageNet, in.feature, pool.N, test.N)
	if in.fPool, err = features(g, in.feature, pool); err != nil {
		return nil, err
	}
	if in.fTst, err = features(g, in.feature, test); err != nil {
		return nil, err
	}
	cfg.logf("features: %.0f s\n", time.Since(t0).Seconds())
	return in, nil
}

// prepare gives the network a new head for the data's classes (initialised from seed) and
// the upsampling its input needs, frozen up to the feature node when freeze is set.
func (in *imagenet) prepare(cfg Config, seed uint64, freeze bool) (*nn.Graph, error) {
	ft := train.FineTune{Classes: in.pool.Classes, Seed: seed, Input: []int{in.pool.C, in.pool.H, in.pool.W}}
	g, err := train.PrepareFineTune(in.base, ft)
	if err != nil {
		return nil, err
	}
	if in.headName == "" {
		for _, n := range g.Nodes {
			if t := n.Op.Type(); t == "dense" || t == "conv2d" {
				in.headName = n.Name
			}
		}
		h := g.Node(in.headName)
		if h == nil || len(h.Inputs) != 1 {
			return nil, fmt.Errorf("%s: no classifier with one input", cfg.ImageNet)
		}
		in.feature = h.Inputs[0]
	}
	if freeze {
		ft.FreezeUntil = in.feature
		return train.PrepareFineTune(in.base, ft)
	}
	return g, nil
}

// features runs g in inference mode to node and returns its outputs as a data set of
// [F 1 1] images with ds's labels.
func features(g *nn.Graph, node string, ds *datasets.Dataset) (*datasets.Dataset, error) {
	mean, std, err := norm(g)
	if err != nil {
		return nil, err
	}
	ctx := nn.NewCtx(false, 0)
	per := ds.ImageSize()
	const batch = 64
	buf := make([]float32, batch*per)
	var out []float32
	f := 0
	for lo := 0; lo < ds.N; lo += batch {
		m := min(batch, ds.N-lo)
		copy(buf, ds.X[lo*per:(lo+m)*per])
		for i := 0; mean != nil && i < m; i++ {
			datasets.Normalize(buf[i*per:(i+1)*per], ds.C, mean, std)
		}
		tr, err := g.Forward(ctx, tensor.FromData(buf[:m*per], m, ds.C, ds.H, ds.W), node)
		if err != nil {
			return nil, err
		}
		t := tr.Out(node)
		if f == 0 {
			f = t.Len() / m
			out = make([]float32, 0, ds.N*f)
		}
		out = append(out, t.Data[:m*f]...)
		ctx.Reset()
	}
	return &datasets.Dataset{Name: ds.Name + " features", X: out, Labels: ds.Labels, Classes: ds.Classes, N: ds.N, C: f, H: 1, W: 1}, nil
}

// trainHead trains a linear classifier on the cached features of the pool images idx, starting
// from the new head's initial weights, puts it into the frozen network and tests that on the
// test images.
func (in *imagenet) trainHead(cfg Config, idx []int, seed uint64) (Row, *nn.Graph, error) {
	g, err := in.prepare(cfg, seed, true)
	if err != nil {
		return Row{}, nil, err
	}
	w, b, err := headParams(g, in.headName)
	if err != nil {
		return Row{}, nil, err
	}
	f := in.fPool.C
	lin := &nn.Graph{Name: "head", InputShape: []int{f, 1, 1}}
	lin.Chain("head", &nn.Dense{Out: len(in.pool.Classes)})
	if err := lin.Build(seed); err != nil {
		return Row{}, nil, err
	}
	lw, lb, _ := headParams(lin, "head")
	if len(lw.Value.Data) != len(w.Value.Data) || (b == nil) != (lb == nil) {
		return Row{}, nil, fmt.Errorf("%s: classifier %s has weights %v, expected %d x %d", cfg.ImageNet, in.headName, w.Value.Shape, len(in.pool.Classes), f)
	}
	copy(lw.Value.Data, w.Value.Data)
	if b != nil {
		copy(lb.Value.Data, b.Value.Data)
	}
	r, err := supervised(cfg, lin, pick(in.fPool, idx, "features"), in.fTst, seed, cfg.HeadEpochs, cfg.LR)
	if err != nil {
		return Row{}, nil, err
	}
	copy(w.Value.Data, lw.Value.Data)
	if b != nil {
		copy(b.Value.Data, lb.Value.Data)
	}
	// The accuracy on the cached test features is the frozen network's with this head; the
	// first run checks that on the images themselves.
	if !in.checked {
		acc, _, err := train.Evaluate(g, in.test, 64)
		if err != nil {
			return Row{}, nil, err
		}
		if math.Abs(acc-r.TestAcc) > 0.005 {
			return Row{}, nil, fmt.Errorf("%s: the head scores %.4f on the cached features but %.4f in the network", cfg.ImageNet, r.TestAcc, acc)
		}
		in.checked = true
	}
	return r, g, nil
}

func headParams(g *nn.Graph, name string) (w, b *nn.Param, err error) {
	n := g.Node(name)
	if n == nil {
		return nil, nil, fmt.Errorf("%s: no layer %q", g.Name, name)
	}
	w, b = n.Param("weight"), n.Param("bias")
	if w == nil {
		return nil, nil, fmt.Errorf("%s: layer %q has no weight", g.Name, name)
	}
	return w, b, nil
}

// full fine-tunes the whole network with its new head.
func (in *imagenet) full(cfg Config, data, test *datasets.Dataset, seed uint64) (Row, error) {
	g, err := in.prepare(cfg, seed, false)
	if err != nil {
		return Row{}, err
	}
	return supervised(cfg, g, data, test, seed, cfg.FineTuneEpochs, cfg.FineTuneLR)
}

func norm(g *nn.Graph) (mean, std []float32, err error) {
	p, ok, err := stimuli.FromMeta(g)
	if err != nil || !ok || len(p.Mean) == 0 {
		return nil, nil, err
	}
	return p.Mean, p.Std, nil
}

// pick returns the images idx of ds, in that order.
func pick(ds *datasets.Dataset, idx []int, what string) *datasets.Dataset {
	per := ds.ImageSize()
	s := *ds
	s.Name = ds.Name + " (" + what + ")"
	s.N = len(idx)
	s.X = make([]float32, len(idx)*per)
	s.Files = nil
	if ds.Labels != nil {
		s.Labels = make([]int, len(idx))
	}
	for i, j := range idx {
		copy(s.X[i*per:(i+1)*per], ds.X[j*per:(j+1)*per])
		if ds.Labels != nil {
			s.Labels[i] = ds.Labels[j]
		}
	}
	return &s
}

// CSVFile and the other outputs in Config.Out.
const (
	CSVFile      = "results.csv"
	SettingsFile = "settings.json"
	FigureFile   = "accuracy.png"
	SummaryFile  = "summary.txt"
)

// previous reads the rows of an earlier run with the same settings (none when the settings
// differ or there is no earlier run) and records the settings. Sizes, seeds and conditions
// are not part of the settings: a later invocation adds rows for others.
func previous(cfg Config) ([]Row, error) {
	cfg.Sizes, cfg.Seeds, cfg.Conditions = nil, nil, nil
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	sp := filepath.Join(cfg.Out, SettingsFile)
	old, err := os.ReadFile(sp)
	same := err == nil && bytes.Equal(old, js)
	if err := atomicfile.Write(sp, js); err != nil {
		return nil, err
	}
	if !same {
		return nil, nil
	}
	rows, err := ReadCSV(filepath.Join(cfg.Out, CSVFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return rows, err
}

var header = []string{"condition", "labelled_images", "seed", "epochs", "steps", "test_accuracy", "seconds"}

// WriteCSV writes the rows (atomically).
func WriteCSV(path string, rows []Row) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	for _, r := range rows {
		w.Write([]string{r.Condition, strconv.Itoa(r.Size), strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Epochs), strconv.Itoa(r.Steps),
			strconv.FormatFloat(r.TestAcc, 'f', 4, 64), strconv.FormatFloat(r.Seconds, 'f', 1, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return atomicfile.Write(path, b.Bytes())
}

// ReadCSV reads a file WriteCSV wrote.
func ReadCSV(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(header, ",") {
		return nil, fmt.Errorf("%s: expected the header %s", path, strings.Join(header, ","))
	}
	var rows []Row
	for i, rec := range recs[1:] {
		var r Row
		var errs [6]error
		r.Condition = rec[0]
		r.Size, errs[0] = strconv.Atoi(rec[1])
		r.Seed, errs[1] = strconv.ParseUint(rec[2], 10, 64)
		r.Epochs, errs[2] = strconv.Atoi(rec[3])
		r.Steps, errs[3] = strconv.Atoi(rec[4])
		r.TestAcc, errs[4] = strconv.ParseFloat(rec[5], 64)
		r.Seconds, errs[5] = strconv.ParseFloat(rec[6], 64)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, i+2, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// Summarise gives the mean and SD over seeds per condition and size, in condition order.
func Summarise(rows []Row) []Summary {
	var out []Summary
	for _, cond := range Conditions {
		by := map[int][]Row{}
		for _, r := range rows {
			if r.Condition == cond {
				by[r.Size] = append(by[r.Size], r)
			}
		}
		var sizes []int
		for n := range by {
			sizes = append(sizes, n)
		}
		sort.Ints(sizes)
		for _, n := range sizes {
			s := Summary{Condition: cond, Size: n, N: len(by[n])}
			for _, r := range by[n] {
				s.Mean += r.TestAcc
				s.MeanSecond += r.Seconds
			}
			s.Mean /= float64(s.N)
			s.MeanSecond /= float64(s.N)
			for _, r := range by[n] {
				s.SD += (r.TestAcc - s.Mean) * (r.TestAcc - s.Mean)
			}
			if s.N > 1 {
				s.SD = math.Sqrt(s.SD / float64(s.N-1))
			} else {
				s.SD = math.NaN()
			}
			out = append(out, s)
		}
	}
	return out
}
