package benchmarks

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/stimuli"
)

// BuiltinSets are the stimulus sets a spec may name by set: (split is "" or a split name).
// kriegeskorte92 is stimuli.Kriegeskorte92 (ids "1".."92" in RDM order, with a category
// column); allen-mouse-v1 is stimuli.AllenMouseV1 (splits train and test, ids "0".. in row
// order). Any other set is a file the spec names (Spec.StimulusSet).
var BuiltinSets = map[string]func(split string) (*stimuli.Set, error){
	"kriegeskorte92": func(split string) (*stimuli.Set, error) {
		if split != "" {
			return nil, fmt.Errorf("stimulus set kriegeskorte92 has no split %q", split)
		}
		return stimuli.Kriegeskorte92()
	},
	"allen-mouse-v1": stimuli.AllenMouseV1,
}

func builtinSetNames() []string {
	var out []string
	for k := range BuiltinSets {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// LoadStimuli loads a built-in stimulus set by name (see BuiltinSets). Tests may replace it.
var LoadStimuli = func(set, split string) (*stimuli.Set, error) {
	if f, ok := BuiltinSets[set]; ok {
		return f(split)
	}
	return nil, fmt.Errorf("unknown stimulus set %q (built in: %s; a spec may also give a path or a dataset file)", set, strings.Join(builtinSetNames(), ", "))
}

// localPath resolves a path given in the spec: absolute as it is, relative against the spec's
// folder.
func (s *Spec) localPath(p string) string {
	if filepath.IsAbs(p) || s.dir == "" {
		return p
	}
	return filepath.Join(s.dir, p)
}

// StimulusSet loads the spec's stimuli: a built-in set (split "" or one of its splits), or the
// file or folder the spec names (split must be ""), with its metadata CSV joined.
func (s *Spec) StimulusSet(split string) (*stimuli.Set, error) {
	st := &s.Stimuli
	var set *stimuli.Set
	var err error
	if st.Set != "" {
		if set, err = LoadStimuli(st.Set, split); err != nil {
			return nil, err
		}
		if st.Degrees != 0 {
			set.Degrees = st.Degrees
		}
	} else {
		if split != "" {
			return nil, fmt.Errorf("stimuli: a stimulus file has no split %q", split)
		}
		p, err := s.dataPath(st.Dataset, st.File, st.Path)
		if err != nil {
			return nil, fmt.Errorf("stimuli: %w", err)
		}
		name := st.File
		if name == "" {
			name = filepath.Base(st.Path)
		}
		set, err = stimuli.Open(p, stimuli.OpenOptions{Name: name, Variable: st.Variable, Field: st.Field,
			Shape: st.Shape, Layout: st.Layout, Scale: st.Scale, IDVariable: st.IDVariable, IDOffset: st.IDOffset, Degrees: st.Degrees})
		if err != nil {
			return nil, err
		}
	}
	if st.Metadata != "" {
		if set, err = set.WithMetadata(s.localPath(st.Metadata), stimuli.MetadataOptions{IDColumn: st.IDColumn, FileColumn: st.FileColumn}); err != nil {
			return nil, fmt.Errorf("stimuli.metadata: %w", err)
		}
	}
	return set, nil
}
