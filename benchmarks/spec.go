package benchmarks

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ventral-lab/ventral/activations"
)

//go:embed specs/*.yaml
var builtinFS embed.FS

// Spec is a benchmark: which stimuli a model is shown, which neural data its responses are
// compared with, by which metric and against which ceiling. It is read from YAML (unknown keys
// are errors); see the package documentation for the format.
type Spec struct {
	Name        string      `yaml:"name"`
	Version     int         `yaml:"version"`
	Description string      `yaml:"description,omitempty"`
	Citation    string      `yaml:"citation"`
	Region      string      `yaml:"region"`
	Stimuli     StimuliSpec `yaml:"stimuli"`
	Data        DataSpec    `yaml:"data"`
	Metric      MetricSpec  `yaml:"metric"`
	Ceiling     CeilingSpec `yaml:"ceiling"`

	// dir is the folder of the spec file, against which relative data paths are resolved.
	dir string
}

// StimuliSpec says what the model is shown: a built-in set by name (Set: kriegeskorte92,
// allen-mouse-v1; with a train/test split, Train and Test name the set's splits), or a file:
// a local Path (relative to the spec file, or absolute) or a registered dataset's File
// (hash-checked). A file is a folder or .zip of images (ids: the file paths, sorted), a
// .npy/.npz array of images (ids: row numbers from IDOffset, default 0, or the numeric
// IDVariable) or a .mat struct array (Variable, with the image in Field; ids from 1).
// Metadata is an optional CSV with a row per stimulus: matched by IDColumn (default id), or,
// with FileColumn, naming each row's image (the rows then give order and ids).
type StimuliSpec struct {
	Set   string `yaml:"set,omitempty"`
	Train string `yaml:"train,omitempty"`
	Test  string `yaml:"test,omitempty"`

	Path       string  `yaml:"path,omitempty"`
	Dataset    string  `yaml:"dataset,omitempty"`
	File       string  `yaml:"file,omitempty"`
	Variable   string  `yaml:"variable,omitempty"`
	Field      string  `yaml:"field,omitempty"`
	Shape      []int   `yaml:"shape,omitempty"`
	Layout     string  `yaml:"layout,omitempty"`
	Scale      float64 `yaml:"scale,omitempty"`
	IDVariable string  `yaml:"id_variable,omitempty"`
	IDOffset   int     `yaml:"id_offset,omitempty"`
	Metadata   string  `yaml:"metadata,omitempty"`
	IDColumn   string  `yaml:"id_column,omitempty"`
	FileColumn string  `yaml:"file_column,omitempty"`
	// Degrees is the visual angle of the stimuli (width), 0 if unknown.
	Degrees float64 `yaml:"degrees,omitempty"`
}

// DataSpec says where neural data are: a registered dataset file (Dataset + File, found and
// hash-checked by the datasets registry) or a local Path (relative to the spec file).
type DataSpec struct {
	// Kind is "rdm" (the file holds RDMs: Variable/Field as in neural.ReadRDMsMAT) or
	// "assembly" (responses: .mat, .npy, .npz or .csv).
	Kind     string `yaml:"kind"`
	Dataset  string `yaml:"dataset,omitempty"`
	File     string `yaml:"file,omitempty"`
	Path     string `yaml:"path,omitempty"`
	Variable string `yaml:"variable,omitempty"`
	Field    string `yaml:"field,omitempty"`
	// Dims names an array's axes in file order: any order of stimulus, neuroid, time_bin and
	// repetition (stimulus and neuroid required); NaN marks a missing repetition. Without
	// Dims an array is stimuli x neuroids [x time bins [x repetitions]], or with Transpose
	// (deprecated: dims [neuroid, stimulus, ...] says the same) neuroids x stimuli.
	Dims      []string `yaml:"dims,omitempty"`
	Transpose bool     `yaml:"transpose,omitempty"`
	// StimulusIDs says which stimulus each row of the data is: "order" (the stimulus set's
	// order; the counts must agree), or the name of a stimulus metadata column of the data
	// (a CSV's stimulus.X) or of an .npz/.mat variable holding numeric ids. Default: the ids
	// the file gives (CSV ids; .npy/.npz rows "0", "1", ...; .mat rows "1", "2", ...).
	StimulusIDs string `yaml:"stimulus_ids,omitempty"`
	// DimNames names the dimensions of a struct array of RDMs (kind rdm).
	DimNames []string `yaml:"dim_names,omitempty"`
	// Train and Test are the files of a shipped train/test split (File is then empty).
	Train *FileRef `yaml:"train,omitempty"`
	Test  *FileRef `yaml:"test,omitempty"`
}

