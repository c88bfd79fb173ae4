package models

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/nn"
)

// Constraints are biological constraints that Constrain applies to any convolutional model.
// Each switch rewrites the model's spec, so a constrained model is again a spec-file model
// (SaveSpec writes it, nn.LoadSpec reads it back) that trains, scores and checkpoints as any
// other.
//
// Unshared replaces every conv2d by a local2d of the same geometry: a locally connected layer
// with its own filter at every position, since cortex has no weight sharing (the parameter
// count grows by the number of output positions).
//
// AvgPool replaces every maxpool2d by an avgpool2d with the same window (padding excluded from
// the average), a pooling closer to the summation of complex cells than the max.
//
// Dale obeys Dale's law, that a neuron's outgoing synapses are all excitatory or all
// inhibitory, following the subtractive E/I design of Cornford et al. 2021 ("Learning to live
// with Dale's principle: ANNs with separate excitatory and inhibitory units", ICLR). Every
// conv2d X (input h, which after a ReLU is the rate of excitatory units) becomes
//
//	X_exc    conv2d  h -> Out,  weights >= 0 (constraint nonneg): excitatory feedforward drive
//	X_inh    conv2d  h -> nI,   weights >= 0, same geometry: drive of the inhibitory population
//	X_inhr   relu                inhibitory firing rates (non-negative)
//	X_inh2e  conv2d  1x1 nI -> Out, weights <= 0 (constraint nonpos), no bias: subtractive
//	                             feedforward inhibition
//	X        add     X_exc + X_inh2e, before the layer's nonlinearity (which keeps its name)
//
// with nI = ceil(InhibitoryFraction * Out) inhibitory channels (default 0.1: Cornford et al.'s
// 10% inhibitory units, as in cortex where roughly 10-20% of neurons are inhibitory). The sign
// constraints are projections after each optimizer step (nn.NonNeg, nn.NonPos). Because X keeps
// its name, everything downstream (relu, batchnorm, skip adds) is unchanged. A grouped
// convolution keeps its groups on all three convs, so every group has its own inhibitory
// population (nI rounded up to a multiple of the groups).
//
// Initialisation follows Cornford et al.: X_exc and X_inh draw their weights from an
// exponential distribution (nn init "dann-exc") and every X_inh2e weight is -1/nI ("dann-inh"),
// so each unit subtracts the mean inhibitory drive, whose expectation equals its excitatory
// drive: at initialisation inhibition balances excitation and X has mean near zero, as a He
// initialisation gives an unconstrained layer. (Clamping a He initialisation to the signs
// instead leaves every unit with a large positive drive, and such networks train poorly.)
// Dense layers (the readout) are left unconstrained. The first layer's input is the
// normalised image, which can be negative; Dale's law concerns the model's own neurons.
//
// Random marks the model as an untrained baseline: Meta["weights"] = "random", so that tools
// (ventral score, the constraints experiment) score it at its random initialisation without
// training.
//
// Constrain names the result NAME+switch+switch... and records the switches in
// Meta["constraints"].
type Constraints struct {
	Unshared bool
	Dale     bool
	AvgPool  bool
	Random   bool
	// InhibitoryFraction sets Dale's inhibitory channels per conv layer: ceil(fraction * out),
	// at least 1 (0: 0.1).
	InhibitoryFraction float64
}

// ConstraintNames lists the switch names accepted by ParseConstraints, in canonical order.
var ConstraintNames = []string{"unshared", "dale", "avgpool", "random"}

// ParseConstraints reads a comma-separated list of switch names ("dale,avgpool"); "" and
// "none" give no constraints.
func ParseConstraints(list string) (Constraints, error) {
	var c Constraints
	for _, s := range strings.Split(list, ",") {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "", "none":
		case "unshared":
			c.Unshared = true
		case "dale":
			c.Dale = true
		case "avgpool":
			c.AvgPool = true
		case "random":
			c.Random = true
		default:
			return c, fmt.Errorf("unknown constraint %q (known: %s)", strings.TrimSpace(s), strings.Join(ConstraintNames, ", "))
		}
	}
	return c, nil
}

// Names lists the switches that are on, in canonical order.
func (c Constraints) Names() []string {
	var out []string
	for i, on := range []bool{c.Unshared, c.Dale, c.AvgPool, c.Random} {
		if on {
			out = append(out, ConstraintNames[i])
		}
	}
	return out
}

