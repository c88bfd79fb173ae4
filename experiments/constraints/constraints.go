// Package constraints is the biological-constraints experiment: it trains one architecture with
// and without each of the switches of models.Constrain (locally connected layers instead of
// convolutions, Dale's law with an explicit inhibitory population, average instead of max
// pooling, and an untrained random-weight baseline), and, for the depth question, other
// architectures (Config.Also: the narrow ResNet-10/18/34 series) with the same recipe; then it
// scores every variant on the built-in 92-image IT benchmarks (Kriegeskorte et al. 2008: monkey
// IT and human IT RSA) and tests each against the unconstrained model with a paired bootstrap
// over the held-out stimuli (compare.TestPair, Holm-corrected over the table), so that one
// table shows what each constraint or each extra layer costs in accuracy and buys (or not) in
// brain similarity.
//
// With Config.Out every variant trains in its own run folder there (checkpoint each epoch), and
// a rerun with the same settings resumes or reuses those runs instead of training again: the
// deep variants take tens of minutes each on a laptop.
package constraints

import (
	"encoding/csv"
	"fmt"
	"github.com/ventral-lab/ventral/subject"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/compare"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// The benchmarks every variant is scored on.
const (
	MonkeyIT = "kriegeskorte92-monkeyIT-rsa"
	HumanIT  = "kriegeskorte92-humanIT-rsa"
)

// Config sets up a run; start from Defaults.
type Config struct {
	Model string // a registered model or spec file taking the images of Data
	// Data is the training set name for datasets.Load ("cifar10" or "mnist"); Train and Test,
	// when set, are used instead.
	Data        string
	Train, Test *datasets.Dataset
	// Variants are switch lists for models.ParseConstraints ("none", "dale", "dale+avgpool").
	Variants []string
	// Also are other architectures (zoo names or spec files taking the same images) trained
	// and scored with the same recipe, unconstrained: "resnet18-cifar-w16" asks whether depth
	// makes a network less like IT.
	Also []string
	// InhibitoryFraction is passed to the Dale switch (0: its default).
	InhibitoryFraction float64
	TrainN, TestN      int // training and test images (subsets of Train and Test; <= 0: all)
	Epochs, Batch      int
	// Optimizer is "adam" (default) or "sgd" (Nesterov momentum 0.9); LR its learning rate,
	// WeightDecay its L2 penalty on weights; Cosine anneals the rate to 0 over the run.
	Optimizer   string
	LR          float64
	WeightDecay float64
	Cosine      bool
	// Warmup raises the learning rate linearly over this many first steps (SGD on a network
	// without batchnorm, such as cifar-cnn, can stall at chance without it).
	Warmup int
	// Flip and Crop augment the training images (random horizontal flips; random crops after
	// padding by Crop pixels).
	Flip      bool
	Crop      int
	Seed      uint64 // weights, batch order, benchmark split and bootstrap
	Bootstrap int    // benchmark bootstrap samples (< 0: none, and no paired tests)
	// Out, when set, holds one run folder per variant (see the package documentation) and the
	// settings they were trained with (settings.txt); a rerun with other settings is refused.
	Out     string
	Threads int
	Log     io.Writer
}

// Defaults: cifar-cnn on 2,000 CIFAR-10 training images for 2 epochs (Adam 0.001, batch 32, no
// augmentation),
// 1,000 test images, 100 bootstrap samples, variants none, unshared, dale, avgpool, random. It
// runs in a few minutes on two CPU cores; the networks are far from converged, so the table
// compares constraints at an equal, short training budget.
func Defaults() Config {
	return Config{Model: "cifar-cnn", Data: "cifar10", Variants: []string{"none", "unshared", "dale", "avgpool", "random"},
		TrainN: 2000, TestN: 1000, Epochs: 2, Batch: 32, LR: 0.001, Seed: 1, Bootstrap: 100}
}

// Row is one variant's outcome.
type Row struct {
	Variant string
	Model   string // the constrained model's name
	// Depth is the architecture's depth in weighted layers (models.Depth); a constraint keeps
	// its base model's depth (Dale's inhibitory path is not counted as extra layers).
	Depth       int
	Params      int
	Trained     bool
	TestAcc     float64
	MonkeyLayer string
	MonkeyIT    float64 // raw RSA (Spearman) of the best layer, chosen on held-out stimuli
	MonkeyNorm  float64 // ... divided by the noise ceiling (NaN without one)
	HumanLayer  string
	HumanIT     float64
	HumanNorm   float64
	// Monkey and Human are the paired tests against the reference variant (the unconstrained
	// model: "none", else the first variant); Note says why there is none.
	Monkey, Human compare.Test
	Seconds       float64 // training plus scoring time
}

// Settings describes a configuration in one line, for tables and logs.
func (c Config) Settings() string {
	opt := "Adam"
	if c.Optimizer == "sgd" {
		opt = "SGD (Nesterov 0.9)"
	}
	sched := ""
	if c.Cosine {
		sched = " cosine"
	}
	if c.Warmup > 0 {
		sched += fmt.Sprintf(", warm-up %d steps", c.Warmup)
	}
	aug := ""
	if c.Flip {
		aug += ", flip"
	}
	if c.Crop > 0 {
		aug += fmt.Sprintf(", crop %d", c.Crop)
	}
	vs := ""
	if len(c.Variants) > 0 {
		vs = ", variants " + strings.Join(c.Variants, " ")
	}
	if len(c.Also) > 0 {
		vs += ", also " + strings.Join(c.Also, " ")
	}
	return fmt.Sprintf("model %s, data %s, %d training images x %d epochs, batch %d, %s lr %g%s, weight decay %g%s, %d test images, seed %d, bootstrap %d%s",
		c.Model, c.Data, c.TrainN, c.Epochs, c.Batch, opt, c.LR, sched, c.WeightDecay, aug, c.TestN, c.Seed, c.Bootstrap, vs)
}

func (c Config) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, a...)
	}
}

