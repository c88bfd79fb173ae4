package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// EffectiveRF is the part of the theoretical field that actually drives a unit (Luo, Li,
// Urtasun and Zemel 2016, "Understanding the effective receptive field in deep convolutional
// neural networks", NIPS 29): the gradient of the centre unit's response with respect to the
// input, its absolute value summed over input channels and averaged over images, and the
// smallest window around the unit's centre holding a given fraction of that gradient mass.
type EffectiveRF struct {
	Layer string
	// Side is the side in pixels of the smallest square centred on the unit that holds Mass of
	// the gradient mass; Radius is the radius in pixels of the smallest such disc.
	Side, Radius float64
	// Centre is the input coordinate (row, column) the windows are centred on: the centre of
	// the unit's theoretical window, or of the image for layers without a spatial layout.
	Centre [2]float64
	// Map is the mean absolute gradient per input pixel, H x W row-major.
	Map  []float64
	H, W int
}

// ERFOptions control EffectiveRFs.
type ERFOptions struct {
	// Images are model inputs [N C H W], already preprocessed. Nil draws N images of Gaussian
	// noise (mean 0, sd 1, the scale of normalised inputs) from Seed.
	Images *tensor.Tensor
	N      int     // random images when Images is nil (default 16)
	Seed   uint64  // drives the random images
	Mass   float64 // fraction of the gradient mass inside the window (default 0.95)
	Batch  int     // images per pass (default 8)
}

// Validate reports options that mean nothing: a mass outside (0, 1] (0 takes the default) or a
// negative image count or batch. They used to be replaced by the defaults silently.
func (o ERFOptions) Validate() error {
	if o.Mass < 0 || o.Mass > 1 || math.IsNaN(o.Mass) {
		return fmt.Errorf("effective receptive fields: mass %g: expected a fraction of the gradient mass in (0, 1]", o.Mass)
	}
	if o.N < 0 || o.Batch < 0 {
		return fmt.Errorf("effective receptive fields: images %d, batch %d: expected counts, 0 or more", o.N, o.Batch)
	}
	return nil
}

// EffectiveRFs measures the effective receptive field of the centre unit of each layer: the
// unit at spatial position ((H-1)/2, (W-1)/2) of a [C H W] layer, all its channels together
// (the backward pass is seeded with ones at that position in every channel); for layers
// without a spatial layout every unit is seeded. The model's parameters are not changed (the
// parameter gradients a backward pass accumulates are cleared).
func EffectiveRFs(g *nn.Graph, layers []string, o ERFOptions) ([]EffectiveRF, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := CheckLayers(g, layers); err != nil {
		return nil, err
	}
	if len(g.InputShape) != 3 {
		return nil, fmt.Errorf("effective receptive fields: model %q takes %v, not [C H W] images", g.Name, g.InputShape)
	}
	theo, err := TheoreticalRFs(g)
	if err != nil {
		return nil, err
	}
	mass := o.Mass
	if mass == 0 {
		mass = 0.95
	}
	batch := o.Batch
	if batch <= 0 {
		batch = 8
	}
	x := o.Images
	if x == nil {
		n := o.N
		if n <= 0 {
			n = 16
		}
		x = tensor.New(append([]int{n}, g.InputShape...)...)
		rng := rand.New(rand.NewPCG(o.Seed, 0x6572665f696d67))
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
	}
	if len(x.Shape) != 4 || !tensor.SameShape(x.Shape[1:], g.InputShape) {
		return nil, fmt.Errorf("effective receptive fields: images %v, model %q takes [N %v]", x.Shape, g.Name, g.InputShape)
	}
	c, h, w := g.InputShape[0], g.InputShape[1], g.InputShape[2]
	defer g.ZeroGrad()
	all := g.LayerNames()
	var out []EffectiveRF
	for _, layer := range layers {
		node := g.Node(layer)
		m := make([]float64, h*w)
		for lo := 0; lo < x.Shape[0]; lo += batch {
			nb := min(batch, x.Shape[0]-lo)
			xb := tensor.FromData(x.Data[lo*c*h*w:(lo+nb)*c*h*w], nb, c, h, w)
			ctx := nn.NewCtx(false, 0)
			ctx.Backward = true
			tr, err := g.Forward(ctx, xb)
			if err != nil {
				return nil, err
			}
			y := tr.Out(layer)
			seed := tensor.New(y.Shape...)
			if len(node.Shape) == 3 {
				lc, lh, lw := node.Shape[0], node.Shape[1], node.Shape[2]
				cy, cx := (lh-1)/2, (lw-1)/2
				for i := 0; i < nb; i++ {
					for ch := 0; ch < lc; ch++ {
						seed.Data[((i*lc+ch)*lh+cy)*lw+cx] = 1
					}
				}
			} else {
				for i := range seed.Data {
					seed.Data[i] = 1
				}
			}
			tr.WantInputGrad()
			if err := tr.BackwardSeeds(nn.Seed{Node: layer, Step: g.NumSteps() - 1, Grad: seed}); err != nil {
				return nil, err
			}
			gx := tr.InputGrad()
			for i := 0; i < nb; i++ {
				for ch := 0; ch < c; ch++ {
					off := (i*c + ch) * h * w
					for p := 0; p < h*w; p++ {
						m[p] += math.Abs(float64(gx.Data[off+p]))
					}
				}
			}
			ctx.Reset()
		}
		for p := range m {
			m[p] /= float64(x.Shape[0])
		}
		e := EffectiveRF{Layer: layer, Map: m, H: h, W: w, Centre: [2]float64{float64(h-1) / 2, float64(w-1) / 2}}
		if tr := theo[indexOf(all, layer)]; tr.Spatial && !tr.Global && len(node.Shape) == 3 {
			cy, cx := tr.Centre((node.Shape[1]-1)/2, (node.Shape[2]-1)/2)
			e.Centre = [2]float64{cy, cx}
		}
		e.Side = 2*massDistance(m, h, w, e.Centre, mass, chebyshev) + 1
		e.Radius = massDistance(m, h, w, e.Centre, mass, euclid)
		out = append(out, e)
	}
	return out, nil
}

