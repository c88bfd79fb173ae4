package stimuli

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/formats/mat"
	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/tensor"
)

// OpenOptions say how Open reads a stimulus file where the file alone does not tell.
type OpenOptions struct {
	// Name names the set (default: the file name).
	Name string
	// Variable is the .npz member or .mat variable that holds the images.
	Variable string
	// Field is the field of a .mat struct array that holds each image (default "image").
	Field string
	// Shape is an array's per-image shape, [H W] or [C H W] (default: inferred from the
	// array: N x H x W is greyscale, N x C x H x W or N x H x W x C with C 1 or 3 colour).
	Shape []int
	// Layout is "chw" or "hwc", how an array's rows are stored (default: inferred; an array
	// whose second and last axes could both be channels needs it).
	Layout string
	// Scale divides an array's values to bring them into [0,1] (default 255 for uint8
	// arrays, else 1).
	Scale float64
	// IDVariable is an .npz member or .mat variable holding one numeric id per stimulus.
	IDVariable string
	// IDOffset is the id of an array's first row when ids are row numbers (no IDVariable):
	// ids are IDOffset, IDOffset+1, ... (default 0, as NumPy counts; 1 matches sets numbered
	// from 1). .mat struct arrays are numbered from 1, as MATLAB counts, plus IDOffset.
	IDOffset int
	// Degrees is the visual angle of the stimuli (Set.Degrees).
	Degrees float64
}

// Open reads a stimulus set from a folder of images, a .zip of images (ids are the file paths,
// sorted), a .npy or .npz array of images (ids are row numbers from o.IDOffset, or
// o.IDVariable) or a .mat struct array (FromMat). Errors name the file and what was expected.
func Open(path string, o OpenOptions) (*Set, error) {
	name := o.Name
	if name == "" {
		name = filepath.Base(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stimuli: %w", err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	isArray := ext == ".npy" || ext == ".npz" || ext == ".mat"
	if !isArray && (o.Variable != "" || o.IDVariable != "" || o.Shape != nil || o.Layout != "" || o.Scale != 0 || o.IDOffset != 0) {
		return nil, fmt.Errorf("stimuli %s: variable, id_variable, shape, layout, scale and id_offset apply to .npy, .npz and .mat arrays only", path)
	}
	var s *Set
	switch {
	case st.IsDir():
		s, err = FromFolder(name, path)
	case ext == ".zip":
		s, err = FromZip(name, path)
	case ext == ".npy":
		if o.IDVariable != "" {
			return nil, fmt.Errorf("stimuli %s: a .npy file holds one array; id_variable needs a .npz or .mat file", path)
		}
		s, err = openNpy(name, path, o)
	case ext == ".npz":
		s, err = openNpz(name, path, o)
	case ext == ".mat":
		s, err = openMat(name, path, o)
	default:
		return nil, fmt.Errorf("stimuli %s: unknown kind (expected a folder, .zip, .npy, .npz or .mat)", path)
	}
	if err != nil {
		return nil, err
	}
	s.Degrees = o.Degrees
	return s, nil
}

// imageLayout infers the per-image [C H W] shape and whether rows are H W C from an array's
// shape (first axis: stimuli).
func imageLayout(path string, shape []int, o OpenOptions) ([]int, bool, error) {
	if o.Layout != "" && o.Layout != "chw" && o.Layout != "hwc" {
		return nil, false, fmt.Errorf("stimuli %s: layout %q: expected chw or hwc", path, o.Layout)
	}
	hwc := o.Layout == "hwc"
	if o.Shape != nil {
		sh := o.Shape
		if len(sh) == 2 {
			sh = []int{1, sh[0], sh[1]}
		}
		if len(sh) != 3 {
			return nil, false, fmt.Errorf("stimuli %s: shape %v: expected [H W] or [C H W]", path, o.Shape)
		}
		return sh, hwc, nil
	}
	isC := func(c int) bool { return c == 1 || c == 3 }
	switch len(shape) {
	case 3:
		return []int{1, shape[1], shape[2]}, false, nil
	case 4:
		switch {
		case o.Layout == "chw" || (o.Layout == "" && isC(shape[1]) && !isC(shape[3])):
			return []int{shape[1], shape[2], shape[3]}, false, nil
		case o.Layout == "hwc" || (o.Layout == "" && isC(shape[3]) && !isC(shape[1])):
			return []int{shape[3], shape[1], shape[2]}, true, nil
		}
		return nil, false, fmt.Errorf("stimuli %s: array shape %v: cannot tell channels-first from channels-last; give layout chw or hwc", path, shape)
	}
	return nil, false, fmt.Errorf("stimuli %s: array shape %v: expected N x H x W, N x C x H x W or N x H x W x C (or give shape)", path, shape)
}

func rowIDs(n, offset int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i + offset)
	}
	return ids
}

