package nn

import (
	"strings"
	"testing"
)

func buildSpec(t *testing.T, spec string) error {
	t.Helper()
	g, err := ParseSpec([]byte(spec), "test.yaml")
	if err != nil {
		return err
	}
	return g.Build(1)
}

// TestBuildRefusesHugeLayers: layers whose parameters or outputs cannot fit are an error naming
// the layer and the size, before anything is allocated (a dense out: 1e11 used to panic in
// makeslice, a conv out: 1e9 to attempt a 100 GB allocation).
func TestBuildRefusesHugeLayers(t *testing.T) {
	// Small limits keep what the test allocates small (64 MiB of parameters, 256 MiB a layer).
	p0, a0 := MaxParamBytes, MaxActivationBytes
	defer func(p, a float64) { MaxParamBytes, MaxActivationBytes = p, a }(MaxParamBytes, MaxActivationBytes)
	MaxParamBytes, MaxActivationBytes = 64<<20, 256<<20
	for _, c := range []struct{ name, layers, want string }{
		{"dense", "  - {name: flat, type: flatten}\n  - {name: fc, type: dense, out: 100000000000}\n", `layer "fc" (dense)`},
		{"conv", "  - {name: c1, type: conv2d, out: 1000000000, kernel: 3}\n", `layer "c1" (conv2d)`},
		{"local", "  - {name: l1, type: local2d, out: 100000, kernel: 3}\n", `layer "l1" (local2d)`},
		{"convT", "  - {name: t1, type: conv_transpose2d, out: 1000000000, kernel: 3}\n", `layer "t1" (conv_transpose2d)`},
		{"overflow", "  - {name: flat, type: flatten}\n  - {name: fc, type: dense, out: 9000000000000000000}\n", `layer "fc" (dense)`},
		{"activation", "  - {name: c1, type: conv2d, out: 200000, kernel: 1}\n", `layer "c1" (conv2d): output`},
		{"cumulative", "  - {name: flat, type: flatten}\n  - {name: fc1, type: dense, out: 4000}\n  - {name: fc2, type: dense, out: 2000}\n", `layer "fc2" (dense)`},
	} {
		err := buildSpec(t, "name: big\ninput: [3, 32, 32]\nlayers:\n"+c.layers)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "limit") {
			t.Errorf("%s: got %v, want an error naming %s and the limit", c.name, err, c.want)
		}
	}
	// The real limits: 1e11 outputs of a dense layer need far more than any machine's memory.
	MaxParamBytes, MaxActivationBytes = p0, a0
	if err := buildSpec(t, "name: big\ninput: [3, 32, 32]\nlayers:\n  - {name: flat, type: flatten}\n  - {name: fc, type: dense, out: 100000000000}\n"); err == nil || !strings.Contains(err.Error(), `layer "fc"`) {
		t.Errorf("dense 1e11 under the default limits: %v", err)
	}
	if err := buildSpec(t, "name: big\ninput: [3, 100000000, 100000000]\nlayers:\n  - {name: r, type: relu}\n"); err == nil || !strings.Contains(err.Error(), "input shape") {
		t.Errorf("huge input: %v", err)
	}
}

// TestParamEstimateMatchesBuild checks the estimate against the parameters Build allocates.
func TestParamEstimateMatchesBuild(t *testing.T) {
	spec := `name: mix
input: [3, 16, 16]
layers:
  - {name: c1, type: conv2d, out: 8, kernel: 3, pad: 1}
  - {name: c2, type: conv2d, out: 8, kernel: [3, 5], groups: 2, no_bias: true}
  - {name: dn, type: divnorm}
  - {name: l1, type: local2d, out: 4, kernel: 2, stride: 2}
  - {name: t1, type: conv_transpose2d, out: 6, kernel: 3, stride: 2}
  - {name: flat, type: flatten}
  - {name: fc, type: dense, out: 10}
`
	g, err := ParseSpec([]byte(spec), "mix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	// Re-estimate each sized layer from the built shapes and compare with what it holds.
	for _, n := range g.Nodes {
		ps, ok := n.Op.(paramSizer)
		if !ok {
			continue
		}
		var in [][]int
		for _, r := range n.refs {
			if r.node < 0 {
				in = append(in, g.InputShape)
			} else {
				in = append(in, g.Nodes[r.node].Shape)
			}
		}
		est, ok := ps.paramElems(in)
		var got int
		for _, p := range n.Op.Params() {
			got += p.Value.Len()
		}
		if !ok || est != float64(got) {
			t.Errorf("layer %s: estimate %v (ok %v), built %d", n.Name, est, ok, got)
		}
	}
}

// TestSpecSteps: steps must be 0/1 or a bounded positive count.
func TestSpecSteps(t *testing.T) {
	for _, steps := range []string{"-3", "1000000"} {
		err := buildSpec(t, "name: s\ninput: [4]\nsteps: "+steps+"\nlayers:\n  - {name: r, type: relu}\n")
		if err == nil || !strings.Contains(err.Error(), "test.yaml") || !strings.Contains(err.Error(), "steps "+steps) {
			t.Errorf("steps %s: %v", steps, err)
		}
	}
	if err := buildSpec(t, "name: s\ninput: [4]\nsteps: 3\nlayers:\n  - {name: r, type: relu}\n"); err != nil {
		t.Error(err)
	}
}
