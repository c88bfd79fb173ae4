package attention

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// Detection is the binary task "is category c present?" read from a model's outputs.
type Detection struct {
	// AUC of the attended category's logit, present against absent images (threshold free).
	AUC float64
	// Hit and FalseAlarm rates of the decision "present iff c is the model's top class", DPrime
	// = z(Hit) - z(FalseAlarm) (rates clipped to [1/2n, 1-1/2n]) and Accuracy = (Hit + 1 -
	// FalseAlarm)/2, the accuracy on a balanced present/absent set.
	Hit, FalseAlarm, DPrime, Accuracy float64
	// MeanLogit is the mean logit of c over all images.
	MeanLogit float64
}

// Detect scores detection of category c from logits [N][classes] and labels (one object per
// image).
func Detect(logits [][]float32, labels []int, c int) Detection {
	objs := make([][]int, len(labels))
	for i, l := range labels {
		objs[i] = []int{l}
	}
	return DetectObjects(logits, objs, c)
}

// DetectObjects scores detection of category c in images that hold several objects (objects[i]
// lists image i's categories): c is present where it is one of them, and the decision
// "present" is that c is among the model's top k classes, k the number of objects in the image
// (the top class for a single image; the top two for two merged images).
func DetectObjects(logits [][]float32, objects [][]int, c int) Detection {
	var pos, neg []float64
	var hits, fas int
	var d Detection
	for i, row := range logits {
		s := float64(row[c])
		d.MeanLogit += s
		// c is among the top k when fewer than k classes score above it.
		above := 0
		for j, v := range row {
			if j != c && v > row[c] {
				above++
			}
		}
		chosen := above < len(objects[i])
		if slices.Contains(objects[i], c) {
			pos = append(pos, s)
			if chosen {
				hits++
			}
		} else {
			neg = append(neg, s)
			if chosen {
				fas++
			}
		}
	}
	d.MeanLogit /= float64(len(logits))
	d.AUC = auc(pos, neg)
	clip := func(k, n int) float64 {
		r := float64(k) / float64(n)
		return math.Min(math.Max(r, 0.5/float64(n)), 1-0.5/float64(n))
	}
	if len(pos) > 0 && len(neg) > 0 {
		d.Hit, d.FalseAlarm = float64(hits)/float64(len(pos)), float64(fas)/float64(len(neg))
		d.DPrime = probit(clip(hits, len(pos))) - probit(clip(fas, len(neg)))
		d.Accuracy = (d.Hit + 1 - d.FalseAlarm) / 2
	}
	return d
}

