package imports

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/formats/tfjs"
	"github.com/ventral-lab/ventral/nn"
)

func init() {
	register(loader{
		format: "tfjs",
		match: func(path string, head []byte) bool {
			return strings.EqualFold(filepath.Base(path), "model.json")
		},
		load: func(path string, side *Sidecar, o Options) (*Model, error) {
			return loadTFJS(path, side, o, nil)
		},
	})
}

// loadTFJS reads a TF.js layers model; shard, when set, locates (and checks) each weight shard
// by its manifest path, else shards are read beside path.
func loadTFJS(path string, side *Sidecar, o Options, shard func(rel string) (string, error)) (*Model, error) {
	var m *tfjs.Model
	var err error
	if shard == nil {
		m, err = tfjs.ReadModel(path)
	} else {
		m, err = tfjs.ReadModelWith(path, shard)
	}
	if err != nil {
		return nil, fmt.Errorf("import %w", err)
	}
	if side != nil && len(side.Input) > 0 && len(o.Input) == 0 {
		o.Input = side.Input
	}
	model, err := FromTFJS(m, filepath.Base(filepath.Dir(path)), o)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	meta := map[string]string{}
	// ml5 and the TF.js model garden put the class names in metadata.json beside model.json.
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "metadata.json")); err == nil {
		if labels := parseLabels(b); len(labels) > 0 {
			model.Labels = labels
		}
	}
	// The file gives the input size but no normalisation: resize to it unless a sidecar says
	// more.
	if in := model.Graph.InputShape; len(in) == 3 && in[1] == in[2] {
		meta["preprocess"] = fmt.Sprintf(`{"size": %d}`, in[1])
	}
	if err := applySidecar(model, meta, side); err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	return model, nil
}

