package datasets

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
)

// LoaderConfig configures a Loader.
type LoaderConfig struct {
	Batch    int    // images per batch (required)
	Seed     uint64 // seed of the shuffle and the augmentation
	Shuffle  bool   // reshuffle every epoch (order derived from Seed and the epoch)
	DropLast bool   // drop a last, smaller batch

	// Augmentation, applied in this order on [0,1] values, then normalisation.
	CropPad int  // random crop: pad by CropPad zeros on each side, crop back to HxW (0 = off)
	Flip    bool // random horizontal flip with probability 1/2
	// Per-channel normalisation (x-mean)/std, after augmentation (so crop padding becomes
	// -mean/std, as in the usual pipelines). Nil = off. See Normalization.
	Mean, Std []float32

	Workers  int // goroutines preparing batches (default GOMAXPROCS, at most 4)
	Prefetch int // batches prepared ahead of the consumer (default 2*Workers)
}

// Batch is one batch: X holds N images as NCHW float32, Y their labels (nil for an
// unlabelled dataset), Index the batch number within the epoch and Indices the dataset
// indices of its images. A Batch owns its slices: the loader never reuses them.
type Batch struct {
	Epoch, Index int
	X            []float32
	Y            []int
	Indices      []int
	N, C, H, W   int
}

// Loader makes batches of a Dataset. It is safe for concurrent use; each Epoch call has its
// own producer goroutines.
//
// Determinism: the order of epoch e is a permutation drawn from PCG(Seed, e) (or the dataset
// order when Shuffle is off), and the augmentation of batch b of epoch e is drawn from its own
// PCG stream derived from (Seed, e, b). A batch therefore does not depend on other batches,
// on the number of workers or on scheduling, and a run resumed at epoch e gets exactly the
// batches the uninterrupted run would have seen:
//
//	ld, _ := datasets.NewLoader(ds, datasets.LoaderConfig{Batch: 128, Seed: 1, Shuffle: true, CropPad: 4, Flip: true, Mean: datasets.CIFAR10Mean, Std: datasets.CIFAR10Std})
//	for epoch := startEpoch; epoch < epochs; epoch++ {
//		for b := range ld.Epoch(epoch) {
//			train(b.X, b.Y, b.N)
//		}
//	}
type Loader struct {
	ds  *Dataset
	cfg LoaderConfig
}

// NewLoader checks cfg and returns a Loader.
func NewLoader(ds *Dataset, cfg LoaderConfig) (*Loader, error) {
	if ds == nil || ds.N == 0 {
		return nil, fmt.Errorf("datasets: empty dataset")
	}
	if cfg.Batch <= 0 {
		return nil, fmt.Errorf("datasets: batch size %d", cfg.Batch)
	}
	if cfg.CropPad < 0 {
		return nil, fmt.Errorf("datasets: negative crop padding %d", cfg.CropPad)
	}
	if (cfg.Mean == nil) != (cfg.Std == nil) || (cfg.Mean != nil && (len(cfg.Mean) != ds.C || len(cfg.Std) != ds.C)) {
		return nil, fmt.Errorf("datasets: mean/std need %d values each", ds.C)
	}
	for _, s := range cfg.Std {
		if s <= 0 {
			return nil, fmt.Errorf("datasets: std %v must be positive", cfg.Std)
		}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = min(runtime.GOMAXPROCS(0), 4)
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 2 * cfg.Workers
	}
	if cfg.DropLast && ds.N < cfg.Batch {
		return nil, fmt.Errorf("datasets: %d images make no full batch of %d", ds.N, cfg.Batch)
	}
	return &Loader{ds: ds, cfg: cfg}, nil
}

// NumBatches returns the number of batches per epoch.
func (l *Loader) NumBatches() int {
	if l.cfg.DropLast {
		return l.ds.N / l.cfg.Batch
	}
	return (l.ds.N + l.cfg.Batch - 1) / l.cfg.Batch
}

// splitmix64 scrambles seeds so that nearby (seed, epoch, batch) give unrelated streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Order returns the dataset indices of epoch e in batch order.
func (l *Loader) Order(epoch int) []int {
	if !l.cfg.Shuffle {
		o := make([]int, l.ds.N)
		for i := range o {
			o[i] = i
		}
		return o
	}
	r := rand.New(rand.NewPCG(splitmix64(l.cfg.Seed), splitmix64(uint64(epoch)^0x5348554646)))
	return r.Perm(l.ds.N)
}

// augRand returns the random stream of batch b of epoch e.
func (l *Loader) augRand(epoch, b int) *rand.Rand {
	s1 := splitmix64(l.cfg.Seed ^ 0x41554700)
	s2 := splitmix64(splitmix64(uint64(epoch)) ^ uint64(b))
	return rand.New(rand.NewPCG(s1, s2))
}

