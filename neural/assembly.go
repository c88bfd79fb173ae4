// Package neural holds recordings of neural responses to stimuli: the Assembly (stimuli x
// neuroids x time bins x repetitions, float64, with stimulus ids and per-neuroid and
// per-stimulus metadata) and the RDMSet for data that come as representational dissimilarity
// matrices (Kriegeskorte et al. 2008, Neuron 60:1126).
//
// Readers take MATLAB v5 files (a variable or a field path inside one), NumPy .npy/.npz and
// CSV in long or wide form (see ReadCSV). A "neuroid" is one recorded unit: a neuron, an
// electrode site or a voxel.
package neural

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Assembly is a set of responses. Data is row-major with shape [S, N, T, R]: stimulus,
// neuroid, time bin, repetition; the value for (s, n, t, r) is at ((s*N+n)*T+t)*R+r.
type Assembly struct {
	Name     string
	Stimuli  []string // stimulus ids, length S
	Neuroids []string // neuroid ids, length N
	TimeBins []string // time bin labels, length T (e.g. "70-170ms"); at least one
	Reps     int      // repetitions R, at least 1
	Data     []float64
	// NeuroidMeta maps a column (region, subject, electrode, ...) to one value per neuroid.
	NeuroidMeta map[string][]string
	// StimulusMeta maps a column (category, ...) to one value per stimulus.
	StimulusMeta map[string][]string
}

// Warning reports something a reader or Clean dropped or changed without failing.
type Warning struct {
	Neuroid string
	Reason  string
}

func (w Warning) String() string { return fmt.Sprintf("neuroid %s: %s", w.Neuroid, w.Reason) }

// ErrStimulusMismatch is wrapped by errors about stimulus ids that do not match a stimulus set.
var ErrStimulusMismatch = errors.New("stimulus ids do not match")

// New returns a zeroed assembly with the given ids, time bins (nil means one bin "0") and
// repetitions (at least 1). Neuroid ids default to "0", "1", ... when neuroids is a count-only
// nil slice; use NewCount for that.
func New(stimuli, neuroids []string, timeBins []string, reps int) *Assembly {
	if len(timeBins) == 0 {
		timeBins = []string{"0"}
	}
	if reps < 1 {
		reps = 1
	}
	return &Assembly{
		Stimuli:      slices.Clone(stimuli),
		Neuroids:     slices.Clone(neuroids),
		TimeBins:     slices.Clone(timeBins),
		Reps:         reps,
		Data:         make([]float64, len(stimuli)*len(neuroids)*len(timeBins)*reps),
		NeuroidMeta:  map[string][]string{},
		StimulusMeta: map[string][]string{},
	}
}

// FromMatrix builds a one-bin, one-repetition assembly from a row-major stimuli x neuroids
// matrix (data is copied). Neuroid ids are "0", "1", ...
func FromMatrix(stimuli []string, cols int, data []float64) (*Assembly, error) {
	if len(stimuli)*cols != len(data) {
		return nil, fmt.Errorf("neural: %d stimuli x %d neuroids needs %d values, have %d", len(stimuli), cols, len(stimuli)*cols, len(data))
	}
	a := New(stimuli, NumberedIDs("", cols), nil, 1)
	copy(a.Data, data)
	return a, nil
}

// NumberedIDs returns prefix0, prefix1, ... prefix(n-1).
func NumberedIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// Shape returns S, N, T, R.
func (a *Assembly) Shape() (s, n, t, r int) {
	return len(a.Stimuli), len(a.Neuroids), len(a.TimeBins), a.Reps
}

func (a *Assembly) idx(s, n, t, r int) int {
	return ((s*len(a.Neuroids)+n)*len(a.TimeBins)+t)*a.Reps + r
}

// At returns the response at (stimulus s, neuroid n, time bin t, repetition r).
func (a *Assembly) At(s, n, t, r int) float64 { return a.Data[a.idx(s, n, t, r)] }

// Set sets the response at (s, n, t, r).
func (a *Assembly) Set(s, n, t, r int, v float64) { a.Data[a.idx(s, n, t, r)] = v }

