package nn_test

import (
	"math"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

func TestGradDense(t *testing.T) {
	nntest.CheckOp(t, &nn.Dense{Out: 5}, [][]int{{3, 2, 2}}, nntest.Opts{Batch: 3})
	nntest.CheckOp(t, &nn.Dense{Out: 4, NoBias: true}, [][]int{{7}}, nntest.Opts{})
}

func TestGradActivations(t *testing.T) {
	for _, a := range []*nn.Activation{nn.ReLU(), nn.LeakyReLU(0.1), nn.Sigmoid(), nn.Tanh()} {
		nntest.CheckOp(t, a, [][]int{{4, 3}}, nntest.Opts{Kinky: true})
	}
}

func TestGradMerge(t *testing.T) {
	nntest.CheckOp(t, nn.Add{}, [][]int{{2, 3}, {2, 3}, {2, 3}}, nntest.Opts{})
	nntest.CheckOp(t, nn.Concat{}, [][]int{{2, 3, 3}, {1, 3, 3}}, nntest.Opts{})
	nntest.CheckOp(t, nn.Flatten{}, [][]int{{2, 3, 3}}, nntest.Opts{})
	// Dropout in training mode: the same ctx seed gives the same mask, so the check is exact.
	nntest.CheckOp(t, &nn.Dropout{P: 0.3}, [][]int{{10}}, nntest.Opts{Train: true})
}

func TestSoftmaxCrossEntropyGradient(t *testing.T) {
	logits := tensor.FromData([]float32{1, 2, 0.5, -1, 0, 3}, 2, 3)
	labels := []int{1, 2}
	loss, d, correct, err := nn.SoftmaxCrossEntropy(logits, labels)
	if err != nil {
		t.Fatal(err)
	}
	if correct != 2 {
		t.Errorf("correct = %d, want 2", correct)
	}
	// Independent value: -log softmax by hand.
	want := 0.0
	rows := [][]float64{{1, 2, 0.5}, {-1, 0, 3}}
	for i, r := range rows {
		s := 0.0
		for _, v := range r {
			s += math.Exp(v)
		}
		want += -math.Log(math.Exp(r[labels[i]]) / s)
	}
	want /= 2
	if math.Abs(loss-want) > 1e-6 {
		t.Errorf("loss %v, want %v", loss, want)
	}
	for i := range logits.Data {
		orig := logits.Data[i]
		logits.Data[i] = orig + 1e-3
		lp, _, _, _ := nn.SoftmaxCrossEntropy(logits, labels)
		logits.Data[i] = orig - 1e-3
		lm, _, _, _ := nn.SoftmaxCrossEntropy(logits, labels)
		logits.Data[i] = orig
		if num := (lp - lm) / 2e-3; math.Abs(num-float64(d.Data[i])) > 1e-4 {
			t.Errorf("d[%d] = %v, numeric %v", i, d.Data[i], num)
		}
	}
	logits.Data[0] = float32(math.NaN())
	if _, _, _, err := nn.SoftmaxCrossEntropy(logits, labels); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN logits: err = %v", err)
	}
}

func TestMSEGradient(t *testing.T) {
	p := tensor.FromData([]float32{1, 2, 3}, 1, 3)
	y := tensor.FromData([]float32{0, 2, 5}, 1, 3)
	l, d, err := nn.MSE(p, y)
	if err != nil || math.Abs(l-5.0/3) > 1e-6 || math.Abs(float64(d.Data[2])-(-4.0/3)) > 1e-6 {
		t.Errorf("mse = %v, %v, %v", l, d.Data, err)
	}
}

// A recurrent graph: h_t = tanh(W x + U h_{t-1}), out = V h_T, checked through 3 steps of BPTT.
func recurrentGraph() *nn.Graph {
	g := &nn.Graph{Name: "rnn", InputShape: []int{4}, Steps: 3}
	g.Add("wx", &nn.Dense{Out: 5}, "input")
	g.Add("uh", &nn.Dense{Out: 5, NoBias: true}, "h@prev")
	g.Add("sum", nn.Add{}, "wx", "uh")
	g.Add("h", nn.Tanh(), "sum")
	g.Add("out", &nn.Dense{Out: 2}, "h")
	return g
}

func TestBackpropThroughTime(t *testing.T) {
	g := recurrentGraph()
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	nntest.CheckGraph(t, g, nntest.Opts{Batch: 2})
	// The recurrence must matter: with 1 step the output differs.
	x := tensor.New(1, 4)
	for i := range x.Data {
		x.Data[i] = float32(i) - 1.5
	}
	tr, _ := g.Forward(nil, x)
	y3 := tr.Output().Clone()
	g.Steps = 1
	g.Nodes[1].Inputs = []string{"wx"} // no recurrence
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	tr, _ = g.Forward(nil, x)
	if tensor.SameShape(y3.Shape, tr.Output().Shape) && y3.Data[0] == tr.Output().Data[0] {
		t.Error("recurrent and feedforward outputs are identical")
	}
}

