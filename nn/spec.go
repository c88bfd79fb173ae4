package nn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A spec file (YAML or JSON) is the declarative form of a Graph; the two convert both ways
// without loss:
//
//	name: lenet5
//	input: [1, 28, 28]
//	output: fc3            # optional; default the last layer
//	steps: 1               # optional; > 1 unrolls recurrent models
//	meta: {citation: "LeCun et al. 1998"}
//	layers:
//	  - {name: conv1, type: conv2d, inputs: [input], out: 6, kernel: 5, pad: 2}
//	  - {name: relu1, type: relu}          # inputs default to the previous layer
//
// Every other key of a layer is a field of its op; unknown keys are errors.
type specFile struct {
	Name   string            `json:"name" yaml:"name"`
	Input  []int             `json:"input" yaml:"input"`
	Output string            `json:"output,omitempty" yaml:"output,omitempty"`
	Steps  int               `json:"steps,omitempty" yaml:"steps,omitempty"`
	Meta   map[string]string `json:"meta,omitempty" yaml:"meta,omitempty"`
	Layers []map[string]any  `json:"layers" yaml:"layers"`
}

// ParseSpec reads a model spec from YAML or JSON (JSON is YAML, so one parser serves both).
// source names the file in errors. The graph is not built.
func ParseSpec(data []byte, source string) (*Graph, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML or JSON: %w", source, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%s: empty spec", source)
	}
	known := map[string]bool{"name": true, "input": true, "output": true, "steps": true, "meta": true, "layers": true}
	for k := range raw {
		if !known[k] {
			return nil, fmt.Errorf("%s: unknown top-level key %q (expected name, input, output, steps, meta, layers)", source, k)
		}
	}
	js, err := json.Marshal(normalize(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var sf specFile
	if err := json.Unmarshal(js, &sf); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	g := &Graph{Name: sf.Name, InputShape: sf.Input, Output: sf.Output, Steps: sf.Steps, Meta: sf.Meta}
	if err := g.checkSteps(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	for i, l := range sf.Layers {
		name, _ := l["name"].(string)
		typ, _ := l["type"].(string)
		where := fmt.Sprintf("%s: layer %d (%q)", source, i, name)
		if name == "" {
			return nil, fmt.Errorf("%s: missing string field \"name\"", where)
		}
		if typ == "" {
			return nil, fmt.Errorf("%s: missing string field \"type\"", where)
		}
		op, err := NewOp(typ)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var inputs []string
		if v, ok := l["inputs"]; ok {
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: field \"inputs\" must be a list of layer names", where)
			}
			for _, x := range list {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("%s: field \"inputs\" must be a list of layer names, found %v", where, x)
				}
				inputs = append(inputs, s)
			}
		} else if i == 0 {
			inputs = []string{InputName}
		} else {
			prev, _ := sf.Layers[i-1]["name"].(string)
			inputs = []string{prev}
		}
		cfg := map[string]any{}
		for k, v := range l {
			if k != "name" && k != "type" && k != "inputs" {
				cfg[k] = v
			}
		}
		b, _ := json.Marshal(cfg)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(op); err != nil {
			return nil, fmt.Errorf("%s: type %s: %w", where, typ, err)
		}
		g.Add(name, op, inputs...)
	}
	return g, nil
}

// normalize turns YAML's map[string]any trees into JSON-encodable values.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

// LoadSpec reads a spec file (.yaml, .yml or .json).
func LoadSpec(path string) (*Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSpec(data, path)
}

// SpecJSON returns the graph as a JSON spec (deterministic: the same graph gives the same bytes).
func (g *Graph) SpecJSON() ([]byte, error) {
	sf, err := g.specFile()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(sf, "", "  ")
}

// SpecYAML returns the graph as a YAML spec.
func (g *Graph) SpecYAML() ([]byte, error) {
	js, err := g.SpecJSON()
	if err != nil {
		return nil, err
	}
	var tree yaml.Node
	if err := yaml.Unmarshal(js, &tree); err != nil {
		return nil, err
	}
	flowLayers(&tree)
	return yaml.Marshal(&tree)
}

// flowLayers prints the spec in block style with each layer on one line, which reads like a
// table of the architecture.
func flowLayers(n *yaml.Node) {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			flowLayers(c)
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	n.Style = 0
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "layers":
			v.Style = 0
			for _, l := range v.Content {
				l.Style = yaml.FlowStyle
			}
		case "input":
			v.Style = yaml.FlowStyle
		case "meta":
			v.Style = 0
		}
	}
	plainScalars(n)
}

// plainScalars drops the quotes JSON put on every key and string; the encoder adds them back
// where YAML needs them.
func plainScalars(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		n.Style = 0
	}
	for _, c := range n.Content {
		plainScalars(c)
	}
}

// SaveSpec writes the spec to path (YAML unless the name ends in .json), atomically.
func (g *Graph) SaveSpec(path string) error {
	var data []byte
	var err error
	if strings.HasSuffix(path, ".json") {
		data, err = g.SpecJSON()
	} else {
		data, err = g.SpecYAML()
	}
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data)
}

type specOut struct {
	Name   string            `json:"name"`
	Input  []int             `json:"input"`
	Output string            `json:"output,omitempty"`
	Steps  int               `json:"steps,omitempty"`
	Meta   map[string]string `json:"meta,omitempty"`
	Layers []orderedLayer    `json:"layers"`
}

func (g *Graph) specFile() (*specOut, error) {
	sf := &specOut{Name: g.Name, Input: g.InputShape, Output: g.Output, Steps: g.Steps, Meta: g.Meta}
	for _, n := range g.Nodes {
		b, err := json.Marshal(n.Op)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", n.Name, err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("layer %q: %w", n.Name, err)
		}
		m["name"] = n.Name
		m["type"] = n.Op.Type()
		m["inputs"] = n.Inputs
		sf.Layers = append(sf.Layers, orderedLayer(m))
	}
	return sf, nil
}

// orderedLayer keeps name, type, inputs first when encoded (JSON maps sort keys otherwise).
type orderedLayer map[string]any

func (l orderedLayer) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	keys := []string{"name", "type", "inputs"}
	var rest []string
	for k := range l {
		if k != "name" && k != "type" && k != "inputs" {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for i, k := range append(keys, rest...) {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(l[k])
		if err != nil {
			return nil, err
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// WriteFileAtomic writes data so that readers never see a half-written file (see
// internal/atomicfile).
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }
