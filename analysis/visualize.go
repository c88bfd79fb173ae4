package analysis

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// VisOptions control Visualize.
type VisOptions struct {
	// Channels to visualise (default: the first min(8, C)).
	Channels []int
	// Unit maximises the centre unit of each channel instead of the channel's mean over
	// positions.
	Unit  bool
	Steps int     // gradient-ascent steps (default 128)
	LR    float64 // step size on the normalised gradient (default 0.1)
	// Jitter is the largest random shift (pixels, with wrap-around) applied before each step
	// (default W/16, at least 1): transformation robustness, so the image cannot exploit
	// single-pixel patterns.
	Jitter int
	// Levels is the depth of the Laplacian-pyramid parametrisation (default 4): the image is
	// sigmoid(sum of bilinearly upsampled levels at full, 1/2, 1/4 ... resolution), so coarse
	// structure is as cheap to change as fine, a penalty on high frequencies by
	// preconditioning.
	Levels int
	// BlurEvery blurs the finest pyramid level with a 3x3 Gaussian every that many steps
	// (default 4; < 0 never): a penalty on the highest frequencies.
	BlurEvery int
	// L2 is a decay of the pyramid levels towards zero (a pre-sigmoid image of mid grey),
	// relative to the normalised gradient step (default 0.01).
	L2   float64
	Seed uint64
}

// Visualization holds the images found for one layer.
type Visualization struct {
	Layer    string
	Channels []int
	// Images are [C H W] in [0,1] (before the model's normalisation), one per channel.
	Images []*tensor.Tensor
	// Activation is each image's objective (channel mean or centre unit) for its channel.
	Activation []float64
}

