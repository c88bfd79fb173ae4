package behaviour

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// TrialColumns are the columns every behavioural CSV must have (model-vs-human's raw-data
// format; names are matched case-insensitively, extra columns are ignored).
var TrialColumns = []string{"subj", "session", "trial", "rt", "object_response", "category", "condition", "imagename"}

// Trial is one row of a behavioural CSV.
type Trial struct {
	Subject   string
	Session   string
	Trial     int
	RT        float64 // NaN when not a number
	Response  string  // object_response
	Category  string  // the true category
	Condition string
	Image     string // imagename
	File      string // the CSV it came from
}

// Correct reports whether the response names the true category.
func (t Trial) Correct() bool { return t.Response == t.Category }

// ReadTrials reads one behavioural CSV; errors name the file.
func ReadTrials(path string) ([]Trial, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	var missing []string
	for _, c := range TrialColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: missing column(s) %s (need %s)", path, strings.Join(missing, ", "), strings.Join(TrialColumns, ","))
	}
	var out []Trial
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) < len(head) {
			return nil, fmt.Errorf("%s:%d: %d fields, the header has %d", path, line, len(rec), len(head))
		}
		get := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
		t := Trial{Subject: get("subj"), Session: get("session"), Response: get("object_response"),
			Category: get("category"), Condition: get("condition"), Image: get("imagename"), File: path}
		if t.Trial, err = strconv.Atoi(get("trial")); err != nil {
			return nil, fmt.Errorf("%s:%d: trial %q is not an integer", path, line, get("trial"))
		}
		if t.RT, err = strconv.ParseFloat(get("rt"), 64); err != nil {
			t.RT = nanValue()
		}
		if t.Category == "" {
			return nil, fmt.Errorf("%s:%d: empty category", path, line)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no trials", path)
	}
	return out, nil
}

// ReadTrialFiles reads every CSV matching glob (sorted by name) and returns the trials grouped
// by file.
func ReadTrialFiles(glob string) (files []string, trials [][]Trial, err error) {
	files, err = filepath.Glob(glob)
	if err != nil {
		return nil, nil, fmt.Errorf("bad pattern %q: %w", glob, err)
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no behavioural CSV matches %s", glob)
	}
	sort.Strings(files)
	for _, f := range files {
		t, err := ReadTrials(f)
		if err != nil {
			return nil, nil, err
		}
		trials = append(trials, t)
	}
	return files, trials, nil
}

// LevelAccuracy is accuracy at one distortion level.
type LevelAccuracy struct {
	Level    float64
	Correct  int
	N        int
	Accuracy float64
}

// HumanCurve computes human accuracy (object_response == category) per condition over all
// CSVs in dir, the condition parsed into a level by parse; levels come out sorted.
func HumanCurve(dir string, parse func(string) (float64, error)) ([]LevelAccuracy, int, error) {
	files, trials, err := ReadTrialFiles(filepath.Join(dir, "*.csv"))
	if err != nil {
		return nil, 0, err
	}
	acc := map[float64]*LevelAccuracy{}
	subjects := map[string]bool{}
	for fi, ts := range trials {
		for _, t := range ts {
			lv, err := parse(t.Condition)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: condition %q: %w", files[fi], t.Condition, err)
			}
			a := acc[lv]
			if a == nil {
				a = &LevelAccuracy{Level: lv}
				acc[lv] = a
			}
			a.N++
			if t.Correct() {
				a.Correct++
			}
			subjects[t.Subject] = true
		}
	}
	out := make([]LevelAccuracy, 0, len(acc))
	for _, a := range acc {
		a.Accuracy = float64(a.Correct) / float64(a.N)
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Level < out[j].Level })
	return out, len(subjects), nil
}
