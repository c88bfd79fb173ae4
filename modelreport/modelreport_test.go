package modelreport

import (
	"bytes"
	"encoding/xml"
	"github.com/ventral-lab/ventral/subject"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/train"
)

// tinySpec is a small CIFAR-10 network whose name needs HTML escaping.
const tinySpec = `name: "tiny<b>&cnn"
input: [3, 32, 32]
meta:
  classes: airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck
  preprocess: '{"size":32,"rgb":true,"mean":[0.4914,0.4822,0.4465],"std":[0.247,0.2435,0.2616]}'
layers:
  - {name: conv1, type: conv2d, out: 8, kernel: [3], pad: [1]}
  - {name: relu1, type: relu}
  - {name: pool1, type: maxpool2d, kernel: [2], stride: [2]}
  - {name: conv2, type: conv2d, out: 16, kernel: [3], pad: [1]}
  - {name: relu2, type: relu}
  - {name: pool2, type: maxpool2d, kernel: [2], stride: [2]}
  - {name: flatten, type: flatten}
  - {name: fc, type: dense, out: 10}
`

// useMirror points the dataset registry at the shared data mirror (skipping without it,
// failing under CI) and the cache at a temporary folder.
func useMirror(t *testing.T) {
	t.Helper()
	mirror.Path(t, "cifar10/test.zip")
	mirror.Path(t, "kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat")
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
}