// FileRef is one file of a split.
type FileRef struct {
	File     string `yaml:"file,omitempty"`
	Path     string `yaml:"path,omitempty"`
	Variable string `yaml:"variable,omitempty"`
}

// ProjectionSpec caps the features of each layer before the metric sees them. Method is
// "sketch" (signed feature hashing, activations.Projection), "random" (Gaussian; its F x K
// matrix costs memory), or "none"; layers with at most K features are left as they are.
// Regression metrics default to a sketch to 4096 features: a 224-pixel network's early layer
// has around a million features, and a thousand stimuli of it would take gigabytes per
// layer, while the kernel the regression works on is preserved in expectation.
type ProjectionSpec struct {
	Method string `yaml:"method"`
	K      int    `yaml:"k,omitempty"`
}

// MetricSpec is the comparison between model and data.
type MetricSpec struct {
	// Projection caps each layer's features (default: sketch to 4096 for ridge and pls, none
	// for rsa).
	Projection *ProjectionSpec `yaml:"projection,omitempty"`
	// Type is rsa, ridge or pls.
	Type string `yaml:"type"`
	// RSA: the model RDM's distance (correlation, euclidean) and the RDM comparison
	// (spearman, pearson, kendall_tau_a).
	RDMDistance string `yaml:"rdm_distance,omitempty"`
	Comparison  string `yaml:"comparison,omitempty"`
	// Target is what a model RDM is compared with: "reference" (the data RDM, default) or
	// "subjects" (each per-subject RDM of the ceiling's data, averaged: the scale on which the
	// Nili et al. 2014 noise-ceiling bounds are defined).
	Target string `yaml:"target,omitempty"`
	// Bootstrap is the default number of bootstrap samples (Options.Bootstrap overrides it).
	Bootstrap int `yaml:"bootstrap,omitempty"`
	// Regression: folds of the cross-validation (ridge: inner, default 5; pls: default 10), the
	// stimulus metadata column to stratify folds by, PLS components (default 25), ridge
	// penalties tried (relative to the mean eigenvalue of the training kernel) and how
	// per-neuroid scores are aggregated (median).
	Folds      int       `yaml:"folds,omitempty"`
	Stratify   string    `yaml:"stratify,omitempty"`
	Components int       `yaml:"components,omitempty"`
	Alphas     []float64 `yaml:"alphas,omitempty"`
	Aggregate  string    `yaml:"aggregate,omitempty"`
}

// CeilingSpec is how the data's own reliability is estimated: rsa-noise-ceiling (Nili et al.
// 2014, from per-subject RDMs in Data), split-half (Spearman-Brown corrected, needs
// repetitions) or none (raw scores are reported; Note says why).
type CeilingSpec struct {
	Type string    `yaml:"type"`
	Data *DataSpec `yaml:"data,omitempty"`
	// Unit is what the rsa-noise-ceiling treats as one independent observer: "rdm" (default,
	// each RDM of Data), "session" (each RDM, which must carry session metadata, e.g.
	// dim_names [.., subject, session]) or "subject" (each subject's RDMs averaged first, so the
	// lower bound leaves a whole subject out). With metric.target subjects the model is
	// compared with the same units.
	Unit string `yaml:"unit,omitempty"`
	Note string `yaml:"note,omitempty"`
}

// DefaultProjectionK is the number of features regression metrics sketch larger layers to.
const DefaultProjectionK = 4096

// projection is the activations projection the metric asks for, seeded by seed.
func (s *Spec) projection(seed uint64) activations.Projection {
	pr := s.Metric.Projection
	if pr == nil || pr.Method == "none" {
		return activations.Projection{}
	}
	return activations.Projection{Method: pr.Method, K: pr.K, Seed: seed}
}

