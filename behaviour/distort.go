package behaviour

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/ventral-lab/ventral/tensor"
)

// ReferenceSize is the image width (pixels) that blur levels refer to: model-vs-human's
// 224-pixel images. A sigma of s is applied as s*W/ReferenceSize on a W-pixel image.
const ReferenceSize = 224

// Grey is the mid-grey level used for contrast reduction, fills and the high-pass offset.
const Grey = 0.5

// Distortion is one parametric image distortion.
type Distortion struct {
	Name string
	// Doc is the definition in one line, with the unit of the level.
	Doc string
	// Min and Max bound the level (inclusive); AllowInf also admits +Inf.
	Min, Max float64
	AllowInf bool
	// Levels are the default levels: model-vs-human's where it has the distortion.
	Levels []float64
	// Stochastic distortions use the random source.
	Stochastic bool
	// Human is the model-vs-human-raw folder with human data for this distortion ("" if none);
	// HumanLevel parses its condition column into a level.
	Human      string
	HumanLevel func(cond string) (float64, error)

	apply func(img *tensor.Tensor, level float64, rng *rand.Rand) *tensor.Tensor
}

// Check returns an error when level is outside the distortion's range.
func (d *Distortion) Check(level float64) error {
	if math.IsNaN(level) {
		return fmt.Errorf("distortion %s: level is NaN", d.Name)
	}
	if math.IsInf(level, 1) && d.AllowInf {
		return nil
	}
	if level < d.Min || level > d.Max {
		r := fmt.Sprintf("[%g, %g]", d.Min, d.Max)
		if d.AllowInf {
			r += " or inf"
		}
		return fmt.Errorf("distortion %s: level %g is outside its range %s (%s)", d.Name, level, r, d.Doc)
	}
	return nil
}

// Apply distorts a CHW image with values in [0,1] and returns a new image; img is unchanged.
// rng drives stochastic distortions (it may be nil for deterministic ones).
func (d *Distortion) Apply(img *tensor.Tensor, level float64, rng *rand.Rand) (*tensor.Tensor, error) {
	if err := d.Check(level); err != nil {
		return nil, err
	}
	if len(img.Shape) != 3 {
		return nil, fmt.Errorf("distortion %s: want a CHW image, got shape %v", d.Name, img.Shape)
	}
	if d.Stochastic && rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	return d.apply(img, level, rng), nil
}

var registry = map[string]*Distortion{}

