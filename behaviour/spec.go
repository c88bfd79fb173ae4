package behaviour

import (
	"bytes"
	"embed"
	"fmt"
	"image"
	_ "image/jpeg" // stimulus decoders
	_ "image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

//go:embed specs/*.yaml
var builtinSpecs embed.FS

// Spec declares a trial-level behavioural benchmark: where the stimuli and the subjects' CSVs
// are, how a trial's imagename names its stimulus, and how the data set's categories map onto
// the model's classes. Only trials whose category is a key of ClassMap (and, if Conditions is
// set, whose condition is listed) are used.
type Spec struct {
	Name     string `yaml:"name"`
	Citation string `yaml:"citation"`
	// Dataset, when set, locates Stimuli and the folder part of Trials with
	// datasets.ResolveDir(Dataset, ...); otherwise they are relative to the spec file.
	Dataset string `yaml:"dataset"`
	Stimuli string `yaml:"stimuli"`
	// Trials is a glob of subject CSVs (columns TrialColumns); each file is one subject.
	Trials   string `yaml:"trials"`
	Stimulus struct {
		Regexp string `yaml:"regexp"` // applied to imagename; its groups fill {1}, {2}, ...
		Path   string `yaml:"path"`   // stimulus path under Stimuli; also {category}, {imagename}
	} `yaml:"stimulus"`
	ClassMap   map[string]string `yaml:"class_map"`
	Conditions []string          `yaml:"conditions"`
	// LabelSpace "imagenet16" scores an ImageNet classifier: ClassMap then maps each data set
	// category onto one of the 16 entry-level categories of Geirhos et al. (2018) (empty: every
	// one of the 16 onto itself), and the model answers through UseImageNet16.
	LabelSpace string `yaml:"label_space"`

	// Source is the file (or built-in name) the spec came from; Root, when set, replaces the
	// Dataset/spec-folder lookup: Stimuli and Trials are then relative to it.
	Source string `yaml:"-"`
	Root   string `yaml:"-"`
	re     *regexp.Regexp
}

// BuiltinSpecs lists the embedded specs.
func BuiltinSpecs() []string {
	ents, _ := builtinSpecs.ReadDir("specs")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return out
}

// LoadSpec reads a built-in spec by name (e.g. "geirhos-edges-cifar10") or a YAML file.
func LoadSpec(nameOrPath string) (*Spec, error) {
	if data, err := builtinSpecs.ReadFile("specs/" + strings.TrimSuffix(nameOrPath, ".yaml") + ".yaml"); err == nil {
		return ParseSpec(data, nameOrPath)
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("behavioural spec %q is neither built in (%s) nor readable: %w", nameOrPath, strings.Join(BuiltinSpecs(), ", "), err)
	}
	s, err := ParseSpec(data, nameOrPath)
	if err != nil {
		return nil, err
	}
	if s.Dataset == "" {
		s.Root = filepath.Dir(nameOrPath)
	}
	return s, nil
}

// ParseSpec parses and checks a spec; source names it in errors.
func ParseSpec(data []byte, source string) (*Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("spec %s: %w", source, err)
	}
	s.Source = source
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(source), filepath.Ext(source))
	}
	switch {
	case s.Stimuli == "":
		return nil, fmt.Errorf("spec %s: no stimuli folder", source)
	case s.Trials == "":
		return nil, fmt.Errorf("spec %s: no trials glob", source)
	case s.LabelSpace != "" && s.LabelSpace != LabelSpaceImageNet16:
		return nil, fmt.Errorf("spec %s: label_space %q: expected %s or nothing (the model's own classes)", source, s.LabelSpace, LabelSpaceImageNet16)
	case len(s.ClassMap) == 0 && s.LabelSpace == "":
		return nil, fmt.Errorf("spec %s: empty class_map", source)
	}
	if s.LabelSpace == LabelSpaceImageNet16 {
		if len(s.ClassMap) == 0 {
			s.ClassMap = map[string]string{}
			for _, c := range ImageNet16Categories() {
				s.ClassMap[c] = c
			}
		}
		for k, v := range s.ClassMap {
			if _, ok := imageNet16[v]; !ok {
				return nil, fmt.Errorf("spec %s: class_map maps %q to %q, which is not one of the 16 categories (%s)", source, k, v, strings.Join(ImageNet16Categories(), ", "))
			}
		}
	}
	if s.Stimulus.Path == "" {
		s.Stimulus.Path = "{category}/{imagename}"
	}
	if s.Stimulus.Regexp != "" {
		re, err := regexp.Compile(s.Stimulus.Regexp)
		if err != nil {
			return nil, fmt.Errorf("spec %s: stimulus regexp: %w", source, err)
		}
		s.re = re
	}
	if err := s.checkGroups(); err != nil {
		return nil, fmt.Errorf("spec %s: %w", source, err)
	}
	return &s, nil
}