func chebyshev(dy, dx float64) float64 { return math.Max(math.Abs(dy), math.Abs(dx)) }
func euclid(dy, dx float64) float64    { return math.Hypot(dy, dx) }

// massDistance is the smallest distance d from centre such that the pixels within d hold at
// least frac of the map's total mass (0 for an all-zero map).
func massDistance(m []float64, h, w int, centre [2]float64, frac float64, dist func(dy, dx float64) float64) float64 {
	type px struct{ d, v float64 }
	ps := make([]px, 0, len(m))
	var total float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := m[y*w+x]
			total += v
			ps = append(ps, px{dist(float64(y)-centre[0], float64(x)-centre[1]), v})
		}
	}
	if total == 0 {
		return 0
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].d < ps[j].d })
	var acc float64
	for i, p := range ps {
		acc += p.v
		// Include every pixel at the same distance before testing.
		if i+1 < len(ps) && ps[i+1].d == p.d {
			continue
		}
		if acc >= frac*total*(1-1e-9) {
			return p.d
		}
	}
	return ps[len(ps)-1].d
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// CheckLayers returns an error naming the model's layers when a name is not one of them.
func CheckLayers(g *nn.Graph, layers []string) error {
	for _, l := range layers {
		if g.Node(l) == nil {
			return fmt.Errorf("model %q has no layer %q; its layers are: %v", g.Name, l, g.LayerNames())
		}
	}
	return nil
}

// RFRow is one line of the receptive-field table.
type RFRow struct {
	Layer string
	Type  string
	Shape []int
	// Theoretical is the theoretical field's side in pixels (the larger of height and width,
	// not clipped to the image); TheoreticalClipped is, for the centre unit, the side of the
	// smallest square centred on it that holds the part of the window inside the image
	// (TheoreticalRF.Clipped), the measure the effective side is compared with. Effective is the effective field's side (Mass of the gradient), EffRadius
	// its radius; both 0 when the effective field was not measured.
	Theoretical, TheoreticalClipped float64
	Effective, EffRadius            float64
	Global                          bool
	// DegPerPixel converts pixels to degrees of visual angle (0 when unknown).
	DegPerPixel float64
}

// Deg converts a size in pixels to degrees of visual angle (NaN when unknown).
func (r RFRow) Deg(px float64) float64 {
	if r.DegPerPixel <= 0 {
		return math.NaN()
	}
	return px * r.DegPerPixel
}

// RFOptions control ReceptiveFields.
type RFOptions struct {
	// Effective measures effective fields too (one backward pass per layer and image batch).
	Effective bool
	ERF       ERFOptions
	// VisualDegrees is the width of the model's input in degrees of visual angle; 0 takes
	// the model's preprocessing (VisualDegrees), if it declares one.
	VisualDegrees float64
}

// ReceptiveFields tabulates the theoretical (and optionally effective) receptive field of each
// layer (all layers when layers is empty), in pixels and degrees of visual angle.
func ReceptiveFields(g *nn.Graph, layers []string, o RFOptions) ([]RFRow, error) {
	if len(layers) == 0 {
		layers = g.LayerNames()
	}
	if err := CheckLayers(g, layers); err != nil {
		return nil, err
	}
	theo, err := TheoreticalRFs(g)
	if err != nil {
		return nil, err
	}
	deg := o.VisualDegrees
	if deg <= 0 {
		if p, ok, err := stimuli.FromMeta(g); err == nil && ok {
			deg = p.VisualDegrees
		}
	}
	h, w := g.InputShape[1], g.InputShape[2]
	var eff []EffectiveRF
	if o.Effective {
		if eff, err = EffectiveRFs(g, layers, o.ERF); err != nil {
			return nil, err
		}
	}
	all := g.LayerNames()
	rows := make([]RFRow, len(layers))
	for k, l := range layers {
		t := theo[indexOf(all, l)]
		r := RFRow{Layer: l, Type: t.Type, Shape: t.Shape, Theoretical: math.Max(t.Size[0], t.Size[1]), Global: t.Global}
		y, x := 0, 0
		if len(t.Shape) == 3 {
			y, x = (t.Shape[1]-1)/2, (t.Shape[2]-1)/2
		}
		ch, cw := t.Clipped(y, x, h, w)
		r.TheoreticalClipped = math.Max(ch, cw)
		if deg > 0 {
			r.DegPerPixel = deg / float64(w)
		}
		if eff != nil {
			r.Effective, r.EffRadius = eff[k].Side, eff[k].Radius
		}
		rows[k] = r
	}
	return rows, nil
}
