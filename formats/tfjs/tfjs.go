// Package tfjs reads TensorFlow.js layers models: a model.json holding a Keras model topology
// and a weights manifest, plus the binary weight shards it names. It parses the file's structure
// (layers, their calls, the weights as named float32 tensors) and leaves the meaning of each
// Keras layer to the importer (package imports).
//
// It is hand-written because the format is plain JSON plus little-endian arrays: the only Go
// alternative would be a binding to the TensorFlow C library, far heavier than this reader.
// Reads are bounded: the manifest must describe exactly the bytes its shards hold, shard paths
// stay inside the model's folder, and tensor sizes are checked before anything is allocated.
package tfjs

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// MaxModelJSON bounds the size of a model.json (the largest real ones are a few MiB).
const MaxModelJSON = 64 << 20

// maxElements bounds one weight tensor (2^31 bytes of float32).
const maxElements = 1 << 29

// Model is a parsed model.json.
type Model struct {
	// Source names the file in errors.
	Source string
	// Format is the file's "format" ("layers-model"; older converters leave it empty).
	Format                   string
	GeneratedBy, ConvertedBy string
	KerasVersion, Backend    string
	Topology                 Topology
	Manifest                 []Group
	// Weights holds the tensors by manifest name once ReadWeights has run.
	Weights map[string]*Weight
}

// Topology is the Keras model: its layers in file order and the tensors that are its inputs
// and outputs.
type Topology struct {
	// ClassName is "Sequential", "Model" or "Functional".
	ClassName string
	Name      string
	Layers    []Layer
	Inputs    []Ref
	Outputs   []Ref
}

// Layer is one Keras layer.
type Layer struct {
	ClassName string
	Name      string
	// Config is the layer's Keras config object, decoded by the importer per class.
	Config json.RawMessage
	// Calls lists the layer's calls (Keras inbound nodes), each with the tensors it reads. An
	// InputLayer has none; a Sequential model's layers get one call reading the previous layer.
	Calls [][]Ref
}

// Ref names a tensor: output Tensor of call Node of a layer.
type Ref struct {
	Layer        string
	Node, Tensor int
}

// Group is one weights manifest group: its shards, concatenated in order, hold its weights in
// order.
type Group struct {
	Paths   []string     `json:"paths"`
	Weights []WeightSpec `json:"weights"`
}

// WeightSpec describes one weight of a group.
type WeightSpec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	DType        string        `json:"dtype"`
	Quantization *Quantization `json:"quantization,omitempty"`
}

// Quantization is how a weight is stored when it is not plain float32 or int32: uint8 or
// uint16 values q mean q*Scale + Min; float16 values are IEEE half floats.
type Quantization struct {
	DType         string  `json:"dtype"`
	Scale         float64 `json:"scale"`
	Min           float64 `json:"min"`
	OriginalDType string  `json:"original_dtype,omitempty"`
}

// Weight is one decoded weight tensor.
type Weight struct {
	Name  string
	Shape []int
	Data  []float32
}

type fileJSON struct {
	Format          string          `json:"format"`
	GeneratedBy     string          `json:"generatedBy"`
	ConvertedBy     string          `json:"convertedBy"`
	ModelTopology   json.RawMessage `json:"modelTopology"`
	WeightsManifest []Group         `json:"weightsManifest"`
}

type topoJSON struct {
	ClassName    string          `json:"class_name"`
	Config       json.RawMessage `json:"config"`
	KerasVersion string          `json:"keras_version"`
	Backend      string          `json:"backend"`
	ModelConfig  json.RawMessage `json:"model_config"`
}

type modelConfigJSON struct {
	Name         string          `json:"name"`
	Layers       []layerJSON     `json:"layers"`
	InputLayers  json.RawMessage `json:"input_layers"`
	OutputLayers json.RawMessage `json:"output_layers"`
}

type layerJSON struct {
	ClassName    string          `json:"class_name"`
	Name         string          `json:"name"`
	Config       json.RawMessage `json:"config"`
	InboundNodes json.RawMessage `json:"inbound_nodes"`
}

// ReadModel reads path (a model.json) and the weight shards beside it.
func ReadModel(path string) (*Model, error) {
	dir := filepath.Dir(path)
	return ReadModelWith(path, func(rel string) (string, error) { return filepath.Join(dir, filepath.FromSlash(rel)), nil })
}

