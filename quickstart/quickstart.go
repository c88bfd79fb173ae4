// Package quickstart is the main job a newcomer runs first: train a small CNN on CIFAR-10 for a
// few minutes, score every layer on the 92-image monkey IT and human IT benchmarks beside an
// untrained copy of the same network (same architecture, same initial weights), score
// ImageNet-trained networks from other frameworks (and their random-weight controls) on the
// same benchmarks beside it, print the tables, record the results and write an HTML report.
package quickstart

import (
	"fmt"
	"github.com/ventral-lab/ventral/subject"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/modelreport"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/results"
	"github.com/ventral-lab/ventral/train"
)

// Config sets the run. Zero values take the defaults in brackets, sized to finish in under
// five minutes on a 2-core laptop CPU.
type Config struct {
	Out        string   // output folder ["ventral-quickstart"]
	Model      string   // ["cifar-cnn"]
	Epochs     int      // [3]
	Limit      int      // training images, a class-balanced subset [20000]
	Batch      int      // [64]
	LR         float64  // SGD base rate, cosine-annealed [0.02]
	Seed       uint64   // [1]
	Threads    int      // [all cores]
	Bootstrap  int      // bootstrap samples per benchmark [1000]
	Benchmarks []string // [kriegeskorte92-monkeyIT-rsa, kriegeskorte92-humanIT-rsa]
	// Imported names networks trained elsewhere (any --model form) scored beside the CIFAR
	// model, each with its random-weight control [mobilenetv2-imagenet-onnx]; "none" for none.
	Imported  []string
	ResultsDB string // [results.DefaultPath()]
	Log       io.Writer
}

