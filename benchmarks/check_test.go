package benchmarks

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/subject"
)

// Check reports the counts of the user benchmark's files (16 images; 5 neuroids x 16 stimuli x
// 4 repetition slots with 2 to 4 present), their alignment and what the split-half ceiling
// will use; without stimulus_ids the row numbers do not match the file names and the problem
// says how to fix it.
func TestCheckUserBenchmark(t *testing.T) {
	u := writeUserBench(t, 16, 5)
	s := u.spec(t, "user-npy", "data: {kind: assembly, path: resp.npy, dims: [neuroid, stimulus, repetition], stimulus_ids: order}\n")
	r, err := Check(s)
	if err != nil {
		t.Fatal(err)
	}
	var txt bytes.Buffer
	r.WriteText(&txt)
	t.Log("\n" + txt.String())
	arr, err := npy.Read(filepath.Join(u.dir, "resp.npy"))
	if err != nil {
		t.Fatal(err)
	}
	nan := 0
	for _, v := range arr.Data {
		if math.IsNaN(v) {
			nan++
		}
	}
	if !r.OK() || len(r.Stimuli) != 1 || r.Stimuli[0].Count != 16 || r.Stimuli[0].Degrees != 4 || len(r.Data) != 1 {
		t.Fatalf("report %+v", r)
	}
	d := r.Data[0]
	if d.Stimuli != 16 || d.Neuroids != 5 || d.TimeBins != 1 || d.Repetitions != 4 || d.RepsMin != 2 || d.RepsMax != 4 ||
		d.NaN != nan || nan == 0 || d.Matched != 16 || d.Kept != 5 || !strings.Contains(r.Ceiling, "split-half over 16 stimuli") || !strings.Contains(r.Ceiling, "5 neuroids") {
		t.Fatalf("data %+v, ceiling %q", d, r.Ceiling)
	}
	// A metadata CSV beside the spec adds columns, matched on the ids (the file names).
	var meta strings.Builder
	meta.WriteString("id,category\n")
	for i := 15; i >= 0; i-- {
		fmt.Fprintf(&meta, "img%02d.png,c%d\n", i, i%2)
	}
	os.WriteFile(filepath.Join(u.dir, "meta.csv"), []byte(meta.String()), 0o644)
	ms := u.spec(t, "user-meta", "data: {kind: assembly, path: resp.csv}\n")
	ms.Stimuli.Metadata = "meta.csv"
	set, err := ms.StimulusSet("")
	if err != nil {
		t.Fatal(err)
	}
	if cat, err := set.Meta("category"); err != nil || cat[3] != "c1" || set.ID(3) != "img03.png" {
		t.Fatalf("metadata: %v %v", cat, err)
	}
	bad := u.spec(t, "user-ids", "data: {kind: assembly, path: resp.npy, dims: [neuroid, stimulus, repetition]}\n")
	r, err = Check(bad)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), "stimulus_ids: order") || r.Data[0].Matched != 0 {
		t.Fatalf("mismatched ids: %+v", r.Problems)
	}
}

// NewSpec writes a starting spec for a zip and a NaN-padded array: axes guessed as
// [neuroid, stimulus, repetition], a split-half ceiling, paths relative to the spec's folder;
// the written file loads, checks and scores.
func TestNewSpecRoundTrip(t *testing.T) {
	u := writeUserBench(t, 16, 5)
	out := filepath.Join(u.dir, "specs", "new.yaml")
	os.MkdirAll(filepath.Dir(out), 0o755)
	s, r, err := NewSpec(NewOptions{Stimuli: filepath.Join(u.dir, "images.zip"), Data: filepath.Join(u.dir, "resp.npy"), Out: out, Region: "V4"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Data.Dims, ",") != "neuroid,stimulus,repetition" || s.Ceiling.Type != "split-half" || s.Stimuli.Path != "../images.zip" || !r.OK() {
		t.Fatalf("spec %+v", s)
	}
	y, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(out, y, 0o644)
	l, err := Load(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if r, err := Check(l); err != nil || !r.OK() {
		t.Fatalf("check: %v %+v", err, r)
	}
	g, err := models.Build("cornet-z", models.Options{InputSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	g.Build(1)
	res, err := Score(subject.FromGraph(g), l, Options{Seed: 1, Bootstrap: 40, Layers: []string{"V1", "IT"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ceiling.Stimuli != 16 || res.Metric != "pls" || math.IsNaN(res.HeldOut) {
		t.Fatalf("result %+v", res)
	}
	// Two axes with the stimulus count cannot be told apart.
	if _, _, err := NewSpec(NewOptions{Stimuli: filepath.Join(u.dir, "images.zip"), Data: writeSquare(t, u.dir)}); err == nil || !strings.Contains(err.Error(), "give dims") {
		t.Fatalf("ambiguous axes: %v", err)
	}
}

// benchmark new reads a Brain-Score NetCDF assembly for its repetitions (split-half ceiling)
// and refuses dims for it.
func TestNewSpecNetCDF(t *testing.T) {
	u := writeUserBench(t, 16, 5)
	if !u.writeNetCDF(t) {
		t.Skip("no xarray")
	}
	s, r, err := NewSpec(NewOptions{Stimuli: filepath.Join(u.dir, "images.zip"), Data: filepath.Join(u.dir, "resp.nc"), Out: filepath.Join(u.dir, "nc.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if s.Ceiling.Type != "split-half" || len(s.Data.Dims) != 0 || !r.OK() {
		t.Fatalf("spec %+v, report %+v", s, r)
	}
	if _, _, err := NewSpec(NewOptions{Stimuli: filepath.Join(u.dir, "images.zip"), Data: filepath.Join(u.dir, "resp.nc"), Dims: []string{"stimulus", "neuroid"}}); err == nil {
		t.Fatal("dims were accepted for a NetCDF assembly")
	}
}

func writeSquare(t *testing.T, dir string) string {
	p := filepath.Join(dir, "square.npy")
	if err := npy.Write(p, &npy.Array{Shape: []int{16, 16}, Data: make([]float64, 256)}); err != nil {
		t.Fatal(err)
	}
	return p
}

// Check on the built-in V4 benchmark: 800 images, 67 neurons, repeat-averaged, no ceiling.
func TestCheckV4(t *testing.T) {
	useMirror(t, v4Files...)
	s, err := Load("cowley2023-v4-210224-pls")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Check(s)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Stimuli[0].Count != 800 || r.Data[0].Neuroids != 67 || r.Data[0].Repetitions != 1 || r.Data[0].Matched != 800 || r.Data[0].NaN != 0 || !strings.HasPrefix(r.Ceiling, "none") {
		t.Fatalf("%+v", r)
	}
}

// Check on the human IT benchmark: one data RDM and the 8 subject-session RDMs of the ceiling.
func TestCheckHumanIT(t *testing.T) {
	useMirror(t, k92...)
	s, err := Load("kriegeskorte92-humanIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Check(s)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Stimuli[0].Count != 92 || len(r.Data) != 2 || r.Data[0].RDMs != 1 || r.Data[1].RDMs != 8 || !strings.Contains(r.Ceiling, "from the 8 RDMs") {
		t.Fatalf("%+v", r)
	}
}