func init() {
	for _, d := range []*Distortion{
		{Name: "contrast", Doc: "contrast level c in [0,1]: x' = c x + (1-c)/2", Min: 0, Max: 1,
			Levels: []float64{1, 0.5, 0.3, 0.15, 0.1, 0.05, 0.03, 0.01},
			Human:  "contrast", HumanLevel: func(c string) (float64, error) {
				v, err := strconv.ParseFloat(strings.TrimPrefix(c, "c"), 64)
				return v / 100, err
			},
			apply: func(img *tensor.Tensor, c float64, _ *rand.Rand) *tensor.Tensor { return Contrast(img, c) }},
		{Name: "uniform-noise", Doc: "noise width w in [0,1]: contrast 30%, plus uniform noise in [-w,w], clipped", Min: 0, Max: 1,
			Levels: []float64{0, 0.03, 0.05, 0.1, 0.2, 0.35, 0.6, 0.9}, Stochastic: true,
			Human: "uniform-noise", HumanLevel: parseFloat, apply: UniformNoise},
		{Name: "low-pass", Doc: "Gaussian blur, sigma in pixels of a 224-pixel image, >= 0", Min: 0, Max: 224,
			Levels: []float64{0, 1, 3, 5, 7, 10, 15, 40},
			Human:  "low-pass", HumanLevel: parseFloat,
			apply: func(img *tensor.Tensor, s float64, _ *rand.Rand) *tensor.Tensor {
				return LowPass(img, s*float64(img.Shape[2])/ReferenceSize)
			}},
		{Name: "high-pass", Doc: "image minus its Gaussian blur plus 0.5, clipped; sigma in pixels of a 224-pixel image, > 0, inf = unfiltered",
			Min: 0.01, Max: 224, AllowInf: true,
			Levels: []float64{math.Inf(1), 3, 1.5, 1, 0.7, 0.55, 0.45, 0.4},
			Human:  "high-pass", HumanLevel: parseFloat,
			apply: func(img *tensor.Tensor, s float64, _ *rand.Rand) *tensor.Tensor {
				if math.IsInf(s, 1) {
					return img.Clone()
				}
				out := HighPass(img, s*float64(img.Shape[2])/ReferenceSize)
				for i, v := range out.Data {
					out.Data[i] = clip(v + Grey)
				}
				return out
			}},
		{Name: "phase-scrambling", Doc: "Fourier phase noise uniform in [-w,w] degrees, w in [0,180]; amplitudes kept; clipped", Min: 0, Max: 180,
			Levels: []float64{0, 30, 60, 90, 120, 150, 180}, Stochastic: true,
			Human: "phase-scrambling", HumanLevel: parseFloat,
			apply: func(img *tensor.Tensor, w float64, rng *rand.Rand) *tensor.Tensor {
				out := PhaseScramble(img, w, rng)
				for i, v := range out.Data {
					out.Data[i] = clip(v)
				}
				return out
			}},
		{Name: "rotation", Doc: "rotation by an angle in [0,360] degrees, counter-clockwise, bilinear, mid-grey corners", Min: 0, Max: 360,
			Levels: []float64{0, 90, 180, 270},
			Human:  "rotation", HumanLevel: parseFloat,
			apply: func(img *tensor.Tensor, a float64, _ *rand.Rand) *tensor.Tensor { return Rotate(img, a) }},
		{Name: "occlusion", Doc: "fraction f in [0,1] of an 8x8 grid of blocks set to mid grey, seeded", Min: 0, Max: 1,
			Levels: []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}, Stochastic: true, apply: Occlude},
	} {
		registry[d.Name] = d
	}
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }

// Distortions lists the distortion names.
func Distortions() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Lookup returns a distortion by name.
func Lookup(name string) (*Distortion, error) {
	d, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown distortion %q (have %s)", name, strings.Join(Distortions(), ", "))
	}
	return d, nil
}

