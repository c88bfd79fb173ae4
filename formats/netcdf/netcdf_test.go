package netcdf

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

type values struct {
	Float []string `json:"float"`
	Int   []string `json:"int"`
	Str   []string `json:"str"`
	Text  *string  `json:"text"`
}

type varCase struct {
	values
	Dims  []string          `json:"dims"`
	Shape []int             `json:"shape"`
	Type  string            `json:"type"`
	Attrs map[string]values `json:"attrs"`
}

type fileCase struct {
	Format     string             `json:"format"`
	DiskFormat string             `json:"disk_format"`
	Dims       [][]any            `json:"dims"`
	Attrs      map[string]values  `json:"attrs"`
	Vars       map[string]varCase `json:"vars"`
}

func hexFloats(s []string) ([]float64, error) {
	out := make([]float64, len(s))
	for i, v := range s {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func sameFloats(got, want []float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d values, python has %d", len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			return fmt.Sprintf("value %d: %v, python has %v", i, got[i], want[i])
		}
	}
	return ""
}

// checkAttr compares an attribute's value with netCDF-C's.
func checkAttr(t *testing.T, what string, a Attr, ok bool, want values) {
	t.Helper()
	if !ok {
		t.Errorf("%s: missing", what)
		return
	}
	switch {
	case want.Text != nil:
		if s, isStr := a.Value.(string); !isStr || s != *want.Text {
			t.Errorf("%s: %#v, python has %q", what, a.Value, *want.Text)
		}
	case want.Str != nil:
		if s, isStr := a.Value.([]string); !isStr || !slices.Equal(s, want.Str) {
			t.Errorf("%s: %#v, python has %q", what, a.Value, want.Str)
		}
	case want.Float != nil:
		w, err := hexFloats(want.Float)
		if err != nil {
			t.Fatal(err)
		}
		v, isF := a.Value.([]float64)
		if !isF {
			t.Errorf("%s: %#v, python has floats %v", what, a.Value, w)
		} else if msg := sameFloats(v, w); msg != "" {
			t.Errorf("%s: %s", what, msg)
		}
	case want.Int != nil:
		var w []int64
		for _, s := range want.Int {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			w = append(w, v)
		}
		if v, isI := a.Value.([]int64); !isI || !slices.Equal(v, w) {
			t.Errorf("%s: %#v, python has %v", what, a.Value, w)
		}
	}
}

// TestNetCDFFiles reads NetCDF-4, NetCDF-4 classic, CDF-1, CDF-2 and CDF-5 files written by
// netCDF4 and xarray's three engines, and compares every dimension, variable, value and
// attribute with what the netCDF-C library reads from them.
func TestNetCDFFiles(t *testing.T) {
	peers.Python(t, "netCDF4", "numpy", "xarray")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, filepath.Join("testdata", "write_cases.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("write_cases.py: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]fileCase
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nc4.nc", "nc4classic.nc", "cdf1.nc", "cdf2.nc", "cdf5.nc", "onerec.nc", "xr_netcdf4.nc", "xr_scipy.nc"} {
		if _, ok := man[want]; !ok {
			t.Errorf("python did not write %s", want)
		}
	}
	formats := map[string]string{"NETCDF4": "NETCDF4", "NETCDF4_CLASSIC": "NETCDF4", "NETCDF3_CLASSIC": "CDF-1",
		"NETCDF3_64BIT_OFFSET": "CDF-2", "NETCDF3_64BIT_DATA": "CDF-5"}
	for name, fc := range man {
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Format != formats[fc.Format] {
				t.Errorf("format %s, python wrote %s", f.Format, fc.Format)
			}
			var gotDims, wantDims []string
			for _, d := range f.Dims {
				gotDims = append(gotDims, fmt.Sprintf("%s=%d%v", d.Name, d.Len, d.Unlimited))
			}
			for _, d := range fc.Dims {
				wantDims = append(wantDims, fmt.Sprintf("%s=%v%v", d[0], d[1], d[2]))
			}
			if !slices.Equal(gotDims, wantDims) {
				t.Errorf("dimensions %v, python has %v", gotDims, wantDims)
			}
			for k, want := range fc.Attrs {
				a, ok := f.Attr(k)
				checkAttr(t, "global attribute "+k, a, ok, want)
			}
			if len(f.Attrs) != len(fc.Attrs) {
				t.Errorf("%d global attributes, python has %d", len(f.Attrs), len(fc.Attrs))
			}
			if len(f.Vars) != len(fc.Vars) {
				t.Errorf("%d variables, python has %d", len(f.Vars), len(fc.Vars))
			}
			for vn, want := range fc.Vars {
				v, err := f.Var(vn)
				if err != nil {
					t.Error(err)
					continue
				}
				if !slices.Equal(v.Dims, want.Dims) || !slices.Equal(v.Shape, want.Shape) || v.Type != want.Type {
					t.Errorf("%s: dims %v shape %v type %s, python has %v %v %s", vn, v.Dims, v.Shape, v.Type, want.Dims, want.Shape, want.Type)
				}
				switch {
				case want.Str != nil:
					got, err := v.Strings()
					if err != nil {
						t.Errorf("%s: %v", vn, err)
					} else if !slices.Equal(got, want.Str) {
						t.Errorf("%s: %q, python has %q", vn, got, want.Str)
					}
				case want.Float != nil:
					got, err := v.Float64s()
					if err != nil {
						t.Errorf("%s: %v", vn, err)
						continue
					}
					w, _ := hexFloats(want.Float)
					if msg := sameFloats(got, w); msg != "" {
						t.Errorf("%s: %s", vn, msg)
					}
				case want.Int != nil:
					got, err := v.Int64s()
					big := false
					var w []int64
					for _, s := range want.Int {
						x, perr := strconv.ParseInt(s, 10, 64)
						big = big || perr != nil
						w = append(w, x)
					}
					if big {
						if err == nil {
							t.Errorf("%s: uint64 beyond int64 read without error", vn)
						}
						fl, err := v.Float64s()
						if err != nil {
							t.Errorf("%s: %v", vn, err)
							continue
						}
						for i, s := range want.Int {
							u, _ := strconv.ParseUint(s, 10, 64)
							if x, perr := strconv.ParseInt(s, 10, 64); perr == nil {
								u = uint64(x)
								if fl[i] != float64(x) {
									t.Errorf("%s: value %d: %v, python has %s", vn, i, fl[i], s)
								}
							} else if fl[i] != float64(u) {
								t.Errorf("%s: value %d: %v, python has %s", vn, i, fl[i], s)
							}
						}
						continue
					}
					if err != nil {
						t.Errorf("%s: %v", vn, err)
					} else if !slices.Equal(got, w) {
						t.Errorf("%s: %v, python has %v", vn, got, w)
					}
				default:
					t.Errorf("%s: no values in the manifest", vn)
				}
				for k, wa := range want.Attrs {
					a, ok := v.Attr(k)
					checkAttr(t, vn+" attribute "+k, a, ok, wa)
				}
				if len(v.Attrs) != len(want.Attrs) {
					var names []string
					for _, a := range v.Attrs {
						names = append(names, a.Name)
					}
					t.Errorf("%s: attributes %s, python has %d", vn, strings.Join(names, ","), len(want.Attrs))
				}
			}
		})
	}
}
