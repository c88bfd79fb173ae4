package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

// run builds op for the per-sample shapes and runs one inference forward pass.
func run(t *testing.T, op nn.Op, ins ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	var shapes [][]int
	for _, x := range ins {
		shapes = append(shapes, x.Shape[1:])
	}
	if _, err := op.Build(shapes, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatalf("%s: %v", op.Type(), err)
	}
	y, _ := op.Forward(nn.NewCtx(false, 1), ins)
	return y
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: [%d] = %g, want %g\ngot  %v\nwant %v", what, i, got[i], want[i], got, want)
		}
	}
}

func randN(rng *rand.Rand, scale float64, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64() * scale)
	}
	return x
}

func TestClip(t *testing.T) {
	x := tensor.FromData([]float32{-1, 0.5, 7, 6, 0, 5.99}, 1, 6)
	near(t, "relu6", run(t, nn.ReLU6(), x).Data, []float32{0, 0.5, 6, 6, 0, 5.99}, 0)
	c := &nn.Clip{Min: -0.5, Max: 0.5}
	y, cache := c.Forward(nn.NewCtx(false, 1), []*tensor.Tensor{x})
	_ = y
	dy := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 6)
	dx := c.Backward(nn.NewCtx(false, 1), cache, []*tensor.Tensor{x}, y, dy, []bool{true})[0]
	near(t, "clip grad", dx.Data, []float32{0, 0, 0, 0, 5, 0}, 0)
	nntest.CheckOp(t, &nn.Clip{Min: -0.7, Max: 1.1}, [][]int{{3, 4, 4}}, nntest.Opts{Kinky: true, Eps: 1e-3})
	if _, err := (&nn.Clip{Min: 2, Max: 1}).Build([][]int{{3}}, nil); err == nil {
		t.Error("min > max accepted")
	}
}

func TestFakeQuant(t *testing.T) {
	// scale 0.5, zero point 3, levels 0..10: x/scale = 0.5 rounds to 0 and 1.5 to 2 (half to
	// even); -2 and 10 are clamped.
	fq := &nn.FakeQuant{Scale: 0.5, ZeroPoint: 3, Qmin: 0, Qmax: 10}
	x := tensor.FromData([]float32{0.25, 0.75, -2, 10, 1.2, -1.5, 3.5}, 1, 7)
	y := run(t, fq, x)
	near(t, "fake_quant", y.Data, []float32{0, 1, -1.5, 3.5, 1, -1.5, 3.5}, 0)
	dy := tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7}, 1, 7)
	dx := fq.Backward(nn.NewCtx(false, 1), nil, []*tensor.Tensor{x}, y, dy, []bool{true})[0]
	// Straight through where the level lies in [0, 10] (-1.5 is level 0, 3.5 level 10).
	near(t, "fake_quant grad", dx.Data, []float32{1, 2, 0, 0, 5, 6, 7}, 0)
	if _, err := (&nn.FakeQuant{Scale: 0, Qmax: 255}).Build([][]int{{3}}, nil); err == nil {
		t.Error("zero scale accepted")
	}
}

func TestPad2D(t *testing.T) {
	x := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3)
	// Expected values from numpy.pad with ((1, 0), (2, 1)) and ((0, 1), (1, 2)).
	near(t, "reflect", run(t, &nn.Pad2D{Pads: []int{1, 0, 2, 1}, Mode: "reflect"}, x).Data,
		[]float32{6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5}, 0)
	near(t, "edge", run(t, &nn.Pad2D{Pads: []int{1, 0, 2, 1}, Mode: "edge"}, x).Data,
		[]float32{1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6}, 0)
	y := run(t, &nn.Pad2D{Pads: []int{0, 1, 1, 2}, Value: -1}, x)
	if !tensor.SameShape(y.Shape, []int{1, 1, 3, 6}) {
		t.Fatalf("shape %v", y.Shape)
	}
	near(t, "constant", y.Data, []float32{-1, 1, 2, 3, -1, -1, -1, 4, 5, 6, -1, -1, -1, -1, -1, -1, -1, -1}, 0)
	for _, m := range []string{"constant", "reflect", "edge"} {
		nntest.CheckOp(t, &nn.Pad2D{Pads: []int{2, 1, 0, 2}, Mode: m, Value: 0.5}, [][]int{{2, 3, 4}}, nntest.Opts{})
	}
	if _, err := (&nn.Pad2D{Pads: []int{3, 0, 0, 0}, Mode: "reflect"}).Build([][]int{{1, 3, 3}}, nil); err == nil {
		t.Error("reflect pad as large as the axis accepted")
	}
}

func TestReshapeTransposeSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := randN(rng, 1, 2, 2, 3, 4)
	y := run(t, &nn.Reshape{Shape: []int{4, -1}}, x)
	if !tensor.SameShape(y.Shape, []int{2, 4, 6}) || &y.Data[0] != &x.Data[0] {
		t.Fatalf("reshape: shape %v (or copied)", y.Shape)
	}
	// flatten keeps each sample's [C H W] values in C-major (PyTorch) order.
	if f := run(t, nn.Flatten{}, x); !tensor.SameShape(f.Shape, []int{2, 24}) || f.Data[13] != x.Data[13] || f.Data[24+23] != x.Data[47] {
		t.Fatalf("flatten: shape %v or order wrong", f.Shape)
	}
	// Transpose [2 3 4] by perm [2 0 1]: out[n][k][i][j] = x[n][i][j][k].
	tr := run(t, &nn.Transpose{Perm: []int{2, 0, 1}}, x)
	if !tensor.SameShape(tr.Shape, []int{2, 4, 2, 3}) {
		t.Fatalf("transpose shape %v", tr.Shape)
	}
	for n := 0; n < 2; n++ {
		for i := 0; i < 2; i++ {
			for j := 0; j < 3; j++ {
				for k := 0; k < 4; k++ {
					if got, want := tr.Data[((n*4+k)*2+i)*3+j], x.Data[((n*2+i)*3+j)*4+k]; got != want {
						t.Fatalf("transpose [%d %d %d %d] = %g, want %g", n, k, i, j, got, want)
					}
				}
			}
		}
	}
	// Slice axis 1 (size 3) from 1 to the end: out[n][i][j'][k] = x[n][i][j'+1][k].
	sl := run(t, &nn.Slice{Axis: -2, Start: 1}, x)
	if !tensor.SameShape(sl.Shape, []int{2, 2, 2, 4}) {
		t.Fatalf("slice shape %v", sl.Shape)
	}
	for n := 0; n < 2; n++ {
		for i := 0; i < 2; i++ {
			for j := 0; j < 2; j++ {
				for k := 0; k < 4; k++ {
					if got, want := sl.Data[((n*2+i)*2+j)*4+k], x.Data[((n*2+i)*3+j+1)*4+k]; got != want {
						t.Fatalf("slice [%d %d %d %d] = %g, want %g", n, i, j, k, got, want)
					}
				}
			}
		}
	}
	nntest.CheckOp(t, &nn.Reshape{Shape: []int{-1, 2}}, [][]int{{2, 3, 2}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.Transpose{Perm: []int{1, 2, 0}}, [][]int{{2, 3, 4}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.Slice{Axis: 0, Start: 1, End: 3}, [][]int{{4, 2, 2}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.Slice{Axis: 2, Start: -2, End: -1}, [][]int{{2, 2, 5}}, nntest.Opts{})
	for _, bad := range []nn.Op{&nn.Reshape{Shape: []int{5, -1}}, &nn.Transpose{Perm: []int{0, 0, 1}}, &nn.Slice{Axis: 1, Start: 2, End: 2}} {
		if _, err := bad.Build([][]int{{2, 3, 4}}, nil); err == nil {
			t.Errorf("%s accepted a bad configuration", bad.Type())
		}
	}
}

// bcastRef computes a broadcast binary op by explicit per-element index arithmetic.
func bcastRef(a, b *tensor.Tensor, f func(x, y float32) float32) []float32 {
	r := max(len(a.Shape), len(b.Shape))
	pad := func(s []int) []int {
		p := make([]int, r)
		for i := range p {
			p[i] = 1
		}
		p[0] = s[0]
		copy(p[r-len(s)+1:], s[1:])
		return p
	}
	pa, pb := pad(a.Shape), pad(b.Shape)
	out := make([]int, r)
	for i := range out {
		out[i] = max(pa[i], pb[i])
	}
	var res []float32
	idx := make([]int, r)
	for o := 0; o < tensor.Numel(out); o++ {
		rem := o
		for k := r - 1; k >= 0; k-- {
			idx[k] = rem % out[k]
			rem /= out[k]
		}
		ia, ib := 0, 0
		for k := 0; k < r; k++ {
			ia = ia*pa[k] + idx[k]%pa[k]
			ib = ib*pb[k] + idx[k]%pb[k]
		}
		res = append(res, f(a.Data[ia], b.Data[ib]))
	}
	return res
}

func TestBroadcastBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fs := map[string]func(x, y float32) float32{
		"add": func(x, y float32) float32 { return x + y },
		"sub": func(x, y float32) float32 { return x - y },
		"mul": func(x, y float32) float32 { return x * y },
		"div": func(x, y float32) float32 { return x / y },
	}
	pairs := [][2][]int{{{3, 4, 5}, {3, 1, 1}}, {{4, 5}, {3, 4, 5}}, {{1, 4, 1}, {3, 1, 5}}, {{3, 4, 5}, {1}}, {{6}, {6}}, {{2, 3}, {3}}}
	for name, f := range fs {
		for _, pr := range pairs {
			op, _ := nn.NewOp(name)
			a := randN(rng, 1, append([]int{2}, pr[0]...)...)
			b := randN(rng, 1, append([]int{2}, pr[1]...)...)
			for i, v := range b.Data {
				b.Data[i] = v + float32(math.Copysign(1, float64(v))) // away from 0 for div
			}
			y := run(t, op, a, b)
			near(t, name, y.Data, bcastRef(a, b, f), 1e-6)
			op, _ = nn.NewOp(name)
			nntest.CheckOp(t, op, [][]int{pr[0], pr[1]}, nntest.Opts{Inputs: []*tensor.Tensor{a, b}, Eps: 1e-3})
		}
	}
	if _, err := (&nn.Binary{Kind: "mul"}).Build([][]int{{3, 4}, {2, 4}}, nil); err == nil {
		t.Error("mul accepted shapes that do not broadcast")
	}
	if _, err := (nn.Add{}).Build([][]int{{3, 4}, {4}, {3, 4}}, nil); err == nil {
		t.Error("add broadcast three inputs")
	}
}

func TestConstantChannelAffine(t *testing.T) {
	c := &nn.Constant{Shape: []int{2, 1, 1}}
	x := tensor.New(3, 2, 2, 2)
	if _, err := c.Build([][]int{{2, 2, 2}}, nil); err != nil {
		t.Fatal(err)
	}
	copy(c.Value().Value.Data, []float32{1.5, -2})
	y, _ := c.Forward(nn.NewCtx(false, 1), []*tensor.Tensor{x})
	near(t, "constant", y.Data, []float32{1.5, -2, 1.5, -2, 1.5, -2}, 0)
	if c.Value().Decay {
		t.Error("constant decays")
	}
	nntest.CheckOp(t, &nn.Constant{Shape: []int{3, 2}}, [][]int{{4}}, nntest.Opts{Batch: 3})

	ca := &nn.ChannelAffine{Channels: 2}
	x = tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2)
	if _, err := ca.Build([][]int{{2, 2}}, nil); err != nil {
		t.Fatal(err)
	}
	copy(ca.Weight().Value.Data, []float32{2, -1})
	copy(ca.Bias().Value.Data, []float32{0.5, 10})
	y, _ = ca.Forward(nn.NewCtx(false, 1), []*tensor.Tensor{x})
	near(t, "channel_affine", y.Data, []float32{2.5, 4.5, 7, 6, 10.5, 12.5, 3, 2}, 0)
	nntest.CheckOp(t, &nn.ChannelAffine{Channels: 3}, [][]int{{3, 2, 2}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.ChannelAffine{Channels: 3}, [][]int{{3}}, nntest.Opts{})
	if _, err := (&nn.ChannelAffine{Channels: 4}).Build([][]int{{3, 2, 2}}, nil); err == nil {
		t.Error("channel_affine accepted a channel mismatch")
	}
}

func TestSoftmaxAxis(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := randN(rng, 2, 2, 3, 4)
	for _, axis := range []int{0, 1, -1, -2} {
		y := run(t, &nn.SoftmaxOp{Axis: axis}, x)
		a := (axis + 2) % 2
		want := make([]float32, len(x.Data))
		for n := 0; n < 2; n++ {
			for i := 0; i < 3; i++ {
				for j := 0; j < 4; j++ {
					var s float64
					for k := 0; k < []int{3, 4}[a]; k++ {
						ii, jj := i, j
						if a == 0 {
							ii = k
						} else {
							jj = k
						}
						s += math.Exp(float64(x.Data[(n*3+ii)*4+jj]))
					}
					want[(n*3+i)*4+j] = float32(math.Exp(float64(x.Data[(n*3+i)*4+j])) / s)
				}
			}
		}
		near(t, "softmax", y.Data, want, 1e-6)
		nntest.CheckOp(t, &nn.SoftmaxOp{Axis: axis}, [][]int{{3, 4}}, nntest.Opts{})
	}
}

// The new ops round-trip through a spec and train in one graph.
func TestSpecImportOps(t *testing.T) {
	src := `name: imp
input: [3, 6, 6]
layers:
  - {name: p, type: pad2d, pads: [1, 0, 0, 1], mode: reflect}
  - {name: c, type: conv2d, out: 4, kernel: 2}
  - {name: k, type: constant, shape: [4, 1, 1], inputs: [input]}
  - {name: m, type: mul, inputs: [c, k]}
  - {name: s, type: sub, inputs: [m, c]}
  - {name: d, type: div, inputs: [s, k2]}
  - {name: k2, type: constant, shape: [1], inputs: [input]}
  - {name: a, type: add, inputs: [d, k]}
  - {name: ca, type: channel_affine, channels: 4}
  - {name: cl, type: clip, min: -3, max: 3}
  - {name: fq, type: fake_quant, scale: 0.05, zero_point: 10, qmin: 0, qmax: 255}
  - {name: t, type: transpose, perm: [1, 2, 0]}
  - {name: r, type: reshape, shape: [-1, 4]}
  - {name: sl, type: slice, axis: 0, start: 2, end: 20}
  - {name: f, type: flatten}
  - {name: sm, type: softmax, axis: -1}
`
	g, err := nn.ParseSpec([]byte(src), "imp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"k", "k2"} {
		for i := range g.Node(name).Op.(*nn.Constant).Value().Value.Data {
			g.Node(name).Op.(*nn.Constant).Value().Value.Data[i] = 1 + 0.1*float32(i)
		}
	}
	b, _ := g.SpecYAML()
	g2, err := nn.ParseSpec(b, "rt.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if err := g2.Build(1); err != nil {
		t.Fatal(err)
	}
	b1, _ := g.SpecJSON()
	b2, _ := g2.SpecJSON()
	if string(b1) != string(b2) {
		t.Errorf("round trip:\n%s\n%s", b1, b2)
	}
	if got := g.Node("sm").Shape; !tensor.SameShape(got, []int{72}) {
		t.Errorf("output shape %v", got)
	}
	// fake_quant is piecewise constant, so the graph check skips it: rebuild without it.
	g3, _ := nn.ParseSpec([]byte(strings.Replace(src, "  - {name: fq, type: fake_quant, scale: 0.05, zero_point: 10, qmin: 0, qmax: 255}\n", "", 1)), "imp.yaml")
	if err := g3.Build(1); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"k", "k2"} {
		for i := range g3.Node(name).Op.(*nn.Constant).Value().Value.Data {
			g3.Node(name).Op.(*nn.Constant).Value().Value.Data[i] = 1 + 0.1*float32(i)
		}
	}
	nntest.CheckGraph(t, g3, nntest.Opts{Kinky: true, Eps: 1e-3})
}

