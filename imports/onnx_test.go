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
	// Graph inputs after the first (weights, bounds, shapes) become initializers holding the
	// case's values for them, as an exporter would have stored them.
	set := filepath.Join(dir, "test_data_set_0")
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializers {
		inits[t.Name] = true
	}
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
			m.Graph.Initializers = append(m.Graph.Initializers, pt)
		}
		k++
	}
	model, err := FromONNX(m, filepath.Base(dir), Options{})
	if err != nil {
		if errors.Is(err, ErrUnsupported) {
			return err.Error(), nil
		}
		return "", err
	}
	x, xp := readPB(t, filepath.Join(set, "input_0.pb"))
	if xp.DataType != onnx.Float {
		return "non-float input", nil
	}
	var keep []string
	for _, o := range m.Graph.Outputs {
		if l, ok := model.ValueLayers[o.Name]; ok {
			keep = append(keep, l)
		}
	}
	tr, err := model.Graph.Forward(nn.NewCtx(false, 1), x, keep...)
	if err != nil {
		return "", err
	}
	compared := 0
	for i, o := range m.Graph.Outputs {
		l, ok := model.ValueLayers[o.Name]
		if !ok {
			continue
		}
		want, _ := readPB(t, filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
		got := tr.Out(l)
		if got.Len() != want.Len() {
			return "", fmt.Errorf("output %q: %v values, want %v", o.Name, got.Shape, want.Shape)
		}
		if e := relErr(got.Data, want.Data); !(e <= 1e-4) {
			return "", fmt.Errorf("output %q: relative error %.3g", o.Name, e)
		}
		compared++
	}
	if compared == 0 {
		return "no output computed from the input", nil
	}
	return "", nil
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