// variant is one row to train: a switch set on the base model, or another architecture.
type variant struct {
	label string
	graph *nn.Graph // unbuilt
	depth int
	base  bool // the unconstrained base model: the reference of the paired tests
}

// Run trains and scores every variant.
func Run(cfg Config) ([]Row, error) {
	if len(cfg.Variants) == 0 && len(cfg.Also) == 0 {
		return nil, fmt.Errorf("constraints: no variants")
	}
	if cfg.Epochs < 0 || cfg.Batch <= 0 || cfg.LR <= 0 || cfg.WeightDecay < 0 || cfg.Crop < 0 || cfg.Warmup < 0 {
		return nil, fmt.Errorf("constraints: epochs %d, batch %d, lr %g, weight decay %g, crop %d and warm-up %d must not be negative (batch and lr positive)",
			cfg.Epochs, cfg.Batch, cfg.LR, cfg.WeightDecay, cfg.Crop, cfg.Warmup)
	}
	oc := optim.Config{Name: "adam", LR: cfg.LR, WeightDecay: cfg.WeightDecay}
	switch cfg.Optimizer {
	case "", "adam":
	case "sgd":
		oc = optim.Config{Name: "sgd", LR: cfg.LR, Momentum: 0.9, Nesterov: true, WeightDecay: cfg.WeightDecay}
	default:
		return nil, fmt.Errorf("constraints: optimizer %q (expected adam or sgd)", cfg.Optimizer)
	}
	if cfg.Threads > 0 {
		tensor.SetThreads(cfg.Threads)
	}
	base, err := models.Resolve(cfg.Model)
	if err != nil {
		return nil, err
	}
	baseDepth := models.Depth(base)
	// Check every variant before any training, so a bad switch or name fails at once.
	var vs []variant
	for _, v := range cfg.Variants {
		c, err := models.ParseConstraints(strings.ReplaceAll(v, "+", ","))
		if err != nil {
			return nil, fmt.Errorf("constraints: variant %q: %w", v, err)
		}
		c.InhibitoryFraction = cfg.InhibitoryFraction
		g, err := models.Constrain(base, c)
		if err != nil {
			return nil, fmt.Errorf("constraints: variant %q: %w", v, err)
		}
		vs = append(vs, variant{label: v, graph: g, depth: baseDepth, base: c == (models.Constraints{InhibitoryFraction: c.InhibitoryFraction})})
	}
	for _, name := range cfg.Also {
		g, err := models.Resolve(name)
		if err != nil {
			return nil, fmt.Errorf("constraints: --also %s: %w", name, err)
		}
		if !tensor.SameShape(g.InputShape, base.InputShape) {
			return nil, fmt.Errorf("constraints: --also %s takes %v images, %s takes %v", name, g.InputShape, cfg.Model, base.InputShape)
		}
		vs = append(vs, variant{label: g.Name, graph: g, depth: models.Depth(g)})
	}
	seen := map[string]bool{}
	for _, v := range vs {
		if seen[v.graph.Name] {
			return nil, fmt.Errorf("constraints: %s listed twice", v.graph.Name)
		}
		seen[v.graph.Name] = true
	}
	ref := 0
	for i, v := range vs {
		if v.base {
			ref = i
			break
		}
	}
	if cfg.Out != "" {
		if err := claimOut(cfg); err != nil {
			return nil, err
		}
	}
	trainSet, testSet, err := datasets.LoadSplits(cfg.Data, cfg.Train, cfg.Test)
	if err != nil {
		return nil, err
	}
	trainSet, testSet = train.Subset(trainSet, cfg.TrainN), train.Subset(testSet, cfg.TestN)
	var specs []*benchmarks.Spec
	for _, b := range []string{MonkeyIT, HumanIT} {
		s, err := benchmarks.Load(b)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	cache := ""
	if cfg.Out != "" {
		cache = filepath.Join(cfg.Out, "activations")
	} else {
		tmp, err := os.MkdirTemp("", "ventral-constraints-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		cache = tmp
	}
	// A constrained variant's best layer is chosen from the unconstrained model's layers (the
	// switches keep their names), so that every variant chooses from the same list; another
	// architecture chooses from its own.
	if err := base.Build(cfg.Seed); err != nil {
		return nil, err
	}
	baseLayers := subject.GraphDefaultLayers(base)
	cfg.logf("settings: %s\n", cfg.Settings())
	rows := make([]Row, len(vs))
	results := make([][]*benchmarks.Result, len(vs))
	for i, v := range vs {
		start := time.Now()
		g := v.graph
		if err := g.Build(cfg.Seed); err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.label, err)
		}
		row := Row{Variant: v.label, Model: g.Name, Depth: v.depth, Params: g.NumParams(), Trained: !models.IsRandom(g) && cfg.Epochs > 0}
		cfg.logf("variant %s (%s): depth %d, %d parameters; %s\n", row.Variant, g.Name, row.Depth, row.Params, models.ConstrainedLayers(g))
		if row.Trained {
			tc := train.Config{Model: g, Train: trainSet, Test: testSet, DataName: cfg.Data, Epochs: cfg.Epochs, Batch: cfg.Batch, Optim: oc,
				Seed: cfg.Seed, Log: cfg.Log, Augment: train.Augment{Flip: cfg.Flip, Crop: cfg.Crop}}
			if cfg.Cosine {
				tc.Schedule = optim.Schedule{Kind: "cosine"}
			}
			tc.Schedule.WarmupSteps = cfg.Warmup
			if cfg.Out != "" {
				tc.Out = filepath.Join(cfg.Out, runFolder(g.Name))
			}
			if g, err = trainOrResume(tc); err != nil {
				return nil, fmt.Errorf("variant %s: %w", row.Variant, err)
			}
		}
		if row.TestAcc, _, err = train.Evaluate(g, testSet, 0); err != nil {
			return nil, fmt.Errorf("variant %s: %w", row.Variant, err)
		}
		layers := baseLayers
		if i >= len(cfg.Variants) {
			layers = nil // its own DefaultLayers
		}
		results[i] = make([]*benchmarks.Result, len(specs))
		for k, s := range specs {
			if results[i][k], err = benchmarks.Score(subject.FromGraph(g), s, benchmarks.Options{Layers: layers, Seed: cfg.Seed, Bootstrap: cfg.Bootstrap, CacheDir: cache}); err != nil {
				return nil, fmt.Errorf("variant %s, %s: %w", row.Variant, s.Name, err)
			}
		}
		row.MonkeyLayer, row.MonkeyIT, row.MonkeyNorm = best(results[i][0])
		row.HumanLayer, row.HumanIT, row.HumanNorm = best(results[i][1])
		row.Seconds = time.Since(start).Seconds()
		cfg.logf("variant %s: test accuracy %.3f, monkey IT %.3f (%s), human IT %.3f normalised (%s), %.0fs\n",
			row.Variant, row.TestAcc, row.MonkeyIT, row.MonkeyLayer, row.HumanNorm, row.HumanLayer, row.Seconds)
		rows[i] = row
	}
	for i := range rows {
		for k, s := range specs {
			t := compare.Test{Benchmark: s.Name, Model: rows[i].Model, Reference: rows[ref].Model, P: math.NaN(), Diff: math.NaN(),
				DiffLow: math.NaN(), DiffHigh: math.NaN()}
			switch {
			case i == ref:
				t.Note = "the reference"
			case cfg.Bootstrap < 0:
				t.Note = "no bootstrap samples"
			default:
				if t, err = compare.TestPair(results[i][k], results[ref][k]); err != nil {
					return nil, fmt.Errorf("variant %s against %s on %s: %w", rows[i].Variant, rows[ref].Variant, s.Name, err)
				}
			}
			if k == 0 {
				rows[i].Monkey = t
			} else {
				rows[i].Human = t
			}
		}
	}
	// Every variant against the reference on both benchmarks is one family: Holm-correct it.
	var ps []float64
	for i := range rows {
		ps = append(ps, rows[i].Monkey.P, rows[i].Human.P)
	}
	adj := compare.Holm(ps)
	family := 0
	for _, p := range ps {
		if !math.IsNaN(p) {
			family++
		}
	}
	for i := range rows {
		rows[i].Monkey.PHolm, rows[i].Human.PHolm = adj[2*i], adj[2*i+1]
		for _, t := range []*compare.Test{&rows[i].Monkey, &rows[i].Human} {
			if !math.IsNaN(t.P) {
				t.Family = family
			}
		}
	}
	return rows, nil
}