// Builtin lists the names of the built-in benchmarks.
func Builtin() []string {
	ents, _ := builtinFS.ReadDir("specs")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(out)
	return out
}

// ErrUnknownBenchmark is wrapped by Load's error for a name that is neither built in nor a file.
var ErrUnknownBenchmark = errors.New("unknown benchmark")

// Load returns a built-in benchmark by name or reads a spec file by path.
func Load(nameOrPath string) (*Spec, error) {
	if b, err := builtinFS.ReadFile("specs/" + nameOrPath + ".yaml"); err == nil {
		return Parse(b, nameOrPath)
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w %q: not built in (built-in: %s) and no such spec file", ErrUnknownBenchmark, nameOrPath, strings.Join(Builtin(), ", "))
		}
		return nil, err
	}
	s, err := Parse(b, nameOrPath)
	if err != nil {
		return nil, err
	}
	s.dir = filepath.Dir(nameOrPath)
	return s, nil
}

// Parse reads a spec from YAML; source names it in errors. Unknown keys are errors.
func Parse(b []byte, source string) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("benchmark spec %s: empty", source)
		}
		return nil, fmt.Errorf("benchmark spec %s: %w", source, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("benchmark spec %s: %w", source, err)
	}
	return &s, nil
}

// Marshal writes the spec as YAML (Parse reads it back to an equal Spec).
func (s *Spec) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	enc.Close()
	return buf.Bytes(), nil
}

