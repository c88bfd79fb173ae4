package imports

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/onnx"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

const conformanceDir = "/usr/share/libonnx-testdata/data/node"

func readPB(t testing.TB, path string) (*tensor.Tensor, *onnx.Tensor) {
	t.Helper()
	pt, err := onnx.ReadTensor(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := pt.Float32()
	if err != nil {
		t.Fatal(err)
	}
	shape := pt.Shape()
	if len(shape) == 0 {
		shape = []int{1}
	}
	return tensor.FromData(v, shape...), pt
}

// relErr is max|got - want| / max(max|want|, 1e-3).
func relErr(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = math.Max(m, math.Abs(float64(want[i])))
		if math.IsNaN(float64(got[i])) != math.IsNaN(float64(want[i])) {
			return math.Inf(1)
		}
	}
	return d / math.Max(m, 1e-3)
}

// runCase imports one ONNX test case and compares every output it can map to a layer with the
// case's reference outputs. skip is non-empty when the case is outside what the importer maps.
//
// Graph inputs after the first (weights, bounds, shapes, a second operand) become initializers
// holding the case's values for them, as an exporter would have stored them. A ventral model has
// one image input and constants shared by every sample, so when such an operand holds one row per
// sample of the first input (same rank, same leading size N > 1), the case runs sample by sample:
// N imports, each with that sample's rows as the constant, compared with that sample's rows of
// the reference outputs.
func runCase(t testing.TB, dir string) (skip string, err error) {
	m, err := onnx.ReadModel(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return "", err
	}
	for _, n := range m.Graph.Nodes {
		key := n.OpType
		if n.Domain != "" {
			key = n.Domain + "." + n.OpType
		}
		if _, ok := onnxOps[key]; !ok {
			return "operator " + key, nil
		}
	}
	if len(m.Graph.Outputs) == 0 {
		return "no outputs", nil
	}
	for _, o := range m.Graph.Outputs {
		if o.ElemType != onnx.Float {
			return "non-float output", nil
		}
	}
	set := filepath.Join(dir, "test_data_set_0")
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializers {
		inits[t.Name] = true
	}
	var first *onnx.ValueInfo
	for i, in := range m.Graph.Inputs {
		if !inits[in.Name] {
			first = &m.Graph.Inputs[i]
			break
		}
	}
	if first == nil {
		return "no graph input", nil
	}
	if first.ElemType != onnx.Float {
		return "non-float input", nil
	}
	x, _ := readPB(t, filepath.Join(set, "input_0.pb"))
	var extra []*onnx.Tensor
	k := 0
	for _, in := range m.Graph.Inputs {
		if inits[in.Name] {
			continue
		}
		if k > 0 {
			pt, err := onnx.ReadTensor(filepath.Join(set, fmt.Sprintf("input_%d.pb", k)))
			if err != nil {
				return "", err
			}
			pt.Name = in.Name
			extra = append(extra, pt)
		}
		k++
	}
	n := x.Shape[0]
	perSample := false
	for _, e := range extra {
		if e.DataType == onnx.Float && len(e.Dims) == len(x.Shape) && len(x.Shape) > 1 && n > 1 && int(e.Dims[0]) == n {
			perSample = true
		}
	}
	var wants []*tensor.Tensor
	for i := range m.Graph.Outputs {
		w, _ := readPB(t, filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
		if perSample && (len(w.Shape) < 2 || w.Shape[0] != n) {
			return "an output mixing the samples of a per-sample operand", nil
		}
		wants = append(wants, w)
	}
	samples, opts := []int{-1}, Options{}
	if perSample {
		samples, opts = nil, Options{Input: x.Shape[1:]}
		for b := 0; b < n; b++ {
			samples = append(samples, b)
		}
	}
	compared := 0
	for _, b := range samples {
		mb, err := onnx.ReadModel(filepath.Join(dir, "model.onnx"))
		if err != nil {
			return "", err
		}
		for _, e := range extra {
			if b >= 0 && e.DataType == onnx.Float && len(e.Dims) == len(x.Shape) && int(e.Dims[0]) == n {
				e = sampleOf(t, e, b)
			}
			mb.Graph.Initializers = append(mb.Graph.Initializers, e)
		}
		model, err := FromONNX(mb, filepath.Base(dir), opts)
		if err != nil {
			if errors.Is(err, ErrUnsupported) {
				return err.Error(), nil
			}
			return "", err
		}
		var keep []string
		for _, o := range mb.Graph.Outputs {
			if l, ok := model.ValueLayers[o.Name]; ok {
				keep = append(keep, l)
			}
		}
		xb := x
		if b >= 0 {
			xb = rowsOf(x, b)
		}
		tr, err := model.Graph.Forward(nn.NewCtx(false, 1), xb, keep...)
		if err != nil {
			return "", err
		}
		for i, o := range mb.Graph.Outputs {
			l, ok := model.ValueLayers[o.Name]
			if !ok {
				continue
			}
			want := wants[i]
			if b >= 0 {
				want = rowsOf(want, b)
			}
			got := tr.Out(l)
			if got.Len() != want.Len() {
				return "", fmt.Errorf("output %q: %v values, want %v", o.Name, got.Shape, want.Shape)
			}
			if e := relErr(got.Data, want.Data); !(e <= 1e-4) {
				return "", fmt.Errorf("output %q (sample %d): relative error %.3g", o.Name, b, e)
			}
			compared++
		}
	}
	if compared == 0 {
		return "no output computed from the input", nil
	}
	return "", nil
}

// rowsOf is sample b of a batch, as a batch of one.
func rowsOf(x *tensor.Tensor, b int) *tensor.Tensor {
	per := x.Len() / x.Shape[0]
	shape := append([]int{1}, x.Shape[1:]...)
	return tensor.FromData(append([]float32(nil), x.Data[b*per:(b+1)*per]...), shape...)
}

// sampleOf is sample b of a float ONNX tensor, as a tensor with a leading axis of 1.
func sampleOf(t testing.TB, e *onnx.Tensor, b int) *onnx.Tensor {
	v, err := e.Float32()
	if err != nil {
		t.Fatal(err)
	}
	per := len(v) / int(e.Dims[0])
	dims := append([]int64{1}, e.Dims[1:]...)
	return &onnx.Tensor{Name: e.Name, Dims: dims, DataType: onnx.Float, FloatData: append([]float32(nil), v[b*per:(b+1)*per]...)}
}

// mustPass are the operator families whose every conformance case passes, but for outOfScope.
var mustPass = []string{"test_convtranspose", "test_concat", "test_flatten", "test_averagepool", "test_maxpool", "test_lrn"}

// outOfScope: conformance cases of mustPass families that the importer refuses, and why.
var outOfScope = map[string]string{
	"test_convtranspose_3d": "3-D", "test_averagepool_3d_default": "3-D", "test_maxpool_3d_default": "3-D",
	"test_maxpool_2d_uint8": "integer tensors", "test_maxpool_with_argmax_2d_precomputed_pads": "the Indices output",
	"test_maxpool_with_argmax_2d_precomputed_strides": "the Indices output",
	"test_concat_1d_axis_0":                           "rank 1: no per-sample axis", "test_concat_1d_axis_negative_1": "rank 1: no per-sample axis",
	"test_concat_2d_axis_0": "the batch axis", "test_concat_2d_axis_negative_2": "the batch axis",
	"test_concat_3d_axis_0": "the batch axis", "test_concat_3d_axis_negative_3": "the batch axis",
}

// TestONNXConformance runs the ONNX project's node test cases (Debian's libonnx-testdata):
// every case whose operators the importer maps, with one graph input, must match the
// reference outputs.
func TestONNXConformance(t *testing.T) {
	if _, err := os.Stat(conformanceDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("libonnx-testdata missing (%v): install it (scripts/test does)", err)
		}
		t.Skip(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(conformanceDir, "test_*"))
	passedCase := map[string]bool{}
	var passed, failed int
	skipped := map[string]int{}
	var failures []string
	for _, d := range dirs {
		skip, err := runCase(t, d)
		switch {
		case err != nil:
			failed++
			failures = append(failures, fmt.Sprintf("%s: %v", filepath.Base(d), err))
		case skip != "":
			key := skip
			if strings.Contains(skip, "unsupported") {
				key = "unsupported attribute/shape"
			}
			skipped[key]++
			if os.Getenv("ONNX_VERBOSE") != "" {
				t.Logf("skip %s: %s", filepath.Base(d), skip)
			}
		default:
			passed++
			passedCase[filepath.Base(d)] = true
			if os.Getenv("ONNX_VERBOSE") != "" {
				t.Logf("pass %s", filepath.Base(d))
			}
		}
	}
	ns := 0
	var keys []string
	for k, v := range skipped {
		ns += v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("ONNX node conformance: %d passed, %d failed, %d skipped (of %d)", passed, failed, ns, len(dirs))
	for _, k := range keys {
		if !strings.HasPrefix(k, "operator ") || os.Getenv("ONNX_VERBOSE") != "" {
			t.Logf("  skipped %d: %s", skipped[k], k)
		}
	}
	for _, f := range failures {
		t.Error(f)
	}
	// Every case of these operators passes, except the ones outside what a ventral model is.
	for _, fam := range mustPass {
		total, ok := 0, 0
		for _, d := range dirs {
			name := filepath.Base(d)
			if !strings.HasPrefix(name, fam) {
				continue
			}
			total++
			if passedCase[name] {
				ok++
			} else if outOfScope[name] == "" {
				t.Errorf("%s did not pass (it must: %s* is a mapped family)", name, fam)
			}
		}
		t.Logf("  %s*: %d of %d passed", fam, ok, total)
	}
	if passed < 50 {
		t.Errorf("only %d conformance cases passed", passed)
	}
}

// TestMNISTONNX runs the ONNX model zoo's MNIST model (CNTK export, opset 7) on its three
// reference inputs.
func TestMNISTONNX(t *testing.T) {
	path := mirror.Path(t, "mnist-onnx/mnist_cntk.onnx")
	model, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		set := filepath.Join(filepath.Dir(path), fmt.Sprintf("test_data_set_%d", k))
		x, _ := readPB(t, filepath.Join(set, "input_0.pb"))
		want, _ := readPB(t, filepath.Join(set, "output_0.pb"))
		tr, err := model.Graph.Forward(nn.NewCtx(false, 1), x)
		if err != nil {
			t.Fatal(err)
		}
		got := tr.Output()
		if e := relErr(got.Data, want.Data); e > 1e-4 {
			t.Errorf("set %d: relative error %.3g\n got %v\nwant %v", k, e, got.Data, want.Data)
		}
	}
}

// TestONNXSpecRoundTrip: an imported graph is an ordinary ventral model, so its spec plus its
// parameters rebuild it exactly (what checkpoints and random: rely on).
func TestONNXSpecRoundTrip(t *testing.T) {
	path := mirror.Path(t, "mnist-onnx/mnist_cntk.onnx")
	model, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := model.Graph.SpecYAML()
	if err != nil {
		t.Fatal(err)
	}
	g, err := nn.ParseSpec(spec, "spec")
	if err != nil {
		t.Fatalf("%v\n%s", err, spec)
	}
	if err := g.Build(7); err != nil {
		t.Fatal(err)
	}
	src := map[string]*nn.Param{}
	for _, p := range model.Graph.Params() {
		src[p.Name] = p
	}
	for _, p := range g.Params() {
		q, ok := src[p.Name]
		if !ok || len(q.Value.Data) != len(p.Value.Data) {
			t.Fatalf("parameter %s missing or resized in the rebuilt graph", p.Name)
		}
		copy(p.Value.Data, q.Value.Data)
	}
	x, _ := readPB(t, filepath.Join(filepath.Dir(path), "test_data_set_0", "input_0.pb"))
	a, err := model.Graph.Forward(nn.NewCtx(false, 1), x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Forward(nn.NewCtx(false, 1), x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range a.Output().Data {
		if b.Output().Data[i] != v {
			t.Fatalf("output %d: %v after the spec round trip, %v before", i, b.Output().Data[i], v)
		}
	}
}

// TestONNXUnsupported: an operator outside the mapping is an error naming the node, the
// operator, the opset and the supported operators.
func TestONNXUnsupported(t *testing.T) {
	path := filepath.Join(conformanceDir, "test_abs", "model.onnx")
	if _, err := os.Stat(path); err != nil {
		peer(t, "libonnx-testdata missing: %v", err)
	}
	_, err := Load(path, Options{})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error %v, want ErrUnsupported", err)
	}
	for _, want := range []string{"Abs", "opset 13", "supported:", "Conv", "QLinearConv"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestONNXSidecar: preprocessing and labels come from the sidecar beside the model.
func TestONNXSidecar(t *testing.T) {
	src := mirror.Path(t, "mnist-onnx/mnist_cntk.onnx")
	dir := t.TempDir()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mnist.onnx")
	os.WriteFile(path, b, 0o644)
	os.WriteFile(filepath.Join(dir, "digits.txt"), []byte("zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n"), 0o644)
	os.WriteFile(path+".yaml", []byte("preprocess: {size: 28, grey: true, mean: [0], std: [0.00392156862745098]}\nlabels: digits.txt\ncitation: LeCun et al. 1998\n"), 0o644)
	m, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Labels) != 10 || m.Labels[7] != "seven" || m.Preprocess.Size != 28 || m.Graph.Meta["citation"] != "LeCun et al. 1998" {
		t.Errorf("labels %v, preprocess %+v, meta %v", m.Labels, m.Preprocess, m.Graph.Meta)
	}
	if !strings.HasPrefix(m.Graph.Meta["classes"], "zero,one,") {
		t.Errorf("classes meta %q", m.Graph.Meta["classes"])
	}
	os.WriteFile(path+".yaml", []byte("labels: digits.txt\nlabel_offset: 1\n"), 0o644)
	if _, err := Load(path, Options{}); err == nil || !strings.Contains(err.Error(), "11 labels for 10 outputs") {
		t.Errorf("11 labels for 10 outputs: %v", err)
	}
}
