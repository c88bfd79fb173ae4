package rules

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// grads runs one forward pass and the rule's backward pass on x (fixed dropout stream) and
// returns a copy of every parameter gradient.
func grads(t *testing.T, g *nn.Graph, r *Rule, x *tensor.Tensor, labels []int) map[string][]float32 {
	t.Helper()
	g.ZeroGrad()
	ctx := nn.NewCtx(true, 5)
	tr, err := g.Forward(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	out := tr.Output()
	_, dl, _, err := nn.SoftmaxCrossEntropy(out.Reshape(out.Shape[0], out.Len()/out.Shape[0]), labels)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Backward(tr, dl.Reshape(out.Shape...)); err != nil {
		t.Fatal(err)
	}
	res := map[string][]float32{}
	for _, p := range g.Params() {
		res[p.Name] = append([]float32(nil), p.Grad.Data...)
	}
	for _, p := range g.Params() {
		if p.Feedback != nil {
			t.Fatalf("%s: feedback left attached after the backward pass", p.Name)
		}
	}
	return res
}

func randInput(seed uint64, shape ...int) *tensor.Tensor {
	r := rand.New(rand.NewPCG(seed, 2))
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

func zoo(t *testing.T, name string) *nn.Graph {
	t.Helper()
	g, err := models.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	return g
}

func same(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// With its feedback matrices set to the forward weights, feedback alignment is backpropagation:
// every gradient of LeNet-5, the CIFAR CNN, a recurrent BLT network (4 steps) and a ResNet
// (batch norm, residual sums) agrees bit for bit. With its own random matrices
// the output layer's gradient still agrees and the first layer's does not.
func TestFAWithForwardWeightsIsBackprop(t *testing.T) {
	for _, name := range []string{"lenet5", "cifar-cnn", "blt-bl", "resnet10-cifar-w16"} {
		g := zoo(t, name)
		x := randInput(1, append([]int{3}, g.InputShape...)...)
		labels := []int{1, 7, 3}
		bp, err := New("bp", g, 9)
		if err != nil {
			t.Fatal(err)
		}
		want := grads(t, g, bp, x, labels)
		fa, err := New("fa", g, 9)
		if err != nil {
			t.Fatal(err)
		}
		st := fa.State()
		if len(st) != len(fa.weighted) {
			t.Fatalf("%s: %d feedback matrices for %d weighted layers", name, len(st), len(fa.weighted))
		}
		random := grads(t, g, fa, x, labels)
		first, last := fa.weighted[0].w.Name, fa.weighted[len(fa.weighted)-1].w.Name
		if !same(random[last], want[last]) {
			t.Errorf("%s: fa changed the output layer's gradient %s", name, last)
		}
		if same(random[first], want[first]) {
			t.Errorf("%s: fa with random feedback left the first layer's gradient %s unchanged", name, first)
		}
		for _, l := range fa.weighted {
			copy(st[StatePrefix+l.w.Name].Data, l.w.Value.Data)
		}
		got := grads(t, g, fa, x, labels)
		for k, v := range want {
			if !same(got[k], v) {
				t.Errorf("%s: %s: fa with B = W differs from backprop", name, k)
			}
		}
	}
}

// Feedback alignment on a two-layer perceptron against a hand computation in float64:
// dW1 = ((e B2) * relu'(a1))^T x, dW2 = e^T h1.
func TestFAMatchesHandComputation(t *testing.T) {
	g := &nn.Graph{Name: "mlp", InputShape: []int{4}}
	g.Chain("fc1", &nn.Dense{Out: 5}).Chain("relu", nn.ReLU()).Chain("fc2", &nn.Dense{Out: 3})
	if err := g.Build(2); err != nil {
		t.Fatal(err)
	}
	r, err := New("fa", g, 4)
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(3, 2, 4)
	labels := []int{0, 2}
	got := grads(t, g, r, x, labels)
	w1 := g.Params()[0].Value.Data
	b1 := g.Params()[1].Value.Data
	w2 := g.Params()[2].Value.Data
	b2 := g.Params()[3].Value.Data
	B := r.State()[StatePrefix+"fc2.weight"].Data
	dw1, dw2 := make([]float64, 20), make([]float64, 15)
	for s := 0; s < 2; s++ {
		a1, h1 := make([]float64, 5), make([]float64, 5)
		for o := 0; o < 5; o++ {
			a1[o] = float64(b1[o])
			for i := 0; i < 4; i++ {
				a1[o] += float64(w1[o*4+i]) * float64(x.Data[s*4+i])
			}
			h1[o] = math.Max(a1[o], 0)
		}
		z := make([]float64, 3)
		var mx, sum float64 = math.Inf(-1), 0
		for o := 0; o < 3; o++ {
			z[o] = float64(b2[o])
			for i := 0; i < 5; i++ {
				z[o] += float64(w2[o*5+i]) * h1[i]
			}
			mx = math.Max(mx, z[o])
		}
		for o := range z {
			sum += math.Exp(z[o] - mx)
		}
		e := make([]float64, 3)
		for o := range z {
			e[o] = math.Exp(z[o]-mx) / sum / 2
			if o == labels[s] {
				e[o] -= 0.5
			}
		}
		for o := 0; o < 3; o++ {
			for i := 0; i < 5; i++ {
				dw2[o*5+i] += e[o] * h1[i]
			}
		}
		for i := 0; i < 5; i++ {
			if a1[i] <= 0 {
				continue
			}
			var d float64
			for o := 0; o < 3; o++ {
				d += e[o] * float64(B[o*5+i])
			}
			for j := 0; j < 4; j++ {
				dw1[i*4+j] += d * float64(x.Data[s*4+j])
			}
		}
	}
	near(t, "fc1.weight", got["fc1.weight"], dw1)
	near(t, "fc2.weight", got["fc2.weight"], dw2)
}

func near(t *testing.T, name string, got []float32, want []float64) {
	t.Helper()
	var nz int
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], want[i])
		}
		if want[i] != 0 {
			nz++
		}
	}
	if nz == 0 {
		t.Fatalf("%s: the expected gradient is all zero (a test that cannot fail)", name)
	}
}