// trainTiny trains tinySpec for one epoch on 1000 CIFAR-10 test images into a run folder.
func trainTiny(t *testing.T) string {
	t.Helper()
	g, err := nn.ParseSpec([]byte(tinySpec), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	ds, err := datasets.Load("cifar10", "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := train.Run(train.Config{Model: g, Train: train.Subset(ds, 1000), Test: train.Subset(ds, 200), DataName: "cifar10",
		Epochs: 1, Batch: 50, Optim: optim.Config{Name: "sgd", LR: 0.02, Momentum: 0.9}, Seed: 3, Out: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tiny runs every section with the smallest samples that still exercise it.
func tiny(o Options) Options {
	o.Quick = true
	o.Bootstrap, o.TestLimit, o.CurveLimit = 40, 200, 40
	o.VisSteps, o.ERFImages = 8, 2
	if o.Distortions == nil {
		o.Distortions = []string{"contrast"}
	}
	return o
}

// checkFigures checks that every figure the page names exists beside it and decodes, with an
// SVG twin that parses where one was written.
func checkFigures(t *testing.T, res *Result) {
	t.Helper()
	figs := res.Report.Figures()
	if len(figs) == 0 {
		t.Fatal("no figures")
	}
	for _, f := range figs {
		b, err := os.ReadFile(filepath.Join(res.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		svg := strings.TrimSuffix(f, ".png") + ".svg"
		if b, err := os.ReadFile(filepath.Join(res.Dir, svg)); err == nil {
			d := xml.NewDecoder(bytes.NewReader(b))
			for {
				if _, err := d.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Errorf("%s: %v", svg, err)
					break
				}
			}
		}
	}
}

func TestReportTinyTrainedModel(t *testing.T) {
	useMirror(t)
	dir := trainTiny(t)
	var log bytes.Buffer
	res, err := Build(dir, tiny(Options{Log: &log}))
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Failed(); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.Path != filepath.Join(dir, "report", FileName) {
		t.Fatalf("report at %s", res.Path)
	}
	for _, name := range AllSections {
		if st := res.Section(name); st.State != "ok" {
			t.Errorf("section %s: %+v", name, st)
		}
	}
	wantFigs := map[string][]string{
		Training: {"training_curves.png"}, Accuracy: {"accuracy_per_class.png", "confusion.png"},
		Benchmarks: {"profile_kriegeskorte92-monkeyIT-rsa.png", "profile_kriegeskorte92-humanIT-rsa.png"},
		RDMs:       {"rdms.png"}, RF: {"receptive_fields.png"}, Features: {"features_conv1.png", "features_conv2.png"},
		Psychometric: {"psychometric_contrast.png"}, Consistency: {"error_consistency.png", "consistency_accuracy.png"},
	}
	for s, files := range wantFigs {
		for _, f := range files {
			if !slices.Contains(res.Section(s).Figures, f) {
				t.Errorf("section %s: figures %v lack %s", s, res.Section(s).Figures, f)
			}
		}
	}
	checkFigures(t, res)
	b, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if strings.Contains(page, "tiny<b>") || !strings.Contains(page, "tiny&lt;b&gt;&amp;cnn") {
		t.Error("the model name is not escaped")
	}
	for _, h := range []string{"Training", "Accuracy", "Brain benchmarks", "kriegeskorte92-humanIT-rsa", "Representational dissimilarity",
		"Receptive fields", "Feature visualisation", "Psychometric curves", "Error consistency"} {
		if !strings.Contains(page, "<h2>"+h) {
			t.Errorf("no section %q", h)
		}
	}

	// The page in a real browser: it loads, shows every section, every image decodes, nothing
	// is logged as an error.
	if _, err := os.Stat(chromiumPath); err != nil && os.Getenv("CI") == "" {
		t.Logf("skipping the browser check: %s not found", chromiumPath)
		return
	}
	pc := openInBrowser(t, res.Path)
	if !strings.Contains(pc.Title, "tiny<b>&cnn") || pc.Scripts != 0 {
		t.Errorf("title %q, %d scripts", pc.Title, pc.Scripts)
	}
	if len(pc.Headings) < len(AllSections)+1 {
		t.Errorf("headings %q", pc.Headings)
	}
	if len(pc.Images) != len(res.Report.Figures()) {
		t.Errorf("browser sees %d images, the report names %d", len(pc.Images), len(res.Report.Figures()))
	}
	for _, im := range pc.Images {
		if !im.Complete || im.Width == 0 {
			t.Errorf("image %s did not load (complete %v, width %d)", im.Src, im.Complete, im.Width)
		}
	}
	if len(pc.Errors) > 0 {
		t.Errorf("browser errors:\n%s", strings.Join(pc.Errors, "\n"))
	}
}

// Missing inputs make sections say why instead of failing the report: a run folder without
// metrics.csv, a model without CIFAR-10 classes, a data set that does not match.
func TestReportMissingInputs(t *testing.T) {
	useMirror(t)
	g, err := nn.ParseSpec([]byte(strings.Replace(tinySpec, "  classes: airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck\n", "", 1)), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := train.SaveWeights(filepath.Join(dir, train.CheckpointFile), g, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	res, err := Build(dir, tiny(Options{Out: out, Sections: []string{Model, Training, Accuracy, Psychometric, Consistency}, Data: "imagenet"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Failed(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{Training: "has no metrics.csv", Accuracy: `"imagenet"`, Psychometric: `"imagenet"`, Consistency: "classes"} {
		if st := res.Section(name); st.State != "skipped" || !strings.Contains(st.Note, want) {
			t.Errorf("section %s: %+v, want skipped with %q", name, st, want)
		}
	}
	if st := res.Section(Model); st.State != "ok" {
		t.Errorf("model section %+v", st)
	}
	if res.Section(RDMs).State != "" {
		t.Error("an unrequested section was built")
	}
	b, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "Not shown: the run folder") {
		t.Errorf("page lacks the training note:\n%s", b)
	}
	if _, err := Build(dir, Options{Out: out, Sections: []string{"nope"}}); err == nil {
		t.Error("an unknown section was accepted")
	}
}

// Results the caller already has (quickstart's trained and untrained networks) are shown as
// given, the baseline beside the model, and the RDM section picks their best layers.
func TestForGraphWithScores(t *testing.T) {
	useMirror(t)
	var gs [2]*nn.Graph
	for i := range gs {
		g, err := nn.ParseSpec([]byte(tinySpec), "tiny.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(uint64(i + 1)); err != nil {
			t.Fatal(err)
		}
		gs[i] = g
	}
	spec, err := benchmarks.Load("kriegeskorte92-monkeyIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	var rs [2]*benchmarks.Result
	for i, g := range gs {
		if rs[i], err = benchmarks.Score(subject.FromGraph(g), spec, benchmarks.Options{Seed: 1, Bootstrap: 40}); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	res, err := ForGraph(gs[0], "", Options{Out: out, Sections: []string{Training, Benchmarks, RDMs}, Benchmarks: []string{spec.Name},
		Scores: []Scored{{Result: rs[0], Baseline: rs[1], BaselineName: "untrained"}}, Notes: map[string][]string{Benchmarks: {"a note"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Failed(); err != nil {
		t.Fatal(err)
	}
	if st := res.Section(Training); st.State != "skipped" {
		t.Errorf("training: %+v", st)
	}
	checkFigures(t, res)
	b, _ := os.ReadFile(res.Path)
	for _, want := range []string{"<th>untrained</th>", "a note", "profile_kriegeskorte92-monkeyIT-rsa.png", "rdms.png", rs[0].BestLayer} {
		if !strings.Contains(string(b), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