// Visualize finds, by gradient ascent on the input (Erhan et al. 2009; Olah, Mordvintsev and
// Schubert 2017, "Feature visualization", Distill), an image that maximises each requested
// channel of a layer, with the regularisers that make such images interpretable: random
// jitter, a Laplacian-pyramid parametrisation (a frequency penalty by preconditioning), a
// periodic blur and an L2 pull towards grey. All channels are optimised together as one
// batch. The result depends only on the model, the options and Seed.
func Visualize(g *nn.Graph, layer string, o VisOptions) (*Visualization, error) {
	if err := CheckLayers(g, []string{layer}); err != nil {
		return nil, err
	}
	if len(g.InputShape) != 3 {
		return nil, fmt.Errorf("visualize: model %q takes %v, not [C H W] images", g.Name, g.InputShape)
	}
	shape := g.Node(layer).Shape
	nch := shape[0]
	chans := o.Channels
	if len(chans) == 0 {
		for i := 0; i < min(8, nch); i++ {
			chans = append(chans, i)
		}
	}
	for _, c := range chans {
		if c < 0 || c >= nch {
			return nil, fmt.Errorf("visualize: layer %q has %d channels, no channel %d", layer, nch, c)
		}
	}
	if o.Steps <= 0 {
		o.Steps = 128
	}
	if o.LR <= 0 {
		o.LR = 0.1
	}
	C, H, W := g.InputShape[0], g.InputShape[1], g.InputShape[2]
	if o.Jitter == 0 {
		o.Jitter = max(1, W/16)
	}
	if o.Levels <= 0 {
		o.Levels = 4
	}
	if o.BlurEvery == 0 {
		o.BlurEvery = 4
	}
	if o.L2 == 0 {
		o.L2 = 0.01
	}
	mean, std, err := normalisation(g, C)
	if err != nil {
		return nil, err
	}
	n := len(chans)
	rng := rand.New(rand.NewPCG(o.Seed, hash64("visualize/"+layer)))
	// Pyramid levels, started from noise (so that no ReLU starts dead on a flat grey image):
	// level k has side ceil(H / 2^k) x ceil(W / 2^k), per sample and channel.
	type level struct {
		h, w   int
		p, gp  []float64
		ry, rx []interp
	}
	levels := make([]*level, 0, o.Levels)
	for k := 0; k < o.Levels; k++ {
		h, w := max(1, (H+(1<<k)-1)>>k), max(1, (W+(1<<k)-1)>>k)
		if k > 0 && h == levels[k-1].h && w == levels[k-1].w {
			break
		}
		l := &level{h: h, w: w, p: make([]float64, n*C*h*w), gp: make([]float64, n*C*h*w), ry: interp1(h, H), rx: interp1(w, W)}
		for i := range l.p {
			l.p[i] = 1.5 * rng.NormFloat64() / float64(int(1)<<k)
		}
		levels = append(levels, l)
	}
	plane := H * W
	z := make([]float64, n*C*plane)
	img := make([]float64, n*C*plane)
	gz := make([]float64, n*C*plane)
	render := func() {
		clear(z)
		for _, l := range levels {
			for s := 0; s < n*C; s++ {
				upsample(l.p[s*l.h*l.w:(s+1)*l.h*l.w], l.h, l.w, l.ry, l.rx, z[s*plane:(s+1)*plane], H, W)
			}
		}
		for i, v := range z {
			img[i] = 1 / (1 + math.Exp(-v))
		}
	}
	x := tensor.New(n, C, H, W)
	defer g.ZeroGrad()
	objective := func(dy, dx int, grad bool) ([]float64, []float64, error) {
		for s := 0; s < n; s++ {
			for c := 0; c < C; c++ {
				off := (s*C + c) * plane
				for yy := 0; yy < H; yy++ {
					sy := mod(yy-dy, H)
					for xx := 0; xx < W; xx++ {
						x.Data[off+yy*W+xx] = float32((img[off+sy*W+mod(xx-dx, W)] - mean[c]) / std[c])
					}
				}
			}
		}
		ctx := nn.NewCtx(false, 0)
		ctx.Backward = grad
		defer ctx.Reset()
		tr, err := g.Forward(ctx, x, layer)
		if err != nil {
			return nil, nil, err
		}
		y := tr.Out(layer)
		per := y.Len() / n
		sp := per / nch
		seed := tensor.New(y.Shape...)
		act := make([]float64, n)
		for s, ch := range chans {
			base := s*per + ch*sp
			if o.Unit && len(shape) == 3 {
				u := base + ((shape[1]-1)/2)*shape[2] + (shape[2]-1)/2
				act[s] = float64(y.Data[u])
				seed.Data[u] = 1
				continue
			}
			var sum float64
			for j := 0; j < sp; j++ {
				sum += float64(y.Data[base+j])
				seed.Data[base+j] = float32(1 / float64(sp))
			}
			act[s] = sum / float64(sp)
		}
		if !grad {
			return act, nil, nil
		}
		tr.WantInputGrad()
		if err := tr.BackwardSeeds(nn.Seed{Node: layer, Step: g.NumSteps() - 1, Grad: seed}); err != nil {
			return nil, nil, err
		}
		gx := tr.InputGrad()
		gi := make([]float64, len(gx.Data))
		for s := 0; s < n; s++ {
			for c := 0; c < C; c++ {
				off := (s*C + c) * plane
				for yy := 0; yy < H; yy++ {
					sy := mod(yy-dy, H)
					for xx := 0; xx < W; xx++ {
						gi[off+sy*W+mod(xx-dx, W)] += float64(gx.Data[off+yy*W+xx]) / std[c]
					}
				}
			}
		}
		return act, gi, nil
	}
	for step := 0; step < o.Steps; step++ {
		render()
		dy, dx := rng.IntN(2*o.Jitter+1)-o.Jitter, rng.IntN(2*o.Jitter+1)-o.Jitter
		_, gi, err := objective(dy, dx, true)
		if err != nil {
			return nil, err
		}
		for i := range gz {
			gz[i] = gi[i] * img[i] * (1 - img[i])
		}
		for _, l := range levels {
			for s := 0; s < n*C; s++ {
				g := l.gp[s*l.h*l.w : (s+1)*l.h*l.w]
				clear(g)
				upsampleT(gz[s*plane:(s+1)*plane], H, W, l.ry, l.rx, g, l.h, l.w)
			}
		}
		// Normalised ascent per sample: every channel's image moves at the same rate.
		for s := 0; s < n; s++ {
			var ss float64
			var cnt int
			for _, l := range levels {
				for _, v := range l.gp[s*C*l.h*l.w : (s+1)*C*l.h*l.w] {
					ss += v * v
					cnt++
				}
			}
			rms := math.Sqrt(ss/float64(cnt)) + 1e-12
			for _, l := range levels {
				lo, hi := s*C*l.h*l.w, (s+1)*C*l.h*l.w
				for i := lo; i < hi; i++ {
					l.p[i] += o.LR * (l.gp[i]/rms - o.L2*l.p[i])
				}
			}
		}
		if o.BlurEvery > 0 && (step+1)%o.BlurEvery == 0 {
			l := levels[0]
			for s := 0; s < n*C; s++ {
				blur3(l.p[s*l.h*l.w:(s+1)*l.h*l.w], l.h, l.w)
			}
		}
	}
	render()
	act, _, err := objective(0, 0, false)
	if err != nil {
		return nil, err
	}
	v := &Visualization{Layer: layer, Channels: chans, Activation: act}
	for s := 0; s < n; s++ {
		t := tensor.New(C, H, W)
		for i := range t.Data {
			t.Data[i] = float32(img[s*C*plane+i])
		}
		v.Images = append(v.Images, t)
	}
	return v, nil
}

