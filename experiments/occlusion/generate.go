// Package occlusion reproduces, in kind, the experiment of Spoerer, McClure and Kriegeskorte
// 2017 (Frontiers in Psychology 8:1551): recurrent convolutional networks with lateral (L) and
// top-down (T) connections against bottom-up-only networks (B) on digits that are partly
// hidden. It makes occluded and noisy versions of MNIST digits with a fixed seed, trains the
// B, BL, BT and BLT networks of models.BLT with the same data, epochs, optimizer and seed (loss
// summed over the readouts of all time steps, back-propagated through time), and reports the
// accuracy of each on clean, occluded and noisy test digits as a table, a CSV file and a plot.
//
// # Occluders
//
// Occlude hides a set fraction of a digit's ink (its foreground: pixels at or above
// Occluder.Threshold, 0.25 by default) behind grey shapes of level Occluder.Value (0.5 by
// default: distinct from the black background and the white ink, so the occluder is a visible
// object in front of the digit rather than a deletion). Shapes are discs of radius 1.5 to 3.5
// pixels ("blobs"), horizontal or vertical bars 2 or 3 pixels thick and 6 to 12 long ("bars"),
// or either with equal probability ("mixed", the default), each centred at a uniformly drawn
// point of the digit's bounding box. Shapes are added until the hidden fraction of the ink
// reaches Fraction; a shape that would push it more than Tolerance (0.1) beyond Fraction is
// redrawn (at most 200 draws per image), so the hidden fraction lies in
// [Fraction, Fraction+Tolerance] except for rare digits where no draw fits (then it may fall
// short or overshoot; Coverage reports the mean and range achieved).
//
// Shape "debris" follows Spoerer et al.'s digit-debris task instead: rather than grey shapes,
// fragments of other digits (9x9 crops around ink of other images of the same set) are laid
// over the image (pixel-wise maximum) at uniformly drawn positions until the ink they add
// (background pixels raised to the foreground threshold or above) reaches Fraction of the
// digit's own ink. The debris hides nothing but looks like the digit's own strokes; Coverage
// then reports the added ink as a fraction of the digit's.
//
// # Noise
//
// AddNoise adds independent pixel noise, Gaussian with standard deviation Level or uniform in
// [-Level, Level], to every pixel and clips to [0, 1].
//
// # Determinism
//
// Every image draws from its own PCG stream, seeded with (seed, image index, purpose), so a
// generated set depends only on the seed and the source images, not on the order of work or on
// which other images are generated.
package occlusion

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/datasets"
)

// Occluder configures Occlude. Zero Shape, Threshold and Tolerance take their defaults; Value is
// used as given (DefaultOccluder has 0.5).
type Occluder struct {
	Fraction  float64 // fraction of the digit's foreground to hide, in [0, 1]
	Shape     string  // "mixed" (default), "blobs", "bars" or "debris"
	Value     float32 // grey level of the occluders, in [0, 1]
	Threshold float32 // foreground threshold [0.25]
	Tolerance float64 // allowed overshoot of Fraction [0.1]
}

// DefaultOccluder hides 40% of the ink behind mid-grey blobs and bars.
var DefaultOccluder = Occluder{Fraction: 0.4, Shape: "mixed", Value: 0.5, Threshold: 0.25, Tolerance: 0.1}

func (o Occluder) withDefaults() (Occluder, error) {
	if o.Shape == "" {
		o.Shape = "mixed"
	}
	if o.Threshold == 0 {
		o.Threshold = 0.25
	}
	if o.Tolerance == 0 {
		o.Tolerance = 0.1
	}
	switch {
	case math.IsNaN(o.Fraction) || o.Fraction < 0 || o.Fraction > 1:
		return o, fmt.Errorf("occlusion: fraction %v must be in [0, 1]", o.Fraction)
	case o.Shape != "mixed" && o.Shape != "blobs" && o.Shape != "bars" && o.Shape != "debris":
		return o, fmt.Errorf("occlusion: unknown occluder shape %q (expected mixed, blobs, bars or debris)", o.Shape)
	case o.Value < 0 || o.Value > 1 || o.Value != o.Value:
		return o, fmt.Errorf("occlusion: occluder value %v must be in [0, 1]", o.Value)
	case o.Threshold < 0 || o.Threshold > 1:
		return o, fmt.Errorf("occlusion: foreground threshold %v must be in (0, 1]", o.Threshold)
	case o.Tolerance < 0:
		return o, fmt.Errorf("occlusion: tolerance %v must be positive", o.Tolerance)
	}
	return o, nil
}

