// Package constraints is the biological-constraints experiment: it trains one architecture with
// and without each of the switches of models.Constrain (locally connected layers instead of
// convolutions, Dale's law with an explicit inhibitory population, average instead of max
// pooling, and an untrained random-weight baseline), then scores every variant on the
// built-in 92-image IT benchmarks (Kriegeskorte et al. 2008: monkey IT and human IT RSA), so
// that one table shows what each constraint costs in accuracy and buys (or not) in brain
// similarity.
package constraints

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
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
	// InhibitoryFraction is passed to the Dale switch (0: its default).
	InhibitoryFraction float64
	TrainN, TestN      int // training and test images (subsets of Train and Test; <= 0: all)
	Epochs, Batch      int
	LR                 float64 // Adam learning rate
	Seed               uint64  // weights, batch order, benchmark split and bootstrap
	Bootstrap          int     // benchmark bootstrap samples (< 0: none)
	Threads            int
	Log                io.Writer
}

// Defaults: cifar-cnn on 2,000 CIFAR-10 training images for 2 epochs (Adam 0.001, batch 32),
// 1,000 test images, 100 bootstrap samples, variants none, unshared, dale, avgpool, random. It
// runs in a few minutes on two CPU cores; the networks are far from converged, so the table
// compares constraints at an equal, short training budget.
func Defaults() Config {
	return Config{Model: "cifar-cnn", Data: "cifar10", Variants: []string{"none", "unshared", "dale", "avgpool", "random"},
		TrainN: 2000, TestN: 1000, Epochs: 2, Batch: 32, LR: 0.001, Seed: 1, Bootstrap: 100}
}

// Row is one variant's outcome.
type Row struct {
	Variant     string
	Model       string // the constrained model's name
	Params      int
	Trained     bool
	TestAcc     float64
	MonkeyLayer string
	MonkeyIT    float64 // raw RSA (Spearman) of the best layer, chosen on held-out stimuli
	MonkeyNorm  float64 // ... divided by the noise ceiling (NaN without one)
	HumanLayer  string
	HumanIT     float64
	HumanNorm   float64
	Seconds     float64 // training plus scoring time
}

// Settings describes a configuration in one line, for tables and logs.
func (c Config) Settings() string {
	return fmt.Sprintf("model %s, data %s, %d training images x %d epochs, batch %d, Adam lr %g, %d test images, seed %d, bootstrap %d, variants %s",
		c.Model, c.Data, c.TrainN, c.Epochs, c.Batch, c.LR, c.TestN, c.Seed, c.Bootstrap, strings.Join(c.Variants, " "))
}

func (c Config) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, a...)
	}
}

