package seqmnist

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
)

// memoryTask makes 28x28 noise images whose class c is written only in row 23 (bright pixels
// at columns 2c and 2c+1): read at step 23, it must be remembered through 4 more steps of
// noise, since the readout sees only the last hidden state. (Longer delays need many more
// epochs: at the default initialisation the sigmoid forget gates start near 0.5.)
func memoryTask(n int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	ds := &datasets.Dataset{Name: "memory", N: n, C: 1, H: 28, W: 28, X: make([]float32, n*784), Labels: make([]int, n)}
	for c := 0; c < 10; c++ {
		ds.Classes = append(ds.Classes, string(rune('0'+c)))
	}
	for i := 0; i < n; i++ {
		img := ds.X[i*784 : (i+1)*784]
		for j := range img {
			img[j] = float32(rng.Float64() * 0.3)
		}
		c := rng.IntN(10)
		ds.Labels[i] = c
		img[23*28+2*c], img[23*28+2*c+1] = 1, 1
	}
	return ds
}

// Both cells must learn the memory task far above chance (10%) with the experiment's recipe,
// which fails if backpropagation through time does not reach the early steps.
func TestCellsLearnMemoryTask(t *testing.T) {
	cfg := Defaults()
	cfg.Cells = Cells
	cfg.Train, cfg.Test = memoryTask(1500, 1), memoryTask(500, 2)
	cfg.TrainN, cfg.TestN = 0, 0
	cfg.Hidden, cfg.Epochs, cfg.Batch, cfg.LR = 16, 8, 32, 1e-2
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if r.TestAcc < 0.6 {
			t.Errorf("%s: test accuracy %.3f on the memory task, want > 0.6", r.Cell, r.TestAcc)
		}
	}
	// The fixed forget gate replaces a gate block of W, R and b by one vector.
	H := 16
	if d := rows[1].Params - rows[2].Params; d != H*(28+H+1)-H {
		t.Errorf("sublstm - fix-sublstm parameters = %d, want %d", d, H*(28+H+1)-H)
	}
	var tab bytes.Buffer
	if err := WriteTable(&tab, rows); err != nil || !strings.Contains(tab.String(), "fix-sublstm") {
		t.Errorf("table: %v\n%s", err, tab.String())
	}
	p := filepath.Join(t.TempDir(), "s.csv")
	if err := WriteCSV(p, rows); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 4 || recs[2][0] != "sublstm" {
		t.Errorf("csv: %v %v", recs, err)
	}
}

func TestBadConfig(t *testing.T) {
	cfg := Defaults()
	cfg.Cells = []string{"gru"}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), `"gru"`) {
		t.Errorf("unknown cell: %v", err)
	}
	cfg = Defaults()
	cfg.TrainN = -1
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("train -1: %v", err)
	}
	cfg = Defaults()
	cfg.Hidden = 0
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "hidden") {
		t.Errorf("hidden 0: %v", err)
	}
}
