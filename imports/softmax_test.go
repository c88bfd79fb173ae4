package imports

import (
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/onnx"
	"github.com/ventral-lab/ventral/subject"
)

// The default layers of an imported classifier stop at its logits: the softmax and the
// requantization of its probabilities (a quantized TFLite file's own output tensor) are left
// out, in a float and a quantized TFLite file and in an ONNX graph.
func TestDefaultLayersExcludeSoftmax(t *testing.T) {
	check := func(name string, m *Model, last string, gone ...string) {
		t.Helper()
		def := strings.Split(m.Graph.Meta["default_layers"], ",")
		if def[len(def)-1] != last {
			t.Errorf("%s: default layers end with %q, want %q (%v)", name, def[len(def)-1], last, def)
		}
		for _, g := range gone {
			if m.Graph.Node(g) == nil {
				t.Fatalf("%s: no layer %q to leave out", name, g)
			}
			if slices.Contains(def, g) || slices.Contains(subject.GraphDefaultLayers(m.Graph), g) {
				t.Errorf("%s: default layers %v include the softmax output %q", name, def, g)
			}
		}
		for _, nd := range m.Graph.Nodes {
			if nd.Op.Type() == "softmax" && slices.Contains(def, nd.Name) {
				t.Errorf("%s: default layer %q is a softmax", name, nd.Name)
			}
		}
	}
	fm, err := Load(writeTFLite(t, opsModel(nil), "ops.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("float tflite", fm, "logits", "prob")
	// Every activation quantized: the softmax's output is a fake_quant layer holding the
	// file's tensor "prob".
	q := map[string][2]float64{}
	for _, n := range []string{"image", "conv1", "dw", "conv2", "pad", "maxpool", "avgpool", "mul", "add", "concat", "flat", "fc",
		"mean", "mean_flat", "fc_tanh", "mean_sigmoid", "logits", "prob"} {
		q[n] = [2]float64{1.0 / 64, 128}
	}
	q["prob"] = [2]float64{1.0 / 256, 0}
	qm, err := Load(writeTFLite(t, opsModel(q), "ops_q.tflite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := qm.Graph.Node("prob"); n == nil || n.Op.Type() != "fake_quant" {
		t.Fatalf("quantized tflite: layer prob is not the requantized softmax")
	}
	check("quantized tflite", qm, "logits", "prob")

	// ONNX: Gemm -> Softmax -> Identity -> Flatten.
	f := func(name string, dims []int64, v []float32) *onnx.Tensor {
		return &onnx.Tensor{Name: name, Dims: dims, DataType: onnx.Float, FloatData: v}
	}
	w := make([]float32, 4*6)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	om := &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Name:         "tiny",
		Initializers: []*onnx.Tensor{f("W", []int64{6, 4}, w), f("B", []int64{4}, []float32{0, 1, 2, 3})},
		Inputs:       []onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Dims: []int64{1, 6}, HasShape: true}},
		Outputs:      []onnx.ValueInfo{{Name: "flat", ElemType: onnx.Float, Dims: []int64{1, 4}, HasShape: true}},
		Nodes: []*onnx.Node{
			{Name: "fc", OpType: "Gemm", Inputs: []string{"x", "W", "B"}, Outputs: []string{"logits"}},
			{Name: "sm", OpType: "Softmax", Inputs: []string{"logits"}, Outputs: []string{"prob"}},
			{Name: "fl", OpType: "Flatten", Inputs: []string{"prob"}, Outputs: []string{"flat"}},
		},
	}}
	on, err := FromONNX(om, "tiny.onnx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("onnx", on, "logits", "prob")
}
