package benchmarks

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/stimuli"
)

// CheckReport is what Check found: the stimuli, each data file, what the ceiling will use, and
// the problems that would stop Score (OK is false when there are any).
type CheckReport struct {
	Benchmark string      `json:"benchmark"`
	Metric    string      `json:"metric"`
	Stimuli   []StimCheck `json:"stimuli"`
	Data      []DataCheck `json:"data"`
	Ceiling   string      `json:"ceiling"`
	Problems  []string    `json:"problems,omitempty"`
	Warnings  []string    `json:"warnings,omitempty"`
	sets      []*stimuli.Set
}

// StimCheck describes one stimulus set (one per split).
type StimCheck struct {
	Split   string   `json:"split,omitempty"`
	Source  string   `json:"source"`
	Count   int      `json:"count"`
	IDs     []string `json:"first_ids"`
	Columns []string `json:"columns"`
	Degrees float64  `json:"degrees,omitempty"`
}

// DataCheck describes one data file as read (before cleaning) and its alignment with the
// stimuli.
type DataCheck struct {
	Role     string `json:"role"` // data, train, test or ceiling
	File     string `json:"file"`
	Kind     string `json:"kind"`
	Stimuli  int    `json:"stimuli"`
	Neuroids int    `json:"neuroids,omitempty"`
	TimeBins int    `json:"time_bins,omitempty"`
	// Repetitions is the file's repetition axis; RepsMin/Median/Max count the present (finite)
	// repetitions per stimulus and neuroid.
	Repetitions int `json:"repetitions,omitempty"`
	RepsMin     int `json:"reps_min,omitempty"`
	RepsMedian  int `json:"reps_median,omitempty"`
	RepsMax     int `json:"reps_max,omitempty"`
	NaN         int `json:"nan"`
	RDMs        int `json:"rdms,omitempty"`
	// Matched counts data stimuli found in the stimulus set; Missing and Extra give a few ids
	// of the set without data and of the data without a stimulus.
	Matched int      `json:"matched"`
	Missing []string `json:"missing_from_data,omitempty"`
	Extra   []string `json:"not_in_stimuli,omitempty"`
	// Dropped names the neuroids scoring would exclude, with the reason.
	Dropped []string `json:"dropped,omitempty"`
	// Kept is the number of neuroids scoring would use.
	Kept int `json:"kept,omitempty"`
}

// OK reports whether Check found no problem.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

func (r *CheckReport) problem(format string, a ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
}

// Check validates a spec's files without scoring: it loads the stimuli and every data file,
// counts stimuli, neuroids, time bins and repetitions (present per stimulus and neuroid), NaNs,
// checks that the data's stimulus ids match the stimulus set's, runs the cleaning scoring would
// run, and says what the ceiling will use. Problems that would stop Score are listed in the
// report (OK false); the error is for a spec that cannot be checked at all.
func Check(s *Spec) (*CheckReport, error) {
	r := &CheckReport{Benchmark: s.Name, Metric: s.Metric.Type}
	splits := []string{""}
	if s.Stimuli.Train != "" {
		splits = []string{s.Stimuli.Train, s.Stimuli.Test}
	}
	source := s.Stimuli.Set
	if source == "" {
		source = s.Stimuli.Path
		if s.Stimuli.File != "" {
			source = s.Stimuli.Dataset + "/" + s.Stimuli.File
		}
	}
	for _, sp := range splits {
		set, err := s.StimulusSet(sp)
		if err != nil {
			r.problem("stimuli: %v", err)
			return r, nil
		}
		r.sets = append(r.sets, set)
		r.Stimuli = append(r.Stimuli, StimCheck{Split: sp, Source: source, Count: set.Len(), IDs: set.IDs()[:min(3, set.Len())], Columns: set.Columns(), Degrees: set.Degrees})
	}
	defer func() {
		for _, set := range r.sets {
			set.Close()
		}
	}()
	if s.Data.Train != nil {
		r.checkData(s, &s.Data, s.Data.Train, "train", r.sets[0].IDs())
		r.checkData(s, &s.Data, s.Data.Test, "test", r.sets[1].IDs())
	} else {
		r.checkData(s, &s.Data, nil, "data", r.sets[0].IDs())
	}
	if s.Ceiling.Data != nil {
		r.checkData(s, s.Ceiling.Data, nil, "ceiling", r.sets[0].IDs())
	}
	if r.Ceiling == "" && s.Ceiling.Type != "split-half" {
		r.Ceiling = r.ceilingUse(s, nil)
	}
	r.checkMetric(s)
	return r, nil
}

