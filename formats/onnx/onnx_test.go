package onnx

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestSmallModel compares what the decoder reads from testdata/small.onnx with what the onnx
// Python package read from the same file (testdata/small.json, both written by testdata/gen.py).
func TestSmallModel(t *testing.T) {
	m, err := ReadModel("testdata/small.onnx")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		IRVersion    int64             `json:"ir_version"`
		Opsets       map[string]int64  `json:"opsets"`
		Metadata     map[string]string `json:"metadata"`
		Initializers map[string]struct {
			Dims   []int64   `json:"dims"`
			Type   int32     `json:"type"`
			Values []float64 `json:"values"`
		} `json:"initializers"`
		Nodes []struct {
			Name, Op        string
			Inputs, Outputs []string
			Attrs           map[string]int32
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if m.IRVersion != want.IRVersion {
		t.Errorf("ir_version %d, want %d", m.IRVersion, want.IRVersion)
	}
	if m.Opset() != want.Opsets[""] || m.Opsets["ai.onnx.ml"] != want.Opsets["ai.onnx.ml"] {
		t.Errorf("opsets %v, want %v", m.Opsets, want.Opsets)
	}
	for k, v := range want.Metadata {
		if m.Metadata[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, m.Metadata[k], v)
		}
	}
	if len(m.Graph.Initializers) != len(want.Initializers) {
		t.Fatalf("%d initializers, want %d", len(m.Graph.Initializers), len(want.Initializers))
	}
	for _, ti := range m.Graph.Initializers {
		w, ok := want.Initializers[ti.Name]
		if !ok {
			t.Fatalf("unexpected initializer %q", ti.Name)
		}
		if int32(ti.DataType) != w.Type || len(ti.Dims) != len(w.Dims) {
			t.Errorf("%s: type %v dims %v, want %d %v", ti.Name, ti.DataType, ti.Dims, w.Type, w.Dims)
		}
		vals, err := ti.Float32()
		if err != nil {
			t.Fatalf("%s: %v", ti.Name, err)
		}
		if len(vals) != len(w.Values) {
			t.Fatalf("%s: %d values, want %d", ti.Name, len(vals), len(w.Values))
		}
		for i := range vals {
			if vals[i] != float32(w.Values[i]) {
				t.Errorf("%s[%d] = %v, want %v", ti.Name, i, vals[i], w.Values[i])
			}
		}
		if ti.DataType == Int64 {
			iv, err := ti.Int64()
			if err != nil {
				t.Fatal(err)
			}
			for i := range iv {
				if float64(iv[i]) != w.Values[i] {
					t.Errorf("%s[%d] = %d, want %v", ti.Name, i, iv[i], w.Values[i])
				}
			}
		}
	}
	if len(m.Graph.Nodes) != len(want.Nodes) {
		t.Fatalf("%d nodes, want %d", len(m.Graph.Nodes), len(want.Nodes))
	}
	for i, n := range m.Graph.Nodes {
		w := want.Nodes[i]
		if n.Name != w.Name || n.OpType != w.Op || strings.Join(n.Inputs, ",") != strings.Join(w.Inputs, ",") || strings.Join(n.Outputs, ",") != strings.Join(w.Outputs, ",") {
			t.Errorf("node %d = %+v, want %+v", i, n, w)
		}
		if len(n.Attrs) != len(w.Attrs) {
			t.Errorf("node %d: %d attributes, want %d", i, len(n.Attrs), len(w.Attrs))
		}
		for _, a := range n.Attrs {
			if int32(a.Type) != w.Attrs[a.Name] {
				t.Errorf("node %d attribute %s: type %v, want %d", i, a.Name, a.Type, w.Attrs[a.Name])
			}
		}
	}
	conv := m.Graph.Nodes[0]
	if a := conv.Attr("pads"); a == nil || len(a.Ints) != 4 || a.Ints[0] != 1 || a.Ints[3] != 0 {
		t.Errorf("pads = %+v", a)
	}
	if a := conv.Attr("alpha"); a == nil || a.F != 0.25 {
		t.Errorf("alpha = %+v", a)
	}
	if a := conv.Attr("auto_pad"); a == nil || string(a.S) != "NOTSET" {
		t.Errorf("auto_pad = %+v", a)
	}
	if a := conv.Attr("ss"); a == nil || len(a.Strings) != 2 || string(a.Strings[1]) != "bc" {
		t.Errorf("ss = %+v", a)
	}
	if a := conv.Attr("fs"); a == nil || len(a.Floats) != 2 || a.Floats[1] != 2.5 {
		t.Errorf("fs = %+v", a)
	}
	if a := conv.Attr("t"); a == nil || a.T == nil || a.T.FloatData[1] != 8 {
		t.Errorf("t = %+v", a)
	}
	in := m.Graph.Inputs[0]
	if in.Name != "x" || in.ElemType != Float || len(in.Dims) != 4 || in.Dims[0] != -1 || in.DimParams[0] != "N" || in.Dims[3] != 5 {
		t.Errorf("input = %+v", in)
	}
	if out := m.Graph.Outputs[0]; out.Name != "z" || out.HasShape {
		t.Errorf("output = %+v", out)
	}
}