func TestSpecRoundTrip(t *testing.T) {
	g := recurrentGraph()
	g.Meta = map[string]string{"citation": "test"}
	for _, enc := range []func() ([]byte, error){g.SpecJSON, g.SpecYAML} {
		b, err := enc()
		if err != nil {
			t.Fatal(err)
		}
		g2, err := nn.ParseSpec(b, "round.trip")
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		b2, _ := g2.SpecJSON()
		b1, _ := g.SpecJSON()
		if string(b1) != string(b2) {
			t.Errorf("round trip changed the spec:\n%s\n---\n%s", b1, b2)
		}
		// Same spec and seed: same weights.
		g.Build(5)
		g2.Build(5)
		p1, p2 := g.Params(), g2.Params()
		for i := range p1 {
			if p1[i].Name != p2[i].Name || p1[i].Value.Data[0] != p2[i].Value.Data[0] {
				t.Errorf("param %d: %s=%v vs %s=%v", i, p1[i].Name, p1[i].Value.Data[0], p2[i].Name, p2[i].Value.Data[0])
			}
		}
	}
}

func TestSpecErrors(t *testing.T) {
	cases := map[string]string{
		"name: x\ninput: [4]\nlayers:\n  - {name: a, type: warp}\n":                                                                             "unknown layer type",
		"name: x\ninput: [4]\nlayers:\n  - {name: a, type: dense, outs: 3}\n":                                                                   "unknown field",
		"name: x\ninput: [4]\nlayer:\n  - {name: a, type: dense, out: 3}\n":                                                                     "unknown top-level key",
		"name: x\ninput: [4]\nlayers:\n  - {type: dense, out: 3}\n":                                                                             "missing string field \"name\"",
		"name: x\ninput: [4]\nlayers:\n  - {name: a, type: dense, out: \"3\"}\n":                                                                "cannot unmarshal",
		"name: x\ninput: [4]\nlayers: [{name: a, type: dense, out: 3, inputs: [b]}]\n":                                                          "unknown input",
		"name: x\ninput: [4]\nlayers: [{name: a, type: add, inputs: [input, b]}, {name: b, type: dense, out: 3, inputs: [a]}]\n":                "cycle",
		"name: x\ninput: [4]\nlayers: [{name: a, type: dense, out: 3}, {name: b, type: dense, out: 2}, {name: c, type: add, inputs: [a, b]}]\n": "input 1 has shape [2]",
		"name: x\ninput: [4]\nlayers: [{name: a, type: dense, out: -3}]\n":                                                                      "out must be positive",
		"{": "not valid YAML",
	}
	for src, want := range cases {
		g, err := nn.ParseSpec([]byte(src), "bad.yaml")
		if err == nil {
			err = g.Build(1)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("spec %q: error %v, want it to mention %q", src, err, want)
		}
	}
}

func TestInferenceRecyclesButKeeps(t *testing.T) {
	g := &nn.Graph{Name: "mlp", InputShape: []int{3}}
	g.Chain("fc1", &nn.Dense{Out: 4}).Chain("r1", nn.ReLU()).Chain("fc2", &nn.Dense{Out: 2})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	tr, err := g.Forward(nn.NewCtx(false, 0), tensor.New(2, 3), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Out("r1") == nil || tr.Output() == nil {
		t.Error("kept layer or output was recycled")
	}
	if tr.Out("fc1") != nil {
		t.Error("unkept intermediate was not recycled")
	}
	if _, err := g.Forward(nil, tensor.New(2, 3), "nope"); err == nil {
		t.Error("unknown layer name accepted")
	}
	if _, err := g.Forward(nil, tensor.New(2, 4)); err == nil {
		t.Error("wrong input shape accepted")
	}
}

// A view (flatten) of a recycled buffer must not be overwritten by later layers.
func TestRecyclingRespectsViews(t *testing.T) {
	g := &nn.Graph{Name: "views", InputShape: []int{2, 2, 2}}
	g.Chain("r", nn.ReLU()).Chain("flat", nn.Flatten{}).Chain("r2", nn.Sigmoid()).Chain("r3", nn.Tanh())
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(1, 2, 2, 2)
	for i := range x.Data {
		x.Data[i] = float32(i + 1)
	}
	ctx := nn.NewCtx(false, 0)
	tr, err := g.Forward(ctx, x, "flat")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range tr.Out("flat").Data {
		if v != float32(i+1) {
			t.Fatalf("kept flatten output corrupted: %v", tr.Out("flat").Data)
		}
	}
}

func TestBackwardAfterRecyclingForwardIsAnError(t *testing.T) {
	g := &nn.Graph{Name: "mlp", InputShape: []int{3}}
	g.Chain("fc1", &nn.Dense{Out: 4}).Chain("r1", nn.ReLU()).Chain("fc2", &nn.Dense{Out: 2})
	g.Build(1)
	x := tensor.New(2, 3)
	tr, _ := g.Forward(nn.NewCtx(false, 0), x)
	if err := tr.Backward(tensor.New(2, 2)); err == nil || !strings.Contains(err.Error(), "ctx.Backward") {
		t.Errorf("backward after recycling: %v", err)
	}
	ctx := nn.NewCtx(false, 0)
	ctx.Backward = true
	tr, _ = g.Forward(ctx, x)
	tr.WantInputGrad()
	if err := tr.Backward(tensor.New(2, 2)); err != nil || tr.InputGrad() == nil {
		t.Errorf("inference-mode backward with ctx.Backward: %v", err)
	}
}

func TestKernelLargerThanInputIsAnError(t *testing.T) {
	g := &nn.Graph{Name: "big-kernel", InputShape: []int{1, 4, 4}}
	g.Chain("c", &nn.Conv2D{Out: 2, Kernel: nn.Dims{6}, Stride: nn.Dims{2}})
	if err := g.Build(1); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("6x6 kernel on 4x4 input: %v", err)
	}
}