func (r *CheckReport) checkData(s *Spec, d *DataSpec, ref *FileRef, role string, ids []string) {
	file, path, variable := d.File, d.Path, d.Variable
	if ref != nil {
		file, path, variable = ref.File, ref.Path, ref.Variable
	}
	p, err := s.dataPath(d.Dataset, file, path)
	if err != nil {
		r.problem("%s: %v", role, err)
		return
	}
	dc := DataCheck{Role: role, File: p, Kind: d.Kind}
	defer func() { r.Data = append(r.Data, dc) }()
	if d.Kind == "rdm" {
		set, err := s.loadRDMs(d, ids, &Result{})
		if err != nil {
			r.problem("%s %s: %v", role, filepath.Base(p), err)
			return
		}
		dc.Stimuli, dc.RDMs, dc.Matched = len(set.Stimuli), set.Len(), len(set.Stimuli)
		return
	}
	a, err := readAssembly(d, p, variable, ids)
	if err != nil {
		r.problem("%s: %v", role, err)
		return
	}
	S, N, T, R := a.Shape()
	dc.Stimuli, dc.Neuroids, dc.TimeBins, dc.Repetitions = S, N, T, R
	for _, v := range a.Data {
		if math.IsNaN(v) {
			dc.NaN++
		}
	}
	var counts []int
	for _, row := range a.RepCounts() {
		counts = append(counts, row...)
	}
	if len(counts) > 0 {
		slices.Sort(counts)
		dc.RepsMin, dc.RepsMedian, dc.RepsMax = counts[0], counts[len(counts)/2], counts[len(counts)-1]
	}
	have := map[string]bool{}
	for _, id := range a.Stimuli {
		have[id] = true
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
		if have[id] {
			dc.Matched++
		} else if len(dc.Missing) < 5 {
			dc.Missing = append(dc.Missing, id)
		}
	}
	for _, id := range a.Stimuli {
		if !want[id] && len(dc.Extra) < 5 {
			dc.Extra = append(dc.Extra, id)
		}
	}
	if dc.Matched != len(ids) || dc.Matched != S {
		hint := ""
		if d.StimulusIDs == "" && S == len(ids) {
			hint = " (the counts agree: if the rows follow the stimulus order, set data.stimulus_ids: order)"
		}
		r.problem("%s %s: %d of its %d stimulus ids match the %d stimuli; missing from the data: %s; not in the stimuli: %s%s",
			role, filepath.Base(p), dc.Matched, S, len(ids), few(dc.Missing), few(dc.Extra), hint)
		return
	}
	if _, ok := a.NeuroidMeta["region"]; ok && s.Region != "" && role != "ceiling" {
		if a, err = a.SelectRegion(s.Region); err != nil {
			r.problem("%s: %v", role, err)
			return
		}
	}
	a, err = a.AlignStimuli(ids)
	if err != nil {
		r.problem("%s: %v", role, err)
		return
	}
	c, warns, err := a.Clean()
	for _, w := range warns {
		dc.Dropped = append(dc.Dropped, w.String())
	}
	if err != nil {
		r.problem("%s: %v", role, err)
		return
	}
	_, dc.Kept, _, _ = c.Shape()
	if role == "data" || role == "test" {
		r.Ceiling = r.ceilingUse(s, c)
	}
}