func openNpy(name, path string, o OpenOptions) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stimuli: %w", err)
	}
	hd, err := npy.ReadHeader(path, f)
	f.Close()
	if err != nil {
		return nil, err
	}
	shape, hwc, err := imageLayout(path, hd.Shape, o)
	if err != nil {
		return nil, err
	}
	scale := o.Scale
	if scale == 0 && strings.HasSuffix(hd.Descr, "u1") {
		scale = 255
	}
	return FromNpy(name, path, NpyOptions{Shape: shape, Scale: scale, HWC: hwc, IDs: rowIDs(hd.Shape[0], o.IDOffset)})
}

// npzMember reads one array of an .npz archive.
func npzMember(path, member string) (*npy.Array, string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, "", fmt.Errorf("stimuli %s: %w", path, err)
	}
	defer zr.Close()
	want := strings.TrimSuffix(member, ".npy") + ".npy"
	var names []string
	for _, f := range zr.File {
		names = append(names, strings.TrimSuffix(f.Name, ".npy"))
		if f.Name != want {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, "", fmt.Errorf("stimuli %s: %s: %w", path, member, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, "", fmt.Errorf("stimuli %s: %s: %w", path, member, err)
		}
		h, err := npy.ReadHeader(path+":"+member, bytes.NewReader(b))
		if err != nil {
			return nil, "", err
		}
		a, err := npy.Decode(path+":"+member, b)
		return a, h.Descr, err
	}
	return nil, "", fmt.Errorf("stimuli %s: no array %q (arrays: %s)", path, member, strings.Join(names, ", "))
}

