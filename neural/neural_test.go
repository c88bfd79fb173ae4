package neural

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/mat"
	"github.com/ventral-lab/ventral/internal/mirror"
)

func TestReadRDMs92(t *testing.T) {
	p := mirror.Path(t, "kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat")
	fig1, err := ReadRDMsMAT(p, "RDMs_mIT_hIT_fig1", MATRDMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fig1.Len() != 2 || fig1.N() != 92 {
		t.Fatalf("fig1: %d RDMs of %d stimuli", fig1.Len(), fig1.N())
	}
	t.Logf("fig1 names: %q", fig1.Names)
	if len(fig1.UpperTriangle(0)) != 4186 {
		t.Fatalf("upper triangle has %d", len(fig1.UpperTriangle(0)))
	}
	one, err := ReadRDMsMAT(p, "RDMs_mIT_hIT_fig1(2)", MATRDMOptions{})
	if err != nil || one.Len() != 1 || one.RDMs[0][5] != fig1.RDMs[1][5] {
		t.Fatalf("indexed path: %v", err)
	}
	b := mirror.Path(t, "kriegeskorte92/92_brainRDMs.mat")
	subj, err := ReadRDMsMAT(b, "RDMs", MATRDMOptions{DimNames: []string{"", "subject", "session"}})
	if err != nil {
		t.Fatal(err)
	}
	if subj.Len() != 8 || subj.N() != 92 || subj.Meta["subject"][5] != "2" || subj.Meta["session"][5] != "2" {
		t.Fatalf("brain RDMs: %d, %d, %v", subj.Len(), subj.N(), subj.Meta)
	}

	// Errors: a missing variable, a missing field, the wrong type.
	if _, err := ReadRDMsMAT(p, "nope", MATRDMOptions{}); !errors.Is(err, ErrMissingVariable) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing variable: %v", err)
	}
	if _, err := ReadRDMsMAT(p, "RDMs_mIT_hIT_fig1", MATRDMOptions{Field: "RDMx"}); !errors.Is(err, ErrMissingVariable) {
		t.Errorf("missing field: %v", err)
	}
	if _, err := ReadRDMsMAT(p, "categoryLabels", MATRDMOptions{}); !errors.Is(err, ErrWrongType) {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := ReadMAT(p, "categoryLabels", false); !errors.Is(err, ErrWrongType) {
		t.Errorf("wrong type assembly: %v", err)
	}
	a, err := ReadMAT(p, "categoryVectors", false)
	if err != nil {
		t.Fatal(err)
	}
	if s, n, _, _ := a.Shape(); s != 92 || n != 12 {
		t.Fatalf("categoryVectors %d x %d", s, n)
	}
}

func TestRDMShapeErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.mat")
	err := mat.Write(p, []mat.Var{
		{Name: "rect", Value: mat.NewMatrix(2, 3, []float64{0, 1, 2, 1, 0, 3})},
		{Name: "asym", Value: mat.NewMatrix(3, 3, []float64{0, 1, 2, 1, 0, 3, 2, 9, 0})},
		{Name: "ok", Value: mat.NewMatrix(3, 3, []float64{0, 1, 2, 1, 0, 3, 2, 3, 0})},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRDMsMAT(p, "rect", MATRDMOptions{}); err == nil || !strings.Contains(err.Error(), "not square") {
		t.Errorf("non-square: %v", err)
	}
	if _, err := ReadRDMsMAT(p, "asym", MATRDMOptions{}); err == nil || !strings.Contains(err.Error(), "not symmetric") {
		t.Errorf("asymmetric: %v", err)
	}
	s, err := ReadRDMsMAT(p, "ok", MATRDMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := s.AlignStimuli([]string{"3", "1", "2"})
	if err != nil || s2.RDMs[0][1] != 2 || s2.RDMs[0][5] != 1 {
		t.Fatalf("align: %v %v", err, s2)
	}
	if _, err := s.AlignStimuli([]string{"1", "2", "x"}); !errors.Is(err, ErrStimulusMismatch) || !strings.Contains(err.Error(), "x") {
		t.Errorf("mismatch: %v", err)
	}
}

func TestNPYAllen(t *testing.T) {
	p := mirror.Path(t, "allen-mouse-v1/Allen_test_output.npy")
	a, err := ReadNPY(p, false)
	if err != nil {
		t.Fatal(err)
	}
	if s, n, tb, r := a.Shape(); s != 18 || n != 212 || tb != 1 || r != 1 {
		t.Fatalf("shape %d %d %d %d", s, n, tb, r)
	}
	c, warns, err := a.Clean()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Allen test output: %d neuroids kept, %d warnings", len(c.Neuroids), len(warns))
}

const longCSV = `stimulus_id,neuroid_id,repetition,value,region,stimulus.category
a,n1,1,1.0,IT,face
a,n1,2,3.0,IT,face
b,n1,1,2.0,IT,body
b,n1,2,4.0,IT,body
a,n2,1,5,V4,face
a,n2,2,5,V4,face
b,n2,1,5,V4,body
b,n2,2,5,V4,body
a,n3,1,NaN,IT,face
b,n3,1,1,IT,body
`

func TestCSVLongAndClean(t *testing.T) {
	a, err := ReadCSV(strings.NewReader(longCSV), "long.csv")
	if err != nil {
		t.Fatal(err)
	}
	if s, n, _, r := a.Shape(); s != 2 || n != 3 || r != 2 {
		t.Fatalf("shape %d %d %d", s, n, r)
	}
	m := a.MeanReps()
	if m.At(0, 0, 0, 0) != 2 || m.At(1, 0, 0, 0) != 3 {
		t.Fatalf("mean over reps: %v", m.Data)
	}
	if a.StimulusMeta["category"][1] != "body" {
		t.Fatalf("stimulus meta %v", a.StimulusMeta)
	}
	it, err := a.SelectRegion("it")
	if err != nil || len(it.Neuroids) != 2 || it.Neuroids[1] != "n3" {
		t.Fatalf("region: %v %v", err, it)
	}
	if _, err := a.SelectRegion("V1"); err == nil {
		t.Fatal("selecting a missing region should fail")
	}
	// n2 is constant, n3 has no response to stimulus a: both are excluded with warnings.
	c, warns, err := a.Clean()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Neuroids) != 1 || len(warns) != 2 {
		t.Fatalf("clean kept %v, warnings %v", c.Neuroids, warns)
	}
	for _, w := range warns {
		t.Log(w)
	}
	al, err := a.AlignStimuli([]string{"b", "a"})
	if err != nil || al.At(0, 0, 0, 0) != 2 || al.StimulusMeta["category"][0] != "body" {
		t.Fatalf("align: %v", err)
	}
	if _, err := a.AlignStimuli([]string{"a", "c"}); !errors.Is(err, ErrStimulusMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	if _, err := ReadCSV(strings.NewReader("stimulus_id,neuroid_id,value,colour\na,n,1,red\n"), "x.csv"); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("unknown column: %v", err)
	}
}

func TestCSVWide(t *testing.T) {
	in := "stimulus_id,n1,n2\n#region,V4,IT\na,1,2\nb,3,4\na,5,6\nb,7,\n"
	a, err := ReadCSV(strings.NewReader(in), "wide.csv")
	if err != nil {
		t.Fatal(err)
	}
	if s, n, _, r := a.Shape(); s != 2 || n != 2 || r != 2 {
		t.Fatalf("shape %d %d %d", s, n, r)
	}
	if a.At(0, 0, 0, 1) != 5 || !math.IsNaN(a.At(1, 1, 0, 1)) || a.NeuroidMeta["region"][1] != "IT" {
		t.Fatalf("values %v meta %v", a.Data, a.NeuroidMeta)
	}
	rows, cols, d := a.Matrix()
	if rows != 2 || cols != 2 || d[0] != 3 || d[3] != 4 {
		t.Fatalf("matrix %d %d %v", rows, cols, d)
	}
}

func TestNPYDecode(t *testing.T) {
	// A 2x3 little-endian int32 array in Fortran order.
	hdr := "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }"
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = append(b, byte(len(hdr)), byte(len(hdr)>>8))
	b = append(b, hdr...)
	for _, v := range []int32{1, 4, 2, 5, 3, 6} {
		b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	d, dims, err := DecodeNPY(b)
	if err != nil {
		t.Fatal(err)
	}
	if dims[0] != 2 || dims[1] != 3 || d[1] != 2 || d[3] != 4 {
		t.Fatalf("%v %v", dims, d)
	}
}

// NaN marks a missing repetition: a neuroid with unequal repetition counts is kept and its
// means use the repetitions present; only a neuroid without any response to some stimulus, or
// with constant means, is dropped, by name.
func TestCleanUnequalRepetitions(t *testing.T) {
	nan := math.NaN()
	a := New([]string{"s1", "s2", "s3"}, []string{"n1", "n2", "n3"}, nil, 3)
	vals := [][3][3]float64{ // [stimulus][neuroid][rep]
		{{1, 2, nan}, {1, nan, nan}, {nan, nan, nan}},
		{{4, 5, 6}, {2, 2, 2}, {1, 2, 3}},
		{{7, nan, nan}, {3, 5, nan}, {1, 1, 1}},
	}
	for s := range vals {
		for n := range vals[s] {
			for r, v := range vals[s][n] {
				a.Set(s, n, 0, r, v)
			}
		}
	}
	c, warns, err := a.Clean()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Neuroids, []string{"n1", "n2"}) || len(warns) != 1 || warns[0].Neuroid != "n3" || !strings.Contains(warns[0].String(), "stimulus s1") {
		t.Fatalf("kept %v, warnings %v", c.Neuroids, warns)
	}
	m := c.MeanReps()
	want := []float64{1.5, 1, 5, 2, 7, 4} // s x n
	for i, w := range want {
		if m.Data[i] != w {
			t.Fatalf("means %v, want %v", m.Data, want)
		}
	}
	if rc := c.RepCounts(); !slices.Equal(rc[0], []int{2, 1}) || !slices.Equal(rc[2], []int{1, 2}) {
		t.Fatalf("repetition counts %v", rc)
	}
}

// FromArray puts the named axes of any order into [stimulus, neuroid, time_bin, repetition].
func TestFromArrayDims(t *testing.T) {
	// shape [neuroid=2, repetition=3, stimulus=4], value = 100*n + 10*r + s
	data := make([]float64, 2*3*4)
	for n := 0; n < 2; n++ {
		for r := 0; r < 3; r++ {
			for s := 0; s < 4; s++ {
				data[(n*3+r)*4+s] = float64(100*n + 10*r + s)
			}
		}
	}
	a, err := FromArray("x", data, []int{2, 3, 4}, []string{"neuroid", "repetition", "stimulus"})
	if err != nil {
		t.Fatal(err)
	}
	if s, n, tb, r := a.Shape(); s != 4 || n != 2 || tb != 1 || r != 3 {
		t.Fatalf("shape %d %d %d %d", s, n, tb, r)
	}
	for s := 0; s < 4; s++ {
		for n := 0; n < 2; n++ {
			for r := 0; r < 3; r++ {
				if got := a.At(s, n, 0, r); got != float64(100*n+10*r+s) {
					t.Fatalf("(%d,%d,%d) = %v", s, n, r, got)
				}
			}
		}
	}
	for _, bad := range [][]string{{"neuroid", "stimulus"}, {"neuroid", "neuroid", "stimulus"}, {"neuroid", "trial", "stimulus"}, {"repetition", "time_bin", "stimulus"}} {
		if _, err := FromArray("x", data, []int{2, 3, 4}, bad); err == nil {
			t.Fatalf("dims %v accepted", bad)
		}
	}
}
