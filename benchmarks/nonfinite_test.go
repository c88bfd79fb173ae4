package benchmarks

import (
	"errors"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/subject"
)

// Two gains of 1e30 overflow float32 (conv1's responses times 1e60 are Inf), and Inf
// activations used to give the layers an invented RSA score that could be chosen and recorded.
// Scoring must stop with an error that names the non-finite layers and no result.
func TestNonFiniteActivationsRefused(t *testing.T) {
	useMirror(t, k92[0])
	g := overflowModel(t)
	b, err := Load("kriegeskorte92-monkeyIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Score(subject.FromGraph(g), b, Options{Seed: 1, Bootstrap: 40})
	if err == nil {
		t.Fatalf("scored non-finite layers: best %s held-out %v, layers %+v", r.BestLayer, r.HeldOut, r.Layers)
	}
	t.Log(err)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), `"big2"`) || !strings.Contains(err.Error(), `"fc"`) || strings.Contains(err.Error(), `"conv1"`) {
		t.Fatalf("error %q should name big2 and fc (and not conv1) as non-finite", err)
	}
	// The finite layers alone still score.
	if _, err := Score(subject.FromGraph(g), b, Options{Seed: 1, Bootstrap: 40, Layers: []string{"conv1", "big1"}}); err != nil {
		t.Fatal(err)
	}
}

// overflowModel is conv1 followed by two fixed gains of 1e30: big2 and everything after it is
// +-Inf or NaN.
func overflowModel(t *testing.T) *nn.Graph {
	t.Helper()
	g, err := nn.ParseSpec([]byte(`
name: overflow
input: [3, 32, 32]
layers:
  - {name: conv1, type: conv2d, out: 4, kernel: 5, stride: 2}
  - {name: big1, type: scale, init: 1e30, fixed: true}
  - {name: big2, type: scale, init: 1e30, fixed: true}
  - {name: flat, type: flatten}
  - {name: fc, type: dense, out: 8}
`), "overflow")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	return g
}
