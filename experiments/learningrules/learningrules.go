// Package learningrules is the learning-rules experiment: does a network need backpropagation
// to learn what a CNN learns, and does brain similarity follow? It trains the same
// architecture (lenet5 on MNIST, cifar-cnn on CIFAR-10) with backpropagation (bp), feedback
// alignment (fa), direct feedback alignment (dfa) and sign symmetry (sign), all from package
// rules, and a layer-local Hebbian network (hebbian: the architecture's convolutions trained
// without labels by the soft winner-take-all rule, then a linear readout on their frozen
// features fitted by backpropagation), over several seeds; reports test accuracy (mean and
// sd over seeds, the gap to bp paired by seed), scores the CIFAR-10 networks on the IT, V4 and
// V1 benchmarks, and asks whether brain scores follow accuracy (Spearman's rho over all
// networks and seeds, with a permutation p).
//
// Networks are scored at their ReLU and pooling layers and output (ScoredLayers).
//
// Every rule trains with one recipe (Adam, constant learning rate, no augmentation; the output
// layer starts at zero for every rule, which fa and dfa need, see rules.ZeroOutputLayers), so
// the table compares rules at an equal, short budget, far from convergence.
package learningrules

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/experiments/hierarchy"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/rules"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// Hebbian names the Hebbian network in Config.Rules.
const Hebbian = "hebbian"

// AllRules lists the rules in table order.
var AllRules = []string{"bp", "fa", "dfa", "sign", Hebbian}

// DefaultBenchmarks are the brain benchmarks the CIFAR-10 networks are scored on: IT (monkey
// and human, 92 images), V4 (Cowley et al. 2023) and V1 (Allen Brain Observatory, mouse).
var DefaultBenchmarks = []string{"kriegeskorte92-monkeyIT-rsa", "kriegeskorte92-humanIT-rsa", "cowley2023-v4-210224-pls", "allen-mouseV1-ridge"}

// Config sets up a run; start from Defaults.
type Config struct {
	Rules    []string // from AllRules
	Datasets []string // "mnist", "cifar10"
	// Models per data set (default lenet5 for mnist, cifar-cnn for cifar10).
	Models map[string]string
	// Data, when set for a data set, replaces datasets.Load: [train, test] (tests).
	Data          map[string][2]*datasets.Dataset
	TrainN, TestN int
	Epochs, Batch int
	LR            float64 // Adam's learning rate
	Seeds         []uint64
	// HebbEpochs are the Hebbian passes over the training images per layer; HebbRule the
	// Hebbian rule ("wta", the default, or "oja"; see rules.HebbConfig).
	HebbEpochs int
	HebbRule   string
	// Benchmarks scored on the networks of ScoreData ("" scores none).
	Benchmarks []string
	ScoreData  string
	Bootstrap  int
	// Perms are the random permutations of the Spearman test (exact up to 8 networks).
	Perms   int
	Threads int
	// CacheDir caches activations (default: none).
	CacheDir string
	Log      io.Writer
}

// Defaults: both data sets, all five rules, 3 seeds, 10,000 training images x 2 epochs (batch
// 64, Adam 1e-3), 2,000 test images, 1 Hebbian epoch per layer, the CIFAR-10 networks scored on
// DefaultBenchmarks with 200 bootstrap samples. About 20-30 minutes on two free cores.
func Defaults() Config {
	return Config{Rules: AllRules, Datasets: []string{"mnist", "cifar10"},
		Models: map[string]string{"mnist": "lenet5", "cifar10": "cifar-cnn"},
		TrainN: 10000, TestN: 2000, Epochs: 2, Batch: 64, LR: 1e-3, Seeds: []uint64{1, 2, 3}, HebbEpochs: 1,
		Benchmarks: DefaultBenchmarks, ScoreData: "cifar10", Bootstrap: 200, Perms: 10000}
}

// Settings describes a configuration in one line.
func (c Config) Settings() string {
	var seeds []string
	for _, s := range c.Seeds {
		seeds = append(seeds, fmt.Sprint(s))
	}
	var ms []string
	for _, d := range c.Datasets {
		ms = append(ms, d+": "+c.model(d))
	}
	return fmt.Sprintf("rules %s; %s; %d training images x %d epochs, batch %d, Adam lr %g, constant, no augmentation, output layer from zero; hebbian: %d epoch(s) per layer (%s) then the readout with the same recipe; %d test images; seeds %s; benchmarks %s on %s, bootstrap %d",
		strings.Join(c.Rules, " "), strings.Join(ms, ", "), c.TrainN, c.Epochs, c.Batch, c.LR, c.HebbEpochs, hebbName(c.HebbRule), c.TestN, strings.Join(seeds, ","),
		strings.Join(c.Benchmarks, " "), c.ScoreData, c.Bootstrap)
}

func hebbName(rule string) string {
	if rule == "oja" {
		return "Oja/Sanger"
	}
	return "soft WTA"
}

