package netcdf

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func exercise(f *File) {
	for _, a := range f.Attrs {
		_ = a.String()
		a.Float64s()
	}
	for _, v := range f.Vars {
		v.Float64s()
		v.Int64s()
		v.Strings()
		_ = v.IsCoord()
		for _, a := range v.Attrs {
			_ = a.String()
		}
	}
}

func seeds(t testing.TB) [][]byte {
	names, _ := filepath.Glob(filepath.Join("testdata", "seed_*.nc"))
	if len(names) < 4 {
		t.Fatalf("seed corpus: %d files in testdata", len(names))
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzOpen(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := NewReader("fuzz.nc", bytes.NewReader(data), int64(len(data)), 1<<20)
		if err != nil {
			return
		}
		exercise(file)
	})
}

// TestMutatedSeeds runs the reader over seeded random corruptions of the seed files: none may
// panic or take long, and the uncorrupted seeds must read.
func TestMutatedSeeds(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i, seed := range seeds(t) {
		f, err := NewReader("seed.nc", bytes.NewReader(seed), int64(len(seed)), 1<<20)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		a, err := f.Var("a")
		if err != nil {
			t.Fatal(err)
		}
		if v, err := a.Float64s(); err != nil || len(v) != 6 || v[5] != 5 {
			t.Errorf("seed %d: a = %v, %v", i, v, err)
		}
		for it := 0; it < 1000; it++ {
			b := bytes.Clone(seed)
			for k := 0; k < 1+rng.IntN(3); k++ {
				p := rng.IntN(len(b) - 8)
				switch rng.IntN(3) {
				case 0:
					b[p] = byte(rng.IntN(256))
				case 1:
					copy(b[p:p+4], []byte{0x7f, 0xff, 0xff, 0xff})
				case 2:
					b[p] ^= 1 << rng.IntN(8)
				}
			}
			start := time.Now()
			if file, err := NewReader("mutated.nc", bytes.NewReader(b), int64(len(b)), 1<<20); err == nil {
				exercise(file)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("seed %d mutation %d took %v", i, it, d)
			}
		}
	}
}
