package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

// Dataset is a labelled image set: float32 CHW images in [0,1] and integer labels.
type Dataset interface {
	// Len is the number of samples.
	Len() int
	// SampleShape is the per-sample image shape, e.g. [1 28 28].
	SampleShape() []int
	// Sample copies image i into dst (len = product of SampleShape) and returns its label.
	Sample(i int, dst []float32) int
}

// Memory is an in-memory Dataset.
type Memory struct {
	Name    string
	Shape   []int     // per sample
	X       []float32 // Len()*prod(Shape) values
	Y       []int
	Classes []string
}

// NewMemory checks sizes and returns an in-memory dataset.
func NewMemory(name string, shape []int, x []float32, y []int, classes []string) (*Memory, error) {
	per := tensor.Numel(shape)
	if per == 0 || len(x) != per*len(y) {
		return nil, fmt.Errorf("dataset %s: %d values for %d samples of shape %v", name, len(x), len(y), shape)
	}
	return &Memory{Name: name, Shape: append([]int(nil), shape...), X: x, Y: y, Classes: classes}, nil
}

func (m *Memory) Len() int           { return len(m.Y) }
func (m *Memory) SampleShape() []int { return m.Shape }
func (m *Memory) Sample(i int, dst []float32) int {
	per := tensor.Numel(m.Shape)
	copy(dst, m.X[i*per:(i+1)*per])
	return m.Y[i]
}

// Subset is the first N samples of a dataset (all when N <= 0 or N >= its length).
func Subset(ds Dataset, n int) Dataset {
	if n <= 0 || n >= ds.Len() {
		return ds
	}
	return subset{ds, n}
}

type subset struct {
	Dataset
	n int
}

func (s subset) Len() int { return s.n }

// Augment configures training-time augmentation (never applied in Evaluate).
type Augment struct {
	// Flip mirrors each image left-right with probability 1/2.
	Flip bool `json:"flip,omitempty"`
	// Crop > 0 pads each image by Crop pixels of zeros and takes a random crop of the original
	// size (the CIFAR recipe uses 4).
	Crop int `json:"crop,omitempty"`
}

func (a Augment) any() bool { return a.Flip || a.Crop > 0 }

// mix derives a stream seed from a seed and two counters (splitmix64 finaliser).
func mix(seed uint64, a, b int) uint64 {
	z := seed ^ uint64(a)*0x9e3779b97f4a7c15 ^ uint64(b)*0xbf58476d1ce4e5b9
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// loader yields shuffled batches; the order of epoch e depends only on (seed, e), and the
// augmentation of a batch only on (seed, e, step), so a run resumed at an epoch boundary sees
// exactly the batches of an uninterrupted one.
type loader struct {
	ds      Dataset
	batch   int
	seed    uint64
	aug     Augment
	shape   []int
	perm    []int
	x       *tensor.Tensor
	labels  []int
	scratch []float32
}

func newLoader(ds Dataset, batch int, seed uint64, aug Augment) *loader {
	return &loader{ds: ds, batch: batch, seed: seed, aug: aug, shape: ds.SampleShape()}
}

func (l *loader) stepsPerEpoch() int { return (l.ds.Len() + l.batch - 1) / l.batch }

func (l *loader) startEpoch(epoch int) {
	n := l.ds.Len()
	if len(l.perm) != n {
		l.perm = make([]int, n)
	}
	for i := range l.perm {
		l.perm[i] = i
	}
	r := rand.New(rand.NewPCG(mix(l.seed, epoch, -1), 0x5851f42d4c957f2d))
	r.Shuffle(n, func(i, j int) { l.perm[i], l.perm[j] = l.perm[j], l.perm[i] })
}

// get fills the batch for step (0-based within the epoch). The returned tensor and labels are
// reused by the next call.
func (l *loader) get(epoch, step int) (*tensor.Tensor, []int) {
	lo := step * l.batch
	hi := min(lo+l.batch, len(l.perm))
	n := hi - lo
	per := tensor.Numel(l.shape)
	if l.x == nil || l.x.Shape[0] != n {
		l.x = tensor.New(append([]int{n}, l.shape...)...)
		l.labels = make([]int, n)
	}
	var r *rand.Rand
	if l.aug.any() {
		r = rand.New(rand.NewPCG(mix(l.seed, epoch, step), 0x2545f4914f6cdd1d))
		if len(l.scratch) != per {
			l.scratch = make([]float32, per)
		}
	}
	for i := 0; i < n; i++ {
		dst := l.x.Data[i*per : (i+1)*per]
		if r == nil {
			l.labels[i] = l.ds.Sample(l.perm[lo+i], dst)
			continue
		}
		l.labels[i] = l.ds.Sample(l.perm[lo+i], l.scratch)
		l.augment(r, l.scratch, dst)
	}
	return l.x, l.labels
}

// augment writes src transformed into dst (both CHW, or any shape whose last two axes are
// H and W).
func (l *loader) augment(r *rand.Rand, src, dst []float32) {
	h, w := 1, len(src)
	if len(l.shape) >= 2 {
		h, w = l.shape[len(l.shape)-2], l.shape[len(l.shape)-1]
	}
	planes := len(src) / (h * w)
	dy, dx := 0, 0
	if p := l.aug.Crop; p > 0 {
		dy, dx = r.IntN(2*p+1)-p, r.IntN(2*p+1)-p
	}
	flip := l.aug.Flip && r.IntN(2) == 1
	for c := 0; c < planes; c++ {
		s := src[c*h*w : (c+1)*h*w]
		d := dst[c*h*w : (c+1)*h*w]
		for y := 0; y < h; y++ {
			sy := y + dy
			for x := 0; x < w; x++ {
				xx := x
				if flip {
					xx = w - 1 - x
				}
				sx := xx + dx
				if sy < 0 || sy >= h || sx < 0 || sx >= w {
					d[y*w+x] = 0
				} else {
					d[y*w+x] = s[sy*w+sx]
				}
			}
		}
	}
}