// Validate checks that the sizes and metadata columns agree.
func (a *Assembly) Validate() error {
	S, N, T, R := a.Shape()
	if T < 1 || R < 1 {
		return fmt.Errorf("neural: assembly %q: need at least one time bin and repetition", a.Name)
	}
	if len(a.Data) != S*N*T*R {
		return fmt.Errorf("neural: assembly %q: shape [%d %d %d %d] needs %d values, have %d", a.Name, S, N, T, R, S*N*T*R, len(a.Data))
	}
	for k, v := range a.NeuroidMeta {
		if len(v) != N {
			return fmt.Errorf("neural: assembly %q: neuroid metadata %q has %d values for %d neuroids", a.Name, k, len(v), N)
		}
	}
	for k, v := range a.StimulusMeta {
		if len(v) != S {
			return fmt.Errorf("neural: assembly %q: stimulus metadata %q has %d values for %d stimuli", a.Name, k, len(v), S)
		}
	}
	if d := firstDup(a.Stimuli); d != "" {
		return fmt.Errorf("neural: assembly %q: duplicate stimulus id %q", a.Name, d)
	}
	if d := firstDup(a.Neuroids); d != "" {
		return fmt.Errorf("neural: assembly %q: duplicate neuroid id %q", a.Name, d)
	}
	return nil
}

func firstDup(ids []string) string {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return id
		}
		seen[id] = true
	}
	return ""
}

// SelectNeuroids returns a new assembly with the neuroids at the given indices, in that order.
func (a *Assembly) SelectNeuroids(idx []int) *Assembly {
	S, _, T, R := a.Shape()
	out := New(a.Stimuli, nil, a.TimeBins, R)
	out.Name = a.Name
	out.Neuroids = make([]string, len(idx))
	for j, i := range idx {
		out.Neuroids[j] = a.Neuroids[i]
	}
	for k, v := range a.NeuroidMeta {
		nv := make([]string, len(idx))
		for j, i := range idx {
			nv[j] = v[i]
		}
		out.NeuroidMeta[k] = nv
	}
	for k, v := range a.StimulusMeta {
		out.StimulusMeta[k] = slices.Clone(v)
	}
	out.Data = make([]float64, S*len(idx)*T*R)
	for s := 0; s < S; s++ {
		for j, i := range idx {
			src := a.Data[a.idx(s, i, 0, 0) : a.idx(s, i, 0, 0)+T*R]
			copy(out.Data[out.idx(s, j, 0, 0):], src)
		}
	}
	return out
}

// SelectRegion returns the neuroids whose "region" metadata equals region (case-insensitive).
func (a *Assembly) SelectRegion(region string) (*Assembly, error) {
	return a.SelectWhere("region", region)
}

// SelectWhere returns the neuroids whose metadata column equals value (case-insensitive).
func (a *Assembly) SelectWhere(column, value string) (*Assembly, error) {
	col, ok := a.NeuroidMeta[column]
	if !ok {
		return nil, fmt.Errorf("neural: assembly %q has no neuroid metadata %q (have %s)", a.Name, column, strings.Join(sortedKeys(a.NeuroidMeta), ", "))
	}
	var idx []int
	for i, v := range col {
		if strings.EqualFold(v, value) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("neural: assembly %q: no neuroid with %s %q (values: %s)", a.Name, column, value, strings.Join(distinct(col), ", "))
	}
	return a.SelectNeuroids(idx), nil
}

// MeanReps averages over repetitions, ignoring NaNs (a value with no finite repetition is NaN).
func (a *Assembly) MeanReps() *Assembly {
	S, N, T, R := a.Shape()
	out := a.shallowMeta()
	out.Reps = 1
	out.Data = make([]float64, S*N*T)
	for i := range out.Data {
		var sum float64
		var k int
		for r := 0; r < R; r++ {
			if v := a.Data[i*R+r]; !math.IsNaN(v) {
				sum += v
				k++
			}
		}
		if k == 0 {
			out.Data[i] = math.NaN()
		} else {
			out.Data[i] = sum / float64(k)
		}
	}
	return out
}

func (a *Assembly) shallowMeta() *Assembly {
	out := &Assembly{Name: a.Name, Stimuli: slices.Clone(a.Stimuli), Neuroids: slices.Clone(a.Neuroids),
		TimeBins: slices.Clone(a.TimeBins), Reps: a.Reps, NeuroidMeta: map[string][]string{}, StimulusMeta: map[string][]string{}}
	for k, v := range a.NeuroidMeta {
		out.NeuroidMeta[k] = slices.Clone(v)
	}
	for k, v := range a.StimulusMeta {
		out.StimulusMeta[k] = slices.Clone(v)
	}
	return out
}

// Matrix returns the repetition-averaged responses as a row-major stimuli x features matrix,
// where the features are neuroid x time bin (time varies fastest).
func (a *Assembly) Matrix() (rows, cols int, data []float64) {
	m := a
	if a.Reps > 1 {
		m = a.MeanReps()
	}
	return len(m.Stimuli), len(m.Neuroids) * len(m.TimeBins), slices.Clone(m.Data)
}

