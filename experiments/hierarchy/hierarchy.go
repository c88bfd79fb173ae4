// Package hierarchy is the ventral-stream hierarchy experiment: it scores ImageNet-trained
// networks (the imported zoo), each beside its untrained random: control, and the older models
// (AlexNet and CORnet-Z at random weights, HMAX, a Gabor V1, optionally a CIFAR-trained network)
// on benchmarks of three regions (V1: mouse V1 ridge; V4: the Cowley et al. 2023 PLS
// benchmarks; IT: the Kriegeskorte 92-image RSA benchmarks), and measures the seed's claims:
// trained networks beat their random controls (paired bootstrap on the held-out data,
// compare.TestPair, Holm-corrected); the best layer deepens along the stream, V1 < V4 < IT
// (bootstrap distribution of each region's best relative depth, intersection-union test); and
// better task performance goes with better brain scores (Spearman's rho across models with a
// permutation p, task performance being published ImageNet top-1).
//
// The best layer's depth interval re-selects the best layer in each bootstrap resample of the
// profile (benchmarks.Result.LayerSamples: rsa resamples all stimuli, ridge the test stimuli,
// pls the folds), so it reflects how firmly the data single out one depth. The statistics are
// small hand-written functions (stats.go) because they act on the benchmarks' own resamples.
package hierarchy

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/behaviour"
	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/compare"
	"github.com/ventral-lab/ventral/imports"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/subject"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// Regions in stream order.
var Regions = []string{"V1", "V4", "IT"}

// DefaultBenchmarks are the benchmarks of the three regions.
var DefaultBenchmarks = []string{"allen-mouseV1-ridge", "cowley2023-v4-190925-pls", "cowley2023-v4-210224-pls",
	"kriegeskorte92-monkeyIT-rsa", "kriegeskorte92-humanIT-rsa"}

// Performance is a model's task performance and where the number comes from.
type Performance struct {
	Top1   float64 // fraction correct
	Source string  // "published ImageNet top-1 (...)", "chance", "measured CIFAR-10 test accuracy"
	// Task names what was measured; only models of one task enter one rank correlation.
	Task string
}

// Published ImageNet top-1 of the imported networks (as published by their distributors; not
// measured here: ventral has no ImageNet validation set).
var Published = map[string]Performance{
	"mobilenetv2-imagenet-onnx":        {0.6830, "published ImageNet top-1 (ONNX model zoo, MobileNetV2 int8)", "imagenet"},
	"mobilenetv2-imagenet-tflite":      {0.708, "published ImageNet top-1 (TFLite mobilenet_v2_1.0_224_quant)", "imagenet"},
	"mobilenetv2-imagenet-tflite-ptq":  {0.696, "published ImageNet top-1 (TF2 mobilenet_v2_1.0_224_ptq)", "imagenet"},
	"mobilenetv1-0.75-imagenet-tflite": {0.662, "published ImageNet top-1 (TFLite mobilenet_v1_0.75_192_quant)", "imagenet"},
	"mobilenetv1-0.25-imagenet-tflite": {0.399, "published ImageNet top-1 (TFLite mobilenet_v1_0.25_128_quant)", "imagenet"},
	"mobilenetv1-0.75-imagenet-tfjs":   {0.684, "published ImageNet top-1 (TF.js MobileNetV1 0.75)", "imagenet"},
}

// Chance is the ImageNet top-1 of an untrained control (1 of 1000 classes).
const Chance = 0.001