// MakeBatch builds batch b of epoch e synchronously, given the epoch's Order.
func (l *Loader) MakeBatch(epoch, b int, order []int) Batch {
	ds := l.ds
	lo := b * l.cfg.Batch
	hi := min(lo+l.cfg.Batch, len(order))
	n := hi - lo
	sz := ds.ImageSize()
	out := Batch{Epoch: epoch, Index: b, X: make([]float32, n*sz), Indices: append([]int(nil), order[lo:hi]...),
		N: n, C: ds.C, H: ds.H, W: ds.W}
	if ds.Labels != nil {
		out.Y = make([]int, n)
	}
	r := l.augRand(epoch, b)
	var tmp []float32
	if l.cfg.CropPad > 0 {
		tmp = make([]float32, sz)
	}
	for i, idx := range out.Indices {
		if out.Y != nil {
			out.Y[i] = ds.Labels[idx]
		}
		dst := out.X[i*sz : (i+1)*sz]
		src := ds.Image(idx)
		// Draw the random numbers in a fixed order whatever the options.
		dx, dy, flip := 0, 0, false
		if l.cfg.CropPad > 0 {
			p := l.cfg.CropPad
			dx, dy = r.IntN(2*p+1)-p, r.IntN(2*p+1)-p
		}
		if l.cfg.Flip {
			flip = r.IntN(2) == 1
		}
		switch {
		case l.cfg.CropPad > 0 && flip:
			Crop(tmp, src, ds.C, ds.H, ds.W, dx, dy)
			FlipH(dst, tmp, ds.C, ds.H, ds.W)
		case l.cfg.CropPad > 0:
			Crop(dst, src, ds.C, ds.H, ds.W, dx, dy)
		case flip:
			FlipH(dst, src, ds.C, ds.H, ds.W)
		default:
			copy(dst, src)
		}
		if l.cfg.Mean != nil {
			Normalize(dst, ds.C, l.cfg.Mean, l.cfg.Std)
		}
	}
	return out
}

// Epoch returns an iterator over the batches of epoch e, in order. Batches are prepared ahead
// by background goroutines (Workers of them, up to Prefetch batches ahead), so loading and
// augmentation overlap the consumer's computation. Breaking out of the loop stops them.
func (l *Loader) Epoch(epoch int) iter.Seq[Batch] {
	return func(yield func(Batch) bool) {
		order := l.Order(epoch)
		nb := l.NumBatches()
		done := make(chan struct{})
		defer close(done)
		// queue carries, in batch order, one result channel per batch.
		queue := make(chan chan Batch, l.cfg.Prefetch)
		sem := make(chan struct{}, l.cfg.Workers)
		go func() {
			defer close(queue)
			for b := 0; b < nb; b++ {
				select {
				case sem <- struct{}{}:
				case <-done:
					return
				}
				res := make(chan Batch, 1)
				go func(b int) {
					res <- l.MakeBatch(epoch, b, order)
					<-sem
				}(b)
				select {
				case queue <- res:
				case <-done:
					return
				}
			}
		}()
		for res := range queue {
			if !yield(<-res) {
				return
			}
		}
	}
}

// Crop writes to dst the CHW image src shifted by (dx, dy): dst(y, x) = src(y+dy, x+dx), zero
// outside src. With |dx|, |dy| <= pad this equals cropping an HxW window from src padded
// with pad zeros on every side.
func Crop(dst, src []float32, c, h, w, dx, dy int) {
	for ch := 0; ch < c; ch++ {
		d := dst[ch*h*w : (ch+1)*h*w]
		s := src[ch*h*w : (ch+1)*h*w]
		for y := 0; y < h; y++ {
			row := d[y*w : (y+1)*w]
			sy := y + dy
			if sy < 0 || sy >= h {
				clear(row)
				continue
			}
			x0, x1 := max(0, -dx), min(w, w-dx) // dst columns with a source
			if x0 >= x1 {
				clear(row)
				continue
			}
			clear(row[:x0])
			copy(row[x0:x1], s[sy*w+x0+dx:sy*w+x1+dx])
			clear(row[x1:])
		}
	}
}

// FlipH writes to dst the CHW image src mirrored left-right. dst and src must not overlap
// unless they are the same slice.
func FlipH(dst, src []float32, c, h, w int) {
	for r := 0; r < c*h; r++ {
		s := src[r*w : (r+1)*w]
		d := dst[r*w : (r+1)*w]
		for i, j := 0, w-1; i <= j; i, j = i+1, j-1 {
			d[i], d[j] = s[j], s[i]
		}
	}
}

// Normalize applies (x-mean[c])/std[c] in place to a CHW image.
func Normalize(x []float32, c int, mean, std []float32) {
	plane := len(x) / c
	for ch := 0; ch < c; ch++ {
		m, inv := mean[ch], 1/std[ch]
		p := x[ch*plane : (ch+1)*plane]
		for i := range p {
			p[i] = (p[i] - m) * inv
		}
	}
}