// The package doc's table names every registered op, so importers can find them.
func TestDocListsEveryOp(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range nn.OpTypes() {
		if !strings.Contains(string(doc), "//\t"+typ+" ") {
			t.Errorf("doc.go's op table lacks %q", typ)
		}
	}
}

// poolRef pools one plane by definition: padding [top, bottom, left, right] is -inf for the
// maximum and zero for the average, whose divisor counts the window's input pixels (exclude)
// or its positions inside the padded extent.
func poolRef(x []float32, h, w, kh, kw, sh, sw int, pads []int, ceil bool, kind string, exclude bool) ([]float32, int, int) {
	t, b, l, r := pads[0], pads[1], pads[2], pads[3]
	outSize := func(n, k, lo, hi, s int) int {
		if !ceil {
			return (n+lo+hi-k)/s + 1
		}
		o := (n+lo+hi-k+s-1)/s + 1
		if (o-1)*s >= n+lo {
			o--
		}
		return o
	}
	oh, ow := outSize(h, kh, t, b, sh), outSize(w, kw, l, r, sw)
	var out []float32
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			best, sum, real, inside := math.Inf(-1), 0.0, 0, 0
			for i := 0; i < kh; i++ {
				for j := 0; j < kw; j++ {
					y, xx := oy*sh-t+i, ox*sw-l+j
					if y >= -t && y < h+b && xx >= -l && xx < w+r {
						inside++
					}
					if y < 0 || y >= h || xx < 0 || xx >= w {
						continue
					}
					v := float64(x[y*w+xx])
					real++
					sum += v
					best = math.Max(best, v)
				}
			}
			if kind == "max" {
				out = append(out, float32(best))
			} else if exclude {
				out = append(out, float32(sum/float64(real)))
			} else {
				out = append(out, float32(sum/float64(inside)))
			}
		}
	}
	return out, oh, ow
}

