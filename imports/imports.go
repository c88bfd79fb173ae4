// Package imports turns networks trained in other frameworks into ventral models: an ONNX file
// (what PyTorch exports), a TensorFlow Lite flatbuffer or a TensorFlow.js layers model
// (model.json plus weight shards) becomes an nn.Graph of ventral's own ops with the file's
// weights, its preprocessing and its class labels. The graph is an ordinary ventral model: its
// spec (Graph.SpecYAML) plus its parameters reproduce it, so it is scored, dissected, checkpointed
// and fine-tuned like a zoo model, and "random:" builds the same architecture with fresh weights.
//
// The parsers of the file formats live in formats/onnx, formats/tflite and formats/tfjs; this
// package maps what they read onto nn ops. Layer names are the file's own node (or output)
// names, so a user picks layers by the names they know.
//
// # ONNX
//
// FromONNX maps a graph onto registered nn ops only (SupportedONNXOps lists the operators), so
// the graph's spec plus its parameters reproduce it. Layer names are the ONNX output names
// ('@', spaces and commas become '_', a value named "input" becomes "input_", a clash gets a numeric
// suffix); Model.ValueLayers maps every ONNX value to its layer (Identity and Dropout are
// aliases; a BatchNormalization folded into the convolution that feeds only it gives that layer
// its own output name; otherwise it becomes channel_affine). Shape arithmetic (Shape, Gather,
// Unsqueeze, Concat, Cast, Slice... on constants) is folded at import from the input's static
// dims, the first axis being the batch. Helper layers an ONNX node needs besides its own carry
// its name plus a suffix: ".pad" (padding the op cannot express), ".const" (a constant operand),
// ".pool" (global pooling before the reshape to [C 1 1]), ".2d" (a 1-D pool or ConvTranspose
// runs as a 2-D one of height 1), ".full", ".crop_h", ".crop_w" and ".gN" (a ConvTranspose's
// uncropped output, the crops of ONNX pads conv_transpose2d cannot express, one layer per group;
// see onnx_convtranspose.go), and, in quantized graphs, ".acc",
// ".requant", ".int" and ".levels" for the integer simulation (onnx_qexact.go), or ".conv",
// ".matmul" and ".add" for the float computation before a requantization layer.
// Graph.Meta "default_layers" lists the layers that hold the file's own values, without these
// helpers and pure reshuffles (comma-separated, in graph order). A Flatten at an axis other than 1
// merges the batch axis into the ONNX value; its layer keeps the batch axis apart (same numbers,
// same order) and may only be a graph output.
//
// Quantized graphs (QuantizeLinear, QLinearConv, QLinearAdd, QLinearMatMul,
// QLinearGlobalAveragePool, DequantizeLinear) are imported with float32 layers. By default the
// integer network is simulated: QLinearConv and QLinearMatMul run on the integer levels with the
// int32 bias and requantize as onnxruntime does (onnx_qexact.go), QuantizeLinear, QLinearAdd and
// QLinearGlobalAveragePool requantize through fake_quant (round half to even, saturate).
// Options.FloatActivations instead dequantizes weights and biases and keeps float activations,
// only clipped to each quantized range (where the int8 graph's ReLU and ReLU6 live). Against
// onnxruntime 1.20.1 on the ONNX model zoo's int8 MobileNetV2 (mobilenetv2-imagenet-onnx),
// 92 Kriegeskorte images plus 1,000 CIFAR-10 test images at 224 px (TestORTOracleMobileNetV2
// with VENTRAL_ORT_CIFAR=1000):
//
//	ventral (default) vs onnxruntime, exact integer kernels:  top-1 agreement 100%, r 1.0000 (bit-identical logits)
//	ventral float activations vs the same:                     top-1 agreement 19.1%, r 0.723
//	onnxruntime's stock model vs exact, on this AVX2 CPU:       top-1 agreement 18.6%, r 0.727
//
// (The default test's 292 images: 100% / 1.0000, 32.9% / 0.802, 27.7% / 0.782; on a Zen 5 with
// AVX512-VNNI onnxruntime's stock model is exact, 100% / 1.0000 against ventral.) The reference
// is onnxruntime on the same
// network with its int8 weights stored as uint8 (testdata/u8_weights.py): on x86 CPUs without
// VNNI its u8 x s8 kernels saturate 16-bit pair sums (checked bit-exactly on the first
// convolution), which moves the stock model's outputs further than any import choice. Float
// inference moves far from the integer reference on these images: MobileNetV2's predictions on
// them have small margins, and the int8 graph's one-step rounding choices compound through its
// 52 requantized convolutions (an earlier simulation on dequantized floats, exact but for a few
// outputs per layer one step apart near rounding ties, reached only 73% top-1 agreement).
//
// # TensorFlow.js
//
// FromTFJS maps a TF.js layers model (model.json in Keras's Sequential or functional form,
// weights from the shards; formats/tfjs reads both) onto registered nn ops, keeping the Keras
// layer names. Supported layers (SupportedKerasLayers): InputLayer, Conv2D (with groups),
// DepthwiseConv2D (a conv2d with one group per input channel, depth_multiplier included),
// SeparableConv2D (".depthwise" then the pointwise conv), BatchNormalization (folded into the
// convolution that feeds only it, which then carries the BatchNormalization's name; otherwise
// channel_affine), Activation and fused activations (linear, relu, relu6, sigmoid, tanh,
// softmax), ReLU (max_value, negative_slope), Dense, Flatten, Reshape, Dropout, MaxPooling2D,
// AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, ZeroPadding2D, Add and
// Concatenate. Keras computes in NHWC; here images are [C H W]: kernels are transposed at import
// ([kh kw in out] to [out in kh kw]), channel-axis layers act on axis 0, and where Keras
// reinterprets an image's flat data (Flatten, Reshape) a transpose to [H W C] comes first (and
// back after a Reshape to an image), so flattened features are in Keras's order and Dense
// kernels need no reordering. TF's "same" padding puts the odd pixel after: when the two sides
// differ a ".pad" layer (pad2d) precedes the convolution, and pooling takes asymmetric pads
// (average pooling dividing by the input pixels only, as TF does). A convolution or Dense with a
// fused activation is named ".conv" or ".dense" and the activation carries the layer's name.
// Preprocessing is not in model.json: Load sets the resize to the input size, a sidecar
// (ventral.yaml beside model.json) gives the normalisation, and labels come from a
// metadata.json beside model.json ({"labels": [...]}, as ml5 ships them). The zoo's
// mobilenetv1-0.75-imagenet-tfjs (ml5.js MobileNetV1 0.75, 224 px) matches an independent
// numpy implementation within 4e-5 of the largest activation at every compared layer
// (TestTFJSNumpyReference). Its top-1 class agrees with mobilenetv2-imagenet-onnx's on 46 of
// the 92 Kriegeskorte images (15 of 24 animals, 6 of 24 human faces and bodies: two different
// networks on images far from ImageNet's).
//
// # TensorFlow Lite
//
// FromTFLite maps the main subgraph of a .tflite file (formats/tflite reads it) onto registered
// nn ops (SupportedTFLiteOps lists the operators). Layer names are the TFLite tensor names ('@'
// and spaces become '_', "input" becomes "input_"), of which converters' ';'-joined names of
// fused TensorFlow ops keep the first, the op the tensor is the output of
// ("MobilenetV1/MobilenetV1/Conv2d_0/Relu6"): the layer carrying a tensor's name computes exactly
// that tensor (Model.ValueLayers maps each full tensor name to its layer),
// and helper layers add a suffix: ".pad" (TF SAME padding that is asymmetric), ".conv", ".fc",
// ".add", ".mul", ".pool", ".mean", ".softmax", ".concat" (the float computation before a fused
// activation or a requantization), ".act" (the fused activation), ".const" (a constant
// operand), ".nhwc"/".nchw" (layout transposes around a reshape or flatten that depends on the
// layout). TFLite is NHWC, ventral images are [C H W]: kernels are transposed at import (OHWI
// and depthwise 1HWC to OIHW), channel-axis operations take axis 0, and a RESHAPE or
// FULLY_CONNECTED that flattens a map with several pixels and channels goes through HWC order
// first, so outputs equal the NHWC original's.
//
// Quantized files: weights (uint8 per tensor, int8 per channel) and int32 biases (scale
// input_scale*filter_scale) are dequantized to float32 at import. By default the integer graph
// is simulated: every operator whose output tensor is quantized is followed by a fake_quant with
// that tensor's scale, zero point and integer range, and the input image is quantized the same
// way; Options.FloatActivations keeps float activations, only clipped to each quantized range.
// The loader sets the preprocessing from the input tensor: its size, and mean z/255 and std
// 1/(255 s), so an image in [0,1] becomes the dequantized uint8 input (the coral MobileNets map
// 0..255 onto [-1, 1]). Against an independent numpy implementation of the dequantized networks
// (testdata/tflite_reference.py, TestTFLiteNumpyReference*), on Kriegeskorte images: with float
// activations every operator of mobilenet_v1_0.25_128_quant within 1.1e-5 of max|ref| and the
// logits of the other three coral MobileNets within 3e-6; with the integer simulation every
// operator, run on ventral's own inputs, equals the reference exactly except at rounding ties
// (x/scale within 1e-3 of k+0.5, where summation order picks either level): 37 of 1.66 M values
// (0.25/128), 36 of 5.6 M (0.75/192), 52 of 13.8 M (V2 uint8), 28 of 14.1 M (V2 int8 PTQ). The
// simulation does not reproduce TFLite's fixed-point multipliers bit for bit (no TFLite runtime
// here to compare with); chained through the network, those one-level differences move some
// outputs by a level or two. Top-1 agreement on the 92 Kriegeskorte images, each network with
// its own preprocessing (TestTFLiteAgreement): mobilenetv2-imagenet-tflite with
// mobilenetv2-imagenet-onnx 51 of 92, with mobilenetv2-imagenet-tflite-ptq 55 (PTQ with ONNX 48),
// mobilenetv1-0.75-imagenet-tflite (192 px) with mobilenetv1-0.75-imagenet-tfjs (224 px) 34;
// the uint8 MobileNetV2's integer simulation with its float activations 85 of 92. These images
// (faces, bodies, objects on grey) are far from ImageNet's and the predictions' margins small.
package imports

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

