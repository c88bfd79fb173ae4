package stimuli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// MetaKey is the Graph.Meta key under which a model's preprocessing is stored (as JSON).
const MetaKey = "preprocess"

// Preprocess is the fixed recipe that turns a stimulus image ([C H W] in [0,1]) into a model
// input. It belongs to the model (stored in Graph.Meta by ToMeta) so every comparison feeds the
// model exactly as declared. Apply performs, in order:
//
//  1. Visual angle: when VisualDegrees and the stimulus size in degrees are both known, the
//     image is placed at the centre of a canvas VisualDegrees/stimulusDegrees times its size,
//     filled with Background (or centre-cropped when that ratio is below 1), as Brain-Score
//     does: a model that sees 8 degrees shown a 4-degree stimulus gets it at half its width.
//  2. Channels: Grey converts RGB to luminance (0.299 R + 0.587 G + 0.114 B); RGB repeats a
//     grey channel three times.
//  3. Crop: the centre square of side Crop times the shorter side (Crop 0 means 1).
//  4. Resize to Size x Size (0: keep): area averaging (each output pixel is the mean of the
//     source area it covers, exact for fractional overlaps) along an axis that shrinks, and
//     bilinear interpolation with half-pixel centres (PyTorch align_corners=false) along an
//     axis that grows. Both keep a constant image constant.
//  5. Normalise: (x - Mean[c]) / Std[c]; Mean and Std have 1 value or one per channel.
type Preprocess struct {
	Size          int       `json:"size,omitempty"`
	Crop          float64   `json:"crop,omitempty"`
	Grey          bool      `json:"grey,omitempty"`
	RGB           bool      `json:"rgb,omitempty"`
	Mean          []float32 `json:"mean,omitempty"`
	Std           []float32 `json:"std,omitempty"`
	VisualDegrees float64   `json:"visual_degrees,omitempty"`
	// Background is the [0,1] grey level of the canvas around a stimulus smaller than the
	// model's field of view (Brain-Score uses mid grey); nil means 0.5.
	Background *float32 `json:"background,omitempty"`
}

// Validate checks the fields.
func (p Preprocess) Validate() error {
	switch {
	case p.Size < 0:
		return fmt.Errorf("preprocess: size %d is negative", p.Size)
	case p.Crop < 0 || p.Crop > 1 || math.IsNaN(p.Crop):
		return fmt.Errorf("preprocess: crop %v must be in (0,1] (0 means 1)", p.Crop)
	case p.Grey && p.RGB:
		return fmt.Errorf("preprocess: grey and rgb are both set")
	case len(p.Std) > 0 && len(p.Mean) == 0, len(p.Mean) > 0 && len(p.Std) == 0:
		return fmt.Errorf("preprocess: mean and std must be given together")
	case p.VisualDegrees < 0 || math.IsNaN(p.VisualDegrees) || math.IsInf(p.VisualDegrees, 0):
		return fmt.Errorf("preprocess: visual_degrees %v must be positive", p.VisualDegrees)
	}
	for _, s := range p.Std {
		if !(s > 0) {
			return fmt.Errorf("preprocess: std %v must be positive", p.Std)
		}
	}
	return nil
}

// Apply preprocesses one [C H W] image without visual-angle scaling.
func (p Preprocess) Apply(img *tensor.Tensor) (*tensor.Tensor, error) {
	return p.ApplyAt(img, 0)
}

