package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzNpy(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, &Array{Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}})
	f.Add(buf.Bytes())
	buf.Reset()
	Encode32(&buf, &Array32{Shape: []int{3}, Data: []float32{1, 2, 3}})
	f.Add(buf.Bytes())
	f.Add(build(2, "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 1), }", []byte{0, 1, 0, 2}))
	f.Add(build(3, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }", []byte{1}))
	for _, n := range []string{"numpy_stored.npz", "numpy_deflated.npz"} {
		if b, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode("fuzz.npy", data)
		a32, err32 := Decode32("fuzz.npy", data)
		if (err == nil) != (err32 == nil) {
			t.Fatalf("Decode and Decode32 disagree: %v vs %v", err, err32)
		}
		if err == nil {
			if len(a.Data) != len(a32.Data) {
				t.Fatal("lengths differ")
			}
			var out bytes.Buffer
			if err := Encode(&out, a); err != nil {
				t.Fatal(err)
			}
			b, err := Decode("again.npy", out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			for i := range a.Data {
				if a.Data[i] != b.Data[i] && a.Data[i] == a.Data[i] {
					t.Fatalf("round trip changed element %d", i)
				}
			}
		}
		DecodeNPZ("fuzz.npz", data)
	})
}
