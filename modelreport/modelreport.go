// Package modelreport builds the report of one model: a single self-contained HTML page
// (report.Report) beside the PNG/SVG figures it shows, all drawn with gonum/plot:
//
//   - model: architecture, parameters, where the weights came from;
//   - training: the learning curves and metrics of a training run folder (metrics.csv);
//   - accuracy: top-1 accuracy, per-class accuracy and the confusion matrix on a test subset;
//   - benchmarks: the layer-to-region profile of each brain benchmark with noise-ceiling bounds
//     and bootstrap intervals, and the best layer;
//   - rdms: the model's RDMs of the 92 Kriegeskorte images beside the monkey and human IT RDMs;
//   - rf: theoretical and effective receptive-field size per layer;
//   - features: images that maximise a few channels of the convolutional layers;
//   - psychometric: accuracy under image distortions beside the human curves of
//     model-vs-human;
//   - consistency: trial-by-trial error consistency with human subjects (geirhos-edges-cifar10).
//
// Every section is optional: when its inputs are missing (no metrics.csv, no labelled data
// set, a model without CIFAR-10 classes, data not found) the section says why instead of
// failing the report. Defaults are sized so that cifar-cnn's whole report takes about a minute
// on a 2-core CPU; Options.Quick shrinks everything further.
package modelreport

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/report"
	"github.com/ventral-lab/ventral/train"
)

// Section names, in the order the page shows them.
const (
	Model        = "model"
	Training     = "training"
	Accuracy     = "accuracy"
	Benchmarks   = "benchmarks"
	RDMs         = "rdms"
	RF           = "rf"
	Features     = "features"
	Psychometric = "psychometric"
	Consistency  = "consistency"
)

// AllSections lists every section name in page order.
var AllSections = []string{Model, Training, Accuracy, Benchmarks, RDMs, RF, Features, Psychometric, Consistency}

// FileName is the report page's name inside the output folder.
const FileName = "report.html"

// Scored is a benchmark result the caller already has; Baseline (optional) is drawn beside it,
// e.g. an untrained copy of the same network.
type Scored struct {
	Result       *benchmarks.Result
	Baseline     *benchmarks.Result
	BaselineName string // ["baseline"]
}

// Options control Build. Zero values take the defaults in brackets (Quick: the second value).
type Options struct {
	// Out is the report folder [DIR/report for a training run folder or checkpoint file,
	// ventral-report-<model> otherwise]; the page is Out/report.html.
	Out      string
	Title    string // [ventral report: <model>]
	Subtitle string // [seed, version and date]
	Seed     uint64 // seed of untrained weights, subsets, bootstrap, noise [1]
	Quick    bool   // smaller defaults everywhere, for tests and previews
	// Sections to build, by name (see AllSections) [all].
	Sections []string
	// Notes adds paragraphs to a section, by name.
	Notes map[string][]string

	// Data is the labelled test set for accuracy and psychometric curves ("cifar10", "mnist")
	// [the dataset recorded in the checkpoint; else cifar10 for a model with the CIFAR-10
	// classes, mnist for a 1x28x28 ten-class model].
	Data      string
	TestLimit int // test images for accuracy [2000; 500]

	Benchmarks []string // brain benchmarks [kriegeskorte92-monkeyIT-rsa, kriegeskorte92-humanIT-rsa]
	Bootstrap  int      // bootstrap samples per benchmark [200; 50]
	// Scores replaces scoring: the benchmarks section shows these results.
	Scores []Scored

	ERFImages int // random images for effective receptive fields [8; 4]

	VisChannels int // channels per layer [4; 2]
	VisLayers   int // convolutional layers visualised, spread over depth [4; 2]
	VisSteps    int // gradient-ascent steps [64; 24]

	Distortions []string // [contrast, uniform-noise, low-pass, high-pass, phase-scrambling, rotation; contrast, uniform-noise]
	CurveLimit  int      // test images per distortion level [200; 100]

	ConsistencySpec string // behavioural spec [geirhos-edges-cifar10]

	Log io.Writer // progress lines [none]
}