// SupportedKerasLayers lists the Keras layer classes FromTFJS maps.
func SupportedKerasLayers() []string {
	var out []string
	for k := range kerasLayers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tv is a Keras tensor during import: the nn node computing it and its per-sample shape in
// ventral's layout. Rank-3 per-sample tensors are images, [C H W] here and [H W C] in Keras;
// other ranks keep Keras's order.
type tv struct {
	node  string
	shape []int
}

// kshape is the tensor's per-sample shape in Keras's order.
func (v *tv) kshape() []int {
	if len(v.shape) == 3 {
		return []int{v.shape[1], v.shape[2], v.shape[0]}
	}
	return v.shape
}

type kerasImporter struct {
	m       *tfjs.Model
	g       *nn.Graph
	o       Options
	vals    map[string]*tv // Keras layer name -> its output
	uses    map[string]int // Keras layer name -> how many calls read it
	names   map[string]bool
	weights []paramCopy
	convs   map[string]int // conv layers (linear, no activation after) -> index of their weight
	used    map[string]bool
	folded  map[string]bool // Keras layers whose output a folded BatchNormalization replaced
	rng     *rand.Rand
	layer   *tfjs.Layer
	notes   map[string]bool
}

type kerasFunc func(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error)

var kerasLayers map[string]kerasFunc

func init() {
	kerasLayers = map[string]kerasFunc{
		"InputLayer":             nil, // handled by FromTFJS
		"Conv2D":                 kerasConv,
		"DepthwiseConv2D":        kerasConv,
		"SeparableConv2D":        kerasConv,
		"BatchNormalization":     kerasBatchNorm,
		"Activation":             kerasActivation,
		"ReLU":                   kerasReLU,
		"Dense":                  kerasDense,
		"Flatten":                kerasFlatten,
		"Reshape":                kerasReshape,
		"Dropout":                kerasDropout,
		"MaxPooling2D":           kerasPool,
		"AveragePooling2D":       kerasPool,
		"GlobalAveragePooling2D": kerasGlobalPool,
		"GlobalMaxPooling2D":     kerasGlobalPool,
		"ZeroPadding2D":          kerasZeroPad,
		"Add":                    kerasAdd,
		"Concatenate":            kerasConcat,
	}
}

// FromTFJS maps a parsed TF.js layers model (with its weights read) onto an nn graph holding
// its weights. source names the model in Graph.Meta and as the graph's name.
func FromTFJS(m *tfjs.Model, source string, o Options) (*Model, error) {
	if m.Weights == nil {
		return nil, errors.New("the model's weights have not been read")
	}
	t := &m.Topology
	im := &kerasImporter{m: m, o: o, vals: map[string]*tv{}, uses: map[string]int{}, names: map[string]bool{nn.InputName: true},
		convs: map[string]int{}, used: map[string]bool{}, folded: map[string]bool{}, rng: rand.New(rand.NewPCG(1, 2)), notes: map[string]bool{}}
	name := source
	if name == "" || name == "." {
		name = t.Name
	}
	im.g = &nn.Graph{Name: name, Meta: map[string]string{"format": "tfjs", "source": source}}
	if m.KerasVersion != "" {
		im.g.Meta["producer"] = "keras " + m.KerasVersion
	}
	if len(t.Inputs) != 1 || len(t.Outputs) != 1 {
		return nil, fmt.Errorf("model has %d inputs and %d outputs; ventral models take one image input and give one output: %w", len(t.Inputs), len(t.Outputs), ErrUnsupported)
	}
	byName := map[string]*tfjs.Layer{}
	for i := range t.Layers {
		byName[t.Layers[i].Name] = &t.Layers[i]
	}
	// Only the layers the output depends on, in an order where each follows its inputs.
	order, err := kerasOrder(byName, t.Outputs[0].Layer)
	if err != nil {
		return nil, err
	}
	for _, l := range order {
		for _, c := range l.Calls {
			for _, r := range c {
				im.uses[r.Layer]++
			}
		}
	}
	im.uses[t.Outputs[0].Layer]++
	ops := map[string]int{}
	for _, l := range order {
		im.layer = l
		ops[l.ClassName]++
		f, ok := kerasLayers[l.ClassName]
		if !ok {
			return nil, fmt.Errorf("layer %q: class %s is not supported (supported: %s): %w", l.Name, l.ClassName, strings.Join(SupportedKerasLayers(), ", "), ErrUnsupported)
		}
		if l.ClassName == "InputLayer" {
			if err := im.input(l, t.Inputs[0].Layer); err != nil {
				return nil, err
			}
			continue
		}
		if len(l.Calls) != 1 {
			return nil, im.unsupported(fmt.Sprintf("a layer called %d times (shared layers)", len(l.Calls)))
		}
		var ins []*tv
		for _, r := range l.Calls[0] {
			if r.Node != 0 || r.Tensor != 0 {
				return nil, im.unsupported(fmt.Sprintf("reading output %d of call %d of layer %q (only single-call, single-output layers)", r.Tensor, r.Node, r.Layer))
			}
			ins = append(ins, im.vals[r.Layer])
		}
		v, err := f(im, l, ins)
		if err != nil {
			return nil, err
		}
		im.vals[l.Name] = v
	}
	out := im.vals[t.Outputs[0].Layer]
	if out == nil || out.node == nn.InputName {
		return nil, fmt.Errorf("output layer %q is not computed from the input: %w", t.Outputs[0].Layer, ErrUnsupported)
	}
	im.g.Output = out.node
	if err := im.g.Build(1); err != nil {
		return nil, fmt.Errorf("building the imported graph: %w", err)
	}
	// copyWeights only reads the graph and the weight list.
	if err := (&importer{g: im.g, weights: im.weights}).copyWeights(); err != nil {
		return nil, err
	}
	var unused []string
	for n := range m.Weights {
		if !im.used[n] {
			unused = append(unused, n)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		im.note("weights not used by the layers the output depends on: %s", strings.Join(unused, ", "))
	}
	model := &Model{Graph: im.g, Format: "tfjs", Operators: ops, ValueLayers: map[string]string{}}
	for n, v := range im.vals {
		if v.node != nn.InputName && !im.folded[n] {
			model.ValueLayers[n] = v.node
		}
	}
	for k := range im.notes {
		model.Notes = append(model.Notes, k)
	}
	sort.Strings(model.Notes)
	return model, nil
}

// kerasOrder lists the layers out depends on, each after the layers it reads.
func kerasOrder(byName map[string]*tfjs.Layer, out string) ([]*tfjs.Layer, error) {
	state := map[string]int{} // 1 visiting, 2 done
	var order []*tfjs.Layer
	var visit func(name string, depth int) error
	visit = func(name string, depth int) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("layer %q reads its own output (a cycle in inbound_nodes)", name)
		case 2:
			return nil
		}
		if depth > 100000 {
			return fmt.Errorf("layer graph too deep")
		}
		l := byName[name]
		if l == nil {
			return fmt.Errorf("layer %q is read but not defined", name)
		}
		state[name] = 1
		for _, c := range l.Calls {
			for _, r := range c {
				if err := visit(r.Layer, depth+1); err != nil {
					return err
				}
			}
		}
		state[name] = 2
		order = append(order, l)
		return nil
	}
	return order, visit(out, 0)
}

func (im *kerasImporter) unsupported(msg string) error {
	return fmt.Errorf("layer %q (%s): %s: %w", im.layer.Name, im.layer.ClassName, msg, ErrUnsupported)
}

func (im *kerasImporter) errorf(format string, args ...any) error {
	return fmt.Errorf("layer %q (%s): %s", im.layer.Name, im.layer.ClassName, fmt.Sprintf(format, args...))
}

