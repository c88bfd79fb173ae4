package constraints

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/compare"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/internal/toydata"
	"github.com/ventral-lab/ventral/nn"
)

// synthetic is the toy data set of these tests.
func synthetic(n int, seed uint64) *datasets.Dataset { return toydata.Squares(n, seed) }

func tinySpec(t *testing.T) string { return specFile(t, "tiny", false) }

// specFile writes a small CNN as a spec file: conv, pool, conv, pool, dense; deeper adds a
// second convolution before the first pooling.
func specFile(t *testing.T, name string, deeper bool) string {
	g := &nn.Graph{Name: name, InputShape: []int{3, 12, 12}}
	g.Chain("conv1", &nn.Conv2D{Out: 6, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}).Chain("relu1", nn.ReLU())
	if deeper {
		g.Chain("conv1b", &nn.Conv2D{Out: 6, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}).Chain("relu1b", nn.ReLU())
	}
	g.Chain("pool1", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
		Chain("conv2", &nn.Conv2D{Out: 8, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}).Chain("relu2", nn.ReLU()).
		Chain("pool2", &nn.MaxPool2D{Kernel: nn.Dims{2}}).Chain("flatten", nn.Flatten{}).Chain("fc", &nn.Dense{Out: 3})
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := g.SaveSpec(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// tinyConfig is Defaults on the tiny model and synthetic images, with the benchmarks' data from
// the mirror and a private cache.
func tinyConfig(t *testing.T) Config {
	for _, f := range []string{"kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat", "kriegeskorte92/92_brainRDMs.mat"} {
		mirror.Path(t, f)
	}
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	cfg := Defaults()
	cfg.Model, cfg.Train, cfg.Test = tinySpec(t), synthetic(120, 1), synthetic(60, 2)
	return cfg
}

func TestEndToEnd(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.TrainN, cfg.TestN, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Bootstrap = 120, 60, 1, 20, 0.01, -1
	var log bytes.Buffer
	cfg.Log = &log
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	byName := map[string]Row{}
	for _, r := range rows {
		byName[r.Variant] = r
		if r.MonkeyLayer == "" || r.HumanLayer == "" || r.MonkeyIT < -1 || r.MonkeyIT > 1 || r.TestAcc < 0 || r.TestAcc > 1 {
			t.Errorf("row %+v", r)
		}
	}
	if byName["random"].Trained || !byName["none"].Trained || byName["random"].Params != byName["none"].Params {
		t.Errorf("random %+v, none %+v", byName["random"], byName["none"])
	}
	if byName["unshared"].Params <= byName["none"].Params || byName["dale"].Params <= byName["none"].Params {
		t.Errorf("params: none %d, unshared %d, dale %d", byName["none"].Params, byName["unshared"].Params, byName["dale"].Params)
	}
	if byName["dale"].Model != "tiny+dale" {
		t.Errorf("dale model %q", byName["dale"].Model)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, cfg, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "settings: model") || !strings.Contains(buf.String(), "avgpool") {
		t.Errorf("table:\n%s", buf.String())
	}
	path := filepath.Join(t.TempDir(), "c.csv")
	if err := WriteCSV(path, rows); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != 6 {
		t.Errorf("csv has %d lines, want 6", n)
	}
}

func TestBadVariants(t *testing.T) {
	cfg := Defaults()
	cfg.Model = tinySpec(t)
	cfg.Train, cfg.Test = synthetic(3, 1), synthetic(3, 2)
	for _, v := range []string{"lateral", "dale+feedback"} {
		cfg.Variants = []string{"none", v}
		if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "unknown constraint") {
			t.Errorf("variant %s: %v", v, err)
		}
	}
	// A model without convolutions cannot take the dale switch.
	g := &nn.Graph{Name: "mlp", InputShape: []int{3, 12, 12}}
	g.Chain("flatten", nn.Flatten{}).Chain("fc", &nn.Dense{Out: 3})
	path := filepath.Join(t.TempDir(), "mlp.yaml")
	g.SaveSpec(path)
	cfg.Model, cfg.Variants = path, []string{"dale"}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "no conv2d") {
		t.Errorf("dale on an MLP: %v", err)
	}
}

// Another architecture trains with the same recipe, every row is tested against the
// unconstrained model, and a rerun in the same folder reuses the runs.
func TestAlsoPairedAndResume(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Variants, cfg.Also = []string{"random", "none"}, []string{specFile(t, "tiny-deep", true)}
	cfg.TrainN, cfg.TestN, cfg.Epochs, cfg.Batch, cfg.Bootstrap = 120, 60, 2, 20, 40
	cfg.Optimizer, cfg.LR, cfg.Cosine, cfg.Flip, cfg.Crop, cfg.WeightDecay, cfg.Warmup = "sgd", 0.05, true, true, 1, 1e-4, 3
	cfg.Out = t.TempDir()
	var log bytes.Buffer
	cfg.Log = &log
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[2].Model != "tiny-deep" || rows[2].Depth != 4 || rows[1].Depth != 3 || rows[0].Depth != 3 {
		t.Fatalf("rows %+v", rows)
	}
	for i, r := range rows {
		for _, x := range []compare.Test{r.Monkey, r.Human} {
			if x.Reference != "tiny" {
				t.Errorf("%s: reference %q, want the unconstrained tiny", r.Variant, x.Reference)
			}
			if i == 1 {
				if x.Note != "the reference" {
					t.Errorf("none: %+v", x)
				}
				continue
			}
			if x.Note != "" || !(x.P >= 0 && x.P <= 1) || !(x.DiffLow <= x.Diff && x.Diff <= x.DiffHigh) || x.Samples != 40 {
				t.Errorf("%s: test %+v", r.Variant, x)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, "tiny-deep", "model.safetensors")); err != nil {
		t.Errorf("no run folder for tiny-deep: %v", err)
	}
	var table bytes.Buffer
	WriteTable(&table, cfg, rows)
	if !strings.Contains(table.String(), "vs none") || !strings.Contains(table.String(), "SGD (Nesterov 0.9) lr 0.05 cosine, warm-up 3 steps") {
		t.Errorf("table:\n%s", table.String())
	}
	// Same settings: the trained runs are reused, with the same outcome.
	log.Reset()
	again, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming") || strings.Contains(log.String(), "epoch 1/2") {
		t.Errorf("rerun did not reuse the runs:\n%s", log.String())
	}
	for i := range rows {
		a, b := rows[i], again[i]
		a.Seconds, b.Seconds = 0, 0
		if a.TestAcc != b.TestAcc || a.MonkeyIT != b.MonkeyIT || fmt.Sprint(a.Human.P) != fmt.Sprint(b.Human.P) {
			t.Errorf("rerun row %d: %+v, first %+v", i, b, a)
		}
	}
	// Other settings in the same folder are refused.
	cfg.LR = 0.1
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("other settings in the same folder: %v", err)
	}
}
