package main

import (
	"fmt"
	"strings"

	"github.com/ventral-lab/ventral/imports"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/train"
)

// modelHelp says what --model takes, for flag help and errors.
func modelHelp() string {
	return "a zoo name (" + strings.Join(models.Names(), ", ") + "), an imported network (" +
		strings.Join(importedNames(), ", ") + "), a spec file, a training run folder or .safetensors checkpoint, " +
		"an .onnx/.tflite/model.json file, or random: before any of these (fresh weights)"
}

// builtModel resolves --model with train.LoadModel and builds an untrained one with seed.
func builtModel(spec string, seed uint64) (*nn.Graph, error) {
	if spec == "" {
		return nil, fmt.Errorf("--model is required: %s", modelHelp())
	}
	g, err := train.LoadModel(spec)
	if err != nil {
		return nil, err
	}
	if !g.Built() {
		if err := g.Build(seed); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func importedNames() []string { return imports.Names() }
