package imports

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// ortDir is onnxruntime-node's package folder ($VENTRAL_ORT, as scripts/test exports it).
func ortDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("VENTRAL_ORT")
	if d == "" {
		home, _ := os.UserCacheDir()
		d = filepath.Join(home, "ventral-peers", "node_modules", "onnxruntime-node")
	}
	if _, err := os.Stat(d); err != nil {
		peer(t, "onnxruntime-node not found at %s (set VENTRAL_ORT; scripts/test installs it): %v", d, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		peer(t, "node not found: %v", err)
	}
	return d
}

// oracleImages returns the 92 Kriegeskorte images and the first nCIFAR CIFAR-10 test images,
// preprocessed for the model, as one [N 3 224 224] batch.
func oracleImages(t *testing.T, pre stimuli.Preprocess, nCIFAR int) *tensor.Tensor {
	t.Helper()
	set, err := stimuli.Kriegeskorte92()
	if err != nil {
		peer(t, "kriegeskorte92: %v", err)
	}
	defer set.Close()
	var imgs []*tensor.Tensor
	for i := 0; i < set.Len(); i++ {
		img, err := set.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		x, err := pre.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, x)
	}
	cifar, err := datasets.LoadCIFAR10("test")
	if err != nil {
		peer(t, "cifar10: %v", err)
	}
	per := cifar.C * cifar.H * cifar.W
	for i := 0; i < nCIFAR; i++ {
		img := tensor.FromData(cifar.X[i*per:(i+1)*per], cifar.C, cifar.H, cifar.W)
		x, err := pre.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, x)
	}
	sh := imgs[0].Shape
	out := tensor.New(append([]int{len(imgs)}, sh...)...)
	k := imgs[0].Len()
	for i, x := range imgs {
		copy(out.Data[i*k:], x.Data)
	}
	return out
}

func writeF32(t *testing.T, path string, v []float32) {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runORT runs the ONNX file on x with onnxruntime-node and returns its first output.
func runORT(t *testing.T, model string, x *tensor.Tensor) []float32 {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "x.f32"), filepath.Join(dir, "y.f32")
	writeF32(t, in, x.Data)
	args := []string{"testdata/ort_run.js", ortDir(t), model, in}
	for _, d := range x.Shape {
		args = append(args, strconv.Itoa(d))
	}
	args = append(args, out, "2")
	if b, err := exec.Command("node", args...).CombinedOutput(); err != nil {
		t.Fatalf("ort_run.js: %v\n%s", err, b)
	}
	return readF32(t, out)
}

func forwardBatches(t *testing.T, g *nn.Graph, x *tensor.Tensor, bs int) []float32 {
	t.Helper()
	n := x.Shape[0]
	k := x.Len() / n
	var out []float32
	ctx := nn.NewCtx(false, 1)
	for i := 0; i < n; i += bs {
		j := min(n, i+bs)
		b := tensor.FromData(x.Data[i*k:j*k], append([]int{j - i}, x.Shape[1:]...)...)
		tr, err := g.Forward(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tr.Output().Data...)
		ctx.Reset()
	}
	return out
}

func pearson(a, b []float32) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += float64(b[i])
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		da, db := float64(a[i])-ma, float64(b[i])-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb)
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// agreement compares two [N K] logit sets: top-1 agreement, the Pearson r of all logits
// pooled, and the mean of the per-image r.
func agreement(a, b []float32, k int) (top1, r, meanR float64) {
	n := len(a) / k
	same := 0
	for i := 0; i < n; i++ {
		if argmax(a[i*k:(i+1)*k]) == argmax(b[i*k:(i+1)*k]) {
			same++
		}
		meanR += pearson(a[i*k:(i+1)*k], b[i*k:(i+1)*k]) / float64(n)
	}
	return float64(same) / float64(n), pearson(a, b), meanR
}

// TestORTOracleMobileNetV2 runs the int8 ONNX model zoo MobileNetV2 in ventral (weights
// dequantized, activations simulated with fake_quant) and in onnxruntime on the 92 Kriegeskorte
// images and 200 CIFAR-10 test images: top-1 must agree on >= 90% and the logits correlate at
// r >= 0.98. The plain-float variant (Options.FloatActivations) is measured and logged.
// VENTRAL_ORT_CIFAR sets the number of CIFAR images (1000 for the numbers in the package doc).
func TestORTOracleMobileNetV2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs MobileNetV2 on 292 images")
	}
	ortDir(t)
	nc := 200
	if s := os.Getenv("VENTRAL_ORT_CIFAR"); s != "" {
		nc, _ = strconv.Atoi(s)
	}
	path, err := datasets.Resolve("onnx-mobilenetv2-int8", "mobilenetv2-12-int8.onnx")
	if err != nil {
		peer(t, "%v", err)
	}
	model, err := Named("mobilenetv2-imagenet-onnx")
	if err != nil {
		t.Fatal(err)
	}
	x := oracleImages(t, model.Preprocess, nc)
	ref := runORT(t, path, x)
	got := forwardBatches(t, model.Graph, x, 16)
	if len(got) != len(ref) {
		t.Fatalf("%d logits, onnxruntime gives %d", len(got), len(ref))
	}
	top1, r, mr := agreement(got, ref, 1000)
	t.Logf("fake_quant activations: top-1 agreement %.1f%%, logits r = %.4f (mean per-image r %.4f), %d images", 100*top1, r, mr, x.Shape[0])
	if top1 < 0.90 || r < 0.98 {
		t.Errorf("top-1 agreement %.3f (want >= 0.90), r %.4f (want >= 0.98)", top1, r)
	}
	fm, err := NamedOptions("mobilenetv2-imagenet-onnx", Options{FloatActivations: true})
	if err != nil {
		t.Fatal(err)
	}
	gotF := forwardBatches(t, fm.Graph, x, 16)
	top1F, rF, mrF := agreement(gotF, ref, 1000)
	t.Logf("float activations: top-1 agreement %.1f%%, logits r = %.4f (mean per-image r %.4f)", 100*top1F, rF, mrF)
}
