package nn

import (
	"math"

	"github.com/ventral-lab/ventral/tensor"
)

// winoWeights is a convolution's weights transformed for tensor.WinogradConv together with the
// float weights they came from; never modified once stored (see packedLevels).
type winoWeights struct {
	src []float32
	g   tensor.WinogradGeom
	u   []float32
}

// winogradOn is false only in tests and benchmarks that compare Winograd with im2col.
var winogradOn = true

// winogradMinChannels is the fewest input and output channels that take the Winograd path:
// with fewer, the tile transforms (linear in the channels) outweigh the products they save.
const winogradMinChannels = 16

// useWinograd reports whether a forward pass runs on Winograd F(4x4, 3x3): at inference only
// (training keeps im2col, whose columns the backward pass reuses, and its exact sums), for
// 3x3, stride-1, undilated, ungrouped convolutions with enough channels and outputs, and not
// when the weights are integers (an imported quantized network stays on the exact integer
// GEMM or on im2col's exact sums of small integers).
func (cv *Conv2D) useWinograd(ctx *Ctx) bool {
	g := &cv.g
	if !winogradOn || (ctx != nil && ctx.Train) || g.kh != 3 || g.kw != 3 || !g.unitStride() || cv.groups() != 1 ||
		g.c < winogradMinChannels || cv.Out < winogradMinChannels {
		return false
	}
	// Tiles of 4x4 outputs cost 36 products per input and output channel: on a small map
	// (1 or 2 outputs across) most of a tile is past the edge; require at most 6 products per
	// output (im2col: 9).
	if th, tw := (g.oh+3)/4, (g.ow+3)/4; 36*th*tw > 6*g.oh*g.ow {
		return false
	}
	return !integerValued(cv.w.Value.Data)
}

// integerValued reports whether every value is an integer (a float network's weights fail at
// the first value).
func integerValued(v []float32) bool {
	for _, x := range v {
		if x != float32(math.Trunc(float64(x))) {
			return false
		}
	}
	return true
}

// winogradWeights returns the transformed weights, kept across forward passes while the weights
// are bit for bit those they were transformed from (compared in full on every call, as in
// packedLevels: the weights have many writers).
func (cv *Conv2D) winogradWeights() *winoWeights {
	g := &cv.g
	w := cv.w.Value.Data[:cv.Out*g.c*9]
	if c := cv.wino.Load(); c != nil && c.g.C == g.c && c.g.H == g.h && c.g.W == g.w && sameBits(c.src, w) {
		return c
	}
	wg, err := tensor.NewWinogradGeom(g.c, g.h, g.w, cv.Out, g.ph, g.pw)
	if err != nil {
		panic(err) // Build has checked the geometry
	}
	c := &winoWeights{src: append([]float32(nil), w...), g: wg, u: make([]float32, wg.WinogradWeightLen())}
	tensor.WinogradWeights(&c.g, w, c.u)
	cv.wino.Store(c)
	return c
}

// forwardWinograd is the inference forward pass on tensor.WinogradConv, with the bias added in
// its output transform, or with the fused tail ep (which adds the bias) applied there.
func (cv *Conv2D) forwardWinograd(ctx *Ctx, x *tensor.Tensor, ep *epilogue) *tensor.Tensor {
	n := x.Shape[0]
	c := cv.winogradWeights()
	g := &c.g
	y := ctx.Alloc(n, cv.Out, g.OH, g.OW)
	var bias []float32
	if cv.b != nil {
		bias = cv.b.Value.Data
	}
	if ep != nil {
		// The tail adds the bias itself (ep.apply), on each run of outputs as it is stored.
		tensor.WinogradConv(g, n, x.Data, c.u, nil, y.Data, func(o int, v []float32) {
			var b float32
			if bias != nil {
				b = bias[o]
			}
			ep.apply(v, v, o, b)
		})
		return y
	}
	tensor.WinogradConv(g, n, x.Data, c.u, bias, y.Data, nil)
	return y
}