var groupRef = regexp.MustCompile(`\{(\d+)\}`)

// checkGroups refuses a stimulus.path placeholder {N} that the regexp cannot fill (it would stay
// literal and fail later as a missing file ".../{1}").
func (s *Spec) checkGroups() error {
	groups := 0
	if s.re != nil {
		groups = s.re.NumSubexp()
	}
	for _, m := range groupRef.FindAllStringSubmatch(s.Stimulus.Path, -1) {
		n, _ := strconv.Atoi(m[1])
		switch {
		case s.re == nil:
			return fmt.Errorf("stimulus.path %q uses %s but there is no stimulus.regexp to fill it", s.Stimulus.Path, m[0])
		case groups == 0:
			return fmt.Errorf("stimulus.path %q uses %s but stimulus.regexp %q has no capture group: put the part to keep in parentheses", s.Stimulus.Path, m[0], s.Stimulus.Regexp)
		case n < 1 || n > groups:
			return fmt.Errorf("stimulus.path %q uses %s but stimulus.regexp %q has %d capture group(s)", s.Stimulus.Path, m[0], s.Stimulus.Regexp, groups)
		}
	}
	return nil
}

// locate returns the stimulus folder and the trials glob.
func (s *Spec) locate() (stim, trials string, err error) {
	if s.Root != "" || s.Dataset == "" {
		return underRoot(s.Root, s.Stimuli), underRoot(s.Root, s.Trials), nil
	}
	if stim, err = datasets.ResolveDir(s.Dataset, s.Stimuli); err != nil {
		return "", "", fmt.Errorf("spec %s: %w", s.Source, err)
	}
	dir, pat := filepath.Split(s.Trials)
	d, err := datasets.ResolveDir(s.Dataset, filepath.Clean(dir))
	if err != nil {
		return "", "", fmt.Errorf("spec %s: %w", s.Source, err)
	}
	return stim, filepath.Join(d, pat), nil
}

// underRoot resolves p against the spec's folder; an absolute p stands as it is
// (filepath.Join would make "/data/x" relative to the folder).
func underRoot(root, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(root, p)
}

// stimulusPath maps a trial to its stimulus path under the stimulus folder.
func (s *Spec) stimulusPath(t Trial) (string, error) {
	p := strings.ReplaceAll(s.Stimulus.Path, "{category}", t.Category)
	p = strings.ReplaceAll(p, "{imagename}", t.Image)
	if s.re != nil {
		m := s.re.FindStringSubmatch(t.Image)
		if m == nil {
			return "", fmt.Errorf("%s: trial %d: imagename %q does not match the spec's stimulus regexp %q", t.File, t.Trial, t.Image, s.Stimulus.Regexp)
		}
		for i := len(m) - 1; i >= 1; i-- {
			p = strings.ReplaceAll(p, fmt.Sprintf("{%d}", i), m[i])
		}
	}
	return p, nil
}

// Subject is one observer's used trials.
type Subject struct {
	Name    string
	File    string
	Correct map[string]bool // stimulus path -> correct
}

// Benchmark is a loaded spec: the subjects' used trials and the stimuli they saw.
type Benchmark struct {
	Spec     *Spec
	Subjects []Subject
	// Stimuli are the used stimulus paths (sorted), Category their true categories.
	Stimuli    []string
	Category   map[string]string
	StimulusIn string // the stimulus folder
}