// ceilingUse says what the spec's ceiling will be computed from.
func (r *CheckReport) ceilingUse(s *Spec, a *neural.Assembly) string {
	switch s.Ceiling.Type {
	case "none":
		return "none: raw scores (" + strings.TrimSpace(firstLine(s.Ceiling.Note)) + ")"
	case "rsa-noise-ceiling":
		n := 0
		for _, d := range r.Data {
			if d.Role == "ceiling" {
				n = d.RDMs
			}
		}
		return fmt.Sprintf("rsa-noise-ceiling (Nili et al. 2014) from the %d RDMs of ceiling.data, unit %s", n, s.Ceiling.Unit)
	}
	if a == nil {
		return "split-half: no data"
	}
	rel, err := splitHalf(a, 0)
	if err != nil {
		r.problem("ceiling: %v", err)
		return "split-half: cannot be computed"
	}
	return fmt.Sprintf("split-half over %d stimuli with 2 or more present repetitions for every neuroid and %d neuroids with a finite reliability (median %.3f at seed 0)",
		rel.Stimuli, rel.Neuroids, rel.Median)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func few(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// checkMetric checks that the metric can run on the stimulus counts.
func (r *CheckReport) checkMetric(s *Spec) {
	if len(r.sets) == 0 {
		return
	}
	S := r.sets[0].Len()
	switch s.Metric.Type {
	case "rsa":
		if S < 4 {
			r.problem("metric rsa needs at least 4 stimuli, have %d", S)
		}
	case "pls":
		if S < 2*s.Metric.Folds {
			r.problem("metric pls: %d stimuli for %d folds (layer selection cross-validates within each half, so at least %d are needed)", S, s.Metric.Folds, 2*s.Metric.Folds)
		} else if train := S / 2 * (s.Metric.Folds - 1) / s.Metric.Folds; train <= 2*s.Metric.Components {
			r.Warnings = append(r.Warnings, fmt.Sprintf("metric pls: %d components for about %d training stimuli per fold of a selection half; fewer components would fit less noise", s.Metric.Components, train))
		}
	case "ridge":
		if len(r.sets) > 1 && r.sets[0].Len() < s.Metric.Folds {
			r.problem("metric ridge: %d train stimuli for %d inner folds", r.sets[0].Len(), s.Metric.Folds)
		}
		if len(r.sets) > 1 && r.sets[1].Len() < 3 {
			r.problem("metric ridge: %d test stimuli, need at least 3", r.sets[1].Len())
		}
	}
}

// WriteText writes the report for people.
func (r *CheckReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "benchmark %s (metric %s)\n", r.Benchmark, r.Metric)
	for _, st := range r.Stimuli {
		split := ""
		if st.Split != "" {
			split = " [" + st.Split + "]"
		}
		fmt.Fprintf(&b, "stimuli%s: %d from %s, ids %s ...; columns %s", split, st.Count, st.Source, strings.Join(st.IDs, ", "), strings.Join(st.Columns, ", "))
		if st.Degrees > 0 {
			fmt.Fprintf(&b, "; %g degrees", st.Degrees)
		}
		b.WriteString("\n")
	}
	for _, d := range r.Data {
		fmt.Fprintf(&b, "%s: %s (%s)\n", d.Role, d.File, d.Kind)
		if d.Kind == "rdm" {
			fmt.Fprintf(&b, "  %d RDMs over %d stimuli, all matched\n", d.RDMs, d.Stimuli)
			continue
		}
		fmt.Fprintf(&b, "  %d stimuli x %d neuroids x %d time bins x %d repetitions; present repetitions per stimulus and neuroid: min %d, median %d, max %d; %d NaN\n",
			d.Stimuli, d.Neuroids, d.TimeBins, d.Repetitions, d.RepsMin, d.RepsMedian, d.RepsMax, d.NaN)
		fmt.Fprintf(&b, "  stimulus ids: %d of %d match the stimuli", d.Matched, d.Stimuli)
		if len(d.Missing) > 0 || len(d.Extra) > 0 {
			fmt.Fprintf(&b, " (missing from the data: %s; not in the stimuli: %s)", few(d.Missing), few(d.Extra))
		}
		b.WriteString("\n")
		if d.Kept > 0 {
			fmt.Fprintf(&b, "  neuroids used: %d", d.Kept)
			if len(d.Dropped) > 0 {
				fmt.Fprintf(&b, " (%d dropped: %s)", len(d.Dropped), strings.Join(d.Dropped[:min(5, len(d.Dropped))], "; "))
			}
			b.WriteString("\n")
		}
	}
	if r.Ceiling != "" {
		fmt.Fprintf(&b, "ceiling: %s\n", r.Ceiling)
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	if r.OK() {
		b.WriteString("ok: the benchmark can be scored\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
