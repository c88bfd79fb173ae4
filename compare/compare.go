// Package compare scores several models side by side on the same neural benchmarks: trained
// CNNs (training run folders or checkpoints) next to untrained baselines (random-weight zoo
// models, the fixed Gabor V1 model, HMAX), so that questions such as "do CNNs predict IT better
// than HMAX?" get one table and one answer per benchmark.
//
// A model may also be known only by its activations, computed elsewhere: an .npz, .h5 or .nc file
// of one array per layer (subject.Open) is scored by the same benchmark code as a network.
//
// Run loads every model (train.LoadModel; "random:NAME" is the zoo model NAME marked as an
// untrained random-weight baseline by models.Constrain with Random), builds the untrained ones
// with the seed, and gives HMAX-style models (any model with rbf layers, such as hmax) their S2
// prototypes with models.HMAXPrototypes, sampled with the seed from a declared set of natural
// images (by default HMAXPrototypeImages CIFAR-10 training images, drawn with the seed and
// preprocessed as the model declares). Those images are never the benchmark's stimuli: Run
// refuses a prototype set that shares a model input with any benchmark's stimuli.
//
// Each model is then scored on each benchmark by benchmarks.Score (the best layer chosen on one
// half of the stimuli and scored on the other, bootstrap intervals over stimuli), every result
// is recorded in the results database, and on every benchmark the best model other than HMAX is
// tested against HMAX (or, with Config.Against, every model against that one) by TestPair: a
// paired bootstrap of the held-out scores the table shows, resampling the held-out data alike
// for both models. With more than one test, every p is also Holm-corrected over all the tests
// of the table (Test.PHolm beside Test.P), and answers call a difference significant by the
// corrected p.
package compare

import (
	"fmt"
	"github.com/ventral-lab/ventral/subject"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/results"
	"github.com/ventral-lab/ventral/train"
)

// Kinds of models in a table.
const (
	Trained     = "trained"
	Untrained   = "untrained baseline"
	Precomputed = "precomputed activations"
)

// RandomPrefix marks a zoo model (or spec file) to be scored with untrained random weights.
const RandomPrefix = train.RandomPrefix

// DefaultPrototypeImages is the number of natural images HMAX prototypes are sampled from.
const DefaultPrototypeImages = 200

// Config says what Run compares.
type Config struct {
	// Models are zoo names, model spec files, training run folders or .safetensors checkpoints
	// (train.LoadModel), "random:NAME" for the zoo model NAME with random weights, or .npz files
	// of activations precomputed elsewhere (subject.Open: one array per layer).
	Models []string
	// Benchmarks are built-in names or spec files (default DefaultBenchmarks()).
	Benchmarks []string
	// Seed initialises untrained models, draws the prototype images and HMAX prototypes, and
	// drives the benchmarks' selection split and bootstraps and the paired test.
	Seed uint64
	// Bootstrap samples (0: each benchmark's default; negative: none, and no paired test).
	Bootstrap int
	// Against, when set, is one of Models that every other model is tested against (a paired
	// test per model and RSA benchmark, each with its own answer) in place of the default test
	// of the best model against HMAX: "is each deeper network different from the shallow one?"
	Against string
	// HMAXPrototypeImages is how many natural images HMAX's S2 prototypes are sampled from
	// (default DefaultPrototypeImages); HMAXPrototypes the prototypes per S2 layer (0: the
	// model's own number, 250 for hmax).
	HMAXPrototypeImages int
	HMAXPrototypes      int
	// PrototypeSource supplies the prototype images (default CIFAR10Train).
	PrototypeSource ImageSource
	// DB is the results database (default results.DefaultPath()); NoRecord skips recording.
	DB       string
	NoRecord bool
	// CacheDir caches activations (default: a temporary folder removed when Run returns, so that
	// each model's stimuli are run once for all benchmarks and the paired test).
	CacheDir string
	// Log receives progress lines (nil: none).
	Log io.Writer
}

