package imports

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/onnx"
	"github.com/ventral-lab/ventral/nn"
)

// conformanceCase reads a node test case's model with its graph inputs after the first bound
// to the case's values (as runCase does), for tests that then change its attributes.
func conformanceCase(t *testing.T, name string) *onnx.Model {
	t.Helper()
	dir := filepath.Join(conformanceDir, name)
	if _, err := os.Stat(dir); err != nil {
		peer(t, "libonnx-testdata missing: %v", err)
	}
	m, err := onnx.ReadModel(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for k, in := range m.Graph.Inputs {
		if k == 0 {
			continue
		}
		pt, err := onnx.ReadTensor(filepath.Join(dir, "test_data_set_0", "input_"+string(rune('0'+k))+".pb"))
		if err != nil {
			t.Fatal(err)
		}
		pt.Name = in.Name
		m.Graph.Initializers = append(m.Graph.Initializers, pt)
	}
	return m
}

func setAttr(n *onnx.Node, a *onnx.Attribute) {
	for i, b := range n.Attrs {
		if b.Name == a.Name {
			n.Attrs[i] = a
			return
		}
	}
	n.Attrs = append(n.Attrs, a)
}

// TestONNXEvenLRN: an even LRN window follows ONNX's definition, floor((size-1)/2) channels
// before the channel and ceil((size-1)/2) after, computed here directly from the spec's formula.
func TestONNXEvenLRN(t *testing.T) {
	for _, size := range []int{2, 4} {
		m := conformanceCase(t, "test_lrn")
		n := m.Graph.Nodes[0]
		setAttr(n, &onnx.Attribute{Name: "size", Type: onnx.AttrInt, I: int64(size)})
		setAttr(n, &onnx.Attribute{Name: "alpha", Type: onnx.AttrFloat, F: 0.5})
		model, err := FromONNX(m, "lrn.onnx", Options{})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := readPB(t, filepath.Join(conformanceDir, "test_lrn", "test_data_set_0", "input_0.pb"))
		tr, err := model.Graph.Forward(nn.NewCtx(false, 1), x)
		if err != nil {
			t.Fatal(err)
		}
		got := tr.Output()
		nb, c, p := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
		ref := func(before, after int) []float32 {
			out := make([]float32, len(x.Data))
			for s := 0; s < nb; s++ {
				for ch := 0; ch < c; ch++ {
					for q := 0; q < p; q++ {
						sum := 0.0
						for c2 := max(0, ch-before); c2 <= min(c-1, ch+after); c2++ {
							v := float64(x.Data[(s*c+c2)*p+q])
							sum += v * v
						}
						i := (s*c+ch)*p + q
						out[i] = float32(float64(x.Data[i]) / math.Pow(2+0.5/float64(size)*sum, 0.5))
					}
				}
			}
			return out
		}
		if e := relErr(got.Data, ref((size-1)/2, size/2)); e > 1e-5 {
			t.Errorf("size %d: relative error %.3g against ONNX's window", size, e)
		}
		if e := relErr(got.Data, ref(size/2, (size-1)/2)); e < 1e-3 {
			t.Errorf("size %d: the output matches PyTorch's window too (error %.3g): the test cannot tell them apart", size, e)
		}
	}
}

// TestONNXConvTransposeErrors: geometry outside what conv_transpose2d expresses is a clear
// error naming the node and what was expected, never a wrong output.
func TestONNXConvTransposeErrors(t *testing.T) {
	for _, tc := range []struct {
		attr        *onnx.Attribute
		want        string
		unsupported bool
	}{
		{&onnx.Attribute{Name: "output_padding", Type: onnx.AttrInts, Ints: []int64{4, 0}}, "output padding", true},
		{&onnx.Attribute{Name: "group", Type: onnx.AttrInt, I: 2}, "does not fit an input of 1 channels", false},
		{&onnx.Attribute{Name: "pads", Type: onnx.AttrInts, Ints: []int64{1, 2, 1}}, "expected 4 values", false},
		{&onnx.Attribute{Name: "output_shape", Type: onnx.AttrInts, Ints: []int64{20, 20}}, "negative begin padding", true},
		{&onnx.Attribute{Name: "auto_pad", Type: onnx.AttrString, S: []byte("FULL")}, "auto_pad", false},
		{&onnx.Attribute{Name: "kernel_shape", Type: onnx.AttrInts, Ints: []int64{2, 2}}, "disagrees", false},
	} {
		m := conformanceCase(t, "test_convtranspose_pads")
		setAttr(m.Graph.Nodes[0], tc.attr)
		_, err := FromONNX(m, "ct.onnx", Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "ConvTranspose") {
			t.Errorf("%s: error %v, want one naming ConvTranspose and %q", tc.attr.Name, err, tc.want)
			continue
		}
		if errors.Is(err, ErrUnsupported) != tc.unsupported {
			t.Errorf("%s: %v: ErrUnsupported %v, want %v", tc.attr.Name, err, errors.Is(err, ErrUnsupported), tc.unsupported)
		}
	}
}

// TestONNXFlattenMergedAxis: Flatten at an axis other than 1 folds the batch axis into the
// value; a graph output may be such a value, an operator reading it is an error.
func TestONNXFlattenMergedAxis(t *testing.T) {
	m := conformanceCase(t, "test_flatten_axis2")
	g := m.Graph
	g.Nodes = append(g.Nodes, &onnx.Node{OpType: "Relu", Name: "after", Inputs: []string{g.Outputs[0].Name}, Outputs: []string{"r"}})
	g.Outputs[0].Name = "r"
	_, err := FromONNX(m, "flat.onnx", Options{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Flatten at axis 2") || !strings.Contains(err.Error(), `"after"`) {
		t.Errorf("error %v, want an unsupported-error naming node after and Flatten at axis 2", err)
	}
}

// TestONNXConvTransposeOneLayer: pads that conv_transpose2d expresses (symmetric, the output
// padding below the stride, as PyTorch exports) give one layer, no crops.
func TestONNXConvTransposeOneLayer(t *testing.T) {
	m := conformanceCase(t, "test_convtranspose_pads")
	setAttr(m.Graph.Nodes[0], &onnx.Attribute{Name: "output_padding", Type: onnx.AttrInts, Ints: []int64{2, 1}})
	model, err := FromONNX(m, "ct.onnx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, n := range model.Graph.Nodes {
		types = append(types, n.Op.Type())
	}
	if len(types) != 1 || types[0] != "conv_transpose2d" {
		t.Errorf("layers %v, want one conv_transpose2d", types)
	}
}
