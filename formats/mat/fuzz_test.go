package mat

import (
	"bytes"
	"testing"
)

func seedFiles(f *testing.F) {
	vars := []Var{
		{"a", NewMatrix(2, 2, []float64{1, 2, 3, 4})},
		{"s", NewSingle([]int{1, 2, 1}, []float32{1, -1})},
		{"t", NewChar("hi")},
	}
	for _, c := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Encode(&buf, vars, c); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(bigEndianSample())
}

// walk calls every accessor on v and its children; none may panic.
func walk(v *Value, depth int) {
	if depth > 4 {
		return
	}
	_ = v.String()
	v.Float64s()
	v.Imag()
	v.Complex128s()
	v.RowMajor()
	v.Matrix()
	v.Scalar()
	v.Uint8s()
	v.Text()
	v.Strings()
	for i := 0; i < v.Len() && i < 8; i++ {
		if e, err := v.Index(i); err == nil {
			for _, name := range e.Fields() {
				if fv, err := e.Field(name); err == nil {
					walk(fv, depth+1)
				}
			}
			if e != v && v.Class() == ClassCell {
				walk(e, depth+1)
			}
		}
	}
}

func FuzzMat(f *testing.F) {
	seedFiles(f)
	old := maxDense
	maxDense = 1 << 16
	defer func() { maxDense = old }()
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.mat", data)
		if err != nil {
			return
		}
		for _, name := range file.Names() {
			v, err := file.Var(name)
			if err != nil {
				continue
			}
			walk(v, 0)
			// Numeric and char values survive a write and read back.
			if (v.Class().IsNumeric() || v.Class() == ClassChar) && validName(name) {
				var buf bytes.Buffer
				if err := Encode(&buf, []Var{{name, v}}, false); err != nil {
					t.Fatalf("re-encode %s: %v", name, err)
				}
				g, err := Parse("again.mat", buf.Bytes())
				if err != nil {
					t.Fatalf("re-parse %s: %v", name, err)
				}
				w, err := g.Var(name)
				if err != nil {
					t.Fatal(err)
				}
				if v.String() != w.String() {
					t.Fatalf("%s became %s", v, w)
				}
				a, _, _ := v.Float64s()
				b, _, _ := w.Float64s()
				if len(a) != len(b) {
					t.Fatalf("%s: %d values became %d", name, len(a), len(b))
				}
				for i := range a {
					if a[i] != b[i] && (a[i] == a[i] || b[i] == b[i]) {
						t.Fatalf("%s[%d]: %v became %v", name, i, a[i], b[i])
					}
				}
				s1, e1 := v.Text()
				s2, e2 := w.Text()
				if s1 != s2 || (e1 == nil) != (e2 == nil) {
					t.Fatalf("%s: text %q became %q", name, s1, s2)
				}
			}
		}
	})
}
