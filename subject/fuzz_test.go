package subject

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
)

// Any bytes as an .npz of activations give activations or an error, never a panic.
func FuzzPrecomputed(f *testing.F) {
	dir := f.TempDir()
	for i, arrays := range []map[string]*npy.Array{
		{"fc": {Shape: []int{3, 2}, Data: []float64{1, 2, 3, 4, 5, 6}}},
		{"fc": {Shape: []int{4}, Data: []float64{1, 2, 3, 4}}, "ids": {Shape: []int{4}, Data: []float64{3, 2, 1, 9}}},
	} {
		p := filepath.Join(dir, "seed"+string(rune('a'+i))+".npz")
		if err := npy.WriteNPZ(p, arrays, i == 1); err != nil {
			f.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "x.npz")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Open(p, "")
		if err != nil {
			return
		}
		s := set(t, "toy", "1", "2", "3")
		if out, err := m.Activations(s, m.layers, Options{}); err == nil {
			for _, a := range out {
				if a.Rows != 3 || len(a.Data) != 3*a.Cols {
					t.Fatalf("%d rows, %d values for %d columns", a.Rows, len(a.Data), a.Cols)
				}
			}
		}
	})
}
