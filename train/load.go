package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/imports"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
)

// RandomPrefix marks a model to be used with seeded fresh weights: "random:NAME" is the
// architecture of NAME (any form LoadModel takes) with none of its trained weights, the
// untrained control of a comparison.
const RandomPrefix = "random:"

// LoadModel returns the model named by nameOrSpecOrDir, the way every command takes --model:
//
//   - a training run folder (holding model.safetensors) or a .safetensors checkpoint file:
//     LoadCheckpoint rebuilds the graph from its saved spec with its trained weights (built);
//   - a network from another framework, by path (.onnx, .tflite, a TF.js model.json) or by its
//     zoo name (imports.Names): imported with its weights, preprocessing and labels (built);
//   - "random:" followed by any of these forms: the same architecture, unbuilt and marked
//     random (models.IsRandom), so the caller's Build(seed) gives it fresh weights;
//   - otherwise a zoo name or a model spec file (.yaml, .yml, .json): models.Resolve, unbuilt
//     (the caller builds it with a seed).
//
// A folder without a checkpoint is an error that says so, not a failed zoo look-up.
func LoadModel(nameOrSpecOrDir string) (*nn.Graph, error) {
	p := nameOrSpecOrDir
	if p == "" {
		return nil, errors.New("no model given (a zoo name, a spec file, a training run folder, a .safetensors checkpoint, an .onnx/.tflite/model.json file, or random: before any of these)")
	}
	if base, ok := strings.CutPrefix(p, RandomPrefix); ok {
		g, err := loadArchitecture(base)
		if err != nil {
			return nil, err
		}
		return models.Constrain(g, models.Constraints{Random: true})
	}
	st, err := os.Stat(p)
	switch {
	case err == nil && st.IsDir():
		if _, err := os.Stat(filepath.Join(p, CheckpointFile)); err == nil {
			return loadCheckpointGraph(p)
		}
		// A folder that happens to share a zoo model's name (an experiment's output folder
		// called hmax, say) does not hide the zoo model.
		if !strings.ContainsRune(p, filepath.Separator) && isZooName(p) {
			break
		}
		return nil, fmt.Errorf("model %s is a folder without a checkpoint (%s): not a training run folder", p, CheckpointFile)
	case strings.EqualFold(filepath.Ext(p), ".safetensors"):
		if err != nil {
			return nil, fmt.Errorf("model checkpoint %s: %w", p, err)
		}
		return loadCheckpointGraph(p)
	case imports.IsImportPath(p):
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", p, err)
		}
		m, err := imports.Load(p, imports.Options{})
		if err != nil {
			return nil, err
		}
		return m.Graph, nil
	}
	if m, ok, err := importedByName(p); ok {
		if err != nil {
			return nil, err
		}
		return m.Graph, nil
	}
	return models.Resolve(p)
}

// loadArchitecture loads what random: starts from. An imported network is read with float
// activations: its quantized form simulates integer arithmetic with layers whose scales belong
// to the trained weights, while the float form is the architecture itself (the clips to each
// quantized range are its ReLU and ReLU6).
func loadArchitecture(p string) (*nn.Graph, error) {
	float := imports.Options{FloatActivations: true}
	if imports.IsImportPath(p) {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("model %s: %w", p, err)
		}
		m, err := imports.Load(p, float)
		if err != nil {
			return nil, err
		}
		return m.Graph, nil
	}
	if slices.Contains(imports.Names(), p) {
		m, err := imports.NamedOptions(p, float)
		if err != nil {
			return nil, err
		}
		return m.Graph, nil
	}
	return LoadModel(p)
}

func loadCheckpointGraph(path string) (*nn.Graph, error) {
	ck, err := LoadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("model checkpoint %s: %w", path, err)
	}
	return ck.Graph, nil
}

// isZooName reports whether name is a zoo model or an imported network's name.
func isZooName(name string) bool {
	return slices.Contains(imports.Names(), name) || slices.Contains(models.Names(), name)
}