// Validate checks the fields and fills defaults.
func (s *Spec) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("name is missing")
	case s.Version < 1:
		return fmt.Errorf("version must be a positive integer")
	case (s.Stimuli.Train == "") != (s.Stimuli.Test == ""):
		return fmt.Errorf("stimuli: give both train and test splits, or neither")
	}
	if err := s.Stimuli.validate(); err != nil {
		return err
	}
	if err := s.Data.validate("data"); err != nil {
		return err
	}
	split := s.Stimuli.Train != ""
	if split != (s.Data.Train != nil) {
		return fmt.Errorf("stimuli train/test splits and data train/test files must go together")
	}
	m := &s.Metric
	if m.Projection == nil && (m.Type == "ridge" || m.Type == "pls") {
		m.Projection = &ProjectionSpec{Method: "sketch", K: DefaultProjectionK}
	}
	if pr := m.Projection; pr != nil {
		switch pr.Method {
		case "none":
		case "sketch", "random":
			if pr.K < 1 {
				return fmt.Errorf("metric.projection.k %d: must be a positive number of features", pr.K)
			}
		default:
			return fmt.Errorf("metric.projection.method %q: expected sketch, random or none", pr.Method)
		}
	}
	switch m.Type {
	case "rsa":
		if split {
			return fmt.Errorf("metric rsa does not take a train/test split")
		}
		if m.RDMDistance == "" {
			m.RDMDistance = "correlation"
		}
		if m.Comparison == "" {
			m.Comparison = "spearman"
		}
		if m.Target == "" {
			m.Target = "reference"
		}
		if m.Target != "reference" && m.Target != "subjects" {
			return fmt.Errorf("metric.target %q: expected reference or subjects", m.Target)
		}
		if m.Target == "subjects" && s.Ceiling.Type != "rsa-noise-ceiling" {
			return fmt.Errorf("metric.target subjects needs ceiling rsa-noise-ceiling (its data holds the subjects' RDMs)")
		}
		if !slices.Contains([]string{"correlation", "euclidean"}, m.RDMDistance) {
			return fmt.Errorf("metric.rdm_distance %q: expected correlation or euclidean", m.RDMDistance)
		}
		if !slices.Contains([]string{"spearman", "pearson", "kendall_tau_a"}, m.Comparison) {
			return fmt.Errorf("metric.comparison %q: expected spearman, pearson or kendall_tau_a", m.Comparison)
		}
		if m.Folds != 0 || m.Stratify != "" || m.Components != 0 || len(m.Alphas) > 0 || m.Aggregate != "" {
			return fmt.Errorf("metric rsa takes rdm_distance, comparison and bootstrap only")
		}
	case "ridge", "pls":
		if s.Data.Kind != "assembly" {
			return fmt.Errorf("metric %s needs data.kind assembly", m.Type)
		}
		if m.RDMDistance != "" || m.Comparison != "" || m.Target != "" {
			return fmt.Errorf("metric %s does not take rdm_distance or comparison", m.Type)
		}
		if m.Type == "pls" && split {
			return fmt.Errorf("metric pls cross-validates over all stimuli and takes no train/test split")
		}
		if m.Type == "pls" && len(m.Alphas) > 0 {
			return fmt.Errorf("metric pls does not take alphas (ridge does)")
		}
		if m.Folds == 0 {
			m.Folds = 5
			if m.Type == "pls" {
				m.Folds = 10
			}
		}
		if m.Folds < 2 {
			return fmt.Errorf("metric.folds %d: need at least 2", m.Folds)
		}
		if m.Aggregate == "" {
			m.Aggregate = "median"
		}
		if m.Aggregate != "median" && m.Aggregate != "mean" {
			return fmt.Errorf("metric.aggregate %q: expected median or mean", m.Aggregate)
		}
		if m.Type == "pls" && m.Components == 0 {
			m.Components = 25
		}
		if m.Type == "ridge" && m.Components != 0 {
			return fmt.Errorf("metric ridge does not take components (pls does)")
		}
		for _, a := range m.Alphas {
			if !(a > 0) {
				return fmt.Errorf("metric.alphas: %v must be positive", a)
			}
		}
	case "":
		return fmt.Errorf("metric.type is missing (rsa, ridge or pls)")
	default:
		return fmt.Errorf("metric.type %q: expected rsa, ridge or pls", m.Type)
	}
	if m.Bootstrap < 0 || (m.Bootstrap > 0 && m.Bootstrap < MinBootstrap) {
		return fmt.Errorf("metric.bootstrap %d: expected at least %d samples (a 95%% percentile interval needs one sample beyond each of the 2.5th and 97.5th percentiles), or leave it out for 1000", m.Bootstrap, MinBootstrap)
	}
	if m.Bootstrap == 0 {
		m.Bootstrap = 1000
	}
	c := &s.Ceiling
	switch c.Type {
	case "none":
		if c.Data != nil {
			return fmt.Errorf("ceiling none takes no data")
		}
		if c.Unit != "" {
			return fmt.Errorf("ceiling none takes no unit")
		}
	case "rsa-noise-ceiling":
		if m.Type != "rsa" {
			return fmt.Errorf("ceiling rsa-noise-ceiling needs metric rsa")
		}
		if c.Data == nil {
			return fmt.Errorf("ceiling rsa-noise-ceiling needs data with the per-subject RDMs")
		}
		if err := c.Data.validate("ceiling.data"); err != nil {
			return err
		}
		if c.Unit == "" {
			c.Unit = "rdm"
		}
		if !slices.Contains([]string{"rdm", "session", "subject"}, c.Unit) {
			return fmt.Errorf("ceiling.unit %q: expected rdm, session or subject", c.Unit)
		}
		if c.Unit != "rdm" && c.Data.Kind != "rdm" {
			return fmt.Errorf("ceiling.unit %s needs ceiling.data.kind rdm with %s metadata (dim_names)", c.Unit, c.Unit)
		}
	case "split-half":
		if c.Unit != "" {
			return fmt.Errorf("ceiling split-half takes no unit (rsa-noise-ceiling does)")
		}
		if m.Type == "rsa" {
			// A split-half RDM reliability would be defined on a different scale from the
			// model-to-data RDM correlation (each half's RDM is noisier than the full one), and
			// dividing one by the other is not a ceiling anyone has validated; refuse rather
			// than print a number that looks normalised.
			return fmt.Errorf("ceiling split-half cannot normalise metric rsa: use ceiling rsa-noise-ceiling (with per-subject RDMs as ceiling.data) or none, or metric pls/ridge for a split-half ceiling")
		}
		if c.Data != nil {
			return fmt.Errorf("ceiling split-half uses the benchmark's data (with repetitions) and takes no data of its own")
		}
		if s.Data.Kind != "assembly" {
			return fmt.Errorf("ceiling split-half needs data.kind assembly with repetitions")
		}
	case "":
		return fmt.Errorf("ceiling.type is missing (rsa-noise-ceiling, split-half or none)")
	default:
		return fmt.Errorf("ceiling.type %q: expected rsa-noise-ceiling, split-half or none", c.Type)
	}
	return nil
}