// String is the comma-separated list of switches, or "none".
func (c Constraints) String() string {
	if n := c.Names(); len(n) > 0 {
		return strings.Join(n, ",")
	}
	return "none"
}

// IsRandom reports whether a model is marked as an untrained random-weight baseline.
func IsRandom(g *nn.Graph) bool { return g.Meta != nil && g.Meta["weights"] == "random" }

type specDoc struct {
	Name   string            `json:"name"`
	Input  []int             `json:"input"`
	Output string            `json:"output,omitempty"`
	Steps  int               `json:"steps,omitempty"`
	Meta   map[string]string `json:"meta,omitempty"`
	Layers []map[string]any  `json:"layers"`
}

// Constrain returns an unbuilt copy of g with the constraints applied (g is not changed; its
// weights are not carried over). It fails when a switch does not fit the model: Unshared or
// Dale on a model without conv2d layers, Unshared on grouped or Gabor-initialised
// convolutions, Dale on convolutions that already carry a sign constraint or fixed Gabor
// filters, AvgPool on a model without max-pooling.
func Constrain(g *nn.Graph, c Constraints) (*nn.Graph, error) {
	if c.InhibitoryFraction < 0 || c.InhibitoryFraction > 1 {
		return nil, fmt.Errorf("constrain %s: inhibitory fraction %g must be in (0, 1]", g.Name, c.InhibitoryFraction)
	}
	frac := c.InhibitoryFraction
	if frac == 0 {
		frac = 0.1
	}
	js, err := g.SpecJSON()
	if err != nil {
		return nil, err
	}
	var sp specDoc
	if err := json.Unmarshal(js, &sp); err != nil {
		return nil, err
	}
	var convs, pools int
	for _, l := range sp.Layers {
		switch l["type"] {
		case "conv2d":
			convs++
		case "maxpool2d":
			pools++
		}
	}
	if (c.Unshared || c.Dale) && convs == 0 {
		return nil, fmt.Errorf("constrain %s: switches %s need convolutions, but the model has no conv2d layers", g.Name, c)
	}
	if c.AvgPool && pools == 0 {
		return nil, fmt.Errorf("constrain %s: switch avgpool needs max-pooling, but the model has no maxpool2d layers", g.Name)
	}
	names := map[string]bool{}
	for _, l := range sp.Layers {
		names[l["name"].(string)] = true
	}
	var out []map[string]any
	for _, l := range sp.Layers {
		name := l["name"].(string)
		switch l["type"] {
		case "conv2d":
			if c.Unshared {
				if gr, _ := l["groups"].(float64); gr > 1 {
					return nil, fmt.Errorf("constrain %s: layer %s has groups=%g; unshared (local2d) has no groups", g.Name, name, gr)
				}
				if l["init"] == "gabor" {
					return nil, fmt.Errorf("constrain %s: layer %s has a Gabor filter bank; unshared (local2d) has no gabor init", g.Name, name)
				}
			}
			if c.Dale {
				if l["init"] == "gabor" {
					return nil, fmt.Errorf("constrain %s: layer %s has a Gabor filter bank, which has no sign; dale needs learned filters", g.Name, name)
				}
				if s, _ := l["constraint"].(string); s != "" {
					return nil, fmt.Errorf("constrain %s: layer %s already has constraint %q; dale sets its own", g.Name, name, s)
				}
				exc, inh, relu, back, add, err := daleLayers(l, frac, c.Unshared, names)
				if err != nil {
					return nil, fmt.Errorf("constrain %s: %w", g.Name, err)
				}
				out = append(out, exc, inh, relu, back, add)
				continue
			}
			if c.Unshared {
				l = unshare(l)
			}
		case "maxpool2d":
			if c.AvgPool {
				l["type"] = "avgpool2d"
				if _, ok := l["pad"]; ok {
					l["exclude_pad"] = true
				}
			}
		}
		out = append(out, l)
	}
	if c.Random {
		var alias map[string]string
		out, alias = dropFakeQuant(out)
		if a, ok := alias[sp.Output]; ok {
			sp.Output = a
		}
	}
	sp.Layers = out
	if sw := c.Names(); len(sw) > 0 {
		sp.Name = sp.Name + "+" + strings.Join(sw, "+")
		meta := map[string]string{}
		for k, v := range sp.Meta {
			meta[k] = v
		}
		if prev := meta["constraints"]; prev != "" {
			meta["constraints"] = prev + "," + c.String()
		} else {
			meta["constraints"] = c.String()
		}
		if c.Dale {
			meta["constraints_dale"] = fmt.Sprintf("subtractive feedforward inhibition, %g inhibitory channels per excitatory (Cornford et al. 2021, ICLR)", frac)
		}
		if c.Random {
			meta["weights"] = "random"
		}
		sp.Meta = meta
	}
	js, err = json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	return nn.ParseSpec(js, "constrain "+g.Name)
}

