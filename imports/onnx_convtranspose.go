package imports

import (
	"fmt"
	"slices"

	"github.com/ventral-lab/ventral/formats/onnx"
)

// ConvTranspose maps onto nn's conv_transpose2d, which has PyTorch's geometry: symmetric padding
// and an output padding smaller than the stride. ONNX's begin and end pads, output_shape and
// auto_pad all select a window of rows out of the "full" transposed convolution (no padding,
// (in-1) stride + dilation (kernel-1) + 1 rows, extended at the end by rows that only the bias
// reaches). The importer picks the symmetric padding and output padding that give the window's
// end, and a slice crops what remains at its start. A 1-D ConvTranspose runs as a 2-D one of
// height 1; groups run as one conv_transpose2d per group between a slice of the input channels
// and a concat.

// floorDiv is Python's a // b (ONNX's reference splits negative total padding this way).
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// spatialAttr reads a per-spatial-axis attribute of a d-dimensional (1 or 2) op as two values,
// def for each when absent; a 1-D op's value goes on the width axis, the height axis gets lift.
func (im *importer) spatialAttr(n *onnx.Node, name string, d, def, lift int) ([]int, error) {
	v := attrInts(n, name)
	if v == nil {
		v = slices.Repeat([]int{def}, d)
	}
	if len(v) != d {
		return nil, im.errorf("%s %v: expected %d values for a %d-D op", name, v, d, d)
	}
	if d == 1 {
		v = []int{lift, v[0]}
	}
	return v, nil
}

