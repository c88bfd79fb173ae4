package hdf5

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/internal/peers"
)

const python = peers.PythonPath

func runPython(t *testing.T, script string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{script}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", script, strings.Join(args, " "), err, out)
	}
}

type expect struct {
	Float []string `json:"float"`
	Int   []string `json:"int"`
	Str   []string `json:"str"`
	Shape []int    `json:"shape"`
	Dtype string   `json:"dtype"`
}

type fileCase struct {
	Datasets map[string]expect `json:"datasets"`
	Attrs    map[string]expect `json:"attrs"`
	Errors   map[string]string `json:"errors"`
}

func parseFloats(t *testing.T, s []string) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("manifest value %q: %v", v, err)
		}
		out[i] = f
	}
	return out
}

func sameFloats(got, want []float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d values, python wrote %d", len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			return fmt.Sprintf("value %d: got %v, python wrote %v", i, got[i], want[i])
		}
	}
	return ""
}

// checkValues compares what ReadFloat64/ReadInt64/ReadStrings (or the attribute accessors)
// return with the manifest.
func checkValues(t *testing.T, what string, e expect, floats func() ([]float64, error), ints func() ([]int64, error), strs func() ([]string, error)) {
	t.Helper()
	switch {
	case e.Float != nil:
		got, err := floats()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if msg := sameFloats(got, parseFloats(t, e.Float)); msg != "" {
			t.Errorf("%s: %s", what, msg)
		}
	case e.Int != nil:
		got, err := ints()
		var want []int64
		big := false
		for _, s := range e.Int {
			v, perr := strconv.ParseInt(s, 10, 64)
			if perr != nil {
				big = true
			}
			want = append(want, v)
		}
		if big {
			if err == nil {
				t.Errorf("%s: values beyond int64 read without error", what)
			}
			fl, err := floats()
			if err != nil {
				t.Errorf("%s: %v", what, err)
				return
			}
			for i, s := range e.Int {
				u, _ := strconv.ParseUint(s, 10, 64)
				if v, perr := strconv.ParseInt(s, 10, 64); perr == nil {
					u = uint64(v)
					if fl[i] != float64(v) {
						t.Errorf("%s: value %d: got %v, python wrote %s", what, i, fl[i], s)
					}
				} else if fl[i] != float64(u) {
					t.Errorf("%s: value %d: got %v, python wrote %s", what, i, fl[i], s)
				}
			}
			return
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, python wrote %v", what, got, want)
		}
		fl, err := floats()
		if err != nil {
			t.Errorf("%s: as float64: %v", what, err)
			return
		}
		for i := range want {
			if fl[i] != float64(want[i]) {
				t.Errorf("%s: as float64: value %d: %v, want %v", what, i, fl[i], want[i])
			}
		}
	case e.Str != nil:
		got, err := strs()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if !slices.Equal(got, e.Str) {
			t.Errorf("%s: got %q, python wrote %q", what, got, e.Str)
		}
	default:
		t.Errorf("%s: manifest entry without values", what)
	}
}

// TestH5pyFiles reads back every dataset and attribute of files h5py writes with its default
// format, with libver="latest" and ("v108", "v108"), with tracked creation order and after a
// 512-byte user block, and compares each value with what h5py wrote.
func TestH5pyFiles(t *testing.T) {
	peers.Python(t, "h5py", "numpy")
	dir := t.TempDir()
	runPython(t, filepath.Join("testdata", "write_cases.py"), dir)
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]fileCase
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	wantSuper := map[string]int{"default.h5": 0, "latest.h5": 3, "tracked.h5": 0, "userblock.h5": 0, "v108.h5": 2}
	if len(man) != len(wantSuper) {
		t.Errorf("python wrote %d files, want %d", len(man), len(wantSuper))
	}
	for name, fc := range man {
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if v := f.SuperblockVersion(); v != wantSuper[name] {
				t.Errorf("superblock version %d, want %d", v, wantSuper[name])
			}
			root := f.Root()
			if len(fc.Datasets) < 30 {
				t.Fatalf("manifest lists only %d datasets", len(fc.Datasets))
			}
			for path, e := range fc.Datasets {
				ds, err := root.Dataset(path)
				if err != nil {
					t.Errorf("%s: %v", path, err)
					continue
				}
				if !slices.Equal(ds.Shape(), e.Shape) {
					t.Errorf("%s: shape %v, h5py wrote %v", path, ds.Shape(), e.Shape)
				}
				checkValues(t, path, e, ds.ReadFloat64, ds.ReadInt64, ds.ReadStrings)
			}
			for key, e := range fc.Attrs {
				owner, attr, _ := strings.Cut(key, "@")
				var a *Attribute
				if k, err := root.Kind(owner); err == nil && k == KindDataset {
					ds, err := root.Dataset(owner)
					if err != nil {
						t.Errorf("%s: %v", key, err)
						continue
					}
					a, err = ds.Attr(attr)
				} else {
					g := root
					if owner != "/" {
						if g, err = root.Group(owner); err != nil {
							t.Errorf("%s: %v", key, err)
							continue
						}
					}
					a, err = g.Attr(attr)
				}
				if err != nil {
					t.Errorf("%s: %v", key, err)
					continue
				}
				checkValues(t, key, e, a.Float64s, a.Int64s, a.Strings)
			}
			for path, want := range fc.Errors {
				ds, err := root.Dataset(path)
				if err == nil {
					_, err = ds.ReadFloat64()
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error %v, want one mentioning %q", path, err, want)
				}
			}
			big, err := root.Group("big")
			if err != nil {
				t.Fatal(err)
			}
			names, err := big.Members()
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != 70 || names[0] != "m00" || names[69] != "m69" {
				t.Errorf("/big members: %d names %v...", len(names), names[:min(3, len(names))])
			}
			sets, err := big.Datasets()
			if err != nil || len(sets) != 70 || sets[69].Name() != "/big/m69" {
				t.Errorf("/big datasets: %d, %v", len(sets), err)
			} else if v, err := sets[42].ReadInt64(); err != nil || !slices.Equal(v, []int64{42}) {
				t.Errorf("/big/m42: %v, %v", v, err)
			}
			soft, err := root.Dataset("soft")
			if err != nil {
				t.Fatal(err)
			}
			if v, err := soft.ReadFloat64(); err != nil || !slices.Equal(v, []float64{0, 1, 2, 3}) {
				t.Errorf("soft link: %v, %v", v, err)
			}
		})
	}
}
