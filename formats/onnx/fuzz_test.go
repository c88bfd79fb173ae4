package onnx

import (
	"os"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the model and tensor decoders: they must return an error
// or a model whose tensors convert (or refuse to) without panicking.
func FuzzDecode(f *testing.F) {
	if b, err := os.ReadFile("testdata/small.onnx"); err == nil {
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := DecodeModel(data); err == nil {
			for _, ti := range m.Graph.Initializers {
				ti.Float32()
				ti.Int64()
			}
			for _, n := range m.Graph.Nodes {
				for _, a := range n.Attrs {
					if a.T != nil {
						a.T.Float32()
					}
				}
			}
		}
		if ti, err := DecodeTensor(data); err == nil {
			ti.Float32()
			ti.Int64()
		}
	})
}