func (d *DataSpec) validate(where string) error {
	switch d.Kind {
	case "rdm", "assembly":
	case "":
		return fmt.Errorf("%s.kind is missing (rdm or assembly)", where)
	default:
		return fmt.Errorf("%s.kind %q: expected rdm or assembly", where, d.Kind)
	}
	if d.Train != nil || d.Test != nil {
		if d.Train == nil || d.Test == nil {
			return fmt.Errorf("%s: give both train and test, or neither", where)
		}
		if d.File != "" || d.Path != "" {
			return fmt.Errorf("%s: give file/path or train/test, not both", where)
		}
		for _, f := range []*FileRef{d.Train, d.Test} {
			if (f.File == "") == (f.Path == "") {
				return fmt.Errorf("%s: each of train and test needs exactly one of file and path", where)
			}
			if f.File != "" && d.Dataset == "" {
				return fmt.Errorf("%s: file %q needs a dataset", where, f.File)
			}
		}
		return nil
	}
	if (d.File == "") == (d.Path == "") {
		return fmt.Errorf("%s: give exactly one of file (with dataset) and path", where)
	}
	if d.File != "" && d.Dataset == "" {
		return fmt.Errorf("%s: file %q needs a dataset", where, d.File)
	}
	if d.Kind == "rdm" && d.Variable == "" {
		return fmt.Errorf("%s: kind rdm needs a variable", where)
	}
	if d.Kind == "rdm" && (len(d.Dims) > 0 || d.StimulusIDs != "") {
		return fmt.Errorf("%s: dims and stimulus_ids apply to kind assembly", where)
	}
	if len(d.Dims) > 0 {
		if d.Transpose {
			return fmt.Errorf("%s: give dims or transpose, not both (dims [neuroid, stimulus] is the transpose)", where)
		}
		seen := map[string]bool{}
		for _, a := range d.Dims {
			if !slices.Contains([]string{"stimulus", "neuroid", "time_bin", "repetition"}, a) {
				return fmt.Errorf("%s.dims: unknown axis %q (expected stimulus, neuroid, time_bin, repetition)", where, a)
			}
			if seen[a] {
				return fmt.Errorf("%s.dims: axis %q named twice", where, a)
			}
			seen[a] = true
		}
		if !seen["stimulus"] || !seen["neuroid"] {
			return fmt.Errorf("%s.dims %v: needs a stimulus and a neuroid axis", where, d.Dims)
		}
	}
	return nil
}

func (st *StimuliSpec) validate() error {
	n := 0
	for _, v := range []string{st.Set, st.Path, st.File} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("stimuli: give exactly one of set (a built-in set), path (a local file or folder) and file (with dataset)")
	}
	if st.File != "" && st.Dataset == "" {
		return fmt.Errorf("stimuli: file %q needs a dataset", st.File)
	}
	if st.Dataset != "" && st.File == "" {
		return fmt.Errorf("stimuli: dataset %q needs a file", st.Dataset)
	}
	if st.Set != "" {
		if st.Variable != "" || st.Field != "" || st.Shape != nil || st.Layout != "" || st.Scale != 0 || st.IDVariable != "" || st.IDOffset != 0 {
			return fmt.Errorf("stimuli: a built-in set %q takes no variable, field, shape, layout, scale, id_variable or id_offset", st.Set)
		}
	} else if st.Train != "" {
		return fmt.Errorf("stimuli: train and test splits name a built-in set's splits; a file holds one set")
	}
	if st.Metadata == "" && (st.IDColumn != "" || st.FileColumn != "") {
		return fmt.Errorf("stimuli: id_column and file_column need metadata (a CSV)")
	}
	if st.Degrees < 0 {
		return fmt.Errorf("stimuli.degrees %v must not be negative", st.Degrees)
	}
	return nil
}
