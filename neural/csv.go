package neural

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadCSVFile reads an assembly from a CSV file; see ReadCSV.
func ReadCSVFile(path string) (*Assembly, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := ReadCSV(f, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ReadCSV reads an assembly from CSV in long or wide form; the form is told by the header.
//
// Long form (one response per row) has the columns stimulus_id, neuroid_id (or stimulus and
// neuroid) and value, and
// optionally time_bin and repetition (labels; order of first appearance is kept). The columns
// region, subject and electrode, and any column "neuroid.X", are per-neuroid metadata (X);
// "stimulus.X" columns are per-stimulus metadata. Any other column is an error. A response that
// no row gives is NaN.
//
//	stimulus_id,neuroid_id,repetition,value,region,subject
//	img1,n1,1,0.52,IT,m1
//
// Wide form (one row per stimulus presentation) has stimulus_id as its first column and one
// column per neuroid (the header holds the neuroid ids). A stimulus id that appears again is
// the next repetition. Rows whose first cell starts with '#' give neuroid metadata, named by
// the rest of that cell:
//
//	stimulus_id,n1,n2,n3
//	#region,V4,IT,IT
//	img1,0.5,1.2,0.3
//
// Empty cells and NaN read as NaN; Clean drops such neuroids.
func ReadCSV(r io.Reader, name string) (*Assembly, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: CSV needs a header and at least one row", name)
	}
	hdr := rows[0]
	for i := range hdr {
		hdr[i] = strings.TrimSpace(hdr[i])
	}
	col := map[string]int{}
	for i, h := range hdr {
		col[h] = i
	}
	// Long form may also name its id columns stimulus and neuroid.
	if _, ok := col["neuroid_id"]; !ok {
		if i, ok := col["neuroid"]; ok {
			hdr[i] = "neuroid_id"
			delete(col, "neuroid")
			col["neuroid_id"] = i
			if j, ok := col["stimulus"]; ok {
				if _, dup := col["stimulus_id"]; !dup {
					hdr[j] = "stimulus_id"
					delete(col, "stimulus")
					col["stimulus_id"] = j
				}
			}
		}
	}
	_, hasN := col["neuroid_id"]
	_, hasV := col["value"]
	if hasN && hasV {
		return readLong(name, hdr, col, rows[1:])
	}
	if hdr[0] != "stimulus_id" {
		return nil, fmt.Errorf("%s: CSV header must start with stimulus_id (wide form) or have stimulus_id, neuroid_id, value (long form); found %s", name, strings.Join(hdr, ","))
	}
	return readWide(name, hdr, rows[1:])
}

func parseValue(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "nan") || strings.EqualFold(s, "na") {
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

type labels struct {
	ids []string
	pos map[string]int
}

func (l *labels) add(s string) int {
	if l.pos == nil {
		l.pos = map[string]int{}
	}
	if i, ok := l.pos[s]; ok {
		return i
	}
	l.pos[s] = len(l.ids)
	l.ids = append(l.ids, s)
	return len(l.ids) - 1
}

func readLong(name string, hdr []string, col map[string]int, rows [][]string) (*Assembly, error) {
	si, ok := col["stimulus_id"]
	if !ok {
		return nil, fmt.Errorf("%s: long-form CSV needs a stimulus_id column", name)
	}
	ni, vi := col["neuroid_id"], col["value"]
	ti, hasT := col["time_bin"]
	ri, hasR := col["repetition"]
	neuroidCols := map[int]string{}
	stimCols := map[int]string{}
	for i, h := range hdr {
		switch {
		case h == "stimulus_id" || h == "neuroid_id" || h == "value" || h == "time_bin" || h == "repetition":
		case h == "region" || h == "subject" || h == "electrode":
			neuroidCols[i] = h
		case strings.HasPrefix(h, "neuroid.") && len(h) > 8:
			neuroidCols[i] = h[8:]
		case strings.HasPrefix(h, "stimulus.") && len(h) > 9:
			stimCols[i] = h[9:]
		default:
			return nil, fmt.Errorf("%s: unknown column %q (long form: stimulus_id, neuroid_id, value, time_bin, repetition, region, subject, electrode, neuroid.X, stimulus.X)", name, h)
		}
	}
	var st, ne, tb, rp labels
	type cell struct{ s, n, t, r int }
	vals := map[cell]float64{}
	nmeta := map[string]map[int]string{}
	smeta := map[string]map[int]string{}
	for k, row := range rows {
		line := k + 2
		if len(row) != len(hdr) {
			return nil, fmt.Errorf("%s: line %d: %d fields, header has %d", name, line, len(row), len(hdr))
		}
		c := cell{s: st.add(row[si]), n: ne.add(row[ni])}
		if hasT {
			c.t = tb.add(row[ti])
		}
		if hasR {
			c.r = rp.add(row[ri])
		}
		v, err := parseValue(row[vi])
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: value %q: %w", name, line, row[vi], err)
		}
		if _, dup := vals[c]; dup {
			return nil, fmt.Errorf("%s: line %d: second value for stimulus %s, neuroid %s (add a repetition or time_bin column)", name, line, row[si], row[ni])
		}
		vals[c] = v
		for i, m := range neuroidCols {
			if err := setMeta(nmeta, m, c.n, row[i]); err != nil {
				return nil, fmt.Errorf("%s: line %d: neuroid %s: %w", name, line, row[ni], err)
			}
		}
		for i, m := range stimCols {
			if err := setMeta(smeta, m, c.s, row[i]); err != nil {
				return nil, fmt.Errorf("%s: line %d: stimulus %s: %w", name, line, row[si], err)
			}
		}
	}
	if len(tb.ids) == 0 {
		tb.ids = []string{"0"}
	}
	R := max(1, len(rp.ids))
	a := New(st.ids, ne.ids, tb.ids, R)
	a.Name = name
	for i := range a.Data {
		a.Data[i] = math.NaN()
	}
	for c, v := range vals {
		a.Set(c.s, c.n, c.t, c.r, v)
	}
	for m, byIdx := range nmeta {
		v := make([]string, len(ne.ids))
		for i, s := range byIdx {
			v[i] = s
		}
		a.NeuroidMeta[m] = v
	}
	for m, byIdx := range smeta {
		v := make([]string, len(st.ids))
		for i, s := range byIdx {
			v[i] = s
		}
		a.StimulusMeta[m] = v
	}
	return a, a.Validate()
}

func setMeta(meta map[string]map[int]string, col string, i int, v string) error {
	if meta[col] == nil {
		meta[col] = map[int]string{}
	}
	if old, ok := meta[col][i]; ok && old != v {
		return fmt.Errorf("%s is both %q and %q", col, old, v)
	}
	meta[col][i] = v
	return nil
}

func readWide(name string, hdr []string, rows [][]string) (*Assembly, error) {
	neuroids := hdr[1:]
	if len(neuroids) == 0 {
		return nil, fmt.Errorf("%s: wide-form CSV has no neuroid columns", name)
	}
	meta := map[string][]string{}
	var st labels
	type pres struct {
		s    int
		vals []float64
	}
	var ps []pres
	count := map[int]int{}
	for k, row := range rows {
		line := k + 2
		if len(row) != len(hdr) {
			return nil, fmt.Errorf("%s: line %d: %d fields, header has %d", name, line, len(row), len(hdr))
		}
		if strings.HasPrefix(row[0], "#") {
			m := strings.TrimSpace(row[0][1:])
			if m == "" {
				return nil, fmt.Errorf("%s: line %d: metadata row needs a name after '#'", name, line)
			}
			meta[m] = append([]string(nil), row[1:]...)
			continue
		}
		s := st.add(row[0])
		count[s]++
		vals := make([]float64, len(neuroids))
		for j, c := range row[1:] {
			v, err := parseValue(c)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: neuroid %s: %q: %w", name, line, neuroids[j], c, err)
			}
			vals[j] = v
		}
		ps = append(ps, pres{s, vals})
	}
	if len(st.ids) == 0 {
		return nil, fmt.Errorf("%s: no stimulus rows", name)
	}
	R := 0
	for _, c := range count {
		R = max(R, c)
	}
	a := New(st.ids, neuroids, nil, R)
	a.Name = name
	for i := range a.Data {
		a.Data[i] = math.NaN()
	}
	rep := map[int]int{}
	for _, p := range ps {
		r := rep[p.s]
		rep[p.s]++
		for n, v := range p.vals {
			a.Set(p.s, n, 0, r, v)
		}
	}
	a.NeuroidMeta = meta
	return a, a.Validate()
}
