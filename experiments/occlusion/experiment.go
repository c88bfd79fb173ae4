package occlusion

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
)

// Conditions are the test conditions, in table order.
var Conditions = []string{"clean", "occluded", "noisy"}

// Config sets up a run; start from Defaults. Every size must be positive.
type Config struct {
	// Train and Test are grey digit sets; nil loads MNIST's train and test splits.
	Train, Test *datasets.Dataset
	TrainN      int      // training images, the first of Train
	TestN       int      // test images per condition, the first of Test
	Variants    []string // models.BLTVariants to train
	Channels    int      // feature maps per layer of BL, BT, BLT (B is widened to match BLT)
	Kernel      int      // odd kernel side
	Steps       int      // time steps
	Epochs      int
	Batch       int
	LR          float64 // Adam learning rate
	Seed        uint64  // weights, batch order and the generated images
	// Seeds, when set, repeats the whole experiment (weights, batch order, generated training
	// and test images) once per seed in place of Seed, so that tables give the mean and spread
	// over seeds and the summary counts the seeds in which each variant beats B.
	Seeds    []uint64
	Occluder Occluder
	Noise    Noise
	// TrainOn is "mixed" (a third each clean, occluded, noisy), "clean" or "occluded".
	TrainOn string
	Threads int       // tensor threads (0: leave as is)
	Log     io.Writer // progress (nil: none)
}

// Defaults returns the default run: it fits a few minutes on two CPU cores (the paper trained
// larger networks on far more images): 2000 MNIST training images, 3 epochs, 1000 test images
// per condition, 16 channels, 3x3 kernels, 4 steps, Adam at 0.002, batch 32, seed 1,
// DefaultOccluder, DefaultNoise, mixed training images, variants B, BL, BT, BLT.
func Defaults() Config {
	return Config{TrainN: 2000, TestN: 1000, Variants: []string{"b", "bl", "bt", "blt"}, Channels: 16, Kernel: 3, Steps: 4,
		Epochs: 3, Batch: 32, LR: 0.002, Seed: 1, Occluder: DefaultOccluder, Noise: DefaultNoise, TrainOn: "mixed"}
}

// Row is the accuracy of one variant in one condition.
type Row struct {
	Seed      uint64
	Variant   string
	Params    int
	Channels  int
	Kernel    int
	Condition string
	N         int
	Accuracy  float64   // at the last time step
	PerStep   []float64 // at each time step
	TrainSecs float64
}

// Result is a run's rows and the settings it used.
type Result struct {
	Config   Config // with defaults filled in (data sets dropped)
	Rows     []Row
	Coverage Coverage // of the occluded test set
	Data     string   // description of the images used
}

// Validate reports an unusable configuration with a message that names the bad setting.
func (c Config) Validate() error {
	for _, v := range []struct {
		name string
		x    int
	}{{"training images", c.TrainN}, {"test images", c.TestN}, {"channels", c.Channels}, {"kernel", c.Kernel},
		{"time steps", c.Steps}, {"epochs", c.Epochs}, {"batch", c.Batch}} {
		if v.x <= 0 {
			return fmt.Errorf("occlusion: %s must be positive, got %d", v.name, v.x)
		}
	}
	if c.Threads < 0 {
		return fmt.Errorf("occlusion: threads must not be negative, got %d", c.Threads)
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		return fmt.Errorf("occlusion: learning rate must be positive, got %v", c.LR)
	}
	seenSeed := map[uint64]bool{}
	for _, sd := range c.Seeds {
		if seenSeed[sd] {
			return fmt.Errorf("occlusion: seed %d listed twice", sd)
		}
		seenSeed[sd] = true
	}
	if len(c.Variants) == 0 {
		return fmt.Errorf("occlusion: no variants to train (choose from %s)", strings.Join(models.BLTVariants, ", "))
	}
	seen := map[string]bool{}
	for _, v := range c.Variants {
		if seen[v] {
			return fmt.Errorf("occlusion: variant %q listed twice", v)
		}
		seen[v] = true
		if _, err := models.BLT(models.BLTConfig{Variant: v, Channels: c.Channels, Kernel: c.Kernel, Steps: c.Steps, InputSize: 28}); err != nil {
			return fmt.Errorf("occlusion: %w", err)
		}
	}
	if _, err := c.Occluder.withDefaults(); err != nil {
		return err
	}
	if _, err := c.Noise.withDefaults(); err != nil {
		return err
	}
	if c.TrainOn != "mixed" && c.TrainOn != "clean" && c.TrainOn != "occluded" {
		return fmt.Errorf("occlusion: train-on %q (expected mixed, clean or occluded)", c.TrainOn)
	}
	return nil
}

