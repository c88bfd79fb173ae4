// Package stimuli holds stimulus sets: ordered images with ids and metadata columns, loaded
// lazily from image folders, zip files, MATLAB struct arrays or .npy arrays, and the per-model
// preprocessing (Preprocess) that turns a stimulus into a model input.
//
// A Set keeps only ids, metadata and a way to fetch image i; images are decoded on demand by
// Image, so sets of tens of thousands of stimuli do not sit in memory. Images are float32 CHW
// tensors with values in [0,1] (C is 1 for greyscale sources, 3 for colour).
package stimuli

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"slices"
	"sync"

	"github.com/ventral-lab/ventral/tensor"
)

// source fetches the images of a set.
type source interface {
	image(i int) (*tensor.Tensor, error)
	// hashImage writes image i's content (encoded bytes or decoded pixels) to h.
	hashImage(i int, h hash.Hash) error
	close() error
}

// Set is an ordered stimulus set: each stimulus has an id, metadata columns and an image.
type Set struct {
	Name string
	// Degrees is the visual angle the stimuli were shown at (the width of the image in degrees),
	// 0 if unknown. With Preprocess.VisualDegrees it sets how much of the model's field of view
	// a stimulus covers.
	Degrees float64

	ids     []string
	cols    []string            // metadata column names in order, "id" first
	meta    map[string][]string // column -> values (the "id" column is ids)
	src     source
	index   []int // source index of each stimulus (nil: identity)
	mu      sync.Mutex
	imgHash string // cached ImageDigest part over the images
}

func newSet(name string, ids []string, src source) (*Set, error) {
	s := &Set{Name: name, ids: ids, cols: []string{"id"}, meta: map[string][]string{}, src: src}
	seen := make(map[string]int, len(ids))
	for i, id := range ids {
		if j, ok := seen[id]; ok {
			return nil, fmt.Errorf("stimulus set %s: duplicate id %q (stimuli %d and %d)", name, id, j, i)
		}
		seen[id] = i
	}
	return s, nil
}

// Len is the number of stimuli.
func (s *Set) Len() int { return len(s.ids) }

// ID returns the id of stimulus i.
func (s *Set) ID(i int) string { return s.ids[i] }

// IDs returns a copy of all ids in order.
func (s *Set) IDs() []string { return slices.Clone(s.ids) }

// Columns returns the metadata column names in order ("id" first).
func (s *Set) Columns() []string { return slices.Clone(s.cols) }

// Meta returns a copy of a metadata column, one value per stimulus.
func (s *Set) Meta(column string) ([]string, error) {
	if column == "id" {
		return s.IDs(), nil
	}
	v, ok := s.meta[column]
	if !ok {
		return nil, fmt.Errorf("stimulus set %s: no metadata column %q (columns: %v)", s.Name, column, s.cols)
	}
	return slices.Clone(v), nil
}

// Index returns the position of the stimulus with the given id, or -1.
func (s *Set) Index(id string) int { return slices.Index(s.ids, id) }

// SetMeta adds or replaces a metadata column (one value per stimulus).
func (s *Set) SetMeta(column string, values []string) error {
	if column == "" || column == "id" {
		return fmt.Errorf("stimulus set %s: cannot set metadata column %q", s.Name, column)
	}
	if len(values) != len(s.ids) {
		return fmt.Errorf("stimulus set %s: column %q has %d values for %d stimuli", s.Name, column, len(values), len(s.ids))
	}
	if _, ok := s.meta[column]; !ok {
		s.cols = append(s.cols, column)
	}
	s.meta[column] = slices.Clone(values)
	return nil
}

func (s *Set) srcIndex(i int) int {
	if s.index != nil {
		return s.index[i]
	}
	return i
}

// Image decodes stimulus i as a float32 [C H W] tensor with values in [0,1].
func (s *Set) Image(i int) (*tensor.Tensor, error) {
	if i < 0 || i >= len(s.ids) {
		return nil, fmt.Errorf("stimulus set %s: image index %d out of range [0,%d)", s.Name, i, len(s.ids))
	}
	img, err := s.src.image(s.srcIndex(i))
	if err != nil {
		return nil, fmt.Errorf("stimulus set %s: stimulus %q: %w", s.Name, s.ids[i], err)
	}
	return img, nil
}

// Close releases open files (zip sources); the set cannot load images afterwards.
func (s *Set) Close() error { return s.src.close() }

