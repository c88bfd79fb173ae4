package safetensors

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// file assembles a safetensors file from a header and a data buffer.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func le(xs ...any) []byte {
	var b bytes.Buffer
	for _, x := range xs {
		binary.Write(&b, binary.LittleEndian, x)
	}
	return b.Bytes()
}

func TestReadDtypes(t *testing.T) {
	// Layout as the format README describes it, with every readable dtype; the header is padded
	// with spaces and tensors are stored out of name order.
	data := le(
		[]float32{1.5, -2, 3, 4},                                       // "w" F32 [2,2]          0..16
		[]float64{math.Pi},                                             // "d" F64 []             16..24
		uint16(0x3c00), uint16(0xc000), uint16(0x7c00), uint16(0x0001), // "h" F16 [4]  24..32
		uint16(0x3f80), uint16(0xc040), // "bf" BF16 [2]    32..36
		[]int32{-7},      // "i32" I32 [1]    36..40
		[]int64{1 << 40}, // "i64" I64 [1,1]  40..48
		[]int16{-300},    // "i16" I16 [1]    48..50
		[]int8{-1},       // "i8" I8 [1]      50..51
		[]uint8{200},     // "u8" U8 [1]      51..52
		[]uint8{0, 3},    // "b" BOOL [2]     52..54
	)
	hdr := `{"__metadata__":{"format":"pt","source":"test"},` +
		`"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},` +
		`"d":{"dtype":"F64","shape":[],"data_offsets":[16,24]},` +
		`"h":{"dtype":"F16","shape":[4],"data_offsets":[24,32]},` +
		`"bf":{"dtype":"BF16","shape":[2],"data_offsets":[32,36]},` +
		`"i32":{"dtype":"I32","shape":[1],"data_offsets":[36,40]},` +
		`"i64":{"dtype":"I64","shape":[1,1],"data_offsets":[40,48]},` +
		`"i16":{"dtype":"I16","shape":[1],"data_offsets":[48,50]},` +
		`"i8":{"dtype":"I8","shape":[1],"data_offsets":[50,51]},` +
		`"u8":{"dtype":"U8","shape":[1],"data_offsets":[51,52]},` +
		`"e":{"dtype":"F32","shape":[0,3],"data_offsets":[54,54]},` +
		`"b":{"dtype":"BOOL","shape":[2],"data_offsets":[52,54]}}    `
	ts, meta, err := Decode("t.safetensors", file(hdr, data))
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" || meta["source"] != "test" || len(meta) != 2 {
		t.Errorf("metadata %v", meta)
	}
	want := map[string][]float32{
		"w": {1.5, -2, 3, 4}, "d": {float32(math.Pi)}, "h": {1, -2, float32(math.Inf(1)), float32(math.Ldexp(1, -24))},
		"bf": {1, -3}, "i32": {-7}, "i64": {1 << 40}, "i16": {-300}, "i8": {-1}, "u8": {200}, "b": {0, 1}, "e": {},
	}
	names := []string{}
	for _, tn := range ts {
		names = append(names, tn.Name)
		w := want[tn.Name]
		if len(w) != len(tn.F32) {
			t.Errorf("%s: %v, want %v", tn.Name, tn.F32, w)
			continue
		}
		for i := range w {
			if w[i] != tn.F32[i] {
				t.Errorf("%s: %v, want %v", tn.Name, tn.F32, w)
			}
		}
	}
	if got := strings.Join(names, ","); got != "b,bf,d,e,h,i16,i32,i64,i8,u8,w" {
		t.Errorf("order %s", got)
	}
	if ts[len(ts)-1].DType != "F32" || len(ts[len(ts)-1].Shape) != 2 || ts[2].DType != "F64" || len(ts[2].Shape) != 0 {
		t.Errorf("dtype/shape: %+v %+v", ts[len(ts)-1], ts[2])
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	ts := []Tensor{
		{Name: "layer2.weight", Shape: []int{2, 3}, F32: []float32{1, 2, 3, 4, 5, float32(math.NaN())}},
		{Name: "layer1.bias", DType: "F32", Shape: []int{3}, F32: []float32{-1, 0, 1}},
		{Name: "scalar", Shape: []int{}, F32: []float32{42}},
		{Name: "empty", Shape: []int{0}, F32: nil},
		{Name: "ünï<&>", Shape: []int{1}, F32: []float32{7}},
	}
	meta := map[string]string{"z": "last", "a": "first", "quote": `"x"`}
	if err := Write(p, ts, meta); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(p)
	if n := binary.LittleEndian.Uint64(b1); (8+n)%8 != 0 {
		t.Errorf("data buffer starts at %d, not 8-aligned", 8+n)
	}
	got, gm, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ts) || gm["a"] != "first" || gm["quote"] != `"x"` || len(gm) != 3 {
		t.Fatalf("got %d tensors, meta %v", len(got), gm)
	}
	byName := map[string]Tensor{}
	for _, g := range got {
		byName[g.Name] = g
	}
	for _, w := range ts {
		g := byName[w.Name]
		if g.DType != "F32" || len(g.Shape) != len(w.Shape) || len(g.F32) != len(w.F32) {
			t.Fatalf("%s: %+v", w.Name, g)
		}
		for i := range w.F32 {
			if math.Float32bits(w.F32[i]) != math.Float32bits(g.F32[i]) {
				t.Errorf("%s[%d] = %v, want %v", w.Name, i, g.F32[i], w.F32[i])
			}
		}
	}
	// Same content in another order gives identical bytes.
	rev := []Tensor{ts[4], ts[3], ts[2], ts[1], ts[0]}
	if err := Write(p, rev, map[string]string{"quote": `"x"`, "a": "first", "z": "last"}); err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(p)
	if sha256.Sum256(b1) != sha256.Sum256(b2) {
		t.Error("output depends on input order")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d entries in dir, temp file left?", len(ents))
	}
	for _, bad := range [][]Tensor{
		{{Name: "a", Shape: []int{2}, F32: []float32{1}}},
		{{Name: "a", Shape: []int{1}, F32: []float32{1}}, {Name: "a", Shape: []int{1}, F32: []float32{1}}},
		{{Name: "", Shape: []int{1}, F32: []float32{1}}},
		{{Name: "a", DType: "F16", Shape: []int{1}, F32: []float32{1}}},
		{{Name: "a", Shape: []int{-1}, F32: nil}},
	} {
		if err := Write(p, bad, nil); err == nil {
			t.Errorf("Write(%+v) succeeded", bad)
		}
	}
	if b3, _ := os.ReadFile(p); !bytes.Equal(b3, b2) {
		t.Error("a failed Write changed the existing file")
	}
}

