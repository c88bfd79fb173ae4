package datasets

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/internal/mirror"
)

func TestMNIST(t *testing.T) {
	t.Setenv("VENTRAL_HOME", t.TempDir())
	t.Setenv("VENTRAL_MIRROR", "")
	start := time.Now()
	tr, err := Load("mnist", "train")
	if err != nil {
		if os.Getenv("CI") == "" && strings.Contains(err.Error(), "downloading") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	te, err := Load("mnist", "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MNIST train+test loaded in %v", time.Since(start))
	if tr.N != 60000 || te.N != 10000 || tr.Shape() != [4]int{60000, 1, 28, 28} {
		t.Fatalf("shapes %v %v", tr.Shape(), te.Shape())
	}
	for i, want := range []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4} {
		if tr.Labels[i] != want {
			t.Fatalf("train label %d = %d, want %d", i, tr.Labels[i], want)
		}
	}
	for i, want := range []int{7, 2, 1, 0, 4} {
		if te.Labels[i] != want {
			t.Fatalf("test label %d = %d, want %d", i, te.Labels[i], want)
		}
	}
	lo, hi := float32(1), float32(0)
	for _, v := range tr.X {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("pixel range [%v, %v]", lo, hi)
	}
	if c := tr.ClassCounts(); c[1] != 6742 || c[5] != 5421 {
		t.Errorf("class counts %v", c)
	}
}

func checkCIFAR(t *testing.T, ds *Dataset, n int) {
	t.Helper()
	if ds.Shape() != [4]int{n, 3, 32, 32} || len(ds.Labels) != n {
		t.Fatalf("shape %v", ds.Shape())
	}
	for c, k := range ds.ClassCounts() {
		if k != n/10 {
			t.Errorf("class %s has %d images", ds.Classes[c], k)
		}
	}
	if ds.Classes[1] != "automobile" || ds.Labels[0] != 0 || ds.Labels[n-1] != 9 || !strings.HasPrefix(ds.Files[n-1], "test/truck/") && !strings.HasPrefix(ds.Files[n-1], "train/truck/") {
		t.Errorf("classes %v, first/last label %d %d, last file %s", ds.Classes, ds.Labels[0], ds.Labels[n-1], ds.Files[n-1])
	}
	var s float64
	for _, v := range ds.X {
		if v < 0 || v > 1 {
			t.Fatalf("value %v out of range", v)
		}
		s += float64(v)
	}
	if m := s / float64(len(ds.X)); m < 0.4 || m > 0.55 {
		t.Errorf("mean pixel %v", m)
	}
}

func TestCIFAR10Test(t *testing.T) {
	mirror.Path(t, "cifar10/test.zip")
	useMirrors(t)
	start := time.Now()
	ds, err := Load("cifar10", "test")
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	checkCIFAR(t, ds, 10000)
	start = time.Now()
	again, err := Load("cifar10", "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CIFAR-10 test zip: %v decoding, %v from the decoded cache", first, time.Since(start))
	if !equalF32(ds.X, again.X) || len(again.Files) != 10000 || again.Files[5] != ds.Files[5] {
		t.Fatal("decoded cache differs")
	}
	// A corrupt cache is ignored and rewritten.
	caches, _ := filepath.Glob(filepath.Join(Home(), "cifar10", "decoded", "test-*.u8"))
	if len(caches) != 1 {
		t.Fatalf("caches %v", caches)
	}
	b, _ := os.ReadFile(caches[0])
	b[len(b)/2] ^= 0xff
	os.WriteFile(caches[0], b, 0o644)
	if _, err := readDecoded(caches[0], ds.Name); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("corrupt cache accepted: %v", err)
	}
}

