package benchmarks

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/neural"
)

// readAssembly reads the data file p as the spec says (named dims, or the reader's default
// layout with the deprecated transpose) and names its stimuli (DataSpec.StimulusIDs; ids is
// the stimulus set's order, for "order").
func readAssembly(d *DataSpec, p, variable string, ids []string) (*neural.Assembly, error) {
	var a *neural.Assembly
	var err error
	if len(d.Dims) > 0 {
		a, err = neural.ReadArrayFile(p, variable, d.Dims)
	} else {
		a, err = neural.ReadFile(p, variable, d.Transpose)
	}
	if err != nil {
		return nil, err
	}
	if err := nameStimuli(a, d.StimulusIDs, p, ids); err != nil {
		return nil, err
	}
	return a, nil
}

// nameStimuli applies stimulus_ids to an assembly read from p.
func nameStimuli(a *neural.Assembly, how, p string, ids []string) error {
	base := filepath.Base(p)
	switch how {
	case "":
		return nil
	case "order":
		if len(a.Stimuli) != len(ids) {
			return fmt.Errorf("%s: data.stimulus_ids order: the data have %d stimuli, the stimulus set %d", base, len(a.Stimuli), len(ids))
		}
		a.Stimuli = slices.Clone(ids)
		return nil
	}
	if col, ok := a.StimulusMeta[how]; ok {
		a.Stimuli = slices.Clone(col)
		return a.Validate()
	}
	ext := strings.ToLower(filepath.Ext(p))
	if ext != ".npz" && ext != ".mat" {
		return fmt.Errorf("%s: data.stimulus_ids %q: no such stimulus column in the data (have: %s), and only .npz and .mat files hold id variables",
			base, how, strings.Join(keys(a.StimulusMeta), ", "))
	}
	v, _, err := neural.ReadArray(p, how)
	if err != nil {
		return fmt.Errorf("data.stimulus_ids: %w", err)
	}
	got, err := neural.IDsFromArray(base+":"+how, v)
	if err != nil {
		return fmt.Errorf("data.stimulus_ids: %w", err)
	}
	if len(got) != len(a.Stimuli) {
		return fmt.Errorf("%s: data.stimulus_ids %q holds %d ids for %d stimuli", base, how, len(got), len(a.Stimuli))
	}
	a.Stimuli = got
	return a.Validate()
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// droppedWarning names the neuroids Clean dropped (the first ten, with the reason of the first).
func droppedWarning(file string, warns []neural.Warning) string {
	names := make([]string, 0, 10)
	for i, w := range warns {
		if i == 10 {
			names = append(names, fmt.Sprintf("and %d more", len(warns)-10))
			break
		}
		names = append(names, w.Neuroid)
	}
	return fmt.Sprintf("%s: %d neuroid(s) excluded: %s (e.g. %s)", file, len(warns), strings.Join(names, ", "), warns[0])
}