func subset(ds *datasets.Dataset, n int) *datasets.Dataset {
	if n >= ds.N {
		return ds
	}
	s := *ds
	s.N = n
	s.X = ds.X[:n*ds.ImageSize()]
	s.Labels = ds.Labels[:n]
	if ds.Files != nil {
		s.Files = ds.Files[:n]
	}
	return &s
}

// Run generates the data, trains every variant and evaluates it in every condition.
func Run(cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	if cfg.Threads > 0 {
		tensor.SetThreads(cfg.Threads)
	}
	trainSet, testSet, err := datasets.LoadSplits("mnist", cfg.Train, cfg.Test)
	if err != nil {
		return nil, err
	}
	for _, ds := range []*datasets.Dataset{trainSet, testSet} {
		if ds.N == 0 || ds.C != 1 || ds.H != ds.W || ds.Labels == nil {
			return nil, fmt.Errorf("occlusion: %s must be a labelled set of square grey images, has shape %v", ds.Name, ds.Shape())
		}
	}
	trainSet, testSet = subset(trainSet, cfg.TrainN), subset(testSet, cfg.TestN)
	cfg.TrainN, cfg.TestN = trainSet.N, testSet.N
	seeds := cfg.Seeds
	if len(seeds) == 0 {
		seeds = []uint64{cfg.Seed}
	}
	res := &Result{Data: fmt.Sprintf("%s (first %d, %s) and %s (first %d per condition)", cfg.trainName(trainSet), trainSet.N, cfg.TrainOn, testSet.Name, testSet.N)}
	for i, seed := range seeds {
		c := cfg
		c.Seed = seed
		if len(seeds) > 1 {
			fmt.Fprintf(log, "seed %d (%d of %d)\n", seed, i+1, len(seeds))
		}
		cover, err := runSeed(c, trainSet, testSet, res, log)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			res.Coverage = cover
		}
	}
	cfg.Seeds = seeds
	cfg.Seed = seeds[0]
	cfg.Train, cfg.Test, cfg.Log = nil, nil, nil
	res.Config = cfg
	return res, nil
}

// runSeed trains and tests every variant with one seed, appending to res.Rows; it returns the
// coverage of the occluded test set.
func runSeed(cfg Config, trainSet, testSet *datasets.Dataset, res *Result, log io.Writer) (Coverage, error) {
	var err error
	// Training and test images draw from different streams.
	trainSeed, testSeed := cfg.Seed*2+0x7472, cfg.Seed*2+0x7465
	switch cfg.TrainOn {
	case "mixed":
		trainSet, err = Mixed(trainSet, cfg.Occluder, cfg.Noise, trainSeed)
	case "occluded":
		trainSet, _, err = Occluded(trainSet, cfg.Occluder, trainSeed)
	}
	if err != nil {
		return Coverage{}, err
	}
	occ, cover, err := Occluded(testSet, cfg.Occluder, testSeed)
	if err != nil {
		return cover, err
	}
	noisy, err := Noisy(testSet, cfg.Noise, testSeed)
	if err != nil {
		return cover, err
	}
	tests := []*datasets.Dataset{testSet, occ, noisy}
	for _, v := range cfg.Variants {
		g, err := models.BLT(models.BLTConfig{Variant: v, Channels: cfg.Channels, Kernel: cfg.Kernel, Steps: cfg.Steps, InputSize: trainSet.H, Classes: 10})
		if err != nil {
			return cover, err
		}
		if err := g.Build(cfg.Seed); err != nil {
			return cover, err
		}
		ch, _ := strconv.Atoi(g.Meta["channels"])
		k, _ := strconv.Atoi(g.Meta["kernel"])
		fmt.Fprintf(log, "training %s: %d parameters, %d channels, %dx%d kernels, %d steps\n", g.Name, g.NumParams(), ch, k, k, cfg.Steps)
		t0 := time.Now()
		if err := Train(g, trainSet, cfg, log); err != nil {
			return cover, fmt.Errorf("occlusion: training %s: %w", g.Name, err)
		}
		secs := time.Since(t0).Seconds()
		for ci, ds := range tests {
			per, err := Accuracy(g, ds, 256)
			if err != nil {
				return cover, err
			}
			res.Rows = append(res.Rows, Row{Seed: cfg.Seed, Variant: v, Params: g.NumParams(), Channels: ch, Kernel: k, Condition: Conditions[ci],
				N: ds.N, Accuracy: per[len(per)-1], PerStep: per, TrainSecs: secs})
		}
		fmt.Fprintf(log, "  %s trained in %.1fs: clean %.3f occluded %.3f noisy %.3f\n", g.Name, secs,
			res.Rows[len(res.Rows)-3].Accuracy, res.Rows[len(res.Rows)-2].Accuracy, res.Rows[len(res.Rows)-1].Accuracy)
	}
	return cover, nil
}