// Sign symmetry sends the error through mean|W| sign(W): with every |W| of a layer equal it is
// backpropagation bit for bit; with random weights a dense layer's input gradient is dy (m sign W).
func TestSignSymmetry(t *testing.T) {
	g := zoo(t, "lenet5")
	x := randInput(2, 2, 1, 28, 28)
	labels := []int{4, 9}
	r, err := New("sign", g, 1)
	if err != nil {
		t.Fatal(err)
	}
	random := grads(t, g, r, x, labels)
	for _, l := range r.weighted {
		for i, v := range l.w.Value.Data {
			if v >= 0 {
				l.w.Value.Data[i] = 0.125
			} else {
				l.w.Value.Data[i] = -0.125
			}
		}
	}
	bp, _ := New("bp", g, 1)
	want := grads(t, g, bp, x, labels)
	got := grads(t, g, r, x, labels)
	for k, v := range want {
		if !same(got[k], v) {
			t.Errorf("%s: sign symmetry with equal magnitudes differs from backprop", k)
		}
	}
	if same(random["conv1.weight"], want["conv1.weight"]) {
		t.Error("a test that cannot fail: the random-weight and equal-magnitude gradients agree")
	}

	// A dense layer's input gradient: dx = dy (m sign W).
	d := &nn.Graph{Name: "one", InputShape: []int{3}}
	d.Chain("fc", &nn.Dense{Out: 2, NoBias: true})
	if err := d.Build(5); err != nil {
		t.Fatal(err)
	}
	rs, _ := New("sign", d, 1)
	xi := randInput(4, 1, 3)
	ctx := nn.NewCtx(true, 1)
	tr, err := d.Forward(ctx, xi)
	if err != nil {
		t.Fatal(err)
	}
	tr.WantInputGrad()
	dy := tensor.FromData([]float32{0.5, -2}, 1, 2)
	if err := rs.Backward(tr, dy); err != nil {
		t.Fatal(err)
	}
	w := d.Node("fc").Op.Params()[0].Value.Data
	var m float64
	for _, v := range w {
		m += math.Abs(float64(v))
	}
	m /= float64(len(w))
	want2 := make([]float64, 3)
	for i := 0; i < 3; i++ {
		for o := 0; o < 2; o++ {
			s := 1.0
			if w[o*3+i] < 0 {
				s = -1
			}
			want2[i] += float64(dy.Data[o]) * m * s
		}
	}
	near(t, "input gradient", tr.InputGrad().Data, want2)
}