func TestInvalid(t *testing.T) {
	f32 := le([]float32{1, 2})
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{1, 2}, "too short"},
		{"huge header", append(le(uint64(1<<62)), '{', '}'), "exceeds"},
		{"header past end", append(le(uint64(100)), '{', '}'), "only 2 bytes follow"},
		{"not json", file("[1,2]", nil), "start with '{'"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32), "overlap"},
		{"hole", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32), "hole"},
		{"beyond", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32), "beyond"},
		{"uncovered", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32), "cover 4 of 8"},
		{"shape mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32), "needs 12 bytes"},
		{"reversed", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32), "end before"},
		{"dtype", file(`{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}`, f32), "unknown dtype"},
		{"u16", file(`{"a":{"dtype":"U16","shape":[4],"data_offsets":[0,8]}}`, f32), "unsupported"},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32), "duplicate"},
		{"missing", file(`{"a":{"dtype":"F32","shape":[2]}}`, f32), "data_offsets"},
		{"negative", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32), "negative"},
		{"overflow", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}`, f32), "too many"},
		{"metadata", file(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
		{"trailing", file(`{}x`, nil), "after the JSON"},
	}
	for _, c := range cases {
		_, _, err := Decode("bad.safetensors", c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.safetensors: ") {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if ts, _, err := Decode("empty", file("{}      ", nil)); err != nil || len(ts) != 0 {
		t.Errorf("empty file: %v %v", ts, err)
	}
}