func (c Config) trainName(ds *datasets.Dataset) string {
	name, _, _ := strings.Cut(ds.Name, "/mixed")
	name, _, _ = strings.Cut(name, "/occluded")
	return name
}

// Train trains g for cfg.Epochs with Adam on the sum over time steps of the softmax
// cross-entropy of the readout, back-propagated through time. The batch order of each epoch is
// a permutation drawn from (cfg.Seed, epoch).
func Train(g *nn.Graph, ds *datasets.Dataset, cfg Config, log io.Writer) error {
	if ds.N < 1 || cfg.Batch < 1 || cfg.Epochs < 1 {
		return fmt.Errorf("need images (%d), a batch size (%d) and epochs (%d)", ds.N, cfg.Batch, cfg.Epochs)
	}
	opt, err := optim.New(optim.Config{Name: "adam", LR: cfg.LR})
	if err != nil {
		return err
	}
	ctx := nn.NewCtx(true, cfg.Seed)
	params := g.Params()
	per := ds.ImageSize()
	steps := g.NumSteps()
	out := g.OutputName()
	buf := make([]float32, cfg.Batch*per)
	labels := make([]int, cfg.Batch)
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		order := rand.New(rand.NewPCG(cfg.Seed, uint64(epoch)+0x65706f63)).Perm(ds.N)
		var lossSum float64
		var correct, seen int
		t0 := time.Now()
		for lo := 0; lo < ds.N; lo += cfg.Batch {
			m := min(cfg.Batch, ds.N-lo)
			for j, idx := range order[lo : lo+m] {
				copy(buf[j*per:(j+1)*per], ds.Image(idx))
				labels[j] = ds.Labels[idx]
			}
			x := tensor.FromData(buf[:m*per], m, ds.C, ds.H, ds.W)
			g.ZeroGrad()
			tr, err := g.Forward(ctx, x)
			if err != nil {
				return err
			}
			seeds := make([]nn.Seed, steps)
			for t := 0; t < steps; t++ {
				logits := tr.OutAt(out, t)
				l, dl, c, err := nn.SoftmaxCrossEntropy(logits.Reshape(m, logits.Len()/m), labels[:m])
				if err != nil {
					return fmt.Errorf("epoch %d, images %d..%d, step %d: %w", epoch+1, lo, lo+m-1, t, err)
				}
				seeds[t] = nn.Seed{Node: out, Step: t, Grad: dl.Reshape(logits.Shape...)}
				lossSum += l * float64(m)
				if t == steps-1 {
					correct += c
				}
			}
			if err := tr.BackwardSeeds(seeds...); err != nil {
				return err
			}
			if _, err := opt.Step(params, cfg.LR); err != nil {
				return err
			}
			ctx.Reset()
			seen += m
		}
		fmt.Fprintf(log, "  epoch %d/%d: loss (summed over %d steps) %.4f, train accuracy %.4f, %.0f img/s\n",
			epoch+1, cfg.Epochs, steps, lossSum/float64(seen), float64(correct)/float64(seen), float64(seen)/time.Since(t0).Seconds())
	}
	return nil
}

// Accuracy returns g's top-1 accuracy on ds at every time step.
func Accuracy(g *nn.Graph, ds *datasets.Dataset, batch int) ([]float64, error) {
	if batch <= 0 {
		batch = 256
	}
	ctx := nn.NewCtx(false, 0)
	steps := g.NumSteps()
	correct := make([]int, steps)
	per := ds.ImageSize()
	for lo := 0; lo < ds.N; lo += batch {
		m := min(batch, ds.N-lo)
		x := tensor.FromData(ds.X[lo*per:(lo+m)*per], m, ds.C, ds.H, ds.W)
		tr, err := g.Forward(ctx, x)
		if err != nil {
			return nil, err
		}
		for t := 0; t < steps; t++ {
			for j, p := range nn.Argmax(tr.OutAt(g.OutputName(), t)) {
				if p == ds.Labels[lo+j] {
					correct[t]++
				}
			}
		}
		ctx.Reset()
	}
	acc := make([]float64, steps)
	for t, c := range correct {
		acc[t] = float64(c) / float64(ds.N)
	}
	return acc, nil
}