// auc is the Mann-Whitney estimate P(pos > neg) + P(pos = neg)/2.
func auc(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	type sv struct {
		v   float64
		pos bool
	}
	all := make([]sv, 0, len(pos)+len(neg))
	for _, v := range pos {
		all = append(all, sv{v, true})
	}
	for _, v := range neg {
		all = append(all, sv{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		r := float64(i+j+1) / 2 // mean one-based rank of the ties
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += r
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
}

func probit(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// Config sets up the attention experiment; start from Defaults.
type Config struct {
	Model string // registered name or spec file
	// Checkpoint, when set, is a trained model (train.LoadCheckpoint); otherwise Model is
	// trained on TrainN images for Epochs first.
	Checkpoint string
	Data       string // datasets.Load name ("cifar10")
	// Train and Test, when set, replace the data set's splits.
	Train, Test *datasets.Dataset
	TrainN      int // training images when training here
	Epochs      int
	Batch       int
	LR          float64 // Adam
	TuningN     int     // training images for the tuning curves
	TestN       int     // test images for detection
	Layers      []string
	Betas       []float64
	// Images are the test conditions: "clean" (single test images) and "merged" (each test
	// image averaged pixel by pixel with another of a different category, Lindsay and Miller's
	// "merged images": the attended category competes with a distractor). Default: both.
	Images  []string
	Seed    uint64
	Threads int
	Log     io.Writer
}

// Defaults: cifar-cnn trained for 3 epochs on 5,000 CIFAR-10 images (Adam 0.001, batch 32)
// unless a checkpoint is given; tuning from 2,000 training images; detection on 500 clean and
// 500 merged test images; gains at every ReLU with feature maps, beta 0, 0.25, 0.5, 1, 2.
func Defaults() Config {
	return Config{Model: "cifar-cnn", Data: "cifar10", TrainN: 5000, Epochs: 3, Batch: 32, LR: 0.001, TuningN: 2000, TestN: 500,
		Betas: []float64{0, 0.25, 0.5, 1, 2}, Images: []string{"clean", "merged"}, Seed: 1}
}

// Settings describes the configuration in one line.
func (c Config) Settings() string {
	src := fmt.Sprintf("trained here on %d %s images x %d epochs (Adam lr %g, batch %d, seed %d)", c.TrainN, c.Data, c.Epochs, c.LR, c.Batch, c.Seed)
	if c.Checkpoint != "" {
		src = "checkpoint " + c.Checkpoint
	}
	var b []string
	for _, v := range c.Betas {
		b = append(b, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return fmt.Sprintf("model %s %s; tuning from %d training images; detection on %d test images (%s); layers %s; beta %s; seed %d",
		c.Model, src, c.TuningN, c.TestN, strings.Join(c.Images, ", "), strings.Join(c.Layers, " "), strings.Join(b, " "), c.Seed)
}

func (c Config) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, a...)
	}
}

// Row is the detection performance at one layer and strength, averaged over the categories
// (each attended in turn, detected among all test images).
type Row struct {
	Images string // "clean" or "merged"
	Layer  string
	Beta   float64
	Detection
	// LogitChange is the mean change, from beta 0, of the attended category's logit.
	LogitChange float64
}

// Result holds the rows and the model's plain accuracy.
type Result struct {
	Config   Config
	Accuracy float64 // top-1 accuracy of the unattended model on the test images
	Rows     []Row
}

// DefaultLayers lists the model's ReLU layers with feature-map outputs.
func DefaultLayers(g *nn.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		if n.Op.Type() == "relu" && len(n.Shape) == 3 {
			out = append(out, n.Name)
		}
	}
	return out
}

// Run performs the experiment.
func Run(cfg Config) (*Result, error) {
	if cfg.Threads > 0 {
		tensor.SetThreads(cfg.Threads)
	}
	if len(cfg.Betas) == 0 {
		return nil, fmt.Errorf("attention: no beta values")
	}
	if len(cfg.Images) == 0 {
		cfg.Images = []string{"clean"}
	}
	for _, im := range cfg.Images {
		if im != "clean" && im != "merged" {
			return nil, fmt.Errorf("attention: images %q (expected clean or merged)", im)
		}
	}
	for _, b := range cfg.Betas {
		if b < 0 || math.IsNaN(b) {
			return nil, fmt.Errorf("attention: beta %g must be >= 0", b)
		}
	}
	trainSet, testSet, err := datasets.LoadSplits(cfg.Data, cfg.Train, cfg.Test)
	if err != nil {
		return nil, err
	}
	testSet = train.Subset(testSet, cfg.TestN)
	var g *nn.Graph
	if cfg.Checkpoint != "" {
		ck, err := train.LoadCheckpoint(cfg.Checkpoint)
		if err != nil {
			return nil, err
		}
		g = ck.Graph
		cfg.Model = g.Name
	} else {
		if g, err = models.Resolve(cfg.Model); err != nil {
			return nil, err
		}
		if err := g.Build(cfg.Seed); err != nil {
			return nil, err
		}
		start := time.Now()
		if _, err := train.Run(train.Config{Model: g, Train: train.Subset(trainSet, cfg.TrainN), DataName: cfg.Data, Epochs: cfg.Epochs,
			Batch: cfg.Batch, Optim: optim.Config{Name: "adam", LR: cfg.LR}, Seed: cfg.Seed, Log: cfg.Log}); err != nil {
			return nil, err
		}
		cfg.logf("trained %s in %.0fs\n", g.Name, time.Since(start).Seconds())
	}
	if len(cfg.Layers) == 0 {
		cfg.Layers = DefaultLayers(g)
	}
	if len(cfg.Layers) == 0 {
		return nil, fmt.Errorf("attention: model %s has no ReLU feature maps; name --layers", g.Name)
	}
	tuneSet := train.Subset(trainSet, cfg.TuningN)
	nc := len(tuneSet.Classes)
	base, err := Logits(g, testSet, 0)
	if err != nil {
		return nil, err
	}
	if len(base) > 0 && len(base[0]) != nc {
		return nil, fmt.Errorf("attention: model %s has %d outputs for %d categories", g.Name, len(base[0]), nc)
	}
	res := &Result{Config: cfg}
	for i, row := range base {
		if nn.Argmax(tensor.FromData(row, 1, len(row)))[0] == testSet.Labels[i] {
			res.Accuracy++
		}
	}
	res.Accuracy /= float64(len(base))
	// One test set per image condition, with each image's categories.
	type cond struct {
		name    string
		ds      *datasets.Dataset
		objects [][]int
		base    []Detection
	}
	var conds []cond
	for _, name := range cfg.Images {
		c := cond{name: name, ds: testSet}
		switch name {
		case "clean":
			for _, l := range testSet.Labels {
				c.objects = append(c.objects, []int{l})
			}
		case "merged":
			if c.ds, c.objects, err = Merge(testSet, cfg.Seed); err != nil {
				return nil, err
			}
		}
		lg := base
		if name != "clean" {
			if lg, err = Logits(g, c.ds, 0); err != nil {
				return nil, err
			}
		}
		for k := 0; k < nc; k++ {
			c.base = append(c.base, DetectObjects(lg, c.objects, k))
		}
		conds = append(conds, c)
	}
	for _, layer := range cfg.Layers {
		start := time.Now()
		tun, err := ComputeTuning(g, layer, tuneSet, 0)
		if err != nil {
			return nil, err
		}
		att, err := Attend(g, layer)
		if err != nil {
			return nil, err
		}
		for _, cd := range conds {
			for _, beta := range cfg.Betas {
				var dets []Detection
				var change float64
				for c := 0; c < nc; c++ {
					d := cd.base[c]
					if beta != 0 {
						if err := att.Attend(tun, c, beta); err != nil {
							return nil, err
						}
						lg, err := Logits(att.Graph, cd.ds, 0)
						if err != nil {
							return nil, err
						}
						d = DetectObjects(lg, cd.objects, c)
					}
					change += d.MeanLogit - cd.base[c].MeanLogit
					dets = append(dets, d)
				}
				res.Rows = append(res.Rows, Row{Images: cd.name, Layer: layer, Beta: beta, Detection: mean(dets), LogitChange: change / float64(nc)})
			}
		}
		cfg.logf("layer %s done in %.0fs\n", layer, time.Since(start).Seconds())
	}
	return res, nil
}

func mean(ds []Detection) Detection {
	var m Detection
	for _, d := range ds {
		m.AUC += d.AUC
		m.Hit += d.Hit
		m.FalseAlarm += d.FalseAlarm
		m.DPrime += d.DPrime
		m.Accuracy += d.Accuracy
		m.MeanLogit += d.MeanLogit
	}
	n := float64(len(ds))
	m.AUC, m.Hit, m.FalseAlarm, m.DPrime, m.Accuracy, m.MeanLogit = m.AUC/n, m.Hit/n, m.FalseAlarm/n, m.DPrime/n, m.Accuracy/n, m.MeanLogit/n
	return m
}

// WriteTable prints the result with its settings.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintln(w, "Feature-similarity gain attention (Lindsay and Miller 2018): detect the attended category")
	fmt.Fprintf(w, "settings: %s\n", r.Config.Settings())
	fmt.Fprintf(w, "unattended top-1 accuracy %.3f; rows average over the categories, each attended in turn\n", r.Accuracy)
	fmt.Fprintln(w, "images: clean (one test image) or merged (two test images of different categories averaged: Lindsay and Miller's merged images)")
	fmt.Fprintln(w, "detection: 'present' iff the attended category is among the top k classes, k the objects in the image (hit, false alarm, d', balanced accuracy); AUC of its logit")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "images\tlayer\tbeta\tAUC\td'\taccuracy\thit\tfalse alarm\tlogit change")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%g\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%+.3f\n", row.Images, row.Layer, row.Beta, row.AUC, row.DPrime, row.Accuracy, row.Hit, row.FalseAlarm, row.LogitChange)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprint(w, r.Summary())
	return err
}