func (im *kerasImporter) note(format string, args ...any) {
	im.notes[fmt.Sprintf(format, args...)] = true
}

// config decodes the current layer's config into v (unknown fields are ignored: Keras configs
// carry initializers, regularizers and constraints that do not matter at inference).
func (im *kerasImporter) config(l *tfjs.Layer, v any) error {
	if len(l.Config) == 0 {
		return nil
	}
	if err := json.Unmarshal(l.Config, v); err != nil {
		return im.errorf("config: %v", err)
	}
	return nil
}

// layerName turns a Keras layer name into an nn layer name (see importer.layerName).
func (im *kerasImporter) layerName(name string) string { return uniqueLayerName(im.names, name) }

func (im *kerasImporter) emit(out, typ string, cfg map[string]any, ins ...*tv) (*tv, error) {
	var names []string
	var shapes [][]int
	for _, v := range ins {
		names = append(names, v.node)
		shapes = append(shapes, v.shape)
	}
	name, shape, err := addNode(im.g, im.names, im.rng, out, typ, cfg, names, shapes)
	if err != nil {
		return nil, im.errorf("%v", err)
	}
	return &tv{node: name, shape: shape}, nil
}

func (im *kerasImporter) param(v *tv, name string, data []float32) {
	im.weights = append(im.weights, paramCopy{v.node, name, data})
}

// renameLayer gives a layer (not yet read by any other) the name of the Keras layer that now
// stands for it.
func (im *kerasImporter) renameLayer(old, kerasName string) string {
	name := im.layerName(kerasName)
	renameNode(im.g, im.weights, im.names, old, name)
	if k, ok := im.convs[old]; ok {
		delete(im.convs, old)
		im.convs[name] = k
	}
	for _, v := range im.vals {
		if v.node == old {
			v.node = name
		}
	}
	return name
}

// weight returns the layer's weight key ("kernel", "gamma"...) from the manifest, checking its
// shape. Converters name weights "<layer>/<key>", sometimes under a scope prefix.
func (im *kerasImporter) weight(l *tfjs.Layer, key string, shape []int) ([]float32, error) {
	want := l.Name + "/" + key
	w := im.m.Weights[want]
	if w == nil {
		w = im.m.Weights[want+":0"]
	}
	if w == nil {
		var cands []string
		for n := range im.m.Weights {
			if strings.HasSuffix(strings.TrimSuffix(n, ":0"), "/"+want) {
				cands = append(cands, n)
			}
		}
		if len(cands) == 1 {
			w = im.m.Weights[cands[0]]
		} else if len(cands) > 1 {
			sort.Strings(cands)
			return nil, im.errorf("weight %q is ambiguous in the weights manifest (%s)", want, strings.Join(cands, ", "))
		}
	}
	if w == nil {
		return nil, im.errorf("weight %q is not in the weights manifest", want)
	}
	if !slices.Equal(w.Shape, shape) {
		return nil, im.errorf("weight %q has shape %v in the weights manifest; the layer's config and input need %v", w.Name, w.Shape, shape)
	}
	im.used[w.Name] = true
	return w.Data, nil
}

func (im *kerasImporter) input(l *tfjs.Layer, inputName string) error {
	if l.Name != inputName {
		return im.unsupported("an InputLayer that is not the model's input")
	}
	var c struct {
		BatchInputShape []*int `json:"batch_input_shape"`
		BatchShape      []*int `json:"batch_shape"`
		DType           string `json:"dtype"`
	}
	if err := im.config(l, &c); err != nil {
		return err
	}
	if c.DType != "" && c.DType != "float32" {
		return im.unsupported(fmt.Sprintf("input dtype %s (only float32)", c.DType))
	}
	bs := c.BatchInputShape
	if bs == nil {
		bs = c.BatchShape
	}
	var shape []int
	if len(im.o.Input) > 0 {
		shape = slices.Clone(im.o.Input)
	} else {
		if len(bs) < 2 {
			return im.errorf("batch_input_shape %v has no per-sample axes; declare the input in the sidecar (input: [C, H, W])", derefs(bs))
		}
		for i, d := range bs[1:] {
			if d == nil || *d <= 0 {
				return im.errorf("batch_input_shape %v: axis %d is open; declare the input in the sidecar (input: [C, H, W])", derefs(bs), i+1)
			}
			shape = append(shape, *d)
		}
		if len(shape) == 3 {
			shape = []int{shape[2], shape[0], shape[1]}
		}
	}
	im.g.InputShape = shape
	im.vals[l.Name] = &tv{node: nn.InputName, shape: shape}
	return nil
}