// TestCIFAR10Train decodes the 50,000-image zip; it is skipped with -short.
func TestCIFAR10Train(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mirror.Path(t, "cifar10/train.zip")
	useMirrors(t)
	start := time.Now()
	ds, err := Load("cifar10", "train")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CIFAR-10 train zip: %v decoding (the decoded cache is tested on the test split)", time.Since(start))
	checkCIFAR(t, ds, 50000)
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cifarTarGz builds a synthetic cifar-10-binary.tar.gz with n records per batch file.
func cifarTarGz(t testing.TB, n int, extra map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	add("cifar-10-batches-bin/batches.meta.txt", []byte(strings.Join(CIFAR10Classes, "\n")))
	for f, name := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		if b, ok := extra[name]; ok {
			add("cifar-10-batches-bin/"+name, b)
			continue
		}
		var b []byte
		for i := 0; i < n; i++ {
			rec := make([]byte, cifarRecord)
			rec[0] = byte((f + i) % 10)
			for j := 1; j < cifarRecord; j++ {
				rec[j] = byte(f*31 + i*7 + j)
			}
			b = append(b, rec...)
		}
		add("cifar-10-batches-bin/"+name, b)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestCIFAR10Binary(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	os.WriteFile(p, cifarTarGz(t, 3, nil), 0o644)
	tr, err := LoadCIFAR10Binary(p, "train")
	if err != nil {
		t.Fatal(err)
	}
	te, err := LoadCIFAR10Binary(p, "test")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Shape() != [4]int{15, 3, 32, 32} || te.N != 3 {
		t.Fatalf("shapes %v %v", tr.Shape(), te.Shape())
	}
	// Record 1 of data_batch_2 (f=1, i=1): label 2, R(0,0) = byte(31+7+1), B(31,31) = byte(31+7+3072).
	img := tr.Image(4)
	if tr.Labels[4] != 2 || img[0] != float32(byte(39))/255 || img[3071] != float32((31+7+3072)%256)/255 {
		t.Errorf("record decoding: label %d, %v %v", tr.Labels[4], img[0], img[3071])
	}
	if te.Labels[2] != 7 {
		t.Errorf("test label %d", te.Labels[2])
	}
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"partial":  {cifarTarGz(t, 1, map[string][]byte{"test_batch.bin": make([]byte, 100)}), "test_batch.bin"},
		"label":    {cifarTarGz(t, 1, map[string][]byte{"test_batch.bin": append([]byte{10}, make([]byte, 3072)...)}), "label 10"},
		"notgzip":  {[]byte("plain text"), "gzip"},
		"truncate": {cifarTarGz(t, 2, nil)[:500], "unexpected EOF"},
	} {
		_, err := readCIFAR10Binary(bytes.NewReader(c.data), "x.tar.gz", "test")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "x.tar.gz") {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

func pngBytes(t testing.TB, w, h int, gray bool) []byte {
	var img image.Image
	if gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = byte(i * 13)
		}
		img = g
	} else {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				m.SetNRGBA(x, y, color.NRGBA{byte(x * 40), byte(y * 40), 200, 255})
			}
		}
		img = m
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func zipBytes(t testing.TB, files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

func TestImageFolderAndZip(t *testing.T) {
	var warned []string
	Warnf = func(f string, a ...any) { warned = append(warned, f) }
	defer func() { Warnf = logPrintf }()
	var jpg bytes.Buffer
	jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 4, 3)), nil)
	files := map[string][]byte{
		"set/cat/a.png":            pngBytes(t, 4, 3, false),
		"set/cat/b.jpg":            jpg.Bytes(),
		"set/dog/c.png":            pngBytes(t, 4, 3, true),
		"set/.DS_Store":            []byte("junk"),
		"__MACOSX/set/cat/._a.png": []byte("junk"),
	}
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, b, 0o644)
	}
	zp := filepath.Join(dir, "set.zip")
	os.WriteFile(zp, zipBytes(t, files), 0o644)
	fromDir, err := LoadImageFolder(filepath.Join(dir, "set"))
	if err != nil {
		t.Fatal(err)
	}
	fromZip, err := LoadImageZip(zp)
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range []*Dataset{fromDir, fromZip} {
		if ds.Shape() != [4]int{3, 3, 3, 4} || strings.Join(ds.Classes, ",") != "cat,dog" || ds.Labels[2] != 1 || ds.Files[0] != "cat/a.png" && ds.Files[0] != "set/cat/a.png" {
			t.Fatalf("%s: shape %v classes %v labels %v files %v", ds.Name, ds.Shape(), ds.Classes, ds.Labels, ds.Files)
		}
		// a.png pixel (x=1, y=2): R=40, G=80, B=200.
		img := ds.Image(0)
		if img[2*4+1] != 40.0/255 || img[12+2*4+1] != 80.0/255 || img[24+2*4+1] != 200.0/255 {
			t.Errorf("pixel %v %v %v", img[9], img[21], img[33])
		}
		// c.png is grey, replicated to RGB.
		if g := ds.Image(2); g[5] != float32(byte(5*13))/255 || g[12+5] != g[5] || g[24+5] != g[5] {
			t.Errorf("grey pixel %v %v %v", g[5], g[17], g[29])
		}
	}
	if len(warned) < 3 {
		t.Errorf("warnings %v", warned)
	}
	// Flat folder, one channel.
	flat, err := LoadImageFolder(filepath.Join(dir, "set", "dog"), ImageOptions{Channels: 1})
	if err != nil || flat.Labels != nil || flat.Shape() != [4]int{1, 1, 3, 4} {
		t.Fatalf("flat: %v %+v", err, flat)
	}
	// Errors name the file.
	for name, c := range map[string]struct {
		files map[string][]byte
		want  string
	}{
		"text":    {map[string][]byte{"s/a/x.png": pngBytes(t, 2, 2, true), "s/a/notes.txt": []byte("hi")}, "s/a/notes.txt is not an image"},
		"corrupt": {map[string][]byte{"s/a/x.png": pngBytes(t, 2, 2, true), "s/b/y.jpg": []byte("\xff\xd8garbage")}, "s/b/y.jpg is not a decodable image"},
		"size":    {map[string][]byte{"s/a/x.png": pngBytes(t, 2, 2, true), "s/b/y.png": pngBytes(t, 3, 2, true)}, "s/b/y.png is 3x2"},
		"empty":   {map[string][]byte{"s/.DS_Store": nil}, "no images"},
	} {
		zp := filepath.Join(t.TempDir(), name+".zip")
		os.WriteFile(zp, zipBytes(t, c.files), 0o644)
		_, err := LoadImageZip(zp)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), zp) {
			t.Errorf("%s: error %v, want %q and the zip name", name, err, c.want)
		}
	}
	if _, err := readImageZip(bytes.NewReader([]byte("not a zip")), 9, "bad.zip", ImageOptions{Channels: 3}); err == nil || !strings.Contains(err.Error(), "bad.zip") {
		t.Errorf("not a zip: %v", err)
	}
}

func FuzzImageZip(f *testing.F) {
	f.Add(zipBytes(f, map[string][]byte{"a/x.png": pngBytes(f, 2, 2, false), "b/y.png": pngBytes(f, 2, 2, true)}))
	f.Add(zipBytes(f, map[string][]byte{"x.png": pngBytes(f, 1, 1, true), ".DS_Store": nil}))
	Warnf = func(string, ...any) {}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := readImageZip(bytes.NewReader(in), int64(len(in)), "fuzz.zip", ImageOptions{Channels: 3})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.zip") {
				t.Fatalf("error without zip name: %v", err)
			}
			return
		}
		if len(s.pix) != s.n()*3*s.h*s.w || (s.labels != nil && len(s.labels) != s.n()) {
			t.Fatal("inconsistent result")
		}
	})
}

func FuzzCIFARBinary(f *testing.F) {
	f.Add(cifarTarGz(f, 1, nil))
	f.Add(cifarTarGz(f, 1, map[string][]byte{"test_batch.bin": {1, 2, 3}}))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := readCIFAR10Binary(bytes.NewReader(in), "fuzz.tar.gz", "test")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.tar.gz") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		if len(s.pix) != 3072*len(s.labels) {
			t.Fatal("inconsistent result")
		}
	})
}
