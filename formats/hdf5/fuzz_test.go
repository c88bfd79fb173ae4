package hdf5

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// exercise calls every reader on every object reachable from g; none may panic.
func exercise(g *Group, seen map[uint64]bool, depth int) {
	if depth > 8 || seen[g.Address()] {
		return
	}
	seen[g.Address()] = true
	exerciseAttrs(g.Attrs())
	g.Datasets()
	names, err := g.Members()
	if err != nil {
		return
	}
	for _, n := range names {
		k, err := g.Kind(n)
		if err != nil {
			continue
		}
		switch k {
		case KindGroup:
			if sub, err := g.Group(n); err == nil {
				exercise(sub, seen, depth+1)
			}
		case KindDataset:
			ds, err := g.Dataset(n)
			if err != nil {
				continue
			}
			_ = ds.Shape()
			_ = ds.MaxShape()
			_ = ds.Chunks()
			_ = ds.Dtype().String()
			ds.ReadFloat64()
			ds.ReadInt64()
			ds.ReadStrings()
			ds.ReadRaw()
			exerciseAttrs(ds.Attrs())
		}
	}
}

func exerciseAttrs(as []*Attribute, err error) {
	for _, a := range as {
		_ = a.Dtype().String()
		_ = a.Shape()
		a.Float64s()
		a.Int64s()
		a.Strings()
		a.References()
	}
}

func FuzzOpen(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "seed_*.h5"))
	if len(seeds) == 0 {
		f.Fatal("no seed files in testdata")
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := NewReader("fuzz.h5", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		file.Limit = 1 << 20
		exercise(file.Root(), map[uint64]bool{}, 0)
	})
}

// TestSeedsRead checks that the seed corpus itself reads: a fuzz corpus of files we cannot
// parse would not exercise much.
func TestSeedsRead(t *testing.T) {
	for _, name := range []string{"seed_v0.h5", "seed_latest.h5"} {
		f, err := Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		ds, err := f.Root().Dataset("c")
		if err != nil {
			t.Fatal(err)
		}
		v, err := ds.ReadFloat64()
		if err != nil || len(v) != 24 || v[23] != 23 {
			t.Errorf("%s: c = %v, %v", name, v, err)
		}
		s, err := f.Root().Dataset("s")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.ReadStrings(); err != nil || len(got) != 2 || got[1] != "yy" {
			t.Errorf("%s: s = %q, %v", name, got, err)
		}
		f.Close()
	}
}