// runFolder is a variant's run folder under Config.Out.
func runFolder(model string) string { return strings.ReplaceAll(model, "+", "_") }

// claimOut records the settings in Out/settings.txt, or checks that the runs already there were
// trained with the same ones (the variants themselves may differ: new ones are added).
func claimOut(cfg Config) error {
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	c := cfg
	c.Variants, c.Also = nil, nil
	want := c.Settings() + "\n"
	path := filepath.Join(cfg.Out, "settings.txt")
	if have, err := os.ReadFile(path); err == nil {
		if string(have) != want {
			return fmt.Errorf("constraints: %s holds runs trained with other settings:\n  %s  now:\n  %s(choose another output folder)", path, have, want)
		}
		return nil
	}
	return nn.WriteFileAtomic(path, []byte(want))
}

// trainOrResume trains tc.Model, or, when tc.Out already holds a checkpoint of the same model,
// resumes that run (which returns at once when it is complete).
func trainOrResume(tc train.Config) (*nn.Graph, error) {
	if tc.Out != "" {
		if _, err := os.Stat(filepath.Join(tc.Out, train.CheckpointFile)); err == nil {
			ck, err := train.LoadCheckpoint(tc.Out)
			if err != nil {
				return nil, err
			}
			if ck.Graph.Name != tc.Model.Name {
				return nil, fmt.Errorf("%s holds a run of %s, not %s", tc.Out, ck.Graph.Name, tc.Model.Name)
			}
			if tc.Log != nil {
				fmt.Fprintf(tc.Log, "resuming %s at epoch %d of %d\n", tc.Out, ck.Epoch, tc.Epochs)
			}
			res, err := train.Resume(tc.Out, train.Config{Train: tc.Train, Test: tc.Test, Epochs: tc.Epochs, Log: tc.Log})
			if err != nil {
				return nil, err
			}
			return res.Graph, nil
		}
	}
	if _, err := train.Run(tc); err != nil {
		return nil, err
	}
	return tc.Model, nil
}