func (c *Config) defaults() {
	if c.Out == "" {
		c.Out = "ventral-quickstart"
	}
	if c.Model == "" {
		c.Model = "cifar-cnn"
	}
	if c.Epochs == 0 {
		c.Epochs = 3
	}
	if c.Limit == 0 {
		c.Limit = 20000
	}
	if c.Batch == 0 {
		c.Batch = 64
	}
	if c.LR == 0 {
		c.LR = 0.02
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Bootstrap == 0 {
		c.Bootstrap = 1000
	}
	if len(c.Benchmarks) == 0 {
		c.Benchmarks = []string{"kriegeskorte92-monkeyIT-rsa", "kriegeskorte92-humanIT-rsa"}
	}
	if len(c.Imported) == 0 {
		c.Imported = []string{"mobilenetv2-imagenet-onnx"}
	}
	if len(c.Imported) == 1 && c.Imported[0] == "none" {
		c.Imported = nil
	}
	if c.ResultsDB == "" {
		c.ResultsDB = results.DefaultPath()
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Comparison is one benchmark's scores for the trained and the untrained network.
type Comparison struct {
	Benchmark string
	Trained   *benchmarks.Result
	Untrained *benchmarks.Result
}

// Side is one model of the side-by-side table: its results per benchmark, in Config order.
type Side struct {
	Model   string
	Trained string // what its weights learned: "CIFAR-10, N epochs", "ImageNet", "random"
	Results []*benchmarks.Result
}

// Summary is what Run produced.
type Summary struct {
	Config      Config
	Training    *train.Result
	TestAcc     float64
	Comparisons []Comparison
	// Sides puts the CIFAR model, its untrained copy and the imported networks with their
	// random controls side by side: best layer and held-out score per benchmark.
	Sides   []Side
	Report  string
	Seconds float64
}

// Run trains, scores, prints the table to w and writes the report.
func Run(cfg Config, w io.Writer) (*Summary, error) {
	cfg.defaults()
	start := time.Now()
	if cfg.Epochs < 0 || cfg.Limit < 0 || cfg.Batch < 0 || cfg.Bootstrap < 0 || cfg.LR < 0 {
		return nil, fmt.Errorf("quickstart: epochs, limit, batch, bootstrap and lr must not be negative")
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	specs := make([]*benchmarks.Spec, len(cfg.Benchmarks))
	for i, name := range cfg.Benchmarks {
		s, err := benchmarks.Load(name)
		if err != nil {
			return nil, err
		}
		specs[i] = s
	}

	fmt.Fprintf(cfg.Log, "quickstart: loading CIFAR-10\n")
	trainSet, err := datasets.Load("cifar10", "train")
	if err != nil {
		return nil, err
	}
	testSet, err := datasets.Load("cifar10", "test")
	if err != nil {
		return nil, err
	}
	trained, err := models.Get(cfg.Model)
	if err != nil {
		return nil, err
	}
	if err := trained.Build(cfg.Seed); err != nil {
		return nil, err
	}
	untrained, err := models.Get(cfg.Model)
	if err != nil {
		return nil, err
	}
	untrained.Name = cfg.Model + "-untrained"
	if err := untrained.Build(cfg.Seed); err != nil {
		return nil, err
	}

	fmt.Fprintf(cfg.Log, "quickstart: training %s on %d CIFAR-10 images for %d epochs (seed %d)\n", cfg.Model, min(cfg.Limit, trainSet.N), cfg.Epochs, cfg.Seed)
	tr, err := train.Run(train.Config{
		Model:     trained,
		Train:     train.Subset(trainSet, cfg.Limit),
		Test:      testSet,
		DataName:  "cifar10",
		Epochs:    cfg.Epochs,
		Batch:     cfg.Batch,
		Optim:     optim.Config{Name: "sgd", LR: cfg.LR, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4},
		Schedule:  optim.Schedule{Kind: "cosine"},
		Seed:      cfg.Seed,
		Threads:   cfg.Threads,
		Out:       filepath.Join(cfg.Out, "train"),
		Augment:   train.Augment{Flip: true},
		Log:       cfg.Log,
		Overwrite: true,
	})
	if err != nil {
		return nil, err
	}
	sum := &Summary{Config: cfg, Training: tr}
	if n := len(tr.Rows); n > 0 {
		sum.TestAcc = tr.Rows[n-1].TestAcc
	}

	db, err := results.Open(cfg.ResultsDB)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	for _, spec := range specs {
		c := Comparison{Benchmark: spec.Name}
		for _, m := range []struct {
			g   *nn.Graph
			dst **benchmarks.Result
		}{{tr.Graph, &c.Trained}, {untrained, &c.Untrained}} {
			fmt.Fprintf(cfg.Log, "quickstart: scoring %s on %s\n", m.g.Name, spec.Name)
			res, err := benchmarks.Score(subject.FromGraph(m.g), spec, benchmarks.Options{Seed: cfg.Seed, Bootstrap: cfg.Bootstrap})
			if err != nil {
				return nil, fmt.Errorf("scoring %s on %s: %w", m.g.Name, spec.Name, err)
			}
			if _, err := db.Record(res, train.Version()); err != nil {
				return nil, fmt.Errorf("recording %s: %w", spec.Name, err)
			}
			*m.dst = res
		}
		sum.Comparisons = append(sum.Comparisons, c)
	}
	cifar := Side{Model: cfg.Model, Trained: fmt.Sprintf("CIFAR-10 (%d epochs, test accuracy %.3f)", cfg.Epochs, sum.TestAcc)}
	untr := Side{Model: untrained.Name, Trained: "random"}
	for _, c := range sum.Comparisons {
		cifar.Results = append(cifar.Results, c.Trained)
		untr.Results = append(untr.Results, c.Untrained)
	}
	sum.Sides = append(sum.Sides, cifar, untr)
	for _, name := range cfg.Imported {
		for _, m := range []struct{ name, trained string }{{name, "ImageNet (imported)"}, {train.RandomPrefix + name, "random"}} {
			g, err := train.LoadModel(m.name)
			if err != nil {
				return nil, fmt.Errorf("quickstart: %w", err)
			}
			if !g.Built() {
				if err := g.Build(cfg.Seed); err != nil {
					return nil, err
				}
			}
			side := Side{Model: m.name, Trained: m.trained}
			for _, spec := range specs {
				fmt.Fprintf(cfg.Log, "quickstart: scoring %s on %s\n", m.name, spec.Name)
				res, err := benchmarks.Score(subject.FromGraph(g), spec, benchmarks.Options{Seed: cfg.Seed, Bootstrap: cfg.Bootstrap})
				if err != nil {
					return nil, fmt.Errorf("scoring %s on %s: %w", m.name, spec.Name, err)
				}
				if _, err := db.Record(res, train.Version()); err != nil {
					return nil, fmt.Errorf("recording %s: %w", spec.Name, err)
				}
				side.Results = append(side.Results, res)
			}
			sum.Sides = append(sum.Sides, side)
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	if err := sum.WriteTable(w); err != nil {
		return nil, err
	}
	if sum.Report, err = sum.writeReport(); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\nreport: %s\nresults database: %s\n", sum.Report, cfg.ResultsDB)
	return sum, nil
}

// WriteTable prints one row per layer: for each benchmark the trained and untrained scores
// (normalised by the ceiling where the benchmark has one) with 95% bootstrap intervals.
func (s *Summary) WriteTable(w io.Writer) error {
	last := s.Training.Rows[len(s.Training.Rows)-1]
	fmt.Fprintf(w, "%s trained %d epochs on %d CIFAR-10 images: test accuracy %.4f (%.0f images/s in the last epoch)\n\n",
		s.Config.Model, last.Epoch, min(s.Config.Limit, 50000), s.TestAcc, last.ImagesPerS)
	above := false
	for _, c := range s.Comparisons {
		for i, l := range c.Trained.Layers {
			above = above || l.AboveCeiling || c.Untrained.Layers[i].AboveCeiling
		}
		fmt.Fprintf(w, "%s (%s, %s; ceiling: %s)\n", c.Benchmark, c.Trained.Metric, c.Trained.Formula, ceilingText(c.Trained.Ceiling))
		fmt.Fprintf(w, "  %-10s %24s %24s\n", "layer", "trained [95% CI]", "untrained [95% CI]")
		for i, l := range c.Trained.Layers {
			u := c.Untrained.Layers[i]
			mark := " "
			if l.Layer == c.Trained.BestLayer {
				mark = "*"
			}
			fmt.Fprintf(w, "%s %-10s %24s %24s\n", mark, l.Layer, scoreText(l), scoreText(u))
		}
		fmt.Fprintf(w, "  best layer (chosen on half the stimuli, scored on the other half): trained %s %.3f, untrained %s %.3f\n\n",
			c.Trained.BestLayer, c.Trained.HeldOut, c.Untrained.BestLayer, c.Untrained.HeldOut)
	}
	if above {
		fmt.Fprintln(w, benchmarks.AboveCeilingNote)
	}
	if len(s.Sides) > 2 {
		fmt.Fprintf(w, "Side by side: the best layer of each network (chosen on half the stimuli) and its score on the other half")
		fmt.Fprintf(w, " (normalised by the ceiling where there is one)\n")
		fmt.Fprintf(w, "  %-34s %-42s", "model", "weights")
		for _, c := range s.Comparisons {
			fmt.Fprintf(w, " %28s", c.Benchmark)
		}
		fmt.Fprintln(w)
		for _, sd := range s.Sides {
			fmt.Fprintf(w, "  %-34s %-42s", sd.Model, sd.Trained)
			for _, r := range sd.Results {
				fmt.Fprintf(w, " %28s", heldOutText(r))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "total %.0f s\n", s.Seconds)
	return nil
}

// heldOutText is a result's chosen layer and held-out score, normalised when it can be.
func heldOutText(r *benchmarks.Result) string {
	v := r.HeldOut
	if r.HeldOutNormalized != nil {
		v = *r.HeldOutNormalized
	}
	l := r.BestLayer
	if len(l) > 18 {
		l = "..." + l[len(l)-15:]
	}
	return fmt.Sprintf("%s %.3f", l, v)
}

func scoreText(l benchmarks.LayerScore) string {
	if l.Normalized != nil && l.NormCILow != nil && l.NormCIHigh != nil {
		return fmt.Sprintf("%.3f%s [%.3f %.3f]", *l.Normalized, benchmarks.NormMark(l.Normalized), *l.NormCILow, *l.NormCIHigh)
	}
	return fmt.Sprintf("%.3f [%.3f %.3f]", l.Score, l.CILow, l.CIHigh)
}

func ceilingText(c benchmarks.Ceiling) string {
	if c.Method == "" || c.Method == "none" {
		return "none, raw scores"
	}
	if c.Units > 0 {
		return fmt.Sprintf("%s over %d %ss %.3f-%.3f, scores divided by %.3f", c.Method, c.Units, c.Unit, c.Lower, c.Upper, c.Value)
	}
	return fmt.Sprintf("%s %.3f-%.3f, scores divided by %.3f", c.Method, c.Lower, c.Upper, c.Value)
}

// writeReport writes Out/report.html with modelreport, the builder of `ventral report`: the
// training run, the trained network's RDMs beside the neural RDMs, and each benchmark's table
// and layer profile with the untrained copy beside the trained network.
func (s *Summary) writeReport() (string, error) {
	scores := make([]modelreport.Scored, len(s.Comparisons))
	for i, c := range s.Comparisons {
		scores[i] = modelreport.Scored{Result: c.Trained, Baseline: c.Untrained, BaselineName: "untrained"}
	}
	res, err := modelreport.ForGraph(s.Training.Graph, s.Training.Dir, modelreport.Options{
		Out:      s.Config.Out,
		Title:    "ventral quickstart: " + s.Config.Model + " against monkey and human IT",
		Subtitle: fmt.Sprintf("seed %d, %d training images, %d epochs, %d bootstrap samples; ventral %s; %s", s.Config.Seed, min(s.Config.Limit, 50000), s.Config.Epochs, s.Config.Bootstrap, train.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC")),
		Seed:     s.Config.Seed,
		Sections: []string{modelreport.Training, modelreport.Benchmarks, modelreport.RDMs},
		Scores:   scores,
		Notes: map[string][]string{modelreport.Training: {fmt.Sprintf("%s on CIFAR-10: SGD with Nesterov momentum 0.9, base rate %g, cosine schedule, weight decay 5e-4, horizontal flips, batch %d.",
			s.Config.Model, s.Config.LR, s.Config.Batch)}},
		Benchmarks: s.Config.Benchmarks,
	})
	if err != nil {
		return "", err
	}
	return res.Path, res.Failed()
}
