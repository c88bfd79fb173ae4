package tflite

import (
	flatbuffers "github.com/google/flatbuffers/go"
)

// Encode writes m as a TFLite flatbuffer with the fields Decode reads (tests build small models
// with it; ventral does not export TFLite files).
func Encode(m *Model) []byte {
	b := flatbuffers.NewBuilder(1024)
	ints := func(v []int32) flatbuffers.UOffsetT {
		if v == nil {
			return 0
		}
		b.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			b.PrependInt32(v[i])
		}
		return b.EndVector(len(v))
	}
	floats := func(v []float32) flatbuffers.UOffsetT {
		if v == nil {
			return 0
		}
		b.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			b.PrependFloat32(v[i])
		}
		return b.EndVector(len(v))
	}
	tables := func(v []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
		b.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			b.PrependUOffsetT(v[i])
		}
		return b.EndVector(len(v))
	}
	str := func(s string) flatbuffers.UOffsetT {
		if s == "" {
			return 0
		}
		return b.CreateString(s)
	}
	slot := func(i int, off flatbuffers.UOffsetT) {
		if off != 0 {
			b.PrependUOffsetTSlot(i, off, 0)
		}
	}
	var codes []flatbuffers.UOffsetT
	for _, c := range m.OperatorCodes {
		cc := str(c.CustomCode)
		b.StartObject(4)
		b.PrependInt8Slot(0, c.DeprecatedBuiltinCode, 0)
		slot(1, cc)
		b.PrependInt32Slot(2, c.Version, 1)
		b.PrependInt32Slot(3, int32(c.BuiltinCode), 0)
		codes = append(codes, b.EndObject())
	}
	var bufs []flatbuffers.UOffsetT
	for _, d := range m.Buffers {
		var dv flatbuffers.UOffsetT
		if len(d) > 0 {
			b.StartVector(1, len(d), 16)
			for i := len(d) - 1; i >= 0; i-- {
				b.PrependByte(d[i])
			}
			dv = b.EndVector(len(d))
		}
		b.StartObject(3)
		slot(0, dv)
		bufs = append(bufs, b.EndObject())
	}
	var graphs []flatbuffers.UOffsetT
	for _, g := range m.Subgraphs {
		var ts []flatbuffers.UOffsetT
		for _, t := range g.Tensors {
			var q flatbuffers.UOffsetT
			if t.Quantization != nil {
				mn, mx, sc := floats(t.Quantization.Min), floats(t.Quantization.Max), floats(t.Quantization.Scale)
				var zp flatbuffers.UOffsetT
				if z := t.Quantization.ZeroPoint; z != nil {
					b.StartVector(8, len(z), 8)
					for i := len(z) - 1; i >= 0; i-- {
						b.PrependInt64(z[i])
					}
					zp = b.EndVector(len(z))
				}
				b.StartObject(7)
				slot(0, mn)
				slot(1, mx)
				slot(2, sc)
				slot(3, zp)
				b.PrependInt32Slot(6, t.Quantization.QuantizedDimension, 0)
				q = b.EndObject()
			}
			shape, name := ints(t.Shape), str(t.Name)
			b.StartObject(5)
			slot(0, shape)
			b.PrependInt8Slot(1, int8(t.Type), 0)
			b.PrependUint32Slot(2, t.Buffer, 0)
			slot(3, name)
			slot(4, q)
			ts = append(ts, b.EndObject())
		}
		var ops []flatbuffers.UOffsetT
		for _, o := range g.Operators {
			opt := encodeOptions(b, o.OptionsType, &o.Options, ints)
			in, out := ints(o.Inputs), ints(o.Outputs)
			b.StartObject(5)
			b.PrependUint32Slot(0, o.OpcodeIndex, 0)
			slot(1, in)
			slot(2, out)
			b.PrependByteSlot(3, o.OptionsType, 0)
			slot(4, opt)
			ops = append(ops, b.EndObject())
		}
		tv, ov := tables(ts), tables(ops)
		in, out, name := ints(g.Inputs), ints(g.Outputs), str(g.Name)
		b.StartObject(5)
		slot(0, tv)
		slot(1, in)
		slot(2, out)
		slot(3, ov)
		slot(4, name)
		graphs = append(graphs, b.EndObject())
	}
	cv, gv, bv, desc := tables(codes), tables(graphs), tables(bufs), str(m.Description)
	b.StartObject(5)
	b.PrependUint32Slot(0, m.Version, 0)
	slot(1, cv)
	slot(2, gv)
	slot(3, desc)
	slot(4, bv)
	b.FinishWithFileIdentifier(b.EndObject(), []byte("TFL3"))
	return b.FinishedBytes()
}

func encodeOptions(b *flatbuffers.Builder, typ uint8, o *Options, ints func([]int32) flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	switch typ {
	case OptConv2D:
		b.StartObject(6)
		b.PrependInt8Slot(0, int8(o.Padding), 0)
		b.PrependInt32Slot(1, o.StrideW, 0)
		b.PrependInt32Slot(2, o.StrideH, 0)
		b.PrependInt8Slot(3, int8(o.Activation), 0)
		b.PrependInt32Slot(4, o.DilationW, 1)
		b.PrependInt32Slot(5, o.DilationH, 1)
	case OptDepthwiseConv2D:
		b.StartObject(7)
		b.PrependInt8Slot(0, int8(o.Padding), 0)
		b.PrependInt32Slot(1, o.StrideW, 0)
		b.PrependInt32Slot(2, o.StrideH, 0)
		b.PrependInt32Slot(3, o.DepthMultiplier, 0)
		b.PrependInt8Slot(4, int8(o.Activation), 0)
		b.PrependInt32Slot(5, o.DilationW, 1)
		b.PrependInt32Slot(6, o.DilationH, 1)
	case OptPool2D:
		b.StartObject(6)
		b.PrependInt8Slot(0, int8(o.Padding), 0)
		b.PrependInt32Slot(1, o.StrideW, 0)
		b.PrependInt32Slot(2, o.StrideH, 0)
		b.PrependInt32Slot(3, o.FilterW, 0)
		b.PrependInt32Slot(4, o.FilterH, 0)
		b.PrependInt8Slot(5, int8(o.Activation), 0)
	case OptFullyConnected:
		b.StartObject(3)
		b.PrependInt8Slot(0, int8(o.Activation), 0)
		b.PrependBoolSlot(2, o.KeepNumDims, false)
	case OptSoftmax:
		b.StartObject(1)
		b.PrependFloat32Slot(0, o.Beta, 0)
	case OptConcatenation:
		b.StartObject(2)
		b.PrependInt32Slot(0, o.Axis, 0)
		b.PrependInt8Slot(1, int8(o.Activation), 0)
	case OptAdd, OptMul, OptSub:
		b.StartObject(1)
		b.PrependInt8Slot(0, int8(o.Activation), 0)
	case OptReshape:
		ns := ints(o.NewShape)
		b.StartObject(1)
		if ns != 0 {
			b.PrependUOffsetTSlot(0, ns, 0)
		}
	case OptReducer:
		b.StartObject(1)
		b.PrependBoolSlot(0, o.KeepDims, false)
	case OptPad:
		b.StartObject(0)
	default:
		return 0
	}
	return b.EndObject()
}