// ApplyAt preprocesses one [C H W] image that was shown at stimulusDegrees of visual angle
// (0: unknown, no scaling). The input is not modified.
func (p Preprocess) ApplyAt(img *tensor.Tensor, stimulusDegrees float64) (*tensor.Tensor, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(img.Shape) != 3 || img.Len() == 0 {
		return nil, fmt.Errorf("preprocess: image shape %v, expected non-empty [C H W]", img.Shape)
	}
	x := img
	if p.VisualDegrees > 0 && stimulusDegrees > 0 && p.VisualDegrees != stimulusDegrees {
		bg := float32(0.5)
		if p.Background != nil {
			bg = *p.Background
		}
		r := p.VisualDegrees / stimulusDegrees
		h := max(1, int(math.Round(float64(x.Shape[1])*r)))
		w := max(1, int(math.Round(float64(x.Shape[2])*r)))
		x = canvas(x, h, w, bg)
	}
	switch c := x.Shape[0]; {
	case p.Grey && c == 3:
		x = toGrey(x)
	case p.Grey && c != 1, p.RGB && c != 1 && c != 3:
		return nil, fmt.Errorf("preprocess: cannot convert %d channels", c)
	case p.RGB && c == 1:
		x = repeat3(x)
	}
	crop := p.Crop
	if crop == 0 {
		crop = 1
	}
	h, w := x.Shape[1], x.Shape[2]
	side := max(1, int(math.Round(float64(min(h, w))*crop)))
	if side != h || side != w {
		x = canvas(x, side, side, 0) // centre crop: the canvas is inside the image
	}
	if p.Size > 0 && (p.Size != x.Shape[1] || p.Size != x.Shape[2]) {
		x = resize(x, p.Size, p.Size)
	}
	if x == img {
		x = img.Clone()
	}
	if len(p.Mean) > 0 {
		c := x.Shape[0]
		if (len(p.Mean) != 1 && len(p.Mean) != c) || len(p.Std) != len(p.Mean) {
			return nil, fmt.Errorf("preprocess: mean %v / std %v for %d channels", p.Mean, p.Std, c)
		}
		plane := x.Shape[1] * x.Shape[2]
		for ch := 0; ch < c; ch++ {
			m, s := p.Mean[0], p.Std[0]
			if len(p.Mean) > 1 {
				m, s = p.Mean[ch], p.Std[ch]
			}
			d := x.Data[ch*plane : (ch+1)*plane]
			for i, v := range d {
				d[i] = (v - m) / s
			}
		}
	}
	return x, nil
}

// OutShape is the per-sample shape Apply produces from an image of c channels (the spatial
// size is known only when Size is set).
func (p Preprocess) OutShape(c int) []int {
	if p.Grey {
		c = 1
	} else if p.RGB {
		c = 3
	}
	return []int{c, p.Size, p.Size}
}

// canvas returns an h x w image with x centred on it (cropped where x is larger), filled with bg.
func canvas(x *tensor.Tensor, h, w int, bg float32) *tensor.Tensor {
	c, ih, iw := x.Shape[0], x.Shape[1], x.Shape[2]
	out := tensor.New(c, h, w)
	if bg != 0 {
		for i := range out.Data {
			out.Data[i] = bg
		}
	}
	oy, ox := (h-ih)/2, (w-iw)/2 // offset of the image in the canvas (negative: crop)
	if h < ih {
		oy = -((ih - h) / 2)
	}
	if w < iw {
		ox = -((iw - w) / 2)
	}
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			sy := y - oy
			if sy < 0 || sy >= ih {
				continue
			}
			for xx := 0; xx < w; xx++ {
				sx := xx - ox
				if sx < 0 || sx >= iw {
					continue
				}
				out.Data[(ch*h+y)*w+xx] = x.Data[(ch*ih+sy)*iw+sx]
			}
		}
	}
	return out
}

func toGrey(x *tensor.Tensor) *tensor.Tensor {
	plane := x.Shape[1] * x.Shape[2]
	out := tensor.New(1, x.Shape[1], x.Shape[2])
	for i := range out.Data {
		out.Data[i] = 0.299*x.Data[i] + 0.587*x.Data[plane+i] + 0.114*x.Data[2*plane+i]
	}
	return out
}

func repeat3(x *tensor.Tensor) *tensor.Tensor {
	plane := x.Len()
	out := tensor.New(3, x.Shape[1], x.Shape[2])
	for k := 0; k < 3; k++ {
		copy(out.Data[k*plane:], x.Data)
	}
	return out
}

// tap is one source index and weight of an output pixel.
type tap struct {
	i int
	w float32
}