func derefs(p []*int) []any {
	out := make([]any, len(p))
	for i, v := range p {
		if v == nil {
			out[i] = nil
		} else {
			out[i] = *v
		}
	}
	return out
}

// --- layers -----------------------------------------------------------------------------

// convCfg holds the fields of Conv2D, DepthwiseConv2D and SeparableConv2D configs.
type convCfg struct {
	Filters         int    `json:"filters"`
	Padding         string `json:"padding"`
	DataFormat      string `json:"data_format"`
	Activation      any    `json:"activation"`
	UseBias         *bool  `json:"use_bias"`
	DepthMultiplier int    `json:"depth_multiplier"`
	Groups          int    `json:"groups"`
}

// pair reads a Keras int-or-pair field (nil: def).
func pair(v []int, def int) []int {
	switch len(v) {
	case 0:
		return []int{def, def}
	case 1:
		return []int{v[0], v[0]}
	}
	return v
}

// intOrList is a Keras int field written as a number or a list.
type intOrList []int

func (p *intOrList) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*p = []int{n}
		return nil
	}
	var l []int
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("%s is neither an integer nor a list of integers", b)
	}
	*p = l
	return nil
}

// samePads is TF's "SAME" padding of one axis: [before, after].
func samePads(in, k, s, d int) [2]int {
	out := (in + s - 1) / s
	total := max((out-1)*s+(k-1)*d+1-in, 0)
	return [2]int{total / 2, total - total/2}
}

// spatialPads returns [top bottom left right] for padding "valid" or "same".
func (im *kerasImporter) spatialPads(padding string, hw, k, s, d []int) ([4]int, error) {
	switch padding {
	case "", "valid":
		return [4]int{}, nil
	case "same":
		h := samePads(hw[0], k[0], s[0], d[0])
		w := samePads(hw[1], k[1], s[1], d[1])
		return [4]int{h[0], h[1], w[0], w[1]}, nil
	}
	return [4]int{}, im.unsupported(fmt.Sprintf("padding %q (valid and same are supported)", padding))
}

// activationName reads a Keras activation field: a name, or (Keras 3) a serialized function.
func activationName(a any) string {
	switch v := a.(type) {
	case nil:
		return "linear"
	case string:
		return v
	case map[string]any:
		if c, ok := v["config"].(string); ok {
			return c
		}
		if cfg, ok := v["config"].(map[string]any); ok {
			if n, ok := cfg["name"].(string); ok {
				return n
			}
		}
		if n, ok := v["class_name"].(string); ok {
			return n
		}
	}
	return fmt.Sprint(a)
}