func clip(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// Greyscale returns the luminance (0.299 R + 0.587 G + 0.114 B) of a 3-channel image, repeated
// in all three channels; other images are copied.
func Greyscale(img *tensor.Tensor) *tensor.Tensor {
	out := img.Clone()
	if img.Shape[0] != 3 {
		return out
	}
	n := img.Shape[1] * img.Shape[2]
	r, g, b := img.Data[:n], img.Data[n:2*n], img.Data[2*n:]
	for i := range n {
		y := 0.299*r[i] + 0.587*g[i] + 0.114*b[i]
		out.Data[i], out.Data[n+i], out.Data[2*n+i] = y, y, y
	}
	return out
}

// Contrast returns c*x + (1-c)/2 (Geirhos et al. 2018; model-vs-human's contrast experiment).
func Contrast(img *tensor.Tensor, c float64) *tensor.Tensor {
	out := img.Clone()
	cc, off := float32(c), float32((1-c)/2)
	for i, v := range out.Data {
		out.Data[i] = cc*v + off
	}
	return out
}

// UniformNoise reduces contrast to 30% and adds noise uniform in [-w,w], one draw per pixel
// shared by the channels, clipping to [0,1] (Geirhos et al. 2018).
func UniformNoise(img *tensor.Tensor, w float64, rng *rand.Rand) *tensor.Tensor {
	out := Contrast(img, 0.3)
	c, n := img.Shape[0], img.Shape[1]*img.Shape[2]
	for i := range n {
		e := float32((2*rng.Float64() - 1) * w)
		for ch := range c {
			out.Data[ch*n+i] = clip(out.Data[ch*n+i] + e)
		}
	}
	return out
}

// gaussKernel is a normalised 1-D Gaussian truncated at 4 sigma.
func gaussKernel(sigma float64) []float64 {
	r := int(math.Ceil(4 * sigma))
	k := make([]float64, 2*r+1)
	var s float64
	for i := range k {
		x := float64(i - r)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	return k
}

// reflect maps an index into [0,n) by mirroring at the borders (d c b a | a b c d | d c b a).
func reflect(i, n int) int {
	p := 2 * n
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - 1 - i
	}
	return i
}

// LowPass blurs each channel with a Gaussian of standard deviation sigma pixels (separable,
// truncated at 4 sigma, reflecting borders, so a constant image stays constant). sigma <= 0
// returns a copy.
func LowPass(img *tensor.Tensor, sigma float64) *tensor.Tensor {
	out := img.Clone()
	if sigma <= 0 {
		return out
	}
	k := gaussKernel(sigma)
	r := len(k) / 2
	c, h, w := img.Shape[0], img.Shape[1], img.Shape[2]
	tmp := make([]float64, h*w)
	for ch := range c {
		src := img.Data[ch*h*w : (ch+1)*h*w]
		for y := range h {
			for x := range w {
				var s float64
				for j, kv := range k {
					s += kv * float64(src[y*w+reflect(x+j-r, w)])
				}
				tmp[y*w+x] = s
			}
		}
		dst := out.Data[ch*h*w : (ch+1)*h*w]
		for y := range h {
			for x := range w {
				var s float64
				for j, kv := range k {
					s += kv * tmp[reflect(y+j-r, h)*w+x]
				}
				dst[y*w+x] = float32(s)
			}
		}
	}
	return out
}

// HighPass returns img - LowPass(img, sigma): zero for a constant image, unclipped.
func HighPass(img *tensor.Tensor, sigma float64) *tensor.Tensor {
	lp := LowPass(img, sigma)
	for i, v := range img.Data {
		lp.Data[i] = v - lp.Data[i]
	}
	return lp
}

// fft2 transforms an h x w complex array in place (forward, or unnormalised inverse).
func fft2(a []complex128, h, w int, inverse bool) {
	fr, fc := fourier.NewCmplxFFT(w), fourier.NewCmplxFFT(h)
	col := make([]complex128, h)
	for y := range h {
		row := a[y*w : (y+1)*w]
		if inverse {
			fr.Sequence(row, row)
		} else {
			fr.Coefficients(row, row)
		}
	}
	for x := range w {
		for y := range h {
			col[y] = a[y*w+x]
		}
		if inverse {
			fc.Sequence(col, col)
		} else {
			fc.Coefficients(col, col)
		}
		for y := range h {
			a[y*w+x] = col[y]
		}
	}
}

// PhaseScramble adds phase noise uniform in [-w,w] degrees to every Fourier component of each
// channel (the same noise for all channels) and keeps the amplitudes. The noise is
// antisymmetric, phi(-u,-v) = -phi(u,v), and zero at self-conjugate frequencies (DC, Nyquist),
// so the result is real, has the same mean and the same power spectrum. It is not clipped.
func PhaseScramble(img *tensor.Tensor, w float64, rng *rand.Rand) *tensor.Tensor {
	c, h, wd := img.Shape[0], img.Shape[1], img.Shape[2]
	n := h * wd
	phi := make([]float64, n)
	for v := range h {
		for u := range wd {
			i := v*wd + u
			j := ((h-v)%h)*wd + (wd-u)%wd
			if j > i {
				phi[i] = (2*rng.Float64() - 1) * w * math.Pi / 180
				phi[j] = -phi[i]
			}
		}
	}
	out := tensor.New(c, h, wd)
	buf := make([]complex128, n)
	for ch := range c {
		for i := range n {
			buf[i] = complex(float64(img.Data[ch*n+i]), 0)
		}
		fft2(buf, h, wd, false)
		for i := range n {
			s, co := math.Sincos(phi[i])
			buf[i] *= complex(co, s)
		}
		fft2(buf, h, wd, true)
		for i := range n {
			out.Data[ch*n+i] = float32(real(buf[i]) / float64(n))
		}
	}
	return out
}

// Rotate turns the image counter-clockwise by deg degrees about its centre. Multiples of 90
// on a square image (and 180 on any image) are exact pixel permutations; other angles sample
// bilinearly and fill what falls outside the source with mid grey.
func Rotate(img *tensor.Tensor, deg float64) *tensor.Tensor {
	c, h, w := img.Shape[0], img.Shape[1], img.Shape[2]
	a := math.Mod(deg, 360)
	if a < 0 {
		a += 360
	}
	out := tensor.New(c, h, w)
	q := int(math.Round(a / 90))
	if math.Abs(a-90*float64(q)) < 1e-9 && (q%2 == 0 || h == w) {
		q %= 4
		for ch := range c {
			src, dst := img.Data[ch*h*w:(ch+1)*h*w], out.Data[ch*h*w:(ch+1)*h*w]
			for y := range h {
				for x := range w {
					var sy, sx int
					switch q {
					case 0:
						sy, sx = y, x
					case 1: // counter-clockwise: output (y,x) comes from (x, w-1-y)
						sy, sx = x, w-1-y
					case 2:
						sy, sx = h-1-y, w-1-x
					case 3:
						sy, sx = h-1-x, y
					}
					dst[y*w+x] = src[sy*w+sx]
				}
			}
		}
		return out
	}
	sin, cos := math.Sincos(a * math.Pi / 180)
	cy, cx := float64(h-1)/2, float64(w-1)/2
	for y := range h {
		for x := range w {
			// Inverse map: rotate the output position clockwise by a (image y axis points down).
			dx, dy := float64(x)-cx, float64(y)-cy
			sx := cos*dx - sin*dy + cx
			sy := sin*dx + cos*dy + cy
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			for ch := range c {
				src := img.Data[ch*h*w : (ch+1)*h*w]
				at := func(yy, xx int) float64 {
					if yy < 0 || yy >= h || xx < 0 || xx >= w {
						return Grey
					}
					return float64(src[yy*w+xx])
				}
				v := (1-fy)*((1-fx)*at(y0, x0)+fx*at(y0, x0+1)) + fy*((1-fx)*at(y0+1, x0)+fx*at(y0+1, x0+1))
				out.Data[ch*h*w+y*w+x] = float32(v)
			}
		}
	}
	return out
}

// OcclusionGrid is the side of the block grid used by Occlude.
const OcclusionGrid = 8

// Occlude cuts the image into an OcclusionGrid x OcclusionGrid grid of blocks and sets a
// random round(f * OcclusionGrid^2) of them, chosen with rng, to mid grey in all channels.
func Occlude(img *tensor.Tensor, f float64, rng *rand.Rand) *tensor.Tensor {
	out := img.Clone()
	c, h, w := img.Shape[0], img.Shape[1], img.Shape[2]
	nb := OcclusionGrid * OcclusionGrid
	k := int(math.Round(f * float64(nb)))
	perm := rng.Perm(nb)
	for _, b := range perm[:k] {
		by, bx := b/OcclusionGrid, b%OcclusionGrid
		y0, y1 := by*h/OcclusionGrid, (by+1)*h/OcclusionGrid
		x0, x1 := bx*w/OcclusionGrid, (bx+1)*w/OcclusionGrid
		for ch := range c {
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					out.Data[ch*h*w+y*w+x] = Grey
				}
			}
		}
	}
	return out
}