// Load reads the subjects' CSVs and keeps the trials the spec declares.
func (s *Spec) Load() (*Benchmark, error) {
	stimDir, glob, err := s.locate()
	if err != nil {
		return nil, err
	}
	files, all, err := ReadTrialFiles(glob)
	if err != nil {
		return nil, fmt.Errorf("spec %s: %w", s.Source, err)
	}
	cats := map[string]bool{}
	for _, ts := range all {
		for _, t := range ts {
			cats[t.Category] = true
		}
	}
	var keys []string
	for k := range s.ClassMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !cats[k] {
			return nil, fmt.Errorf("spec %s: class_map names category %q, which no trial of %s has (categories: %s)", s.Source, k, glob, strings.Join(sortedKeys(cats), ", "))
		}
	}
	conds := map[string]bool{}
	for _, c := range s.Conditions {
		conds[c] = true
	}
	b := &Benchmark{Spec: s, Category: map[string]string{}, StimulusIn: stimDir}
	for fi, ts := range all {
		sub := Subject{Name: ts[0].Subject, File: files[fi], Correct: map[string]bool{}}
		for _, t := range ts {
			if _, ok := s.ClassMap[t.Category]; !ok || (len(conds) > 0 && !conds[t.Condition]) {
				continue
			}
			p, err := s.stimulusPath(t)
			if err != nil {
				return nil, err
			}
			if _, dup := sub.Correct[p]; dup {
				return nil, fmt.Errorf("%s: stimulus %s appears twice", files[fi], p)
			}
			sub.Correct[p] = t.Correct()
			if _, ok := b.Category[p]; !ok {
				if _, err := os.Stat(filepath.Join(stimDir, p)); err != nil {
					return nil, fmt.Errorf("%s: trial %d: stimulus %s: %w", files[fi], t.Trial, p, err)
				}
				b.Stimuli = append(b.Stimuli, p)
			}
			b.Category[p] = t.Category
		}
		if len(sub.Correct) == 0 {
			return nil, fmt.Errorf("spec %s: the class mapping (and conditions) leave no trials in %s", s.Source, files[fi])
		}
		b.Subjects = append(b.Subjects, sub)
	}
	sort.Strings(b.Stimuli)
	return b, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ModelAnswers shows every used stimulus to the classifier, which answers among the model
// classes named in the class map; it returns the answer (as a data set category) per stimulus.
func (b *Benchmark) ModelAnswers(c *Classifier) (map[string]string, error) {
	s := b.Spec
	if s.LabelSpace == LabelSpaceImageNet16 {
		return b.modelAnswersImageNet16(c)
	}
	if c.Classes == nil {
		return nil, fmt.Errorf("model %q declares no class names (meta classes); spec %s maps categories onto class names", c.G.Name, s.Source)
	}
	idx := map[string]int{}
	for i, n := range c.Classes {
		idx[n] = i
	}
	var among []int
	back := map[int]string{}
	for _, cat := range sortedKeysS(s.ClassMap) {
		cl := s.ClassMap[cat]
		i, ok := idx[cl]
		if !ok {
			return nil, fmt.Errorf("spec %s: class_map maps %q to %q, which is not a class of model %q (%s)", s.Source, cat, cl, c.G.Name, strings.Join(c.Classes, ", "))
		}
		if prev, dup := back[i]; dup {
			return nil, fmt.Errorf("spec %s: categories %q and %q both map to model class %q", s.Source, prev, cat, cl)
		}
		back[i] = cat
		among = append(among, i)
	}
	imgs := make([]*tensor.Tensor, len(b.Stimuli))
	for i, p := range b.Stimuli {
		img, err := readImage(filepath.Join(b.StimulusIn, p))
		if err != nil {
			return nil, err
		}
		imgs[i] = img
	}
	lg, err := c.Logits(imgs)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, p := range b.Stimuli {
		out[p] = back[argmax(lg[i], among)]
	}
	return out, nil
}

