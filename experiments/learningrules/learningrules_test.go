package learningrules

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/internal/toydata"
	"github.com/ventral-lab/ventral/metrics/stats"
	"github.com/ventral-lab/ventral/nn"
)

// synthetic is the toy data set of these tests.
func synthetic(n int, seed uint64) *datasets.Dataset { return toydata.Squares(n, seed) }

func specFile(t *testing.T) string {
	g := &nn.Graph{Name: "tiny", InputShape: []int{3, 12, 12}}
	g.Chain("conv1", &nn.Conv2D{Out: 6, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}).Chain("relu1", nn.ReLU()).
		Chain("pool1", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
		Chain("conv2", &nn.Conv2D{Out: 8, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}).Chain("relu2", nn.ReLU()).
		Chain("pool2", &nn.MaxPool2D{Kernel: nn.Dims{2}}).Chain("flatten", nn.Flatten{}).
		Chain("fc1", &nn.Dense{Out: 16}).Chain("relu3", nn.ReLU()).Chain("fc2", &nn.Dense{Out: 3})
	path := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := g.SaveSpec(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// The whole experiment at toy size: five rules x two seeds on synthetic images, scored on the
// monkey IT benchmark; the summary's means, gaps and correlation are recomputed from the CSV.
func TestToyRun(t *testing.T) {
	for _, f := range []string{"kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat", "kriegeskorte92/92_brainRDMs.mat"} {
		mirror.Path(t, f)
	}
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	cfg := Defaults()
	cfg.Datasets = []string{"toy"}
	cfg.Models = map[string]string{"toy": specFile(t)}
	cfg.Data = map[string][2]*datasets.Dataset{"toy": {synthetic(150, 1), synthetic(90, 2)}}
	cfg.ScoreData = "toy"
	cfg.Benchmarks = []string{"kriegeskorte92-monkeyIT-rsa"}
	cfg.HebbEpochs = 3
	cfg.TrainN, cfg.TestN, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Bootstrap, cfg.Seeds = 150, 90, 4, 15, 0.01, -1, []uint64{1, 2}
	var log bytes.Buffer
	cfg.Log = &log
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 {
		t.Fatalf("%d rows, want 10", len(rows))
	}
	for _, r := range rows {
		if (r.Rule == "bp" || r.Rule == Hebbian) && r.TestAcc < 0.6 {
			t.Errorf("%s seed %d reached only %.3f on the toy task (chance 0.33)", r.Rule, r.Seed, r.TestAcc)
		}
		if len(r.Scores) != 1 || math.IsNaN(r.Scores[0].HeldOut) || r.Scores[0].Layer == "" {
			t.Errorf("%s seed %d: scores %+v", r.Rule, r.Seed, r.Scores)
		}
	}
	s := Summarize(cfg, rows)
	dir := t.TempDir()
	if err := WriteCSV(filepath.Join(dir, CSVFile), cfg, rows); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != 11 {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
	acc := map[string][]float64{}
	var all, score []float64
	for _, rec := range recs[1:] {
		a, _ := strconv.ParseFloat(rec[4], 64)
		sc, _ := strconv.ParseFloat(rec[7], 64)
		acc[rec[2]] = append(acc[rec[2]], a)
		all, score = append(all, a), append(score, sc)
	}
	for _, a := range s.Acc {
		v := acc[a.Rule]
		m := (v[0] + v[1]) / 2
		sd := math.Abs(v[0]-v[1]) / math.Sqrt2
		gap := m - (acc["bp"][0]+acc["bp"][1])/2
		if math.Abs(a.Mean-m) > 1e-5 || math.Abs(a.SD-sd) > 1e-5 || math.Abs(a.Gap-gap) > 1e-5 {
			t.Errorf("%s: summary %.4f ± %.4f gap %.4f, from the CSV %.4f ± %.4f gap %.4f", a.Rule, a.Mean, a.SD, a.Gap, m, sd, gap)
		}
	}
	if rho := stats.Spearman(all, score); len(s.Corr) != 1 || math.Abs(s.Corr[0].Rho-rho) > 1e-4 || s.Corr[0].N != 10 {
		t.Errorf("correlation %+v, Spearman from the CSV %.4f", s.Corr, rho)
	}
	var sum bytes.Buffer
	if err := WriteSummary(&sum, cfg, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gap to bp", "hebbian", "Spearman", "Accuracy gap to backpropagation on toy"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	fig := filepath.Join(dir, FigureFile)
	if err := WriteFigure(fig, cfg, rows, s); err != nil {
		t.Fatal(err)
	}
	pf, err := os.Open(fig)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if _, err := png.Decode(pf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "hebbian conv2 (wta)") {
		t.Errorf("log lacks the Hebbian layers:\n%s", log.String())
	}
}

func TestBadConfig(t *testing.T) {
	cfg := Defaults()
	cfg.Rules = []string{"bp", "magic"}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("unknown rule: %v", err)
	}
}
