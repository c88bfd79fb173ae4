package hierarchy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/train"
)

func fakeRun(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, train.CheckpointFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// --cifar takes run folders, comma-separated, or parent folders of runs.
func TestCIFARCandidates(t *testing.T) {
	root := t.TempDir()
	parent := filepath.Join(root, "runs")
	fakeRun(t, filepath.Join(parent, "b"))
	fakeRun(t, filepath.Join(parent, "a"))
	os.MkdirAll(filepath.Join(parent, "notes"), 0o755) // no checkpoint: not a run
	single := filepath.Join(root, "single")
	fakeRun(t, single)
	got, err := CIFARCandidates(single + ", " + parent)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{single, filepath.Join(parent, "a"), filepath.Join(parent, "b")}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("candidates %v, want %v", got, want)
	}
	for spec, msg := range map[string]string{
		filepath.Join(root, "missing"):              "missing",
		filepath.Join(parent, "notes"):              "neither a training run folder",
		filepath.Join(single, train.CheckpointFile): "not a folder",
		",": "names no run folder",
	} {
		if _, err := CIFARCandidates(spec); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want one containing %q", spec, err, msg)
		}
	}
}

// The most accurate measured run wins; a run that cannot be measured is never picked; the
// first of equals wins.
func TestPickCIFAR(t *testing.T) {
	acc := map[string]float64{"a": 0.61, "b": 0.74, "c": 0.74, "d": 0.99}
	measure := func(d string) (float64, error) {
		if d == "d" {
			return 0, errors.New("not a CIFAR-10 classifier")
		}
		return acc[d], nil
	}
	best, runs := PickCIFAR([]string{"a", "b", "c", "d"}, measure)
	if best != 1 || len(runs) != 4 || runs[1].Accuracy != 0.74 || runs[3].Err == nil {
		t.Errorf("best %d, runs %+v", best, runs)
	}
	if best, _ := PickCIFAR([]string{"d"}, measure); best != -1 {
		t.Errorf("only an unmeasurable run: best %d", best)
	}
}

// Run with a folder of two CIFAR runs (cifar-cnn at two seeds) scores the more accurate one,
// its task performance being its CIFAR-10 accuracy (kept out of the ImageNet correlation).
func TestRunPicksBestCIFAR(t *testing.T) {
	mirror.Path(t, "kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat")
	mirror.Path(t, "cifar10/test.zip")
	mirror.Path(t, "geirhos-edges")
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	parent := t.TempDir()
	test, err := datasets.Load("cifar10", "test")
	if err != nil {
		t.Fatal(err)
	}
	var accs []float64
	for i, seed := range []uint64{3, 4} {
		g, err := train.LoadModel("cifar-cnn")
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(seed); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(parent, []string{"s3", "s4"}[i])
		os.MkdirAll(dir, 0o755)
		if err := train.SaveWeights(filepath.Join(dir, train.CheckpointFile), g, nil); err != nil {
			t.Fatal(err)
		}
		acc, _, err := train.Evaluate(g, train.Subset(test, 300), 0)
		if err != nil {
			t.Fatal(err)
		}
		accs = append(accs, acc)
	}
	if accs[0] == accs[1] {
		t.Fatalf("the two runs tie at %v: pick other seeds", accs[0])
	}
	want := filepath.Join(parent, "s3")
	if accs[1] > accs[0] {
		want = filepath.Join(parent, "s4")
	}
	cfg := Defaults()
	cfg.Models = []string{"random:cifar-cnn"}
	cfg.CIFAR = parent
	cfg.Benchmarks = []string{"kriegeskorte92-monkeyIT-rsa"}
	cfg.MaxLayers, cfg.Bootstrap, cfg.Behaviour, cfg.CIFARImages = 2, 40, "none", 300
	o, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := o.model(want)
	if o.Config.CIFAR != want || m == nil || m.Perf == nil || m.Perf.Task != "cifar10" || !strings.Contains(m.Perf.Source, "not ImageNet") {
		t.Fatalf("picked %q (want %s, accuracies %v); model %+v", o.Config.CIFAR, want, accs, m)
	}
	if hi := max(accs[0], accs[1]); m.Perf.Top1 != hi || len(o.CIFARRuns) != 2 {
		t.Errorf("performance %v, want %v; runs %+v", m.Perf.Top1, hi, o.CIFARRuns)
	}
	// Both CIFAR-10 classifiers run the 7-category edge benchmark, beside its human ceiling.
	if len(o.Behaviour) != 2 {
		t.Fatalf("behaviour of %d models, want 2", len(o.Behaviour))
	}
	for _, b := range o.Behaviour {
		if b.Spec != DefaultCIFARBehaviour || b.Categories != 7 || b.Stimuli != 70 || !(b.HumanKappa > 0.1) || len(b.PerCategory) != 7 {
			t.Errorf("%s: spec %s, %d categories, %d images, human-human kappa %v", b.Model, b.Spec, b.Categories, b.Stimuli, b.HumanKappa)
		}
	}
	var b strings.Builder
	if err := o.WriteTables(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "CIFAR-trained network: "+want) {
		t.Errorf("tables do not name the picked run:\n%s", b.String())
	}
}