// Asymmetric pads (ONNX pads, TF "SAME") in both pools, floor and ceil mode, with and without
// the padding in the average's divisor.
func TestPoolAsymmetricPads(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := randN(rng, 1, 2, 1, 7, 6)
	for _, pads := range [][]int{{1, 2, 0, 1}, {0, 1, 1, 0}, {2, 2, 1, 1}} {
		for _, ceil := range []bool{false, true} {
			for _, kind := range []string{"max", "avg", "avg-exclude"} {
				var op nn.Op
				switch kind {
				case "max":
					op = &nn.MaxPool2D{Kernel: nn.Dims{3, 2}, Stride: nn.Dims{2, 1}, Pads: pads, CeilMode: ceil}
				default:
					op = &nn.AvgPool2D{Kernel: nn.Dims{3, 2}, Stride: nn.Dims{2, 1}, Pads: pads, CeilMode: ceil, ExcludePad: kind == "avg-exclude"}
				}
				y := run(t, op, x)
				for s := 0; s < 2; s++ {
					want, oh, ow := poolRef(x.Data[s*42:(s+1)*42], 7, 6, 3, 2, 2, 1, pads, ceil, kind[:3], kind == "avg-exclude")
					if !tensor.SameShape(y.Shape, []int{2, 1, oh, ow}) {
						t.Fatalf("%s pads %v ceil %v: shape %v, want [2 1 %d %d]", kind, pads, ceil, y.Shape, oh, ow)
					}
					near(t, kind, y.Data[s*oh*ow:(s+1)*oh*ow], want, 1e-6)
				}
				nntest.CheckOp(t, op, [][]int{{2, 7, 6}}, nntest.Opts{Kinky: kind == "max", Eps: 1e-3})
			}
		}
	}
	for _, bad := range []nn.Op{&nn.MaxPool2D{Kernel: nn.Dims{2}, Pads: []int{2, 0, 0, 0}}, &nn.AvgPool2D{Kernel: nn.Dims{3}, Pad: nn.Dims{1}, Pads: []int{1, 1, 1, 1}}, &nn.AvgPool2D{Kernel: nn.Dims{3}, Pads: []int{1, 1}}} {
		if _, err := bad.Build([][]int{{1, 6, 6}}, nil); err == nil {
			t.Errorf("%s accepted bad pads %+v", bad.Type(), bad)
		}
	}
}