// dropFakeQuant removes the simulated integer quantisation of an imported quantized network
// (fake_quant layers), rewiring their consumers to their inputs: its scales and ranges were
// calibrated for the trained weights and would clip or flatten a random network's activations.
func dropFakeQuant(layers []map[string]any) ([]map[string]any, map[string]string) {
	alias := map[string]string{}
	var out []map[string]any
	prev := nn.InputName
	for _, l := range layers {
		name := l["name"].(string)
		ins, _ := l["inputs"].([]any)
		if l["type"] == "fake_quant" {
			src := prev
			if len(ins) == 1 {
				src = ins[0].(string)
			}
			if a, ok := alias[src]; ok {
				src = a
			}
			alias[name] = src
			prev = name
			continue
		}
		if len(ins) == 0 && alias[prev] != "" {
			l["inputs"] = []any{alias[prev]}
		}
		for k, v := range ins {
			base, rec := strings.CutSuffix(v.(string), nn.PrevSuffix)
			if a, ok := alias[base]; ok {
				if rec {
					a += nn.PrevSuffix
				}
				ins[k] = a
			}
		}
		out = append(out, l)
		prev = name
	}
	return out, alias
}

// unshare turns a conv2d layer into a local2d one with the same geometry.
func unshare(l map[string]any) map[string]any {
	l["type"] = "local2d"
	delete(l, "groups")
	delete(l, "gabor")
	return l
}

// daleLayers expands conv2d layer l into Dale's excitatory path, inhibitory population and
// inhibitory projection, joined by an add that keeps l's name. A grouped convolution is a set
// of independent sub-layers (AlexNet's two GPU halves), so each group gets its own inhibitory
// population: the inhibitory conv and its projection carry l's groups, and nI is rounded up to
// a multiple of them.
func daleLayers(l map[string]any, frac float64, unshared bool, names map[string]bool) (exc, inh, relu, back, add map[string]any, err error) {
	name := l["name"].(string)
	for _, suffix := range []string{"_exc", "_inh", "_inhr", "_inh2e"} {
		if names[name+suffix] {
			return nil, nil, nil, nil, nil, fmt.Errorf("layer %s: dale needs the name %s, which the model already uses", name, name+suffix)
		}
	}
	outF, _ := l["out"].(float64)
	groups := 1
	if gr, _ := l["groups"].(float64); gr > 1 {
		groups = int(gr)
	}
	nI := max(1, int(math.Ceil(frac*outF-1e-9)))
	nI = (nI + groups - 1) / groups * groups
	exc = map[string]any{}
	for k, v := range l {
		exc[k] = v
	}
	exc["name"] = name + "_exc"
	exc["constraint"] = "nonneg"
	exc["init"] = "dann-exc"
	inh = map[string]any{"name": name + "_inh", "type": "conv2d", "inputs": l["inputs"], "out": nI, "constraint": "nonneg", "init": "dann-exc"}
	for _, k := range []string{"kernel", "stride", "pad", "dilation", "groups"} {
		if v, ok := l[k]; ok {
			inh[k] = v
		}
	}
	relu = map[string]any{"name": name + "_inhr", "type": "relu", "inputs": []string{name + "_inh"}}
	back = map[string]any{"name": name + "_inh2e", "type": "conv2d", "inputs": []string{name + "_inhr"}, "out": l["out"],
		"kernel": 1, "no_bias": true, "constraint": "nonpos", "init": "dann-inh"}
	if groups > 1 {
		back["groups"] = groups
	}
	if unshared {
		exc, inh, back = unshare(exc), unshare(inh), unshare(back)
	}
	add = map[string]any{"name": name, "type": "add", "inputs": []string{name + "_exc", name + "_inh2e"}}
	return
}

// ConstrainedLayers lists, for reporting, the layer types of g and how many of each.
func ConstrainedLayers(g *nn.Graph) string {
	count := map[string]int{}
	for _, n := range g.Nodes {
		count[n.Op.Type()]++
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s x%d", k, count[k]))
	}
	return strings.Join(parts, ", ")
}
