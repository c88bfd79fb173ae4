package train

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// MetaFreezeUntil is the Graph.Meta key naming the last node whose parameters training leaves
// unchanged (fine-tuning); it travels in checkpoints, so a resumed run freezes the same layers.
const MetaFreezeUntil = "freeze_until"

// FineTune describes how a trained network (an imported ImageNet model, a run folder) is
// prepared for training on a new data set.
type FineTune struct {
	// Classes, when set, replaces the classifier: the last weighted layer (dense or conv2d)
	// gets len(Classes) fresh outputs and what followed it (softmax, simulated quantization,
	// dropout) is dropped, except the reshapes that turn its output into a vector, so the
	// graph ends in logits for the training loss.
	Classes []string
	// FreezeUntil names a node: its parameters and those of every node before it are frozen.
	FreezeUntil string
	// Input, when set ([C H W]), is the data set's image size. A network that takes larger
	// images gets a nearest-neighbour upsampling node in front (the integer factor closest to
	// its own size over the data's), so 32-pixel CIFAR images reach an ImageNet network at a
	// size near the one it was trained at.
	Input []int
	// Seed initialises the new head.
	Seed uint64
}

// PrepareFineTune returns a built copy of g ready for Run: same weights, the changes of f
// applied. g is not changed.
func PrepareFineTune(g *nn.Graph, f FineTune) (*nn.Graph, error) {
	if !g.Built() {
		return nil, fmt.Errorf("fine-tune %s: the model has no trained weights to start from (give a run folder, a checkpoint or an imported network)", g.Name)
	}
	js, err := g.SpecJSON()
	if err != nil {
		return nil, err
	}
	var sp map[string]any
	if err := json.Unmarshal(js, &sp); err != nil {
		return nil, err
	}
	rawLayers, _ := sp["layers"].([]any)
	layers := make([]map[string]any, len(rawLayers))
	for i, l := range rawLayers {
		layers[i] = l.(map[string]any)
	}
	meta := map[string]string{}
	for k, v := range g.Meta {
		meta[k] = v
	}
	headName := ""
	if len(f.Classes) > 0 {
		if layers, headName, err = newHead(g, layers, len(f.Classes)); err != nil {
			return nil, err
		}
		sp["output"] = layers[len(layers)-1]["name"]
		tmp := &nn.Graph{}
		models.SetClasses(tmp, f.Classes)
		meta["classes"] = tmp.Meta["classes"]
	}
	if f.Input != nil {
		if layers, err = fitInput(g, sp, layers, f.Input, meta); err != nil {
			return nil, err
		}
	}
	if f.FreezeUntil != "" {
		at := -1
		for i, l := range layers {
			if l["name"] == f.FreezeUntil {
				at = i
			}
		}
		if at < 0 {
			return nil, fmt.Errorf("fine-tune %s: --freeze-until %q is not a layer of the model (see ventral models inspect)", g.Name, f.FreezeUntil)
		}
		if headName != "" {
			for i, l := range layers {
				if l["name"] == headName && i <= at {
					return nil, fmt.Errorf("fine-tune %s: --freeze-until %q would freeze the new classifier %q too", g.Name, f.FreezeUntil, headName)
				}
			}
		}
		meta[MetaFreezeUntil] = f.FreezeUntil
	}
	sp["layers"] = layers
	sp["meta"] = meta
	b, err := json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	out, err := nn.ParseSpec(b, g.Name+" (fine-tuned)")
	if err != nil {
		return nil, fmt.Errorf("fine-tune %s: %w", g.Name, err)
	}
	if err := out.Build(f.Seed); err != nil {
		return nil, fmt.Errorf("fine-tune %s: %w", g.Name, err)
	}
	old := map[string]*tensor.Tensor{}
	for _, p := range g.Params() {
		old[p.Name] = p.Value
	}
	for _, p := range out.Params() {
		if strings.HasPrefix(p.Name, headName+".") && headName != "" {
			continue
		}
		v, ok := old[p.Name]
		if !ok || !tensor.SameShape(v.Shape, p.Value.Shape) {
			return nil, fmt.Errorf("fine-tune %s: parameter %s has no counterpart of shape %v in the original", g.Name, p.Name, p.Value.Shape)
		}
		copy(p.Value.Data, v.Data)
	}
	copyExtra(g, out)
	return out, nil
}

// copyExtra carries over the state ops keep outside their parameters (nn.Stateful: BatchNorm
// running statistics and the like), by name.
func copyExtra(from, to *nn.Graph) {
	old := nn.GraphBuffers(from)
	for k, t := range nn.GraphBuffers(to) {
		if v, ok := old[k]; ok && tensor.SameShape(v.Shape, t.Shape) {
			copy(t.Data, v.Data)
		}
	}
}