// Subset returns a view of the stimuli at the given positions, in that order, sharing the
// image source.
func (s *Set) Subset(name string, idx []int) (*Set, error) {
	ids := make([]string, len(idx))
	sub := make([]int, len(idx))
	for k, i := range idx {
		if i < 0 || i >= len(s.ids) {
			return nil, fmt.Errorf("stimulus set %s: subset index %d out of range [0,%d)", s.Name, i, len(s.ids))
		}
		ids[k] = s.ids[i]
		sub[k] = s.srcIndex(i)
	}
	out, err := newSet(name, ids, s.src)
	if err != nil {
		return nil, err
	}
	out.Degrees = s.Degrees
	out.index = sub
	for _, c := range s.cols[1:] {
		v := make([]string, len(idx))
		for k, i := range idx {
			v[k] = s.meta[c][i]
		}
		out.cols = append(out.cols, c)
		out.meta[c] = v
	}
	return out, nil
}

// Head returns the first n stimuli (all if n >= Len).
func (s *Set) Head(n int) *Set {
	n = min(max(n, 0), s.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	out, _ := s.Subset(fmt.Sprintf("%s[:%d]", s.Name, n), idx) // ids are already unique
	return out
}

// digestVersion changes when the digest definition changes.
const digestVersion = "ventral-stimuli-digest-v1"

func writeStr(h hash.Hash, s string) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
	h.Write(b[:])
	h.Write([]byte(s))
}

// ImageDigest is a sha256 over what a model sees: the ids in order, the presentation size
// (Degrees) and every image's content (the encoded file bytes for folder and zip sources, the
// decoded pixels otherwise). Metadata is not included, so joining a CSV does not change it.
// The first call reads every image once; the result is cached.
func (s *Set) ImageDigest() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.imgHash == "" {
		h := sha256.New()
		writeStr(h, digestVersion)
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(len(s.ids)))
		h.Write(b[:])
		for i, id := range s.ids {
			writeStr(h, id)
			ih := sha256.New()
			if err := s.src.hashImage(s.srcIndex(i), ih); err != nil {
				return "", fmt.Errorf("stimulus set %s: stimulus %q: %w", s.Name, id, err)
			}
			h.Write(ih.Sum(nil))
		}
		s.imgHash = hex.EncodeToString(h.Sum(nil))
	}
	h := sha256.New()
	writeStr(h, s.imgHash)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(s.Degrees))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Digest is a sha256 over the ids, every metadata column (names and values) and the image
// contents (see ImageDigest).
func (s *Set) Digest() (string, error) {
	img, err := s.ImageDigest()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	writeStr(h, img)
	cols := slices.Clone(s.cols[1:])
	slices.Sort(cols)
	for _, c := range cols {
		writeStr(h, c)
		for _, v := range s.meta[c] {
			writeStr(h, v)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashPixels writes an image tensor's shape and float32 bits.
func hashPixels(t *tensor.Tensor, h hash.Hash) {
	var b [8]byte
	for _, d := range t.Shape {
		binary.LittleEndian.PutUint64(b[:], uint64(d))
		h.Write(b[:])
	}
	buf := make([]byte, 4*len(t.Data))
	for i, v := range t.Data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	h.Write(buf)
}

// funcSource serves images from a function.
type funcSource struct {
	fn func(i int) (*tensor.Tensor, error)
}

func (f funcSource) image(i int) (*tensor.Tensor, error) { return f.fn(i) }
func (f funcSource) hashImage(i int, h hash.Hash) error {
	t, err := f.fn(i)
	if err != nil {
		return err
	}
	hashPixels(t, h)
	return nil
}
func (funcSource) close() error { return nil }

// FromFunc makes a set whose image i is computed by fn (a [C H W] tensor in [0,1]) on demand:
// synthetic stimuli, or images held elsewhere. fn must be deterministic and safe for
// concurrent use (extraction loads images in parallel).
func FromFunc(name string, ids []string, fn func(i int) (*tensor.Tensor, error)) (*Set, error) {
	return newSet(name, slices.Clone(ids), funcSource{fn})
}

// FromTensors makes a set from in-memory [C H W] images.
func FromTensors(name string, ids []string, imgs []*tensor.Tensor) (*Set, error) {
	if len(ids) != len(imgs) {
		return nil, fmt.Errorf("stimulus set %s: %d ids for %d images", name, len(ids), len(imgs))
	}
	for i, t := range imgs {
		if len(t.Shape) != 3 {
			return nil, fmt.Errorf("stimulus set %s: image %d has shape %v, expected [C H W]", name, i, t.Shape)
		}
	}
	return FromFunc(name, ids, func(i int) (*tensor.Tensor, error) { return imgs[i].Clone(), nil })
}
