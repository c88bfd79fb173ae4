package imports

import (
	"fmt"
	"math"
	"slices"

	"github.com/ventral-lab/ventral/formats/onnx"
	"github.com/ventral-lab/ventral/nn"
)

func init() {
	onnxOps = map[string]opFunc{
		"Conv": opConv, "Gemm": opGemm, "MatMul": opMatMul,
		"Add": opBinary, "Sub": opBinary, "Mul": opBinary, "Div": opBinary,
		"Relu": opAct, "LeakyRelu": opAct, "Sigmoid": opAct, "Tanh": opAct, "Clip": opClip,
		"MaxPool": opPool, "AveragePool": opPool, "GlobalAveragePool": opGlobalPool, "GlobalMaxPool": opGlobalPool,
		"BatchNormalization": opBatchNorm, "LRN": opLRN, "Dropout": opAlias, "Identity": opAlias,
		"Flatten": opFlatten, "Reshape": opReshape, "Transpose": opTranspose, "Concat": opConcat,
		"Split": opSplit, "Pad": opPad, "Softmax": opSoftmax, "Constant": opFoldOnly,
		"Shape": opFoldOnly, "Gather": opFoldOnly, "Unsqueeze": opUnsqueeze, "Squeeze": opUnsqueeze, "Cast": opCast,
		"Slice": opFoldOnly, "ConstantOfShape": opFoldOnly, "ConvTranspose": opConvTranspose,
		"QuantizeLinear": opQuantize, "DequantizeLinear": opDequantize, "QLinearConv": opQLinearConv,
		"QLinearMatMul": opQLinearMatMul, "com.microsoft.QLinearAdd": opQLinearAdd,
		"com.microsoft.QLinearGlobalAveragePool": opQLinearGlobalAveragePool,
	}
}

// opFoldOnly is for operators that the importer computes only on constants.
func opFoldOnly(im *importer, n *onnx.Node) error {
	return im.unsupported("only constant inputs (shape arithmetic) are supported; this one reads a computed tensor")
}

func opAlias(im *importer, n *onnx.Node) error {
	v, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	if n.OpType == "Dropout" && len(n.Outputs) > 1 && n.Outputs[1] != "" && im.uses[n.Outputs[1]] > 0 {
		return im.unsupported("Dropout's mask output")
	}
	im.set(n, 0, v)
	return nil
}

func opCast(im *importer, n *onnx.Node) error {
	switch onnx.DataType(attrInt(n, "to", 0)) {
	case onnx.Float, onnx.Double, onnx.Float16:
		return opAlias(im, n)
	}
	return im.unsupported(fmt.Sprintf("Cast of a computed tensor to %s", onnx.DataType(attrInt(n, "to", 0))))
}

// spatialPads resolves Conv/pool padding to [top, left, bottom, right] from pads or auto_pad.
// inHW, kernel, strides and dil are two values each; a 1-D op (lifted to height 1) reads two
// pads, [begin end] along the width.
func (im *importer) spatialPads(n *onnx.Node, inHW, kernel, strides, dil []int) ([4]int, error) {
	return im.spatialPadsD(n, 2, inHW, kernel, strides, dil)
}

func (im *importer) spatialPadsD(n *onnx.Node, d int, inHW, kernel, strides, dil []int) ([4]int, error) {
	var p [4]int
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		if pads := attrInts(n, "pads"); pads != nil {
			if len(pads) != 2*d {
				return p, im.errorf("pads %v: expected %d values for a %d-D op", pads, 2*d, d)
			}
			if d == 1 {
				pads = []int{0, pads[0], 0, pads[1]}
			}
			for _, v := range pads {
				if v < 0 {
					return p, im.unsupported(fmt.Sprintf("negative pads %v", pads))
				}
			}
			p = [4]int{pads[0], pads[1], pads[2], pads[3]}
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for i := 0; i < 2; i++ {
			out := (inHW[i] + strides[i] - 1) / strides[i]
			total := max(0, (out-1)*strides[i]+(kernel[i]-1)*dil[i]+1-inHW[i])
			lo := total / 2
			if ap == "SAME_LOWER" {
				lo = total - total/2
			}
			p[i], p[i+2] = lo, total-lo
		}
	default:
		return p, im.errorf("auto_pad %q (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)", ap)
	}
	return p, nil
}

func twoInts(v []int, def int) []int {
	if len(v) == 0 {
		return []int{def, def}
	}
	return v
}

// twoPos reads a 2-D attribute (strides, dilations) of positive values, def when absent.
func (im *importer) twoPos(n *onnx.Node, name string, def int) ([]int, error) {
	v := twoInts(attrInts(n, name), def)
	if len(v) != 2 || v[0] < 1 || v[1] < 1 {
		return nil, im.errorf("%s %v: expected two positive values for a 2-D op", name, v)
	}
	return v, nil
}

// padNode adds an explicit padding layer for padding an op cannot express itself.
func (im *importer) padNode(out string, x *val, p [4]int, value float64) (*val, error) {
	return im.emitPad(out+".pad", x, p, value)
}