func (c Config) model(data string) string {
	if m := c.Models[data]; m != "" {
		return m
	}
	if data == "mnist" {
		return "lenet5"
	}
	return "cifar-cnn"
}

func (c Config) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, a...)
	}
}

// Score is one benchmark's result for one network.
type Score struct {
	Benchmark string
	Layer     string  // best layer, chosen on the selection half
	HeldOut   float64 // its held-out score
	Norm      float64 // ... divided by the ceiling (NaN without one)
}

// Row is one trained network.
type Row struct {
	Data, Model, Rule string
	Seed              uint64
	TestAcc           float64
	Scores            []Score // in Config.Benchmarks order (ScoreData only)
	Seconds           float64
}

// Run trains (and scores) every data set x rule x seed.
func Run(cfg Config) ([]Row, error) {
	if len(cfg.Rules) == 0 || len(cfg.Datasets) == 0 || len(cfg.Seeds) == 0 {
		return nil, fmt.Errorf("learning-rules: rules, data sets and seeds must not be empty")
	}
	for _, r := range cfg.Rules {
		if !slices.Contains(AllRules, r) {
			return nil, fmt.Errorf("learning-rules: rule %q (expected one of %s)", r, strings.Join(AllRules, ", "))
		}
	}
	if cfg.Epochs <= 0 || cfg.Batch <= 0 || cfg.LR <= 0 {
		return nil, fmt.Errorf("learning-rules: epochs %d, batch %d and lr %g must be positive", cfg.Epochs, cfg.Batch, cfg.LR)
	}
	if cfg.Threads > 0 {
		tensor.SetThreads(cfg.Threads)
	}
	var specs []*benchmarks.Spec
	for _, b := range cfg.Benchmarks {
		s, err := benchmarks.Load(b)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	var rows []Row
	for _, data := range cfg.Datasets {
		var trainSet, testSet *datasets.Dataset
		var err error
		if d, ok := cfg.Data[data]; ok {
			trainSet, testSet = d[0], d[1]
		} else if trainSet, testSet, err = datasets.LoadSplits(data, nil, nil); err != nil {
			return nil, err
		}
		trainSet, testSet = train.Subset(trainSet, cfg.TrainN), train.Subset(testSet, cfg.TestN)
		for _, rule := range cfg.Rules {
			for _, seed := range cfg.Seeds {
				start := time.Now()
				g, err := trainOne(cfg, data, rule, seed, trainSet, testSet)
				if err != nil {
					return nil, fmt.Errorf("learning-rules: %s, %s, seed %d: %w", data, rule, seed, err)
				}
				row := Row{Data: data, Model: cfg.model(data), Rule: rule, Seed: seed}
				if row.TestAcc, _, err = train.Evaluate(g, testSet, 0); err != nil {
					return nil, err
				}
				if data == cfg.ScoreData {
					layers := ScoredLayers(g)
					for _, s := range specs {
						res, err := benchmarks.Score(subject.FromGraph(g), s, benchmarks.Options{Layers: layers, Seed: seed, Bootstrap: cfg.Bootstrap, CacheDir: cfg.CacheDir})
						if err != nil {
							return nil, fmt.Errorf("learning-rules: %s, %s, seed %d, %s: %w", data, rule, seed, s.Name, err)
						}
						sc := Score{Benchmark: s.Name, Layer: res.BestLayer, HeldOut: res.HeldOut, Norm: math.NaN()}
						if res.HeldOutNormalized != nil {
							sc.Norm = *res.HeldOutNormalized
						}
						row.Scores = append(row.Scores, sc)
					}
				}
				row.Seconds = time.Since(start).Seconds()
				cfg.logf("%s %s seed %d: test accuracy %.4f%s (%.0fs)\n", data, rule, seed, row.TestAcc, fmtScores(row.Scores), row.Seconds)
				rows = append(rows, row)
			}
		}
	}
	return rows, nil
}

// ScoredLayers are the layers a network is scored at: the outputs of its nonlinearities and
// pooling layers (relu, maxpool2d, avgpool2d) and its output, which holds every stage's
// representation once and halves the scoring time against every layer.
func ScoredLayers(g *nn.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		switch n.Op.Type() {
		case "relu", "maxpool2d", "avgpool2d":
			out = append(out, n.Name)
		}
	}
	return append(out, g.OutputName())
}

func fmtScores(sc []Score) string {
	var b strings.Builder
	for _, s := range sc {
		fmt.Fprintf(&b, ", %s %.3f (%s)", s.Benchmark, s.HeldOut, s.Layer)
	}
	return b.String()
}