func (o *Options) defaults() {
	pick := func(v *int, normal, quick int) {
		if *v == 0 {
			*v = normal
			if o.Quick {
				*v = quick
			}
		}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if len(o.Sections) == 0 {
		o.Sections = AllSections
	}
	pick(&o.TestLimit, 2000, 500)
	pick(&o.Bootstrap, 200, 50)
	pick(&o.ERFImages, 8, 4)
	pick(&o.VisChannels, 4, 2)
	pick(&o.VisLayers, 4, 2)
	pick(&o.VisSteps, 64, 24)
	pick(&o.CurveLimit, 200, 100)
	if len(o.Benchmarks) == 0 {
		o.Benchmarks = []string{"kriegeskorte92-monkeyIT-rsa", "kriegeskorte92-humanIT-rsa"}
	}
	if len(o.Distortions) == 0 {
		o.Distortions = []string{"contrast", "uniform-noise", "low-pass", "high-pass", "phase-scrambling", "rotation"}
		if o.Quick {
			o.Distortions = []string{"contrast", "uniform-noise"}
		}
	}
	if o.ConsistencySpec == "" {
		o.ConsistencySpec = "geirhos-edges-cifar10"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Status says what became of one section.
type Status struct {
	Name    string
	Heading string
	// State is "ok", "skipped" (an input is missing; Note says which) or "failed" (Note holds
	// the error).
	State   string
	Note    string
	Figures []string
	Seconds float64
}

// Result is what Build wrote.
type Result struct {
	Path     string // the page
	Dir      string // its folder, holding the figures
	Report   *report.Report
	Sections []Status
	Seconds  float64
}

// Failed returns an error naming the sections that failed (nil when none did); skipped
// sections are not failures.
func (r *Result) Failed() error {
	var errs []error
	for _, s := range r.Sections {
		if s.State == "failed" {
			errs = append(errs, fmt.Errorf("section %s: %s", s.Name, s.Note))
		}
	}
	return errors.Join(errs...)
}

// Section returns the status of the named section (State "" when it was not built).
func (r *Result) Section(name string) Status {
	for _, s := range r.Sections {
		if s.Name == name {
			return s
		}
	}
	return Status{Name: name}
}

// missing marks an error as a missing input: the section is skipped with a note.
type missing struct{ err error }

func (m missing) Error() string { return m.err.Error() }
func (m missing) Unwrap() error { return m.err }

func skipf(format string, a ...any) error { return missing{fmt.Errorf(format, a...)} }

// Build writes the report of the model named by model: a training run folder or .safetensors
// checkpoint (trained weights; its metrics.csv gives the training section), or a zoo name or
// spec file (built with random weights from Options.Seed).
func Build(model string, o Options) (*Result, error) {
	o.defaults()
	g, err := train.LoadModel(model)
	if err != nil {
		return nil, err
	}
	src := source{Name: model}
	if st, err := os.Stat(model); err == nil {
		switch {
		case st.IsDir():
			src.Dir = model
			src.Checkpoint = filepath.Join(model, train.CheckpointFile)
		case strings.EqualFold(filepath.Ext(model), ".safetensors"):
			src.Dir = filepath.Dir(model)
			src.Checkpoint = model
		}
	}
	if src.Checkpoint != "" {
		ck, err := train.LoadCheckpoint(src.Checkpoint)
		if err != nil {
			return nil, err
		}
		src.Meta = ck.Meta
		src.Epoch = ck.Epoch
	}
	if !g.Built() {
		if err := g.Build(o.Seed); err != nil {
			return nil, err
		}
		src.Untrained = true
	}
	if o.Out == "" {
		if src.Dir != "" {
			o.Out = filepath.Join(src.Dir, "report")
		} else {
			o.Out = "ventral-report-" + safeName(g.Name)
		}
	}
	return build(g, src, o)
}

// source says where a model came from.
type source struct {
	Name       string            // what the user named
	Dir        string            // training run folder ("" if none)
	Checkpoint string            // checkpoint file ("" if none)
	Meta       map[string]string // checkpoint metadata
	Epoch      int
	Untrained  bool
}

// ForGraph writes the report of a built model held in memory; dir is its training run folder
// (for metrics.csv and the checkpoint's metadata; "" for none). Options.Out is required.
func ForGraph(g *nn.Graph, dir string, o Options) (*Result, error) {
	o.defaults()
	if o.Out == "" {
		return nil, errors.New("modelreport: Options.Out is required")
	}
	if g == nil || !g.Built() {
		return nil, errors.New("modelreport: the model must be built")
	}
	src := source{Name: g.Name, Dir: dir}
	if dir != "" {
		if ck, err := train.LoadCheckpoint(dir); err == nil {
			src.Checkpoint, src.Meta, src.Epoch = ck.Path, ck.Meta, ck.Epoch
		}
	}
	return build(g, src, o)
}

// job is one report being built.
type job struct {
	o     Options
	g     *nn.Graph
	src   source
	out   string
	start time.Time

	dataName string
	dataErr  error
	data     map[int]*datasets.Dataset // test subsets by size
	full     *datasets.Dataset

	scored []Scored // benchmark results, for the RDM section's layer choice
}

// build writes the report of a loaded model (src says where it came from); o has its
// defaults and Out set.
func build(g *nn.Graph, src source, o Options) (*Result, error) {
	j := &job{o: o, g: g, src: src, out: o.Out, start: time.Now(), data: map[int]*datasets.Dataset{}}
	if err := os.MkdirAll(j.out, 0o755); err != nil {
		return nil, err
	}
	for _, s := range o.Sections {
		if !slices.Contains(AllSections, s) {
			return nil, fmt.Errorf("modelreport: unknown section %q (known: %s)", s, strings.Join(AllSections, ", "))
		}
	}
	j.scored = o.Scores
	r := &report.Report{Title: o.Title, Subtitle: o.Subtitle}
	if r.Title == "" {
		r.Title = "ventral report: " + g.Name
	}
	if r.Subtitle == "" {
		r.Subtitle = fmt.Sprintf("seed %d; ventral %s; %s", o.Seed, train.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	}
	res := &Result{Dir: j.out, Path: filepath.Join(j.out, FileName), Report: r}
	builders := map[string]func() ([]report.Section, error){
		Model: j.model, Training: j.training, Accuracy: j.accuracy, Benchmarks: j.benchmarks, RDMs: j.rdms,
		RF: j.rf, Features: j.features, Psychometric: j.psychometric, Consistency: j.consistency,
	}
	for _, name := range AllSections {
		if !slices.Contains(o.Sections, name) {
			continue
		}
		t0 := time.Now()
		fmt.Fprintf(o.Log, "report: %s\n", name)
		secs, err := builders[name]()
		st := Status{Name: name, Heading: headings[name], State: "ok"}
		if err != nil {
			var m missing
			st.State, st.Note = "failed", err.Error()
			text := "This section failed: " + err.Error()
			if errors.As(err, &m) {
				st.State = "skipped"
				text = "Not shown: " + err.Error() + "."
			}
			secs = []report.Section{{Heading: headings[name], Text: []string{text}}}
			fmt.Fprintf(o.Log, "report: %s %s: %v\n", name, st.State, err)
		}
		if len(secs) > 0 {
			secs[0].Text = append(secs[0].Text, o.Notes[name]...)
		}
		for _, s := range secs {
			for _, f := range s.Figures {
				st.Figures = append(st.Figures, f.File)
			}
		}
		st.Seconds = time.Since(t0).Seconds()
		res.Sections = append(res.Sections, st)
		r.Sections = append(r.Sections, secs...)
	}
	res.Seconds = time.Since(j.start).Seconds()
	if err := r.WriteHTML(res.Path); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "report: wrote %s (%.1f s)\n", res.Path, res.Seconds)
	return res, nil
}

var headings = map[string]string{
	Model: "Model", Training: "Training", Accuracy: "Accuracy", Benchmarks: "Brain benchmarks: layer-to-region profile",
	RDMs: "Representational dissimilarity matrices", RF: "Receptive fields", Features: "Feature visualisation",
	Psychometric: "Psychometric curves", Consistency: "Error consistency with humans",
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName makes a string usable as (part of) a file name.
func safeName(s string) string {
	s = unsafeChars.ReplaceAllString(s, "_")
	if s == "" || s == "." || s == ".." {
		s = "_"
	}
	return s
}

// figure saves a plot as name.png and name.svg in the report folder and returns the figure
// (showing the PNG).
func (j *job) figure(name, caption string, draw func(paths ...string) error) (report.Figure, error) {
	base := safeName(name)
	if err := draw(filepath.Join(j.out, base+".png"), filepath.Join(j.out, base+".svg")); err != nil {
		return report.Figure{}, err
	}
	return report.Figure{File: base + ".png", Caption: caption}, nil
}

// testData returns a class-balanced subset of n images of the labelled test set that matches
// the model's outputs.
func (j *job) testData(n int) (*datasets.Dataset, error) {
	if j.dataName == "" && j.dataErr == nil {
		j.dataName, j.dataErr = j.chooseData()
		if j.dataErr == nil {
			j.full, j.dataErr = datasets.Load(j.dataName, "test")
			if j.dataErr != nil {
				j.dataErr = skipf("the %s test set could not be loaded (%v)", j.dataName, j.dataErr)
			}
		}
	}
	if j.dataErr != nil {
		return nil, j.dataErr
	}
	if ds, ok := j.data[n]; ok {
		return ds, nil
	}
	ds := train.Subset(j.full, n)
	j.data[n] = ds
	return ds, nil
}

func (j *job) chooseData() (string, error) {
	name := j.o.Data
	if name == "" && j.src.Meta != nil {
		name = j.src.Meta["dataset"]
	}
	classes := models.Classes(j.g)
	out := j.g.Node(j.g.OutputName()).Shape
	if name == "" {
		switch {
		case slices.Equal(classes, datasets.CIFAR10Classes):
			name = "cifar10"
		case slices.Equal(j.g.InputShape, []int{1, 28, 28}) && slices.Equal(out, []int{10}):
			name = "mnist"
		default:
			return "", skipf("no labelled test set matches the model (it declares no training data set, and its classes are %s); pass a data set (e.g. --data cifar10)", classText(classes))
		}
	}
	if name != "cifar10" && name != "mnist" {
		return "", skipf("the model was trained on %q, which is not a labelled test set ventral knows (cifar10, mnist)", name)
	}
	if !slices.Equal(out, []int{10}) {
		return "", skipf("the model's output has shape %v, not the 10 classes of %s", out, name)
	}
	return name, nil
}

func classText(c []string) string {
	if len(c) == 0 {
		return "not declared"
	}
	if len(c) > 12 {
		return strings.Join(c[:12], ", ") + fmt.Sprintf(" ... (%d)", len(c))
	}
	return strings.Join(c, ", ")
}

func f3(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}
