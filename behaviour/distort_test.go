package behaviour

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/tensor"
)

func randImage(c, h, w int, seed uint64) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := tensor.New(c, h, w)
	for i := range t.Data {
		t.Data[i] = rng.Float32()
	}
	return t
}

func constImage(c, h, w int, v float32) *tensor.Tensor {
	t := tensor.New(c, h, w)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

func apply(t *testing.T, name string, img *tensor.Tensor, level float64, seed uint64) *tensor.Tensor {
	t.Helper()
	d, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.Apply(img, level, rand.New(rand.NewPCG(seed, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestContrastArithmetic(t *testing.T) {
	img := tensor.FromData([]float32{0, 0.25, 0.5, 1}, 1, 2, 2)
	out := apply(t, "contrast", img, 0.3, 0)
	// 0.3 x + 0.35
	want := []float32{0.35, 0.425, 0.5, 0.65}
	for i := range want {
		if math.Abs(float64(out.Data[i]-want[i])) > 1e-6 {
			t.Fatalf("contrast 0.3: got %v want %v", out.Data, want)
		}
	}
	if img.Data[1] != 0.25 {
		t.Fatal("input modified")
	}
	// Uniform noise of width 0 is the 30% contrast image; noise stays within w (unclipped here).
	n0 := apply(t, "uniform-noise", img, 0, 1)
	for i := range want {
		if math.Abs(float64(n0.Data[i]-want[i])) > 1e-6 {
			t.Fatalf("noise 0: %v", n0.Data)
		}
	}
	big := randImage(3, 16, 16, 1)
	c := Contrast(big, 0.3)
	n := apply(t, "uniform-noise", big, 0.1, 1)
	var moved int
	for i := range n.Data {
		d := n.Data[i] - c.Data[i]
		if math.Abs(float64(d)) > 0.1+1e-6 {
			t.Fatalf("noise %v exceeds width", d)
		}
		if d != 0 {
			moved++
		}
		if i < 256 && math.Abs(float64((n.Data[i]-c.Data[i])-(n.Data[i+256]-c.Data[i+256]))) > 1e-6 {
			t.Fatal("noise differs between channels")
		}
	}
	if moved < len(n.Data)/2 {
		t.Fatal("noise did nothing")
	}
	// Seeded: same seed, same image.
	n2 := apply(t, "uniform-noise", big, 0.1, 1)
	for i := range n.Data {
		if n.Data[i] != n2.Data[i] {
			t.Fatal("not reproducible")
		}
	}
}

func TestFilters(t *testing.T) {
	k := constImage(3, 20, 20, 0.37)
	for _, s := range []float64{0.5, 2, 7, 40} {
		lp := LowPass(k, s)
		hp := HighPass(k, s)
		for i := range lp.Data {
			if math.Abs(float64(lp.Data[i]-0.37)) > 1e-5 || math.Abs(float64(hp.Data[i])) > 1e-5 {
				t.Fatalf("sigma %g: low-pass %v, high-pass %v of a constant", s, lp.Data[i], hp.Data[i])
			}
		}
	}
	// The high-pass distortion of a constant image is uniform mid grey; inf leaves it unfiltered.
	img := randImage(1, 16, 16, 3)
	if out := apply(t, "high-pass", k, 3, 0); math.Abs(float64(out.Data[5]-Grey)) > 1e-5 {
		t.Fatalf("high-pass of constant: %v", out.Data[5])
	}
	if out := apply(t, "high-pass", img, math.Inf(1), 0); out.Data[7] != img.Data[7] {
		t.Fatal("high-pass inf changed the image")
	}
	// Low-pass at one interior pixel against a direct 2-D sum (sigma 1, radius 4).
	lp := LowPass(img, 1)
	var s, z float64
	for dy := -4; dy <= 4; dy++ {
		for dx := -4; dx <= 4; dx++ {
			g := math.Exp(-float64(dx*dx+dy*dy) / 2)
			s += g * float64(img.Data[(8+dy)*16+8+dx])
			z += g
		}
	}
	if math.Abs(s/z-float64(lp.Data[8*16+8])) > 1e-5 {
		t.Fatalf("low-pass %v, direct %v", lp.Data[8*16+8], s/z)
	}
	// Blur levels are in 224-pixel units: sigma 7 on a 32-pixel image is sigma 1.
	small := randImage(1, 32, 32, 4)
	a, b := apply(t, "low-pass", small, 7, 0), LowPass(small, 1)
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			t.Fatal("low-pass level not scaled to 224 pixels")
		}
	}
}

func TestRotation(t *testing.T) {
	img := randImage(3, 9, 9, 5)
	for _, a := range []float64{0, 360} {
		out := apply(t, "rotation", img, a, 0)
		for i := range out.Data {
			if out.Data[i] != img.Data[i] {
				t.Fatalf("rotation by %g is not the identity", a)
			}
		}
	}
	r := img
	for range 4 {
		r = Rotate(r, 90)
	}
	for i := range r.Data {
		if r.Data[i] != img.Data[i] {
			t.Fatal("four 90-degree turns are not the identity")
		}
	}
	// Counter-clockwise: the top-right pixel goes to the top-left.
	r90 := Rotate(img, 90)
	if r90.Data[0] != img.Data[8] {
		t.Fatal("90 degrees is not counter-clockwise")
	}
	// The bilinear path agrees with the exact one near 90 degrees.
	near := Rotate(img, 90.0001)
	for i := range near.Data {
		if math.Abs(float64(near.Data[i]-r90.Data[i])) > 1e-3 {
			t.Fatalf("bilinear rotation at 90.0001 differs at %d: %v vs %v", i, near.Data[i], r90.Data[i])
		}
	}
	// 45 degrees of a constant: constant inside, grey in the far corners.
	k := Rotate(constImage(1, 21, 21, 0.9), 45)
	if math.Abs(float64(k.Data[10*21+10]-0.9)) > 1e-6 || k.Data[0] != Grey {
		t.Fatalf("45 degrees: centre %v corner %v", k.Data[10*21+10], k.Data[0])
	}
}

// dft2 is a direct O(n^2) 2-D DFT, independent of the FFT used by PhaseScramble.
func dft2(x []float32, h, w int) []complex128 {
	out := make([]complex128, h*w)
	for v := range h {
		for u := range w {
			var s complex128
			for y := range h {
				for xx := range w {
					ang := -2 * math.Pi * (float64(v*y)/float64(h) + float64(u*xx)/float64(w))
					s += complex(float64(x[y*w+xx]), 0) * cmplx.Exp(complex(0, ang))
				}
			}
			out[v*w+u] = s
		}
	}
	return out
}

func TestPhaseScramblingKeepsPowerSpectrum(t *testing.T) {
	for _, sz := range [][2]int{{8, 8}, {6, 10}} {
		h, w := sz[0], sz[1]
		img := randImage(2, h, w, 6)
		out := PhaseScramble(img, 120, rand.New(rand.NewPCG(1, 2)))
		for ch := range 2 {
			a := dft2(img.Data[ch*h*w:(ch+1)*h*w], h, w)
			b := dft2(out.Data[ch*h*w:(ch+1)*h*w], h, w)
			var changed bool
			for i := range a {
				pa, pb := cmplx.Abs(a[i]), cmplx.Abs(b[i])
				if math.Abs(pa-pb) > 1e-4*(1+pa) {
					t.Fatalf("%dx%d: amplitude %d changed: %v -> %v", h, w, i, pa, pb)
				}
				if cmplx.Abs(a[i]-b[i]) > 1e-3 {
					changed = true
				}
			}
			if !changed {
				t.Fatal("phases unchanged")
			}
		}
	}
	img := randImage(1, 8, 8, 7)
	same := PhaseScramble(img, 0, rand.New(rand.NewPCG(1, 2)))
	for i := range img.Data {
		if math.Abs(float64(same.Data[i]-img.Data[i])) > 1e-5 {
			t.Fatal("width 0 changed the image")
		}
	}
}

func TestOcclusion(t *testing.T) {
	img := constImage(3, 32, 32, 0.9)
	out := apply(t, "occlusion", img, 0.25, 3)
	var grey int
	for _, v := range out.Data {
		if v == Grey {
			grey++
		}
	}
	if grey != len(out.Data)/4 {
		t.Fatalf("occluded %d of %d values, want a quarter", grey, len(out.Data))
	}
}

func TestLevelRanges(t *testing.T) {
	img := randImage(1, 8, 8, 1)
	for _, c := range []struct {
		name  string
		level float64
	}{{"contrast", 1.5}, {"contrast", -0.1}, {"uniform-noise", 2}, {"low-pass", -1}, {"high-pass", 0},
		{"phase-scrambling", 181}, {"rotation", -10}, {"occlusion", 1.1}, {"low-pass", math.NaN()}} {
		d, _ := Lookup(c.name)
		_, err := d.Apply(img, c.level, nil)
		if err == nil || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s level %g: err %v", c.name, c.level, err)
		}
	}
	if _, err := Lookup("blur"); err == nil || !strings.Contains(err.Error(), "contrast") {
		t.Errorf("unknown distortion: %v", err)
	}
	for _, n := range Distortions() {
		d, _ := Lookup(n)
		for _, l := range d.Levels {
			if err := d.Check(l); err != nil {
				t.Errorf("default level: %v", err)
			}
		}
	}
}