// Row is one model's result on one benchmark.
type Row struct {
	Model     string `json:"model"`   // as given in Config.Models
	Label     string `json:"label"`   // Model shortened for display (a path by its graph and base name)
	Network   string `json:"network"` // the graph's name (recorded in the results database)
	Kind      string `json:"kind"`    // Trained or Untrained
	Weights   string `json:"weights"` // where the weights come from
	Benchmark string `json:"benchmark"`
	Region    string `json:"region"`
	// BestLayer is chosen on the selection half of the stimuli, HeldOut is its score on the
	// other half (HeldOutNormalized divided by the ceiling on that half, where there is one).
	BestLayer         string   `json:"best_layer"`
	HeldOut           float64  `json:"held_out"`
	HeldOutNormalized *float64 `json:"held_out_normalized,omitempty"`
	// Score is the best layer's score on all stimuli with its 95% bootstrap interval;
	// Normalized is Score / Ceiling.
	Score      float64  `json:"score"`
	CILow      float64  `json:"ci_low"`
	CIHigh     float64  `json:"ci_high"`
	Normalized *float64 `json:"normalized,omitempty"`
	Ceiling    float64  `json:"ceiling,omitempty"`
	// AboveCeiling flags a normalised score (held-out or on all stimuli) above 1, marked in
	// the table (benchmarks.AboveCeilingMark).
	AboveCeiling bool  `json:"above_ceiling,omitempty"`
	Bootstrap    int   `json:"bootstrap"`
	RunID        int64 `json:"run_id,omitempty"`
	// Seconds is the scoring time; PrepSeconds the model's loading and preparation time
	// (prototype sampling for HMAX), counted on its first row.
	Seconds     float64  `json:"seconds"`
	PrepSeconds float64  `json:"prep_seconds,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
	// HMAX marks an HMAX-style model (rbf layers), the reference of the paired test.
	HMAX bool `json:"hmax,omitempty"`

	res *benchmarks.Result // for the paired test
}

// Test is a paired bootstrap test of one model against a reference on one benchmark: by
// default the best model other than HMAX against HMAX, with Config.Against each model against
// that one.
type Test struct {
	Benchmark string `json:"benchmark"`
	Model     string `json:"model"`     // the best model other than HMAX (by held-out score), or each model
	Reference string `json:"reference"` // HMAX, or Config.Against
	// Diff is HeldOut(Model) - HeldOut(Reference), the held-out scores of the table, with its
	// 95% paired bootstrap interval over resamples of the held-out data; P the two-sided
	// bootstrap p of "they score the same"; PHolm P adjusted by Holm's method over the Family
	// tests of the table (= P for a single test).
	Diff     float64 `json:"diff"`
	DiffLow  float64 `json:"diff_ci_low"`
	DiffHigh float64 `json:"diff_ci_high"`
	P        float64 `json:"p"`
	PHolm    float64 `json:"p_holm"`
	Family   int     `json:"family,omitempty"`
	Samples  int     `json:"samples"`
	Method   string  `json:"method"`
	Note     string  `json:"note,omitempty"` // why there is no test
}

// Table is the outcome of Run.
type Table struct {
	Seed       uint64   `json:"seed"`
	Benchmarks []string `json:"benchmarks"`
	Prototypes string   `json:"prototypes,omitempty"` // where HMAX's prototypes came from
	Rows       []Row    `json:"rows"`                 // models in order, benchmarks within
	Tests      []Test   `json:"tests"`
	Answers    []string `json:"answers"`
	Seconds    float64  `json:"seconds"`
}

// DefaultBenchmarks are the built-in RSA benchmarks on the 92 images of Kriegeskorte et al.
// (2008): human and monkey IT.
func DefaultBenchmarks() []string {
	var out []string
	for _, name := range benchmarks.Builtin() {
		s, err := benchmarks.Load(name)
		if err == nil && s.Stimuli.Set == "kriegeskorte92" && s.Metric.Type == "rsa" {
			out = append(out, name)
		}
	}
	return out
}

func (c *Config) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", a...)
	}
}

// Run loads, prepares and scores every model on every benchmark, records the results and
// tests the best model against HMAX (see the package documentation).
func Run(cfg Config) (*Table, error) {
	start := time.Now()
	if len(cfg.Models) == 0 {
		return nil, fmt.Errorf("compare: no models")
	}
	if len(cfg.Benchmarks) == 0 {
		cfg.Benchmarks = DefaultBenchmarks()
	}
	if cfg.HMAXPrototypeImages <= 0 {
		cfg.HMAXPrototypeImages = DefaultPrototypeImages
	}
	if cfg.PrototypeSource == nil {
		cfg.PrototypeSource = CIFAR10Train
	}
	// Everything that can fail cheaply first: benchmark specs and model names.
	var specs []*benchmarks.Spec
	seen := map[string]bool{}
	for _, b := range cfg.Benchmarks {
		s, err := benchmarks.Load(b)
		if err != nil {
			return nil, fmt.Errorf("compare: %w (built in: %s)", err, strings.Join(benchmarks.Builtin(), ", "))
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("compare: benchmark %s given twice", s.Name)
		}
		seen[s.Name] = true
		specs = append(specs, s)
	}
	seen = map[string]bool{}
	for _, m := range cfg.Models {
		if seen[m] {
			return nil, fmt.Errorf("compare: model %s given twice", m)
		}
		seen[m] = true
		if isActivations(m) {
			if _, err := subject.Open(m, ""); err != nil {
				return nil, fmt.Errorf("compare: model %q: %w", m, err)
			}
			continue
		}
		if _, err := loadModel(m); err != nil {
			return nil, err
		}
	}
	if cfg.Against != "" && !seen[cfg.Against] {
		return nil, fmt.Errorf("compare: --against %s is not one of the models compared (%s)", cfg.Against, strings.Join(cfg.Models, ", "))
	}
	cache := cfg.CacheDir
	if cache == "" {
		tmp, err := os.MkdirTemp("", "ventral-compare-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		cache = tmp
	}
	var db *results.DB
	if !cfg.NoRecord {
		path := cfg.DB
		if path == "" {
			path = results.DefaultPath()
		}
		var err error
		if db, err = results.Open(path); err != nil {
			return nil, err
		}
		defer db.Close()
	}

	t := &Table{Seed: cfg.Seed}
	for _, s := range specs {
		t.Benchmarks = append(t.Benchmarks, s.Name)
	}
	protos := &prototypes{cfg: &cfg, specs: specs}
	for _, name := range cfg.Models {
		t0 := time.Now()
		cfg.logf("%s: loading", name)
		row, model, err := prepare(&cfg, name, protos, t)
		if err != nil {
			return nil, err
		}
		prep := time.Since(t0).Seconds()
		for bi, s := range specs {
			cfg.logf("%s: scoring on %s", name, s.Name)
			t1 := time.Now()
			r, err := benchmarks.Score(model, s, benchmarks.Options{Seed: cfg.Seed, Bootstrap: cfg.Bootstrap, CacheDir: cache})
			if err != nil {
				return nil, fmt.Errorf("compare: %s: %w", name, err)
			}
			row := row
			fillRow(&row, r)
			row.Seconds = time.Since(t1).Seconds()
			if bi == 0 {
				row.PrepSeconds = prep
			}
			if db != nil {
				if row.RunID, err = db.Record(r, train.Version()); err != nil {
					return nil, fmt.Errorf("compare: recording %s on %s: %w", name, s.Name, err)
				}
			}
			cfg.logf("%s: %s best layer %s, held-out %.3f (%.1fs)", name, s.Name, row.BestLayer, row.HeldOut, row.Seconds)
			t.Rows = append(t.Rows, row)
		}
	}
	// Tests first, then Holm's correction over all of them, then the answers (which judge by the
	// corrected p).
	type pair struct{ a, ref *Row }
	var pairs []pair
	for _, s := range specs {
		rows := rowsOf(t.Rows, s.Name)
		if cfg.Against == "" {
			test, err := hmaxTest(rows, s)
			if err != nil {
				return nil, fmt.Errorf("compare: paired test on %s: %w", s.Name, err)
			}
			t.Tests = append(t.Tests, test)
			pairs = append(pairs, pair{})
			continue
		}
		var ref *Row
		for i := range rows {
			if rows[i].Model == cfg.Against {
				ref = &rows[i]
			}
		}
		for i := range rows {
			if &rows[i] == ref {
				continue
			}
			test, err := pairedTest(&rows[i], ref)
			if err != nil {
				return nil, fmt.Errorf("compare: paired test of %s against %s on %s: %w", rows[i].Model, ref.Model, s.Name, err)
			}
			t.Tests = append(t.Tests, test)
			pairs = append(pairs, pair{&rows[i], ref})
		}
	}
	applyHolm(t.Tests)
	for i, p := range pairs {
		if p.a == nil {
			t.Answers = append(t.Answers, Answer(t, t.Tests[i].Benchmark))
		} else {
			t.Answers = append(t.Answers, answerPair(p.a, p.ref, &t.Tests[i]))
		}
	}
	t.Seconds = time.Since(start).Seconds()
	return t, nil
}

// isActivations reports whether a model argument names precomputed activations (an .npz file)
// rather than a network.
func isActivations(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".npz", ".h5", ".hdf5", ".nc":
		return true
	}
	return false
}

// prepare loads one entry of Config.Models as a subject and describes it in a row: a network
// built with the seed (HMAX with its prototypes sampled) or precomputed activations.
func prepare(cfg *Config, name string, protos *prototypes, t *Table) (Row, subject.Model, error) {
	row := Row{Model: name, Kind: Untrained}
	if isActivations(name) {
		p, err := subject.Open(name, "")
		if err != nil {
			return row, nil, fmt.Errorf("compare: model %q: %w", name, err)
		}
		d, _ := p.Digest()
		row.Kind, row.Weights, row.Network = Precomputed, "activations computed elsewhere ("+d[:min(len(d), 19)]+")", p.Name()
		row.Label = label(name, p.Name())
		return row, p, nil
	}
	g, err := loadModel(name)
	if err != nil {
		return row, nil, err
	}
	loaded := g.Built()
	switch {
	case g.Built() && !models.IsRandom(g):
		row.Kind, row.Weights = Trained, "trained checkpoint"
	case g.Built():
		row.Weights = "checkpoint of random weights"
	default:
		if err := g.Build(cfg.Seed); err != nil {
			return row, nil, fmt.Errorf("compare: building %s: %w", name, err)
		}
		row.Weights = fmt.Sprintf("random initialisation, seed %d", cfg.Seed)
		if g.NumParams() == 0 {
			row.Weights = "fixed filters, nothing learned"
		}
	}
	if isHMAX(g) {
		row.HMAX = true
		// A checkpoint keeps the prototypes it was saved with; anything else samples them.
		if !(loaded && g.Meta["prototypes"] != "") {
			desc, err := protos.sample(g)
			if err != nil {
				return row, nil, fmt.Errorf("compare: %s: %w", name, err)
			}
			row.Weights = "S2 prototypes " + g.Meta["prototypes"]
			t.Prototypes = desc
		}
	}
	row.Network = g.Name
	row.Label = label(name, g.Name)
	return row, subject.FromGraph(g), nil
}

// loadModel resolves one entry of Config.Models (train.LoadModel, which also takes random:).
func loadModel(name string) (*nn.Graph, error) {
	g, err := train.LoadModel(name)
	if err != nil {
		msg := err.Error()
		if !strings.Contains(msg, "known:") {
			msg += fmt.Sprintf(" (known models: %s; or random:NAME, a spec file or a run folder)", strings.Join(models.Names(), ", "))
		}
		return nil, fmt.Errorf("compare: model %q: %s", name, msg)
	}
	return g, nil
}

// isHMAX reports whether a graph has rbf (S2) layers whose prototypes must be sampled.
func isHMAX(g *nn.Graph) bool {
	for _, n := range g.Nodes {
		if _, ok := n.Op.(*nn.RBF); ok {
			return true
		}
	}
	return false
}

func fillRow(row *Row, r *benchmarks.Result) {
	b := r.Best()
	row.Benchmark, row.Region = r.Benchmark, r.Region
	row.BestLayer, row.HeldOut, row.HeldOutNormalized = r.BestLayer, r.HeldOut, r.HeldOutNormalized
	row.Score, row.CILow, row.CIHigh, row.Normalized = b.Score, b.CILow, b.CIHigh, b.Normalized
	row.Ceiling, row.Bootstrap, row.Warnings = r.Ceiling.Value, r.Bootstrap, r.Warnings
	row.AboveCeiling = r.HeldOutAboveCeiling || b.AboveCeiling
	row.res = r
}

// rowsOf returns the rows of one benchmark.
func rowsOf(rows []Row, bench string) []Row {
	var out []Row
	for _, r := range rows {
		if r.Benchmark == bench {
			out = append(out, r)
		}
	}
	return out
}

// leaders returns the row with the best held-out score among the rows that are not HMAX, and
// the first HMAX row (nil when absent).
func leaders(rows []Row) (best, hmax *Row) {
	for i := range rows {
		r := &rows[i]
		if r.HMAX {
			if hmax == nil {
				hmax = r
			}
			continue
		}
		if math.IsNaN(r.HeldOut) {
			continue
		}
		if best == nil || r.HeldOut > best.HeldOut {
			best = r
		}
	}
	return best, hmax
}

// label shortens a model argument for tables: a zoo name stays, a path (spec file, run folder,
// checkpoint) becomes NETWORK[BASE].
func label(model, network string) string {
	base, random := strings.CutPrefix(model, RandomPrefix)
	if !strings.ContainsRune(base, filepath.Separator) && !strings.ContainsRune(base, '/') {
		return model
	}
	network = strings.TrimSuffix(network, "+random")
	l := network
	if b := strings.TrimSuffix(filepath.Base(base), filepath.Ext(base)); b != network {
		l += "[" + b + "]"
	}
	if random {
		l = RandomPrefix + l
	}
	return l
}
