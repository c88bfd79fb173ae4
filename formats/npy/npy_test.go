package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
)

// Expected values below were printed by numpy 1.24.2 (numpy.load) from the same files.
func TestAllen(t *testing.T) {
	cases := []struct {
		file                   string
		rows, cols             int
		first, at12, last, sum float64
		min, max               float64
	}{
		{"Allen_train_input.npy", 100, 961, 14, 148, 243, 11223981, 0, 255},
		{"Allen_train_output.npy", 100, 212, 7.6788482666015625, 0.7608871459960938, -0.8591158986091614, 3031.636209864577, -53.266056060791016, 262.5787658691406},
		{"Allen_test_input.npy", 18, 961, 239, 115, 86, 2036113, 0, 255},
		{"Allen_test_output.npy", 18, 212, -2.411602258682251, -1.4682090282440186, -6.908844470977783, 154.79785604142307, -50.547176361083984, 248.67276000976562},
	}
	for _, c := range cases {
		p := mirror.Path(t, "allen-mouse-v1/"+c.file)
		a, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Shape) != 2 || a.Shape[0] != c.rows || a.Shape[1] != c.cols || len(a.Data) != c.rows*c.cols {
			t.Fatalf("%s: shape %v", c.file, a.Shape)
		}
		s, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
		for _, x := range a.Data {
			s += x
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		if a.Data[0] != c.first || a.Data[1*c.cols+2] != c.at12 || a.Data[len(a.Data)-1] != c.last ||
			math.Abs(s-c.sum) > 1e-9*math.Abs(c.sum) || lo != c.min || hi != c.max {
			t.Errorf("%s: first %v [1,2] %v last %v sum %v min %v max %v", c.file, a.Data[0], a.Data[1*c.cols+2], a.Data[len(a.Data)-1], s, lo, hi)
		}
		a32, err := ReadFloat32(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range a.Data {
			if a32.Data[i] != float32(x) {
				t.Fatalf("%s: float32 path differs at %d", c.file, i)
			}
		}
	}
}

func TestNumpyNPZ(t *testing.T) {
	for _, f := range []string{"numpy_deflated.npz", "numpy_stored.npz"} {
		m, err := ReadNPZ(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		a, b, c, d := m["a"], m["b"], m["c"], m["d"]
		if a == nil || b == nil || c == nil || d == nil || len(m) != 4 {
			t.Fatalf("%s: members %v", f, m)
		}
		check(t, f+" a", a, []int{2, 3}, []float64{0, 0.25, 0.5, 0.75, 1, 1.25})
		check(t, f+" b", b, []int{2, 2}, []float64{-1, 2, 3, -4})
		check(t, f+" c", c, []int{3}, []float64{1, 0, 1})
		want := make([]float64, 24)
		for i := range want {
			want[i] = float64(i)
		}
		check(t, f+" d (Fortran order)", d, []int{2, 3, 4}, want)
	}
	a, err := Read(filepath.Join("testdata", "numpy_u8_scalar.npy"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, "scalar", a, []int{}, []float64{1<<40 + 3})
}

func check(t *testing.T, what string, a *Array, shape []int, data []float64) {
	t.Helper()
	if len(a.Shape) != len(shape) || len(a.Data) != len(data) {
		t.Fatalf("%s: shape %v data %v, want %v %v", what, a.Shape, a.Data, shape, data)
	}
	for i := range shape {
		if a.Shape[i] != shape[i] {
			t.Fatalf("%s: shape %v, want %v", what, a.Shape, shape)
		}
	}
	for i := range data {
		if a.Data[i] != data[i] {
			t.Fatalf("%s: data %v, want %v", what, a.Data, data)
		}
	}
}

// build makes a .npy file with the given version, dict and raw data.
func build(major byte, dict string, data []byte) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	h := dict + "\n"
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
	}
	return append(append(b, h...), data...)
}

func TestDtypesAndVersions(t *testing.T) {
	be := func(x ...uint16) []byte {
		var b []byte
		for _, v := range x {
			b = binary.BigEndian.AppendUint16(b, v)
		}
		return b
	}
	f8 := binary.BigEndian.AppendUint64(nil, math.Float64bits(-2.5))
	cases := []struct {
		name  string
		major byte
		dict  string
		data  []byte
		want  []float64
	}{
		{"v2 >i2", 2, "{'descr': '>i2', 'fortran_order': False, 'shape': (3,), }", be(1, 0xffff, 300), []float64{1, -1, 300}},
		{"v3 >f8", 3, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1), }", f8, []float64{-2.5}},
		{"|u1", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,)}", []byte{0, 255}, []float64{0, 255}},
		{"|i1", 1, `{"descr": "|i1", "fortran_order": False, "shape": (2,)}`, []byte{0x80, 127}, []float64{-128, 127}},
		{"<u1", 1, "{'descr': '<u1', 'fortran_order': False, 'shape': (1,)}", []byte{7}, []float64{7}},
		{"|b1", 1, "{'descr': '|b1', 'fortran_order': True, 'shape': (3,)}", []byte{1, 0, 2}, []float64{1, 0, 1}},
		{"<f2", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3,)}", []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c}, []float64{1, -2, math.Inf(1)}},
		{"<i8 Fortran", 1, "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 2), }", i8s(1, 3, 2, 4), []float64{1, 2, 3, 4}},
		{"<i4 empty", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (0, 5), }", nil, []float64{}},
		{"<u4 2L", 1, "{'descr': '<u4', 'fortran_order': False, 'shape': (2L,), }", []byte{1, 0, 0, 0, 0, 0, 0, 128}, []float64{1, 1 << 31}},
	}
	for _, c := range cases {
		a, err := Decode(c.name, build(c.major, c.dict, c.data))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(a.Data) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, a.Data, c.want)
			continue
		}
		for i := range c.want {
			if a.Data[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, a.Data, c.want)
				break
			}
		}
	}
}

