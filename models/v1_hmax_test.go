package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// grating is a full-field sinusoid of wavelength lam pixels, its modulation along direction th
// (radians, th = 0: vertical bars), phase ph (radians) at the image centre, on mid grey.
func grating(n, size int, lam, th, ph float64) *tensor.Tensor {
	x := tensor.New(n, 1, size, size)
	c := float64(size-1) / 2
	for s := 0; s < n; s++ {
		for i := 0; i < size; i++ {
			for j := 0; j < size; j++ {
				u := (float64(j)-c)*math.Cos(th) + (float64(i)-c)*math.Sin(th)
				x.Data[(s*size+i)*size+j] = float32(0.5 + 0.5*math.Cos(2*math.Pi*u/lam+ph))
			}
		}
	}
	return x
}

func TestGaborV1TuningAndPhaseInvariance(t *testing.T) {
	g, err := Build("gabor-v1", Options{InputSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	const size, scale, orient = 64, 1, 2 // λ = 6 px, θ = 45 degrees
	lam := v1Wavelengths[scale]
	th := math.Pi * orient / 8
	centre := (size/2)*size + size/2
	resp := func(x *tensor.Tensor) (simple, complex []float64) {
		tr, err := g.Forward(nil, x, "simple", "complex")
		if err != nil {
			t.Fatal(err)
		}
		sm, cx := tr.Out("simple"), tr.Out("complex")
		for s := 0; s < x.Shape[0]; s++ {
			// Simple cell: phase 0 of (scale, orientation); complex: the same (scale, orientation).
			simple = append(simple, float64(sm.Data[(s*96+(scale*8+orient)*4)*size*size+centre]))
			complex = append(complex, float64(cx.Data[(s*24+scale*8+orient)*size*size+centre]))
		}
		return
	}
	const phases = 8
	x := tensor.New(phases, 1, size, size)
	for p := 0; p < phases; p++ {
		copy(x.Data[p*size*size:], grating(1, size, lam, th, 2*math.Pi*float64(p)/phases).Data)
	}
	simple, complex := resp(x)
	spread := func(v []float64) (float64, float64) {
		lo, hi, mean := math.Inf(1), math.Inf(-1), 0.0
		for _, a := range v {
			lo, hi, mean = math.Min(lo, a), math.Max(hi, a), mean+a/float64(len(v))
		}
		return (hi - lo) / mean, (hi - lo) / hi
	}
	cVar, _ := spread(complex)
	_, sVar := spread(simple)
	t.Logf("over %d grating phases: complex cell (max-min)/mean %.4f, simple cell (max-min)/max %.3f", phases, cVar, sVar)
	if cVar >= 0.05 {
		t.Errorf("complex cell varies %.3f with phase, want < 5%%", cVar)
	}
	if sVar <= 0.5 {
		t.Errorf("simple cell varies %.3f with phase, want > 50%%", sVar)
	}
	// Orientation tuning: preferred vs orthogonal grating (best phase for the simple cell).
	orth := tensor.New(phases, 1, size, size)
	for p := 0; p < phases; p++ {
		copy(orth.Data[p*size*size:], grating(1, size, lam, th+math.Pi/2, 2*math.Pi*float64(p)/phases).Data)
	}
	so, co := resp(orth)
	maxOf := func(v []float64) float64 {
		m := 0.0
		for _, a := range v {
			m = math.Max(m, a)
		}
		return m
	}
	cr := maxOf(complex) / (maxOf(co) + 1e-12)
	sr := maxOf(simple) / (maxOf(so) + 1e-12)
	t.Logf("preferred / orthogonal orientation: complex %.3g, simple %.3g", cr, sr)
	if cr < 10 || sr < 10 {
		t.Errorf("weak orientation tuning: complex %.3g, simple %.3g (want > 10)", cr, sr)
	}
}

// blobs is a grey image of random oriented bars.
func blobs(rng *rand.Rand, size int) *tensor.Tensor {
	x := tensor.New(1, 1, size, size)
	for i := range x.Data {
		x.Data[i] = 0.5
	}
	for b := 0; b < 30; b++ {
		cx, cy := rng.Float64()*float64(size), rng.Float64()*float64(size)
		th := rng.Float64() * math.Pi
		l, w := 4+rng.Float64()*20, 1+rng.Float64()*4
		v := float32(rng.Float64())
		for i := 0; i < size; i++ {
			for j := 0; j < size; j++ {
				dx, dy := float64(j)-cx, float64(i)-cy
				if math.Abs(dx*math.Cos(th)+dy*math.Sin(th)) < l && math.Abs(-dx*math.Sin(th)+dy*math.Cos(th)) < w {
					x.Data[i*size+j] = v
				}
			}
		}
	}
	return x
}

func TestHMAXShiftTolerance(t *testing.T) {
	const size = 96
	g, err := Build("hmax", Options{InputSize: size})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Nodes {
		if r, ok := n.Op.(*nn.RBF); ok {
			r.Prototypes = 8
		}
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	img := blobs(rand.New(rand.NewPCG(1, 2)), size)
	x := tensor.New(2, 1, size, size)
	copy(x.Data, img.Data)
	for i := 0; i < size; i++ { // shift right by 2 pixels, edge repeated
		for j := 0; j < size; j++ {
			x.Data[size*size+i*size+j] = img.Data[i*size+max(j-2, 0)]
		}
	}
	tr, err := g.Forward(nil, x, "s1", "c1_b1", "c1_b2")
	if err != nil {
		t.Fatal(err)
	}
	half := func(name string) ([]float32, []float32) {
		o := tr.Out(name)
		n := o.Len() / 2
		return o.Data[:n], o.Data[n:]
	}
	// S1 at band 1's two filter sizes (channels 0-7), the units C1 band 1 pools.
	a, b := half("s1")
	fine := 8 * size * size
	s1 := pearson(a[:fine], b[:fine])
	c1 := pearson(half("c1_b1"))
	c2 := pearson(half("c1_b2"))
	t.Logf("correlation with the 2-pixel shifted image: S1 (sizes 7, 9) %.3f, C1 band 1 %.3f, band 2 %.3f", s1, c1, c2)
	if !(1-c1 < (1-s1)/3 && c1 > 0.8) {
		t.Errorf("C1 (%.3f) is not much more shift tolerant than S1 (%.3f)", c1, s1)
	}
}

func TestHMAXPrototypes(t *testing.T) {
	const size = 96
	g, err := Build("hmax", Options{InputSize: size})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	imgs := tensor.New(3, 1, size, size)
	for s := 0; s < 3; s++ {
		copy(imgs.Data[s*size*size:], blobs(rng, size).Data)
	}
	if err := HMAXPrototypes(g, imgs, 6, 11); err != nil {
		t.Fatal(err)
	}
	d1, _ := g.Digest()
	p1 := g.Node("s2_8").Op.(*nn.RBF).PrototypeTensor().Clone()
	if err := HMAXPrototypes(g, imgs, 6, 11); err != nil {
		t.Fatal(err)
	}
	if d2, _ := g.Digest(); d2 != d1 {
		t.Error("same seed gave different prototypes")
	}
	if err := HMAXPrototypes(g, imgs, 6, 12); err != nil {
		t.Fatal(err)
	}
	if p2 := g.Node("s2_8").Op.(*nn.RBF).PrototypeTensor(); tensor.SameShape(p1.Shape, p2.Shape) && string(fmtFloats(p1.Data)) == string(fmtFloats(p2.Data)) {
		t.Error("another seed gave the same prototypes")
	}
	if !tensor.SameShape(g.Node("c2").Shape, []int{4 * 6}) {
		t.Errorf("c2 shape %v, want [24]", g.Node("c2").Shape)
	}
	// Each prototype is a patch of one training image, so some image matches it exactly: the
	// best C2 response of every unit over the images is exp(0) = 1.
	tr, err := g.Forward(nil, imgs)
	if err != nil {
		t.Fatal(err)
	}
	c2 := tr.Output()
	for u := 0; u < 24; u++ {
		best := float32(0)
		for s := 0; s < 3; s++ {
			best = max(best, c2.Data[s*24+u])
		}
		if best < 0.999 {
			t.Errorf("C2 unit %d: best response %v over the training images, want 1", u, best)
		}
	}
	for _, c := range []struct {
		n    int
		want string
	}{{0, "positive"}, {-3, "positive"}, {100000, "only"}} {
		if err := HMAXPrototypes(g, imgs, c.n, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("n = %d: error %v, want one mentioning %q", c.n, err, c.want)
		}
	}
	if err := HMAXPrototypes(g, tensor.New(2, 1, 8, 8), 4, 1); err == nil {
		t.Error("images of the wrong size accepted")
	}
	if _, err := Build("hmax", Options{InputSize: 12}); err == nil {
		t.Error("hmax on 12 px accepted")
	}
}

func fmtFloats(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		u := math.Float32bits(f)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

// HMAX at its published size on a handful of images, timed (the 92-image set takes 23 times as
// long).
func TestHMAXSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	g, _ := Get("hmax")
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 4
	x := tensor.New(n, 1, 160, 160)
	for s := 0; s < n; s++ {
		copy(x.Data[s*160*160:], blobs(rng, 160).Data)
	}
	t0, c0 := time.Now(), cpuTime()
	tr, err := g.Forward(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	el, cpu := time.Since(t0), cpuTime()-c0
	if tr.Output().HasNaN() {
		t.Error("NaN in C2")
	}
	t.Logf("hmax 160 px, 1000 prototypes: %d images in %v wall, %v CPU (%v CPU per image, %d threads)", n, el, cpu, cpu/n, tensor.Threads())
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
