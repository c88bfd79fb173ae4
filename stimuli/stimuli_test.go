package stimuli

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

func pngBytes(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	img.SetRGBA(0, 0, color.RGBA{uint8(x0(c)), 0, 255, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func x0(c color.RGBA) int { return int(c.R) / 2 }

var testFiles = map[string]color.RGBA{
	"cats/a.png": {200, 10, 10, 255},
	"cats/b.png": {10, 200, 10, 255},
	"dogs/c.png": {10, 10, 200, 255},
}

func writeFolder(t *testing.T) string {
	dir := t.TempDir()
	for name, c := range testFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, pngBytes(t, 5, 4, c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	return dir
}

func TestFolderAndZip(t *testing.T) {
	dir := writeFolder(t)
	s, err := FromFolder("pets", dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 3 || s.ID(0) != "cats/a.png" || s.ID(2) != "dogs/c.png" {
		t.Fatalf("ids %v", s.IDs())
	}
	cat, err := s.Meta("category")
	if err != nil || strings.Join(cat, ",") != "cats,cats,dogs" {
		t.Fatalf("category %v %v", cat, err)
	}
	img, err := s.Image(1)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(img.Shape, []int{3, 4, 5}) {
		t.Fatalf("shape %v", img.Shape)
	}
	if got := img.Data[20+6]; math.Abs(float64(got)-200.0/255) > 1e-6 { // green plane, pixel (1,1)
		t.Fatalf("green %v", got)
	}
	if _, err := s.Meta("nope"); err == nil {
		t.Fatal("missing column: no error")
	}

	zp := filepath.Join(t.TempDir(), "pets.zip")
	f, _ := os.Create(zp)
	zw := zip.NewWriter(f)
	for _, name := range []string{"dogs/c.png", "cats/a.png", "cats/b.png"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	f.Close()
	z, err := FromZip("pets", zp)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	d1, _ := s.Digest()
	d2, err := z.Digest()
	if err != nil || d1 != d2 {
		t.Fatalf("folder and zip digests differ: %s %s %v", d1, d2, err)
	}
	zimg, _ := z.Image(1)
	for i := range img.Data {
		if img.Data[i] != zimg.Data[i] {
			t.Fatal("zip image differs")
		}
	}
}

func TestDigestChanges(t *testing.T) {
	dir := writeFolder(t)
	s, _ := FromFolder("pets", dir)
	d0, _ := s.Digest()
	i0, _ := s.ImageDigest()
	if err := s.SetMeta("label", []string{"x", "y", "z"}); err != nil {
		t.Fatal(err)
	}
	d1, _ := s.Digest()
	i1, _ := s.ImageDigest()
	if d0 == d1 || i0 != i1 {
		t.Fatal("metadata must change Digest but not ImageDigest")
	}
	// one pixel
	os.WriteFile(filepath.Join(dir, "dogs", "c.png"), pngBytes(t, 5, 4, color.RGBA{10, 10, 201, 255}), 0o644)
	s2, _ := FromFolder("pets", dir)
	i2, _ := s2.ImageDigest()
	if i2 == i0 {
		t.Fatal("pixel change kept the digest")
	}
	s2.Degrees = 4
	if i3, _ := s2.ImageDigest(); i3 == i2 {
		t.Fatal("degrees change kept the digest")
	}
	// tensors: one pixel
	a := tensor.New(1, 2, 2)
	b := a.Clone()
	b.Data[3] = 1e-3
	sa, _ := FromTensors("t", []string{"a"}, []*tensor.Tensor{a})
	sb, _ := FromTensors("t", []string{"a"}, []*tensor.Tensor{b})
	da, _ := sa.Digest()
	db, _ := sb.Digest()
	if da == db {
		t.Fatal("tensor pixel change kept the digest")
	}
}

func TestBadInputsNameFile(t *testing.T) {
	dir := writeFolder(t)
	bad := filepath.Join(dir, "dogs", "broken.png")
	os.WriteFile(bad, []byte("not a png"), 0o644)
	s, err := FromFolder("pets", dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Image(s.Index("dogs/broken.png"))
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %v does not name %s", err, bad)
	}
	if _, err := FromFolder("x", t.TempDir()); err == nil {
		t.Fatal("empty folder: no error")
	}
	if _, err := FromZip("x", bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad zip error %v", err)
	}
}

func writeNpy(t *testing.T, descr string, shape string, data []byte) string {
	p := filepath.Join(t.TempDir(), "a.npy")
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	os.WriteFile(p, b.Bytes(), 0o644)
	return p
}

func TestNpy(t *testing.T) {
	var data []byte
	for i := 0; i < 2*6; i++ {
		data = binary.LittleEndian.AppendUint64(data, math.Float64bits(float64(i*10)))
	}
	p := writeNpy(t, "<f8", "(2, 6)", data)
	s, err := FromNpy("n", p, NpyOptions{Shape: []int{2, 3}, Scale: 255})
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Image(1)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(img.Shape, []int{1, 2, 3}) || math.Abs(float64(img.Data[5])-110.0/255) > 1e-6 {
		t.Fatalf("image %v %v", img.Shape, img.Data)
	}
	if _, err := FromNpy("n", p, NpyOptions{Shape: []int{3, 3}}); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("bad shape error %v", err)
	}
	short := writeNpy(t, "<f8", "(3, 6)", data)
	if _, err := FromNpy("n", short, NpyOptions{Shape: []int{2, 3}}); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated error %v", err)
	}
	obj := writeNpy(t, "|O", "(2, 6)", data)
	if _, err := FromNpy("n", obj, NpyOptions{Shape: []int{2, 3}}); err == nil || !strings.Contains(err.Error(), obj) {
		t.Fatalf("dtype error %v", err)
	}
}

func TestJoinCSV(t *testing.T) {
	s, _ := FromFolder("pets", writeFolder(t))
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "meta.csv")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	good := write("id,size,colour\ncats/b.png,2,green\ncats/a.png,1,red\ndogs/c.png,3,blue\n")
	if err := s.JoinCSV(good, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Meta("colour")
	if strings.Join(c, ",") != "red,green,blue" {
		t.Fatalf("colour %v", c)
	}
	cases := []struct{ body, want string }{
		{"id,w\ncats/a.png,1\ncats/a.png,2\ndogs/c.png,3\ncats/b.png,4\n", "row 3: duplicate id \"cats/a.png\""},
		{"id,w\ncats/a.png,1\ndogs/c.png,3\n", "no row for id [\"cats/b.png\"]"},
		{"id,w\ncats/a.png,1\ndogs/c.png,3\ncats/b.png,4\nfish/d.png,5\n", "row 5: id \"fish/d.png\" matches no stimulus"},
		{"name,w\ncats/a.png,1\n", "no key column \"id\""},
		{"id,size\ncats/a.png,1\n", "column \"size\" is already"},
	}
	for _, c := range cases {
		s2, _ := FromFolder("pets", writeFolder(t))
		s2.SetMeta("size", []string{"", "", ""})
		p := write(c.body)
		err := s2.JoinCSV(p, CSVOptions{})
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("csv %q: error %v, want %q and the file name", c.body, err, c.want)
		}
	}
	s3, _ := FromFolder("pets", writeFolder(t))
	p := write("id,w\ncats/a.png,1\n")
	if err := s3.JoinCSV(p, CSVOptions{Columns: []string{"height"}}); err == nil || !strings.Contains(err.Error(), "no column \"height\"") {
		t.Errorf("missing column: %v", err)
	}
	if err := s3.JoinCSV(p, CSVOptions{AllowMissing: true}); err != nil {
		t.Errorf("allow missing: %v", err)
	}
	if err := s3.JoinCSV(filepath.Join(t.TempDir(), "none.csv"), CSVOptions{}); err == nil || !strings.Contains(err.Error(), "none.csv") {
		t.Errorf("absent file: %v", err)
	}
}

func constImage(c, h, w int, v float32) *tensor.Tensor {
	t := tensor.New(c, h, w)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

func TestPreprocess(t *testing.T) {
	for _, sz := range []int{3, 7, 16, 40} {
		out, err := Preprocess{Size: sz}.Apply(constImage(3, 10, 13, 0.25))
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(out.Shape, []int{3, sz, sz}) {
			t.Fatalf("size %d: shape %v", sz, out.Shape)
		}
		for _, v := range out.Data {
			if math.Abs(float64(v)-0.25) > 1e-6 {
				t.Fatalf("size %d: constant image resized to %v", sz, v)
			}
		}
	}
	// area: 4x4 -> 2x2 averages blocks
	x := tensor.FromData([]float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 1, 4, 4)
	out, _ := Preprocess{Size: 2}.Apply(x)
	if want := []float32{2.5, 4.5, 10.5, 12.5}; fmt.Sprint(out.Data) != fmt.Sprint(want) {
		t.Fatalf("area resize %v, want %v", out.Data, want)
	}
	// bilinear: 1x2 row [0 1] -> 4 wide: half-pixel centres give 0, .25, .75, 1
	row := tensor.FromData([]float32{0, 1, 0, 1}, 1, 2, 2)
	out, _ = Preprocess{Size: 4}.Apply(row)
	if want := []float32{0, 0.25, 0.75, 1}; fmt.Sprint(out.Data[:4]) != fmt.Sprint(want) {
		t.Fatalf("bilinear %v, want %v", out.Data[:4], want)
	}
	// normalisation, grey, rgb
	p := Preprocess{Size: 2, Mean: []float32{0.5, 0.25, 0}, Std: []float32{0.5, 0.25, 2}}
	img := tensor.New(3, 2, 2)
	for i := range img.Data {
		img.Data[i] = float32(i/4) * 0.5 // channel values 0, .5, 1
	}
	out, _ = p.Apply(img)
	if got := []float32{out.Data[0], out.Data[4], out.Data[8]}; fmt.Sprint(got) != fmt.Sprint([]float32{-1, 1, 0.5}) {
		t.Fatalf("normalised %v", got)
	}
	if img.Data[0] != 0 {
		t.Fatal("input modified")
	}
	g, _ := Preprocess{Grey: true}.Apply(img)
	if !tensor.SameShape(g.Shape, []int{1, 2, 2}) || math.Abs(float64(g.Data[0])-(0.587*0.5+0.114)) > 1e-6 {
		t.Fatalf("grey %v %v", g.Shape, g.Data)
	}
	r, _ := Preprocess{RGB: true, Size: 3}.Apply(constImage(1, 6, 6, 0.5))
	if !tensor.SameShape(r.Shape, []int{3, 3, 3}) {
		t.Fatalf("rgb shape %v", r.Shape)
	}
	// crop: centre half of an 8x8 image
	ramp := tensor.New(1, 8, 8)
	for i := range ramp.Data {
		ramp.Data[i] = float32(i % 8)
	}
	c, _ := Preprocess{Crop: 0.5}.Apply(ramp)
	if !tensor.SameShape(c.Shape, []int{1, 4, 4}) || c.Data[0] != 2 || c.Data[3] != 5 {
		t.Fatalf("crop %v %v", c.Shape, c.Data)
	}
	// visual degrees: model sees 8 deg, stimulus 4 deg -> stimulus fills the centre half
	bg := float32(0)
	v, _ := Preprocess{Size: 8, VisualDegrees: 8, Background: &bg}.ApplyAt(constImage(1, 8, 8, 1), 4)
	var inside, outside float32
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			if y >= 2 && y < 6 && x >= 2 && x < 6 {
				inside += v.Data[y*8+x]
			} else {
				outside += v.Data[y*8+x]
			}
		}
	}
	if inside != 16 || outside != 0 {
		t.Fatalf("visual angle: inside %v outside %v: %v", inside, outside, v.Data)
	}
	v2, _ := Preprocess{Size: 8, VisualDegrees: 8}.ApplyAt(constImage(1, 8, 8, 1), 4)
	if v2.Data[0] != 0.5 {
		t.Fatalf("default background %v", v2.Data[0])
	}
	for _, bad := range []Preprocess{{Grey: true, RGB: true}, {Crop: 1.5}, {Mean: []float32{1}}, {Mean: []float32{0}, Std: []float32{0}}} {
		if _, err := bad.Apply(img); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if _, err := p.Apply(constImage(2, 2, 2, 0)); err == nil {
		t.Error("3 means for 2 channels: no error")
	}
}

func TestPreprocessMetaDigest(t *testing.T) {
	p := Preprocess{Size: 224, Crop: 0.875, RGB: true, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}, VisualDegrees: 8}
	g := &nn.Graph{Name: "m"}
	if _, ok, _ := FromMeta(g); ok {
		t.Fatal("empty meta: ok")
	}
	if err := p.ToMeta(g); err != nil {
		t.Fatal(err)
	}
	q, ok, err := FromMeta(g)
	if !ok || err != nil || q.Digest() != p.Digest() {
		t.Fatalf("round trip: %+v %v %v", q, ok, err)
	}
	q.Std = []float32{0.229, 0.224, 0.2251}
	if q.Digest() == p.Digest() {
		t.Fatal("digest ignores std")
	}
	g.Meta[MetaKey] = "{bad"
	if _, _, err := FromMeta(g); err == nil {
		t.Fatal("bad json: no error")
	}
}

func TestSubset(t *testing.T) {
	s, _ := FromFolder("pets", writeFolder(t))
	sub, err := s.Subset("sub", []int{2, 0})
	if err != nil || sub.ID(0) != "dogs/c.png" {
		t.Fatal(sub.IDs(), err)
	}
	c, _ := sub.Meta("category")
	if c[0] != "dogs" {
		t.Fatal(c)
	}
	a, _ := sub.Image(1)
	b, _ := s.Image(0)
	if a.Data[0] != b.Data[0] || s.Head(2).Len() != 2 {
		t.Fatal("subset image")
	}
	if _, err := s.Subset("x", []int{0, 0}); err == nil {
		t.Fatal("duplicate subset ids: no error")
	}
}

func TestKriegeskorte92(t *testing.T) {
	s, err := Kriegeskorte92From(mirror.Path(t, "kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 92 || s.ID(0) != "1" || s.ID(91) != "92" {
		t.Fatalf("ids %v", s.IDs())
	}
	anim, _ := s.Meta("animacy")
	cat, _ := s.Meta("category")
	face, _ := s.Meta("face")
	n := map[string]int{}
	for i := range anim {
		n[anim[i]]++
		if face[i] == "1" {
			n["face"]++
		}
	}
	if n["animate"] != 48 || n["inanimate"] != 44 || n["face"] != 24 || cat[12] != "human face" {
		t.Fatalf("counts %v, category[12] %q", n, cat[12])
	}
	for _, i := range []int{0, 91} {
		img, err := s.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(img.Shape, []int{3, 175, 175}) {
			t.Fatalf("image shape %v", img.Shape)
		}
		lo, hi := float32(1), float32(0)
		for _, v := range img.Data {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo < 0 || hi > 1 || hi-lo < 0.3 {
			t.Fatalf("image %d range [%v,%v]", i, lo, hi)
		}
	}
}

func TestAllen(t *testing.T) {
	p := mirror.Path(t, "allen-mouse-v1/Allen_train_input.npy")
	s, err := AllenMouseV1From(p, "train")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 100 {
		t.Fatal(s.Len())
	}
	img, err := s.Image(99)
	if err != nil || !tensor.SameShape(img.Shape, []int{1, 31, 31}) {
		t.Fatal(img, err)
	}
	raw, _ := os.ReadFile(p)
	last := math.Float64frombits(binary.LittleEndian.Uint64(raw[len(raw)-8:]))
	if math.Abs(float64(img.Data[960])-last/255) > 1e-6 {
		t.Fatalf("last pixel %v, file %v", img.Data[960], last)
	}
	if _, err := AllenMouseV1("val"); err == nil {
		t.Fatal("bad split: no error")
	}
}

func TestMatErrorsNameFile(t *testing.T) {
	p := mirror.Path(t, "kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat")
	for _, c := range [][2]string{{"nope", "image"}, {"stimuli_92objs", "picture"}, {"categoryLabels", "image"}} {
		_, err := FromMat("k", p, c[0], c[1])
		if err == nil || !strings.Contains(err.Error(), filepath.Base(p)) {
			t.Errorf("FromMat(%q, %q): error %v does not name the file", c[0], c[1], err)
		}
	}
}