func opConv(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	w, err := im.mustConstIn(n, 1, "Conv's weight")
	if err != nil {
		return err
	}
	b, err := im.constIn(n, 2, "Conv's bias")
	if err != nil {
		return err
	}
	return im.conv(n, x, w, b, "")
}

// conv emits a 2-D convolution with float weights w [M, C/g, kh, kw] and bias b (may be nil).
// name overrides the layer name (default: the node's output).
func (im *importer) conv(n *onnx.Node, x *val, w, b *cval, name string) error {
	v, err := im.convVal(n, x, w, b, name)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func (im *importer) convVal(n *onnx.Node, x *val, w, b *cval, name string) (*val, error) {
	if len(x.shape) != 4 || w == nil || len(w.shape) != 4 {
		return nil, im.unsupported(fmt.Sprintf("convolution of a rank-%d input (only 2-D images, rank 4, are supported)", len(x.shape)))
	}
	if name == "" {
		name = n.Outputs[0]
	}
	group := attrInt(n, "group", 1)
	strides, err := im.twoPos(n, "strides", 1)
	if err != nil {
		return nil, err
	}
	dil, err := im.twoPos(n, "dilations", 1)
	if err != nil {
		return nil, err
	}
	kernel := []int{w.shape[2], w.shape[3]}
	if kernel[0] < 1 || kernel[1] < 1 || w.shape[0] < 1 {
		return nil, im.errorf("weight of shape %v", w.shape)
	}
	if ks := attrInts(n, "kernel_shape"); ks != nil && !slices.Equal(ks, kernel) {
		return nil, im.errorf("kernel_shape %v disagrees with the weight's %v", ks, kernel)
	}
	if group < 1 || x.shape[1]%group != 0 || w.shape[1]*group != x.shape[1] || w.shape[0]%group != 0 {
		return nil, im.errorf("weight %v with group %d does not fit an input of %d channels", w.shape, group, x.shape[1])
	}
	p, err := im.spatialPads(n, x.shape[2:], kernel, strides, dil)
	if err != nil {
		return nil, err
	}
	if p[0] != p[2] || p[1] != p[3] {
		if x, err = im.padNode(name, x, p, 0); err != nil {
			return nil, err
		}
		p = [4]int{}
	}
	out := w.shape[0]
	v, err := im.emit(name, "conv2d", map[string]any{"out": out, "kernel": kernel, "stride": strides,
		"pad": []int{p[0], p[1]}, "dilation": dil, "groups": group}, x)
	if err != nil {
		return nil, err
	}
	bias := make([]float32, out)
	if b != nil {
		if b.numel() != out {
			return nil, im.errorf("bias of %d values for %d output channels", b.numel(), out)
		}
		bias = b.f32()
	}
	im.param(v, "weight", w.f32())
	im.param(v, "bias", bias)
	im.convs[v.node] = len(im.weights) - 2
	return v, nil
}

func opBatchNorm(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	if im.uses[outName(n, 1)]+im.uses[outName(n, 2)]+im.uses[outName(n, 3)]+im.uses[outName(n, 4)] > 0 || attrInt(n, "training_mode", 0) != 0 {
		return im.unsupported("BatchNormalization in training mode (running statistics outputs)")
	}
	var ps [4]*cval
	for i := range ps {
		if ps[i], err = im.constIn(n, i+1, "BatchNormalization's parameters"); err != nil {
			return err
		}
		if ps[i] == nil {
			return im.errorf("missing input %d", i+1)
		}
	}
	if len(x.shape) < 2 {
		return im.unsupported("BatchNormalization of a rank-1 input")
	}
	c := x.shape[1]
	for i, p := range ps {
		if p.numel() != c {
			return im.errorf("parameter %d has %d values for %d channels", i+1, p.numel(), c)
		}
	}
	eps := attrFloat(n, "epsilon", 1e-5)
	scale := make([]float64, c)
	shift := make([]float64, c)
	for i := 0; i < c; i++ {
		scale[i] = ps[0].v()[i] / math.Sqrt(ps[3].v()[i]+eps)
		shift[i] = ps[1].v()[i] - ps[2].v()[i]*scale[i]
	}
	// Fold into the convolution that feeds only this node: the layer keeps the convolution's
	// op and takes the BatchNormalization's output name.
	if k, ok := im.convs[x.node]; ok && im.uses[n.Inputs[0]] == 1 && x.q == nil {
		// New slices: the old ones may be shared with the initializer.
		wts, bias := slices.Clone(im.weights[k].data), slices.Clone(im.weights[k+1].data)
		per := len(wts) / c
		for o := 0; o < c; o++ {
			for j := o * per; j < (o+1)*per; j++ {
				wts[j] = float32(float64(wts[j]) * scale[o])
			}
			bias[o] = float32(float64(bias[o])*scale[o] + shift[o])
		}
		im.weights[k].data, im.weights[k+1].data = wts, bias
		im.renameLayer(x.node, n.Outputs[0])
		im.set(n, 0, x)
		im.note("BatchNormalization folded into the convolution before it")
		return nil
	}
	v, err := im.affine(n.Outputs[0], x, scale, shift)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func outName(n *onnx.Node, i int) string {
	if i < len(n.Outputs) {
		return n.Outputs[i]
	}
	return ""
}

// renameLayer gives a layer (not yet read by any other) the name of the ONNX value that now
// stands for it.
func (im *importer) renameLayer(old, onnxName string) {
	name := im.layerName(onnxName)
	renameNode(im.g, im.weights, im.names, old, name)
	if k, ok := im.convs[old]; ok {
		delete(im.convs, old)
		im.convs[name] = k
	}
	for _, v := range im.vals {
		if v.node == old {
			v.node = name
		}
	}
}

func opGemm(im *importer, n *onnx.Node) error {
	a, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	b, err := im.mustConstIn(n, 1, "Gemm's B")
	if err != nil {
		return err
	}
	c, err := im.constIn(n, 2, "Gemm's C")
	if err != nil {
		return err
	}
	if attrInt(n, "transA", 0) != 0 {
		return im.unsupported("Gemm with transA=1 on a computed input (it would transpose the batch)")
	}
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return im.errorf("Gemm of shapes %v and %v (both must be matrices)", a.shape, b.shape)
	}
	alpha, beta := attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
	w := b
	if attrInt(n, "transB", 0) == 0 {
		if w, err = foldTranspose(b, []int{1, 0}); err != nil {
			return im.errorf("%v", err)
		}
	}
	if w.shape[1] != a.shape[1] {
		return im.errorf("Gemm: A has %d columns, B gives %d", a.shape[1], w.shape[1])
	}
	out := w.shape[0]
	wf := w.f32()
	if alpha != 1 {
		wf = slices.Clone(wf)
		for i := range wf {
			wf[i] = float32(float64(wf[i]) * alpha)
		}
	}
	bias := make([]float32, out)
	if c != nil {
		switch {
		case c.numel() == out && (len(c.shape) == 1 || c.shape[len(c.shape)-1] == out):
			for i := range bias {
				bias[i] = float32(c.v()[i] * beta)
			}
		case c.numel() == 1:
			for i := range bias {
				bias[i] = float32(c.v()[0] * beta)
			}
		default:
			return im.unsupported(fmt.Sprintf("Gemm's C of shape %v (only a bias per output or a scalar)", c.shape))
		}
	}
	v, err := im.emit(n.Outputs[0], "dense", map[string]any{"out": out}, a)
	if err != nil {
		return err
	}
	im.param(v, "weight", wf)
	im.param(v, "bias", bias)
	im.set(n, 0, v)
	return nil
}

func opMatMul(im *importer, n *onnx.Node) error {
	a, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	b, err := im.mustConstIn(n, 1, "MatMul's second operand")
	if err != nil {
		return err
	}
	v, err := im.matmul(n, a, b, n.Outputs[0])
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

// matmul maps x [N K] times a constant [K M] onto a dense layer without bias.
func (im *importer) matmul(n *onnx.Node, a *val, b *cval, name string) (*val, error) {
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return nil, im.unsupported(fmt.Sprintf("MatMul of shapes %v and %v (only a batch of vectors times a constant matrix)", a.shape, b.shape))
	}
	if b.shape[0] != a.shape[1] {
		return nil, im.errorf("MatMul of shapes %v and %v", a.shape, b.shape)
	}
	w, err := foldTranspose(b, []int{1, 0})
	if err != nil {
		return nil, im.errorf("%v", err)
	}
	v, err := im.emit(name, "dense", map[string]any{"out": b.shape[1], "no_bias": true}, a)
	if err != nil {
		return nil, err
	}
	im.param(v, "weight", w.f32())
	return v, nil
}

func opBinary(im *importer, n *onnx.Node) error {
	a, err := im.mustIn(n, 0)
	if err != nil {
		return err
	}
	b, err := im.mustIn(n, 1)
	if err != nil {
		return err
	}
	v, err := im.binary(n.OpType, n.Outputs[0], a, b)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

// binary emits a elementwise op with numpy broadcasting. A constant operand that varies along
// the channel axis only (or not at all) becomes a channel_affine layer; anything else a
// constant layer feeding a broadcasting op.
func (im *importer) binary(op, out string, a, b *val) (*val, error) {
	if a.c == nil && b.c == nil {
		if _, err := broadcastShape(a.shape, b.shape); err != nil {
			return nil, im.errorf("%v", err)
		}
		if len(a.shape) != len(b.shape) || a.shape[0] != b.shape[0] {
			return nil, im.unsupported(fmt.Sprintf("broadcasting shapes %v and %v across the batch axis", a.shape, b.shape))
		}
		return im.emit(out, binaryType[op], nil, a, b)
	}
	x, c, constFirst := a, b.c, false
	if a.c != nil {
		x, c, constFirst = b, a.c, true
	}
	full, err := broadcastShape(x.shape, c.shape)
	if err != nil {
		return nil, im.errorf("%v", err)
	}
	if !slices.Equal(full, x.shape) {
		return nil, im.unsupported(fmt.Sprintf("a constant of shape %v that enlarges the computed operand %v", c.shape, x.shape))
	}
	if per, ok := perChannel(c, x.shape); ok && !(constFirst && op == "Div") {
		ch := 1
		if len(x.shape) >= 2 {
			ch = x.shape[1]
		}
		scale := make([]float64, ch)
		shift := make([]float64, ch)
		for i := range scale {
			k := per[i]
			switch {
			case op == "Add":
				scale[i], shift[i] = 1, k
			case op == "Sub" && !constFirst:
				scale[i], shift[i] = 1, -k
			case op == "Sub":
				scale[i], shift[i] = -1, k
			case op == "Mul":
				scale[i] = k
			case op == "Div":
				scale[i] = 1 / k
			}
		}
		if len(x.shape) >= 2 {
			return im.affine(out, x, scale, shift)
		}
	}
	cv, err := im.constNode(out, c, len(x.shape))
	if err != nil {
		return nil, err
	}
	if constFirst {
		return im.emit(out, binaryType[op], nil, cv, x)
	}
	return im.emit(out, binaryType[op], nil, x, cv)
}

// perChannel returns the per-channel values of a constant that broadcasts against shape
// (batch first) and varies along axis 1 at most.
func perChannel(c *cval, shape []int) ([]float64, bool) {
	ch := 1
	if len(shape) >= 2 {
		ch = shape[1]
	}
	if c.numel() == 1 {
		out := make([]float64, ch)
		for i := range out {
			out[i] = c.v()[0]
		}
		return out, true
	}
	if len(shape) < 2 || c.numel() != ch {
		return nil, false
	}
	// right-align c's shape against shape: the axis holding ch values must be axis 1.
	off := len(shape) - len(c.shape)
	for i, d := range c.shape {
		if d != 1 && i+off != 1 {
			return nil, false
		}
	}
	return c.v(), true
}

func opAct(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	var v *val
	switch n.OpType {
	case "Relu":
		v, err = im.emit(n.Outputs[0], "relu", nil, x)
	case "LeakyRelu":
		v, err = im.emit(n.Outputs[0], "leaky_relu", map[string]any{"slope": attrFloat(n, "alpha", 0.01)}, x)
	case "Sigmoid":
		v, err = im.emit(n.Outputs[0], "sigmoid", nil, x)
	case "Tanh":
		v, err = im.emit(n.Outputs[0], "tanh", nil, x)
	}
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func opClip(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if im.opset < 11 {
		lo, hi = attrFloat(n, "min", lo), attrFloat(n, "max", hi)
	} else {
		for i, p := range []*float64{&lo, &hi} {
			c, err := im.constIn(n, i+1, "Clip's bounds")
			if err != nil {
				return err
			}
			if c != nil {
				s, ok := c.scalar()
				if !ok {
					return im.errorf("Clip bound of shape %v (must be a scalar)", c.shape)
				}
				*p = s
			}
		}
	}
	var v *val
	if lo == 0 && math.IsInf(hi, 1) {
		v, err = im.emit(n.Outputs[0], "relu", nil, x)
	} else {
		v, err = im.emitClip(n.Outputs[0], x, lo, hi)
	}
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func opPool(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	d := len(x.shape) - 2
	if d != 1 && d != 2 {
		return im.unsupported(fmt.Sprintf("pooling of a rank-%d input (1-D and 2-D only: rank 3 or 4)", len(x.shape)))
	}
	if len(n.Outputs) > 1 && n.Outputs[1] != "" && im.uses[n.Outputs[1]] > 0 {
		return im.unsupported("MaxPool's Indices output")
	}
	kernel, err := im.spatialAttr(n, "kernel_shape", d, 0, 1)
	if err != nil {
		return err
	}
	if kernel[0] < 1 || kernel[1] < 1 {
		return im.errorf("kernel_shape %v", attrInts(n, "kernel_shape"))
	}
	strides, err := im.spatialAttr(n, "strides", d, 1, 1)
	if err != nil {
		return err
	}
	dil, err := im.spatialAttr(n, "dilations", d, 1, 1)
	if err != nil {
		return err
	}
	if min(strides[0], strides[1], dil[0], dil[1]) < 1 {
		return im.errorf("strides %v and dilations %v must be positive", attrInts(n, "strides"), attrInts(n, "dilations"))
	}
	if (dil[0] != 1 || dil[1] != 1) && n.OpType != "MaxPool" {
		return im.unsupported(fmt.Sprintf("%s with dilations %v (only max pooling has them)", n.OpType, attrInts(n, "dilations")))
	}
	out := n.Outputs[0]
	if d == 1 {
		// A 1-D pool runs as a 2-D one over an image of height 1.
		if x, err = im.emitReshape(out+".2d", x, []int{x.shape[1], 1, x.shape[2]}); err != nil {
			return err
		}
	}
	p, err := im.spatialPadsD(n, d, x.shape[2:], kernel, strides, dil)
	if err != nil {
		return err
	}
	ceil := attrInt(n, "ceil_mode", 0) != 0
	isMax := n.OpType == "MaxPool"
	include := attrInt(n, "count_include_pad", 0) != 0
	cfg := map[string]any{"kernel": kernel, "stride": strides, "ceil_mode": ceil}
	if dil[0] != 1 || dil[1] != 1 {
		cfg["dilation"] = dil
	}
	switch {
	case p[0] == p[2] && p[1] == p[3] && p[0] <= kernel[0]/2 && p[1] <= kernel[1]/2:
		cfg["pad"] = []int{p[0], p[1]}
	case max(p[0], p[2]) < kernel[0] && max(p[1], p[3]) < kernel[1]:
		// p is [top left bottom right] (ONNX's begins then ends); the pools take [top bottom
		// left right].
		cfg["pads"] = []int{p[0], p[2], p[1], p[3]}
	default:
		// A side as wide as the kernel leaves windows with no input pixel at all: explicit
		// padding gives them the padding value (max) or count (average with the pad counted).
		if !isMax && !include {
			return im.unsupported(fmt.Sprintf("AveragePool with pads %v as wide as the kernel %v, excluding padding from the count", p, kernel))
		}
		if ceil {
			return im.unsupported(fmt.Sprintf("pooling with ceil_mode and pads %v as wide as the kernel %v", p, kernel))
		}
		fill := 0.0
		if isMax {
			fill = -math.MaxFloat32
		}
		if x, err = im.padNode(out, x, p, fill); err != nil {
			return err
		}
	}
	typ := "maxpool2d"
	if !isMax {
		typ = "avgpool2d"
		cfg["exclude_pad"] = !include
	}
	name := out
	if d == 1 {
		name = out + ".pool"
	}
	v, err := im.emit(name, typ, cfg, x)
	if err != nil {
		return err
	}
	if d == 1 {
		if v, err = im.emitReshape(out, v, []int{v.shape[1], v.shape[3]}); err != nil {
			return err
		}
	}
	im.set(n, 0, v)
	return nil
}

func opGlobalPool(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	v, err := im.globalPool(n.OpType == "GlobalMaxPool", n.Outputs[0], x, nil)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

// globalPool pools [N C H W] to [N C 1 1] (the nn ops give [N C]; a reshape restores the
// ONNX shape). requant, when set, quantizes the pooled values before the reshape.
func (im *importer) globalPool(isMax bool, out string, x *val, requant *qparams) (*val, error) {
	if len(x.shape) < 3 {
		return nil, im.unsupported(fmt.Sprintf("global pooling of a rank-%d input", len(x.shape)))
	}
	typ := "global_avgpool"
	if isMax {
		typ = "global_max"
	}
	v, err := im.emit(out+".pool", typ, nil, x)
	if err != nil {
		return nil, err
	}
	if requant != nil {
		if v, err = im.requant(out+".q", v, requant); err != nil {
			return nil, err
		}
	}
	shape := append([]int{}, x.shape[1:2]...)
	for range x.shape[2:] {
		shape = append(shape, 1)
	}
	r, err := im.emitReshape(out, v, shape)
	if err != nil {
		return nil, err
	}
	r.q = v.q
	return r, nil
}

func opLRN(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	size := attrInt(n, "size", 0)
	if size < 1 {
		return im.errorf("LRN size %d", size)
	}
	alpha, beta, bias := attrFloat(n, "alpha", 1e-4), attrFloat(n, "beta", 0.75), attrFloat(n, "bias", 1)
	if alpha == 0 || beta == 0 || bias == 0 {
		return im.unsupported("LRN with alpha, beta or bias 0 (nn's lrn reads 0 as its default)")
	}
	cfg := map[string]any{"size": size, "alpha": alpha, "beta": beta, "k": bias}
	if size%2 == 0 {
		// ONNX's even window reaches further after the channel than before it.
		cfg["onnx_window"] = true
	}
	v, err := im.emit(n.Outputs[0], "lrn", cfg, x)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func opFlatten(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	ax, err := normAxis(attrInt(n, "axis", 1), len(x.shape)+1)
	if err != nil {
		return im.errorf("%v", err)
	}
	// ONNX's result is [prod(dims before ax), prod(dims from ax)]. At axis 1 that keeps the
	// batch axis. At any other axis the batch axis merges with per-sample axes; the layer then
	// keeps the batch axis apart, [N, prod(dims 1..ax-1), prod(dims from ax)] (at axis 0:
	// [N, prod(dims 1..)]), which holds the ONNX value's numbers in its order.
	var shape []int
	switch ax {
	case 0, 1:
		shape = []int{numel(x.shape[1:])}
	default:
		shape = []int{numel(x.shape[1:ax]), numel(x.shape[ax:])}
	}
	v, err := im.emitReshape(n.Outputs[0], x, shape)
	if err != nil {
		return err
	}
	if ax != 1 {
		if v == x {
			// Keep x's own value clean: the flag belongs to the Flatten's output.
			c := *x
			v = &c
		}
		v.merged = fmt.Sprintf("the output of Flatten at axis %d", ax)
	}
	v.q = x.q
	im.set(n, 0, v)
	return nil
}

func opReshape(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	target, err := im.reshapeShape(n)
	if err != nil {
		return err
	}
	full, err := reshapeTarget(x.shape, target, attrInt(n, "allowzero", 0) != 0)
	if err != nil {
		return im.errorf("%v", err)
	}
	if len(full) == 0 || full[0] != x.shape[0] {
		return im.unsupported(fmt.Sprintf("Reshape of %v to %v changes the batch axis", x.shape, full))
	}
	v, err := im.emitReshape(n.Outputs[0], x, full[1:])
	if err != nil {
		return err
	}
	v.q = x.q
	im.set(n, 0, v)
	return nil
}

func opUnsqueeze(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	axes := attrInts(n, "axes")
	if im.opset >= 13 {
		c, err := im.constIn(n, 1, "axes")
		if err != nil {
			return err
		}
		if c != nil {
			axes = c.ints()
		}
	}
	shape, err := squeezeShape(n.OpType, x.shape, axes)
	if err != nil {
		return im.errorf("%v", err)
	}
	if len(shape) == 0 || shape[0] != x.shape[0] || (n.OpType == "Unsqueeze" && slices.Contains(axes, 0)) || (n.OpType == "Squeeze" && (len(axes) == 0 && x.shape[0] == 1 || slices.Contains(axes, 0) || slices.Contains(axes, -len(x.shape)))) {
		return im.unsupported(fmt.Sprintf("%s of %v with axes %v touches the batch axis", n.OpType, x.shape, axes))
	}
	v, err := im.emitReshape(n.Outputs[0], x, shape[1:])
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func opTranspose(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	perm := attrInts(n, "perm")
	if perm == nil {
		for i := len(x.shape) - 1; i >= 0; i-- {
			perm = append(perm, i)
		}
	}
	if len(perm) != len(x.shape) {
		return im.errorf("perm %v for a rank-%d input", perm, len(x.shape))
	}
	if perm[0] != 0 {
		return im.unsupported(fmt.Sprintf("Transpose with perm %v moves the batch axis", perm))
	}
	ps := make([]int, len(perm)-1)
	for i := range ps {
		ps[i] = perm[i+1] - 1
	}
	v, err := im.emitTranspose(n.Outputs[0], x, ps)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func opConcat(im *importer, n *onnx.Node) error {
	if len(n.Inputs) == 0 {
		return im.errorf("no inputs")
	}
	var ins []*val
	for i := range n.Inputs {
		v, err := im.mustIn(n, i)
		if err != nil {
			return err
		}
		ins = append(ins, v)
	}
	rank := 0
	for _, v := range ins {
		if v.c == nil {
			rank = len(v.shape)
		}
	}
	for i, v := range ins {
		if v.c != nil {
			cv, err := im.constNode(n.Outputs[0], v.c, rank)
			if err != nil {
				return err
			}
			ins[i] = cv
		}
	}
	ax, err := im.perSampleAxis(attrInt(n, "axis", 1), len(ins[0].shape))
	if err != nil {
		return err
	}
	v, err := im.emitConcat(n.Outputs[0], ins, ax)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func opSplit(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	ax, err := im.perSampleAxis(attrInt(n, "axis", 0), len(x.shape))
	if err != nil {
		return err
	}
	d := x.shape[ax+1]
	sizes := attrInts(n, "split")
	if im.opset >= 13 {
		c, err := im.constIn(n, 1, "Split's sizes")
		if err != nil {
			return err
		}
		if c != nil {
			sizes = c.ints()
		}
	}
	if sizes == nil {
		k := len(n.Outputs)
		if no := attrInt(n, "num_outputs", 0); no > 0 {
			k = no
		}
		chunk := (d + k - 1) / k
		for s := 0; s < d; s += chunk {
			sizes = append(sizes, min(chunk, d-s))
		}
	}
	if len(sizes) != len(n.Outputs) {
		return im.errorf("%d split sizes for %d outputs", len(sizes), len(n.Outputs))
	}
	start := 0
	for i, s := range sizes {
		if s < 0 {
			return im.errorf("negative split size %d", s)
		}
		v, err := im.emitSlice(n.Outputs[i], x, ax, start, start+s)
		if err != nil {
			return err
		}
		im.set(n, i, v)
		start += s
	}
	if start != d {
		return im.errorf("split sizes %v do not add up to %d", sizes, d)
	}
	return nil
}

func opPad(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	mode := attrString(n, "mode", "constant")
	var pads []int
	value := 0.0
	if im.opset < 11 {
		pads = attrInts(n, "pads")
		if pads == nil {
			pads = attrInts(n, "paddings")
		}
		value = attrFloat(n, "value", 0)
	} else {
		c, err := im.constIn(n, 1, "Pad's pads")
		if err != nil {
			return err
		}
		if c == nil {
			return im.errorf("no pads")
		}
		pads = c.ints()
		if v, err := im.constIn(n, 2, "Pad's constant value"); err != nil {
			return err
		} else if v != nil {
			value, _ = v.scalar()
		}
		if a, err := im.constIn(n, 3, "Pad's axes"); err != nil {
			return err
		} else if a != nil {
			full := make([]int, 2*len(x.shape))
			axes := a.ints()
			if len(pads) != 2*len(axes) {
				return im.errorf("%d pads for %d axes", len(pads), len(axes))
			}
			for i, ax := range axes {
				ax, err := normAxis(ax, len(x.shape))
				if err != nil {
					return im.errorf("%v", err)
				}
				full[ax], full[ax+len(x.shape)] = pads[i], pads[i+len(axes)]
			}
			pads = full
		}
	}
	r := len(x.shape)
	if len(pads) != 2*r {
		return im.errorf("%d pads for a rank-%d input", len(pads), r)
	}
	if r != 4 {
		return im.unsupported(fmt.Sprintf("Pad of a rank-%d input (only the two spatial axes of a rank-4 input)", r))
	}
	if pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 {
		return im.unsupported(fmt.Sprintf("Pad %v of the batch or channel axis", pads))
	}
	for _, p := range pads {
		if p < 0 {
			return im.unsupported(fmt.Sprintf("negative pads %v (cropping)", pads))
		}
	}
	if mode != "constant" && !padModes[mode] {
		return im.unsupported(fmt.Sprintf("Pad mode %q", mode))
	}
	v, err := im.emitPadMode(n.Outputs[0], x, [4]int{pads[2], pads[3], pads[6], pads[7]}, value, mode)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func opSoftmax(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	r := len(x.shape)
	def := -1
	if im.opset < 13 {
		def = 1
	}
	ax, err := normAxis(attrInt(n, "axis", def), r)
	if err != nil {
		return im.errorf("%v", err)
	}
	if im.opset < 13 && ax != r-1 {
		// Before opset 13, Softmax flattens the axes from axis on into one.
		if numel(x.shape[ax+1:]) != 1 {
			return im.unsupported(fmt.Sprintf("opset-%d Softmax at axis %d of a rank-%d input (it softmaxes the flattened trailing axes)", im.opset, ax, r))
		}
	}
	if ax == 0 {
		return im.unsupported("Softmax along the batch axis")
	}
	v, err := im.emitSoftmax(n.Outputs[0], x, ax-1)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

// --- quantized operators ---------------------------------------------------------------------

// quantParams reads a (scale, zero point) pair of constants at inputs i, i+1 (per tensor).
func (im *importer) quantParams(n *onnx.Node, i int) (*qparams, error) {
	s, err := im.constIn(n, i, "quantization scale")
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, im.errorf("missing quantization scale (input %d)", i)
	}
	z, err := im.constIn(n, i+1, "quantization zero point")
	if err != nil {
		return nil, err
	}
	sv, ok := s.scalar()
	if !ok {
		return nil, im.unsupported(fmt.Sprintf("per-channel quantization of activations (scale of shape %v)", s.shape))
	}
	q := &qparams{scale: sv, lo: 0, hi: 255, integer: onnx.Uint8}
	if z != nil {
		zv, ok := z.scalar()
		if !ok {
			return nil, im.unsupported("per-channel zero points of activations")
		}
		q.zero = zv
		q.integer = z.dtype
		switch z.dtype {
		case onnx.Uint8:
		case onnx.Int8:
			q.lo, q.hi = -128, 127
		default:
			return nil, im.unsupported(fmt.Sprintf("quantization to %s", z.dtype))
		}
	}
	if !(sv > 0) {
		return nil, im.errorf("quantization scale %v must be positive", sv)
	}
	return q, nil
}

// requant puts a computed float tensor onto the grid q: by default it simulates the integer
// graph with fake_quant (round to the grid, saturate); with Options.FloatActivations it only
// saturates (clip to the grid's range), which keeps the ReLU/ReLU6 the integer range encodes.
func (im *importer) requant(out string, x *val, q *qparams) (*val, error) {
	var v *val
	var err error
	if im.o.FloatActivations {
		v, err = im.emitClip(out, x, (q.lo-q.zero)*q.scale, (q.hi-q.zero)*q.scale)
		im.note("quantized activations run in float (clipped to the quantized range, not rounded)")
	} else {
		v, err = im.emitFakeQuant(out, x, q)
		im.note("quantized activations simulated with fake_quant (rounded and saturated as the integer graph does)")
	}
	if err != nil {
		return nil, err
	}
	v.q = q
	return v, nil
}

func opQuantize(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	q, err := im.quantParams(n, 1)
	if err != nil {
		return err
	}
	v, err := im.requant(n.Outputs[0], x, q)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

func opDequantize(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	if x.q == nil {
		return im.unsupported("DequantizeLinear of a tensor that is not the output of a quantizing node")
	}
	q, err := im.quantParams(n, 1)
	if err != nil {
		return err
	}
	if q.scale != x.q.scale || q.zero != x.q.zero {
		return im.unsupported(fmt.Sprintf("DequantizeLinear with scale %g zero %g of a tensor quantized with scale %g zero %g", q.scale, q.zero, x.q.scale, x.q.zero))
	}
	v := *x
	v.q = nil
	im.set(n, 0, &v)
	return nil
}

// dequantIn reads the integer constant at input i with its scale and zero point at i+1, i+2,
// per tensor or per axis.
func (im *importer) dequantIn(n *onnx.Node, i int, axis int, what string) (*cval, error) {
	x, err := im.constIn(n, i, what)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, im.errorf("missing %s", what)
	}
	s, err := im.constIn(n, i+1, what+" scale")
	if err != nil {
		return nil, err
	}
	z, err := im.constIn(n, i+2, what+" zero point")
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, im.errorf("missing %s scale", what)
	}
	y, err := dequantConst(x, s, z, axis)
	if err != nil {
		return nil, im.errorf("%s: %v", what, err)
	}
	return y, nil
}

// qIn reads a quantized activation input: the node value holds the dequantized floats.
func (im *importer) qIn(n *onnx.Node, i int) (*val, error) {
	v, err := im.mustIn(n, i)
	if err != nil {
		return nil, err
	}
	if v.c != nil {
		return nil, nil
	}
	if v.q == nil {
		return nil, im.unsupported(fmt.Sprintf("input %q is not the output of a quantizing node", n.Inputs[i]))
	}
	return v, nil
}

func opQLinearConv(im *importer, n *onnx.Node) error {
	x, err := im.qIn(n, 0)
	if err != nil {
		return err
	}
	if x == nil {
		return im.unsupported("QLinearConv of a constant input")
	}
	yq, err := im.quantParams(n, 6)
	if err != nil {
		return err
	}
	if !im.o.FloatActivations {
		return im.qlinearConvExact(n, x, yq)
	}
	w, err := im.dequantIn(n, 3, 0, "QLinearConv's weight")
	if err != nil {
		return err
	}
	var bias *cval
	if b, err := im.constIn(n, 8, "QLinearConv's bias"); err != nil {
		return err
	} else if b != nil {
		// The int32 bias is quantized with scale x_scale * w_scale (per output channel).
		xs, err := im.constIn(n, 1, "x scale")
		if err != nil {
			return err
		}
		ws, err := im.constIn(n, 4, "w scale")
		if err != nil {
			return err
		}
		bias = &cval{shape: b.shape, data: make([]float64, b.numel()), dtype: onnx.Float}
		for o := range bias.data {
			s := ws.v()[0]
			if ws.numel() > 1 {
				s = ws.v()[o]
			}
			bias.data[o] = float64(float32(b.v()[o] * xs.v()[0] * s))
		}
	}
	v, err := im.convVal(n, x, w, bias, n.Outputs[0]+".conv")
	if err != nil {
		return err
	}
	delete(im.convs, v.node) // its output is requantized: no BatchNormalization folds into it
	r, err := im.requant(n.Outputs[0], v, yq)
	if err != nil {
		return err
	}
	im.set(n, 0, r)
	return nil
}

func opQLinearMatMul(im *importer, n *onnx.Node) error {
	a, err := im.qIn(n, 0)
	if err != nil {
		return err
	}
	if a == nil {
		return im.unsupported("QLinearMatMul with a constant first operand")
	}
	yq, err := im.quantParams(n, 6)
	if err != nil {
		return err
	}
	if !im.o.FloatActivations {
		return im.qlinearMatMulExact(n, a, yq)
	}
	b, err := im.dequantIn(n, 3, 1, "QLinearMatMul's second operand")
	if err != nil {
		return err
	}
	v, err := im.matmul(n, a, b, n.Outputs[0]+".matmul")
	if err != nil {
		return err
	}
	r, err := im.requant(n.Outputs[0], v, yq)
	if err != nil {
		return err
	}
	im.set(n, 0, r)
	return nil
}

func opQLinearAdd(im *importer, n *onnx.Node) error {
	var ops [2]*val
	for k, i := range []int{0, 3} {
		v, err := im.qIn(n, i)
		if err != nil {
			return err
		}
		if v == nil {
			c, err := im.dequantIn(n, i, 1, "QLinearAdd's constant operand")
			if err != nil {
				return err
			}
			v = &val{c: c}
		}
		ops[k] = v
	}
	yq, err := im.quantParams(n, 6)
	if err != nil {
		return err
	}
	v, err := im.binary("Add", n.Outputs[0]+".add", ops[0], ops[1])
	if err != nil {
		return err
	}
	r, err := im.requant(n.Outputs[0], v, yq)
	if err != nil {
		return err
	}
	im.set(n, 0, r)
	return nil
}

func opQLinearGlobalAveragePool(im *importer, n *onnx.Node) error {
	x, err := im.qIn(n, 0)
	if err != nil {
		return err
	}
	if x == nil {
		return im.unsupported("QLinearGlobalAveragePool of a constant")
	}
	if attrInt(n, "channels_last", 0) != 0 {
		return im.unsupported("QLinearGlobalAveragePool with channels_last")
	}
	yq, err := im.quantParams(n, 3)
	if err != nil {
		return err
	}
	v, err := im.globalPool(false, n.Outputs[0], x, yq)
	if err != nil {
		return err
	}
	im.set(n, 0, v)
	return nil
}

var _ = nn.InputName