// Direct feedback alignment on a small conv net against a hand computation in float64: the
// output layer gets e, the dense hidden layer (B1 e) * relu'(a1), the convolution
// (Bc e) * relu'(ac) over its whole 2x4x4 output map.
func TestDFAMatchesHandComputation(t *testing.T) {
	g := &nn.Graph{Name: "small", InputShape: []int{1, 4, 4}}
	g.Chain("conv", &nn.Conv2D{Out: 2, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}).Chain("relu1", nn.ReLU()).Chain("flat", nn.Flatten{}).
		Chain("fc1", &nn.Dense{Out: 6}).Chain("relu2", nn.ReLU()).Chain("fc2", &nn.Dense{Out: 3})
	if err := g.Build(6); err != nil {
		t.Fatal(err)
	}
	r, err := New("dfa", g, 8)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Hidden(); len(h) != 2 || h[0] != [2]string{"conv", "relu1"} || h[1] != [2]string{"fc1", "relu2"} {
		t.Fatalf("hidden layers and their entry points: %v", h)
	}
	const n = 3
	x := randInput(7, n, 1, 4, 4)
	labels := []int{2, 0, 1}
	got := grads(t, g, r, x, labels)
	p := map[string][]float32{}
	for _, q := range g.Params() {
		p[q.Name] = q.Value.Data
	}
	st := r.State()
	bc, b1 := st[StatePrefix+"conv"].Data, st[StatePrefix+"fc1"].Data
	if len(bc) != 32*3 || len(b1) != 6*3 {
		t.Fatalf("feedback sizes %d and %d, want 96 and 18", len(bc), len(b1))
	}
	want := map[string][]float64{}
	for _, q := range g.Params() {
		want[q.Name] = make([]float64, q.Value.Len())
	}
	for s := 0; s < n; s++ {
		img := x.Data[s*16 : (s+1)*16]
		px := func(y, xx int) float64 {
			if y < 0 || y >= 4 || xx < 0 || xx >= 4 {
				return 0
			}
			return float64(img[y*4+xx])
		}
		ac := make([]float64, 32)
		for o := 0; o < 2; o++ {
			for y := 0; y < 4; y++ {
				for xx := 0; xx < 4; xx++ {
					v := float64(p["conv.bias"][o])
					for ki := 0; ki < 3; ki++ {
						for kj := 0; kj < 3; kj++ {
							v += float64(p["conv.weight"][o*9+ki*3+kj]) * px(y+ki-1, xx+kj-1)
						}
					}
					ac[o*16+y*4+xx] = v
				}
			}
		}
		hc := relu(ac)
		a1 := affine(p["fc1.weight"], p["fc1.bias"], hc)
		h1 := relu(a1)
		z := affine(p["fc2.weight"], p["fc2.bias"], h1)
		e := softmaxErr(z, labels[s], n)
		outer(want["fc2.weight"], e, h1)
		addTo(want["fc2.bias"], e)
		d1 := dfaDelta(b1, e, a1)
		outer(want["fc1.weight"], d1, hc)
		addTo(want["fc1.bias"], d1)
		dc := dfaDelta(bc, e, ac)
		for o := 0; o < 2; o++ {
			for y := 0; y < 4; y++ {
				for xx := 0; xx < 4; xx++ {
					d := dc[o*16+y*4+xx]
					want["conv.bias"][o] += d
					for ki := 0; ki < 3; ki++ {
						for kj := 0; kj < 3; kj++ {
							want["conv.weight"][o*9+ki*3+kj] += d * px(y+ki-1, xx+kj-1)
						}
					}
				}
			}
		}
	}
	for k, w := range want {
		near(t, k, got[k], w)
	}
}

