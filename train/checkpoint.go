package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/rules"
	"github.com/ventral-lab/ventral/tensor"
)

// File names inside an output folder.
const (
	CheckpointFile = "model.safetensors"
	SpecFile       = "model.yaml"
	MetricsFile    = "metrics.csv"
	CurvesFile     = "curves.png"
)

// Version is the ventral version recorded in checkpoints: the module version when built from
// a tagged module, else "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "devel"
}

// ModelTensors returns the graph's parameters and buffers (see nn.Stateful) under PyTorch-style names
// ("conv1.weight", "bn1.running_mean"), sharing storage with the graph.
func ModelTensors(g *nn.Graph) map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for _, p := range g.Params() {
		out[p.Name] = p.Value
	}
	for k, t := range nn.GraphBuffers(g) {
		out[k] = t
	}
	return out
}

// Checkpoint is a loaded checkpoint file.
type Checkpoint struct {
	Path  string
	Graph *nn.Graph         // rebuilt from the saved spec, weights and buffers loaded
	Meta  map[string]string // the file's metadata
	Epoch int               // epochs completed
	Step  int               // optimizer steps completed
	Seed  uint64
	// Optim holds the optimizer state tensors ("optim/...").
	Optim map[string]*tensor.Tensor
	// Rule holds the learning rule's feedback matrices ("rule/...", see package rules).
	Rule map[string]*tensor.Tensor
}

// checkpointPath accepts a folder (holding model.safetensors) or a file.
func checkpointPath(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, CheckpointFile)
	}
	return path
}

// saveCheckpoint writes DIR/model.safetensors (weights, buffers, optimizer state, metadata) and
// DIR/model.yaml, each atomically.
func saveCheckpoint(dir string, g *nn.Graph, opt *optim.Optimizer, meta map[string]string, extra map[string]*tensor.Tensor) error {
	spec, err := g.SpecJSON()
	if err != nil {
		return err
	}
	meta["format"] = "ventral-checkpoint"
	meta["spec"] = string(spec)
	meta["ventral_version"] = Version()
	ts := ModelTensors(g)
	if opt != nil {
		for k, t := range opt.State() {
			ts[k] = t
		}
	}
	for k, t := range extra {
		ts[k] = t
	}
	if err := writeSafetensors(filepath.Join(dir, CheckpointFile), ts, meta); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	if err := g.SaveSpec(filepath.Join(dir, SpecFile)); err != nil {
		return fmt.Errorf("writing spec: %w", err)
	}
	return nil
}

// SaveWeights writes the graph's parameters and buffers (no optimizer state) to a
// safetensors file with the spec in its metadata, so LoadCheckpoint can rebuild it.
func SaveWeights(path string, g *nn.Graph, meta map[string]string) error {
	m := map[string]string{"seed": strconv.FormatUint(g.Seed(), 10)}
	for k, v := range meta {
		m[k] = v
	}
	spec, err := g.SpecJSON()
	if err != nil {
		return err
	}
	m["format"] = "ventral-checkpoint"
	m["spec"] = string(spec)
	m["ventral_version"] = Version()
	return writeSafetensors(path, ModelTensors(g), m)
}

// LoadCheckpoint reads a checkpoint (a folder holding model.safetensors, or the file itself),
// rebuilds the graph from the saved spec and loads its weights and buffers.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	file := checkpointPath(path)
	ts, meta, err := readSafetensors(file)
	if err != nil {
		return nil, err
	}
	spec, ok := meta["spec"]
	if !ok {
		return nil, fmt.Errorf("%s: no model spec in the metadata (not a ventral checkpoint)", file)
	}
	g, err := nn.ParseSpec([]byte(spec), file+" (spec)")
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Path: file, Graph: g, Meta: meta, Optim: map[string]*tensor.Tensor{}, Rule: map[string]*tensor.Tensor{}}
	for _, f := range []struct {
		key string
		dst *int
	}{{"epoch", &ck.Epoch}, {"step", &ck.Step}} {
		if v, ok := meta[f.key]; ok {
			if *f.dst, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("%s: metadata %s=%q is not an integer", file, f.key, v)
			}
		}
	}
	if v, ok := meta["seed"]; ok {
		if ck.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, fmt.Errorf("%s: metadata seed=%q is not an integer", file, v)
		}
	}
	if err := g.Build(ck.Seed); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for k, t := range ts {
		if strings.HasPrefix(k, optim.StatePrefix) {
			ck.Optim[k] = t
			delete(ts, k)
		}
		if strings.HasPrefix(k, rules.StatePrefix) {
			ck.Rule[k] = t
			delete(ts, k)
		}
	}
	if err := loadInto(g, ts, file); err != nil {
		return nil, err
	}
	return ck, nil
}

// LoadWeights loads the parameters and buffers of a checkpoint file (or folder) into a built
// graph; every tensor of the graph must be present with its shape, and the file may hold no
// other model tensors.
func LoadWeights(g *nn.Graph, path string) error {
	file := checkpointPath(path)
	ts, _, err := readSafetensors(file)
	if err != nil {
		return err
	}
	for k := range ts {
		if strings.HasPrefix(k, optim.StatePrefix) || strings.HasPrefix(k, rules.StatePrefix) {
			delete(ts, k)
		}
	}
	return loadInto(g, ts, file)
}

func loadInto(g *nn.Graph, ts map[string]*tensor.Tensor, file string) error {
	want := ModelTensors(g)
	names := make([]string, 0, len(want))
	for k := range want {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t, ok := ts[k]
		if !ok {
			return fmt.Errorf("%s: tensor %q of model %q is missing", file, k, g.Name)
		}
		if !tensor.SameShape(t.Shape, want[k].Shape) {
			return fmt.Errorf("%s: tensor %q has shape %v, model %q expects %v", file, k, t.Shape, g.Name, want[k].Shape)
		}
	}
	var extra []string
	for k := range ts {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("%s: tensor %q is not part of model %q (the file holds another model?)", file, extra[0], g.Name)
	}
	if err := checkFiniteTensors(ts, names, file); err != nil {
		return err
	}
	for _, k := range names {
		copy(want[k].Data, ts[k].Data)
	}
	return nil
}

// SavedData returns the data set name a run folder (or checkpoint) was trained on, so that a
// resumed run loads the same one.
func SavedData(path string) (string, error) {
	file := checkpointPath(path)
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s holds no checkpoint (%s) to resume", path, CheckpointFile)
	}
	_, meta, err := readSafetensors(file)
	if err != nil {
		return "", err
	}
	var s saved
	if err := json.Unmarshal([]byte(meta["train"]), &s); err != nil {
		return "", fmt.Errorf("%s: no training state in the metadata (not a training run's checkpoint): %v", file, err)
	}
	return s.Data, nil
}