func i8s(x ...int64) []byte {
	var b []byte
	for _, v := range x {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

func TestErrors(t *testing.T) {
	cases := []struct{ dict, data, want string }{
		{"{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}", "0123456789abcdef", "unsupported"},
		{"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "0123", "structured"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 100000000000, 100000000000)}", "", "too many"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,)}", "", "needs 8000000000 data bytes"},
		{"{'descr': '<f8', 'shape': (1,)}", "01234567", "missing key \"fortran_order\""},
		{"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,)}", "01234567", "True or False"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", "01234567", "non-negative"},
	}
	for _, c := range cases {
		_, err := Decode("bad.npy", build(1, c.dict, []byte(c.data)))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.npy: ") {
			t.Errorf("%s: error %v, want %q", c.dict, err, c.want)
		}
	}
	if _, err := Decode("x.npy", []byte("hello")); err == nil {
		t.Error("no error for a non-npy file")
	}
	b := build(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", nil)
	binary.LittleEndian.PutUint32(b[8:], 0xffffffff)
	if _, err := Decode("x.npy", b); err == nil || !strings.Contains(err.Error(), "header length") {
		t.Errorf("huge header: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a := &Array{Shape: []int{2, 3}, Data: []float64{1, -2, 3.5, math.Inf(-1), 0, 1e300}}
	p := filepath.Join(dir, "a.npy")
	if err := Write(p, a); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "f8", got, a.Shape, a.Data)
	raw, _ := os.ReadFile(p)
	if (len(raw)-len(a.Data)*8)%64 != 0 {
		t.Errorf("header not padded to 64 bytes: file %d bytes", len(raw))
	}
	a32 := &Array32{Shape: []int{4}, Data: []float32{1, 2, -3, 0.5}}
	if err := Write32(p, a32); err != nil {
		t.Fatal(err)
	}
	g32, err := ReadFloat32(p)
	if err != nil || len(g32.Data) != 4 || g32.Data[2] != -3 || len(g32.Shape) != 1 || g32.Shape[0] != 4 {
		t.Errorf("f4: %v %v", g32, err)
	}
	if err := Write(p, &Array{Shape: []int{3}, Data: []float64{1}}); err == nil {
		t.Error("shape mismatch should fail")
	}
	z := filepath.Join(dir, "z.npz")
	for _, compress := range []bool{false, true} {
		in := map[string]*Array{"x": a, "scalar": {Shape: []int{}, Data: []float64{7}}}
		if err := WriteNPZ(z, in, compress); err != nil {
			t.Fatal(err)
		}
		m, err := ReadNPZ(z)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "npz x", m["x"], a.Shape, a.Data)
		check(t, "npz scalar", m["scalar"], []int{}, []float64{7})
		b1, _ := os.ReadFile(z)
		WriteNPZ(z, in, compress)
		b2, _ := os.ReadFile(z)
		if !bytes.Equal(b1, b2) {
			t.Error("npz output not deterministic")
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries, want 2 (temp files left?)", len(ents))
	}
}
