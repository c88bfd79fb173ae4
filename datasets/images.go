package datasets

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // register decoders
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Warnf reports skipped junk entries (see LoadImageZip). Replace it to silence or redirect.
var Warnf = logPrintf

var logPrintf = log.Printf

// imageExts are the file extensions treated as images (case-insensitive).
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true}

// isJunk reports names that archive tools leave behind and that are skipped with a warning:
// anything under __MACOSX/, dot files (.DS_Store, ._foo, .gitkeep) and Thumbs.db/desktop.ini.
func isJunk(name string) bool {
	name = strings.TrimPrefix(name, "./")
	for _, part := range strings.Split(name, "/") {
		if part == "__MACOSX" || (strings.HasPrefix(part, ".") && part != "." && part != "..") {
			return true
		}
	}
	base := strings.ToLower(path.Base(name))
	return base == "thumbs.db" || base == "desktop.ini"
}

// imageEntry is one image to decode: its name (relative, slash-separated), class folder and
// a way to read its bytes.
type imageEntry struct {
	name  string
	class string
	open  func() ([]byte, error)
}

// ImageOptions controls LoadImageFolder and LoadImageZip.
type ImageOptions struct {
	// Channels: 3 (default) gives RGB, grey images replicated; 1 gives luminance.
	Channels int
	// Classes, when set, fixes the class order (label = index); a class folder not in the
	// list is an error. By default the class folders are sorted by name.
	Classes []string
}

// LoadImageFolder reads every image below dir. Images in subfolders get the subfolder path as
// class name (classes sorted, label = index); a folder with images only at its top is flat
// and yields no labels. All images must have the same size. PNG, JPEG and GIF are decoded
// (alpha is ignored); any other file (junk such as .DS_Store excepted, which is skipped with
// a warning) is an error naming it.
func LoadImageFolder(dir string, opts ...ImageOptions) (*Dataset, error) {
	var entries []imageEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && isJunk(rel) {
				Warnf("datasets: skipping folder %s", p)
				return filepath.SkipDir
			}
			return nil
		}
		if isJunk(rel) {
			Warnf("datasets: skipping %s", p)
			return nil
		}
		if !imageExts[strings.ToLower(path.Ext(rel))] {
			return fmt.Errorf("datasets: %s is not an image (want .png, .jpg, .jpeg or .gif)", p)
		}
		cls := path.Dir(rel)
		if cls == "." {
			cls = ""
		}
		entries = append(entries, imageEntry{name: rel, class: cls, open: func() ([]byte, error) { return os.ReadFile(p) }})
		return nil
	})
	if err != nil {
		return nil, err
	}
	s, err := decodeEntries(dir, entries, option(opts))
	if err != nil {
		return nil, err
	}
	return s.dataset(filepath.Base(dir)), nil
}

func option(opts []ImageOptions) ImageOptions {
	var o ImageOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Channels == 0 {
		o.Channels = 3
	}
	return o
}

// LoadImageZip reads every image in a zip file, like LoadImageFolder. If all entries share
// one top folder (train/airplane/0000.jpg), it is dropped before taking class folders.
// Junk entries (__MACOSX/, dot files such as .DS_Store, Thumbs.db) are skipped with a warning
// through Warnf; any other non-image entry, or an image that does not decode, is an error
// naming the zip and the entry.
func LoadImageZip(zipPath string, opts ...ImageOptions) (*Dataset, error) {
	s, err := readImageZipFile(zipPath, option(opts))
	if err != nil {
		return nil, err
	}
	return s.dataset(strings.TrimSuffix(filepath.Base(zipPath), filepath.Ext(zipPath))), nil
}

func readImageZipFile(zipPath string, o ImageOptions) (*u8set, error) {
	fh, err := os.Open(zipPath)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	return readImageZip(fh, st.Size(), zipPath, o)
}

func readImageZip(r io.ReaderAt, size int64, zipName string, o ImageOptions) (*u8set, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", zipName, err)
	}
	var entries []imageEntry
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/") || f.FileInfo().IsDir() {
			continue
		}
		if isJunk(name) {
			Warnf("datasets: %s: skipping %s", zipName, name)
			continue
		}
		if !imageExts[strings.ToLower(path.Ext(name))] {
			return nil, fmt.Errorf("datasets: %s: entry %s is not an image (want .png, .jpg, .jpeg or .gif)", zipName, name)
		}
		if f.UncompressedSize64 > 64<<20 {
			return nil, fmt.Errorf("datasets: %s: entry %s is too large (%d bytes)", zipName, name, f.UncompressedSize64)
		}
		f := f
		entries = append(entries, imageEntry{name: name, open: func() ([]byte, error) {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return io.ReadAll(io.LimitReader(rc, 64<<20))
		}})
	}
	// Drop a top folder shared by all entries.
	if len(entries) > 0 {
		top, _, ok := strings.Cut(entries[0].name, "/")
		for _, e := range entries {
			t, _, ok2 := strings.Cut(e.name, "/")
			if !ok2 || t != top {
				ok = false
				break
			}
		}
		for i := range entries {
			n := entries[i].name
			if ok {
				n = n[len(top)+1:]
			}
			if c := path.Dir(n); c != "." {
				entries[i].class = c
			}
		}
	}
	return decodeEntries(zipName, entries, o)
}