// axisWeights gives each of out output positions its source taps along an axis of in pixels:
// area averaging when shrinking, bilinear (half-pixel centres) when growing. Weights sum to 1.
func axisWeights(in, out int) [][]tap {
	res := make([][]tap, out)
	scale := float64(in) / float64(out)
	for j := range res {
		if out <= in {
			lo, hi := float64(j)*scale, float64(j+1)*scale
			for i := int(lo); i < in && float64(i) < hi; i++ {
				ov := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
				if ov > 1e-12 {
					res[j] = append(res[j], tap{i, float32(ov / scale)})
				}
			}
			continue
		}
		src := (float64(j)+0.5)*scale - 0.5
		src = math.Max(0, math.Min(src, float64(in-1)))
		i0 := int(src)
		f := src - float64(i0)
		if i0+1 < in && f > 0 {
			res[j] = []tap{{i0, float32(1 - f)}, {i0 + 1, float32(f)}}
		} else {
			res[j] = []tap{{i0, 1}}
		}
	}
	return res
}

// resize resamples a [C H W] image to [C h w], separably (rows then columns).
func resize(x *tensor.Tensor, h, w int) *tensor.Tensor {
	c, ih, iw := x.Shape[0], x.Shape[1], x.Shape[2]
	wx, wy := axisWeights(iw, w), axisWeights(ih, h)
	tmp := make([]float32, c*ih*w)
	for r := 0; r < c*ih; r++ {
		src := x.Data[r*iw : (r+1)*iw]
		dst := tmp[r*w : (r+1)*w]
		for j, taps := range wx {
			var s float32
			for _, t := range taps {
				s += t.w * src[t.i]
			}
			dst[j] = s
		}
	}
	out := tensor.New(c, h, w)
	for ch := 0; ch < c; ch++ {
		for j, taps := range wy {
			dst := out.Data[(ch*h+j)*w : (ch*h+j+1)*w]
			for _, t := range taps {
				src := tmp[(ch*ih+t.i)*w : (ch*ih+t.i+1)*w]
				for k, v := range src {
					dst[k] += t.w * v
				}
			}
		}
	}
	return out
}

const preprocessVersion = "ventral-preprocess-v1"

// Digest is a sha256 over the recipe (its canonical JSON and a version tag): any changed number
// gives a different digest.
func (p Preprocess) Digest() string {
	b, _ := json.Marshal(p)
	h := sha256.Sum256(append([]byte(preprocessVersion+"\n"), b...))
	return hex.EncodeToString(h[:])
}

// ToMeta stores p in g.Meta[MetaKey] as JSON.
func (p Preprocess) ToMeta(g *nn.Graph) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if g.Meta == nil {
		g.Meta = map[string]string{}
	}
	g.Meta[MetaKey] = string(b)
	return nil
}

// FromMeta reads the preprocessing a model declares in g.Meta[MetaKey]; ok is false when it
// declares none.
func FromMeta(g *nn.Graph) (p Preprocess, ok bool, err error) {
	s, ok := g.Meta[MetaKey]
	if !ok {
		return Preprocess{}, false, nil
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return Preprocess{}, true, fmt.Errorf("model %q: meta %q: %w", g.Name, MetaKey, err)
	}
	if err := p.Validate(); err != nil {
		return Preprocess{}, true, fmt.Errorf("model %q: %w", g.Name, err)
	}
	return p, true, nil
}

// ForModel returns the preprocessing the model declares (stimuli.FromMeta), completed so
// that every stimulus comes out in the model's [C H W] input shape: without a declared size the
// image is resized to the input's (square) side, and without a declared channel conversion
// colour images are turned to luminance for a one-channel model and grey images repeated for a
// three-channel one.
func ForModel(g *nn.Graph) (Preprocess, error) {
	p, _, err := FromMeta(g)
	if err != nil {
		return p, fmt.Errorf("model %q: %w", g.Name, err)
	}
	if len(g.InputShape) != 3 {
		return p, fmt.Errorf("model %q: input %v, expected [C H W] images", g.Name, g.InputShape)
	}
	C, H, W := g.InputShape[0], g.InputShape[1], g.InputShape[2]
	if p.Size == 0 {
		if H != W {
			return p, fmt.Errorf("model %q: input %v is not square; declare its preprocessing (size, crop)", g.Name, g.InputShape)
		}
		p.Size = H
	}
	if !p.Grey && !p.RGB {
		switch C {
		case 1:
			p.Grey = true
		case 3:
			p.RGB = true
		default:
			return p, fmt.Errorf("model %q: cannot feed images to %d input channels", g.Name, C)
		}
	}
	return p, nil
}