// conv_transpose2d against its definition (each input pixel scatters the kernel onto the output)
// on several geometries, and its gradients against finite differences.
func TestConvTranspose2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for _, c := range []struct{ k, s, p, d, op int }{{3, 1, 0, 1, 0}, {3, 2, 1, 1, 1}, {4, 2, 1, 1, 0}, {2, 3, 0, 2, 2}, {3, 2, 2, 1, 0}} {
		ct := &nn.ConvTranspose2D{Out: 3, Kernel: nn.Dims{c.k}, Stride: nn.Dims{c.s}, Pad: nn.Dims{c.p}, Dilation: nn.Dims{c.d}, OutputPad: nn.Dims{c.op}}
		x := randN(rng, 1, 2, 2, 4, 5)
		out, err := ct.Build([][]int{{2, 4, 5}}, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		for i := range ct.Bias().Value.Data {
			ct.Bias().Value.Data[i] = float32(i) - 1
		}
		oh, ow := out[1], out[2]
		if want := 3*c.s - 2*c.p + c.d*(c.k-1) + c.op + 1; oh != want {
			t.Fatalf("%+v: output height %d, want %d", c, oh, want)
		}
		y, _ := ct.Forward(nn.NewCtx(false, 1), []*tensor.Tensor{x})
		want := make([]float32, 2*3*oh*ow)
		w := ct.Weight().Value.Data
		for s := 0; s < 2; s++ {
			for o := 0; o < 3; o++ {
				for i := 0; i < oh*ow; i++ {
					want[(s*3+o)*oh*ow+i] = float32(o) - 1
				}
				for ci := 0; ci < 2; ci++ {
					for iy := 0; iy < 4; iy++ {
						for ix := 0; ix < 5; ix++ {
							for ki := 0; ki < c.k; ki++ {
								for kj := 0; kj < c.k; kj++ {
									yy, xx := iy*c.s-c.p+ki*c.d, ix*c.s-c.p+kj*c.d
									if yy >= 0 && yy < oh && xx >= 0 && xx < ow {
										want[(s*3+o)*oh*ow+yy*ow+xx] += w[((ci*3+o)*c.k+ki)*c.k+kj] * x.Data[((s*2+ci)*4+iy)*5+ix]
									}
								}
							}
						}
					}
				}
			}
		}
		near(t, fmt.Sprintf("conv_transpose2d %+v", c), y.Data, want, 1e-5)
		nntest.CheckOp(t, &nn.ConvTranspose2D{Out: 3, Kernel: nn.Dims{c.k}, Stride: nn.Dims{c.s}, Pad: nn.Dims{c.p}, Dilation: nn.Dims{c.d}, OutputPad: nn.Dims{c.op}}, [][]int{{2, 4, 5}}, nntest.Opts{})
	}
	if _, err := (&nn.ConvTranspose2D{Out: 2, Kernel: nn.Dims{3}, Stride: nn.Dims{2}, OutputPad: nn.Dims{2}}).Build([][]int{{1, 4, 4}}, nil); err == nil {
		t.Error("output_pad as large as the stride accepted")
	}
}

