package train

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/rules"
)

const ruleSpec = `
name: tiny2
input: [1, 8, 8]
meta: {preprocess: '{"mean":[0.3],"std":[0.4]}'}
layers:
  - {name: conv1, type: conv2d, out: 4, kernel: 3, pad: 1}
  - {name: relu1, type: relu}
  - {name: pool1, type: maxpool2d, kernel: 2}
  - {name: flat, type: flatten}
  - {name: fc1, type: dense, out: 8}
  - {name: relu2, type: relu}
  - {name: fc2, type: dense, out: 4}
`

// A run with feedback alignment (and direct feedback alignment) stopped after one epoch and
// resumed ends with the same weights as an uninterrupted one; the checkpoint carries the
// feedback matrices, equal to the ones the rule draws from the run's seed, and a checkpoint
// without them is refused.
func TestRuleResumeBitIdentical(t *testing.T) {
	for _, rule := range []string{"fa", "dfa"} {
		cfg := func(dir string) Config {
			c := baseConfig(t, dir)
			g, err := nn.ParseSpec([]byte(ruleSpec), "tiny2")
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Build(7); err != nil {
				t.Fatal(err)
			}
			c.Model, c.Rule = g, rule
			return c
		}
		straight := t.TempDir()
		a, err := Run(cfg(straight))
		if err != nil {
			t.Fatal(err)
		}
		broken := t.TempDir()
		c := cfg(broken)
		c.StopAfter = 1
		if _, err := Run(c); err != nil {
			t.Fatal(err)
		}
		b, err := Resume(broken, Config{Train: synthetic(t, 160, 1), Test: synthetic(t, 80, 2)})
		if err != nil {
			t.Fatal(err)
		}
		ta, tb := ModelTensors(a.Graph), ModelTensors(b.Graph)
		for k, v := range ta {
			for i := range v.Data {
				if math.Float32bits(v.Data[i]) != math.Float32bits(tb[k].Data[i]) {
					t.Fatalf("%s: %s[%d]: straight %v, resumed %v", rule, k, i, v.Data[i], tb[k].Data[i])
				}
			}
		}
		ck, err := LoadCheckpoint(broken)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := rules.New(rule, cfg("").Model, 42)
		if err != nil {
			t.Fatal(err)
		}
		want := fresh.State()
		if len(ck.Rule) != len(want) || len(want) < 2 {
			t.Fatalf("%s: checkpoint holds %d feedback matrices, the rule has %d", rule, len(ck.Rule), len(want))
		}
		for k, v := range want {
			if !sameData(ck.Rule[k].Data, v.Data) {
				t.Fatalf("%s: saved feedback %s differs from the seed's", rule, k)
			}
		}
		if err := LoadWeights(cfg("").Model, broken); err != nil {
			t.Fatalf("%s: loading the weights of a checkpoint with feedback matrices: %v", rule, err)
		}
		// The rule changed the training: weights differ from backpropagation's.
		bpc := cfg(t.TempDir())
		bpc.Rule = "bp"
		bp, err := Run(bpc)
		if err != nil {
			t.Fatal(err)
		}
		if sameData(ModelTensors(bp.Graph)["conv1.weight"].Data, ta["conv1.weight"].Data) {
			t.Fatalf("%s trained conv1 exactly as backpropagation did", rule)
		}
	}
	// Resuming an fa run whose checkpoint lost its matrices is an error naming the matrix.
	dir := t.TempDir()
	c := baseConfig(t, dir)
	c.Rule, c.StopAfter = "fa", 1
	if _, err := Run(c); err != nil {
		t.Fatal(err)
	}
	ts, meta, err := readSafetensors(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	for k := range ts {
		if strings.HasPrefix(k, rules.StatePrefix) {
			delete(ts, k)
		}
	}
	delete(meta, ChecksumKey)
	if err := writeSafetensors(filepath.Join(dir, CheckpointFile), ts, meta); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, ".lock"))
	_, err = Resume(dir, Config{Train: synthetic(t, 160, 1), Test: synthetic(t, 80, 2)})
	if err == nil || !strings.Contains(err.Error(), "feedback matrix") {
		t.Fatalf("resume without feedback matrices: %v", err)
	}
}

func sameData(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
