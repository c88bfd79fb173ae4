package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
)

// LoadModel returns the model named by nameOrSpecOrDir, the way commands take --model:
//
//   - a training run folder (holding model.safetensors) or a .safetensors checkpoint file:
//     LoadCheckpoint rebuilds the graph from its saved spec with its trained weights (built);
//   - otherwise a zoo name or a model spec file (.yaml, .yml, .json): models.Resolve, unbuilt
//     (the caller builds it with a seed).
//
// A folder without a checkpoint is an error that says so, not a failed zoo look-up.
func LoadModel(nameOrSpecOrDir string) (*nn.Graph, error) {
	p := nameOrSpecOrDir
	if p == "" {
		return nil, errors.New("no model given (a zoo name, a spec file, a training run folder or a .safetensors checkpoint)")
	}
	st, err := os.Stat(p)
	switch {
	case err == nil && st.IsDir():
		if _, err := os.Stat(filepath.Join(p, CheckpointFile)); err != nil {
			return nil, fmt.Errorf("model %s is a folder without a checkpoint (%s): not a training run folder", p, CheckpointFile)
		}
		return loadCheckpointGraph(p)
	case strings.EqualFold(filepath.Ext(p), ".safetensors"):
		if err != nil {
			return nil, fmt.Errorf("model checkpoint %s: %w", p, err)
		}
		return loadCheckpointGraph(p)
	}
	return models.Resolve(p)
}

func loadCheckpointGraph(path string) (*nn.Graph, error) {
	ck, err := LoadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("model checkpoint %s: %w", path, err)
	}
	return ck.Graph, nil
}
