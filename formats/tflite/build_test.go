package tflite

import (
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
)

// minimal builds a one-convolution TFLite file with the flatbuffers builder: input [1 4 4 1]
// float, weight [2 3 3 1] int8 per channel, output [1 4 4 2], Conv2DOptions SAME, stride 1,
// RELU6; operator code in builtin_code only (as schema 3a writers do for new codes).
func minimal() []byte {
	b := flatbuffers.NewBuilder(256)
	ints := func(v []int32) flatbuffers.UOffsetT {
		b.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			b.PrependInt32(v[i])
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
	// buffers: 0 empty, 1 weights (18 bytes)
	w := make([]byte, 18)
	for i := range w {
		w[i] = byte(int8(i - 9))
	}
	wv := b.CreateByteVector(w)
	b.StartObject(3)
	buf0 := b.EndObject()
	b.StartObject(3)
	b.PrependUOffsetTSlot(0, wv, 0)
	buf1 := b.EndObject()
	// quantization of the weight: scales [0.5 0.25], zero points [0 0], dimension 0
	b.StartVector(4, 2, 4)
	b.PrependFloat32(0.25)
	b.PrependFloat32(0.5)
	sc := b.EndVector(2)
	b.StartVector(8, 2, 8)
	b.PrependInt64(0)
	b.PrependInt64(0)
	zp := b.EndVector(2)
	b.StartObject(7)
	b.PrependUOffsetTSlot(2, sc, 0)
	b.PrependUOffsetTSlot(3, zp, 0)
	b.PrependInt32Slot(6, 0, 0)
	q := b.EndObject()
	tensor := func(name string, shape []int32, typ TensorType, buf uint32, quant flatbuffers.UOffsetT) flatbuffers.UOffsetT {
		n := b.CreateString(name)
		s := ints(shape)
		b.StartObject(5)
		b.PrependUOffsetTSlot(0, s, 0)
		b.PrependByteSlot(1, byte(typ), 0)
		b.PrependUint32Slot(2, buf, 0)
		b.PrependUOffsetTSlot(3, n, 0)
		if quant != 0 {
			b.PrependUOffsetTSlot(4, quant, 0)
		}
		return b.EndObject()
	}
	t0 := tensor("x", []int32{1, 4, 4, 1}, Float32, 0, 0)
	t1 := tensor("w", []int32{2, 3, 3, 1}, Int8, 1, q)
	t2 := tensor("y", []int32{1, 4, 4, 2}, Float32, 0, 0)
	b.StartObject(7)
	b.PrependByteSlot(0, byte(PaddingSame), 0)
	b.PrependInt32Slot(1, 1, 0)
	b.PrependInt32Slot(2, 1, 0)
	b.PrependByteSlot(3, byte(ActRelu6), 0)
	opt := b.EndObject()
	oin, oout := ints([]int32{0, 1, -1}), ints([]int32{2})
	b.StartObject(5)
	b.PrependUint32Slot(0, 0, 0)
	b.PrependUOffsetTSlot(1, oin, 0)
	b.PrependUOffsetTSlot(2, oout, 0)
	b.PrependByteSlot(3, OptConv2D, 0)
	b.PrependUOffsetTSlot(4, opt, 0)
	op := b.EndObject()
	tv, ov := tables([]flatbuffers.UOffsetT{t0, t1, t2}), tables([]flatbuffers.UOffsetT{op})
	gin, gout := ints([]int32{0}), ints([]int32{2})
	gname := b.CreateString("main")
	b.StartObject(5)
	b.PrependUOffsetTSlot(0, tv, 0)
	b.PrependUOffsetTSlot(1, gin, 0)
	b.PrependUOffsetTSlot(2, gout, 0)
	b.PrependUOffsetTSlot(3, ov, 0)
	b.PrependUOffsetTSlot(4, gname, 0)
	sg := b.EndObject()
	b.StartObject(4)
	b.PrependInt32Slot(3, int32(OpConv2D), 0)
	oc := b.EndObject()
	ocs, sgs, bufs := tables([]flatbuffers.UOffsetT{oc}), tables([]flatbuffers.UOffsetT{sg}), tables([]flatbuffers.UOffsetT{buf0, buf1})
	desc := b.CreateString("minimal")
	b.StartObject(5)
	b.PrependUint32Slot(0, 3, 0)
	b.PrependUOffsetTSlot(1, ocs, 0)
	b.PrependUOffsetTSlot(2, sgs, 0)
	b.PrependUOffsetTSlot(3, desc, 0)
	b.PrependUOffsetTSlot(4, bufs, 0)
	root := b.EndObject()
	b.FinishWithFileIdentifier(root, []byte("TFL3"))
	return b.FinishedBytes()
}

// TestMinimal: the fields the builder wrote come back, and the int8 weight dequantizes per
// output channel.
func TestMinimal(t *testing.T) {
	m, err := Decode("minimal", minimal())
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 3 || m.Description != "minimal" || len(m.Subgraphs) != 1 || len(m.Buffers) != 2 {
		t.Fatalf("%+v", m)
	}
	g := m.Subgraphs[0]
	o := g.Operators[0]
	if m.Op(&o) != OpConv2D || o.Options.Padding != PaddingSame || o.Options.StrideW != 1 || o.Options.Activation != ActRelu6 || o.Options.DilationH != 1 {
		t.Fatalf("operator %+v", o)
	}
	if len(o.Inputs) != 3 || o.Inputs[2] != -1 || g.Name != "main" {
		t.Fatalf("inputs %v", o.Inputs)
	}
	w, err := m.Float32s(&g.Tensors[1])
	if err != nil {
		t.Fatal(err)
	}
	// channel 0: (i-9)*0.5 for i<9, channel 1: (i-9)*0.25
	for i, v := range w {
		s := float32(0.5)
		if i >= 9 {
			s = 0.25
		}
		if v != float32(i-9)*s {
			t.Fatalf("weight %d: %v", i, v)
		}
	}
}
