package analysis

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
)

// A model in which the image reaches layer "late" one step after layer "early" ("late" reads
// early@prev, zeros at step 0): per-step decoding must find the category in early at every
// step but in late only from step 1, at chance before.
func TestDecodePerStep(t *testing.T) {
	g := &nn.Graph{Name: "delay", InputShape: []int{1, 4, 4}, Steps: 3}
	g.Add("early", &nn.Dense{Out: 8}, nn.InputName).
		Add("late", &nn.Dense{Out: 8}, "early"+nn.PrevSuffix)
	if err := g.Build(2); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 120
	ds := &datasets.Dataset{Name: "two", N: n, C: 1, H: 4, W: 4, X: make([]float32, n*16), Labels: make([]int, n), Classes: []string{"dark", "bright"}}
	for i := 0; i < n; i++ {
		c := i % 2
		ds.Labels[i] = c
		for j := 0; j < 16; j++ {
			ds.X[i*16+j] = float32(0.3*rng.NormFloat64()) + float32(c)*float32(j%2)
		}
	}
	layers := PerStep(g, []string{"early", "late"})
	if strings.Join(layers, ",") != "early@t0,early@t1,early@t2,late@t0,late@t1,late@t2" {
		t.Fatalf("per-step layers %v", layers)
	}
	rows, err := Decode(g, ds, layers, DecodeOptions{Folds: 3, Seed: 1, Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	acc := map[string]float64{}
	for _, r := range rows {
		acc[r.Layer] = r.Accuracy
	}
	for _, l := range []string{"early@t0", "early@t1", "early@t2", "late@t1", "late@t2"} {
		if acc[l] < 0.9 {
			t.Errorf("%s: accuracy %.3f, want > 0.9", l, acc[l])
		}
	}
	if acc["late@t0"] > 0.6 {
		t.Errorf("late@t0 (before the image arrives): accuracy %.3f, want chance", acc["late@t0"])
	}
	if _, err := Decode(g, ds, []string{"late@t3"}, DecodeOptions{}); err == nil || !strings.Contains(err.Error(), "3 step(s)") {
		t.Errorf("step beyond the model: %v", err)
	}
	if got := PerStep(&nn.Graph{Steps: 1}, []string{"a"}); len(got) != 1 || got[0] != "a" {
		t.Errorf("one-step model: %v", got)
	}
}