func opConvTranspose(im *importer, n *onnx.Node) error {
	x, err := im.nodeIn(n, 0)
	if err != nil {
		return err
	}
	w, err := im.mustConstIn(n, 1, "ConvTranspose's weight")
	if err != nil {
		return err
	}
	b, err := im.constIn(n, 2, "ConvTranspose's bias")
	if err != nil {
		return err
	}
	d := len(x.shape) - 2
	if d != 1 && d != 2 {
		return im.unsupported(fmt.Sprintf("ConvTranspose of a rank-%d input (1-D and 2-D only: rank 3 or 4)", len(x.shape)))
	}
	if len(w.shape) != d+2 {
		return im.errorf("weight of shape %v for a rank-%d input", w.shape, len(x.shape))
	}
	out := n.Outputs[0]
	group := attrInt(n, "group", 1)
	cin := x.shape[1]
	if group < 1 || cin%group != 0 || w.shape[0] != cin || w.shape[1] < 1 {
		return im.errorf("weight %v with group %d does not fit an input of %d channels (expected [%d, out/group, kernel...])", w.shape, group, cin, cin)
	}
	kernel := append([]int{}, w.shape[2:]...)
	if ks := attrInts(n, "kernel_shape"); ks != nil && !slices.Equal(ks, kernel) {
		return im.errorf("kernel_shape %v disagrees with the weight's %v", ks, kernel)
	}
	in := append([]int{}, x.shape[2:]...)
	if d == 1 {
		kernel, in = []int{1, kernel[0]}, []int{1, in[0]}
	}
	if kernel[0] < 1 || kernel[1] < 1 {
		return im.errorf("weight of shape %v", w.shape)
	}
	strides, err := im.spatialAttr(n, "strides", d, 1, 1)
	if err != nil {
		return err
	}
	dil, err := im.spatialAttr(n, "dilations", d, 1, 1)
	if err != nil {
		return err
	}
	opad, err := im.spatialAttr(n, "output_padding", d, 0, 0)
	if err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		if strides[i] < 1 || dil[i] < 1 || opad[i] < 0 {
			return im.errorf("strides %v, dilations %v and output_padding %v must be positive (output_padding non-negative)", strides, dil, opad)
		}
	}
	// begin and end padding per axis, [top left] and [bottom right].
	var begin, end [2]int
	full := [2]int{}
	for i := 0; i < 2; i++ {
		full[i] = (in[i]-1)*strides[i] + dil[i]*(kernel[i]-1) + 1
	}
	autoPad := attrString(n, "auto_pad", "NOTSET")
	outShape := attrInts(n, "output_shape")
	switch {
	case outShape != nil || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER":
		var target []int
		if outShape != nil {
			if len(outShape) != d && len(outShape) != d+2 {
				return im.errorf("output_shape %v: expected %d spatial sizes", outShape, d)
			}
			target = outShape[len(outShape)-d:]
			if d == 1 {
				target = []int{1, target[0]}
			}
		} else {
			target = []int{in[0] * strides[0], in[1] * strides[1]}
		}
		for i := 0; i < 2; i++ {
			if target[i] < 1 {
				return im.errorf("output_shape %v", outShape)
			}
			total := full[i] + opad[i] - target[i]
			if autoPad == "SAME_UPPER" {
				begin[i], end[i] = floorDiv(total, 2), total-floorDiv(total, 2)
			} else {
				begin[i], end[i] = total-floorDiv(total, 2), floorDiv(total, 2)
			}
		}
	case autoPad == "NOTSET" || autoPad == "":
		if pads := attrInts(n, "pads"); pads != nil {
			if len(pads) != 2*d {
				return im.errorf("pads %v: expected %d values for a %d-D op", pads, 2*d, d)
			}
			if d == 1 {
				pads = []int{0, pads[0], 0, pads[1]}
			}
			begin, end = [2]int{pads[0], pads[1]}, [2]int{pads[2], pads[3]}
		}
	case autoPad == "VALID":
	default:
		return im.errorf("auto_pad %q (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)", autoPad)
	}
	// The output keeps rows [begin, full + ext) of the extended full output, ext = output
	// padding - end padding.
	var pad, outPad, crop0, crop1 [2]int
	for i := 0; i < 2; i++ {
		ext := opad[i] - end[i]
		if begin[i] < 0 {
			return im.unsupported(fmt.Sprintf("negative begin padding %d on spatial axis %d (pads, output_shape or auto_pad)", begin[i], i))
		}
		if full[i]+ext-begin[i] < 1 {
			return im.errorf("pads leave no output (axis %d: %d rows, begin %d, end %d, output_padding %d)", i, full[i], begin[i], end[i], opad[i])
		}
		// conv_transpose2d with pad P and output padding Q keeps rows [P, full - P + Q),
		// Q < stride. The largest P that reaches the end exactly leaves the least to crop.
		switch {
		case ext >= strides[i]:
			return im.unsupported(fmt.Sprintf("%d rows of output padding beyond the end padding on spatial axis %d with stride %d (nn's conv_transpose2d pads the output by less than its stride)", ext, i, strides[i]))
		case begin[i] < -ext:
			pad[i], outPad[i], crop1[i] = begin[i], 0, -(ext + begin[i])
		default:
			pad[i] = min(begin[i], strides[i]-1-ext)
			outPad[i] = ext + pad[i]
			crop0[i] = begin[i] - pad[i]
		}
	}
	xs := x
	if d == 1 {
		if xs, err = im.emitReshape(out+".2d", x, []int{cin, 1, x.shape[2]}); err != nil {
			return err
		}
	}
	mOut := w.shape[1] * group
	var bias []float32
	if b != nil {
		if b.numel() != mOut {
			return im.errorf("bias of %d values for %d output channels", b.numel(), mOut)
		}
		bias = b.f32()
	} else {
		bias = make([]float32, mOut)
	}
	crop := crop0 != [2]int{} || crop1 != [2]int{}
	name := out
	if crop || d == 1 {
		name = out + ".full"
	}
	wf := w.f32()
	cg, mg := cin/group, w.shape[1]
	per := cg * mg * kernel[0] * kernel[1]
	var parts []*val
	for gi := 0; gi < group; gi++ {
		xi, gname := xs, name
		if group > 1 {
			gname = fmt.Sprintf("%s.g%d", name, gi)
			if xi, err = im.emitSlice(gname+".in", xs, 0, gi*cg, (gi+1)*cg); err != nil {
				return err
			}
		}
		v, err := im.emit(gname, "conv_transpose2d", map[string]any{"out": mg, "kernel": kernel, "stride": strides,
			"pad": pad[:], "dilation": dil, "output_pad": outPad[:]}, xi)
		if err != nil {
			return err
		}
		im.param(v, "weight", wf[gi*per:(gi+1)*per])
		im.param(v, "bias", bias[gi*mg:(gi+1)*mg])
		parts = append(parts, v)
	}
	v := parts[0]
	if group > 1 {
		if v, err = im.emitConcat(name, parts, 0); err != nil {
			return err
		}
	}
	for i, axis := range []string{"h", "w"} {
		if crop0[i] == 0 && crop1[i] == 0 {
			continue
		}
		if v, err = im.emitSlice(out+".crop_"+axis, v, 1+i, crop0[i], v.shape[2+i]-crop1[i]); err != nil {
			return err
		}
	}
	if d == 1 {
		if v, err = im.emitReshape(out, v, []int{mOut, v.shape[3]}); err != nil {
			return err
		}
	} else if crop {
		// The last crop stands for the ONNX value: give it the value's name.
		name := im.layerName(out)
		renameNode(im.g, im.weights, im.names, v.node, name)
		v.node = name
	}
	im.set(n, 0, v)
	return nil
}
