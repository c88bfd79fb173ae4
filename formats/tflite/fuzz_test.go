package tflite

import (
	"os"
	"testing"
)

// FuzzDecode: arbitrary bytes give a model or an error, never a panic. The seeds are a minimal
// hand-built file and the first bytes of a real model when the data mirror is there.
func FuzzDecode(f *testing.F) {
	f.Add(minimal())
	f.Add([]byte("\x00\x00\x00\x00TFL3"))
	if b, err := os.ReadFile("../../../shared/datasets/coral-test-data/mobilenet_v1_0.25_128_quant.tflite"); err == nil {
		f.Add(b[:2048])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode("fuzz.tflite", b)
		if err == nil {
			for _, g := range m.Subgraphs {
				for i := range g.Tensors {
					m.Float32s(&g.Tensors[i])
				}
			}
		}
	})
}
