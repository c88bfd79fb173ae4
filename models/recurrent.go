package models

import (
	"fmt"
	"strings"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

// Recurrent models, unrolled in time by nn.Graph (Steps > 1, inputs written "name@prev").
//
// CORnet-RT (Kubilius, Schrimpf et al. 2018/2019). Each area X in V1, V2, V4, IT is the block of
// the reference implementation:
//
//	X_conv_input -> X_norm_input -> X_nonlin_input   the area's input, convolved
//	X_skip = that + X@prev                            plus the area's own state at t-1
//	X_conv1 -> X_norm1 -> X                           3x3 conv (no bias), GroupNorm(32), ReLU
//
// and X's output is its state. Areas are chained with a delay of one step, as in the reference
// code: V1 reads the image at every step, V2 reads V1@prev, V4 reads V2@prev, IT reads V4@prev,
// so the image reaches IT at step 3 and the decoder (global average pool, linear) reads IT at
// the last step (5 steps by default). Simplification: at step 0 the reference block skips
// conv_input in V2, V4 and IT (their input is exactly zero); here they convolve the zero state
// V1@prev (and so on), and so that this gives nearly the reference's zero their conv_input has
// no bias (the following GroupNorm removes most of a bias anyway): their input at step 0 is
// relu(beta) of norm_input, which is 0 at initialisation. With a bias, GroupNorm would divide the
// near-constant bias map at step 0 by sqrt(eps) and feed V2 a large spurious input. The model
// therefore has 896 parameters fewer than the reference (5,208,040 at the defaults).
// GroupNorm (32 groups, as the reference) rather than BatchNorm: it is per sample, so it behaves the same at every time step and in inference.
//
// BLT (Spoerer, McClure and Kriegeskorte 2017, Frontiers in Psychology 8:1551): two recurrent
// convolutional layers and a readout, unrolled over 4 steps, with the readout at every step
// (train with the loss summed over steps, see nn.Trace.BackwardSeeds). Layer l at step t:
//
//	h_l(t) = LRN(ReLU( B_l * in_l(t) + L_l * h_l(t-1) + T_l * up(h_{l+1}(t-1)) ))
//
// with in_1 the image and in_2 = maxpool2x2(h_1(t)); B bottom-up (with bias), L lateral and T
// top-down (same kernel, no bias; T applies to h_2 upsampled 2x by nearest neighbour, standing in for
// the paper's transposed convolution). Bottom-up weights start with He initialisation, lateral
// and top-down weights with PyTorch's smaller default (uniform, limit 1/sqrt(fan-in)) so that
// the unrolled recurrence does not amplify activity at initialisation (with He init the
// recurrent variants trained markedly slower). LRN: window 5, alpha 1e-4, beta 0.5, k 1.
// The readout is maxpool 2x2, flatten, linear. Variants:
// B (bottom-up only), BL (+ lateral), BT (+ top-down), BLT (all). Controls for B's smaller
// size, as the paper's B-F and B-K: "b" widens B's channels, "b-k" enlarges B's kernels, each
// chosen so that the parameter count is nearest that of BLT at the same settings; "b0" is the
// unwidened B. B is unrolled like the others (its output is the same at every step).

func init() {
	register("cornet-rt", "CORnet-RT (Kubilius et al. 2018): areas V1, V2, V4, IT with within-area recurrence, 5 time steps, GroupNorm", cornetRT)
	for _, v := range []string{"b", "bl", "bt", "blt"} {
		doc := map[string]string{
			"b":   "B control of Spoerer et al. 2017: bottom-up only, channels widened to match BLT's parameter count (B-F)",
			"bl":  "BL (Spoerer, McClure and Kriegeskorte 2017): bottom-up + lateral recurrent convolutions, 4 steps, readout every step",
			"bt":  "BT (Spoerer, McClure and Kriegeskorte 2017): bottom-up + top-down recurrent convolutions, 4 steps, readout every step",
			"blt": "BLT (Spoerer, McClure and Kriegeskorte 2017): bottom-up, lateral and top-down convolutions, 4 steps, readout every step",
		}[v]
		register("blt-"+v, doc, func(o Options) (*nn.Graph, error) {
			return BLT(BLTConfig{Variant: v, Classes: o.Classes, InputSize: o.InputSize})
		})
	}
}

// CORnetRTConfig sizes a CORnet-RT. Zero values take the published defaults in brackets.
type CORnetRTConfig struct {
	Channels      [4]int // per area V1, V2, V4, IT [64 128 256 512]
	Groups        int    // GroupNorm groups; must divide every area's channels [32]
	Steps         int    // time steps, at least 4 (one per area) [5]
	InputSize     int    // square input side [224]
	InputChannels int    // [3]
	Classes       int    // [1000]
}

func cornetRT(o Options) (*nn.Graph, error) {
	return CORnetRT(CORnetRTConfig{Classes: o.Classes, InputSize: o.InputSize})
}

// CORnetRT returns an unbuilt CORnet-RT graph. Layer names are the areas (V1, V2, V4, IT: each
// area's output and state), avgpool and decoder (the prediction, at the last step).
func CORnetRT(c CORnetRTConfig) (*nn.Graph, error) {
	if c.Steps < 0 || c.InputSize < 0 || c.InputChannels < 0 || c.Classes < 0 || c.Groups < 0 {
		return nil, fmt.Errorf("cornet-rt: steps %d, input size %d, input channels %d, classes %d and groups %d must not be negative",
			c.Steps, c.InputSize, c.InputChannels, c.Classes, c.Groups)
	}
	ch := c.Channels
	if ch == [4]int{} {
		ch = [4]int{64, 128, 256, 512}
	}
	groups := or(c.Groups, 32)
	steps := or(c.Steps, 5)
	if steps < 4 {
		return nil, fmt.Errorf("cornet-rt: %d time steps; it needs at least 4 (the image reaches IT after one step per area)", steps)
	}
	for i, k := range ch {
		if k <= 0 || k%groups != 0 {
			return nil, fmt.Errorf("cornet-rt: area %d has %d channels; they must be positive and divisible by the %d norm groups", i, k, groups)
		}
	}
	size, inC, classes := or(c.InputSize, 224), or(c.InputChannels, 3), or(c.Classes, 1000)
	g := &nn.Graph{Name: "cornet-rt", InputShape: []int{inC, size, size}, Steps: steps, Output: "decoder"}
	area := func(name, in string, out, k, stride int) {
		noBias := conv(out, 3, 1, 1)
		noBias.NoBias = true
		input := conv(out, k, stride, k/2)
		input.NoBias = name != "V1"
		g.Add(name+"_conv_input", input, in).
			Chain(name+"_norm_input", &nn.GroupNorm{Groups: groups}).
			Chain(name+"_nonlin_input", nn.ReLU()).
			Add(name+"_skip", nn.Add{}, name+"_nonlin_input", name+nn.PrevSuffix).
			Chain(name+"_conv1", noBias).
			Chain(name+"_norm1", &nn.GroupNorm{Groups: groups}).
			Chain(name, nn.ReLU())
	}
	area("V1", nn.InputName, ch[0], 7, 4)
	area("V2", "V1"+nn.PrevSuffix, ch[1], 3, 2)
	area("V4", "V2"+nn.PrevSuffix, ch[2], 3, 2)
	area("IT", "V4"+nn.PrevSuffix, ch[3], 3, 2)
	g.Add("avgpool", &nn.GlobalAvgPool{}, "IT").Chain("decoder", &nn.Dense{Out: classes})
	p := stimuli.Preprocess{Size: size, RGB: inC == 3, Grey: inC == 1, VisualDegrees: 8}
	if inC == 3 {
		p.Mean, p.Std = imagenetMean, imagenetStd
	}
	return meta(g, "Kubilius, Schrimpf et al. 2018, CORnet: modeling the core ventral visual stream, bioRxiv 408385; Kubilius et al. 2019, NeurIPS 32", nil, p)
}

// BLTVariants are the variants BLT accepts.
var BLTVariants = []string{"b", "b-k", "b0", "bl", "bt", "blt"}

// BLTConfig sizes a network of Spoerer et al. 2017. Zero values take the defaults in brackets.
type BLTConfig struct {
	Variant   string // one of BLTVariants
	Channels  int    // feature maps per layer before any widening of B [32]
	Kernel    int    // odd kernel side of all convolutions before any enlarging of B [3]
	Steps     int    // time steps [4]
	InputSize int    // square side of the 1-channel input; even for top-down [28]
	Classes   int    // [10]
	LRNSize   int    // local response normalisation window over channels [5]
}

func (c BLTConfig) defaults() (BLTConfig, error) {
	if c.Channels < 0 || c.Kernel < 0 || c.Steps < 0 || c.InputSize < 0 || c.Classes < 0 || c.LRNSize < 0 {
		return c, fmt.Errorf("blt: channels %d, kernel %d, steps %d, input size %d, classes %d and lrn size %d must not be negative",
			c.Channels, c.Kernel, c.Steps, c.InputSize, c.Classes, c.LRNSize)
	}
	c.Variant = strings.ToLower(c.Variant)
	known := false
	for _, v := range BLTVariants {
		known = known || v == c.Variant
	}
	if !known {
		return c, fmt.Errorf("blt: unknown variant %q (expected one of %s)", c.Variant, strings.Join(BLTVariants, ", "))
	}
	c.Channels, c.Kernel, c.Steps = or(c.Channels, 32), or(c.Kernel, 3), or(c.Steps, 4)
	c.InputSize, c.Classes, c.LRNSize = or(c.InputSize, 28), or(c.Classes, 10), or(c.LRNSize, 5)
	if c.Kernel%2 == 0 {
		return c, fmt.Errorf("blt: kernel %d must be odd (same-size convolutions)", c.Kernel)
	}
	if c.InputSize < 4 {
		return c, fmt.Errorf("blt: input size %d is too small (two 2x2 poolings need at least 4)", c.InputSize)
	}
	if c.Variant != "b" && c.Variant != "b-k" && c.Variant != "b0" && c.Steps < 2 {
		return c, fmt.Errorf("blt: variant %s is recurrent and needs at least 2 time steps, got %d", c.Variant, c.Steps)
	}
	if strings.Contains(c.Variant, "t") && c.InputSize%2 != 0 {
		return c, fmt.Errorf("blt: variant %s needs an even input size for its 2x top-down upsampling, got %d", c.Variant, c.InputSize)
	}
	return c, nil
}

// BLT returns an unbuilt network of Spoerer et al. 2017 (see the comment at the top of this
// file). Layers: l1, l2 (each layer's output), readout (the prediction at every step).
func BLT(c BLTConfig) (*nn.Graph, error) {
	c, err := c.defaults()
	if err != nil {
		return nil, err
	}
	ch, k := c.Channels, c.Kernel
	switch c.Variant {
	case "b", "b-k":
		full := c
		full.Steps = max(c.Steps, 2) // the count does not depend on the steps
		target, err := bltParams(full, "blt", ch, k)
		if err != nil {
			return nil, err
		}
		best, bestDiff := 0, -1
		for x := 1; x <= 8*max(ch, k); x++ {
			cc, kk := x, k
			if c.Variant == "b-k" {
				cc, kk = ch, 2*x+1
				if kk > c.InputSize {
					break
				}
			}
			n, err := bltParams(c, "b0", cc, kk)
			if err != nil {
				return nil, err
			}
			d := abs(n - target)
			if bestDiff < 0 || d < bestDiff {
				best, bestDiff = x, d
			}
			if n > target {
				break
			}
		}
		if c.Variant == "b" {
			ch = best
		} else {
			k = 2*best + 1
		}
	}
	return bltGraph(c, ch, k)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// bltParams counts the parameters of a variant with the given width and kernel.
func bltParams(c BLTConfig, variant string, ch, k int) (int, error) {
	c.Variant = variant
	g, err := bltGraph(c, ch, k)
	if err != nil {
		return 0, err
	}
	if err := g.Build(1); err != nil {
		return 0, err
	}
	return g.NumParams(), nil
}

func bltGraph(c BLTConfig, ch, k int) (*nn.Graph, error) {
	lateral := strings.Contains(c.Variant, "l")
	topdown := strings.Contains(c.Variant, "t")
	g := &nn.Graph{Name: "blt-" + c.Variant, InputShape: []int{1, c.InputSize, c.InputSize}, Steps: c.Steps, Output: "readout"}
	rec := func(in string) *nn.Conv2D {
		cv := conv(ch, k, 1, k/2)
		cv.NoBias = true
		cv.Init = "torch"
		return cv
	}
	layer := func(name, in string, top string) {
		sum := []string{name + "_b"}
		g.Add(name+"_b", conv(ch, k, 1, k/2), in)
		if lateral {
			g.Add(name+"_l", rec(name), name+nn.PrevSuffix)
			sum = append(sum, name+"_l")
		}
		if topdown && top != "" {
			g.Add(name+"_t_up", &nn.Upsample{Factor: 2}, top+nn.PrevSuffix).Chain(name+"_t", rec(top))
			sum = append(sum, name+"_t")
		}
		last := sum[0]
		if len(sum) > 1 {
			g.Add(name+"_sum", nn.Add{}, sum...)
			last = name + "_sum"
		}
		g.Add(name+"_relu", nn.ReLU(), last).Chain(name, &nn.LRN{Size: c.LRNSize, Alpha: 1e-4, Beta: 0.5, K: 1})
	}
	layer("l1", nn.InputName, "l2")
	g.Add("pool1", maxpool(2, 2, 0), "l1")
	layer("l2", "pool1", "")
	g.Add("pool2", maxpool(2, 2, 0), "l2").Chain("flatten", nn.Flatten{}).Chain("readout", &nn.Dense{Out: c.Classes})
	g.Meta = map[string]string{"variant": c.Variant, "channels": fmt.Sprint(ch), "kernel": fmt.Sprint(k)}
	return meta(g, "Spoerer, McClure and Kriegeskorte 2017, Recurrent convolutional neural networks: a better model of biological object recognition, Front. Psychol. 8:1551",
		nil, stimuli.Preprocess{Size: c.InputSize, Grey: true})
}
