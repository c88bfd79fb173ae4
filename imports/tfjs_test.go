package imports

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

const tfjsZoo = "mobilenetv1-0.75-imagenet-tfjs"

// tfjsRefImages are the Kriegeskorte images (0-based) the numpy reference runs on.
var tfjsRefImages = []int{0, 31, 47, 75}

// TestTFJSNumpyReference runs the ml5 MobileNetV1 0.75 on four Kriegeskorte images and compares
// intermediate layers and the output with an independent numpy implementation
// (testdata/tfjs_reference.py reads model.json and the shards itself and runs the Keras layers
// in NHWC, float64, with its own SAME padding): every one within 1e-4 of max|ref|.
func TestTFJSNumpyReference(t *testing.T) {
	mirror.Path(t, "ml5-mobilenet-v1-0.75/mobilenet_v1_0.75_224/model.json")
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy").Run(); err != nil {
		peer(t, "python3 with numpy is needed: %v", err)
	}
	m, err := Named(tfjsZoo)
	if err != nil {
		t.Fatal(err)
	}
	set, err := stimuli.Kriegeskorte92()
	if err != nil {
		peer(t, "kriegeskorte92: %v", err)
	}
	defer set.Close()
	var x []float32
	for _, i := range tfjsRefImages {
		img, err := set.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Preprocess.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		x = append(x, p.Data...)
	}
	in := tensor.FromData(x, append([]int{len(tfjsRefImages)}, m.Graph.InputShape...)...)
	dir := t.TempDir()
	if err := npy.Write32(filepath.Join(dir, "input.npy"), &npy.Array32{Shape: in.Shape, Data: in.Data}); err != nil {
		t.Fatal(err)
	}
	// Keras layer names: after the first convolution (BN folded into it), after an asymmetric
	// SAME padding (stride 2), deep in the network, the pooled features, logits, softmax.
	layers := []string{"conv1_bn", "conv1_relu", "conv_dw_2_relu", "conv_pw_6_relu", "conv_dw_12_relu",
		"conv_pw_13_relu", "global_average_pooling2d_1", "conv_preds", "reshape_2"}
	modelJSON := mirror.Path(t, "ml5-mobilenet-v1-0.75/mobilenet_v1_0.75_224/model.json")
	args := append([]string{"testdata/tfjs_reference.py", modelJSON, filepath.Join(dir, "input.npy"), dir}, layers...)
	if out, err := exec.Command("/usr/bin/python3", args...).CombinedOutput(); err != nil {
		t.Fatalf("numpy reference: %v\n%s", err, out)
	}
	var keep []string
	for _, l := range layers {
		keep = append(keep, m.ValueLayers[l])
	}
	tr, err := m.Graph.Forward(nn.NewCtx(false, 0), in, keep...)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		want, err := npy.ReadFloat32(filepath.Join(dir, l+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		got := tr.Out(m.ValueLayers[l])
		if got.Len() != len(want.Data) {
			t.Errorf("%s: shape %v, numpy %v", l, got.Shape, want.Shape)
			continue
		}
		var d, mx float64
		for i, w := range want.Data {
			d = math.Max(d, math.Abs(float64(got.Data[i])-float64(w)))
			mx = math.Max(mx, math.Abs(float64(w)))
		}
		e := d / mx
		if !(e <= 1e-4) {
			t.Errorf("%s (layer %s): max|diff|/max|ref| = %.3g", l, m.ValueLayers[l], e)
		}
		t.Logf("%-28s %v  max|diff|/max|ref| = %.2g", l, want.Shape, e)
	}
	// The output is a probability distribution with readable labels.
	out := tr.Output()
	classes := models.Classes(m.Graph)
	for i := range tfjsRefImages {
		row := out.Data[i*1000 : (i+1)*1000]
		best, sum := 0, 0.0
		for j, p := range row {
			sum += float64(p)
			if p > row[best] {
				best = j
			}
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Errorf("image %d: probabilities sum to %v", tfjsRefImages[i], sum)
		}
		t.Logf("image %d: %s (p %.2f)", tfjsRefImages[i]+1, classes[best], row[best])
	}
}