// trainOne builds and trains one network.
func trainOne(cfg Config, data, rule string, seed uint64, trainSet, testSet *datasets.Dataset) (*nn.Graph, error) {
	base, err := models.Resolve(cfg.model(data))
	if err != nil {
		return nil, err
	}
	if err := base.Build(seed); err != nil {
		return nil, err
	}
	tc := train.Config{Train: trainSet, Test: nil, DataName: data, Epochs: cfg.Epochs, Batch: cfg.Batch,
		Optim: optim.Config{Name: "adam", LR: cfg.LR}, Seed: seed, Log: nil}
	g := base
	if rule == Hebbian {
		if g, err = rules.HebbianNet(base, len(trainSet.Classes), seed); err != nil {
			return nil, err
		}
		p, ok, err := stimuli.FromMeta(g)
		if err != nil {
			return nil, err
		}
		hc := rules.HebbConfig{Rule: cfg.HebbRule, Epochs: cfg.HebbEpochs, Seed: seed}
		if ok {
			hc.Mean, hc.Std = p.Mean, p.Std
		}
		if _, err := rules.TrainHebbian(g, trainSet, nil, hc, cfg.Log); err != nil {
			return nil, err
		}
	} else {
		tc.Rule = rule
	}
	r, err := rules.New("bp", g, seed)
	if err != nil {
		return nil, err
	}
	r.ZeroOutputLayers() // every rule starts its output layer at zero, as fa and dfa need
	tc.Model = g
	if _, err := train.Run(tc); err != nil {
		return nil, err
	}
	return g, nil
}

// Summary holds the aggregates of a run.
type Summary struct {
	// Acc per data set and rule: mean and sd over seeds; Gap the mean difference to bp over
	// the seeds both have (NaN without bp).
	Acc []AccRow
	// Brain per rule (ScoreData networks): mean and sd of each benchmark's held-out score.
	Brain []BrainRow
	// Corr per benchmark: Spearman's rho of test accuracy against the held-out score over every
	// scored network (rules x seeds), with its permutation p.
	Corr []Corr
}

// AccRow is one data set x rule.
type AccRow struct {
	Data, Rule  string
	N           int
	Mean, SD    float64
	Gap, GapSD  float64
	SecondsMean float64
}

// BrainRow is one rule's brain scores.
type BrainRow struct {
	Rule     string
	Mean, SD []float64 // per benchmark
	Layers   []string  // the best layers chosen, per benchmark (most frequent over seeds)
}

// Corr is one benchmark's accuracy-score correlation.
type Corr struct {
	Benchmark string
	N         int
	Rho, P    float64
}

// Summarize aggregates rows.
func Summarize(cfg Config, rows []Row) Summary {
	var s Summary
	for _, data := range cfg.Datasets {
		bp := map[uint64]float64{}
		for _, r := range rows {
			if r.Data == data && r.Rule == "bp" {
				bp[r.Seed] = r.TestAcc
			}
		}
		for _, rule := range cfg.Rules {
			var acc, gap, secs []float64
			for _, r := range rows {
				if r.Data != data || r.Rule != rule {
					continue
				}
				acc = append(acc, r.TestAcc)
				secs = append(secs, r.Seconds)
				if b, ok := bp[r.Seed]; ok {
					gap = append(gap, r.TestAcc-b)
				}
			}
			if len(acc) == 0 {
				continue
			}
			a := AccRow{Data: data, Rule: rule, N: len(acc)}
			a.Mean, a.SD = meanSD(acc)
			a.Gap, a.GapSD = meanSD(gap)
			a.SecondsMean, _ = meanSD(secs)
			s.Acc = append(s.Acc, a)
		}
	}
	for _, rule := range cfg.Rules {
		b := BrainRow{Rule: rule}
		for k := range cfg.Benchmarks {
			var v []float64
			layers := map[string]int{}
			for _, r := range rows {
				if r.Data == cfg.ScoreData && r.Rule == rule && k < len(r.Scores) {
					v = append(v, r.Scores[k].HeldOut)
					layers[r.Scores[k].Layer]++
				}
			}
			m, sd := meanSD(v)
			b.Mean, b.SD = append(b.Mean, m), append(b.SD, sd)
			b.Layers = append(b.Layers, mode(layers))
		}
		if len(b.Mean) > 0 && !math.IsNaN(b.Mean[0]) {
			s.Brain = append(s.Brain, b)
		}
	}
	for k, bench := range cfg.Benchmarks {
		var acc, sc []float64
		for _, r := range rows {
			if r.Data == cfg.ScoreData && k < len(r.Scores) {
				acc = append(acc, r.TestAcc)
				sc = append(sc, r.Scores[k].HeldOut)
			}
		}
		perms := cfg.Perms
		if perms <= 0 {
			perms = 10000
		}
		rho, p, _ := hierarchy.SpearmanPerm(acc, sc, perms, 1)
		s.Corr = append(s.Corr, Corr{Benchmark: bench, N: len(acc), Rho: rho, P: p})
	}
	return s
}

func mode(m map[string]int) string {
	best, n := "", 0
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if m[k] > n {
			best, n = k, m[k]
		}
	}
	return best
}

// meanSD is the mean and sample standard deviation (NaN for no values; sd NaN for one).
func meanSD(v []float64) (float64, float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	if len(v) < 2 {
		return m, math.NaN()
	}
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(v)-1))
}