// Run trains and scores every variant.
func Run(cfg Config) ([]Row, error) {
	if len(cfg.Variants) == 0 {
		return nil, fmt.Errorf("constraints: no variants")
	}
	if cfg.Epochs < 0 || cfg.Batch <= 0 || cfg.LR <= 0 {
		return nil, fmt.Errorf("constraints: epochs %d, batch %d and lr %g must be positive", cfg.Epochs, cfg.Batch, cfg.LR)
	}
	if cfg.Threads > 0 {
		tensor.SetThreads(cfg.Threads)
	}
	var sw []models.Constraints
	for _, v := range cfg.Variants {
		c, err := models.ParseConstraints(strings.ReplaceAll(v, "+", ","))
		if err != nil {
			return nil, fmt.Errorf("constraints: variant %q: %w", v, err)
		}
		c.InhibitoryFraction = cfg.InhibitoryFraction
		sw = append(sw, c)
	}
	base, err := models.Resolve(cfg.Model)
	if err != nil {
		return nil, err
	}
	// Check every variant before any training, so a bad switch fails at once.
	for i, c := range sw {
		if _, err := models.Constrain(base, c); err != nil {
			return nil, fmt.Errorf("constraints: variant %q: %w", cfg.Variants[i], err)
		}
	}
	trainSet, testSet := cfg.Train, cfg.Test
	if trainSet == nil {
		if trainSet, err = datasets.Load(cfg.Data, "train"); err != nil {
			return nil, err
		}
	}
	if testSet == nil {
		if testSet, err = datasets.Load(cfg.Data, "test"); err != nil {
			return nil, err
		}
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
	// Score the layers of the unconstrained model (the switches keep their names), so every
	// variant's best layer is chosen from the same list.
	if err := base.Build(cfg.Seed); err != nil {
		return nil, err
	}
	layers := benchmarks.DefaultLayers(base)
	cfg.logf("settings: %s\n", cfg.Settings())
	var rows []Row
	for i, c := range sw {
		start := time.Now()
		g, err := models.Constrain(base, c)
		if err != nil {
			return nil, err
		}
		if err := g.Build(cfg.Seed); err != nil {
			return nil, fmt.Errorf("variant %s: %w", cfg.Variants[i], err)
		}
		row := Row{Variant: cfg.Variants[i], Model: g.Name, Params: g.NumParams(), Trained: !models.IsRandom(g) && cfg.Epochs > 0}
		cfg.logf("variant %s (%s): %d parameters; %s\n", row.Variant, g.Name, row.Params, models.ConstrainedLayers(g))
		if row.Trained {
			_, err := train.Run(train.Config{Model: g, Train: trainSet, Test: testSet, DataName: cfg.Data, Epochs: cfg.Epochs,
				Batch: cfg.Batch, Optim: optim.Config{Name: "adam", LR: cfg.LR}, Seed: cfg.Seed, Log: cfg.Log})
			if err != nil {
				return nil, fmt.Errorf("variant %s: %w", row.Variant, err)
			}
		}
		if row.TestAcc, _, err = train.Evaluate(g, testSet, 0); err != nil {
			return nil, fmt.Errorf("variant %s: %w", row.Variant, err)
		}
		res := make([]*benchmarks.Result, len(specs))
		for k, s := range specs {
			if res[k], err = benchmarks.Score(g, s, benchmarks.Options{Layers: layers, Seed: cfg.Seed, Bootstrap: cfg.Bootstrap}); err != nil {
				return nil, fmt.Errorf("variant %s, %s: %w", row.Variant, s.Name, err)
			}
		}
		row.MonkeyLayer, row.MonkeyIT, row.MonkeyNorm = best(res[0])
		row.HumanLayer, row.HumanIT, row.HumanNorm = best(res[1])
		row.Seconds = time.Since(start).Seconds()
		cfg.logf("variant %s: test accuracy %.3f, monkey IT %.3f (%s), human IT %.3f normalised (%s), %.0fs\n",
			row.Variant, row.TestAcc, row.MonkeyIT, row.MonkeyLayer, row.HumanNorm, row.HumanLayer, row.Seconds)
		rows = append(rows, row)
	}
	return rows, nil
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
var Header = []string{"variant", "model", "params", "trained", "test_acc", "monkey_it_layer", "monkey_it_rsa", "monkey_it_normalized",
	"human_it_layer", "human_it_rsa", "human_it_normalized", "seconds"}

// WriteTable prints the rows with the settings.
func WriteTable(w io.Writer, cfg Config, rows []Row) error {
	fmt.Fprintf(w, "Biological constraints on %s, scored on %s and %s\n", cfg.Model, MonkeyIT, HumanIT)
	fmt.Fprintf(w, "settings: %s\n", cfg.Settings())
	fmt.Fprintln(w, "IT scores: held-out RSA of the best layer (chosen on the other half of the 92 stimuli); human IT normalised by its noise ceiling")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "variant\tparams\ttrained\ttest acc\tmonkey IT\t(layer)\thuman IT norm\t(layer)\tseconds")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%.3f\t%.3f\t%s\t%.3f\t%s\t%.0f\n", r.Variant, r.Params, r.Trained, r.TestAcc,
			r.MonkeyIT, r.MonkeyLayer, r.HumanNorm, r.HumanLayer, r.Seconds)
	}
	return tw.Flush()
}

// WriteCSV writes the rows to path (with a header), atomically.
func WriteCSV(path string, rows []Row) error {
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write(Header)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range rows {
		cw.Write([]string{r.Variant, r.Model, strconv.Itoa(r.Params), strconv.FormatBool(r.Trained), f(r.TestAcc), r.MonkeyLayer,
			f(r.MonkeyIT), f(r.MonkeyNorm), r.HumanLayer, f(r.HumanIT), f(r.HumanNorm), f(r.Seconds)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return nn.WriteFileAtomic(path, []byte(b.String()))
}
