package occlusion

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
)

// strokes makes n 28x28 digit-like images: a thick ring or a thick diagonal bar, jittered.
func strokes(n int) *datasets.Dataset {
	ds := &datasets.Dataset{Name: "strokes", N: n, C: 1, H: 28, W: 28, X: make([]float32, n*28*28), Labels: make([]int, n)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		img := ds.Image(i)
		cx, cy := 14+rng.Float64()*4-2, 14+rng.Float64()*4-2
		ds.Labels[i] = i % 2
		for r := 0; r < 28; r++ {
			for c := 0; c < 28; c++ {
				dx, dy := float64(c)-cx, float64(r)-cy
				var on bool
				if i%2 == 0 {
					d := math.Hypot(dx, dy)
					on = d > 5 && d < 8
				} else {
					on = math.Abs(dx-dy) < 2.5 && math.Abs(dx) < 9
				}
				if on {
					img[r*28+c] = 0.6 + 0.4*float32(rng.Float64())
				}
			}
		}
	}
	return ds
}

func TestOccluderDeterministicAndCoverage(t *testing.T) {
	ds := strokes(200)
	for _, shape := range []string{"mixed", "blobs", "bars"} {
		for _, frac := range []float64{0.2, 0.5} {
			o := Occluder{Fraction: frac, Shape: shape, Value: 0.5}
			a, cov, err := Occluded(ds, o, 11)
			if err != nil {
				t.Fatal(err)
			}
			b, _, _ := Occluded(ds, o, 11)
			c, _, _ := Occluded(ds, o, 12)
			if !slices.Equal(a.X, b.X) {
				t.Fatalf("%s %.1f: same seed, different images", shape, frac)
			}
			if slices.Equal(a.X, c.X) {
				t.Fatalf("%s %.1f: different seeds, same images", shape, frac)
			}
			if !slices.Equal(ds.X, strokes(200).X) {
				t.Fatal("the source images were modified")
			}
			// Each image's hidden fraction of ink, measured independently of Occlude's count.
			inRange := 0
			for i := 0; i < ds.N; i++ {
				src, dst := ds.Image(i), a.Image(i)
				fg, hidden := 0, 0
				for j, v := range src {
					if v >= 0.25 {
						fg++
						if dst[j] != v {
							hidden++
						}
					}
				}
				f := float64(hidden) / float64(fg)
				if f >= frac && f <= frac+0.1+1e-9 {
					inRange++
				}
			}
			if inRange < ds.N*95/100 {
				t.Errorf("%s %.1f: only %d of %d images have the hidden fraction in [%.2f, %.2f]", shape, frac, inRange, ds.N, frac, frac+0.1)
			}
			if cov.Mean < frac || cov.Mean > frac+0.1 || cov.Images != ds.N {
				t.Errorf("%s %.1f: coverage %+v", shape, frac, cov)
			}
		}
	}
	// A blank image stays blank; fraction 0 changes nothing.
	blank := make([]float32, 28*28)
	if f, err := Occlude(blank, 28, 28, DefaultOccluder, rand.New(rand.NewPCG(1, 1))); f != 0 || err != nil || slices.Max(blank) != 0 {
		t.Errorf("blank image: %v %v", f, err)
	}
	z, _, _ := Occluded(ds, Occluder{Fraction: 0, Value: 0.5}, 1)
	if !slices.Equal(z.X, ds.X) {
		t.Error("fraction 0 changed the images")
	}
}

