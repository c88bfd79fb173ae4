package imports

import (
	"fmt"
	"os"
	"strings"

	"github.com/ventral-lab/ventral/stimuli"
	"gopkg.in/yaml.v3"
)

// Sidecar declares what a model file does not say about itself. It is a YAML file beside the
// model, named after it with ".yaml" appended (mobilenet.onnx.yaml) or, for a TF.js model.json,
// "ventral.yaml" in the same folder:
//
//	input: [3, 224, 224]         # per-sample [C H W] when the file leaves it open
//	preprocess: {size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
//	labels: labels.txt            # one label per line, or a JSON array; relative to the sidecar
//	label_offset: 1               # outputs before the first label (TFLite's background class)
//	citation: "Sandler et al. 2018"
//
// Fields given here win over what the importer reads from the file.
type Sidecar struct {
	Path        string              `yaml:"-"`
	Input       []int               `yaml:"input,omitempty"`
	Preprocess  *stimuli.Preprocess `yaml:"preprocess,omitempty"`
	Labels      string              `yaml:"labels,omitempty"`
	LabelOffset int                 `yaml:"label_offset,omitempty"`
	Citation    string              `yaml:"citation,omitempty"`
}

// SidecarPath is where the sidecar of the model at path is looked for.
func SidecarPath(path string) string {
	if strings.HasSuffix(strings.ToLower(path), "model.json") {
		return strings.TrimSuffix(path, path[len(path)-len("model.json"):]) + "ventral.yaml"
	}
	return path + ".yaml"
}

// ReadSidecar reads the sidecar of the model at path (override, when set, names it). A missing
// default sidecar gives nil, nil; a missing override is an error.
func ReadSidecar(path, override string) (*Sidecar, error) {
	p := override
	if p == "" {
		p = SidecarPath(path)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		if override == "" && os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("model sidecar %s: %w", p, err)
	}
	var s Sidecar
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("model sidecar %s: %w (fields: input, preprocess, labels, label_offset, citation)", p, err)
	}
	if s.Preprocess != nil {
		if err := s.Preprocess.Validate(); err != nil {
			return nil, fmt.Errorf("model sidecar %s: %w", p, err)
		}
	}
	if s.LabelOffset < 0 {
		return nil, fmt.Errorf("model sidecar %s: label_offset %d must not be negative", p, s.LabelOffset)
	}
	s.Path = p
	return &s, nil
}