// ChannelActivations returns, for images [N C H W] in [0,1], the mean of a layer's channel
// over positions (or its centre unit with unit) for each image.
func ChannelActivations(g *nn.Graph, layer string, channel int, images *tensor.Tensor, unit bool) ([]float64, error) {
	if err := CheckLayers(g, []string{layer}); err != nil {
		return nil, err
	}
	mean, std, err := normalisation(g, g.InputShape[0])
	if err != nil {
		return nil, err
	}
	x := images.Clone()
	c := g.InputShape[0]
	plane := x.Len() / (x.Shape[0] * c)
	for i := range x.Data {
		ch := (i / plane) % c
		x.Data[i] = float32((float64(x.Data[i]) - mean[ch]) / std[ch])
	}
	tr, err := g.Forward(nn.NewCtx(false, 0), x, layer)
	if err != nil {
		return nil, err
	}
	y := tr.Out(layer)
	shape := g.Node(layer).Shape
	n := x.Shape[0]
	per := y.Len() / n
	sp := per / shape[0]
	out := make([]float64, n)
	for s := 0; s < n; s++ {
		base := s*per + channel*sp
		if unit && len(shape) == 3 {
			out[s] = float64(y.Data[base+((shape[1]-1)/2)*shape[2]+(shape[2]-1)/2])
			continue
		}
		var sum float64
		for j := 0; j < sp; j++ {
			sum += float64(y.Data[base+j])
		}
		out[s] = sum / float64(sp)
	}
	return out, nil
}

// normalisation returns the per-channel mean and std of the model's preprocessing (0 and 1
// when it declares none).
func normalisation(g *nn.Graph, c int) (mean, std []float64, err error) {
	mean, std = make([]float64, c), make([]float64, c)
	for i := range std {
		std[i] = 1
	}
	p, ok, err := stimuli.FromMeta(g)
	if err != nil || !ok || len(p.Mean) == 0 {
		return mean, std, err
	}
	for i := 0; i < c; i++ {
		mean[i], std[i] = float64(p.Mean[min(i, len(p.Mean)-1)]), float64(p.Std[min(i, len(p.Std)-1)])
	}
	return mean, std, nil
}

func mod(a, n int) int { return ((a % n) + n) % n }

// interp holds bilinear weights of one output index: two source indices and their weights
// (half-pixel centres, as PyTorch's align_corners=false).
type interp struct {
	i0, i1 int
	w0, w1 float64
}

