package analysis

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

func conv(out, k, s, p int) *nn.Conv2D {
	return &nn.Conv2D{Out: out, Kernel: nn.Dims{k}, Stride: nn.Dims{s}, Pad: nn.Dims{p}}
}

func rfOf(t *testing.T, g *nn.Graph) map[string]TheoreticalRF {
	t.Helper()
	if !g.Built() {
		if err := g.Build(1); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := TheoreticalRFs(g)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]TheoreticalRF{}
	for _, r := range rs {
		m[r.Layer] = r
	}
	return m
}

func checkRF(t *testing.T, m map[string]TheoreticalRF, want map[string]float64) {
	t.Helper()
	for l, w := range want {
		if got := m[l].Size[0]; got != w || m[l].Size[1] != w {
			t.Errorf("layer %s: theoretical RF %v, want %v", l, m[l].Size, w)
		}
	}
}

func TestTheoreticalRFStacks(t *testing.T) {
	g := &nn.Graph{Name: "two3x3", InputShape: []int{1, 16, 16}}
	g.Chain("c1", conv(2, 3, 1, 1)).Chain("r1", nn.ReLU()).Chain("c2", conv(2, 3, 1, 1))
	checkRF(t, rfOf(t, g), map[string]float64{"c1": 3, "r1": 3, "c2": 5})

	g = &nn.Graph{Name: "strided", InputShape: []int{1, 16, 16}}
	g.Chain("c1", conv(2, 3, 2, 1)).Chain("c2", conv(2, 3, 1, 1))
	m := rfOf(t, g)
	checkRF(t, m, map[string]float64{"c1": 3, "c2": 7})
	if m["c2"].Jump[0] != 2 {
		t.Errorf("jump %v, want 2", m["c2"].Jump)
	}

	dil := conv(2, 3, 1, 2)
	dil.Dilation = nn.Dims{2}
	g = &nn.Graph{Name: "dilated", InputShape: []int{1, 16, 16}}
	g.Chain("c1", dil).Chain("c2", conv(2, 3, 1, 1))
	checkRF(t, rfOf(t, g), map[string]float64{"c1": 5, "c2": 7})

	// A residual merge takes the wider branch.
	g = &nn.Graph{Name: "res", InputShape: []int{1, 16, 16}}
	g.Add("c1", conv(2, 3, 1, 1), nn.InputName).Add("c2", conv(2, 3, 1, 1), "c1").Add("sum", &nn.Add{}, "c1", "c2")
	checkRF(t, rfOf(t, g), map[string]float64{"sum": 5})

	// Recurrence unrolled: a lateral 3x3 conv widens the field by 2 per extra step.
	g = &nn.Graph{Name: "rec", InputShape: []int{1, 16, 16}, Steps: 3}
	g.Add("ff", conv(2, 3, 1, 1), nn.InputName).Add("lat", conv(2, 3, 1, 1), "a@prev").Add("a", &nn.Add{}, "ff", "lat")
	checkRF(t, rfOf(t, g), map[string]float64{"ff": 3, "a": 7})
}