// best returns the benchmark's best layer (chosen on the selection half of the stimuli) and its
// held-out raw and normalised scores.
func best(r *benchmarks.Result) (string, float64, float64) {
	norm := math.NaN()
	if r.HeldOutNormalized != nil {
		norm = *r.HeldOutNormalized
	}
	return r.BestLayer, r.HeldOut, norm
}

// Header is the CSV header of WriteCSV.
var Header = []string{"variant", "model", "depth", "params", "trained", "test_acc", "monkey_it_layer", "monkey_it_rsa", "monkey_it_normalized",
	"monkey_it_diff", "monkey_it_diff_ci_low", "monkey_it_diff_ci_high", "monkey_it_p",
	"human_it_layer", "human_it_rsa", "human_it_normalized", "human_it_diff", "human_it_diff_ci_low", "human_it_diff_ci_high", "human_it_p",
	"reference", "seconds"}

// diff formats a paired test for the table: the difference and its p, or "-".
func diff(t compare.Test) string {
	if t.Note != "" || math.IsNaN(t.Diff) {
		return "-"
	}
	star := ""
	if t.PHolm < compare.Alpha {
		star = "*"
	}
	if t.Family > 1 {
		return fmt.Sprintf("%+.3f p=%.2g (Holm %.2g)%s", t.Diff, t.P, t.PHolm, star)
	}
	return fmt.Sprintf("%+.3f p=%.2g%s", t.Diff, t.P, star)
}

