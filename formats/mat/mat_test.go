package mat

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
)

// Expected values below were printed by scipy.io.loadmat 1.10.1 from the same files.

func open(t *testing.T, name string) *File {
	t.Helper()
	f, err := Open(mirror.Path(t, "kriegeskorte92/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func must[T any](t *testing.T) func(T, error) T {
	return func(x T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
}

func field(t *testing.T, v *Value, i int, name string) *Value {
	t.Helper()
	e, err := v.Index(i)
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.Field(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func text(t *testing.T, v *Value) string {
	t.Helper()
	s, err := v.Text()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func checkDims(t *testing.T, what string, got []int, want ...int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: dims %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: dims %v, want %v", what, got, want)
		}
	}
}

// checkRDM checks a 92x92 RDM is symmetric with a zero diagonal and returns it row-major.
func checkRDM(t *testing.T, what string, v *Value) []float64 {
	t.Helper()
	r, c, d, err := v.Matrix()
	if err != nil {
		t.Fatal(err)
	}
	if r != 92 || c != 92 {
		t.Fatalf("%s: %dx%d, want 92x92", what, r, c)
	}
	for i := 0; i < 92; i++ {
		if d[i*92+i] != 0 {
			t.Errorf("%s: diagonal (%d,%d) = %v", what, i, i, d[i*92+i])
		}
		for j := 0; j < i; j++ {
			if d[i*92+j] != d[j*92+i] {
				t.Fatalf("%s: not symmetric at (%d,%d)", what, i, j)
			}
		}
	}
	return d
}

func TestBrainRDMs(t *testing.T) {
	f := open(t, "92_brainRDMs.mat")
	if !strings.HasPrefix(f.Header(), "MATLAB 5.0 MAT-file") {
		t.Errorf("header %q", f.Header())
	}
	rdms := must[*Value](t)(f.Var("RDMs"))
	if rdms.Class() != ClassStruct {
		t.Fatalf("class %v", rdms.Class())
	}
	checkDims(t, "RDMs", rdms.Dims(), 1, 4, 2)
	sums := []float64{7390.263201236725, 7101.22572517395, 6924.0553641319275, 6654.420201659203,
		7528.765076756477, 7302.238057971001, 7282.601507306099, 6607.864090919495}
	for i, want := range sums {
		r := field(t, rdms, i, "RDM")
		if r.Class() != ClassSingle {
			t.Errorf("RDM %d class %v, want single", i, r.Class())
		}
		d := checkRDM(t, "RDMs", r)
		if got := sum(d); !near(got, want, 1e-12) {
			t.Errorf("RDM %d sum %v, want %v", i, got, want)
		}
	}
	d := checkRDM(t, "RDM 0", field(t, rdms, 0, "RDM"))
	if d[1] != float64(float32(0.82878304)) || d[3*92+50] != float64(float32(0.8241603)) {
		t.Errorf("RDM 0 values %v %v", d[1], d[3*92+50])
	}
	if s := text(t, field(t, rdms, 0, "name")); s != "hIT | BE | Session: 1" {
		t.Errorf("name 0 %q", s)
	}
	// RDMs(1,4,2) is linear index 3 + 4*1 = 7.
	if s := text(t, field(t, rdms, 7, "name")); s != "hIT | TI | Session: 2" {
		t.Errorf("name 7 %q", s)
	}
	d = checkRDM(t, "RDM 7", field(t, rdms, 7, "RDM"))
	if d[1] != float64(float32(0.9842925)) || d[3*92+50] != float64(float32(1.0524381)) {
		t.Errorf("RDM 7 values %v %v", d[1], d[3*92+50])
	}
	col, dims, err := field(t, rdms, 0, "color").Float64s()
	if err != nil || len(col) != 3 || col[2] != 1 || col[0] != 0 {
		t.Errorf("color %v %v %v", col, dims, err)
	}
	// A wrong type names the file, variable and field.
	_, _, err = field(t, rdms, 2, "name").Float64s()
	want := `92_brainRDMs.mat: variable "RDMs": element 2: field "name": expected numeric, found 1x21 char`
	if err == nil || err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if _, err := f.Var("nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `variable "nope"`) {
		t.Errorf("missing variable error %v", err)
	}
	e0 := must[*Value](t)(rdms.Index(0))
	if _, err := e0.Field("RDMx"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing field error %v", err)
	}
	if _, err := rdms.Field("RDM"); err == nil {
		t.Error("Field on a 1x4x2 struct should fail")
	}
	if _, err := rdms.Index(8); err == nil {
		t.Error("Index(8) on 8 elements should fail")
	}
}

func TestSupplementalData(t *testing.T) {
	f := open(t, "Kriegeskorte_Neuron2008_supplementalData.mat")
	stim := must[*Value](t)(f.Var("stimuli_92objs"))
	checkDims(t, "stimuli_92objs", stim.Dims(), 1, 92)
	if got := strings.Join(stim.Fields(), ","); got != "category,human,face,animal,natural,image" {
		t.Errorf("fields %s", got)
	}
	if s := text(t, field(t, stim, 0, "category")); s != "human bodypart" {
		t.Errorf("category %q", s)
	}
	for name, want := range map[string]float64{"human": 1, "face": 0, "animal": 1, "natural": 1} {
		if x := must[float64](t)(field(t, stim, 0, name).Scalar()); x != want {
			t.Errorf("%s = %v, want %v", name, x, want)
		}
	}
	img := field(t, stim, 0, "image")
	if img.Class() != ClassUint8 {
		t.Fatalf("image class %v", img.Class())
	}
	px, dims, err := img.Uint8s()
	if err != nil {
		t.Fatal(err)
	}
	checkDims(t, "image", dims, 175, 175, 3)
	at := func(p []uint8, i, j, k int) uint8 { return p[i+175*j+175*175*k] }
	s := 0
	for _, x := range px {
		s += int(x)
	}
	if s != 11807435 || at(px, 10, 20, 0) != 128 || at(px, 174, 174, 2) != 128 {
		t.Errorf("image 0: sum %d, (10,20,0)=%d", s, at(px, 10, 20, 0))
	}
	px, _, err = field(t, stim, 91, "image").Uint8s()
	if err != nil {
		t.Fatal(err)
	}
	s = 0
	for _, x := range px {
		s += int(x)
	}
	if s != 17296379 || at(px, 100, 50, 0) != 246 || at(px, 100, 50, 1) != 245 || at(px, 100, 50, 2) != 250 {
		t.Errorf("image 91: sum %d, (100,50,:)=%d %d %d", s, at(px, 100, 50, 0), at(px, 100, 50, 1), at(px, 100, 50, 2))
	}
	// RowMajor agrees with the column-major layout.
	rm, _, err := field(t, stim, 91, "image").RowMajor()
	if err != nil || rm[(100*175+50)*3+2] != 250 {
		t.Errorf("row-major image pixel %v %v", rm[(100*175+50)*3+2], err)
	}

	cv := must[*Value](t)(f.Var("categoryVectors"))
	if cv.Class() != ClassDouble { // double class, stored compactly as miUINT8
		t.Errorf("categoryVectors class %v", cv.Class())
	}
	r, c, d, err := cv.Matrix()
	if err != nil || r != 92 || c != 12 {
		t.Fatalf("categoryVectors %dx%d %v", r, c, err)
	}
	colSums := []float64{48, 44, 24, 24, 24, 24, 23, 21, 22, 46, 46, 7}
	row0 := []float64{1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0}
	row91 := []float64{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0}
	for j := 0; j < 12; j++ {
		cs := 0.0
		for i := 0; i < 92; i++ {
			cs += d[i*12+j]
		}
		if cs != colSums[j] || d[j] != row0[j] || d[91*12+j] != row91[j] {
			t.Errorf("categoryVectors column %d: sum %v row0 %v row91 %v", j, cs, d[j], d[91*12+j])
		}
	}

	labels := must[[]string](t)(must[*Value](t)(f.Var("categoryLabels")).Strings())
	want := "animate inanim human nonhumani body face natObj artiObj rand24 rand48 other48 monkeyape"
	if got := strings.Join(labels, " "); got != want {
		t.Errorf("categoryLabels %q", got)
	}

	fig1 := must[*Value](t)(f.Var("RDMs_mIT_hIT_fig1"))
	checkDims(t, "RDMs_mIT_hIT_fig1", fig1.Dims(), 1, 2)
	type exp struct {
		name           string
		first, second  float64
		last, sum      float64
		rdmDims1, dim2 int
	}
	for i, e := range []exp{
		{"mIT_674neurons", 0.9669127246041016, 0.6997838145444901, 0.8046630574470712, 4167.792212231709, 1, 4186},
		{"hITvisStim_316vx", 0.9356239885091782, 0.7147688046097755, 0.7750169783830643, 3549.46457657218, 1, 4186},
	} {
		if s := text(t, field(t, fig1, i, "name")); s != e.name {
			t.Errorf("fig1 name %q", s)
		}
		v, dims, err := field(t, fig1, i, "RDM").Float64s()
		if err != nil {
			t.Fatal(err)
		}
		checkDims(t, "fig1 RDM", dims, e.rdmDims1, e.dim2)
		if v[0] != e.first || v[1] != e.second || v[4185] != e.last || !near(sum(v), e.sum, 1e-12) {
			t.Errorf("fig1 %s: %v %v %v sum %v", e.name, v[0], v[1], v[4185], sum(v))
		}
	}
}

func TestModelRDMs(t *testing.T) {
	f := open(t, "92_modelRDMs.mat")
	models := must[*Value](t)(f.Var("Models"))
	checkDims(t, "Models", models.Dims(), 1, 8)
	type exp struct {
		name  string
		class Class
		sum   float64
	}
	exps := []exp{
		{"animacy", ClassDouble, 4224}, {"FaceBodyManmadeNatobj", ClassDouble, 6342}, // stored as miUINT8
		{"monkeyIT", ClassDouble, 8335.584424463415}, {"EVA", ClassSingle, 6941.439427852631},
		{"HMAX", ClassDouble, 2000.1539365593976}, {"V1", ClassDouble, 3292.5953638352184},
		{"Silhouette", ClassDouble, 5425.906816593486}, {"RADON", ClassDouble, 433.42543871091203},
	}
	var monkey []float64
	for i, e := range exps {
		if s := text(t, field(t, models, i, "name")); s != e.name {
			t.Errorf("model %d name %q, want %q", i, s, e.name)
		}
		r := field(t, models, i, "RDM")
		if r.Class() != e.class {
			t.Errorf("%s class %v, want %v", e.name, r.Class(), e.class)
		}
		d := checkRDM(t, e.name, r)
		if !near(sum(d), e.sum, 1e-12) {
			t.Errorf("%s sum %v, want %v", e.name, sum(d), e.sum)
		}
		if e.name == "monkeyIT" {
			monkey = d
		}
	}
	// The monkey IT model RDM's upper triangle (row by row) is the fig1 mIT vector of the
	// supplemental file: a cross-file check of ordering.
	vec, _, err := field(t, must[*Value](t)(open(t, "Kriegeskorte_Neuron2008_supplementalData.mat").Var("RDMs_mIT_hIT_fig1")), 0, "RDM").Float64s()
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for i := 0; i < 92; i++ {
		for j := i + 1; j < 92; j++ {
			if monkey[i*92+j] != vec[k] {
				t.Fatalf("monkeyIT (%d,%d) = %v, fig1 vector[%d] = %v", i, j, monkey[i*92+j], k, vec[k])
			}
			k++
		}
	}
}

func TestBehavRDMs(t *testing.T) {
	f := open(t, "92_behavRDMs.mat")
	if got := strings.Join(f.Names(), ","); got != "rdms_behav_92" {
		t.Errorf("names %s", got)
	}
	b := must[*Value](t)(f.Var("rdms_behav_92"))
	checkDims(t, "rdms_behav_92", b.Dims(), 1, 16)
	d := checkRDM(t, "behav 0", field(t, b, 0, "RDM"))
	if d[1] != 0.025375314041887868 || d[3*92+50] != 0.013571045144330999 || !near(sum(d), 116.30655917437441, 1e-12) {
		t.Errorf("behav 0: %v %v sum %v", d[1], d[3*92+50], sum(d))
	}
	d = checkRDM(t, "behav 15", field(t, b, 15, "RDM"))
	if !near(sum(d), 115.74065884629353, 1e-12) {
		t.Errorf("behav 15 sum %v", sum(d))
	}
	if s := text(t, field(t, b, 9, "name")); s != "simJudge | subject10" {
		t.Errorf("name %q", s)
	}
	col := must[float64](t)(func() (float64, error) {
		v, _, err := field(t, b, 0, "color").Float64s()
		if err != nil {
			return 0, err
		}
		return v[1], nil
	}())
	if col != 0.5 {
		t.Errorf("color %v", col)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := []float64{1, 2, 3, 4, 5, 6} // 2x3 row-major
	cube := make([]float64, 2*3*4)
	for i := range cube {
		cube[i] = float64(i) - 0.5
	}
	vars := []Var{
		{"m", NewMatrix(2, 3, m)},
		{"cube", NewArray([]int{2, 3, 4}, cube)},
		{"s", NewSingle([]int{1, 3}, []float32{1.5, -2, float32(math.Inf(1))})},
		{"txt", NewChar("héllo 𝄞")},
		{"empty", NewArray([]int{0, 0}, nil)},
		{"e", NewChar("")},
		{"one", NewArray([]int{1, 1}, []float64{math.Pi})},
	}
	for _, compress := range []bool{false, true} {
		path := filepath.Join(dir, "rt.mat")
		if err := Write(path, vars, compress); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.Names(), ","); got != "m,cube,s,txt,empty,e,one" {
			t.Errorf("names %s", got)
		}
		r, c, d, err := must[*Value](t)(f.Var("m")).Matrix()
		if err != nil || r != 2 || c != 3 || !equal(d, m) {
			t.Errorf("m: %d %d %v %v", r, c, d, err)
		}
		d, dims, _ := must[*Value](t)(f.Var("cube")).Float64s()
		checkDims(t, "cube", dims, 2, 3, 4)
		if !equal(d, cube) {
			t.Errorf("cube %v", d)
		}
		sv := must[*Value](t)(f.Var("s"))
		d, _, _ = sv.Float64s()
		if sv.Class() != ClassSingle || d[0] != 1.5 || d[1] != -2 || !math.IsInf(d[2], 1) {
			t.Errorf("s %v %v", sv.Class(), d)
		}
		if s := text(t, must[*Value](t)(f.Var("txt"))); s != "héllo 𝄞" {
			t.Errorf("txt %q", s)
		}
		if s := text(t, must[*Value](t)(f.Var("e"))); s != "" {
			t.Errorf("e %q", s)
		}
		if x := must[float64](t)(must[*Value](t)(f.Var("one")).Scalar()); x != math.Pi {
			t.Errorf("one %v", x)
		}
		if ev := must[*Value](t)(f.Var("empty")); ev.Len() != 0 {
			t.Errorf("empty %v", ev)
		}
		// A value read from a file can be written again (here a uint8 image, compressed).
		if compress {
			img := field(t, must[*Value](t)(open(t, "Kriegeskorte_Neuron2008_supplementalData.mat").Var("stimuli_92objs")), 5, "image")
			p2 := filepath.Join(dir, "img.mat")
			if err := Write(p2, []Var{{"img", img}}, true); err != nil {
				t.Fatal(err)
			}
			a, _, _ := img.Uint8s()
			b, _, err := must[*Value](t)(must[*File](t)(Open(p2)).Var("img")).Uint8s()
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("image round trip: %v", err)
			}
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
	if err := Write(filepath.Join(dir, "bad.mat"), []Var{{"m", NewArray([]int{2, 2}, []float64{1})}}, false); err == nil {
		t.Error("dims/data mismatch should fail")
	}
	if err := Write(filepath.Join(dir, "bad.mat"), []Var{{"1x", NewChar("a")}}, false); err == nil {
		t.Error("bad name should fail")
	}
}

func equal(a, b []float64) bool {
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

func TestCorrupt(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, []Var{{"x", NewMatrix(2, 2, []float64{1, 2, 3, 4})}}, false); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if _, err := Parse("x.mat", good); err != nil {
		t.Fatal(err)
	}
	// Every truncation fails cleanly.
	for n := 0; n < len(good); n++ {
		if _, err := Parse("x.mat", good[:n]); err == nil && n > 128 {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	// A huge declared dimension is rejected without allocating.
	bad := append([]byte(nil), good...)
	bad[128+8+16+8] = 0xff // first dimension's low byte
	bad[128+8+16+8+3] = 0x7f
	if _, err := Parse("x.mat", bad); err == nil || !strings.Contains(err.Error(), "x.mat") {
		t.Errorf("huge dims: %v", err)
	}
	if _, err := Parse("v73.mat", append([]byte("MATLAB 7.3 MAT-file"), make([]byte, 200)...)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("v7.3: %v", err)
	}
}

// bigEndianSample builds a big-endian file by hand.
func bigEndianSample() []byte {
	// A big-endian file holding a 3x2 sparse double matrix [0 2; 1 0; 0 3] and a cell {int16 7, 'ab'}.
	var b []byte
	be := func(x ...uint32) {
		for _, v := range x {
			b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
		}
	}
	hdr := make([]byte, 128)
	copy(hdr, "MATLAB 5.0 MAT-file, big-endian test")
	hdr[124], hdr[125] = 1, 0
	copy(hdr[126:], "MI")
	b = append(b, hdr...)
	// sparse: flags, dims, name "sp", ir [1 0 2], jc [0 1 3], pr [1 2 3]
	spStart := len(b)
	be(14, 0)
	be(6, 8, uint32(ClassSparse), 3)
	be(5, 8, 3, 2)
	be(2<<16|1, 's'<<24|'p'<<16)
	be(5, 12, 1, 0, 2, 0)
	be(5, 12, 0, 1, 3, 0)
	be(9, 24)
	for _, x := range []float64{1, 2, 3} {
		u := math.Float64bits(x)
		be(uint32(u>>32), uint32(u))
	}
	size := len(b) - spStart - 8
	b[spStart+4], b[spStart+5], b[spStart+6], b[spStart+7] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
	// cell 1x2: flags, dims, name "c", then two miMATRIX elements
	start := len(b)
	be(14, 0)
	be(6, 8, uint32(ClassCell), 0)
	be(5, 8, 1, 2)
	be(1<<16|1, 'c'<<24)
	be(14, 48)
	be(6, 8, uint32(ClassInt16), 0)
	be(5, 8, 1, 1)
	be(1, 0)
	be(2<<16|3, 7<<16)
	be(14, 48)
	be(6, 8, uint32(ClassChar), 0)
	be(5, 8, 1, 2)
	be(1, 0)
	be(4<<16|4, 'a'<<16|'b')
	size = len(b) - start - 8
	b[start+4], b[start+5], b[start+6], b[start+7] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
	return b
}

func TestBigEndianAndSparse(t *testing.T) {
	b := bigEndianSample()
	f, err := Parse("be.mat", b)
	if err != nil {
		t.Fatal(err)
	}
	sp := must[*Value](t)(f.Var("sp"))
	r, c, d, err := sp.Matrix()
	if err != nil || r != 3 || c != 2 || !equal(d, []float64{0, 2, 1, 0, 0, 3}) {
		t.Errorf("sparse %d %d %v %v", r, c, d, err)
	}
	cell := must[*Value](t)(f.Var("c"))
	x := must[float64](t)(must[*Value](t)(cell.Cell(0)).Scalar())
	s := text(t, must[*Value](t)(cell.Cell(1)))
	if x != 7 || s != "ab" {
		t.Errorf("cell %v %q", x, s)
	}
	if _, err := cell.Strings(); err == nil || !strings.Contains(err.Error(), `variable "c": cell 0: expected char`) {
		t.Errorf("Strings error %v", err)
	}
}