// TestTFJSZooSanity checks the named model's metadata and that obvious Kriegeskorte animals are
// recognised (top-1 among the expected ImageNet classes).
func TestTFJSZooSanity(t *testing.T) {
	mirror.Path(t, "ml5-mobilenet-v1-0.75/mobilenet_v1_0.75_224/model.json")
	m, err := Named(tfjsZoo)
	if err != nil {
		t.Fatal(err)
	}
	classes := models.Classes(m.Graph)
	if len(classes) != 1000 || classes[0] != "tench, Tinca tinca" || classes[340] != "zebra" {
		t.Fatalf("classes: %d, [0] %q, [340] %q", len(classes), classes[0], classes[340])
	}
	if p, ok, err := stimuli.FromMeta(m.Graph); err != nil || !ok || p.Size != 224 || p.Mean[0] != 0.5 || p.Std[0] != 0.5 || !p.RGB {
		t.Fatalf("preprocess %+v %v %v", p, ok, err)
	}
	if got := m.Graph.InputShape; len(got) != 3 || got[0] != 3 || got[1] != 224 || got[2] != 224 {
		t.Fatalf("input shape %v", got)
	}
	set, err := stimuli.Kriegeskorte92()
	if err != nil {
		peer(t, "kriegeskorte92: %v", err)
	}
	defer set.Close()
	for _, c := range tfjsSanity {
		img, err := set.Image(c.image - 1)
		if err != nil {
			t.Fatal(err)
		}
		x, err := m.Preprocess.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := m.Graph.Forward(nn.NewCtx(false, 0), tensor.FromData(x.Data, append([]int{1}, x.Shape...)...))
		if err != nil {
			t.Fatal(err)
		}
		row := tr.Output().Data
		best := 0
		for j, p := range row {
			if p > row[best] {
				best = j
			}
		}
		ok := false
		for _, w := range c.want {
			ok = ok || strings.Contains(classes[best], w)
		}
		if !ok {
			t.Errorf("image %d: top-1 %q, expected one of %v", c.image, classes[best], c.want)
		}
	}
}

// tfjsSanity lists Kriegeskorte images (1-based) whose top-1 class is unambiguous (the ONNX
// MobileNetV2 gives the same answers).
var tfjsSanity = []struct {
	image int
	want  []string
}{
	{25, []string{"armadillo"}},
	{26, []string{"dromedary"}},
	{30, []string{"ostrich"}},
	{32, []string{"zebra"}},
	{33, []string{"elephant"}},
	{47, []string{"lion"}},
	{68, []string{"pineapple"}},
	{85, []string{"revolver"}},
}

