package nn_test

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

const digestSpec = `name: dig
input: [2, 8, 8]
layers:
  - {name: s, type: s_cell, planes: 3, kernel: 3, pad: 1}
  - {name: c, type: conv2d, out: 4, kernel: 3, pad: 1}
  - {name: bn, type: batchnorm}
  - {name: g, type: gain, fixed: true, init: 2}
  - {name: ca, type: channel_affine, channels: 4}
  - {name: k, type: constant, shape: [4, 1, 1], inputs: [input]}
  - {name: m, type: mul, inputs: [ca, k]}
  - {name: r, type: rbf, prototypes: 2, size: 2}
`

func digestGraph(t *testing.T) *nn.Graph {
	t.Helper()
	g, err := nn.ParseSpec([]byte(digestSpec), "dig.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(5); err != nil {
		t.Fatal(err)
	}
	return g
}

func digest(t *testing.T, g *nn.Graph) string {
	t.Helper()
	d, err := g.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Every tensor that changes a model's outputs changes its digest: each parameter and each kind of
// buffer (batch-norm running mean and variance, a fixed gain, HMAX prototypes, S-cell weights);
// changing nothing, or changing a value and restoring it, keeps the digest.
func TestDigestCoversParamsAndBuffers(t *testing.T) {
	g := digestGraph(t)
	d0 := digest(t, g)
	if d := digest(t, g); d != d0 {
		t.Fatal("digest changed without a change to the model")
	}
	if d := digest(t, digestGraph(t)); d != d0 {
		t.Fatal("the same spec and seed give different digests")
	}
	targets := map[string]*tensor.Tensor{}
	for _, p := range g.Params() {
		targets["param "+p.Name] = p.Value
	}
	bufs := nn.GraphBuffers(g)
	for k, b := range bufs {
		targets["buffer "+k] = b
	}
	want := []string{"buffer bn.running_mean", "buffer bn.running_var", "buffer g.gain", "buffer r.prototypes", "buffer s.weight", "param ca.weight", "param ca.bias", "param k.value", "param c.weight"}
	for _, w := range want {
		if targets[w] == nil {
			t.Errorf("%s missing from the graph's params and buffers", w)
		}
	}
	names := make([]string, 0, len(targets))
	for k := range targets {
		names = append(names, k)
	}
	sort.Strings(names)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range names {
		x := targets[name]
		i := rng.IntN(x.Len())
		old := x.Data[i]
		x.Data[i] += 0.25
		if digest(t, g) == d0 {
			t.Errorf("changing %s[%d] leaves the digest unchanged", name, i)
		}
		x.Data[i] = old
		if digest(t, g) != d0 {
			t.Errorf("restoring %s[%d] does not restore the digest", name, i)
		}
	}
}

// A training pass that only updates batch norm's running statistics (no_affine: no parameters)
// changes the digest, as it changes the model's inference outputs.
func TestDigestRunningStatistics(t *testing.T) {
	g := &nn.Graph{Name: "bn", InputShape: []int{3, 4, 4}}
	g.Chain("bn", &nn.BatchNorm{NoAffine: true})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	if len(g.Params()) != 0 {
		t.Fatal("no_affine batch norm has parameters")
	}
	d0 := digest(t, g)
	x := randN(rand.New(rand.NewPCG(3, 3)), 1, 4, 3, 4, 4)
	tr0, _ := g.Forward(nn.NewCtx(false, 1), x)
	before := tr0.Output().Clone()
	if _, err := g.Forward(nn.NewCtx(true, 1), x); err != nil {
		t.Fatal(err)
	}
	tr1, _ := g.Forward(nn.NewCtx(false, 1), x)
	if relDiff(tr1.Output().Data, before.Data) == 0 {
		t.Fatal("the training pass did not change inference outputs")
	}
	if digest(t, g) == d0 {
		t.Error("running statistics changed the outputs but not the digest")
	}
}