// ReadModelWith reads path and its weight shards, locating each shard (by its manifest path)
// with shard: callers that hash-check files resolve them there.
func ReadModelWith(path string, shard func(rel string) (string, error)) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxModelJSON+1))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > MaxModelJSON {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxModelJSON)
	}
	m, err := Parse(b, path)
	if err != nil {
		return nil, err
	}
	if err := m.ReadWeights(shard); err != nil {
		return nil, err
	}
	return m, nil
}

// Parse reads a model.json's topology and manifest (not the weights). source names the file
// in errors.
func Parse(b []byte, source string) (*Model, error) {
	var fj fileJSON
	if err := json.Unmarshal(b, &fj); err != nil {
		return nil, fmt.Errorf("%s: not a TF.js model.json: %w", source, err)
	}
	m := &Model{Source: source, Format: fj.Format, GeneratedBy: fj.GeneratedBy, ConvertedBy: fj.ConvertedBy, Manifest: fj.WeightsManifest}
	if fj.Format != "" && fj.Format != "layers-model" {
		return nil, fmt.Errorf("%s: format %q: only TF.js layers models (\"layers-model\") are read, not graph models", source, fj.Format)
	}
	if len(fj.ModelTopology) == 0 || string(fj.ModelTopology) == "null" {
		return nil, fmt.Errorf("%s: modelTopology is missing", source)
	}
	var tj topoJSON
	if err := json.Unmarshal(fj.ModelTopology, &tj); err != nil {
		return nil, fmt.Errorf("%s: modelTopology: %w", source, err)
	}
	m.KerasVersion, m.Backend = tj.KerasVersion, tj.Backend
	if len(tj.ModelConfig) > 0 && string(tj.ModelConfig) != "null" {
		// Older converters wrap the Keras model in {keras_version, backend, model_config}.
		var inner topoJSON
		if err := json.Unmarshal(tj.ModelConfig, &inner); err != nil {
			return nil, fmt.Errorf("%s: modelTopology.model_config: %w", source, err)
		}
		tj.ClassName, tj.Config = inner.ClassName, inner.Config
	}
	if err := m.parseTopology(tj); err != nil {
		return nil, fmt.Errorf("%s: modelTopology: %w", source, err)
	}
	if err := m.checkManifest(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return m, nil
}

func (m *Model) parseTopology(tj topoJSON) error {
	t := &m.Topology
	t.ClassName = tj.ClassName
	if len(tj.Config) == 0 || string(tj.Config) == "null" {
		return fmt.Errorf("class %q: config is missing", tj.ClassName)
	}
	var mc modelConfigJSON
	switch tj.ClassName {
	case "Sequential":
		// Keras 2.0 wrote a Sequential config as the bare list of layers.
		if bytes.HasPrefix(bytes.TrimSpace(tj.Config), []byte("[")) {
			if err := json.Unmarshal(tj.Config, &mc.Layers); err != nil {
				return fmt.Errorf("Sequential config: %w", err)
			}
		} else if err := json.Unmarshal(tj.Config, &mc); err != nil {
			return fmt.Errorf("Sequential config: %w", err)
		}
	case "Model", "Functional":
		if err := json.Unmarshal(tj.Config, &mc); err != nil {
			return fmt.Errorf("%s config: %w", tj.ClassName, err)
		}
	default:
		return fmt.Errorf("class_name %q (expected Sequential, Model or Functional)", tj.ClassName)
	}
	t.Name = mc.Name
	if len(mc.Layers) == 0 {
		return fmt.Errorf("config.layers is empty")
	}
	seen := map[string]bool{}
	for i, lj := range mc.Layers {
		l := Layer{ClassName: lj.ClassName, Name: lj.Name, Config: lj.Config}
		if l.Name == "" {
			var c struct {
				Name string `json:"name"`
			}
			if len(lj.Config) > 0 {
				if err := json.Unmarshal(lj.Config, &c); err != nil {
					return fmt.Errorf("config.layers[%d] (%s): config: %w", i, lj.ClassName, err)
				}
			}
			l.Name = c.Name
		}
		if l.ClassName == "" || l.Name == "" {
			return fmt.Errorf("config.layers[%d]: class_name and name are required (got %q, %q)", i, l.ClassName, l.Name)
		}
		if seen[l.Name] {
			return fmt.Errorf("config.layers[%d]: layer name %q is used twice", i, l.Name)
		}
		seen[l.Name] = true
		if tj.ClassName != "Sequential" {
			calls, err := parseInbound(lj.InboundNodes)
			if err != nil {
				return fmt.Errorf("layer %q: inbound_nodes: %w", l.Name, err)
			}
			l.Calls = calls
		}
		t.Layers = append(t.Layers, l)
	}
	if tj.ClassName == "Sequential" {
		return t.chain()
	}
	var err error
	if t.Inputs, err = parseRefList(mc.InputLayers); err != nil {
		return fmt.Errorf("config.input_layers: %w", err)
	}
	if t.Outputs, err = parseRefList(mc.OutputLayers); err != nil {
		return fmt.Errorf("config.output_layers: %w", err)
	}
	if len(t.Inputs) == 0 || len(t.Outputs) == 0 {
		return fmt.Errorf("config.input_layers and config.output_layers must name at least one tensor each")
	}
	for _, r := range append(append([]Ref{}, t.Inputs...), t.Outputs...) {
		if !seen[r.Layer] {
			return fmt.Errorf("input or output layer %q is not among the layers", r.Layer)
		}
	}
	for _, l := range t.Layers {
		for _, c := range l.Calls {
			for _, r := range c {
				if !seen[r.Layer] {
					return fmt.Errorf("layer %q reads layer %q, which is not among the layers", l.Name, r.Layer)
				}
			}
		}
	}
	return nil
}

// chain wires a Sequential model: each layer reads the one before; the first, unless it is an
// InputLayer, gets an InputLayer named as Keras names it ("<first>_input") with the first
// layer's batch_input_shape.
func (t *Topology) chain() error {
	if t.Layers[0].ClassName != "InputLayer" {
		var c struct {
			BatchInputShape json.RawMessage `json:"batch_input_shape"`
			BatchShape      json.RawMessage `json:"batch_shape"`
			DType           string          `json:"dtype"`
		}
		if len(t.Layers[0].Config) > 0 {
			if err := json.Unmarshal(t.Layers[0].Config, &c); err != nil {
				return fmt.Errorf("layer %q: config: %w", t.Layers[0].Name, err)
			}
		}
		shape := c.BatchInputShape
		if len(shape) == 0 {
			shape = c.BatchShape
		}
		if len(shape) == 0 {
			return fmt.Errorf("Sequential model: the first layer %q has no batch_input_shape (and there is no InputLayer)", t.Layers[0].Name)
		}
		cfg, _ := json.Marshal(map[string]any{"batch_input_shape": shape, "name": t.Layers[0].Name + "_input"})
		in := Layer{ClassName: "InputLayer", Name: t.Layers[0].Name + "_input", Config: cfg}
		t.Layers = append([]Layer{in}, t.Layers...)
	}
	for i := 1; i < len(t.Layers); i++ {
		t.Layers[i].Calls = [][]Ref{{{Layer: t.Layers[i-1].Name}}}
	}
	t.Inputs = []Ref{{Layer: t.Layers[0].Name}}
	t.Outputs = []Ref{{Layer: t.Layers[len(t.Layers)-1].Name}}
	return nil
}

// parseInbound reads a layer's inbound_nodes: Keras 2 writes a list of calls, each a list of
// [layer, node, tensor, kwargs]; Keras 3 writes a list of {"args": [...], "kwargs": {...}} whose
// tensors are {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, tensor]}}.
func parseInbound(raw json.RawMessage) ([][]Ref, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var calls []json.RawMessage
	if err := json.Unmarshal(raw, &calls); err != nil {
		return nil, err
	}
	var out [][]Ref
	for i, c := range calls {
		c = bytes.TrimSpace(c)
		var refs []Ref
		if bytes.HasPrefix(c, []byte("{")) {
			var call struct {
				Args json.RawMessage `json:"args"`
			}
			if err := json.Unmarshal(c, &call); err != nil {
				return nil, fmt.Errorf("call %d: %w", i, err)
			}
			var v any
			if len(call.Args) > 0 {
				if err := json.Unmarshal(call.Args, &v); err != nil {
					return nil, fmt.Errorf("call %d: args: %w", i, err)
				}
			}
			if err := kerasTensors(v, &refs, 0); err != nil {
				return nil, fmt.Errorf("call %d: %w", i, err)
			}
		} else {
			var items []json.RawMessage
			if err := json.Unmarshal(c, &items); err != nil {
				return nil, fmt.Errorf("call %d: %w", i, err)
			}
			for j, it := range items {
				r, err := parseRef(it)
				if err != nil {
					return nil, fmt.Errorf("call %d, input %d: %w", i, j, err)
				}
				refs = append(refs, r)
			}
		}
		if len(refs) == 0 {
			return nil, fmt.Errorf("call %d reads no tensor", i)
		}
		out = append(out, refs)
	}
	return out, nil
}

func kerasTensors(v any, refs *[]Ref, depth int) error {
	if depth > 16 {
		return fmt.Errorf("args nested too deeply")
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := kerasTensors(e, refs, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if x["class_name"] != "__keras_tensor__" {
			return nil
		}
		cfg, _ := x["config"].(map[string]any)
		h, _ := cfg["keras_history"].([]any)
		if len(h) != 3 {
			return fmt.Errorf("a __keras_tensor__ without keras_history [layer, node, tensor]")
		}
		name, ok1 := h[0].(string)
		node, ok2 := h[1].(float64)
		tensor, ok3 := h[2].(float64)
		if !ok1 || !ok2 || !ok3 || node < 0 || tensor < 0 || node > 1e6 || tensor > 1e6 {
			return fmt.Errorf("keras_history %v (expected [layer, node, tensor])", h)
		}
		*refs = append(*refs, Ref{Layer: name, Node: int(node), Tensor: int(tensor)})
	}
	return nil
}

// parseRef reads [layer, node, tensor] with an optional fourth kwargs element.
func parseRef(raw json.RawMessage) (Ref, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || len(items) < 3 || len(items) > 4 {
		return Ref{}, fmt.Errorf("%.60s is not [layer, node_index, tensor_index]", raw)
	}
	var r Ref
	if err := json.Unmarshal(items[0], &r.Layer); err != nil {
		return Ref{}, fmt.Errorf("layer name %.40s: %w", items[0], err)
	}
	if err := json.Unmarshal(items[1], &r.Node); err != nil || r.Node < 0 {
		return Ref{}, fmt.Errorf("node index %.40s is not a non-negative integer", items[1])
	}
	if err := json.Unmarshal(items[2], &r.Tensor); err != nil || r.Tensor < 0 {
		return Ref{}, fmt.Errorf("tensor index %.40s is not a non-negative integer", items[2])
	}
	return r, nil
}

// parseRefList reads input_layers/output_layers: a list of refs, or (Keras 3, one tensor) a
// single ref.
func parseRefList(raw json.RawMessage) ([]Ref, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	if len(items) > 0 && !bytes.HasPrefix(bytes.TrimSpace(items[0]), []byte("[")) {
		r, err := parseRef(raw)
		if err != nil {
			return nil, err
		}
		return []Ref{r}, nil
	}
	var out []Ref
	for _, it := range items {
		r, err := parseRef(it)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// bytesPer is the stored size of one value of a weight.
func (w *WeightSpec) bytesPer() (int, error) {
	if q := w.Quantization; q != nil {
		switch q.DType {
		case "uint8":
			return 1, nil
		case "uint16", "float16":
			return 2, nil
		}
		return 0, fmt.Errorf("quantization dtype %q (expected uint8, uint16 or float16)", q.DType)
	}
	switch w.DType {
	case "float32", "int32":
		return 4, nil
	}
	return 0, fmt.Errorf("dtype %q (expected float32 or int32)", w.DType)
}

func (w *WeightSpec) numel() (int, error) {
	n := 1
	for _, d := range w.Shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", w.Shape)
		}
		if d > 0 && n > maxElements/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", w.Shape, maxElements)
		}
		n *= d
	}
	return n, nil
}

func (m *Model) checkManifest() error {
	names := map[string]bool{}
	for gi, g := range m.Manifest {
		if len(g.Paths) == 0 && len(g.Weights) > 0 {
			return fmt.Errorf("weightsManifest[%d]: no paths for %d weights", gi, len(g.Weights))
		}
		for _, p := range g.Paths {
			if err := checkRel(p); err != nil {
				return fmt.Errorf("weightsManifest[%d].paths: %w", gi, err)
			}
		}
		for wi := range g.Weights {
			w := &g.Weights[wi]
			if w.Name == "" {
				return fmt.Errorf("weightsManifest[%d].weights[%d]: no name", gi, wi)
			}
			if names[w.Name] {
				return fmt.Errorf("weightsManifest[%d]: weight %q is listed twice", gi, w.Name)
			}
			names[w.Name] = true
			if _, err := w.bytesPer(); err != nil {
				return fmt.Errorf("weightsManifest[%d]: weight %q: %w", gi, w.Name, err)
			}
			if _, err := w.numel(); err != nil {
				return fmt.Errorf("weightsManifest[%d]: weight %q: %w", gi, w.Name, err)
			}
		}
	}
	return nil
}

// checkRel refuses shard paths that leave the model's folder.
func checkRel(p string) error {
	if p == "" || strings.Contains(p, "\\") || path.IsAbs(p) || filepath.IsAbs(p) {
		return fmt.Errorf("shard path %q must be relative to the model's folder", p)
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return fmt.Errorf("shard path %q leaves the model's folder", p)
	}
	return nil
}

// ReadWeights reads every group's shards (located by shard) and decodes its weights into
// m.Weights. The shards of a group must hold exactly the bytes its weights take.
func (m *Model) ReadWeights(shard func(rel string) (string, error)) error {
	m.Weights = map[string]*Weight{}
	for gi, g := range m.Manifest {
		need := 0
		for wi := range g.Weights {
			w := &g.Weights[wi]
			n, _ := w.numel()
			b, _ := w.bytesPer()
			need += n * b
		}
		var files []string
		have := int64(0)
		for _, p := range g.Paths {
			f, err := shard(p)
			if err != nil {
				return fmt.Errorf("%s: weightsManifest[%d]: shard %q: %w", m.Source, gi, p, err)
			}
			st, err := os.Stat(f)
			if err != nil {
				return fmt.Errorf("%s: weightsManifest[%d]: %w", m.Source, gi, err)
			}
			if !st.Mode().IsRegular() {
				return fmt.Errorf("%s: weightsManifest[%d]: shard %s is not a regular file", m.Source, gi, f)
			}
			files = append(files, f)
			have += st.Size()
		}
		if have != int64(need) {
			return fmt.Errorf("%s: weightsManifest[%d]: the manifest describes %d bytes of weights, the shards %v hold %d", m.Source, gi, need, g.Paths, have)
		}
		buf := make([]byte, 0, need)
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				return fmt.Errorf("%s: weightsManifest[%d]: %w", m.Source, gi, err)
			}
			b, err := io.ReadAll(io.LimitReader(fh, int64(need-len(buf))+1))
			fh.Close()
			if err != nil {
				return fmt.Errorf("%s: weightsManifest[%d]: shard %s: %w", m.Source, gi, f, err)
			}
			buf = append(buf, b...)
		}
		if len(buf) != need {
			return fmt.Errorf("%s: weightsManifest[%d]: read %d bytes of weights from the shards %v, the manifest describes %d", m.Source, gi, len(buf), g.Paths, need)
		}
		if err := m.decodeGroup(gi, buf); err != nil {
			return err
		}
	}
	return nil
}