// WriteTable prints the rows with the settings.
func WriteTable(w io.Writer, cfg Config, rows []Row) error {
	fmt.Fprintf(w, "Biological constraints on %s, scored on %s and %s\n", cfg.Model, MonkeyIT, HumanIT)
	fmt.Fprintf(w, "settings: %s\n", cfg.Settings())
	fmt.Fprintln(w, "IT scores: held-out RSA of the best layer (chosen on the other half of the 92 stimuli); human IT normalised by its noise ceiling")
	ref := ""
	for _, r := range rows {
		if r.Monkey.Note == "the reference" {
			ref = r.Variant
		}
	}
	if ref != "" {
		fmt.Fprintf(w, "vs %s: paired bootstrap over the held-out stimuli of the best layers' held-out RSA (difference, two-sided p, Holm-adjusted over all the table's tests; * adjusted p below %.2g)\n", ref, compare.Alpha)
	}
	above := false
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "variant\tdepth\tparams\ttrained\ttest acc\tmonkey IT\t(layer)\tvs %s\thuman IT norm\t(layer)\tvs %s\tseconds\n", ref, ref)
	for _, r := range rows {
		norm := fmt.Sprintf("%.3f", r.HumanNorm)
		if r.HumanNorm > 1 {
			norm += benchmarks.AboveCeilingMark
			above = true
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%.0f\n", r.Variant, r.Depth, r.Params, r.Trained, r.TestAcc,
			r.MonkeyIT, r.MonkeyLayer, diff(r.Monkey), norm, r.HumanLayer, diff(r.Human), r.Seconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if above {
		fmt.Fprintln(w, benchmarks.AboveCeilingNote)
	}
	return nil
}

// WriteCSV writes the rows to path (with a header), atomically.
func WriteCSV(path string, rows []Row) error {
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write(Header)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range rows {
		cw.Write([]string{r.Variant, r.Model, strconv.Itoa(r.Depth), strconv.Itoa(r.Params), strconv.FormatBool(r.Trained), f(r.TestAcc), r.MonkeyLayer,
			f(r.MonkeyIT), f(r.MonkeyNorm), f(r.Monkey.Diff), f(r.Monkey.DiffLow), f(r.Monkey.DiffHigh), f(r.Monkey.P),
			r.HumanLayer, f(r.HumanIT), f(r.HumanNorm), f(r.Human.Diff), f(r.Human.DiffLow), f(r.Human.DiffHigh), f(r.Human.P),
			r.Monkey.Reference, f(r.Seconds)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return nn.WriteFileAtomic(path, []byte(b.String()))
}