func TestNoise(t *testing.T) {
	ds := strokes(4)
	for i := range ds.X {
		ds.X[i] = 0.5
	}
	for _, n := range []Noise{{Kind: "gaussian", Level: 0.1}, {Kind: "uniform", Level: 0.2}} {
		a, err := Noisy(ds, n, 3)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Noisy(ds, n, 3)
		if !slices.Equal(a.X, b.X) {
			t.Fatalf("%s: not deterministic", n.Kind)
		}
		var s, s2 float64
		for _, v := range a.X {
			e := float64(v) - 0.5
			s += e
			s2 += e * e
			if n.Kind == "uniform" && math.Abs(e) > n.Level+1e-6 {
				t.Fatalf("uniform noise %v beyond %v", e, n.Level)
			}
		}
		m := float64(len(a.X))
		std := math.Sqrt(s2/m - (s/m)*(s/m))
		want := n.Level
		if n.Kind == "uniform" {
			want = n.Level / math.Sqrt(3)
		}
		if math.Abs(std-want) > 0.1*want || math.Abs(s/m) > 0.01 {
			t.Errorf("%s level %v: mean %.4f std %.4f, want 0 and %.4f", n.Kind, n.Level, s/m, std, want)
		}
	}
	big, _ := Noisy(ds, Noise{Level: 5}, 1)
	if slices.Min(big.X) < 0 || slices.Max(big.X) > 1 {
		t.Error("noise not clipped to [0,1]")
	}
}

func TestBadSettings(t *testing.T) {
	ds := strokes(2)
	for _, o := range []Occluder{{Fraction: 1.5}, {Fraction: -0.1}, {Fraction: 0.3, Shape: "stars"}, {Fraction: 0.3, Value: 2}} {
		if _, _, err := Occluded(ds, o, 1); err == nil {
			t.Errorf("occluder %+v accepted", o)
		}
	}
	for _, n := range []Noise{{Kind: "pink", Level: 0.1}, {Level: -1}, {Level: math.NaN()}} {
		if _, err := Noisy(ds, n, 1); err == nil {
			t.Errorf("noise %+v accepted", n)
		}
	}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Steps = 0 }, "time steps must be positive"},
		{func(c *Config) { c.TrainN = -5 }, "training images must be positive"},
		{func(c *Config) { c.Channels = -1 }, "channels must be positive"},
		{func(c *Config) { c.Variants = []string{"b", "xyz"} }, "unknown variant"},
		{func(c *Config) { c.Variants = nil }, "no variants"},
		{func(c *Config) { c.Steps = 1 }, "at least 2 time steps"},
		{func(c *Config) { c.LR = 0 }, "learning rate"},
		{func(c *Config) { c.TrainOn = "debris" }, "train-on"},
		{func(c *Config) { c.Occluder.Fraction = 2 }, "fraction"},
	} {
		cfg := Defaults()
		cfg.Train, cfg.Test = ds, ds
		c.edit(&cfg)
		if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", err, c.want)
		}
	}
}

