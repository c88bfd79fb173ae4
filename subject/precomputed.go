package subject

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/stimuli"
)

// IDArrays are the array names that give each row's stimulus id rather than a layer.
var IDArrays = []string{"ids", "stimulus_id"}

// Precomputed is a model known only by its activations, computed anywhere and stored in a file:
// an .npz archive with one array per layer, named by the layer, or an HDF5 (.h5, .hdf5) or
// NetCDF4 (.nc) file with one dataset (variable) per layer at its root; there an ids array may
// hold strings, and coordinate variables and bare netCDF dimensions are not layers. An array's first axis is the
// stimulus (further axes are flattened into features). Rows follow the stimulus set's order,
// unless the file also holds an integer array "ids" (or "stimulus_id") giving each row's
// stimulus id; the rows may then be in any order and the file may hold more stimuli than a
// benchmark shows. A benchmark over a train/test split shows two sets whose ids may overlap
// (allen-mouse-v1's "0", "1", ... in each): arrays named LAYER@SPLIT (and ids@SPLIT) then serve
// the set of that split (a set named ".../SPLIT"), before LAYER and ids.
type Precomputed struct {
	path, name, digest string
	layers             []string
	arrays             map[string]bool
}

// Open reads the table of contents of a precomputed-activations file and its digest (a sha256
// of its bytes); name is the model's name in results ("" : the file name without extension).
func Open(path, name string) (*Precomputed, error) {
	if _, ok := sources[strings.ToLower(filepath.Ext(path))]; !ok {
		return nil, fmt.Errorf("%s: precomputed activations must be %s (one array per layer), not %q", path, sourceKinds(), filepath.Ext(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	src, err := openSource(path)
	if err != nil {
		return nil, err
	}
	defer src.close()
	p := &Precomputed{path: path, name: name, digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), arrays: map[string]bool{}}
	if p.name == "" {
		p.name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	for _, a := range src.names() {
		p.arrays[a] = true
		base, _, _ := strings.Cut(a, "@")
		if !slices.Contains(IDArrays, base) && !slices.Contains(p.layers, base) {
			p.layers = append(p.layers, base)
		}
	}
	if len(p.layers) == 0 {
		return nil, fmt.Errorf("%s: no layer arrays (only %s)", path, strings.Join(IDArrays, ", "))
	}
	slices.Sort(p.layers)
	return p, nil
}

// Name implements Model.
func (p *Precomputed) Name() string { return p.name }

// Digest implements Model: the sha256 of the file's bytes.
func (p *Precomputed) Digest() (string, error) { return p.digest, nil }

// Layers implements Model: the file's layer arrays in name order, of unknown depth.
func (p *Precomputed) Layers() ([]Layer, error) { return unknownDepths(p.layers), nil }

// Preprocess implements Model: nil, the stimuli were preprocessed wherever the activations were
// computed.
func (p *Precomputed) Preprocess() (*stimuli.Preprocess, error) { return nil, nil }

// Path is the file the activations are read from.
func (p *Precomputed) Path() string { return p.path }

// Activations implements Model: each layer's rows for the set's stimuli, in the set's order.
// Errors name the file, the array and what was expected: a missing layer, a row count or ids
// that do not match the set, a non-finite value.
func (p *Precomputed) Activations(set *stimuli.Set, layers []string, o Options) ([]*activations.Matrix, error) {
	if err := CheckLayers(p, layers); err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, err)
	}
	src, err := openSource(p.path)
	if err != nil {
		return nil, err
	}
	defer src.close()
	split := ""
	if i := strings.LastIndex(set.Name, "/"); i >= 0 {
		split = set.Name[i+1:]
	}
	// rowsFor returns, for the ids array idName, the file row of each of the set's stimuli and
	// the number of ids.
	type rowMap struct {
		rows []int
		n    int
	}
	maps := map[string]rowMap{}
	rowsFor := func(idName string) ([]int, int, error) {
		if m, ok := maps[idName]; ok {
			return m.rows, m.n, nil
		}
		ids, err := src.ids(idName)
		if err != nil {
			return nil, 0, err
		}
		at := map[string]int{}
		for r, id := range ids {
			if q, dup := at[id]; dup {
				return nil, 0, fmt.Errorf("%s: array %q: stimulus id %s in rows %d and %d", p.path, idName, id, q, r)
			}
			at[id] = r
		}
		var rows []int
		var missing []string
		for _, id := range set.IDs() {
			r, ok := at[id]
			if !ok {
				missing = append(missing, id)
			}
			rows = append(rows, r)
		}
		if len(missing) > 0 {
			return nil, 0, fmt.Errorf("%s: array %q lacks %d of the %d stimuli of set %s (e.g. id %s)", p.path, idName, len(missing), set.Len(), set.Name, strings.Join(missing[:min(3, len(missing))], ", "))
		}
		maps[idName] = rowMap{rows, len(ids)}
		return rows, len(ids), nil
	}
	out := make([]*activations.Matrix, len(layers))
	for li, l := range layers {
		name := ""
		if split != "" && p.arrays[l+"@"+split] {
			name = l + "@" + split
		} else if p.arrays[l] {
			name = l
		}
		if name == "" {
			return nil, fmt.Errorf("%s: no array %q for stimulus set %s (split %q)", p.path, l, set.Name, split)
		}
		a, err := src.read(name)
		if err != nil {
			return nil, err
		}
		// The ids of an array LAYER@SPLIT are ids@SPLIT; those of LAYER are ids.
		suffix := ""
		if _, sp, ok := strings.Cut(name, "@"); ok {
			suffix = "@" + sp
		}
		idName := ""
		for _, n := range IDArrays {
			if p.arrays[n+suffix] {
				idName = n + suffix
				break
			}
		}
		var rows []int
		nFile := -1
		if idName != "" {
			if rows, nFile, err = rowsFor(idName); err != nil {
				return nil, err
			}
		}
		if len(a.Shape) == 0 {
			return nil, fmt.Errorf("%s: array %q is a scalar, expected stimuli x features", p.path, name)
		}
		n := a.Shape[0]
		cols := 1
		for _, d := range a.Shape[1:] {
			cols *= d
		}
		switch {
		case idName != "" && n != nFile:
			return nil, fmt.Errorf("%s: array %q has %d rows, array %q has %d ids", p.path, name, n, idName, nFile)
		case idName == "" && n != set.Len():
			return nil, fmt.Errorf("%s: array %q has %d rows, stimulus set %s has %d stimuli (rows must follow the set's order, or add an integer array %q with each row's stimulus id)",
				p.path, name, n, set.Name, set.Len(), IDArrays[0])
		case cols == 0:
			return nil, fmt.Errorf("%s: array %q has no features (shape %v)", p.path, name, a.Shape)
		}
		m := &activations.Matrix{Rows: set.Len(), Cols: cols, Data: make([]float32, set.Len()*cols)}
		for i := 0; i < set.Len(); i++ {
			r := i
			if rows != nil {
				r = rows[i]
			}
			src := a.Data[r*cols : (r+1)*cols]
			for j, v := range src {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("%s: array %q: stimulus %s (row %d), feature %d is %v; activations must be finite", p.path, name, set.ID(i), r, j, v)
				}
			}
			copy(m.Data[i*cols:], src)
		}
		if out[li], err = activations.ProjectMatrix(m, o.Projection); err != nil {
			return nil, fmt.Errorf("%s: array %q: %w", p.path, name, err)
		}
	}
	return out, nil
}