// modelAnswersImageNet16 answers through the 16-category mapping (UseImageNet16).
func (b *Benchmark) modelAnswersImageNet16(c *Classifier) (map[string]string, error) {
	cats := sortedKeysS(b.Spec.ClassMap)
	cc := *c
	if err := cc.UseImageNet16(cats, b.Spec.ClassMap); err != nil {
		return nil, fmt.Errorf("spec %s: %w", b.Spec.Source, err)
	}
	imgs := make([]*tensor.Tensor, len(b.Stimuli))
	for i, p := range b.Stimuli {
		img, err := readImage(filepath.Join(b.StimulusIn, p))
		if err != nil {
			return nil, err
		}
		imgs[i] = img
	}
	pred, err := cc.Predict(imgs)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, p := range b.Stimuli {
		out[p] = cats[pred[i]]
	}
	return out, nil
}

func sortedKeysS(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func readImage(path string) (*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return stimuli.ToTensor(img), nil
}

// SubjectResult compares the model (A) with one subject (B) on the subject's used trials.
type SubjectResult struct {
	Subject string
	Agreement
}

// PairResult compares two subjects on the stimuli both saw.
type PairResult struct {
	A, B string
	Agreement
}

// ConsistencyResult is the trial-level comparison of a model with the subjects of a spec.
type ConsistencyResult struct {
	Spec      string
	Model     string
	Stimuli   int
	ModelAcc  float64 // over the used stimuli
	Answers   map[string]string
	Subjects  []SubjectResult
	Pairs     []PairResult // human-human: the ceiling
	MeanModel Agreement    // means over subjects (N: trials per subject summed)
	MeanHuman Agreement    // means over subject pairs
}

// Consistency runs the benchmark: the model's answers, then accuracy difference, observed
// consistency and error consistency against every subject and between every pair of subjects.
func (b *Benchmark) Consistency(c *Classifier) (*ConsistencyResult, error) {
	ans, err := b.ModelAnswers(c)
	if err != nil {
		return nil, err
	}
	r := &ConsistencyResult{Spec: b.Spec.Name, Model: c.G.Name, Stimuli: len(b.Stimuli), Answers: ans}
	var right int
	for _, p := range b.Stimuli {
		if ans[p] == b.Category[p] {
			right++
		}
	}
	r.ModelAcc = float64(right) / float64(len(b.Stimuli))
	var ms, hs []Agreement
	for _, s := range b.Subjects {
		var m, h []bool
		for _, p := range sortedKeysB(s.Correct) {
			m = append(m, ans[p] == b.Category[p])
			h = append(h, s.Correct[p])
		}
		a, err := ErrorConsistency(m, h)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.File, err)
		}
		r.Subjects = append(r.Subjects, SubjectResult{s.Name, a})
		ms = append(ms, a)
	}
	for i := range b.Subjects {
		for j := i + 1; j < len(b.Subjects); j++ {
			si, sj := b.Subjects[i], b.Subjects[j]
			var x, y []bool
			for _, p := range sortedKeysB(si.Correct) {
				if v, ok := sj.Correct[p]; ok {
					x = append(x, si.Correct[p])
					y = append(y, v)
				}
			}
			if len(x) == 0 {
				continue
			}
			a, _ := ErrorConsistency(x, y)
			r.Pairs = append(r.Pairs, PairResult{si.Name, sj.Name, a})
			hs = append(hs, a)
		}
	}
	r.MeanModel, r.MeanHuman = meanAgreement(ms), meanAgreement(hs)
	return r, nil
}

func sortedKeysB(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// meanAgreement averages each field (kappas that are NaN are left out of the kappa mean).
func meanAgreement(as []Agreement) Agreement {
	var r Agreement
	var k []float64
	f := func(get func(Agreement) float64) float64 {
		x := make([]float64, len(as))
		for i, a := range as {
			x[i] = get(a)
		}
		return mean(x)
	}
	for _, a := range as {
		r.N += a.N
		if a.Kappa == a.Kappa {
			k = append(k, a.Kappa)
		}
	}
	r.AccA = f(func(a Agreement) float64 { return a.AccA })
	r.AccB = f(func(a Agreement) float64 { return a.AccB })
	r.AccDiff = f(func(a Agreement) float64 { return a.AccDiff })
	r.CObs = f(func(a Agreement) float64 { return a.CObs })
	r.CExp = f(func(a Agreement) float64 { return a.CExp })
	r.Kappa = mean(k)
	return r
}