// Occlude paints occluders over one h x w image in place and returns the fraction of its
// foreground pixels hidden (0 for an image without foreground, which is left as it is).
func Occlude(img []float32, h, w int, o Occluder, rng *rand.Rand) (float64, error) {
	o, err := o.withDefaults()
	if err != nil {
		return 0, err
	}
	if h <= 0 || w <= 0 || len(img) != h*w {
		return 0, fmt.Errorf("occlusion: image of %d values is not %dx%d", len(img), h, w)
	}
	if o.Shape == "debris" {
		return 0, fmt.Errorf("occlusion: debris needs other digits to cut fragments from; use Occluded, Mixed or AddDebris")
	}
	fg := make([]bool, len(img))
	nfg, r0, r1, c0, c1 := 0, h, -1, w, -1
	for i, v := range img {
		if v >= o.Threshold {
			fg[i] = true
			nfg++
			r, c := i/w, i%w
			r0, r1, c0, c1 = min(r0, r), max(r1, r), min(c0, c), max(c1, c)
		}
	}
	if nfg == 0 || o.Fraction == 0 {
		return 0, nil
	}
	hidden := make([]bool, len(img))
	covered := 0
	var cand []int
	for draw := 0; draw < 200 && float64(covered) < o.Fraction*float64(nfg); draw++ {
		cand = cand[:0]
		cr := float64(r0 + rng.IntN(r1-r0+1))
		cc := float64(c0 + rng.IntN(c1-c0+1))
		blob := o.Shape == "blobs" || (o.Shape == "mixed" && rng.IntN(2) == 0)
		if blob {
			rad := 1.5 + 2*rng.Float64()
			for r := int(cr - rad); r <= int(cr+rad); r++ {
				for c := int(cc - rad); c <= int(cc+rad); c++ {
					if r >= 0 && r < h && c >= 0 && c < w && (float64(r)-cr)*(float64(r)-cr)+(float64(c)-cc)*(float64(c)-cc) <= rad*rad {
						cand = append(cand, r*w+c)
					}
				}
			}
		} else {
			thick, length := 2+rng.IntN(2), 6+rng.IntN(7)
			hh, ww := thick, length
			if rng.IntN(2) == 0 {
				hh, ww = length, thick
			}
			top, left := int(cr)-hh/2, int(cc)-ww/2
			for r := max(top, 0); r < min(top+hh, h); r++ {
				for c := max(left, 0); c < min(left+ww, w); c++ {
					cand = append(cand, r*w+c)
				}
			}
		}
		fresh := 0
		for _, i := range cand {
			if fg[i] && !hidden[i] {
				fresh++
			}
		}
		if fresh == 0 || float64(covered+fresh) > (o.Fraction+o.Tolerance)*float64(nfg) && draw < 199 {
			continue
		}
		for _, i := range cand {
			if fg[i] && !hidden[i] {
				covered++
			}
			hidden[i] = true
			img[i] = o.Value
		}
	}
	return float64(covered) / float64(nfg), nil
}

// DebrisSize is the side of the digit fragments of the debris occluder.
const DebrisSize = 9

// AddDebris lays fragments of other images of src (never image self) over img, an h x w image,
// in place, until the ink they add reaches o.Fraction of img's ink (see the package
// documentation; at most 200 fragments). It returns the ink added as a fraction of img's.
func AddDebris(img []float32, h, w int, src *datasets.Dataset, self int, o Occluder, rng *rand.Rand) (float64, error) {
	o, err := o.withDefaults()
	if err != nil {
		return 0, err
	}
	if len(img) != h*w || src.H != h || src.W != w || src.C != 1 {
		return 0, fmt.Errorf("occlusion: debris for a %dx%d image from %s of [%d %d %d] images", h, w, src.Name, src.C, src.H, src.W)
	}
	if src.N < 2 {
		return 0, fmt.Errorf("occlusion: debris needs another image to cut fragments from; %s has %d", src.Name, src.N)
	}
	k := min(DebrisSize, h, w)
	nfg := 0
	for _, v := range img {
		if v >= o.Threshold {
			nfg++
		}
	}
	if nfg == 0 || o.Fraction == 0 {
		return 0, nil
	}
	added := 0
	for draw := 0; draw < 200 && float64(added) < o.Fraction*float64(nfg); draw++ {
		j := rng.IntN(src.N - 1)
		if j >= self {
			j++
		}
		other := src.Image(j)
		// Centre the crop on an ink pixel of the other digit, so the fragment holds a stroke.
		var ink []int
		for i, v := range other {
			if v >= o.Threshold {
				ink = append(ink, i)
			}
		}
		if len(ink) == 0 {
			continue
		}
		at := ink[rng.IntN(len(ink))]
		sr := min(max(at/w-k/2, 0), h-k)
		sc := min(max(at%w-k/2, 0), w-k)
		dr, dc := rng.IntN(h-k+1), rng.IntN(w-k+1)
		for r := 0; r < k; r++ {
			for c := 0; c < k; c++ {
				v := other[(sr+r)*w+sc+c]
				d := &img[(dr+r)*w+dc+c]
				if v > *d {
					if *d < o.Threshold && v >= o.Threshold {
						added++
					}
					*d = v
				}
			}
		}
	}
	return float64(added) / float64(nfg), nil
}