// numericIDs formats a vector of ids (integers without a decimal point).
func numericIDs(where string, v []float64, n int) ([]string, error) {
	if len(v) != n {
		return nil, fmt.Errorf("%s: %d ids for %d stimuli", where, len(v), n)
	}
	out := make([]string, n)
	for i, x := range v {
		out[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return out, nil
}

func openNpz(name, path string, o OpenOptions) (*Set, error) {
	if o.Variable == "" {
		return nil, fmt.Errorf("stimuli %s: an .npz archive needs variable (the member holding the images)", path)
	}
	a, descr, err := npzMember(path, o.Variable)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) < 3 {
		return nil, fmt.Errorf("stimuli %s: %s has shape %v, expected images N x ...", path, o.Variable, a.Shape)
	}
	shape, hwc, err := imageLayout(path+":"+o.Variable, a.Shape, o)
	if err != nil {
		return nil, err
	}
	n := a.Shape[0]
	row := tensor.Numel(shape)
	if n*row != len(a.Data) {
		return nil, fmt.Errorf("stimuli %s: %s has shape %v; images of shape %v need %d values per row", path, o.Variable, a.Shape, shape, row)
	}
	scale := o.Scale
	if scale == 0 {
		scale = 1
		if strings.HasSuffix(descr, "u1") {
			scale = 255
		}
	}
	ids := rowIDs(n, o.IDOffset)
	if o.IDVariable != "" {
		v, _, err := npzMember(path, o.IDVariable)
		if err != nil {
			return nil, err
		}
		if ids, err = numericIDs(path+":"+o.IDVariable, v.Data, n); err != nil {
			return nil, fmt.Errorf("stimuli %w", err)
		}
	}
	return FromFunc(name, ids, func(i int) (*tensor.Tensor, error) {
		return rowImage(a.Data[i*row:(i+1)*row], shape, hwc, scale), nil
	})
}

func rowImage(v []float64, shape []int, hwc bool, scale float64) *tensor.Tensor {
	t := tensor.New(shape...)
	C, HW := shape[0], shape[1]*shape[2]
	for k := range t.Data {
		src := k
		if hwc {
			c, p := k/HW, k%HW
			src = p*C + c
		}
		t.Data[k] = float32(v[src] / scale)
	}
	return t
}

func openMat(name, path string, o OpenOptions) (*Set, error) {
	if o.Variable == "" {
		return nil, fmt.Errorf("stimuli %s: a .mat file needs variable (a struct array with one image per element)", path)
	}
	if o.Shape != nil || o.Layout != "" || o.Scale != 0 {
		return nil, fmt.Errorf("stimuli %s: .mat struct arrays take field, not shape, layout or scale", path)
	}
	field := o.Field
	if field == "" {
		field = "image"
	}
	s, err := FromMat(name, path, o.Variable, field)
	if err != nil {
		return nil, err
	}
	switch {
	case o.IDVariable != "":
		f, err := mat.Open(path)
		if err != nil {
			return nil, err
		}
		v, err := f.Var(o.IDVariable)
		if err != nil {
			return nil, fmt.Errorf("stimuli %s: %w", path, err)
		}
		x, _, err := v.Float64s()
		if err != nil {
			return nil, fmt.Errorf("stimuli %s: id variable %s: %w", path, o.IDVariable, err)
		}
		ids, err := numericIDs(path+":"+o.IDVariable, x, s.Len())
		if err != nil {
			return nil, fmt.Errorf("stimuli %w", err)
		}
		return s.renamed(ids)
	case o.IDOffset != 0:
		return s.renamed(rowIDs(s.Len(), 1+o.IDOffset))
	}
	return s, nil
}

// renamed gives the set new ids (unique, one per stimulus).
func (s *Set) renamed(ids []string) (*Set, error) {
	idx := make([]int, s.Len())
	for i := range idx {
		idx[i] = i
	}
	out, err := s.Subset(s.Name, idx)
	if err != nil {
		return nil, err
	}
	chk, err := newSet(s.Name, ids, s.src)
	if err != nil {
		return nil, err
	}
	out.ids = chk.ids
	return out, nil
}

// MetadataOptions control WithMetadata.
type MetadataOptions struct {
	// IDColumn holds the stimulus ids (default "id").
	IDColumn string
	// FileColumn, when set, holds each row's image path inside the folder or zip (the set's
	// "file" column); the rows then give the stimuli's order and ids.
	FileColumn string
}

// WithMetadata joins a CSV of per-stimulus metadata (a header row, one row per stimulus). With
// o.FileColumn the rows name the images: the returned set has the stimuli in the rows' order,
// ids from o.IDColumn (or the file when the CSV has no such column) and the other columns as
// metadata; every image must have a row and every row an image. Without it rows are matched
// to the set's ids by o.IDColumn and the set's order stays.
func (s *Set) WithMetadata(path string, o MetadataOptions) (*Set, error) {
	if o.IDColumn == "" {
		o.IDColumn = "id"
	}
	if o.FileColumn == "" {
		out, err := s.Subset(s.Name, identityIdx(s.Len()))
		if err != nil {
			return nil, err
		}
		out.Degrees = s.Degrees
		if err := out.JoinCSV(path, CSVOptions{Key: o.IDColumn}); err != nil {
			return nil, err
		}
		return out, nil
	}
	files, err := s.Meta("file")
	if err != nil {
		return nil, fmt.Errorf("%s: file_column %q needs images from a folder or zip: %w", path, o.FileColumn, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metadata csv: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: needs a header row and one row per stimulus", path)
	}
	hdr := rows[0]
	hdr[0] = strings.TrimPrefix(hdr[0], "\ufeff")
	fc, ic := slices.Index(hdr, o.FileColumn), slices.Index(hdr, o.IDColumn)
	if fc < 0 {
		return nil, fmt.Errorf("%s: row 1 (header): no file column %q (columns: %s)", path, o.FileColumn, strings.Join(hdr, ", "))
	}
	pos := make(map[string]int, len(files))
	for i, fl := range files {
		pos[fl] = i
	}
	idx := make([]int, 0, len(rows)-1)
	ids := make([]string, 0, len(rows)-1)
	used := make(map[int]int, len(files))
	for r, row := range rows[1:] {
		i, ok := pos[row[fc]]
		if !ok {
			return nil, fmt.Errorf("%s: row %d: %s %q is not an image of %s", path, r+2, o.FileColumn, row[fc], s.Name)
		}
		if prev, dup := used[i]; dup {
			return nil, fmt.Errorf("%s: row %d: image %q already on row %d", path, r+2, row[fc], prev)
		}
		used[i] = r + 2
		idx = append(idx, i)
		if ic >= 0 {
			ids = append(ids, row[ic])
		} else {
			ids = append(ids, row[fc])
		}
	}
	if len(idx) != len(files) {
		var missing []string
		for i, fl := range files {
			if _, ok := used[i]; !ok {
				missing = append(missing, fl)
			}
		}
		return nil, fmt.Errorf("%s: %d images of %s have no row, e.g. %s", path, len(missing), s.Name, strings.Join(missing[:min(3, len(missing))], ", "))
	}
	out, err := s.Subset(s.Name, idx)
	if err != nil {
		return nil, err
	}
	if out, err = out.renamed(ids); err != nil {
		return nil, fmt.Errorf("%s: column %s: %w", path, o.IDColumn, err)
	}
	out.Degrees = s.Degrees
	for j, h := range hdr {
		if j == ic || j == fc {
			continue
		}
		v := make([]string, len(idx))
		for r := range v {
			v[r] = rows[r+1][j]
		}
		if h == "id" || slices.Contains(out.cols, h) {
			return nil, fmt.Errorf("%s: column %q is already in stimulus set %s", path, h, s.Name)
		}
		if err := out.SetMeta(h, v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return out, nil
}

func identityIdx(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
