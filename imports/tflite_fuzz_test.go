package imports

import (
	"testing"

	"github.com/ventral-lab/ventral/formats/tflite"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// FuzzTFLiteImport: any file the parser accepts imports into a graph that runs, or gives an
// error; never a panic. Seeds: the operator test's float and quantized networks.
func FuzzTFLiteImport(f *testing.F) {
	f.Add(tflite.Encode(opsModel(nil)))
	q := map[string][2]float64{}
	for _, n := range []string{"image", "conv1", "dw", "conv2", "pad", "maxpool", "avgpool", "mul", "add", "concat", "flat", "fc", "mean", "mean_flat", "fc_tanh", "mean_sigmoid", "logits", "prob"} {
		q[n] = [2]float64{0.05, 128}
	}
	f.Add(tflite.Encode(opsModel(q)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := tflite.Decode("fuzz.tflite", b)
		if err != nil {
			return
		}
		im, err := FromTFLite(m, "fuzz.tflite", Options{})
		if err != nil {
			return
		}
		// Layers sized by the file's paddings or shapes may be huge; run only small graphs.
		for _, nd := range im.Graph.Nodes {
			n := 1
			for _, d := range nd.Shape {
				n *= d
			}
			if n > 1<<16 {
				return
			}
		}
		if _, err := im.Graph.Forward(nn.NewCtx(false, 1), tensor.New(append([]int{1}, im.Graph.InputShape...)...)); err != nil {
			t.Fatalf("imported graph does not run: %v", err)
		}
	})
}
