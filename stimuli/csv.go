package stimuli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// CSVOptions controls JoinCSV.
type CSVOptions struct {
	// Key is the CSV column holding the stimulus key (default "id").
	Key string
	// SetKey is the set's column the key is matched against (default "id"; e.g. "file").
	SetKey string
	// Columns lists the CSV columns to join; each must exist. Empty means every column but Key.
	Columns []string
	// AllowExtra permits CSV rows whose key matches no stimulus (they are ignored).
	AllowExtra bool
	// AllowMissing permits stimuli without a row (their values are "").
	AllowMissing bool
}

// JoinCSV adds per-stimulus metadata columns from a CSV file with a header row, matched on
// o.Key. It fails, naming the file and row, on a duplicate key, a key that matches no stimulus
// (unless AllowExtra), a stimulus without a row (unless AllowMissing), a requested column that
// the header lacks, or a column that the set already has.
func (s *Set) JoinCSV(path string, o CSVOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("metadata csv: %w", err)
	}
	defer f.Close()
	return s.joinCSV(path, f, o)
}

func (s *Set) joinCSV(path string, r io.Reader, o CSVOptions) error {
	if o.Key == "" {
		o.Key = "id"
	}
	if o.SetKey == "" {
		o.SetKey = "id"
	}
	keys, err := s.Meta(o.SetKey)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	pos := make(map[string]int, len(keys))
	for i, k := range keys {
		if j, ok := pos[k]; ok {
			return fmt.Errorf("%s: set column %q is not a key: stimuli %d and %d both have %q", path, o.SetKey, j, i, k)
		}
		pos[k] = i
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: empty CSV file (no header row)", path)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	col := map[string]int{}
	for j, h := range header {
		if _, dup := col[h]; dup {
			return fmt.Errorf("%s: row 1 (header): column %q appears twice", path, h)
		}
		col[h] = j
	}
	ki, ok := col[o.Key]
	if !ok {
		return fmt.Errorf("%s: row 1 (header): no key column %q (columns: %s)", path, o.Key, strings.Join(header, ", "))
	}
	want := o.Columns
	if len(want) == 0 {
		for _, h := range header {
			if h != o.Key {
				want = append(want, h)
			}
		}
	}
	for _, c := range want {
		if _, ok := col[c]; !ok {
			return fmt.Errorf("%s: row 1 (header): no column %q (columns: %s)", path, c, strings.Join(header, ", "))
		}
		if c == "id" || slices.Contains(s.cols, c) {
			return fmt.Errorf("%s: column %q is already in stimulus set %s", path, c, s.Name)
		}
	}
	vals := make([][]string, len(want))
	for j := range vals {
		vals[j] = make([]string, len(keys))
	}
	seenRow := make([]int, len(keys)) // 0: no row yet
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: row %d: %w", path, row, err)
		}
		k := rec[ki]
		i, ok := pos[k]
		if !ok {
			if o.AllowExtra {
				continue
			}
			return fmt.Errorf("%s: row %d: %s %q matches no stimulus in set %s", path, row, o.Key, k, s.Name)
		}
		if seenRow[i] != 0 {
			return fmt.Errorf("%s: row %d: duplicate %s %q (first on row %d)", path, row, o.Key, k, seenRow[i])
		}
		seenRow[i] = row
		for j, c := range want {
			vals[j][i] = rec[col[c]]
		}
	}
	if !o.AllowMissing {
		var missing []string
		for i, r := range seenRow {
			if r == 0 {
				missing = append(missing, keys[i])
			}
		}
		if len(missing) > 0 {
			more := ""
			if len(missing) > 5 {
				more = fmt.Sprintf(" and %d more", len(missing)-5)
				missing = missing[:5]
			}
			return fmt.Errorf("%s: no row for %s %q%s of stimulus set %s", path, o.Key, missing, more, s.Name)
		}
	}
	for j, c := range want {
		if err := s.SetMeta(c, vals[j]); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}