// WriteCSV writes the rows to path, atomically.
func (r *Result) WriteCSV(path string) error {
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write([]string{"images", "layer", "beta", "auc", "dprime", "accuracy", "hit", "false_alarm", "mean_logit", "logit_change"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, row := range r.Rows {
		cw.Write([]string{row.Images, row.Layer, f(row.Beta), f(row.AUC), f(row.DPrime), f(row.Accuracy), f(row.Hit), f(row.FalseAlarm), f(row.MeanLogit), f(row.LogitChange)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return nn.WriteFileAtomic(path, []byte(b.String()))
}

// Summary names, per image condition, the layer and strength that raise detection most (by
// AUC and by balanced accuracy) over the unattended model.
func (r *Result) Summary() string {
	var b strings.Builder
	for _, im := range r.Config.Images {
		var base *Row
		var bestAUC, bestAcc *Row
		for i := range r.Rows {
			row := &r.Rows[i]
			if row.Images != im {
				continue
			}
			if row.Beta == 0 {
				base = row
				continue
			}
			if bestAUC == nil || row.AUC > bestAUC.AUC {
				bestAUC = row
			}
			if bestAcc == nil || row.Accuracy > bestAcc.Accuracy {
				bestAcc = row
			}
		}
		if base == nil || bestAUC == nil {
			continue
		}
		fmt.Fprintf(&b, "%s images: unattended AUC %.3f, balanced accuracy %.3f; best attention: AUC %.3f (%+.3f) at %s beta %g, accuracy %.3f (%+.3f) at %s beta %g\n",
			im, base.AUC, base.Accuracy, bestAUC.AUC, bestAUC.AUC-base.AUC, bestAUC.Layer, bestAUC.Beta,
			bestAcc.Accuracy, bestAcc.Accuracy-base.Accuracy, bestAcc.Layer, bestAcc.Beta)
	}
	return b.String()
}

// Merge returns ds with every image averaged pixel by pixel with a partner image of another
// category (partners drawn with seed), and each merged image's two categories.
func Merge(ds *datasets.Dataset, seed uint64) (*datasets.Dataset, [][]int, error) {
	if ds.Labels == nil || ds.N < 2 {
		return nil, nil, fmt.Errorf("attention: merging needs a labelled set of at least 2 images, %s has %d", ds.Name, ds.N)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d657267))
	out := *ds
	out.Name = ds.Name + " (merged pairs)"
	per := ds.ImageSize()
	out.X = make([]float32, len(ds.X))
	objects := make([][]int, ds.N)
	for i := 0; i < ds.N; i++ {
		j := -1
		for try := 0; try < 100*ds.N; try++ {
			k := rng.IntN(ds.N)
			if ds.Labels[k] != ds.Labels[i] {
				j = k
				break
			}
		}
		if j < 0 {
			return nil, nil, fmt.Errorf("attention: %s has a single category; merged images need two", ds.Name)
		}
		a, bb, o := ds.X[i*per:(i+1)*per], ds.X[j*per:(j+1)*per], out.X[i*per:(i+1)*per]
		for p := range o {
			o[p] = (a[p] + bb[p]) / 2
		}
		objects[i] = []int{ds.Labels[i], ds.Labels[j]}
	}
	return &out, objects, nil
}
