package stimuli

import (
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/peers"
)

// pixel is the test images' colour at (x, y) of image k.
func pixel(k, x, y int) color.RGBA {
	return color.RGBA{uint8(40*k + 10*x), uint8(30*y + k), uint8(200 - 20*x - 5*y), 255}
}

// writeImageZip writes n 6x5 PNGs named img<k>.png (in reverse order, so the zip's own order
// is not the sorted one) into a zip.
func writeImageZip(t *testing.T, path string, n int) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for k := n - 1; k >= 0; k-- {
		img := image.NewRGBA(image.Rect(0, 0, 6, 5))
		for y := 0; y < 5; y++ {
			for x := 0; x < 6; x++ {
				img.Set(x, y, pixel(k, x, y))
			}
		}
		w, err := zw.Create("img" + string(rune('0'+k)) + ".png")
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(w, img); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The same images as a zip of PNGs, a uint8 N x H x W x C .npy written by NumPy and a float
// N x C x H x W .npz member (ids in a second member) give the same pixels; ids follow the
// documented rules (sorted file names; row numbers from id_offset; the id variable).
func TestOpenFormatsAgree(t *testing.T) {
	py := peers.Python(t, "numpy")
	dir := t.TempDir()
	zp := filepath.Join(dir, "imgs.zip")
	writeImageZip(t, zp, 4)
	script := `
import numpy as np, sys
d = sys.argv[1]
a = np.zeros((4, 5, 6, 3), np.uint8)
for k in range(4):
    for y in range(5):
        for x in range(6):
            a[k, y, x] = [(40*k + 10*x) % 256, (30*y + k) % 256, (200 - 20*x - 5*y) % 256]
np.save(d + '/imgs.npy', a)
np.savez(d + '/imgs.npz', images=a.transpose(0, 3, 1, 2).astype(np.float32) / 255, ids=np.arange(11, 15))
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	z, err := Open(zp, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	n, err := Open(filepath.Join(dir, "imgs.npy"), OpenOptions{IDOffset: 1})
	if err != nil {
		t.Fatal(err)
	}
	nz, err := Open(filepath.Join(dir, "imgs.npz"), OpenOptions{Variable: "images", IDVariable: "ids", Degrees: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(z.IDs(), []string{"img0.png", "img1.png", "img2.png", "img3.png"}) ||
		!slices.Equal(n.IDs(), []string{"1", "2", "3", "4"}) || !slices.Equal(nz.IDs(), []string{"11", "12", "13", "14"}) || nz.Degrees != 4 {
		t.Fatalf("ids %v %v %v", z.IDs(), n.IDs(), nz.IDs())
	}
	for i := 0; i < 4; i++ {
		a, _ := z.Image(i)
		b, err := n.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		c, err := nz.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Shape, []int{3, 5, 6}) || !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.Shape, c.Shape) {
			t.Fatalf("shapes %v %v %v", a.Shape, b.Shape, c.Shape)
		}
		for k := range a.Data {
			if a.Data[k] != b.Data[k] || abs32(a.Data[k]-c.Data[k]) > 1e-6 {
				t.Fatalf("image %d value %d: zip %v, npy %v, npz %v", i, k, a.Data[k], b.Data[k], c.Data[k])
			}
		}
		want := pixel(i, 2, 3)
		if got := a.Data[0*30+3*6+2]; abs32(got-float32(want.R)/255) > 1e-6 {
			t.Fatalf("image %d red at (2,3) = %v, want %v", i, got, float32(want.R)/255)
		}
	}
	if _, err := Open(filepath.Join(dir, "imgs.npz"), OpenOptions{}); err == nil || !strings.Contains(err.Error(), "variable") {
		t.Fatalf("npz without variable: %v", err)
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// A metadata CSV with a file column orders the stimuli and names them; without it rows are
// joined by id. Missing and unknown rows are errors naming the file.
func TestWithMetadata(t *testing.T) {
	dir := t.TempDir()
	zp := filepath.Join(dir, "imgs.zip")
	writeImageZip(t, zp, 3)
	z, err := Open(zp, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	csvp := filepath.Join(dir, "meta.csv")
	os.WriteFile(csvp, []byte("stim,path,category\nc,img2.png,cat\na,img0.png,dog\nb,img1.png,dog\n"), 0o644)
	m, err := z.WithMetadata(csvp, MetadataOptions{IDColumn: "stim", FileColumn: "path"})
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := m.Meta("category")
	if !slices.Equal(m.IDs(), []string{"c", "a", "b"}) || !slices.Equal(cat, []string{"cat", "dog", "dog"}) {
		t.Fatalf("ids %v category %v", m.IDs(), cat)
	}
	a, _ := m.Image(0)
	b, _ := z.Image(2)
	if !slices.Equal(a.Data, b.Data) {
		t.Fatal("stimulus c is not img2.png")
	}
	os.WriteFile(csvp, []byte("id,category\nimg1.png,x\nimg0.png,y\nimg2.png,z\n"), 0o644)
	j, err := z.WithMetadata(csvp, MetadataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cat, _ := j.Meta("category"); !slices.Equal(cat, []string{"y", "x", "z"}) || !slices.Equal(j.IDs(), z.IDs()) {
		t.Fatalf("joined %v %v", j.IDs(), cat)
	}
	os.WriteFile(csvp, []byte("stim,path\na,img0.png\nb,img9.png\n"), 0o644)
	if _, err := z.WithMetadata(csvp, MetadataOptions{IDColumn: "stim", FileColumn: "path"}); err == nil || !strings.Contains(err.Error(), "img9.png") || !strings.Contains(err.Error(), "meta.csv") {
		t.Fatalf("unknown image: %v", err)
	}
	os.WriteFile(csvp, []byte("stim,path\na,img0.png\n"), 0o644)
	if _, err := z.WithMetadata(csvp, MetadataOptions{IDColumn: "stim", FileColumn: "path"}); err == nil || !strings.Contains(err.Error(), "no row") {
		t.Fatalf("images without rows: %v", err)
	}
}
