package train

import (
	"github.com/ventral-lab/ventral/formats/safetensors"
	"github.com/ventral-lab/ventral/tensor"
)

// writeSafetensors writes named float32 tensors and metadata atomically.
func writeSafetensors(path string, tensors map[string]*tensor.Tensor, meta map[string]string) error {
	list := make([]safetensors.Tensor, 0, len(tensors))
	for k, t := range tensors {
		list = append(list, safetensors.Tensor{Name: k, DType: "F32", Shape: t.Shape, F32: t.Data})
	}
	return safetensors.Write(path, list, meta)
}

// readSafetensors reads a safetensors file into named tensors (converted to float32).
func readSafetensors(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	list, meta, err := safetensors.Read(path)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]*tensor.Tensor, len(list))
	for _, t := range list {
		out[t.Name] = tensor.FromData(t.F32, t.Shape...)
	}
	return out, meta, nil
}