func relu(a []float64) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = math.Max(v, 0)
	}
	return out
}

func affine(w, b []float32, x []float64) []float64 {
	out := make([]float64, len(b))
	for o := range out {
		out[o] = float64(b[o])
		for i := range x {
			out[o] += float64(w[o*len(x)+i]) * x[i]
		}
	}
	return out
}

// softmaxErr is the gradient of the batch-mean cross-entropy at one sample's logits.
func softmaxErr(z []float64, label, n int) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	var sum float64
	for _, v := range z {
		sum += math.Exp(v - mx)
	}
	e := make([]float64, len(z))
	for i, v := range z {
		e[i] = math.Exp(v-mx) / sum
		if i == label {
			e[i]--
		}
		e[i] /= float64(n)
	}
	return e
}

func outer(dst, a, b []float64) {
	for i := range a {
		for j := range b {
			dst[i*len(b)+j] += a[i] * b[j]
		}
	}
}

func addTo(dst, a []float64) {
	for i := range a {
		dst[i] += a[i]
	}
}

// dfaDelta is (B e) * relu'(a) with B stored [size, classes].
func dfaDelta(b []float32, e, a []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		if a[i] <= 0 {
			continue
		}
		for c := range e {
			out[i] += float64(b[i*len(e)+c]) * e[c]
		}
	}
	return out
}

// With layers frozen (fine-tuning, a Hebbian network's readout) the first trainable layer
// sends no error below; the trainable layers' gradients are backpropagation's.
func TestFrozenLayersGetNoError(t *testing.T) {
	g := zoo(t, "lenet5")
	x := randInput(5, 2, 1, 28, 28)
	labels := []int{1, 2}
	plain, _ := New("bp", g, 1)
	want := grads(t, g, plain, x, labels)
	g.Meta[MetaFreezeUntil] = "flatten"
	defer delete(g.Meta, MetaFreezeUntil)
	r, _ := New("bp", g, 1)
	if !r.stop["fc1"] || len(r.stop) != 1 {
		t.Fatalf("stopped layers %v, want fc1", r.stop)
	}
	got := grads(t, g, r, x, labels)
	for _, k := range []string{"fc1.weight", "fc2.weight", "fc3.weight", "fc3.bias"} {
		if !same(got[k], want[k]) {
			t.Errorf("%s differs", k)
		}
	}
	for _, v := range got["conv2.weight"] {
		if v != 0 {
			t.Fatal("the frozen conv2 received an error")
		}
	}
}

// Direct feedback alignment runs on branching models (each convolution of a ResNet receives its
// signal after its batch norm) and refuses recurrent ones.
func TestDFAOnOtherModels(t *testing.T) {
	g := zoo(t, "resnet10-cifar-w16")
	r, err := New("dfa", g, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hidden()) < 8 {
		t.Fatalf("hidden layers %v", r.Hidden())
	}
	got := grads(t, g, r, randInput(3, 2, 3, 32, 32), []int{1, 2})
	for _, h := range r.Hidden() {
		var nz bool
		for _, v := range got[h[0]+".weight"] {
			nz = nz || v != 0
		}
		if !nz {
			t.Errorf("%s (signal at %s) got no gradient", h[0], h[1])
		}
	}
	if _, err := New("dfa", zoo(t, "blt-bl"), 1); err == nil || !strings.Contains(err.Error(), "recurrent") {
		t.Fatalf("dfa on a recurrent model: %v", err)
	}
}