func TestTheoreticalRFZoo(t *testing.T) {
	var alex *nn.Graph
	for name, want := range map[string]map[string]float64{
		// LeNet-5 by hand: 5; +1 (pool 2, jump 1); +4*2; +1*2.
		"lenet5": {"conv1": 5, "pool1": 6, "conv2": 14, "pool2": 16, "fc1": 28},
		// AlexNet: 11 (jump 4); +2*4 = 19 (jump 8); +4*8 = 51; +2*8 = 67 (jump 16); +2*16 each.
		"alexnet": {"conv1": 11, "pool1": 19, "conv2": 51, "pool2": 67, "conv3": 99, "conv4": 131, "conv5": 163, "pool5": 195, "avgpool": 195, "fc6": 224},
		// CORnet-Z: 7 (jump 2); +2*2 = 11 (jump 4); +2*4; +2*4 (jump 8); ...
		"cornet-z": {"V1_conv": 7, "V1": 11, "V2_conv": 19, "V2": 27, "V4_conv": 43, "V4": 59, "IT_conv": 91, "IT": 123, "decoder": 224},
	} {
		g, err := models.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		checkRF(t, rfOf(t, g), want)
		if name == "alexnet" {
			alex = g
		}
	}
	g := alex
	rows, err := ReceptiveFields(g, []string{"conv1", "pool5"}, RFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := rows[1].Deg(rows[1].Theoretical); math.Abs(d-195*8.0/224) > 1e-9 {
		t.Errorf("pool5 RF %g degrees, want %g", d, 195*8.0/224)
	}
	if _, err := ReceptiveFields(g, []string{"conv9"}, RFOptions{}); err == nil || !strings.Contains(err.Error(), "conv5") {
		t.Errorf("unknown layer error %v should list the layers", err)
	}
}

func TestEffectiveRF(t *testing.T) {
	g, err := models.Build("cornet-z", models.Options{InputSize: 64, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	before, _ := g.Digest()
	layers := []string{"V1_conv", "V1", "V2", "V4", "IT"}
	rows, err := ReceptiveFields(g, layers, RFOptions{Effective: true, ERF: ERFOptions{N: 8, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		t.Logf("%-8s theoretical %4.0f (clipped %3.0f) effective %4.0f radius %5.1f", r.Layer, r.Theoretical, r.TheoreticalClipped, r.Effective, r.EffRadius)
		if r.Effective <= 0 || r.Effective > r.TheoreticalClipped+1e-9 {
			t.Errorf("%s: effective RF %g not in (0, theoretical %g]", r.Layer, r.Effective, r.TheoreticalClipped)
		}
		if i > 0 && r.Effective < rows[i-1].Effective {
			t.Errorf("%s: effective RF %g shrank from %g", r.Layer, r.Effective, rows[i-1].Effective)
		}
	}
	if rows[len(rows)-1].Effective <= rows[0].Effective {
		t.Errorf("effective RF does not grow with depth")
	}
	if after, _ := g.Digest(); after != before {
		t.Errorf("measuring effective RFs changed the model")
	}
	dir := t.TempDir()
	for _, f := range []string{"rf.png", "rf.svg"} {
		if err := PlotRF(filepath.Join(dir, f), "cornet-z", rows); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestVisualize(t *testing.T) {
	g := &nn.Graph{Name: "tiny", InputShape: []int{3, 24, 24}}
	g.Chain("c1", conv(8, 5, 1, 2)).Chain("r1", nn.ReLU()).Chain("p1", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
		Chain("c2", conv(8, 3, 1, 1)).Chain("r2", nn.ReLU())
	if err := g.Build(7); err != nil {
		t.Fatal(err)
	}
	v, err := Visualize(g, "r2", VisOptions{Channels: []int{0, 1, 2, 3}, Steps: 48, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	noise := tensor.New(16, 3, 24, 24)
	for i := range noise.Data {
		noise.Data[i] = rng.Float32()
	}
	for k, ch := range v.Channels {
		rnd, err := ChannelActivations(g, "r2", ch, noise, false)
		if err != nil {
			t.Fatal(err)
		}
		var m float64
		for _, a := range rnd {
			m += a / float64(len(rnd))
		}
		opt, _ := ChannelActivations(g, "r2", ch, tensorOf(v.Images[k]), false)
		t.Logf("channel %d: optimised %.3f, random images %.3f", ch, opt[0], m)
		if math.Abs(opt[0]-v.Activation[k]) > 1e-4*math.Max(1, opt[0]) {
			t.Errorf("reported activation %g, recomputed %g", v.Activation[k], opt[0])
		}
		if opt[0] <= 0 || opt[0] < 3*m {
			t.Errorf("channel %d: optimised image drives it %g, random images %g", ch, opt[0], m)
		}
	}
	v2, _ := Visualize(g, "r2", VisOptions{Channels: []int{0, 1, 2, 3}, Steps: 48, Seed: 1})
	for i := range v.Images[0].Data {
		if v.Images[0].Data[i] != v2.Images[0].Data[i] {
			t.Fatal("visualisation is not deterministic")
		}
	}
	if err := WriteGrid(filepath.Join(t.TempDir(), "grid.png"), v.Images, 0, 0); err != nil {
		t.Fatal(err)
	}
}

func tensorOf(img *tensor.Tensor) *tensor.Tensor {
	return tensor.FromData(img.Data, append([]int{1}, img.Shape...)...)
}

var (
	trainedOnce sync.Once
	trained     *nn.Graph
	testSet     *datasets.Dataset
	trainedErr  error
)

// loadErr marks a failure to load MNIST as missing data, unless the data is there but corrupt.
func loadErr(err error) error {
	var he *datasets.HashError
	if errors.As(err, &he) {
		return err
	}
	return &dataMissingError{err}
}

// dataMissingError marks a tinyTrained failure to load MNIST (the only one that may skip).
type dataMissingError struct{ err error }

func (e *dataMissingError) Error() string { return "MNIST not available: " + e.err.Error() }
func (e *dataMissingError) Unwrap() error { return e.err }

// tinyTrained trains a small MNIST network for a few seconds (plain SGD).
func tinyTrained(t *testing.T) (*nn.Graph, *datasets.Dataset) {
	t.Helper()
	trainedOnce.Do(func() {
		tr, err := datasets.Load("mnist", "train")
		if err != nil {
			trainedErr = loadErr(err)
			return
		}
		te, err := datasets.Load("mnist", "test")
		if err != nil {
			trainedErr = loadErr(err)
			return
		}
		testSet = train.Subset(te, 1000)
		g := &nn.Graph{Name: "tiny-mnist", InputShape: []int{1, 28, 28}}
		g.Chain("conv1", conv(8, 5, 2, 2)).Chain("relu1", nn.ReLU()).Chain("pool1", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
			Chain("flatten", nn.Flatten{}).Chain("fc", &nn.Dense{Out: 10})
		if trainedErr = g.Build(1); trainedErr != nil {
			return
		}
		const n, bs = 6000, 50
		ctx := nn.NewCtx(true, 1)
		for epoch := 0; epoch < 2; epoch++ {
			for lo := 0; lo < n; lo += bs {
				x := tensor.FromData(append([]float32(nil), tr.X[lo*784:(lo+bs)*784]...), bs, 1, 28, 28)
				trace, err := g.Forward(ctx, x)
				if err != nil {
					trainedErr = err
					return
				}
				_, dl, _, err := nn.SoftmaxCrossEntropy(trace.Output(), tr.Labels[lo:lo+bs])
				if err != nil {
					trainedErr = err
					return
				}
				g.ZeroGrad()
				if trainedErr = trace.Backward(dl); trainedErr != nil {
					return
				}
				for _, p := range g.Params() {
					tensor.Axpy(-0.1, p.Grad.Data, p.Value.Data)
				}
				ctx.Reset()
			}
		}
		g.ZeroGrad()
		trained = g
	})
	checkTrained(t, trainedErr)
	return trained, testSet
}

// checkTrained decides what an error of tinyTrained does to the test.
func checkTrained(t testing.TB, err error) {
	t.Helper()
	var missing *dataMissingError
	switch {
	case err == nil:
	case errors.As(err, &missing) && os.Getenv("CI") == "":
		t.Skipf("%v", err)
	case errors.As(err, &missing):
		t.Fatalf("%v (CI is set: the data must be there)", err)
	default:
		t.Fatalf("training the tiny model: %v", err)
	}
}

// outcomeTB records whether a helper skipped or failed, without stopping the test.
type outcomeTB struct {
	testing.TB
	skipped, failed bool
}

func (o *outcomeTB) Helper()               {}
func (o *outcomeTB) Skipf(string, ...any)  { o.skipped = true }
func (o *outcomeTB) Fatalf(string, ...any) { o.failed = true }
func (o *outcomeTB) Logf(string, ...any)   {}

// TestTinyTrainedSkipsOnlyMissingData checks that only missing MNIST data may skip the tests that
// train the tiny model, and only outside CI: a build, forward or backward error fails them.
func TestTinyTrainedSkipsOnlyMissingData(t *testing.T) {
	missing := &dataMissingError{fmt.Errorf("datasets: mnist/train-images-idx3-ubyte.gz not found")}
	for _, c := range []struct {
		err          error
		ci           string
		skip, failed bool
	}{
		{nil, "", false, false},
		{missing, "", true, false},
		{missing, "1", false, true},
		{fmt.Errorf("conv1: weight shape mismatch"), "", false, true},
		{fmt.Errorf("backward: NaN gradient"), "1", false, true},
	} {
		t.Setenv("CI", c.ci)
		o := &outcomeTB{TB: t}
		checkTrained(o, c.err)
		if o.skipped != c.skip || o.failed != c.failed {
			t.Errorf("error %v, CI=%q: skipped %v failed %v, want skipped %v failed %v", c.err, c.ci, o.skipped, o.failed, c.skip, c.failed)
		}
	}
}

func TestDecode(t *testing.T) {
	g, test := tinyTrained(t)
	acc, _, err := train.Evaluate(g, test, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tiny model test accuracy %.3f", acc)
	ds := train.Subset(test, 600)
	layers := []string{"conv1", "pool1", "fc"}
	o := DecodeOptions{Seed: 1, MaxFeatures: 256, Epochs: 20}
	rows, err := Decode(g, ds, layers, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Logf("%-6s features %5d used %4d accuracy %.3f ± %.3f (chance %.3f)", r.Layer, r.Features, r.Used, r.Accuracy, r.SD, r.Chance)
	}
	out := rows[len(rows)-1]
	for _, r := range rows[:len(rows)-1] {
		if r.Accuracy >= out.Accuracy {
			t.Errorf("layer %s decodes %.3f, not below the output's %.3f", r.Layer, r.Accuracy, out.Accuracy)
		}
	}
	o.ShuffleLabels = true
	ctl, err := Decode(g, ds, []string{"fc"}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shuffled labels: %.3f (chance %.3f)", ctl[0].Accuracy, ctl[0].Chance)
	if ctl[0].Accuracy > ctl[0].Chance+0.08 {
		t.Errorf("shuffled labels decode at %.3f, chance %.3f", ctl[0].Accuracy, ctl[0].Chance)
	}
	if err := PlotDecode(filepath.Join(t.TempDir(), "decode.png"), "tiny", rows); err != nil {
		t.Fatal(err)
	}
}

func TestLesion(t *testing.T) {
	g, test := tinyTrained(t)
	before, _ := g.Digest()
	base, _, err := train.Evaluate(g, test, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := LesionSweep(g, SweepOptions{Layer: "conv1", Fractions: []float64{0, 0.5, 1}, Seed: 1, Data: test})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Logf("fraction %.2f silenced %d/%d accuracy %.3f", r.Fraction, r.Silenced, r.Total, r.Accuracy)
	}
	if rows[0].Accuracy != base || rows[0].Silenced != 0 {
		t.Errorf("0%% lesion: accuracy %g, intact %g", rows[0].Accuracy, base)
	}
	if rows[2].Silenced != 8 || rows[2].Accuracy > 0.2 {
		t.Errorf("100%% lesion: accuracy %g (%d silenced), want chance", rows[2].Accuracy, rows[2].Silenced)
	}
	if after, _ := g.Digest(); after != before {
		t.Error("lesioning changed the model")
	}
	lg, mask, err := Lesion(g, LesionSpec{Layer: "relu1", Fraction: 0.5, Units: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := lg.Digest(); d == before || len(mask.Silenced) != 8*14*14/2 {
		t.Errorf("unit lesion: digest unchanged or %d units silenced", len(mask.Silenced))
	}
	if _, _, err := Lesion(g, LesionSpec{Layer: "nope"}); err == nil || !strings.Contains(err.Error(), "conv1") {
		t.Errorf("unknown layer error %v should list the layers", err)
	}
}

// The ops of imported networks: an explicit pad2d before an unpadded conv, and asymmetric pool
// pads, give the fields of the padded ops; a spatial slice (crop) moves the first unit; channel
// slices, clips and broadcast products leave the field alone; a reshape ends the map.
func TestTheoreticalRFImportedOps(t *testing.T) {
	a := &nn.Graph{Name: "padded", InputShape: []int{2, 16, 16}}
	a.Chain("c", conv(2, 3, 2, 1)).Chain("p", &nn.MaxPool2D{Kernel: nn.Dims{3}, Stride: nn.Dims{2}, Pad: nn.Dims{1}})
	b := &nn.Graph{Name: "explicit", InputShape: []int{2, 16, 16}}
	b.Chain("pad", &nn.Pad2D{Pads: []int{1, 1, 1, 1}}).Chain("c", conv(2, 3, 2, 0)).
		Chain("p", &nn.MaxPool2D{Kernel: nn.Dims{3}, Stride: nn.Dims{2}, Pads: []int{1, 0, 1, 0}}).
		Chain("cl", nn.ReLU6()).Chain("sl", &nn.Slice{Axis: 0, Start: 1}).
		Add("k", &nn.Constant{Shape: []int{1, 1, 1}}, nn.InputName).Add("m", &nn.Binary{Kind: "mul"}, "sl", "k").
		Chain("crop", &nn.Slice{Axis: -1, Start: 1}).Chain("r", &nn.Reshape{Shape: []int{-1}})
	ra, rb := rfOf(t, a), rfOf(t, b)
	for _, l := range []string{"c", "p"} {
		if ra[l].Size != rb[l].Size || ra[l].Jump != rb[l].Jump || ra[l].Start != rb[l].Start {
			t.Errorf("layer %s: explicit padding gives %+v, padded op %+v", l, rb[l], ra[l])
		}
	}
	for _, l := range []string{"cl", "sl", "m"} {
		if rb[l].Size != rb["p"].Size || rb[l].Start != rb["p"].Start || !rb[l].Spatial {
			t.Errorf("layer %s: field %+v, want the pool's %+v", l, rb[l], rb["p"])
		}
	}
	if want := rb["m"].Start[1] + rb["m"].Jump[1]; rb["crop"].Start[1] != want || rb["crop"].Start[0] != rb["m"].Start[0] {
		t.Errorf("crop by one column: start %v, want column start %v", rb["crop"].Start, want)
	}
	if rb["r"].Spatial {
		t.Error("a reshape to a vector is still a spatial map")
	}
}