func kerasConv(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		convCfg
		KernelSize   intOrList `json:"kernel_size"`
		Strides      intOrList `json:"strides"`
		DilationRate intOrList `json:"dilation_rate"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	x := ins[0]
	if len(x.shape) != 3 {
		return nil, im.unsupported(fmt.Sprintf("a convolution of a per-sample rank-%d input (only images [H W C])", len(x.shape)))
	}
	if c.DataFormat != "" && c.DataFormat != "channels_last" {
		return nil, im.unsupported(fmt.Sprintf("data_format %q (only channels_last)", c.DataFormat))
	}
	k, s, d := pair(c.KernelSize, 0), pair(c.Strides, 1), pair(c.DilationRate, 1)
	if len(k) != 2 || len(s) != 2 || len(d) != 2 || k[0] < 1 || k[1] < 1 || s[0] < 1 || s[1] < 1 || d[0] < 1 || d[1] < 1 {
		return nil, im.errorf("kernel_size %v, strides %v, dilation_rate %v (expected two positive integers each)", k, s, d)
	}
	if (s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1) {
		return nil, im.errorf("strides %v together with dilation_rate %v (Keras forbids both)", s, d)
	}
	act := activationName(c.Activation)
	bias := c.UseBias == nil || *c.UseBias
	cin := x.shape[0]
	p, err := im.spatialPads(c.Padding, x.shape[1:], k, s, d)
	if err != nil {
		return nil, err
	}
	finalName := l.Name
	if act != "linear" {
		finalName = l.Name + ".conv"
	}
	var w []float32
	var out, groups int
	switch l.ClassName {
	case "Conv2D":
		groups = max(c.Groups, 1)
		if c.Filters < 1 || cin%groups != 0 || c.Filters%groups != 0 {
			return nil, im.errorf("filters %d, groups %d for an input of %d channels", c.Filters, groups, cin)
		}
		out = c.Filters
		kern, err := im.weight(l, "kernel", []int{k[0], k[1], cin / groups, out})
		if err != nil {
			return nil, err
		}
		w = hwioToOIHW(kern, k[0], k[1], cin/groups, out)
	case "DepthwiseConv2D", "SeparableConv2D":
		mult := max(c.DepthMultiplier, 1)
		kern, err := im.weight(l, "depthwise_kernel", []int{k[0], k[1], cin, mult})
		if err != nil {
			return nil, err
		}
		// TF's depthwise output channel c*mult+m reads input channel c with kernel [.., c, m]:
		// the same order as a grouped convolution with one group per input channel.
		w = hwioToOIHW(kern, k[0], k[1], 1, cin*mult)
		out, groups = cin*mult, cin
		if l.ClassName == "SeparableConv2D" {
			if c.Filters < 1 {
				return nil, im.errorf("filters %d", c.Filters)
			}
			x, err = im.convNode(l.Name+".depthwise", x, w, nil, out, groups, k, s, d, p)
			if err != nil {
				return nil, err
			}
			pw, err := im.weight(l, "pointwise_kernel", []int{1, 1, out, c.Filters})
			if err != nil {
				return nil, err
			}
			w = hwioToOIHW(pw, 1, 1, out, c.Filters)
			cin, out, groups = out, c.Filters, 1
			k, s, d, p = []int{1, 1}, []int{1, 1}, []int{1, 1}, [4]int{}
		}
	}
	var b []float32
	if bias {
		if b, err = im.weight(l, "bias", []int{out}); err != nil {
			return nil, err
		}
	}
	v, err := im.convNode(finalName, x, w, b, out, groups, k, s, d, p)
	if err != nil {
		return nil, err
	}
	if act == "linear" {
		im.convs[v.node] = len(im.weights) - 2
		return v, nil
	}
	return im.activation(l.Name, act, v)
}

// hwioToOIHW turns a TF kernel [kh kw in out] into nn's [out in kh kw].
func hwioToOIHW(k []float32, kh, kw, in, out int) []float32 {
	w := make([]float32, len(k))
	for y := 0; y < kh; y++ {
		for xx := 0; xx < kw; xx++ {
			for i := 0; i < in; i++ {
				for o := 0; o < out; o++ {
					w[((o*in+i)*kh+y)*kw+xx] = k[((y*kw+xx)*in+i)*out+o]
				}
			}
		}
	}
	return w
}

// convNode emits a conv2d (with a pad2d before it when TF's padding is asymmetric); b nil is
// a zero bias.
func (im *kerasImporter) convNode(name string, x *tv, w, b []float32, out, groups int, k, s, d []int, p [4]int) (*tv, error) {
	var err error
	if p[0] != p[1] || p[2] != p[3] {
		if x, err = im.emit(name+".pad", "pad2d", map[string]any{"pads": p[:]}, x); err != nil {
			return nil, err
		}
		p = [4]int{}
	}
	v, err := im.emit(name, "conv2d", map[string]any{"out": out, "kernel": k, "stride": s,
		"pad": []int{p[0], p[2]}, "dilation": d, "groups": groups}, x)
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = make([]float32, out)
	}
	im.param(v, "weight", w)
	im.param(v, "bias", b)
	return v, nil
}

// activation emits a Keras activation function as the layer name.
func (im *kerasImporter) activation(name, act string, x *tv) (*tv, error) {
	switch act {
	case "linear":
		return x, nil
	case "relu", "sigmoid", "tanh":
		return im.emit(name, act, nil, x)
	case "relu6":
		return im.emit(name, "clip", map[string]any{"min": 0, "max": 6}, x)
	case "softmax":
		// Keras's softmax runs over the last axis: the channels of an image.
		axis := len(x.shape) - 1
		if len(x.shape) == 3 {
			axis = 0
		}
		if axis == 0 {
			return im.emit(name, "softmax", nil, x)
		}
		return im.emit(name, "softmax", map[string]any{"axis": axis}, x)
	}
	return nil, im.unsupported(fmt.Sprintf("activation %q (supported: linear, relu, relu6, sigmoid, softmax, tanh)", act))
}

func kerasActivation(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		Activation any `json:"activation"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	return im.activation(l.Name, activationName(c.Activation), ins[0])
}

