package imports

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ventral-lab/ventral/formats/onnx"
)

// fuzzSeeds are conformance models that together use most mapped operators; the fuzzer
// mutates their parsed structure (inputs, attributes, dims), which byte-level mutation of the
// protobuf rarely reaches.
var fuzzSeeds = []string{"test_conv_with_strides_padding", "test_maxpool_2d_pads", "test_reshape_reduced_dims",
	"test_split_equal_parts_2d", "test_gemm_default_vector_bias", "test_averagepool_2d_ceil", "test_softmax_axis_1",
	"test_batchnorm_example", "test_clip_default_min", "test_unsqueeze_axis_1", "test_transpose_all_permutations_1",
	"test_globalaveragepool", "test_lrn", "test_matmul_2d", "test_constant_pad", "test_flatten_default_axis",
	"test_convtranspose_pads", "test_convtranspose_output_shape", "test_convtranspose_1d", "test_averagepool_2d_same_lower",
	"test_maxpool_1d_default", "test_flatten_axis2"}

// FuzzFromONNXStructure: whatever a mutated graph looks like, the importer returns a model or
// an error and never panics.
func FuzzFromONNXStructure(f *testing.F) {
	for i := range fuzzSeeds {
		f.Add(uint8(i), []byte{0, 0, 0, 0})
		f.Add(uint8(i), []byte{1, 0, 1, 0, 2, 1, 3, 7})
	}
	f.Fuzz(func(t *testing.T, seed uint8, ops []byte) {
		dir := filepath.Join(conformanceDir, fuzzSeeds[int(seed)%len(fuzzSeeds)])
		b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Skip(err)
		}
		m, err := onnx.DecodeModel(b)
		if err != nil {
			t.Fatal(err)
		}
		// Bind the extra graph inputs as the conformance test does (zeros of the declared shape).
		for k, in := range m.Graph.Inputs {
			if k == 0 || m.Graph.Initializer(in.Name) != nil {
				continue
			}
			dims := append([]int64{}, in.Dims...)
			n := 1
			for i, d := range dims {
				if d < 1 {
					dims[i] = 1
				}
				n *= int(dims[i])
			}
			m.Graph.Initializers = append(m.Graph.Initializers, &onnx.Tensor{Name: in.Name, Dims: dims, DataType: in.ElemType, FloatData: make([]float32, n), Int64Data: make([]int64, n), Int32Data: make([]int32, n)})
		}
		for i := 0; i+1 < len(ops) && len(m.Graph.Nodes) > 0; i += 2 {
			nd := m.Graph.Nodes[int(ops[i+1])%len(m.Graph.Nodes)]
			v := int64(int8(ops[i+1]))
			switch ops[i] % 7 {
			case 0: // drop the last input
				if len(nd.Inputs) > 0 {
					nd.Inputs = nd.Inputs[:len(nd.Inputs)-1]
				}
			case 1: // set every int attribute
				for _, a := range nd.Attrs {
					a.I = v
					for k := range a.Ints {
						a.Ints[k] = v
					}
				}
			case 2: // shorten every ints attribute
				for _, a := range nd.Attrs {
					if len(a.Ints) > 0 {
						a.Ints = a.Ints[:len(a.Ints)-1]
					}
				}
			case 3: // change an initializer's dims (its data no longer fits)
				if len(m.Graph.Initializers) > 0 {
					t := m.Graph.Initializers[int(ops[i+1])%len(m.Graph.Initializers)]
					if len(t.Dims) > 0 {
						t.Dims[0] = v & 7
					} else {
						t.Dims = []int64{v & 7}
					}
				}
			case 4: // drop the outputs
				nd.Outputs = nil
			case 5: // the input's declared shape
				if len(m.Graph.Inputs) > 0 && len(m.Graph.Inputs[0].Dims) > 1 {
					m.Graph.Inputs[0].Dims[len(m.Graph.Inputs[0].Dims)-1] = v & 15
				}
			case 6: // a float attribute
				for _, a := range nd.Attrs {
					a.F = float32(v)
				}
			}
		}
		FromONNX(m, "fuzz.onnx", Options{})
	})
}
