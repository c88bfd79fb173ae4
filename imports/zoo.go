package imports

import (
	"fmt"
	"os"
	pathpkg "path"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/stimuli"
)

// named is a trained network from the dataset registry, imported by name: the file, its
// preprocessing (the zero value keeps what the file says: TFLite inputs carry it), its labels and citation.
type named struct {
	name          string
	dataset, file string // datasets.Resolve(dataset, file)
	pre           stimuli.Preprocess
	labels        [2]string // dataset, file of the labels (JSON array or one per line)
	labelOffset   int       // outputs before the first label (TFLite's background class)
	citation      string
}

// imagenet224 is the ImageNet evaluation recipe of the torchvision and ONNX model zoo
// networks: resize the shorter side to 256, centre crop 224, then (x - mean) / std on [0,1]
// RGB.
var imagenet224 = stimuli.Preprocess{Size: 224, Crop: 0.875, RGB: true,
	Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}

var imagenetLabels = [2]string{"imagenet-labels", "imagenet-simple-labels.json"}

// ml5MobileNet is how ml5.js feeds its MobileNets: the whole image resized to 224 and scaled
// to x/127.5 - 1, which is (x - 0.5) / 0.5 on [0,1] RGB.
var ml5MobileNet = stimuli.Preprocess{Size: 224, RGB: true,
	Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.5, 0.5}}

// coralLabels are the 1001 classes of the TFLite MobileNets: index 0 is "background", then the
// 1000 ImageNet classes.
var coralLabels = [2]string{"coral-test-data", "imagenet_labels.txt"}

const (
	mobilenetV1Citation = "Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto, Adam (2017) MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications, arXiv:1704.04861"
	mobilenetV2Citation = "Sandler, Howard, Zhu, Zhmoginov, Chen (2018) MobileNetV2: Inverted Residuals and Linear Bottlenecks, CVPR"
)

// zooTable lists the named imported networks, one row each.
var zooTable = []named{
	{"mobilenetv1-0.75-imagenet-tfjs", "ml5-mobilenet-v1-0.75", "mobilenet_v1_0.75_224/model.json", ml5MobileNet, [2]string{"ml5-mobilenet-v1-0.75", "mobilenet_v1_0.75_224/metadata.json"}, 0, "Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto, Adam (2017) MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications, arXiv:1704.04861; weights: Google's MobileNet V1 0.75 224 as converted for ml5.js (Apache-2.0 upstream)"},
	{"mobilenetv1-0.25-imagenet-tflite", "coral-test-data", "mobilenet_v1_0.25_128_quant.tflite", stimuli.Preprocess{}, coralLabels, 0, mobilenetV1Citation + "; weights: TensorFlow's mobilenet_v1_0.25_128_quant as compiled for Coral (google-coral/test_data, Apache-2.0)"},
	{"mobilenetv1-0.75-imagenet-tflite", "coral-test-data", "mobilenet_v1_0.75_192_quant.tflite", stimuli.Preprocess{}, coralLabels, 0, mobilenetV1Citation + "; weights: TensorFlow's mobilenet_v1_0.75_192_quant as compiled for Coral (google-coral/test_data, Apache-2.0)"},
	{"mobilenetv2-imagenet-tflite", "coral-test-data", "mobilenet_v2_1.0_224_quant.tflite", stimuli.Preprocess{}, coralLabels, 0, mobilenetV2Citation + "; weights: TensorFlow's mobilenet_v2_1.0_224_quant, uint8 (google-coral/test_data, Apache-2.0)"},
	{"mobilenetv2-imagenet-tflite-ptq", "coral-test-data", "tf2_mobilenet_v2_1.0_224_ptq.tflite", stimuli.Preprocess{}, coralLabels, 0, mobilenetV2Citation + "; weights: TF2 MobileNetV2 1.0 224, int8 per-channel post-training quantization (google-coral/test_data, Apache-2.0)"},
	{"mobilenetv2-imagenet-onnx", "onnx-mobilenetv2-int8", "mobilenetv2-12-int8.onnx", imagenet224, imagenetLabels, 0, "Sandler, Howard, Zhu, Zhmoginov, Chen (2018) MobileNetV2: Inverted Residuals and Linear Bottlenecks, CVPR; weights: ONNX model zoo mobilenetv2-12-int8 (Apache-2.0)"},
}

// Names lists the networks Named imports.
func Names() []string {
	var out []string
	for _, z := range zooTable {
		out = append(out, z.name)
	}
	sort.Strings(out)
	return out
}

// Named imports a registered network by name (see Names) with its preprocessing, labels and
// citation.
func Named(name string) (*Model, error) { return NamedOptions(name, Options{}) }

// NamedOptions is Named with import options.
func NamedOptions(name string, o Options) (*Model, error) {
	var z *named
	for i := range zooTable {
		if zooTable[i].name == name {
			z = &zooTable[i]
		}
	}
	if z == nil {
		return nil, fmt.Errorf("no imported network named %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	path, err := datasets.Resolve(z.dataset, z.file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var m *Model
	if strings.EqualFold(pathpkg.Base(z.file), "model.json") {
		// Every weight shard is a registered file too: resolve (and hash-check) each one.
		side, err := ReadSidecar(path, o.Sidecar)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		dir := pathpkg.Dir(z.file)
		m, err = loadTFJS(path, side, o, func(rel string) (string, error) {
			return datasets.Resolve(z.dataset, pathpkg.Join(dir, rel))
		})
	} else {
		m, err = Load(path, o)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.Graph.Name = name
	m.Graph.Meta["citation"] = z.citation
	if z.labels[0] != "" {
		lp, err := datasets.Resolve(z.labels[0], z.labels[1])
		if err != nil {
			return nil, fmt.Errorf("%s: labels: %w", name, err)
		}
		b, err := os.ReadFile(lp)
		if err != nil {
			return nil, fmt.Errorf("%s: labels: %w", name, err)
		}
		m.Labels = parseLabels(b)
		for i := 0; i < z.labelOffset; i++ {
			m.Labels = append([]string{fmt.Sprintf("(output %d)", z.labelOffset-1-i)}, m.Labels...)
		}
	}
	pre := z.pre
	if pre.Size == 0 {
		// The TFLite files carry their preprocessing (size and input quantization).
		pre = m.Preprocess
	}
	if err := m.setMeta(&pre); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}