func kerasReLU(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		MaxValue      *float64 `json:"max_value"`
		NegativeSlope float64  `json:"negative_slope"`
		Threshold     float64  `json:"threshold"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	switch {
	case c.Threshold != 0:
		return nil, im.unsupported(fmt.Sprintf("threshold %v (only 0)", c.Threshold))
	case c.NegativeSlope != 0 && c.MaxValue != nil:
		return nil, im.unsupported("negative_slope together with max_value")
	case c.NegativeSlope != 0:
		return im.emit(l.Name, "leaky_relu", map[string]any{"slope": c.NegativeSlope}, ins[0])
	case c.MaxValue != nil:
		if *c.MaxValue < 0 {
			return nil, im.errorf("max_value %v is negative", *c.MaxValue)
		}
		return im.emit(l.Name, "clip", map[string]any{"min": 0, "max": *c.MaxValue}, ins[0])
	}
	return im.emit(l.Name, "relu", nil, ins[0])
}

func kerasBatchNorm(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		Axis    any      `json:"axis"`
		Epsilon *float64 `json:"epsilon"`
		Center  *bool    `json:"center"`
		Scale   *bool    `json:"scale"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	x := ins[0]
	rank := len(x.shape) + 1
	axis := -1
	switch a := c.Axis.(type) {
	case nil:
	case float64:
		axis = int(a)
	case []any:
		if len(a) == 1 {
			if f, ok := a[0].(float64); ok {
				axis = int(f)
			}
		} else {
			axis = -2 * rank // an error below
		}
	}
	if axis < 0 {
		axis += rank
	}
	if axis != rank-1 {
		return nil, im.unsupported(fmt.Sprintf("axis %v of a rank-%d tensor (only the last, channel, axis)", c.Axis, rank))
	}
	ch := x.shape[0]
	if len(x.shape) == 2 {
		return nil, im.unsupported("batch normalisation of a per-sample rank-2 tensor")
	}
	eps := 1e-3
	if c.Epsilon != nil {
		eps = *c.Epsilon
	}
	one := make([]float32, ch)
	for i := range one {
		one[i] = 1
	}
	gamma, beta := one, make([]float32, ch)
	var err error
	if c.Scale == nil || *c.Scale {
		if gamma, err = im.weight(l, "gamma", []int{ch}); err != nil {
			return nil, err
		}
	}
	if c.Center == nil || *c.Center {
		if beta, err = im.weight(l, "beta", []int{ch}); err != nil {
			return nil, err
		}
	}
	mean, err := im.weight(l, "moving_mean", []int{ch})
	if err != nil {
		return nil, err
	}
	variance, err := im.weight(l, "moving_variance", []int{ch})
	if err != nil {
		return nil, err
	}
	scale := make([]float64, ch)
	shift := make([]float64, ch)
	for i := range scale {
		scale[i] = float64(gamma[i]) / math.Sqrt(float64(variance[i])+eps)
		shift[i] = float64(beta[i]) - float64(mean[i])*scale[i]
	}
	in := l.Calls[0][0].Layer
	if k, ok := im.convs[x.node]; ok && im.uses[in] == 1 {
		wts, bias := slices.Clone(im.weights[k].data), slices.Clone(im.weights[k+1].data)
		per := len(wts) / ch
		for o := 0; o < ch; o++ {
			for j := o * per; j < (o+1)*per; j++ {
				wts[j] = float32(float64(wts[j]) * scale[o])
			}
			bias[o] = float32(float64(bias[o])*scale[o] + shift[o])
		}
		im.weights[k].data, im.weights[k+1].data = wts, bias
		// The convolution's own output is no longer computed by any layer.
		im.folded[in] = true
		im.renameLayer(x.node, l.Name)
		im.note("BatchNormalization folded into the convolution before it")
		return x, nil
	}
	v, err := im.emit(l.Name, "channel_affine", map[string]any{"channels": ch}, x)
	if err != nil {
		return nil, err
	}
	s32, b32 := make([]float32, ch), make([]float32, ch)
	for i := range s32 {
		s32[i], b32[i] = float32(scale[i]), float32(shift[i])
	}
	im.param(v, "weight", s32)
	im.param(v, "bias", b32)
	return v, nil
}

