// Package models is ventral's model zoo: named architectures written in Go, each the same thing
// as its spec file (Graph.SpecYAML writes it, nn.ParseSpec reads it back), each with its
// citation and the preprocessing it expects stored in its metadata.
//
// Get returns an unbuilt graph; call Build(seed) on it to initialise the weights.
package models

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

// Options adjust a built-in architecture. Zero values keep the model's defaults.
type Options struct {
	Classes   int // size of the readout
	InputSize int // square input side in pixels, for models that accept several
}

type entry struct {
	doc   string
	build func(Options) (*nn.Graph, error)
}

var zoo = map[string]entry{}

// register adds a model; it is called from init functions of the model files.
func register(name, doc string, build func(Options) (*nn.Graph, error)) {
	if _, dup := zoo[name]; dup {
		panic("models: duplicate model " + name)
	}
	zoo[name] = entry{doc, build}
}

// Names lists the registered models.
func Names() []string {
	out := make([]string, 0, len(zoo))
	for k := range zoo {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Doc returns a model's one-line description with its citation.
func Doc(name string) string { return zoo[name].doc }

// Get returns the named model with default options, unbuilt.
func Get(name string) (*nn.Graph, error) { return Build(name, Options{}) }

// Build returns the named model with options, unbuilt.
func Build(name string, o Options) (*nn.Graph, error) {
	e, ok := zoo[name]
	if !ok {
		return nil, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if o.Classes < 0 {
		return nil, fmt.Errorf("model %s: classes %d must be positive", name, o.Classes)
	}
	if o.InputSize < 0 {
		return nil, fmt.Errorf("model %s: input size %d must be positive", name, o.InputSize)
	}
	return e.build(o)
}

// Resolve returns a model from a registered name or a spec file path (.yaml, .yml, .json).
func Resolve(nameOrSpec string) (*nn.Graph, error) {
	if _, ok := zoo[nameOrSpec]; ok {
		return Get(nameOrSpec)
	}
	if strings.HasSuffix(nameOrSpec, ".yaml") || strings.HasSuffix(nameOrSpec, ".yml") || strings.HasSuffix(nameOrSpec, ".json") {
		if _, err := os.Stat(nameOrSpec); err != nil {
			return nil, fmt.Errorf("model spec %s: %w", nameOrSpec, err)
		}
		return nn.LoadSpec(nameOrSpec)
	}
	return Get(nameOrSpec)
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// meta sets citation, classes and preprocessing on a graph.
func meta(g *nn.Graph, citation string, classes []string, p stimuli.Preprocess) (*nn.Graph, error) {
	if g.Meta == nil {
		g.Meta = map[string]string{}
	}
	g.Meta["citation"] = citation
	if classes != nil {
		g.Meta["classes"] = strings.Join(classes, ",")
	}
	if err := p.ToMeta(g); err != nil {
		return nil, err
	}
	return g, nil
}

// Classes returns a model's class names from its metadata (nil if it has none).
func Classes(g *nn.Graph) []string {
	if g.Meta == nil || g.Meta["classes"] == "" {
		return nil
	}
	v := g.Meta["classes"]
	if strings.HasPrefix(v, "[") {
		var out []string
		if err := json.Unmarshal([]byte(v), &out); err == nil {
			return out
		}
	}
	return strings.Split(v, ",")
}

// SetClasses stores class names in a model's metadata: comma-separated when no name has a
// comma or starts with "[" (readable in spec files), else as a JSON array (ImageNet's WordNet
// labels such as "tench, Tinca tinca").
func SetClasses(g *nn.Graph, classes []string) {
	if g.Meta == nil {
		g.Meta = map[string]string{}
	}
	if classes == nil {
		delete(g.Meta, "classes")
		return
	}
	plain := true
	for _, c := range classes {
		if strings.Contains(c, ",") || strings.HasPrefix(c, "[") {
			plain = false
		}
	}
	if plain {
		g.Meta["classes"] = strings.Join(classes, ",")
		return
	}
	b, _ := json.Marshal(classes)
	g.Meta["classes"] = string(b)
}

// Shorthands that keep architecture files close to the papers' tables.
func conv(out, k, stride, pad int) *nn.Conv2D {
	return &nn.Conv2D{Out: out, Kernel: nn.Dims{k}, Stride: nn.Dims{stride}, Pad: nn.Dims{pad}}
}
func maxpool(k, stride, pad int) *nn.MaxPool2D {
	return &nn.MaxPool2D{Kernel: nn.Dims{k}, Stride: nn.Dims{stride}, Pad: nn.Dims{pad}}
}

// Depth is the number of weighted layers (conv2d, local2d, dense) on the longest path from the
// input to the output of g, as network depth is usually counted: 18 for ResNet-18 (the stem,
// 16 block convolutions and the readout; the 1x1 skip convolutions are on shorter paths), 8 for
// AlexNet, 6 for cifar-cnn. Recurrent inputs (name@prev) are not followed, so a recurrent
// network's depth is that of one time step.
func Depth(g *nn.Graph) int {
	at := map[string]int{"input": 0}
	best := 0
	for _, n := range g.Nodes {
		d := 0
		for _, in := range n.Inputs {
			if strings.HasSuffix(in, "@prev") {
				continue
			}
			d = max(d, at[in])
		}
		switch n.Op.Type() {
		case "conv2d", "local2d", "dense":
			d++
		}
		at[n.Name] = d
		best = max(best, d)
	}
	return best
}
