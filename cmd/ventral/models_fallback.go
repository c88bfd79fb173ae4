package main

// Until the models package lands, --model resolves spec files and this tiny table.
// TODO: delete this file and use models.Resolve when models is committed.

import (
	"fmt"
	"os"
	"strings"

	"github.com/ventral-lab/ventral/nn"
)

const fallbackMLP = `name: mlp
input: [1, 28, 28]
meta: {preprocess: '{"mean":[0.1307],"std":[0.3081]}'}
layers:
  - {name: flatten, type: flatten}
  - {name: fc1, type: dense, out: 256}
  - {name: relu1, type: relu}
  - {name: fc2, type: dense, out: 10}
`

func resolveModel(nameOrSpec string) (*nn.Graph, error) {
	if strings.HasSuffix(nameOrSpec, ".yaml") || strings.HasSuffix(nameOrSpec, ".yml") || strings.HasSuffix(nameOrSpec, ".json") {
		if _, err := os.Stat(nameOrSpec); err != nil {
			return nil, fmt.Errorf("model spec %s: %w", nameOrSpec, err)
		}
		return nn.LoadSpec(nameOrSpec)
	}
	if nameOrSpec == "mlp" {
		return nn.ParseSpec([]byte(fallbackMLP), "mlp")
	}
	return nil, fmt.Errorf("unknown model %q (give a spec file .yaml/.json, or one of: mlp)", nameOrSpec)
}