// DecodeGroup decodes group gi's weights from its concatenated shard bytes (exactly as many
// as the weights take).
func (m *Model) decodeGroup(gi int, buf []byte) error {
	g := m.Manifest[gi]
	off := 0
	for wi := range g.Weights {
		w := &g.Weights[wi]
		n, _ := w.numel()
		per, _ := w.bytesPer()
		if off+n*per > len(buf) {
			return fmt.Errorf("%s: weightsManifest[%d]: weight %q runs past the end of the shards", m.Source, gi, w.Name)
		}
		raw := buf[off : off+n*per]
		off += n * per
		data := make([]float32, n)
		switch {
		case w.Quantization != nil && w.Quantization.DType == "float16":
			for i := range data {
				data[i] = half(binary.LittleEndian.Uint16(raw[2*i:]))
			}
		case w.Quantization != nil:
			q := w.Quantization
			if math.IsNaN(q.Scale) || math.IsInf(q.Scale, 0) || math.IsNaN(q.Min) || math.IsInf(q.Min, 0) {
				return fmt.Errorf("%s: weightsManifest[%d]: weight %q: quantization scale %v, min %v are not finite", m.Source, gi, w.Name, q.Scale, q.Min)
			}
			for i := range data {
				var v uint16
				if per == 1 {
					v = uint16(raw[i])
				} else {
					v = binary.LittleEndian.Uint16(raw[2*i:])
				}
				data[i] = float32(float64(v)*q.Scale + q.Min)
			}
		case w.DType == "int32":
			for i := range data {
				data[i] = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		default:
			for i := range data {
				data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
		m.Weights[w.Name] = &Weight{Name: w.Name, Shape: append([]int{}, w.Shape...), Data: data}
	}
	return nil
}

// half converts an IEEE 754 binary16 value.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := int(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 31:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | uint32(exp-15+127)<<23 | frac<<13)
}
