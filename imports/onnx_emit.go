package imports

import (
	"math"
	"slices"
)

// This file is the one place that knows the spec names and fields of the nn ops the ONNX
// importer emits beyond the classic CNN layers.

// binaryType maps ONNX elementwise operators onto nn's broadcasting ops.
var binaryType = map[string]string{"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}

// padModes are the non-constant Pad modes pad2d implements.
var padModes = map[string]bool{"reflect": true, "edge": true}

func (im *importer) emitPad(out string, x *val, p [4]int, value float64) (*val, error) {
	return im.emitPadMode(out, x, p, value, "constant")
}

func (im *importer) emitPadMode(out string, x *val, p [4]int, value float64, mode string) (*val, error) {
	// p is [top left bottom right] (ONNX order); pad2d takes [top bottom left right].
	cfg := map[string]any{"pads": []int{p[0], p[2], p[1], p[3]}}
	if value != 0 {
		cfg["value"] = value
	}
	if mode != "constant" {
		cfg["mode"] = mode
	}
	v, err := im.emit(out, "pad2d", cfg, x)
	if err == nil {
		v.q = x.q
	}
	return v, err
}

func (im *importer) emitClip(out string, x *val, lo, hi float64) (*val, error) {
	// clip writes an unbounded side as ±MaxFloat32 (JSON has no infinity).
	lo = math.Max(lo, -math.MaxFloat32)
	hi = math.Min(hi, math.MaxFloat32)
	return im.emit(out, "clip", map[string]any{"min": lo, "max": hi}, x)
}

func (im *importer) emitFakeQuant(out string, x *val, q *qparams) (*val, error) {
	return im.emit(out, "fake_quant", map[string]any{"scale": q.scale, "zero_point": int(q.zero), "qmin": int(q.lo), "qmax": int(q.hi)}, x)
}

// emitReshape reshapes x to the per-sample shape (an alias when nothing changes).
func (im *importer) emitReshape(out string, x *val, shape []int) (*val, error) {
	if slices.Equal(shape, x.shape[1:]) {
		return x, nil
	}
	if len(shape) == 1 {
		return im.emit(out, "flatten", nil, x)
	}
	return im.emit(out, "reshape", map[string]any{"shape": shape}, x)
}

func (im *importer) emitTranspose(out string, x *val, perm []int) (*val, error) {
	id := true
	for i, p := range perm {
		id = id && p == i
	}
	if id {
		return x, nil
	}
	return im.emit(out, "transpose", map[string]any{"perm": perm}, x)
}

func (im *importer) emitConcat(out string, ins []*val, axis int) (*val, error) {
	if axis == 0 {
		return im.emit(out, "concat", nil, ins...)
	}
	return im.emit(out, "concat", map[string]any{"axis": axis}, ins...)
}

func (im *importer) emitSlice(out string, x *val, axis, start, end int) (*val, error) {
	if end <= start {
		return nil, im.unsupported("an empty slice")
	}
	return im.emit(out, "slice", map[string]any{"axis": axis, "start": start, "end": end}, x)
}

func (im *importer) emitSoftmax(out string, x *val, axis int) (*val, error) {
	if axis == 0 {
		return im.emit(out, "softmax", nil, x)
	}
	return im.emit(out, "softmax", map[string]any{"axis": axis}, x)
}

// affine emits y = x * scale[c] + shift[c] over channel axis 1.
func (im *importer) affine(out string, x *val, scale, shift []float64) (*val, error) {
	v, err := im.emit(out, "channel_affine", map[string]any{"channels": len(scale)}, x)
	if err != nil {
		return nil, err
	}
	s := make([]float32, len(scale))
	b := make([]float32, len(shift))
	for i := range s {
		s[i], b[i] = float32(scale[i]), float32(shift[i])
	}
	im.param(v, "weight", s)
	im.param(v, "bias", b)
	return v, nil
}