// Config sets up a run; start from Defaults.
type Config struct {
	// Models are any forms train.LoadModel takes (empty: DefaultModels(CIFAR)).
	Models []string
	// CIFAR names CIFAR-trained run folders (comma-separated, or a parent folder of runs): the
	// one with the best measured CIFAR-10 test accuracy joins the models (empty: none).
	CIFAR string
	// CIFARImages is how many CIFAR-10 test images measure each CIFAR run (0: CIFARTestImages).
	CIFARImages int
	// Benchmarks are built-in names or spec files (empty: DefaultBenchmarks); each counts for
	// its spec's region.
	Benchmarks []string
	// MaxLayers thins each model's default layers to at most this many evenly spaced ones
	// (first and last kept; <= 0: all).
	MaxLayers int
	Seed      uint64
	Bootstrap int // benchmark bootstrap samples (0: each benchmark's own)
	// Perms are the random permutations of the rank-correlation test above 8 models.
	Perms int
	// CacheDir caches activations across benchmarks and reruns (empty: a temporary folder).
	CacheDir string
	// Behaviour is the behavioural spec run on every ImageNet classifier (empty or "none":
	// skipped; Defaults: DefaultBehaviour); CIFARBehaviour the one run on every CIFAR-10
	// classifier (Defaults: DefaultCIFARBehaviour).
	Behaviour, CIFARBehaviour string
	Threads                   int
	Log                       io.Writer
}

// Defaults: the default models and benchmarks, at most 8 layers per model, 2000 bootstrap
// samples, seed 1.
func Defaults() Config {
	return Config{MaxLayers: 8, Seed: 1, Bootstrap: 2000, Perms: 10000, Behaviour: DefaultBehaviour, CIFARBehaviour: DefaultCIFARBehaviour}
}

// DefaultModels are every imported ImageNet network each followed by its random: control,
// AlexNet and CORnet-Z at random weights, HMAX, Gabor V1, and cifar when set.
func DefaultModels(cifar string) []string {
	var out []string
	for _, n := range imports.Names() {
		out = append(out, n, train.RandomPrefix+n)
	}
	if cifar != "" {
		out = append(out, cifar)
	}
	return append(out, "alexnet", "cornet-z", "hmax", "gabor-v1")
}

func (c Config) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, a...)
	}
}

// Model is one scored model.
type Model struct {
	Name    string // as given
	Network string // the graph's name
	// Kind: "trained" (imported or checkpoint weights), "random" (random initialisation of a
	// trainable architecture) or "fixed" (no learned weights: Gabor, HMAX with sampled
	// prototypes).
	Kind    string
	Control string // the name of its random: control among the models, if any
	Perf    *Performance
	Layers  int     // layers scored
	Seconds float64 // loading plus scoring time
	// CPUSeconds is the process's user plus system time over the same span (all threads), the
	// measure of cost on a machine shared with other jobs.
	CPUSeconds float64
}

// Profile is one model's score at one layer on one benchmark.
type Profile struct {
	Model, Benchmark, Region, Layer string
	Depth                           float64 // relative depth, 0 input to 1 last layer
	Score, CILow, CIHigh, Selection float64
}

// Best is one model's best layer on one benchmark.
type Best struct {
	Model, Benchmark, Region, Layer string
	Depth                           float64
	// DepthLow and DepthHigh bound the 95% interval of the best layer's depth over bootstrap
	// re-selections; DepthSamples are those draws.
	DepthLow, DepthHigh float64
	DepthSamples        []float64
	HeldOut             float64 // the best layer's score on the held-out data
	HeldOutNorm         float64 // ... normalised by the ceiling (NaN without)
	// Score and its interval: the best layer on all the data, percentile bootstrap.
	Score, CILow, CIHigh float64
	res                  *benchmarks.Result
}

// Correlation is the rank correlation across models of task performance and brain score.
type Correlation struct {
	Scope  string // a benchmark's name or a region (mean held-out score over its benchmarks)
	Set    string // which models: "trained and random controls" or "trained only"
	Models []string
	Perf   []float64
	Score  []float64
	Rho, P float64
	Exact  bool
}

// DepthOrder is one trained network's ordering test.
type DepthOrder struct {
	Model string
	Depth map[string]float64 // per region: mean best depth over its benchmarks
	Ordering
	PHolm float64
}

