package stimuli

import (
	"archive/zip"
	"bytes"
	"fmt"
	"hash"
	"image"
	"image/color"
	_ "image/gif" // decoders
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/tensor"
)

var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true}

// isImageName reports whether name looks like a decodable image (and not OS junk such as
// __MACOSX/ or ._ files).
func isImageName(name string) bool {
	base := path.Base(name)
	if strings.HasPrefix(base, ".") || strings.Contains(name, "__MACOSX/") {
		return false
	}
	return imageExts[strings.ToLower(path.Ext(name))]
}

// ToTensor converts a decoded image to a float32 [C H W] tensor in [0,1]: C is 1 for
// greyscale images (image.Gray, image.Gray16) and 3 otherwise; alpha is ignored.
func ToTensor(img image.Image) *tensor.Tensor {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	switch g := img.(type) {
	case *image.Gray:
		t := tensor.New(1, h, w)
		for y := 0; y < h; y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for x, v := range row {
				t.Data[y*w+x] = float32(v) / 255
			}
		}
		return t
	case *image.Gray16:
		t := tensor.New(1, h, w)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				t.Data[y*w+x] = float32(g.Gray16At(b.Min.X+x, b.Min.Y+y).Y) / 65535
			}
		}
		return t
	}
	t := tensor.New(3, h, w)
	plane := h * w
	if rgba, ok := img.(*image.RGBA); ok {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := y*rgba.Stride + 4*x
				t.Data[y*w+x] = float32(rgba.Pix[o]) / 255
				t.Data[plane+y*w+x] = float32(rgba.Pix[o+1]) / 255
				t.Data[2*plane+y*w+x] = float32(rgba.Pix[o+2]) / 255
			}
		}
		return t
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			t.Data[y*w+x] = float32(c.R) / 65535
			t.Data[plane+y*w+x] = float32(c.G) / 65535
			t.Data[2*plane+y*w+x] = float32(c.B) / 65535
		}
	}
	return t
}

func decodeBytes(name string, b []byte) (*tensor.Tensor, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: decoding image: %w", name, err)
	}
	return ToTensor(img), nil
}

// fileMeta gives the id, file and category columns of relative paths: id and file are the
// slash-separated relative path, category the first folder ("" for files at the top).
func filesSet(name string, rel []string, src source) (*Set, error) {
	s, err := newSet(name, rel, src)
	if err != nil {
		return nil, err
	}
	cat := make([]string, len(rel))
	nested := false
	for i, r := range rel {
		if j := strings.IndexByte(r, '/'); j >= 0 {
			cat[i] = r[:j]
			nested = true
		}
	}
	if err := s.SetMeta("file", rel); err != nil {
		return nil, err
	}
	if nested {
		if err := s.SetMeta("category", cat); err != nil {
			return nil, err
		}
	}
	return s, nil
}

type dirSource struct {
	dir string
	rel []string
}

func (d *dirSource) read(i int) (string, []byte, error) {
	p := filepath.Join(d.dir, filepath.FromSlash(d.rel[i]))
	b, err := os.ReadFile(p)
	return p, b, err
}

func (d *dirSource) image(i int) (*tensor.Tensor, error) {
	p, b, err := d.read(i)
	if err != nil {
		return nil, err
	}
	return decodeBytes(p, b)
}

func (d *dirSource) hashImage(i int, h hash.Hash) error {
	_, b, err := d.read(i)
	if err != nil {
		return err
	}
	h.Write(b)
	return nil
}

func (*dirSource) close() error { return nil }

// FromFolder loads the images (.png, .jpg, .jpeg, .gif) under dir, recursively, sorted by
// path. Each stimulus's id and "file" column are its slash-separated path relative to dir; for
// images in sub-folders a "category" column holds the first folder name. Images are decoded
// on demand.
func FromFolder(name, dir string) (*Set, error) {
	var rel []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || !isImageName(filepath.ToSlash(p)) {
			return nil
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = append(rel, filepath.ToSlash(r))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stimulus folder %s: %w", dir, err)
	}
	if len(rel) == 0 {
		return nil, fmt.Errorf("stimulus folder %s: no images (.png, .jpg, .jpeg, .gif)", dir)
	}
	slices.Sort(rel)
	return filesSet(name, rel, &dirSource{dir: dir, rel: rel})
}

type zipSource struct {
	path  string
	zr    *zip.ReadCloser
	files []*zip.File
}

func (z *zipSource) read(i int) ([]byte, error) {
	f := z.files[i]
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", z.path, f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", z.path, f.Name, err)
	}
	return b, nil
}

func (z *zipSource) image(i int) (*tensor.Tensor, error) {
	b, err := z.read(i)
	if err != nil {
		return nil, err
	}
	return decodeBytes(z.path+": "+z.files[i].Name, b)
}

func (z *zipSource) hashImage(i int, h hash.Hash) error {
	b, err := z.read(i)
	if err != nil {
		return err
	}
	h.Write(b)
	return nil
}

func (z *zipSource) close() error { return z.zr.Close() }

// FromZip loads the images in a zip file, sorted by path, with the same id, file and category
// columns as FromFolder (paths inside the zip). The zip stays open until Close; images are
// decompressed and decoded on demand.
func FromZip(name, zipPath string) (*Set, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("stimulus zip %s: %w", zipPath, err)
	}
	var files []*zip.File
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() && isImageName(f.Name) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		zr.Close()
		return nil, fmt.Errorf("stimulus zip %s: no images (.png, .jpg, .jpeg, .gif)", zipPath)
	}
	slices.SortFunc(files, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	rel := make([]string, len(files))
	for i, f := range files {
		rel[i] = f.Name
	}
	s, err := filesSet(name, rel, &zipSource{path: zipPath, zr: zr, files: files})
	if err != nil {
		zr.Close()
		return nil, fmt.Errorf("stimulus zip %s: %w", zipPath, err)
	}
	return s, nil
}