// concat along a spatial axis: out[n][c][i][j] takes the first input's rows, then the second's.
func TestConcatAxis(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	a, b := randN(rng, 1, 2, 3, 2, 4), randN(rng, 1, 2, 3, 3, 4)
	y := run(t, nn.Concat{Axis: -2}, a, b)
	if !tensor.SameShape(y.Shape, []int{2, 3, 5, 4}) {
		t.Fatalf("shape %v", y.Shape)
	}
	for n := 0; n < 2; n++ {
		for c := 0; c < 3; c++ {
			for i := 0; i < 5; i++ {
				for j := 0; j < 4; j++ {
					want := float32(0)
					if i < 2 {
						want = a.Data[((n*3+c)*2+i)*4+j]
					} else {
						want = b.Data[((n*3+c)*3+i-2)*4+j]
					}
					if got := y.Data[((n*3+c)*5+i)*4+j]; got != want {
						t.Fatalf("[%d %d %d %d] = %g, want %g", n, c, i, j, got, want)
					}
				}
			}
		}
	}
	nntest.CheckOp(t, nn.Concat{Axis: 2}, [][]int{{2, 3, 2}, {2, 3, 1}, {2, 3, 3}}, nntest.Opts{})
	if _, err := (nn.Concat{Axis: 1}).Build([][]int{{2, 3, 4}, {3, 3, 4}}, nil); err == nil {
		t.Error("concat along axis 1 accepted inputs differing on axis 0")
	}
}