func kerasDense(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		Units      int   `json:"units"`
		Activation any   `json:"activation"`
		UseBias    *bool `json:"use_bias"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	x := ins[0]
	if len(x.shape) != 1 {
		return nil, im.unsupported(fmt.Sprintf("Dense on a per-sample rank-%d input (Keras applies it to the last axis; flatten first)", len(x.shape)))
	}
	if c.Units < 1 {
		return nil, im.errorf("units %d", c.Units)
	}
	in := x.shape[0]
	kern, err := im.weight(l, "kernel", []int{in, c.Units})
	if err != nil {
		return nil, err
	}
	// Keras's kernel is [in out]; nn.Dense holds [out in].
	w := make([]float32, len(kern))
	for i := 0; i < in; i++ {
		for o := 0; o < c.Units; o++ {
			w[o*in+i] = kern[i*c.Units+o]
		}
	}
	act := activationName(c.Activation)
	name := l.Name
	if act != "linear" {
		name = l.Name + ".dense"
	}
	cfg := map[string]any{"out": c.Units}
	bias := c.UseBias == nil || *c.UseBias
	if !bias {
		cfg["no_bias"] = true
	}
	v, err := im.emit(name, "dense", cfg, x)
	if err != nil {
		return nil, err
	}
	im.param(v, "weight", w)
	if bias {
		b, err := im.weight(l, "bias", []int{c.Units})
		if err != nil {
			return nil, err
		}
		im.param(v, "bias", b)
	}
	return im.activation(l.Name, act, v)
}

// kerasOrderNode returns x with its data in Keras's order (an image becomes [H W C]), for
// layers that reinterpret the flat data. A transpose is needed unless C or H*W is 1.
func (im *kerasImporter) kerasOrderNode(name string, x *tv) (*tv, error) {
	if len(x.shape) != 3 || x.shape[0] == 1 || x.shape[1]*x.shape[2] == 1 {
		return x, nil
	}
	return im.emit(name+".nhwc", "transpose", map[string]any{"perm": []int{1, 2, 0}}, x)
}

// reshapeTo reshapes x to the Keras per-sample shape ks (data in Keras's order), returning it
// in ventral's layout.
func (im *kerasImporter) reshapeTo(name string, x *tv, ks []int) (*tv, error) {
	x, err := im.kerasOrderNode(name, x)
	if err != nil {
		return nil, err
	}
	if len(ks) != 3 {
		if slices.Equal(ks, x.shape) {
			return x, nil
		}
		if len(ks) == 1 {
			return im.emit(name, "flatten", nil, x)
		}
		return im.emit(name, "reshape", map[string]any{"shape": ks}, x)
	}
	ours := []int{ks[2], ks[0], ks[1]}
	if ks[2] == 1 || ks[0]*ks[1] == 1 {
		if slices.Equal(ours, x.shape) {
			return x, nil
		}
		return im.emit(name, "reshape", map[string]any{"shape": ours}, x)
	}
	r, err := im.emit(name+".hwc", "reshape", map[string]any{"shape": ks}, x)
	if err != nil {
		return nil, err
	}
	return im.emit(name, "transpose", map[string]any{"perm": []int{2, 0, 1}}, r)
}

func kerasFlatten(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		DataFormat string `json:"data_format"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if c.DataFormat == "channels_first" {
		return nil, im.unsupported("data_format channels_first")
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	n := 1
	for _, d := range ins[0].shape {
		n *= d
	}
	return im.reshapeTo(l.Name, ins[0], []int{n})
}

func kerasReshape(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		TargetShape []int `json:"target_shape"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	n := 1
	for _, d := range ins[0].shape {
		n *= d
	}
	ks := slices.Clone(c.TargetShape)
	known, free := 1, -1
	for i, d := range ks {
		switch {
		case d == -1 && free < 0:
			free = i
		case d <= 0:
			return nil, im.errorf("target_shape %v", c.TargetShape)
		default:
			known *= d
		}
	}
	if free >= 0 && known > 0 && n%known == 0 {
		ks[free] = n / known
		known = n
	}
	if len(ks) == 0 || known != n {
		return nil, im.errorf("target_shape %v does not hold the input's %d values (shape %v)", c.TargetShape, n, ins[0].kshape())
	}
	return im.reshapeTo(l.Name, ins[0], ks)
}

func kerasDropout(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		Rate float64 `json:"rate"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	if c.Rate < 0 || c.Rate >= 1 {
		return nil, im.errorf("rate %v (expected 0 <= rate < 1)", c.Rate)
	}
	// Identity at inference; dropout again when the imported model is fine-tuned.
	return im.emit(l.Name, "dropout", map[string]any{"p": c.Rate}, ins[0])
}

func kerasPool(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		PoolSize   intOrList `json:"pool_size"`
		Strides    intOrList `json:"strides"`
		Padding    string    `json:"padding"`
		DataFormat string    `json:"data_format"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	x := ins[0]
	if len(x.shape) != 3 {
		return nil, im.unsupported(fmt.Sprintf("2-D pooling of a per-sample rank-%d input", len(x.shape)))
	}
	if c.DataFormat != "" && c.DataFormat != "channels_last" {
		return nil, im.unsupported(fmt.Sprintf("data_format %q (only channels_last)", c.DataFormat))
	}
	k := pair(c.PoolSize, 2)
	s := k
	if len(c.Strides) > 0 {
		s = pair(c.Strides, 1)
	}
	if len(k) != 2 || len(s) != 2 || k[0] < 1 || k[1] < 1 || s[0] < 1 || s[1] < 1 {
		return nil, im.errorf("pool_size %v, strides %v (expected two positive integers each)", k, s)
	}
	p, err := im.spatialPads(c.Padding, x.shape[1:], k, s, []int{1, 1})
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{"kernel": k, "stride": s}
	if p != [4]int{} {
		cfg["pads"] = p[:]
	}
	typ := "maxpool2d"
	if l.ClassName == "AveragePooling2D" {
		typ = "avgpool2d"
		// TF's "SAME" average divides by the input pixels under the window only.
		cfg["exclude_pad"] = true
	}
	return im.emit(l.Name, typ, cfg, x)
}

func kerasGlobalPool(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		DataFormat string `json:"data_format"`
		KeepDims   bool   `json:"keepdims"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 {
		return nil, im.errorf("takes 1 input, got %d", len(ins))
	}
	x := ins[0]
	if len(x.shape) != 3 {
		return nil, im.unsupported(fmt.Sprintf("2-D global pooling of a per-sample rank-%d input", len(x.shape)))
	}
	if c.DataFormat != "" && c.DataFormat != "channels_last" {
		return nil, im.unsupported(fmt.Sprintf("data_format %q (only channels_last)", c.DataFormat))
	}
	typ := "global_avgpool"
	if l.ClassName == "GlobalMaxPooling2D" {
		typ = "global_max"
	}
	if !c.KeepDims {
		return im.emit(l.Name, typ, nil, x)
	}
	v, err := im.emit(l.Name+".pool", typ, nil, x)
	if err != nil {
		return nil, err
	}
	return im.emit(l.Name, "reshape", map[string]any{"shape": []int{x.shape[0], 1, 1}}, v)
}

func kerasZeroPad(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		Padding    json.RawMessage `json:"padding"`
		DataFormat string          `json:"data_format"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) != 1 || len(ins[0].shape) != 3 {
		return nil, im.unsupported("zero padding of anything but one image input")
	}
	if c.DataFormat != "" && c.DataFormat != "channels_last" {
		return nil, im.unsupported(fmt.Sprintf("data_format %q (only channels_last)", c.DataFormat))
	}
	// padding: n, [h, w] or [[top, bottom], [left, right]].
	var p [4]int
	var n int
	var hw []int
	var full [][]int
	switch {
	case len(c.Padding) == 0:
		p = [4]int{1, 1, 1, 1}
	case json.Unmarshal(c.Padding, &n) == nil:
		p = [4]int{n, n, n, n}
	case json.Unmarshal(c.Padding, &hw) == nil && len(hw) == 2:
		p = [4]int{hw[0], hw[0], hw[1], hw[1]}
	case json.Unmarshal(c.Padding, &full) == nil && len(full) == 2 && len(full[0]) == 2 && len(full[1]) == 2:
		p = [4]int{full[0][0], full[0][1], full[1][0], full[1][1]}
	default:
		return nil, im.errorf("padding %s (expected n, [h, w] or [[top, bottom], [left, right]])", c.Padding)
	}
	for _, v := range p {
		if v < 0 {
			return nil, im.errorf("negative padding %v", p)
		}
	}
	return im.emit(l.Name, "pad2d", map[string]any{"pads": p[:]}, ins[0])
}

func kerasAdd(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	if len(ins) < 2 {
		return nil, im.errorf("takes at least 2 inputs, got %d", len(ins))
	}
	for _, v := range ins[1:] {
		if !slices.Equal(v.shape, ins[0].shape) {
			return nil, im.unsupported(fmt.Sprintf("adding tensors of shapes %v and %v (no broadcasting)", ins[0].kshape(), v.kshape()))
		}
	}
	return im.emit(l.Name, "add", nil, ins...)
}

func kerasConcat(im *kerasImporter, l *tfjs.Layer, ins []*tv) (*tv, error) {
	var c struct {
		Axis *int `json:"axis"`
	}
	if err := im.config(l, &c); err != nil {
		return nil, err
	}
	if len(ins) < 2 {
		return nil, im.errorf("takes at least 2 inputs, got %d", len(ins))
	}
	rank := len(ins[0].shape) + 1
	axis := -1
	if c.Axis != nil {
		axis = *c.Axis
	}
	if axis < 0 {
		axis += rank
	}
	// The channel axis of an image, or the feature axis of a vector: nn's concat axis 0.
	if axis != rank-1 || (rank != 4 && rank != 2) {
		return nil, im.unsupported(fmt.Sprintf("concatenation along axis %v of rank-%d tensors (only the last axis of images and vectors)", axis, rank))
	}
	for _, v := range ins[1:] {
		if len(v.shape) != len(ins[0].shape) || !slices.Equal(v.shape[1:], ins[0].shape[1:]) {
			return nil, im.errorf("inputs of shapes %v and %v do not concatenate along the last axis", ins[0].kshape(), v.kshape())
		}
	}
	return im.emit(l.Name, "concat", nil, ins...)
}