// Stat is a variant's accuracy in one condition over the seeds of a run.
type Stat struct {
	Mean, SD float64   // SD over seeds (0 with one seed)
	Values   []float64 // one per seed, in the order of Config.Seeds
	Params   int
	Channels int
	Kernel   int
	TrainSec float64 // mean training time
}

// Stat gathers a variant's accuracy in one condition over the seeds (ok false if absent).
func (r *Result) Stat(variant, condition string) (Stat, bool) {
	var s Stat
	for _, row := range r.Rows {
		if row.Variant == variant && row.Condition == condition {
			s.Values = append(s.Values, row.Accuracy)
			s.Params, s.Channels, s.Kernel = row.Params, row.Channels, row.Kernel
			s.TrainSec += row.TrainSecs
		}
	}
	if len(s.Values) == 0 {
		return s, false
	}
	n := float64(len(s.Values))
	s.TrainSec /= n
	s.Mean = stat.Mean(s.Values, nil)
	if len(s.Values) > 1 {
		s.SD = stat.StdDev(s.Values, nil)
	}
	return s, true
}

// Get returns the row of a variant and condition for the first seed (nil if absent).
func (r *Result) Get(variant, condition string) *Row {
	for i := range r.Rows {
		if r.Rows[i].Variant == variant && r.Rows[i].Condition == condition {
			return &r.Rows[i]
		}
	}
	return nil
}

// Settings describes the run in one paragraph, for the printed report.
func (r *Result) Settings() string {
	c := r.Config
	o, _ := c.Occluder.withDefaults()
	n, _ := c.Noise.withDefaults()
	occ := fmt.Sprintf("%s shapes of grey level %.2g hiding %.0f%% of each digit's ink (pixels >= %.2g; achieved mean %.1f%%, range %.1f-%.1f%%)",
		o.Shape, o.Value, 100*o.Fraction, o.Threshold, 100*r.Coverage.Mean, 100*r.Coverage.Min, 100*r.Coverage.Max)
	if o.Shape == "debris" {
		occ = fmt.Sprintf("debris: %dx%d fragments of other digits adding ink equal to %.0f%% of each digit's (pixels >= %.2g; achieved mean %.1f%%, range %.1f-%.1f%%)",
			DebrisSize, DebrisSize, 100*o.Fraction, o.Threshold, 100*r.Coverage.Mean, 100*r.Coverage.Min, 100*r.Coverage.Max)
	}
	return fmt.Sprintf("data: %s\n"+
		"occluders: %s\n"+
		"noise: %s, level %.2g, clipped to [0,1]\n"+
		"models: %d channels per layer (B widened to match BLT), %dx%d kernels, %d time steps, readout at every step\n"+
		"training: Adam lr %g, batch %d, %d epochs, loss summed over steps (BPTT), %s, same for every variant",
		r.Data, occ, n.Kind, n.Level, c.Channels, c.Kernel, c.Kernel, c.Steps, c.LR, c.Batch, c.Epochs, seedList(c))
}

func seedList(c Config) string {
	if len(c.Seeds) <= 1 {
		return fmt.Sprintf("seed %d", c.Seed)
	}
	var p []string
	for _, s := range c.Seeds {
		p = append(p, strconv.FormatUint(s, 10))
	}
	return fmt.Sprintf("seeds %s (weights, batch order and generated images; occluder coverage above is seed %d's)", strings.Join(p, ","), c.Seeds[0])
}

func (r *Result) variants() []string {
	var out []string
	seen := map[string]bool{}
	for _, row := range r.Rows {
		if !seen[row.Variant] {
			seen[row.Variant] = true
			out = append(out, row.Variant)
		}
	}
	return out
}