// Outcome is everything Run measured.
type Outcome struct {
	Config     Config
	Benchmarks []*benchmarks.Spec
	Models     []Model
	Profiles   []Profile
	Bests      []Best
	// Controls are the trained-vs-random tests (Model the trained network, Reference its
	// control), per benchmark, Holm-adjusted over all of them; VsHMAX the best-scoring trained
	// network against HMAX per benchmark (Holm over those).
	Controls     []compare.Test
	VsHMAX       []compare.Test
	Orders       []DepthOrder
	Correlations []Correlation
	Prototypes   string
	// Behaviour: the ImageNet classifiers on Config.Behaviour, the CIFAR-10 ones on
	// Config.CIFARBehaviour; BehaviourNote says why one was not run.
	Behaviour     []Behaviour
	BehaviourNote string
	// CIFARRuns are the --cifar candidates with their measured accuracy; the best is
	// Config.CIFAR.
	CIFARRuns []CIFARRun
	// Seconds and CPUSeconds: wall and user plus system time of Run; PeakRSSMiB the process's
	// peak resident memory by then.
	Seconds, CPUSeconds, PeakRSSMiB float64
}

// Run scores every model on every benchmark and computes the tests.
func Run(cfg Config) (*Outcome, error) {
	start, c00 := time.Now(), cpuSeconds()
	var cifarPerf *Performance
	var cifarRuns []CIFARRun
	if cfg.CIFAR != "" {
		best, perf, runs, err := pickCIFAR(cfg)
		if err != nil {
			return nil, err
		}
		cfg.CIFAR, cifarPerf, cifarRuns = best, perf, runs
		if len(cfg.Models) > 0 && !slices.Contains(cfg.Models, best) {
			cfg.Models = append(cfg.Models, best)
		}
	}
	if len(cfg.Models) == 0 {
		cfg.Models = DefaultModels(cfg.CIFAR)
	}
	if len(cfg.Benchmarks) == 0 {
		cfg.Benchmarks = DefaultBenchmarks
	}
	if cfg.Threads > 0 {
		tensor.SetThreads(cfg.Threads)
	}
	out := &Outcome{Config: cfg, CIFARRuns: cifarRuns}
	seen := map[string]bool{}
	for _, m := range cfg.Models {
		if seen[m] {
			return nil, fmt.Errorf("hierarchy: model %s listed twice", m)
		}
		seen[m] = true
		// Fail before any scoring on a name that does not load (the imported networks are
		// known by name and load later, once).
		if !slices.Contains(imports.Names(), strings.TrimPrefix(m, train.RandomPrefix)) {
			if _, err := train.LoadModel(m); err != nil {
				return nil, fmt.Errorf("hierarchy: model %q: %w", m, err)
			}
		}
	}
	for _, b := range cfg.Benchmarks {
		s, err := benchmarks.Load(b)
		if err != nil {
			return nil, fmt.Errorf("hierarchy: %w", err)
		}
		if !slices.Contains(Regions, s.Region) {
			cfg.logf("note: benchmark %s is of region %q, outside V1/V4/IT: profiled, not in the ordering test\n", s.Name, s.Region)
		}
		out.Benchmarks = append(out.Benchmarks, s)
	}
	cache := cfg.CacheDir
	if cache == "" {
		tmp, err := os.MkdirTemp("", "ventral-hierarchy-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		cache = tmp
	}
	var notes []string
	loadBehaviour := func(name string) *behaviour.Benchmark {
		if name == "" || name == "none" {
			return nil
		}
		s, err := behaviour.LoadSpec(name)
		var bm *behaviour.Benchmark
		if err == nil {
			bm, err = s.Load()
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s not run: %v", name, err))
			cfg.logf("note: %s\n", notes[len(notes)-1])
		}
		return bm
	}
	bm, bmCIFAR := loadBehaviour(cfg.Behaviour), loadBehaviour(cfg.CIFARBehaviour)
	out.BehaviourNote = strings.Join(notes, "; ")
	scored, depths := map[string][]string{}, map[string]map[string]float64{}
	for _, name := range cfg.Models {
		t0, c0 := time.Now(), cpuSeconds()
		g, err := train.LoadModel(name)
		if err != nil {
			return nil, fmt.Errorf("hierarchy: model %q: %w", name, err)
		}
		m := Model{Name: name, Network: g.Name, Kind: "trained"}
		if !g.Built() {
			if err := g.Build(cfg.Seed); err != nil {
				return nil, fmt.Errorf("hierarchy: building %s: %w", name, err)
			}
			m.Kind = "random"
			if g.NumParams() == 0 {
				m.Kind = "fixed"
			}
		} else if models.IsRandom(g) {
			m.Kind = "random"
		}
		if compare.IsHMAX(g) && g.Meta["prototypes"] == "" {
			desc, err := compare.SampleHMAXPrototypes(g, out.Benchmarks, nil, 0, 0, cfg.Seed)
			if err != nil {
				return nil, fmt.Errorf("hierarchy: %s: %w", name, err)
			}
			out.Prototypes = desc
			m.Kind = "fixed"
		}
		if p, ok := Published[name]; ok {
			m.Perf = &p
		} else if base, ok := strings.CutPrefix(name, train.RandomPrefix); ok {
			if _, ok := Published[base]; ok {
				m.Perf = &Performance{Chance, "chance (untrained, 1 of 1000 classes)", "imagenet"}
			}
		}
		if name == cfg.CIFAR && m.Kind == "trained" {
			// A different task from ImageNet: reported, not put in the ImageNet correlation.
			m.Perf = cifarPerf
		}
		if seen[train.RandomPrefix+name] {
			m.Control = train.RandomPrefix + name
		}
		subj := subject.FromGraph(g)
		layers, err := subject.DefaultLayers(subj)
		if err != nil {
			return nil, fmt.Errorf("hierarchy: %s: %w", name, err)
		}
		layers = Thin(layers, cfg.MaxLayers)
		all, err := subj.Layers()
		if err != nil {
			return nil, err
		}
		depth := map[string]float64{}
		for _, l := range all {
			depth[l.Name] = l.Depth
		}
		// A random: control is recorded at its trained network's layers, at their depths,
		// where it has them all (the two graphs can differ in bookkeeping nodes), so that both
		// profiles share their x.
		if base, ok := strings.CutPrefix(name, train.RandomPrefix); ok && scored[base] != nil {
			if subject.CheckLayers(subj, scored[base]) == nil {
				layers, depth = scored[base], depths[base]
			}
		}
		scored[name], depths[name] = layers, depth
		m.Layers = len(layers)
		cfg.logf("model %s (%s, %s): %d layers\n", name, g.Name, m.Kind, len(layers))
		for _, s := range out.Benchmarks {
			t1 := time.Now()
			r, err := benchmarks.Score(subj, s, benchmarks.Options{Layers: layers, Seed: cfg.Seed, Bootstrap: cfg.Bootstrap, CacheDir: cache})
			if err != nil {
				return nil, fmt.Errorf("hierarchy: %s on %s: %w", name, s.Name, err)
			}
			ld := make([]float64, len(r.Layers))
			for i, l := range r.Layers {
				ld[i] = depth[l.Layer]
				out.Profiles = append(out.Profiles, Profile{Model: name, Benchmark: s.Name, Region: s.Region, Layer: l.Layer,
					Depth: depth[l.Layer], Score: l.Score, CILow: l.CILow, CIHigh: l.CIHigh, Selection: l.Selection})
			}
			b := r.Best()
			best := Best{Model: name, Benchmark: s.Name, Region: s.Region, Layer: r.BestLayer, Depth: depth[r.BestLayer],
				HeldOut: r.HeldOut, HeldOutNorm: math.NaN(), Score: b.Score, CILow: b.CILow, CIHigh: b.CIHigh, res: r}
			if r.HeldOutNormalized != nil {
				best.HeldOutNorm = *r.HeldOutNormalized
			}
			best.DepthSamples = BestDepthSamples(r.LayerSamples, ld)
			best.DepthLow, best.DepthHigh = Interval(best.DepthSamples)
			out.Bests = append(out.Bests, best)
			cfg.logf("  %s: best %s (depth %.2f [%.2f, %.2f]), held-out %.3f, %.0fs\n", s.Name, short(r.BestLayer), best.Depth,
				best.DepthLow, best.DepthHigh, r.HeldOut, time.Since(t1).Seconds())
		}
		spec := bm
		// A model without learned weights has no classes: HMAX's 1,000 C2 units would pass
		// for ImageNet outputs by their number alone.
		if !behaviour.IsImageNetClassifier(g) || m.Kind == "fixed" {
			spec = nil
			if isCIFARClassifier(g) {
				spec = bmCIFAR
			}
		}
		if spec != nil {
			t1 := time.Now()
			b, err := behaviourOf(spec, name, g)
			if err != nil {
				return nil, fmt.Errorf("hierarchy: %w", err)
			}
			if b != nil {
				out.Behaviour = append(out.Behaviour, *b)
				cfg.logf("  %s: accuracy %.3f, error consistency %.3f (humans %.3f), %.0fs\n", b.Spec, b.Accuracy, b.Kappa, b.HumanKappa, time.Since(t1).Seconds())
			}
		}
		m.Seconds, m.CPUSeconds = time.Since(t0).Seconds(), cpuSeconds()-c0
		out.Models = append(out.Models, m)
		cfg.logf("  %s: %.0f s, %.0f CPU s (process peak RSS %.0f MiB)\n", name, m.Seconds, m.CPUSeconds, peakRSSMiB())
	}
	if err := out.tests(); err != nil {
		return nil, err
	}
	out.Seconds, out.CPUSeconds, out.PeakRSSMiB = time.Since(start).Seconds(), cpuSeconds()-c00, peakRSSMiB()
	return out, nil
}

// best returns the Best of model on benchmark (nil: none).
func (o *Outcome) best(model, bench string) *Best {
	for i := range o.Bests {
		if o.Bests[i].Model == model && o.Bests[i].Benchmark == bench {
			return &o.Bests[i]
		}
	}
	return nil
}

func (o *Outcome) model(name string) *Model {
	for i := range o.Models {
		if o.Models[i].Name == name {
			return &o.Models[i]
		}
	}
	return nil
}

// regionBenchmarks lists the benchmarks of region, in the configured order.
func (o *Outcome) regionBenchmarks(region string) []string {
	var out []string
	for _, s := range o.Benchmarks {
		if s.Region == region {
			out = append(out, s.Name)
		}
	}
	return out
}

// RegionScore is a model's mean held-out score over the region's benchmarks (NaN: none).
func (o *Outcome) RegionScore(model, region string) float64 {
	var s float64
	n := 0
	for _, b := range o.regionBenchmarks(region) {
		if r := o.best(model, b); r != nil && !math.IsNaN(r.HeldOut) {
			s += r.HeldOut
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// RegionDepth is a model's mean best depth over the region's benchmarks, with the bootstrap
// draws of that mean (draw b averages draw b of each benchmark).
func (o *Outcome) RegionDepth(model, region string) (float64, []float64) {
	var bs []*Best
	for _, b := range o.regionBenchmarks(region) {
		if r := o.best(model, b); r != nil {
			bs = append(bs, r)
		}
	}
	if len(bs) == 0 {
		return math.NaN(), nil
	}
	d := 0.0
	B := len(bs[0].DepthSamples)
	for _, r := range bs {
		d += r.Depth
		B = min(B, len(r.DepthSamples))
	}
	samples := make([]float64, B)
	for b := range samples {
		for _, r := range bs {
			samples[b] += r.DepthSamples[b]
		}
		samples[b] /= float64(len(bs))
	}
	return d / float64(len(bs)), samples
}

func (o *Outcome) tests() error {
	// Trained vs its random control, per benchmark; one Holm family.
	for _, m := range o.Models {
		if m.Kind != "trained" || m.Control == "" {
			continue
		}
		for _, s := range o.Benchmarks {
			a, b := o.best(m.Name, s.Name), o.best(m.Control, s.Name)
			t, err := compare.TestPair(a.res, b.res)
			if err != nil {
				return err
			}
			t.Model, t.Reference = m.Name, m.Control
			o.Controls = append(o.Controls, t)
		}
	}
	holm(o.Controls)
	// The best trained network (highest held-out score) against HMAX, per benchmark.
	hmax := ""
	for _, m := range o.Models {
		if strings.Contains(strings.ToLower(m.Network), "hmax") {
			hmax = m.Name
		}
	}
	if hmax != "" {
		for _, s := range o.Benchmarks {
			var top *Best
			for _, m := range o.Models {
				if m.Kind != "trained" {
					continue
				}
				if r := o.best(m.Name, s.Name); r != nil && (top == nil || r.HeldOut > top.HeldOut) {
					top = r
				}
			}
			if top == nil {
				continue
			}
			t, err := compare.TestPair(top.res, o.best(hmax, s.Name).res)
			if err != nil {
				return err
			}
			t.Model, t.Reference = top.Model, hmax
			o.VsHMAX = append(o.VsHMAX, t)
		}
		holm(o.VsHMAX)
	}
	// Depth ordering within each trained network that has all three regions.
	var ps []float64
	for _, m := range o.Models {
		if m.Kind != "trained" {
			continue
		}
		d := DepthOrder{Model: m.Name, Depth: map[string]float64{}}
		var samples [][]float64
		for _, r := range Regions {
			v, s := o.RegionDepth(m.Name, r)
			d.Depth[r] = v
			samples = append(samples, s)
		}
		if slices.ContainsFunc(samples, func(s []float64) bool { return len(s) == 0 }) {
			continue
		}
		d.Ordering = OrderTest(samples[0], samples[1], samples[2])
		o.Orders = append(o.Orders, d)
		ps = append(ps, d.P)
	}
	for i, p := range compare.Holm(ps) {
		o.Orders[i].PHolm = p
	}
	// Rank correlation of ImageNet top-1 and brain score, per benchmark and per region, over
	// the models with an ImageNet performance (trained and controls), and over the trained ones.
	scopes := []string{}
	for _, r := range Regions {
		if len(o.regionBenchmarks(r)) > 0 {
			scopes = append(scopes, r)
		}
	}
	for _, s := range o.Benchmarks {
		scopes = append(scopes, s.Name)
	}
	for _, set := range []string{"trained and random controls", "trained only"} {
		for _, sc := range scopes {
			c := Correlation{Scope: sc, Set: set}
			for _, m := range o.Models {
				if m.Perf == nil || m.Perf.Task != "imagenet" || (set == "trained only" && m.Kind != "trained") {
					continue
				}
				v := math.NaN()
				if slices.Contains(Regions, sc) {
					v = o.RegionScore(m.Name, sc)
				} else if r := o.best(m.Name, sc); r != nil {
					v = r.HeldOut
				}
				if math.IsNaN(v) {
					continue
				}
				c.Models = append(c.Models, m.Name)
				c.Perf = append(c.Perf, m.Perf.Top1)
				c.Score = append(c.Score, v)
			}
			c.Rho, c.P, c.Exact = SpearmanPerm(c.Perf, c.Score, o.Config.Perms, o.Config.Seed)
			o.Correlations = append(o.Correlations, c)
		}
	}
	return nil
}

func holm(ts []compare.Test) {
	p := make([]float64, len(ts))
	m := 0
	for i, t := range ts {
		p[i] = t.P
		if !math.IsNaN(t.P) {
			m++
		}
	}
	for i, a := range compare.Holm(p) {
		ts[i].PHolm = a
		if !math.IsNaN(p[i]) {
			ts[i].Family = m
		}
	}
}

// short shortens an imported network's layer name (TFLite names list every fused tensor,
// joined by ';') for tables and logs; the CSVs keep the full name.
func short(layer string) string {
	if i := strings.IndexByte(layer, ';'); i >= 0 {
		layer = layer[:i]
	}
	if len(layer) > 48 {
		layer = "..." + layer[len(layer)-45:]
	}
	return layer
}

// sortedModels returns model names in the configured order, trained first.
func (o *Outcome) sortedModels() []string {
	var out []string
	for _, m := range o.Models {
		out = append(out, m.Name)
	}
	sort.SliceStable(out, func(i, j int) bool { return o.model(out[i]).Kind == "trained" && o.model(out[j]).Kind != "trained" })
	return out
}

var _ = filepath.Join