// occludeImage occludes image i of out (a copy of src) with shapes or debris.
func occludeImage(out, src *datasets.Dataset, i int, o Occluder, seed uint64) (float64, error) {
	rng := imageRand(seed, i, streamOcclude)
	if o.Shape == "debris" {
		return AddDebris(out.Image(i), out.H, out.W, src, i, o, rng)
	}
	return Occlude(out.Image(i), out.H, out.W, o, rng)
}

// Noise configures AddNoise.
type Noise struct {
	Kind  string  // "gaussian" (default) or "uniform"
	Level float64 // standard deviation (gaussian) or half-width (uniform), >= 0
}

// DefaultNoise is Gaussian pixel noise of standard deviation 0.5, clipped to [0, 1].
var DefaultNoise = Noise{Kind: "gaussian", Level: 0.5}

func (n Noise) withDefaults() (Noise, error) {
	if n.Kind == "" {
		n.Kind = "gaussian"
	}
	if n.Kind != "gaussian" && n.Kind != "uniform" {
		return n, fmt.Errorf("occlusion: unknown noise %q (expected gaussian or uniform)", n.Kind)
	}
	if n.Level < 0 || math.IsNaN(n.Level) || math.IsInf(n.Level, 0) {
		return n, fmt.Errorf("occlusion: noise level %v must be a finite number >= 0", n.Level)
	}
	return n, nil
}

// AddNoise adds pixel noise to img in place and clips it to [0, 1].
func AddNoise(img []float32, n Noise, rng *rand.Rand) error {
	n, err := n.withDefaults()
	if err != nil {
		return err
	}
	for i, v := range img {
		var e float64
		if n.Kind == "gaussian" {
			e = rng.NormFloat64() * n.Level
		} else {
			e = (2*rng.Float64() - 1) * n.Level
		}
		img[i] = float32(math.Min(1, math.Max(0, float64(v)+e)))
	}
	return nil
}

// Purposes of the per-image random streams.
const (
	streamOcclude = 0x6f63636c
	streamNoise   = 0x6e6f6973
	streamMix     = 0x6d697865
)

func imageRand(seed uint64, i int, purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^purpose*0x9e3779b97f4a7c15, uint64(i)*0xbf58476d1ce4e5b9+purpose))
}

// Coverage summarises the hidden fractions of an occluded set.
type Coverage struct {
	Mean, Min, Max float64
	Images         int // images with foreground
}

func copySet(ds *datasets.Dataset, suffix string) (*datasets.Dataset, error) {
	if ds == nil || ds.N == 0 {
		return nil, fmt.Errorf("occlusion: empty data set")
	}
	if ds.C != 1 {
		return nil, fmt.Errorf("occlusion: %s has %d channels; the generators take grey images", ds.Name, ds.C)
	}
	out := *ds
	out.Name = ds.Name + "/" + suffix
	out.X = append([]float32(nil), ds.X[:ds.N*ds.ImageSize()]...)
	return &out, nil
}

// Occluded returns a copy of a grey data set with every image occluded (image i draws from
// stream (seed, i)), and the coverage achieved.
func Occluded(ds *datasets.Dataset, o Occluder, seed uint64) (*datasets.Dataset, Coverage, error) {
	out, err := copySet(ds, "occluded")
	if err != nil {
		return nil, Coverage{}, err
	}
	cv := Coverage{Min: 1}
	for i := 0; i < out.N; i++ {
		f, err := occludeImage(out, ds, i, o, seed)
		if err != nil {
			return nil, Coverage{}, err
		}
		if f > 0 || o.Fraction == 0 {
			cv.Images++
			cv.Mean += f
			cv.Min, cv.Max = min(cv.Min, f), max(cv.Max, f)
		}
	}
	if cv.Images > 0 {
		cv.Mean /= float64(cv.Images)
	} else {
		cv.Min = 0
	}
	return out, cv, nil
}

// Noisy returns a copy of a grey data set with pixel noise added to every image.
func Noisy(ds *datasets.Dataset, n Noise, seed uint64) (*datasets.Dataset, error) {
	out, err := copySet(ds, "noisy")
	if err != nil {
		return nil, err
	}
	for i := 0; i < out.N; i++ {
		if err := AddNoise(out.Image(i), n, imageRand(seed, i, streamNoise)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Mixed returns a copy of a grey data set in which each image is, with equal probability drawn
// from stream (seed, i), left clean, occluded or made noisy: the training set of the experiment.
func Mixed(ds *datasets.Dataset, o Occluder, n Noise, seed uint64) (*datasets.Dataset, error) {
	out, err := copySet(ds, "mixed")
	if err != nil {
		return nil, err
	}
	for i := 0; i < out.N; i++ {
		switch imageRand(seed, i, streamMix).IntN(3) {
		case 1:
			if _, err := occludeImage(out, ds, i, o, seed); err != nil {
				return nil, err
			}
		case 2:
			if err := AddNoise(out.Image(i), n, imageRand(seed, i, streamNoise)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
