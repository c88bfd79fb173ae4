package imports

import (
	"fmt"

	"github.com/ventral-lab/ventral/formats/onnx"
)

// Exact simulation of the integer convolutions and matrix products of a quantized graph.
//
// Dequantized weights applied to dequantized activations give the integer result times the
// scales only up to float32 rounding, and a rounding difference next to a tie moves an output
// by one quantization step, which the following layers amplify. So by default QLinearConv and
// QLinearMatMul run as onnxruntime runs them: on the integer levels (q - zero point, held as
// float32, which represents integer sums exactly below 2^24), with the int32 bias, then one
// float32 multiplication by x_scale * w_scale / y_scale, rounding half to even, adding the
// output zero point and saturating. The layers: "<out>.acc" (the convolution or dense layer on
// levels), "<out>.requant" (channel_affine by the multipliers), "<out>.int" (fake_quant with
// scale 1: the output levels) and "<out>" (channel_affine by y_scale: the real values, as
// DequantizeLinear gives them). A quantized input's levels come from "<in>.int" when the
// producer made one, else from "<in>.levels" (times 1/scale, snapped to integers).
//
// At inference nn fuses ".acc", ".requant" and ".int" into one convolution whose integer
// levels run on tensor.QGemmRequant: int16 operands, exact int32 sums (as onnxruntime's, even
// past 2^24), the requantization applied as each output tile is stored. Layers whose inputs are
// not integer levels fall back to the float GEMM (see nn.Conv2D).

// levels returns a layer holding x's quantization levels q - zero point.
func (im *importer) levels(x *val) (*val, error) {
	if x.levels != nil {
		return x.levels, nil
	}
	ch := channelsOf(x)
	inv := make([]float64, ch)
	for i := range inv {
		inv[i] = 1 / x.q.scale
	}
	v, err := im.affine(x.node+".levels.scale", x, inv, make([]float64, ch))
	if err != nil {
		return nil, err
	}
	v, err = im.emit(x.node+".levels", "fake_quant", map[string]any{"scale": 1, "zero_point": 0,
		"qmin": int(x.q.lo - x.q.zero), "qmax": int(x.q.hi - x.q.zero)}, v)
	if err != nil {
		return nil, err
	}
	x.levels = v
	return v, nil
}

func channelsOf(x *val) int {
	if len(x.shape) >= 2 {
		return x.shape[1]
	}
	return 1
}

// levelsConst is an integer constant minus its zero point (per tensor or along axis).
func levelsConst(x, zero *cval, axis int) (*cval, error) {
	n := 1
	if zero != nil {
		n = zero.numel()
	}
	ones := &cval{shape: []int{n}, data: make([]float64, n), dtype: onnx.Float}
	for i := range ones.data {
		ones.data[i] = 1
	}
	if n == 1 {
		ones.shape = nil
	}
	return dequantConst(x, ones, zero, axis)
}

// requantExact turns integer accumulators acc (per channel c: the multiplier mult[c]) into the
// output levels and the real values of the quantized output yq.
func (im *importer) requantExact(out string, acc *val, mult []float64, yq *qparams) (*val, error) {
	r, err := im.affine(out+".requant", acc, mult, make([]float64, len(mult)))
	if err != nil {
		return nil, err
	}
	lv, err := im.emit(out+".int", "fake_quant", map[string]any{"scale": 1, "zero_point": int(yq.zero),
		"qmin": int(yq.lo), "qmax": int(yq.hi)}, r)
	if err != nil {
		return nil, err
	}
	scale := make([]float64, len(mult))
	for i := range scale {
		scale[i] = yq.scale
	}
	v, err := im.affine(out, lv, scale, make([]float64, len(mult)))
	if err != nil {
		return nil, err
	}
	v.q, v.levels = yq, lv
	lv.q = yq
	im.note("quantized convolutions and matrix products simulated exactly on integer levels (layers .acc, .requant, .int)")
	return v, nil
}

// multipliers computes float32(float32(xs * ws[c]) / ys) for c < n, as onnxruntime does.
func multipliers(xs float64, ws *cval, ys float64, n int) ([]float64, error) {
	w := ws.v()
	if len(w) != 1 && len(w) != n {
		return nil, fmt.Errorf("%d weight scales for %d outputs", len(w), n)
	}
	out := make([]float64, n)
	for c := range out {
		s := w[0]
		if len(w) > 1 {
			s = w[c]
		}
		out[c] = float64(float32(float64(float32(xs)*float32(s))) / float32(ys))
	}
	return out, nil
}

// constLevels reads a QLinear node's constant operand at input i (its scale at i+1, its zero
// point at i+2, as QLinearConv and QLinearMatMul lay them out) as integer levels along axis,
// with its scale.
func (im *importer) constLevels(n *onnx.Node, i, axis int, what string) (levels, scale *cval, err error) {
	q, err := im.constIn(n, i, what)
	if err != nil {
		return nil, nil, err
	}
	scale, err = im.constIn(n, i+1, what+" scale")
	if err != nil {
		return nil, nil, err
	}
	zero, err := im.constIn(n, i+2, what+" zero point")
	if err != nil {
		return nil, nil, err
	}
	if q == nil || scale == nil {
		return nil, nil, im.errorf("missing %s or its scale", what)
	}
	if levels, err = levelsConst(q, zero, axis); err != nil {
		return nil, nil, im.errorf("%s: %v", what, err)
	}
	return levels, scale, nil
}

func (im *importer) qlinearConvExact(n *onnx.Node, x *val, yq *qparams) error {
	xl, err := im.levels(x)
	if err != nil {
		return err
	}
	w, ws, err := im.constLevels(n, 3, 0, "QLinearConv's weight")
	if err != nil {
		return err
	}
	b, err := im.constIn(n, 8, "QLinearConv's bias")
	if err != nil {
		return err
	}
	acc, err := im.convVal(n, xl, w, b, n.Outputs[0]+".acc")
	if err != nil {
		return err
	}
	delete(im.convs, acc.node)
	mult, err := multipliers(x.q.scale, ws, yq.scale, acc.shape[1])
	if err != nil {
		return im.errorf("%v", err)
	}
	v, err := im.requantExact(n.Outputs[0], acc, mult, yq)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func (im *importer) qlinearMatMulExact(n *onnx.Node, a *val, yq *qparams) error {
	al, err := im.levels(a)
	if err != nil {
		return err
	}
	b, bs, err := im.constLevels(n, 3, 1, "QLinearMatMul's second operand")
	if err != nil {
		return err
	}
	acc, err := im.matmul(n, al, b, n.Outputs[0]+".acc")
	if err != nil {
		return err
	}
	mult, err := multipliers(a.q.scale, bs, yq.scale, acc.shape[1])
	if err != nil {
		return im.errorf("%v", err)
	}
	v, err := im.requantExact(n.Outputs[0], acc, mult, yq)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}
