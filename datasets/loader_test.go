package datasets

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func toyDataset(n, c, h, w int) *Dataset {
	ds := &Dataset{Name: "toy", N: n, C: c, H: h, W: w, X: make([]float32, n*c*h*w), Labels: make([]int, n), Classes: []string{"a", "b", "c"}}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range ds.X {
		ds.X[i] = r.Float32()
	}
	for i := range ds.Labels {
		ds.Labels[i] = i % 3
	}
	return ds
}

func collect(t *testing.T, l *Loader, epoch int) []Batch {
	t.Helper()
	var out []Batch
	for b := range l.Epoch(epoch) {
		out = append(out, b)
	}
	if len(out) != l.NumBatches() {
		t.Fatalf("%d batches, want %d", len(out), l.NumBatches())
	}
	return out
}

func sameBatches(a, b []Batch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Index != b[i].Index || !equalF32(a[i].X, b[i].X) || !slices.Equal(a[i].Y, b[i].Y) {
			return false
		}
	}
	return true
}

func TestLoaderDeterminism(t *testing.T) {
	ds := toyDataset(103, 3, 8, 8)
	cfg := LoaderConfig{Batch: 10, Seed: 7, Shuffle: true, CropPad: 2, Flip: true, Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	l1, _ := NewLoader(ds, cfg)
	cfg1 := cfg
	cfg1.Workers, cfg1.Prefetch = 1, 1
	l2, _ := NewLoader(ds, cfg1)
	a := collect(t, l1, 3)
	if !sameBatches(a, collect(t, l2, 3)) {
		t.Fatal("same seed, different batches (worker count must not matter)")
	}
	// Resuming at epoch 3 directly gives the same batches as going through epochs 0..3.
	for e := range 3 {
		collect(t, l1, e)
	}
	if !sameBatches(a, collect(t, l1, 3)) {
		t.Fatal("epoch 3 depends on history")
	}
	if sameBatches(a, collect(t, l1, 4)) {
		t.Fatal("epochs 3 and 4 are equal")
	}
	cfg.Seed = 8
	l3, _ := NewLoader(ds, cfg)
	if sameBatches(a, collect(t, l3, 3)) {
		t.Fatal("different seeds, same batches")
	}
	// Each epoch is a permutation; the last batch is partial without DropLast.
	var idx []int
	for _, b := range a {
		idx = append(idx, b.Indices...)
	}
	slices.Sort(idx)
	for i, v := range idx {
		if v != i {
			t.Fatal("epoch is not a permutation")
		}
	}
	if last := a[len(a)-1]; last.N != 3 || len(last.X) != 3*192 {
		t.Fatalf("last batch N=%d", last.N)
	}
	cfg.DropLast = true
	l4, _ := NewLoader(ds, cfg)
	if l4.NumBatches() != 10 || len(collect(t, l4, 0)) != 10 {
		t.Fatal("DropLast")
	}
	// Without shuffle the order is the dataset order; labels follow images.
	l5, _ := NewLoader(ds, LoaderConfig{Batch: 50})
	b := collect(t, l5, 9)
	if b[0].Indices[7] != 7 || b[1].Y[0] != 50%3 || !equalF32(b[1].X[:192], ds.Image(50)) {
		t.Fatal("unshuffled batch")
	}
	// Breaking out early stops the producer without hanging.
	for range l1.Epoch(0) {
		break
	}
	if _, err := NewLoader(ds, LoaderConfig{Batch: 4, Mean: []float32{1}, Std: []float32{1}}); err == nil {
		t.Error("accepted 1-channel mean for 3 channels")
	}
}

func TestAugmentation(t *testing.T) {
	const c, h, w = 2, 5, 7
	ds := toyDataset(1, c, h, w)
	src := ds.Image(0)
	tmp, back := make([]float32, len(src)), make([]float32, len(src))
	FlipH(tmp, src, c, h, w)
	FlipH(back, tmp, c, h, w)
	if !equalF32(back, src) || equalF32(tmp, src) || tmp[0] != src[w-1] {
		t.Fatal("flip twice is not the identity")
	}
	Crop(tmp, src, c, h, w, 0, 0)
	if !equalF32(tmp, src) {
		t.Fatal("zero crop offset is not the identity")
	}
	Crop(tmp, src, c, h, w, 2, -1)
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				want := float32(0)
				if sy, sx := y-1, x+2; sy >= 0 && sy < h && sx < w {
					want = src[ch*h*w+sy*w+sx]
				}
				if got := tmp[ch*h*w+y*w+x]; got != want {
					t.Fatalf("crop (%d,%d,%d) = %v, want %v", ch, y, x, got, want)
				}
			}
		}
	}
	Crop(tmp, src, c, h, w, w, 0)
	for _, v := range tmp {
		if v != 0 {
			t.Fatal("crop beyond the image is not zero")
		}
	}
	// Loader crops stay within the padding: recover each offset by matching.
	const pad = 2
	l, _ := NewLoader(ds, LoaderConfig{Batch: 1, Seed: 3, CropPad: pad})
	seen := map[[2]int]bool{}
	for e := range 60 {
		got := collect(t, l, e)[0].X
		found := false
		for dy := -pad; dy <= pad && !found; dy++ {
			for dx := -pad; dx <= pad && !found; dx++ {
				Crop(tmp, src, c, h, w, dx, dy)
				if equalF32(tmp, got) {
					found = true
					seen[[2]int{dx, dy}] = true
				}
			}
		}
		if !found {
			t.Fatalf("epoch %d: crop is not a shift within the padding", e)
		}
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct offsets in 60 epochs", len(seen))
	}
	// Flip only: about half flipped.
	lf, _ := NewLoader(ds, LoaderConfig{Batch: 1, Seed: 3, Flip: true})
	FlipH(tmp, src, c, h, w)
	flips := 0
	for e := range 100 {
		x := collect(t, lf, e)[0].X
		switch {
		case equalF32(x, tmp):
			flips++
		case !equalF32(x, src):
			t.Fatal("flip produced something else")
		}
	}
	if flips < 30 || flips > 70 {
		t.Errorf("%d flips in 100", flips)
	}
	// Normalisation.
	ln, _ := NewLoader(ds, LoaderConfig{Batch: 1, Mean: []float32{0.5, 0.25}, Std: []float32{0.5, 2}})
	x := collect(t, ln, 0)[0].X
	if x[0] != (src[0]-0.5)/0.5 || x[h*w] != (src[h*w]-0.25)/2 {
		t.Error("normalisation")
	}
}

// TestLoaderThroughput reports batches per second on CIFAR-sized images with augmentation.
func TestLoaderThroughput(t *testing.T) {
	ds := toyDataset(5000, 3, 32, 32)
	l, _ := NewLoader(ds, LoaderConfig{Batch: 128, Seed: 1, Shuffle: true, CropPad: 4, Flip: true, Mean: CIFAR10Mean, Std: CIFAR10Std})
	start := time.Now()
	n := 0
	for b := range l.Epoch(0) {
		n += b.N
	}
	d := time.Since(start)
	t.Logf("loader with crop+flip+normalise: %d images in %v (%.0f images/s)", n, d, float64(n)/d.Seconds())
}
