package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestReadHeaderStreamsRows(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.npy")
	a := &Array{Shape: []int{3, 2}, Data: []float64{1, 2, 3, 4, 5, 6}}
	if err := Write(p, a); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	h, err := ReadHeader(p, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Shape) != 2 || h.Shape[0] != 3 || h.Shape[1] != 2 || h.ItemSize() != 8 || h.Fortran {
		t.Fatalf("header %+v", h)
	}
	row := b[h.DataOffset+2*16 : h.DataOffset+3*16]
	if h.Value(row, 0) != 5 || h.Value(row, 1) != 6 {
		t.Errorf("last row decodes to %v %v, want 5 6", h.Value(row, 0), h.Value(row, 1))
	}
	if _, err := ReadHeader("bad.npy", bytes.NewReader([]byte("not numpy at all"))); err == nil {
		t.Error("bad magic accepted")
	}
	if _, err := ReadHeader("short.npy", bytes.NewReader(b[:20])); err == nil {
		t.Error("truncated header accepted")
	}
}
