package models

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// Layer describes one node of a built model.
type Layer struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Inputs []string `json:"inputs"`
	Shape  []int    `json:"shape"` // per-sample output shape
	Params int      `json:"params"`
}

// Summary is what `ventral models inspect` shows of a model.
type Summary struct {
	Name       string              `json:"name"`
	Input      []int               `json:"input"`
	Output     string              `json:"output"`
	Layers     []Layer             `json:"layers"`
	Params     int                 `json:"params"`
	Operators  map[string]int      `json:"operators"`
	Depth      int                 `json:"depth"`
	Classes    int                 `json:"classes"`
	Preprocess *stimuli.Preprocess `json:"preprocess,omitempty"`
	Meta       map[string]string   `json:"meta,omitempty"`
}

// Summarize describes a built model.
func Summarize(g *nn.Graph) (*Summary, error) {
	if !g.Built() {
		return nil, fmt.Errorf("summarize %s: the model must be built", g.Name)
	}
	s := &Summary{Name: g.Name, Input: g.InputShape, Output: g.OutputName(), Operators: map[string]int{}, Depth: Depth(g), Classes: len(Classes(g))}
	for _, n := range g.Nodes {
		l := Layer{Name: n.Name, Type: n.Op.Type(), Inputs: n.Inputs, Shape: n.Shape}
		if len(l.Inputs) == 0 {
			l.Inputs = nil
		}
		for _, p := range n.Op.Params() {
			l.Params += tensor.Numel(p.Value.Shape)
		}
		s.Params += l.Params
		s.Operators[l.Type]++
		s.Layers = append(s.Layers, l)
	}
	p, ok, err := stimuli.FromMeta(g)
	if err != nil {
		return nil, err
	}
	if ok {
		s.Preprocess = &p
	}
	s.Meta = map[string]string{}
	for k, v := range g.Meta {
		if k == "classes" || k == stimuli.MetaKey {
			continue
		}
		s.Meta[k] = v
	}
	return s, nil
}

// WriteText prints the summary as a table of layers followed by the totals.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintf(tw, "layer\ttype\toutput shape\tparameters\tinputs\n")
	for _, l := range s.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%s\n", l.Name, l.Type, l.Shape, l.Params, strings.Join(l.Inputs, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ops := make([]string, 0, len(s.Operators))
	for k, v := range s.Operators {
		ops = append(ops, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(ops)
	fmt.Fprintf(w, "\nmodel %s: input %v, output %s, %d layers, %d parameters, depth %d, %d classes\n", s.Name, s.Input, s.Output, len(s.Layers), s.Params, s.Depth, s.Classes)
	fmt.Fprintf(w, "operators: %s\n", strings.Join(ops, ", "))
	if s.Preprocess != nil {
		p := s.Preprocess
		fmt.Fprintf(w, "preprocessing: size %d, crop %g, mean %v, std %v, grey %v, rgb %v\n", p.Size, p.Crop, p.Mean, p.Std, p.Grey, p.RGB)
	} else {
		fmt.Fprintf(w, "preprocessing: none declared (images go in as they are)\n")
	}
	keys := make([]string, 0, len(s.Meta))
	for k := range s.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := s.Meta[k]
		if len(v) > 160 {
			v = v[:160] + "..."
		}
		fmt.Fprintf(w, "%s: %s\n", k, v)
	}
	return nil
}