// Model is an imported network.
type Model struct {
	// Graph is built and holds the file's weights. Graph.Meta carries "format", "source",
	// "citation" (when known), the preprocessing (stimuli.MetaKey) and the classes.
	Graph *nn.Graph
	// Format is "onnx", "tflite" or "tfjs".
	Format string
	// Preprocess turns a [C H W] image in [0,1] into the network's input (also in Graph.Meta).
	Preprocess stimuli.Preprocess
	// Labels names the outputs of the classifier, in the model's own output index order (nil
	// when neither the file nor a sidecar gives them).
	Labels []string
	// Operators counts the file's operators by type (for `ventral models inspect`).
	Operators map[string]int
	// ValueLayers maps the file's tensor names (ONNX values) to the layer that computes each
	// one; aliases (Identity, Dropout, a folded BatchNormalization) map onto the layer they
	// equal, and values computed at import (shape arithmetic, weights) are absent.
	ValueLayers map[string]string
	// Notes are facts about the import a user should know (dequantized weights, folded nodes).
	Notes []string
}

// Options adjust an import. Zero values keep what the file and its sidecar say.
type Options struct {
	// Sidecar overrides the sidecar YAML path (default: see SidecarPath).
	Sidecar string
	// Input is the per-sample [C H W] input shape when the file leaves it open (the sidecar's
	// input field sets it too).
	Input []int
	// FloatActivations runs a quantized graph's activations in float (clipped to each
	// quantized range, which keeps the ReLUs the integer ranges encode) instead of simulating
	// the integer graph's rounding with fake_quant layers (the default).
	FloatActivations bool
}

// A loader reads one format. Formats register themselves from their own files.
type loader struct {
	format string
	// match reports whether path is a file of this format (by name, then by magic bytes).
	match func(path string, head []byte) bool
	load  func(path string, side *Sidecar, o Options) (*Model, error)
}

var loaders []loader

func register(l loader) { loaders = append(loaders, l) }

// Formats lists the registered formats.
func Formats() []string {
	var out []string
	for _, l := range loaders {
		out = append(out, l.format)
	}
	sort.Strings(out)
	return out
}

// IsImportPath reports whether path names a file that one of the importers reads (by its name:
// .onnx, .tflite, model.json or any .json beside weight shards).
func IsImportPath(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".onnx" || ext == ".tflite" || strings.EqualFold(filepath.Base(path), "model.json")
}

// Load imports the network at path, choosing the importer by file name and content.
func Load(path string, o Options) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	head := make([]byte, 64)
	n, _ := f.Read(head)
	f.Close()
	head = head[:n]
	side, err := ReadSidecar(path, o.Sidecar)
	if err != nil {
		return nil, err
	}
	for _, l := range loaders {
		if l.match(path, head) {
			m, err := l.load(path, side, o)
			if err != nil {
				return nil, err
			}
			return m, nil
		}
	}
	return nil, fmt.Errorf("import %s: not a file any importer reads (formats: %s; by name: .onnx, .tflite, model.json)", path, strings.Join(Formats(), ", "))
}

// softmaxOutputs lists the nodes that hold a softmax's output: the softmax itself and the
// requantizations and reshuffles after it (a quantized TFLite classifier requantizes its
// softmax, and that fake_quant is the file's own tensor). Class probabilities are the network's
// answer, not a representation, so Meta "default_layers" leaves them out, as
// subject.GraphDefaultLayers leaves out a native graph's softmax.
func softmaxOutputs(g *nn.Graph) map[string]bool {
	out := map[string]bool{}
	for _, nd := range g.Nodes { // graph order: a node's inputs come before it
		switch nd.Op.Type() {
		case "softmax":
			out[nd.Name] = true
		case "fake_quant", "flatten", "reshape", "transpose", "dropout":
			if len(nd.Inputs) == 1 && out[nd.Inputs[0]] {
				out[nd.Name] = true
			}
		}
	}
	return out
}