// The whole experiment on a tiny subset of MNIST: every variant trained and tested in every
// condition, the table, CSV and plot written.
func TestExperimentEndToEnd(t *testing.T) {
	train, err := datasets.Load("mnist", "train")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	test, err := datasets.Load("mnist", "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.Train, cfg.Test = train, test
	cfg.TrainN, cfg.TestN, cfg.Epochs, cfg.Channels, cfg.Batch = 96, 40, 1, 4, 16
	var log bytes.Buffer
	cfg.Log = &log
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 4*len(Conditions) {
		t.Fatalf("%d rows", len(res.Rows))
	}
	for _, r := range res.Rows {
		if r.N != 40 || len(r.PerStep) != 4 || r.Accuracy < 0 || r.Accuracy > 1 || r.Params <= 0 {
			t.Errorf("row %+v", r)
		}
	}
	if b, blt := res.Get("b", "clean"), res.Get("blt", "clean"); b.Channels <= blt.Channels {
		t.Errorf("B has %d channels, BLT %d: B is not widened", b.Channels, blt.Channels)
	}
	var table bytes.Buffer
	res.WriteTable(&table)
	for _, want := range []string{"BLT", "occluded", "noisy"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if s := res.Settings(); !strings.Contains(s, "first 96") || !strings.Contains(s, "1 epochs") {
		t.Errorf("settings: %s", s)
	}
	dir := t.TempDir()
	csvPath, pngPath := filepath.Join(dir, "accuracy.csv"), filepath.Join(dir, "accuracy.png")
	if err := res.WriteCSV(csvPath); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(csvPath)
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != 13 || recs[0][0] != "seed" || recs[0][7] != "accuracy" || recs[0][11] != "accuracy_t4" {
		t.Errorf("csv: %v %v", recs, err)
	}
	if err := res.Plot(pngPath); err != nil {
		t.Fatal(err)
	}
	pf, _ := os.Open(pngPath)
	defer pf.Close()
	if _, err := png.Decode(pf); err != nil {
		t.Errorf("plot: %v", err)
	}

	// Several seeds: every seed's rows, tables of means, and a summary counting seeds.
	cfg.Variants, cfg.Seeds = []string{"b", "bl"}, []uint64{1, 2}
	multi, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(multi.Rows) != 2*2*len(Conditions) {
		t.Fatalf("%d rows for 2 seeds x 2 variants", len(multi.Rows))
	}
	// Seed 1 reproduces the single-seed run.
	if a, b := multi.Get("b", "occluded").Accuracy, res.Get("b", "occluded").Accuracy; a != b {
		t.Errorf("seed 1 of two: B occluded %v, alone %v", a, b)
	}
	st, ok := multi.Stat("bl", "noisy")
	var sum float64
	var n int
	for _, r := range multi.Rows {
		if r.Variant == "bl" && r.Condition == "noisy" {
			sum += r.Accuracy
			n++
		}
	}
	if !ok || len(st.Values) != 2 || n != 2 || math.Abs(st.Mean-sum/2) > 1e-12 {
		t.Errorf("stat %+v, rows sum %v over %d", st, sum, n)
	}
	table.Reset()
	multi.WriteTable(&table)
	if !strings.Contains(table.String(), "±") || !strings.Contains(multi.Summary(), "of 2 seeds") || !strings.Contains(multi.Settings(), "seeds 1,2") {
		t.Errorf("multi-seed table:\n%s\n%s\n%s", table.String(), multi.Summary(), multi.Settings())
	}
	cfg.Seeds = []uint64{3, 3}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "seed 3 listed twice") {
		t.Errorf("repeated seed: %v", err)
	}
}

// Debris adds ink cut from other digits and never removes the digit's own: every pixel is the
// maximum of the source pixel and some other image's pixel, and the added ink, counted here
// independently, reaches the fraction asked for.
func TestDebris(t *testing.T) {
	ds := strokes(100)
	o := Occluder{Fraction: 0.5, Shape: "debris"}
	a, cov, err := Occluded(ds, o, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := Occluded(ds, o, 5)
	if !slices.Equal(a.X, b.X) || !slices.Equal(ds.X, strokes(100).X) {
		t.Fatal("debris is not deterministic, or changed the source")
	}
	reached := 0
	for i := 0; i < ds.N; i++ {
		src, dst := ds.Image(i), a.Image(i)
		ink, added := 0, 0
		for j, v := range src {
			if dst[j] < v {
				t.Fatalf("image %d pixel %d: debris lowered %v to %v", i, j, v, dst[j])
			}
			if v >= 0.25 {
				ink++
			} else if dst[j] >= 0.25 {
				added++
			}
			if dst[j] != v {
				found := false
				for k := 0; k < ds.N && !found; k++ {
					if k != i {
						found = slices.Contains(ds.Image(k), dst[j])
					}
				}
				if !found {
					t.Fatalf("image %d pixel %d: value %v comes from no other image", i, j, dst[j])
				}
			}
		}
		if ink > 0 && float64(added) >= 0.5*float64(ink) {
			reached++
		}
	}
	if reached < ds.N*9/10 || cov.Mean < 0.5 {
		t.Errorf("debris reached the fraction in %d of %d images; mean %.3f", reached, ds.N, cov.Mean)
	}
	if _, err := Occlude(make([]float32, 784), 28, 28, o, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("Occlude with debris and no source: no error")
	}
	one := strokes(1)
	if _, _, err := Occluded(one, o, 1); err == nil {
		t.Error("debris from a one-image set: no error")
	}
}