// decodeEntries decodes entries in parallel (sorted by name) into a byte image set.
func decodeEntries(src string, entries []imageEntry, o ImageOptions) (*u8set, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("datasets: %s holds no images", src)
	}
	if o.Channels != 1 && o.Channels != 3 {
		return nil, fmt.Errorf("datasets: %d channels not supported (1 or 3)", o.Channels)
	}
	slices.SortFunc(entries, func(a, b imageEntry) int { return strings.Compare(a.name, b.name) })

	// Classes.
	s := &u8set{c: o.Channels}
	flat := true
	for _, e := range entries {
		if e.class != "" {
			flat = false
		}
	}
	if !flat {
		classes := o.Classes
		if classes == nil {
			for _, e := range entries {
				if e.class == "" {
					return nil, fmt.Errorf("datasets: %s: %s lies outside the class folders", src, e.name)
				}
				if !slices.Contains(classes, e.class) {
					classes = append(classes, e.class)
				}
			}
			slices.Sort(classes)
		}
		s.classes = classes
		s.labels = make([]int, len(entries))
		for i, e := range entries {
			l := slices.Index(classes, e.class)
			if l < 0 {
				return nil, fmt.Errorf("datasets: %s: %s: unknown class folder %q (want one of %v)", src, e.name, e.class, classes)
			}
			s.labels[i] = l
		}
	}
	s.files = make([]string, len(entries))
	for i, e := range entries {
		s.files[i] = e.name
	}

	// The first image fixes the size.
	first, err := decodeOne(src, entries[0])
	if err != nil {
		return nil, err
	}
	b := first.Bounds()
	s.h, s.w = b.Dy(), b.Dx()
	if s.h == 0 || s.w == 0 {
		return nil, fmt.Errorf("datasets: %s: %s is empty", src, entries[0].name)
	}
	sz := s.c * s.h * s.w
	s.pix = make([]byte, len(entries)*sz)

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		firstEr error
		next    = make(chan int, 64)
	)
	fail := func(err error) {
		mu.Lock()
		if firstEr == nil {
			firstEr = err
		}
		mu.Unlock()
	}
	workers := runtime.GOMAXPROCS(0)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img := first
				if i > 0 {
					var err error
					if img, err = decodeOne(src, entries[i]); err != nil {
						fail(err)
						continue
					}
				}
				if bb := img.Bounds(); bb.Dx() != s.w || bb.Dy() != s.h {
					fail(fmt.Errorf("datasets: %s: %s is %dx%d, want %dx%d like %s", src, entries[i].name, bb.Dx(), bb.Dy(), s.w, s.h, entries[0].name))
					continue
				}
				toCHW(s.pix[i*sz:(i+1)*sz], img, s.c)
			}
		}()
	}
	for i := range entries {
		mu.Lock()
		stop := firstEr != nil
		mu.Unlock()
		if stop {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	return s, nil
}

func decodeOne(src string, e imageEntry) (image.Image, error) {
	b, err := e.open()
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: reading %s: %w", src, e.name, err)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: entry %s is not a decodable image: %w", src, e.name, err)
	}
	return img, nil
}

// toCHW writes img as c (1 or 3) planes of bytes into dst.
func toCHW(dst []byte, img image.Image, c int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put(dst, y*w+x, plane, c, r, g, bl)
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			row := m.Pix[o : o+w]
			for x, v := range row {
				put(dst, y*w+x, plane, c, v, v, v)
			}
		}
	default:
		n, ok := img.(*image.NRGBA)
		if !ok {
			n = image.NewNRGBA(image.Rect(0, 0, w, h))
			draw.Draw(n, n.Bounds(), img, b.Min, draw.Src)
		}
		nb := n.Bounds()
		for y := 0; y < h; y++ {
			o := n.PixOffset(nb.Min.X, nb.Min.Y+y)
			row := n.Pix[o : o+4*w]
			for x := 0; x < w; x++ {
				put(dst, y*w+x, plane, c, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	}
}

func put(dst []byte, i, plane, c int, r, g, b uint8) {
	if c == 1 {
		// ITU-R 601 luma, as image/color's GrayModel.
		dst[i] = uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
		return
	}
	dst[i] = r
	dst[plane+i] = g
	dst[2*plane+i] = b
}