// newHead replaces the last weighted layer by a fresh one with n outputs and drops what
// followed it, keeping the reshapes on the way to a vector.
func newHead(g *nn.Graph, layers []map[string]any, n int) ([]map[string]any, string, error) {
	head := -1
	for i, l := range layers {
		switch l["type"] {
		case "dense", "conv2d":
			head = i
		}
	}
	if head < 0 {
		return nil, "", fmt.Errorf("fine-tune %s: no dense or conv2d layer to replace by a new classifier", g.Name)
	}
	h := layers[head]
	h["out"] = n
	if h["type"] == "conv2d" {
		h["groups"] = 1
	}
	delete(h, "constraint")
	delete(h, "init")
	name := h["name"].(string)
	out := append([]map[string]any(nil), layers[:head+1]...)
	last := name
	for _, l := range layers[head+1:] {
		switch l["type"] {
		case "reshape", "flatten":
			ins, _ := l["inputs"].([]any)
			if len(ins) == 0 || (len(ins) == 1 && ins[0] == last) {
				l["inputs"] = []any{last}
				out = append(out, l)
				last = l["name"].(string)
			}
		}
	}
	// A reshape written for the old class count (e.g. [1001]) must follow the new one.
	for _, l := range out[head+1:] {
		if l["type"] == "reshape" {
			l["shape"] = []any{-1}
		}
	}
	return out, name, nil
}

// fitInput makes the graph take images of size in, upsampling them to about the size it was
// built for. The preprocessing metadata then describes the smaller images.
func fitInput(g *nn.Graph, sp map[string]any, layers []map[string]any, in []int, meta map[string]string) ([]map[string]any, error) {
	own := g.InputShape
	if len(in) != 3 || len(own) != 3 {
		return nil, fmt.Errorf("fine-tune %s: input %v and model input %v must both be [C H W]", g.Name, in, own)
	}
	if in[0] != own[0] {
		return nil, fmt.Errorf("fine-tune %s: the model takes %d channels, the images have %d", g.Name, own[0], in[0])
	}
	if in[1] == own[1] && in[2] == own[2] {
		return layers, nil
	}
	if in[1] != in[2] || own[1] != own[2] {
		return nil, fmt.Errorf("fine-tune %s: only square images and inputs are fitted (images %v, model %v)", g.Name, in, own)
	}
	factor := max(1, (own[1]+in[1]/2)/in[1])
	sp["input"] = []any{in[0], in[1], in[2]}
	const up = "input_upsample"
	for _, l := range layers {
		ins, _ := l["inputs"].([]any)
		for k, v := range ins {
			if v == nn.InputName {
				ins[k] = up
			}
		}
		if l["inputs"] == nil && l["name"] == layers[0]["name"] {
			l["inputs"] = []any{up}
		}
	}
	first := map[string]any{"name": up, "type": "upsample", "factor": factor, "inputs": []any{nn.InputName}}
	p, ok, err := stimuli.FromMeta(g)
	if err != nil {
		return nil, err
	}
	if ok {
		p.Size = in[1]
		p.Crop = 0
		tmp := &nn.Graph{Meta: map[string]string{}}
		if err := p.ToMeta(tmp); err != nil {
			return nil, err
		}
		meta[stimuli.MetaKey] = tmp.Meta[stimuli.MetaKey]
	}
	return append([]map[string]any{first}, layers...), nil
}

// noFreezeShortcut, set by tests only, leaves every node unfrozen so the backward pass runs
// through the frozen layers as it did before nn.Node.Frozen (the results must not change).
var noFreezeShortcut bool

// trainable lists the parameters training updates: all of them, or those of the nodes after
// the one Meta[MetaFreezeUntil] names. It marks the nodes up to that one nn.Node.Frozen (and
// clears the mark on the others), so the backward pass stops where the trained layers begin.
func trainable(g *nn.Graph) ([]*nn.Param, error) {
	until := g.Meta[MetaFreezeUntil]
	for _, n := range g.Nodes {
		n.Frozen = false
	}
	if until == "" {
		return g.Params(), nil
	}
	if g.Node(until) == nil {
		return nil, fmt.Errorf("train: model %s freezes layers up to %q, which it does not have", g.Name, until)
	}
	frozen := true
	var out []*nn.Param
	for _, n := range g.Nodes {
		if !frozen {
			out = append(out, n.Op.Params()...)
		}
		n.Frozen = frozen && !noFreezeShortcut
		if n.Name == until {
			frozen = false
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("train: model %s freezes every layer (up to %q): nothing to train", g.Name, until)
	}
	return out, nil
}