// Clean drops the neuroids that cannot be used: an infinite response, a stimulus (or time bin)
// without any finite repetition, or a repetition mean that is constant over stimuli. NaN marks a
// missing repetition, so unequal repetition counts are kept: means use the repetitions present.
// It returns one warning per dropped neuroid and fails when nothing is left.
func (a *Assembly) Clean() (*Assembly, []Warning, error) {
	S, N, T, R := a.Shape()
	var keep []int
	var warns []Warning
	for n := 0; n < N; n++ {
		bad := ""
		constant := true
		first := math.NaN()
		for s := 0; s < S && bad == ""; s++ {
			for t := 0; t < T && bad == ""; t++ {
				var sum float64
				k := 0
				for r := 0; r < R; r++ {
					v := a.At(s, n, t, r)
					if math.IsInf(v, 0) {
						bad = fmt.Sprintf("infinite response (%v) to stimulus %s: excluded", v, a.Stimuli[s])
						break
					}
					if !math.IsNaN(v) {
						sum += v
						k++
					}
				}
				if bad != "" {
					break
				}
				if k == 0 {
					what := "stimulus " + a.Stimuli[s]
					if T > 1 {
						what += ", time bin " + a.TimeBins[t]
					}
					bad = fmt.Sprintf("no response (every repetition NaN) to %s: excluded", what)
					break
				}
				m := sum / float64(k)
				if math.IsNaN(first) {
					first = m
				} else if m != first {
					constant = false
				}
			}
		}
		if bad == "" && constant && S > 0 {
			bad = fmt.Sprintf("constant response %v over all stimuli: excluded", first)
		}
		if bad != "" {
			warns = append(warns, Warning{Neuroid: a.Neuroids[n], Reason: bad})
			continue
		}
		keep = append(keep, n)
	}
	if len(keep) == 0 {
		reason := ""
		if len(warns) > 0 {
			reason = ", e.g. " + warns[0].String()
		}
		return nil, warns, fmt.Errorf("neural: assembly %q: none of the %d neuroids is usable (each has a stimulus without any response, an infinite response or constant means)%s", a.Name, N, reason)
	}
	if len(keep) == N {
		return a, nil, nil
	}
	return a.SelectNeuroids(keep), warns, nil
}

// AlignStimuli returns the assembly with its stimuli in the order of ids. Every id must be in
// the assembly and every stimulus of the assembly must be in ids; otherwise the error (wrapping
// ErrStimulusMismatch) names a few of the ids that differ.
func (a *Assembly) AlignStimuli(ids []string) (*Assembly, error) {
	perm, err := alignIDs(a.Name, a.Stimuli, ids)
	if err != nil {
		return nil, err
	}
	S, N, T, R := a.Shape()
	_ = S
	out := a.shallowMeta()
	out.Stimuli = slices.Clone(ids)
	for k, v := range a.StimulusMeta {
		nv := make([]string, len(ids))
		for i, p := range perm {
			nv[i] = v[p]
		}
		out.StimulusMeta[k] = nv
	}
	row := N * T * R
	out.Data = make([]float64, len(ids)*row)
	for i, p := range perm {
		copy(out.Data[i*row:(i+1)*row], a.Data[p*row:(p+1)*row])
	}
	return out, nil
}

// alignIDs returns perm with have[perm[i]] == want[i], or an error naming the differences.
func alignIDs(name string, have, want []string) ([]int, error) {
	pos := make(map[string]int, len(have))
	for i, id := range have {
		pos[id] = i
	}
	var missing, extra []string
	perm := make([]int, len(want))
	wantSet := make(map[string]bool, len(want))
	for i, id := range want {
		wantSet[id] = true
		p, ok := pos[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		perm[i] = p
	}
	for _, id := range have {
		if !wantSet[id] {
			extra = append(extra, id)
		}
	}
	if len(missing) > 0 || len(extra) > 0 || len(have) != len(want) {
		return nil, fmt.Errorf("neural: %s: %w: %d in the data, %d in the stimulus set; missing from the data: %s; not in the stimulus set: %s",
			name, ErrStimulusMismatch, len(have), len(want), few(missing), few(extra))
	}
	return perm, nil
}

func few(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	if len(ids) > 5 {
		return strings.Join(ids[:5], ", ") + fmt.Sprintf(" (and %d more)", len(ids)-5)
	}
	return strings.Join(ids, ", ")
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func distinct(v []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range v {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