// TestTFJSRoundTrip rebuilds the imported graph from its spec and parameters and checks the
// outputs are identical; random: builds the architecture.
func TestTFJSRoundTrip(t *testing.T) {
	mirror.Path(t, "ml5-mobilenet-v1-0.75/mobilenet_v1_0.75_224/model.json")
	m, err := Named(tfjsZoo)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := m.Graph.SpecYAML()
	if err != nil {
		t.Fatal(err)
	}
	g, err := nn.ParseSpec(spec, "spec of "+tfjsZoo)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(7); err != nil {
		t.Fatal(err)
	}
	src, dst := m.Graph.Params(), g.Params()
	if len(src) != len(dst) {
		t.Fatalf("%d params, rebuilt %d", len(src), len(dst))
	}
	for i := range src {
		copy(dst[i].Value.Data, src[i].Value.Data)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(2, 3, 224, 224)
	for i := range x.Data {
		x.Data[i] = rng.Float32()*2 - 1
	}
	a, err := m.Graph.Forward(nn.NewCtx(false, 0), x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Forward(nn.NewCtx(false, 0), x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range a.Output().Data {
		if b.Output().Data[i] != v {
			t.Fatalf("output %d: %v, rebuilt %v", i, v, b.Output().Data[i])
		}
	}
	r, err := models.Constrain(m.Graph, models.Constraints{Random: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Build(1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Forward(nn.NewCtx(false, 0), x); err != nil {
		t.Fatal(err)
	}
}

// tfjsWeight is one weight of a synthetic model.
type tfjsWeight struct {
	name  string
	shape []int
	data  []float32
}

// writeTFJS writes a model.json with the given Keras layers (functional form) and one shard
// holding the weights, returning the model.json path.
func writeTFJS(t *testing.T, layers []map[string]any, output string, ws []tfjsWeight) string {
	t.Helper()
	dir := t.TempDir()
	var buf []byte
	var specs []map[string]any
	for _, w := range ws {
		for _, v := range w.data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		specs = append(specs, map[string]any{"name": w.name, "shape": w.shape, "dtype": "float32"})
	}
	doc := map[string]any{
		"format": "layers-model",
		"modelTopology": map[string]any{"class_name": "Model", "config": map[string]any{
			"name": "synthetic", "layers": layers,
			"input_layers":  [][]any{{"in", 0, 0}},
			"output_layers": [][]any{{output, 0, 0}},
		}},
		"weightsManifest": []any{map[string]any{"paths": []string{"group1-shard1of1.bin"}, "weights": specs}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "group1-shard1of1.bin"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func kerasLayer(class, name string, cfg map[string]any, inputs ...string) map[string]any {
	cfg["name"] = name
	var call [][]any
	for _, in := range inputs {
		call = append(call, []any{in, 0, 0, map[string]any{}})
	}
	inbound := []any{}
	if len(call) > 0 {
		inbound = append(inbound, call)
	}
	return map[string]any{"class_name": class, "name": name, "config": cfg, "inbound_nodes": inbound}
}

func seq(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i%7)/7 - 0.4
	}
	return out
}

// TestTFJSErrors: a truncated shard, a manifest shape that disagrees with the layer, and an
// unknown layer class are clear errors naming the file, the weight or layer, and what was
// expected.
func TestTFJSErrors(t *testing.T) {
	input := kerasLayer("InputLayer", "in", map[string]any{"batch_input_shape": []any{nil, 8, 8, 3}, "dtype": "float32"})
	conv := kerasLayer("Conv2D", "conv", map[string]any{"filters": 4, "kernel_size": []int{3, 3}, "strides": []int{1, 1},
		"padding": "same", "activation": "relu", "use_bias": true}, "in")
	good := []tfjsWeight{{"conv/kernel", []int{3, 3, 3, 4}, seq(108)}, {"conv/bias", []int{4}, seq(4)}}
	p := writeTFJS(t, []map[string]any{input, conv}, "conv", good)
	if _, err := Load(p, Options{}); err != nil {
		t.Fatalf("the well-formed model: %v", err)
	}

	// Truncated shard: the manifest claims more bytes than the shard holds.
	shard := filepath.Join(filepath.Dir(p), "group1-shard1of1.bin")
	b, _ := os.ReadFile(shard)
	if err := os.WriteFile(shard, b[:len(b)-6], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, Options{})
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "weightsManifest[0]") || !strings.Contains(err.Error(), "448 bytes") {
		t.Errorf("truncated shard: %v", err)
	}

	// The manifest's kernel shape disagrees with what the layer config and its input need.
	bad := []tfjsWeight{{"conv/kernel", []int{3, 3, 4, 3}, seq(108)}, {"conv/bias", []int{4}, seq(4)}}
	_, err = Load(writeTFJS(t, []map[string]any{input, conv}, "conv", bad), Options{})
	if err == nil || !strings.Contains(err.Error(), `layer "conv" (Conv2D)`) || !strings.Contains(err.Error(), "[3 3 4 3]") || !strings.Contains(err.Error(), "[3 3 3 4]") {
		t.Errorf("shape mismatch: %v", err)
	}

	// A layer class the importer does not map.
	lstm := kerasLayer("LSTM", "rnn", map[string]any{"units": 4}, "conv")
	_, err = Load(writeTFJS(t, []map[string]any{input, conv, lstm}, "rnn", good), Options{})
	if err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `layer "rnn": class LSTM is not supported`) || !strings.Contains(err.Error(), "DepthwiseConv2D") {
		t.Errorf("unknown layer: %v", err)
	}
}

// TestTFJSLayersNumpy builds a small functional Keras model that uses every supported layer
// class in the configurations that need care (asymmetric SAME padding for convolutions and
// both poolings, ZeroPadding2D, grouped and strided convolutions, depth multiplier 2, a
// BatchNormalization folded and one kept as channel_affine, Flatten and a Reshape back to an
// image that must follow Keras's NHWC order, fused and separate activations) and compares every
// layer with the numpy reference.
func TestTFJSLayersNumpy(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy").Run(); err != nil {
		peer(t, "python3 with numpy is needed: %v", err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var ws []tfjsWeight
	w := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.NormFloat64() * 0.5)
		}
		if strings.HasSuffix(name, "variance") {
			for i := range data {
				data[i] = 0.5 + rng.Float32()
			}
		}
		ws = append(ws, tfjsWeight{name, shape, data})
	}
	bn := func(name string, c int) {
		for _, k := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
			w(name+"/"+k, c)
		}
	}
	L := kerasLayer
	type cfg = map[string]any
	layers := []map[string]any{
		L("InputLayer", "in", cfg{"batch_input_shape": []any{nil, 9, 9, 3}, "dtype": "float32"}),
		L("ZeroPadding2D", "zp", cfg{"padding": [][]int{{1, 0}, {0, 2}}}, "in"),
		L("Conv2D", "c1", cfg{"filters": 4, "kernel_size": []int{3, 3}, "strides": []int{2, 2}, "padding": "same", "activation": "relu", "use_bias": true}, "zp"),
		L("DepthwiseConv2D", "dw", cfg{"kernel_size": 3, "strides": 1, "padding": "same", "depth_multiplier": 2, "activation": "linear", "use_bias": true}, "c1"),
		L("BatchNormalization", "dw_bn", cfg{"axis": -1, "epsilon": 0.001}, "dw"),
		L("ReLU", "r6", cfg{"max_value": 6.0}, "dw_bn"),
		L("MaxPooling2D", "mp", cfg{"pool_size": []int{3, 3}, "strides": []int{1, 1}, "padding": "same"}, "r6"),
		L("AveragePooling2D", "ap", cfg{"pool_size": []int{2, 2}, "strides": []int{1, 1}, "padding": "same"}, "r6"),
		L("Add", "sum", cfg{}, "mp", "ap"),
		L("BatchNormalization", "sum_bn", cfg{"axis": 3, "epsilon": 0.01}, "sum"),
		L("Concatenate", "cat", cfg{"axis": -1}, "sum_bn", "r6"),
		L("SeparableConv2D", "sep", cfg{"filters": 6, "kernel_size": []int{3, 3}, "strides": []int{1, 1}, "padding": "valid", "depth_multiplier": 1, "activation": "tanh", "use_bias": true}, "cat"),
		L("MaxPooling2D", "mp2", cfg{"pool_size": []int{2, 2}, "strides": []int{2, 2}, "padding": "same"}, "sep"),
		L("Conv2D", "grouped", cfg{"filters": 4, "kernel_size": []int{1, 1}, "strides": []int{1, 1}, "padding": "valid", "groups": 2, "activation": "linear", "use_bias": false}, "mp2"),
		L("Flatten", "flat", cfg{}, "grouped"),
		L("Dense", "fc", cfg{"units": 10, "activation": "sigmoid", "use_bias": true}, "flat"),
		L("Reshape", "img", cfg{"target_shape": []int{1, 2, 5}}, "fc"),
		L("Conv2D", "c3", cfg{"filters": 3, "kernel_size": []int{1, 2}, "strides": []int{1, 1}, "padding": "same", "activation": "linear", "use_bias": true}, "img"),
		L("GlobalAveragePooling2D", "gap", cfg{}, "c3"),
		L("Dropout", "drop", cfg{"rate": 0.5}, "gap"),
		L("Dense", "logits", cfg{"units": 4, "activation": "linear", "use_bias": false}, "drop"),
		L("Activation", "prob", cfg{"activation": "softmax"}, "logits"),
	}
	w("c1/kernel", 3, 3, 3, 4)
	w("c1/bias", 4)
	w("dw/depthwise_kernel", 3, 3, 4, 2)
	w("dw/bias", 8)
	bn("dw_bn", 8)
	bn("sum_bn", 8)
	w("sep/depthwise_kernel", 3, 3, 16, 1)
	w("sep/pointwise_kernel", 1, 1, 16, 6)
	w("sep/bias", 6)
	w("grouped/kernel", 1, 1, 3, 4)
	w("fc/kernel", 2*2*4, 10)
	w("fc/bias", 10)
	w("c3/kernel", 1, 2, 5, 3)
	w("c3/bias", 3)
	w("logits/kernel", 3, 4)
	p := writeTFJS(t, layers, "prob", ws)
	m, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.Notes, "BatchNormalization folded into the convolution before it") {
		t.Errorf("notes %v: dw_bn not folded", m.Notes)
	}
	if n := m.Graph.Node("sum_bn"); n == nil || n.Op.Type() != "channel_affine" {
		t.Errorf("sum_bn should be a channel_affine layer")
	}
	x := tensor.New(3, 3, 9, 9)
	for i := range x.Data {
		x.Data[i] = rng.Float32()*2 - 1
	}
	dir := t.TempDir()
	if err := npy.Write32(filepath.Join(dir, "input.npy"), &npy.Array32{Shape: x.Shape, Data: x.Data}); err != nil {
		t.Fatal(err)
	}
	var names, keep []string
	if _, ok := m.ValueLayers["dw"]; ok {
		t.Errorf("the folded convolution dw still maps to layer %q", m.ValueLayers["dw"])
	}
	for _, l := range layers[1:] {
		n := l["name"].(string)
		if n == "dw" {
			continue
		}
		names = append(names, n)
		keep = append(keep, m.ValueLayers[n])
	}
	args := append([]string{"testdata/tfjs_reference.py", p, filepath.Join(dir, "input.npy"), dir}, names...)
	if out, err := exec.Command("/usr/bin/python3", args...).CombinedOutput(); err != nil {
		t.Fatalf("numpy reference: %v\n%s", err, out)
	}
	tr, err := m.Graph.Forward(nn.NewCtx(false, 0), x, keep...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		want, err := npy.ReadFloat32(filepath.Join(dir, n+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		got := tr.Out(m.ValueLayers[n])
		if !slices.Equal(got.Shape, want.Shape) {
			t.Errorf("%s: shape %v, numpy %v", n, got.Shape, want.Shape)
			continue
		}
		var d, mx float64
		for i, v := range want.Data {
			d = math.Max(d, math.Abs(float64(got.Data[i])-float64(v)))
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		if e := d / mx; !(e <= 1e-5) {
			t.Errorf("%s (layer %s): max|diff|/max|ref| = %.3g", n, m.ValueLayers[n], e)
		}
	}
}

// TestTFJSSequential imports the Sequential form (no InputLayer: the first layer's
// batch_input_shape) with quantized and int32 weights, and checks the output by hand.
func TestTFJSSequential(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../formats/tfjs/testdata/sequential.json")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model.json")
	var w1 []byte
	for _, v := range []float32{1, 2, 3, 4, 5, 6} {
		w1 = binary.LittleEndian.AppendUint32(w1, math.Float32bits(v))
	}
	for _, v := range []int32{-1, 7, 0} {
		w1 = binary.LittleEndian.AppendUint32(w1, uint32(v))
	}
	files := map[string][]byte{"model.json": b, "w1.bin": w1, "w2a.bin": {0, 1, 2, 3}, "w2b.bin": {4, 255}}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Graph.Output != "fc2" || !slices.Equal(m.Graph.InputShape, []int{2}) {
		t.Fatalf("output %q, input %v", m.Graph.Output, m.Graph.InputShape)
	}
	tr, err := m.Graph.Forward(nn.NewCtx(false, 0), tensor.FromData([]float32{1, -0.5}, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	// fc1: relu([1 -0.5] @ [[1 2 3] [4 5 6]] + [-1 7 0]) = relu([-2 6.5 0]) = [0 6.5 0];
	// fc2 (no bias): [0 6.5 0] @ [[-1 -0.5] [0 0.5] [1 126.5]] = [0 3.25]; softmax.
	e := math.Exp(3.25)
	want := []float64{1 / (1 + e), e / (1 + e)}
	for i, v := range tr.Output().Data {
		if math.Abs(float64(v)-want[i]) > 1e-6 {
			t.Errorf("output %d: %v, want %v", i, v, want[i])
		}
	}
}