func interp1(src, dst int) []interp {
	out := make([]interp, dst)
	for i := range out {
		s := (float64(i)+0.5)*float64(src)/float64(dst) - 0.5
		s = math.Max(0, math.Min(s, float64(src-1)))
		i0 := int(math.Floor(s))
		i1 := min(i0+1, src-1)
		f := s - float64(i0)
		out[i] = interp{i0, i1, 1 - f, f}
	}
	return out
}

// upsample adds the bilinear upsampling of p (h x w) to z (H x W).
func upsample(p []float64, h, w int, ry, rx []interp, z []float64, H, W int) {
	for y := 0; y < H; y++ {
		a := ry[y]
		for x := 0; x < W; x++ {
			b := rx[x]
			z[y*W+x] += a.w0*(b.w0*p[a.i0*w+b.i0]+b.w1*p[a.i0*w+b.i1]) + a.w1*(b.w0*p[a.i1*w+b.i0]+b.w1*p[a.i1*w+b.i1])
		}
	}
}

// upsampleT adds the adjoint of upsample applied to gz (H x W) to gp (h x w).
func upsampleT(gz []float64, H, W int, ry, rx []interp, gp []float64, h, w int) {
	for y := 0; y < H; y++ {
		a := ry[y]
		for x := 0; x < W; x++ {
			b := rx[x]
			v := gz[y*W+x]
			gp[a.i0*w+b.i0] += a.w0 * b.w0 * v
			gp[a.i0*w+b.i1] += a.w0 * b.w1 * v
			gp[a.i1*w+b.i0] += a.w1 * b.w0 * v
			gp[a.i1*w+b.i1] += a.w1 * b.w1 * v
		}
	}
}

// blur3 blurs a plane in place with the 3x3 binomial kernel [1 2 1]/4 per axis (edges
// replicated).
func blur3(p []float64, h, w int) {
	if h*w <= 1 {
		return
	}
	t := make([]float64, len(p))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t[y*w+x] = 0.25*p[y*w+max(x-1, 0)] + 0.5*p[y*w+x] + 0.25*p[y*w+min(x+1, w-1)]
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p[y*w+x] = 0.25*t[max(y-1, 0)*w+x] + 0.5*t[y*w+x] + 0.25*t[min(y+1, h-1)*w+x]
		}
	}
}

// WriteGrid writes images ([C H W] in [0,1], C 1 or 3, all the same size) as one PNG grid with
// cols columns, each pixel drawn scale x scale (scale 0 picks one that makes tiles at least
// 96 pixels wide).
func WriteGrid(path string, imgs []*tensor.Tensor, cols, scale int) error {
	if len(imgs) == 0 {
		return fmt.Errorf("write grid: no images")
	}
	c, h, w := imgs[0].Shape[0], imgs[0].Shape[1], imgs[0].Shape[2]
	if cols <= 0 {
		cols = min(len(imgs), 8)
	}
	if scale <= 0 {
		scale = max(1, (96+w-1)/w)
	}
	rows := (len(imgs) + cols - 1) / cols
	const gap = 2
	tw, th := w*scale, h*scale
	out := image.NewRGBA(image.Rect(0, 0, cols*(tw+gap)+gap, rows*(th+gap)+gap))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	q := func(v float32) uint8 { return uint8(math.Round(float64(max(0, min(1, v))) * 255)) }
	for k, t := range imgs {
		if !tensor.SameShape(t.Shape, imgs[0].Shape) {
			return fmt.Errorf("write grid: image %d is %v, image 0 %v", k, t.Shape, imgs[0].Shape)
		}
		ox, oy := gap+(k%cols)*(tw+gap), gap+(k/cols)*(th+gap)
		for y := 0; y < th; y++ {
			for x := 0; x < tw; x++ {
				p := (y/scale)*w + x/scale
				var col color.RGBA
				if c >= 3 {
					col = color.RGBA{q(t.Data[p]), q(t.Data[h*w+p]), q(t.Data[2*h*w+p]), 255}
				} else {
					v := q(t.Data[p])
					col = color.RGBA{v, v, v, 255}
				}
				out.SetRGBA(ox+x, oy+y, col)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFunc(path, func(f io.Writer) error { return png.Encode(f, out) })
}
