// Package quickstart is the main job a newcomer runs first: train a small CNN on CIFAR-10 for a
// few minutes, score every layer on the 92-image monkey IT and human IT benchmarks beside an
// untrained copy of the same network (same architecture, same initial weights), print the
// table, record the results and write an HTML report.
package quickstart

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/report"
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
	ResultsDB  string   // [results.DefaultPath()]
	Log        io.Writer
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

// Summary is what Run produced.
type Summary struct {
	Config      Config
	Training    *train.Result
	TestAcc     float64
	Comparisons []Comparison
	Report      string
	Seconds     float64
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
			res, err := benchmarks.Score(m.g, spec, benchmarks.Options{Seed: cfg.Seed, Bootstrap: cfg.Bootstrap})
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
	for _, c := range s.Comparisons {
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
	fmt.Fprintf(w, "total %.0f s\n", s.Seconds)
	return nil
}

func scoreText(l benchmarks.LayerScore) string {
	if l.Normalized != nil && l.NormCILow != nil && l.NormCIHigh != nil {
		return fmt.Sprintf("%.3f [%.3f %.3f]", *l.Normalized, *l.NormCILow, *l.NormCIHigh)
	}
	return fmt.Sprintf("%.3f [%.3f %.3f]", l.Score, l.CILow, l.CIHigh)
}

func ceilingText(c benchmarks.Ceiling) string {
	if c.Method == "" || c.Method == "none" {
		return "none, raw scores"
	}
	return fmt.Sprintf("%s %.3f-%.3f, scores divided by %.3f", c.Method, c.Lower, c.Upper, c.Value)
}

func (s *Summary) writeReport() (string, error) {
	r := &report.Report{
		Title:    "ventral quickstart: " + s.Config.Model + " against monkey and human IT",
		Subtitle: fmt.Sprintf("seed %d, %d training images, %d epochs, %d bootstrap samples; ventral %s; %s", s.Config.Seed, min(s.Config.Limit, 50000), s.Config.Epochs, s.Config.Bootstrap, train.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC")),
	}
	tt := &report.Table{Header: []string{"epoch", "train loss", "train acc", "test loss", "test acc", "images/s", "peak RSS MB"}}
	for _, row := range s.Training.Rows {
		tt.Rows = append(tt.Rows, []string{fmt.Sprint(row.Epoch), f3(row.TrainLoss), f3(row.TrainAcc), f3(row.TestLoss), f3(row.TestAcc), fmt.Sprintf("%.0f", row.ImagesPerS), fmt.Sprintf("%.0f", row.PeakRSSMB)})
	}
	r.Sections = append(r.Sections, report.Section{
		Heading: "Training",
		Text:    []string{fmt.Sprintf("%s on CIFAR-10: SGD with Nesterov momentum 0.9, base rate %g, cosine schedule, weight decay 5e-4, horizontal flips, batch %d.", s.Config.Model, s.Config.LR, s.Config.Batch)},
		Table:   tt,
		Figures: []report.Figure{{File: filepath.Join("train", train.CurvesFile), Caption: "Loss and accuracy per epoch, training and test sets."}},
	})
	for _, c := range s.Comparisons {
		layers := make([]string, len(c.Trained.Layers))
		var series []report.Series
		for k, res := range []*benchmarks.Result{c.Trained, c.Untrained} {
			sr := report.Series{Name: []string{"trained", "untrained"}[k]}
			for i, l := range res.Layers {
				layers[i] = l.Layer
				sr.Values = append(sr.Values, l.Score)
				sr.Low = append(sr.Low, l.CILow)
				sr.High = append(sr.High, l.CIHigh)
			}
			series = append(series, sr)
		}
		var refs []report.Ref
		if ce := c.Trained.Ceiling; ce.Method != "" && ce.Method != "none" {
			refs = []report.Ref{{Name: "noise ceiling, upper", Value: ce.Upper}, {Name: "noise ceiling, lower", Value: ce.Lower}}
		}
		base := "profile-" + c.Benchmark
		if err := report.LayerProfile(c.Benchmark, "raw score ("+c.Trained.Metric+")", layers, series, refs,
			filepath.Join(s.Config.Out, base+".png"), filepath.Join(s.Config.Out, base+".svg")); err != nil {
			return "", err
		}
		bt := &report.Table{Header: []string{"layer", "trained", "95% CI", "normalised", "untrained", "95% CI", "normalised"}, Highlight: map[int]bool{}}
		for i, l := range c.Trained.Layers {
			u := c.Untrained.Layers[i]
			bt.Rows = append(bt.Rows, []string{l.Layer, f3(l.Score), ci(l), norm(l), f3(u.Score), ci(u), norm(u)})
			if l.Layer == c.Trained.BestLayer {
				bt.Highlight[i] = true
			}
		}
		text := []string{
			fmt.Sprintf("Metric: %s. Ceiling: %s. Normalisation: %s.", c.Trained.Metric, ceilingText(c.Trained.Ceiling), c.Trained.Formula),
			fmt.Sprintf("Best layer of the trained network, chosen on %s: %s, held-out score %.3f (untrained: %s, %.3f). Bootstrap p that it does not beat %s: %.3f.",
				c.Trained.Selection, c.Trained.BestLayer, c.Trained.HeldOut, c.Untrained.BestLayer, c.Untrained.HeldOut, c.Trained.SecondLayer, c.Trained.BestVsSecondP),
		}
		if c.Trained.Ceiling.Note != "" {
			text = append(text, strings.TrimSpace(c.Trained.Ceiling.Note))
		}
		r.Sections = append(r.Sections, report.Section{
			Heading: c.Benchmark, Text: text, Table: bt,
			Figures: []report.Figure{{File: base + ".png", Caption: "Score per layer with 95% bootstrap intervals over stimuli; dashed: noise-ceiling bounds where the data have them."}},
		})
	}
	path := filepath.Join(s.Config.Out, "report.html")
	return path, r.WriteHTML(path)
}

func f3(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

func ci(l benchmarks.LayerScore) string { return fmt.Sprintf("[%.3f, %.3f]", l.CILow, l.CIHigh) }

func norm(l benchmarks.LayerScore) string {
	if l.Normalized == nil {
		return "-"
	}
	return f3(*l.Normalized)
}