// WriteTable prints the accuracies, one row per variant, one column per condition: the mean
// over seeds, with the standard deviation over seeds when there are several.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "variant\tparams\tchannels\tkernel\t%s\ttrain s\t\n", strings.Join(Conditions, "\t"))
	for _, v := range r.variants() {
		first, _ := r.Stat(v, Conditions[0])
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d", strings.ToUpper(v), first.Params, first.Channels, first.Kernel)
		for _, c := range Conditions {
			st, _ := r.Stat(v, c)
			if len(st.Values) > 1 {
				fmt.Fprintf(tw, "\t%.3f ± %.3f", st.Mean, st.SD)
			} else {
				fmt.Fprintf(tw, "\t%.3f", st.Mean)
			}
		}
		fmt.Fprintf(tw, "\t%.0f\t\n", first.TrainSec)
	}
	return tw.Flush()
}

// Summary compares the recurrent variants with B in each condition, in accuracy points: the
// mean difference over seeds and, with several seeds, its standard deviation and the number of
// seeds in which the variant is ahead of B (the seeds pair the variants: same images, same
// batch order).
func (r *Result) Summary() string {
	var b strings.Builder
	if _, ok := r.Stat("b", "occluded"); !ok {
		return ""
	}
	for _, c := range Conditions {
		base, _ := r.Stat("b", c)
		var parts []string
		for _, v := range r.variants() {
			if v == "b" {
				continue
			}
			st, _ := r.Stat(v, c)
			if len(st.Values) != len(base.Values) {
				continue
			}
			d := make([]float64, len(st.Values))
			ahead := 0
			for i := range d {
				d[i] = 100 * (st.Values[i] - base.Values[i])
				if d[i] > 0 {
					ahead++
				}
			}
			if len(d) == 1 {
				parts = append(parts, fmt.Sprintf("%s %+.1f", strings.ToUpper(v), d[0]))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %+.1f ± %.1f (ahead in %d of %d seeds)", strings.ToUpper(v), stat.Mean(d, nil), stat.StdDev(d, nil), ahead, len(d)))
		}
		fmt.Fprintf(&b, "%s: accuracy minus B's (points): %s\n", c, strings.Join(parts, ", "))
	}
	return b.String()
}

// WriteCSV writes one line per variant and condition, with the accuracy at every time step.
func (r *Result) WriteCSV(path string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"seed", "variant", "params", "channels", "kernel", "condition", "n", "accuracy"}
	steps := 0
	if len(r.Rows) > 0 {
		steps = len(r.Rows[0].PerStep)
	}
	for t := 1; t <= steps; t++ {
		head = append(head, fmt.Sprintf("accuracy_t%d", t))
	}
	head = append(head, "train_seconds")
	w.Write(head)
	for _, row := range r.Rows {
		rec := []string{strconv.FormatUint(row.Seed, 10), row.Variant, strconv.Itoa(row.Params), strconv.Itoa(row.Channels), strconv.Itoa(row.Kernel), row.Condition,
			strconv.Itoa(row.N), strconv.FormatFloat(row.Accuracy, 'f', 4, 64)}
		for _, a := range row.PerStep {
			rec = append(rec, strconv.FormatFloat(a, 'f', 4, 64))
		}
		rec = append(rec, strconv.FormatFloat(row.TrainSecs, 'f', 1, 64))
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return nn.WriteFileAtomic(path, buf.Bytes())
}

// Plot draws grouped bars of accuracy per condition, one colour per variant, as a PNG.
func (r *Result) Plot(path string) error {
	p := plot.New()
	p.Title.Text = "Recognition of clean, occluded and noisy digits"
	if n := len(r.Config.Seeds); n > 1 {
		p.Title.Text += fmt.Sprintf(" (mean of %d seeds; SD in the table)", n)
	}
	p.Y.Label.Text = "accuracy"
	p.Y.Min, p.Y.Max = 0, 1.3 // room for the legend above the bars
	vs := r.variants()
	width := vg.Points(100 / float64(max(len(vs), 1)))
	for i, v := range vs {
		vals := make(plotter.Values, len(Conditions))
		for ci, c := range Conditions {
			st, _ := r.Stat(v, c)
			vals[ci] = st.Mean
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = width * vg.Length(float64(i)-float64(len(vs)-1)/2)
		p.Add(bars)
		p.Legend.Add(fmt.Sprintf("%s (%d params)", strings.ToUpper(v), r.Get(v, Conditions[0]).Params), bars)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.NominalX(Conditions...)
	p.X.Min, p.X.Max = -0.6, float64(len(Conditions))-0.4
	p.Add(plotter.NewGrid())
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}