// TestTensorFile reads a test case's input and output protobufs; the values are checked against
// the numpy arrays the ONNX project wrote them from by the conformance test in package imports,
// so here it is enough that shape and count agree.
func TestTensorFile(t *testing.T) {
	dir := "/usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0"
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("libonnx-testdata missing: %v", err)
		}
		t.Skip(err)
	}
	x, err := ReadTensor(filepath.Join(dir, "input_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := ReadTensor(filepath.Join(dir, "output_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	xv, _ := x.Float32()
	yv, _ := y.Float32()
	if len(xv) != 60 || len(yv) != 60 {
		t.Fatalf("relu case holds %d and %d values, want 60 ([3 4 5])", len(xv), len(yv))
	}
	for i := range xv {
		if yv[i] != float32(math.Max(float64(xv[i]), 0)) {
			t.Fatalf("output[%d] = %v is not relu(%v)", i, yv[i], xv[i])
		}
	}
}

func TestErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/small.onnx")
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation before the graph field's end is an error (it cuts a length-delimited
	// field or drops the graph), and no truncation panics.
	graphEnd := 0
	for b, off := good, 0; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		n2 := protowire.ConsumeFieldValue(num, typ, b[n:])
		off += n + n2
		b = b[n+n2:]
		if num == 7 {
			graphEnd = off
		}
	}
	for n := 0; n < len(good); n++ {
		if _, err := DecodeModel(good[:n]); err == nil && n < graphEnd {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
	_, err = DecodeModel(good[:len(good)/2])
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("half a file: %v, want a truncation error", err)
	}
	// External data.
	var tb []byte
	tb = protowire.AppendTag(tb, 1, protowire.VarintType)
	tb = protowire.AppendVarint(tb, 4)
	tb = protowire.AppendTag(tb, 2, protowire.VarintType)
	tb = protowire.AppendVarint(tb, 1)
	tb = protowire.AppendTag(tb, 14, protowire.VarintType)
	tb = protowire.AppendVarint(tb, 1)
	ts, err := DecodeTensor(tb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Float32(); !errors.Is(err, ErrExternalData) {
		t.Errorf("external tensor: %v, want ErrExternalData", err)
	}
	// raw_data of the wrong length.
	tb2 := append([]byte(nil), tb[:len(tb)-2]...)
	tb2 = protowire.AppendTag(tb2, 9, protowire.BytesType)
	tb2 = protowire.AppendBytes(tb2, make([]byte, 15))
	ts, _ = DecodeTensor(tb2)
	if _, err := ts.Float32(); err == nil || !strings.Contains(err.Error(), "raw_data has 15 bytes") {
		t.Errorf("short raw_data: %v", err)
	}
	// Wrong wire type for a known field.
	var bad []byte
	bad = protowire.AppendTag(bad, 7, protowire.VarintType)
	bad = protowire.AppendVarint(bad, 3)
	if _, err := DecodeModel(bad); err == nil || !strings.Contains(err.Error(), "wire type") {
		t.Errorf("graph as varint: %v", err)
	}
	// Not a model at all.
	if _, err := DecodeModel([]byte("hello world, not protobuf")); err == nil {
		t.Error("text accepted as a model")
	}
}
