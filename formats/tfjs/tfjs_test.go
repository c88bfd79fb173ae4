package tfjs

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func f32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// copyCase copies testdata/name into a temporary folder with the given shard files.
func copyCase(t *testing.T, name string, shards map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for n, data := range shards {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func sequentialShards() map[string][]byte {
	w1 := f32(1, 2, 3, 4, 5, 6)
	w1 = binary.LittleEndian.AppendUint32(w1, uint32(0xffffffff)) // int32 -1
	w1 = binary.LittleEndian.AppendUint32(w1, 7)
	w1 = binary.LittleEndian.AppendUint32(w1, 0)
	// fc2/kernel: six uint8 values split over two shards.
	return map[string][]byte{"w1.bin": w1, "w2a.bin": {0, 1, 2, 3}, "w2b.bin": {4, 255}}
}

// The Sequential form gets an implicit InputLayer and a chain of calls; int32 and uint8
// weights decode (q*scale + min), and groups concatenate their shards in order.
func TestSequential(t *testing.T) {
	m, err := ReadModel(copyCase(t, "sequential.json", sequentialShards()))
	if err != nil {
		t.Fatal(err)
	}
	top := m.Topology
	if top.ClassName != "Sequential" || len(top.Layers) != 3 || top.Layers[0].ClassName != "InputLayer" || top.Layers[0].Name != "fc1_input" {
		t.Fatalf("topology %+v", top)
	}
	if !slices.Equal(top.Layers[2].Calls[0], []Ref{{Layer: "fc1"}}) || top.Outputs[0].Layer != "fc2" || top.Inputs[0].Layer != "fc1_input" {
		t.Fatalf("calls %+v, outputs %+v", top.Layers[2].Calls, top.Outputs)
	}
	if !strings.Contains(string(top.Layers[0].Config), `"batch_input_shape":[null,2]`) {
		t.Errorf("input config %s", top.Layers[0].Config)
	}
	if m.KerasVersion != "2.2.4" || m.Format != "layers-model" {
		t.Errorf("keras %q format %q", m.KerasVersion, m.Format)
	}
	want := map[string][]float32{
		"fc1/kernel": {1, 2, 3, 4, 5, 6},
		"fc1/bias":   {-1, 7, 0},
		"fc2/kernel": {-1, -0.5, 0, 0.5, 1, 126.5},
	}
	for n, w := range want {
		if got := m.Weights[n]; got == nil || !slices.Equal(got.Data, w) {
			t.Errorf("%s: %+v, want %v", n, got, w)
		}
	}
	if !slices.Equal(m.Weights["fc2/kernel"].Shape, []int{3, 2}) {
		t.Errorf("shape %v", m.Weights["fc2/kernel"].Shape)
	}
}

// The functional form wrapped in model_config (older converters), multi-input calls and
// float16 weights.
func TestFunctional(t *testing.T) {
	// 1, -2, 0.5, 65504 as IEEE half floats, plus a subnormal is not needed here.
	shard := []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b}
	m, err := ReadModel(copyCase(t, "functional.json", map[string][]byte{"a.bin": shard}))
	if err != nil {
		t.Fatal(err)
	}
	sum := m.Topology.Layers[2]
	if sum.Name != "sum" || !slices.Equal(sum.Calls[0], []Ref{{Layer: "input_1"}, {Layer: "a"}}) {
		t.Fatalf("sum %+v", sum)
	}
	if got := m.Weights["a/kernel"].Data; !slices.Equal(got, []float32{1, -2, 0.5, 65504}) {
		t.Errorf("float16: %v", got)
	}
	if half(0x0001) != float32(math.Ldexp(1, -24)) || half(0x8000) != 0 || !math.IsInf(float64(half(0x7c00)), 1) {
		t.Errorf("half edge cases: %v %v %v", half(0x0001), half(0x8000), half(0x7c00))
	}
}

// Keras 3 writes calls as {"args": [...]} with __keras_tensor__ objects and a single tensor as
// input_layers.
func TestKeras3(t *testing.T) {
	m, err := ReadModel(copyCase(t, "keras3.json", nil))
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Topology.Layers[1]; !slices.Equal(d.Calls[0], []Ref{{Layer: "x"}}) {
		t.Fatalf("calls %+v", d.Calls)
	}
	if m.Topology.Inputs[0].Layer != "x" || m.Topology.Outputs[0].Layer != "d" {
		t.Fatalf("inputs %+v outputs %+v", m.Topology.Inputs, m.Topology.Outputs)
	}
}

// Errors name the file and the field, and reads are bounded by the shards' real sizes.
func TestErrors(t *testing.T) {
	shards := sequentialShards()
	short := map[string][]byte{"w1.bin": shards["w1.bin"][:20], "w2a.bin": shards["w2a.bin"], "w2b.bin": shards["w2b.bin"]}
	p := copyCase(t, "sequential.json", short)
	_, err := ReadModel(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "weightsManifest[0]") || !strings.Contains(err.Error(), "describes 36 bytes") {
		t.Errorf("truncated shard: %v", err)
	}
	long := map[string][]byte{"w1.bin": append(slices.Clone(shards["w1.bin"]), 0), "w2a.bin": shards["w2a.bin"], "w2b.bin": shards["w2b.bin"]}
	if _, err := ReadModel(copyCase(t, "sequential.json", long)); err == nil || !strings.Contains(err.Error(), "hold 37") {
		t.Errorf("extra bytes: %v", err)
	}
	missing := map[string][]byte{"w1.bin": shards["w1.bin"]}
	if _, err := ReadModel(copyCase(t, "sequential.json", missing)); err == nil || !strings.Contains(err.Error(), "w2a.bin") {
		t.Errorf("missing shard: %v", err)
	}
	cases := []struct{ doc, want string }{
		{`{"format": "graph-model", "modelTopology": {}}`, `format "graph-model"`},
		{`{"modelTopology": null}`, "modelTopology is missing"},
		{`{"modelTopology": {"class_name": "Foo", "config": {}}}`, `class_name "Foo"`},
		{`{"modelTopology": {"class_name": "Model", "config": {"layers": [{"class_name": "Dense", "name": "d", "inbound_nodes": [[["x", 0]]]}]}}}`, `layer "d": inbound_nodes: call 0, input 0`},
		{`{"modelTopology": {"class_name": "Model", "config": {"layers": [{"class_name": "Dense", "name": "d", "inbound_nodes": [[["x", 0, 0]]]}], "input_layers": [["d", 0, 0]], "output_layers": [["d", 0, 0]]}}}`, `reads layer "x", which is not among the layers`},
		{`{"modelTopology": {"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d"}}]}}`, "no batch_input_shape"},
		{`{"modelTopology": {"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d", "batch_input_shape": [null, 1]}}, {"class_name": "Dense", "config": {"name": "d"}}]}}`, `"d" is used twice`},
		{seqWith(`{"paths": ["../x.bin"], "weights": []}`), `leaves the model's folder`},
		{seqWith(`{"paths": ["/etc/passwd"], "weights": []}`), `must be relative`},
		{seqWith(`{"paths": ["a"], "weights": [{"name": "w", "shape": [-1], "dtype": "float32"}]}`), `weight "w": shape [-1] has a negative dimension`},
		{seqWith(`{"paths": ["a"], "weights": [{"name": "w", "shape": [65536, 65536], "dtype": "float32"}]}`), `more than`},
		{seqWith(`{"paths": ["a"], "weights": [{"name": "w", "shape": [1], "dtype": "float64"}]}`), `dtype "float64"`},
		{seqWith(`{"paths": ["a"], "weights": [{"name": "w", "shape": [1], "dtype": "float32", "quantization": {"dtype": "int4"}}]}`), `quantization dtype "int4"`},
		{seqWith(`{"paths": ["a"], "weights": [{"name": "w", "shape": [1], "dtype": "float32"}, {"name": "w", "shape": [1], "dtype": "float32"}]}`), `"w" is listed twice`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), "m.json")
		if err == nil || !strings.Contains(err.Error(), "m.json") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n  got %v\n  want an error containing %q", c.doc, err, c.want)
		}
	}
}

func seqWith(group string) string {
	return `{"modelTopology": {"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d", "batch_input_shape": [null, 1]}}]}, "weightsManifest": [` + group + `]}`
}

// FuzzParse feeds arbitrary bytes to the model.json parser: an error or a model whose layers
// and calls are consistent, never a panic.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"sequential.json", "functional.json", "keras3.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(seqWith(`{"paths": ["a"], "weights": [{"name": "w", "shape": [2], "dtype": "float32"}]}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "fuzz.json")
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, l := range m.Topology.Layers {
			names[l.Name] = true
		}
		for _, l := range m.Topology.Layers {
			for _, c := range l.Calls {
				for _, r := range c {
					if !names[r.Layer] {
						t.Fatalf("layer %q reads unknown %q", l.Name, r.Layer)
					}
				}
			}
		}
		// Decoding from an all-zero buffer of the right size must not panic.
		for gi, g := range m.Manifest {
			need := 0
			for wi := range g.Weights {
				n, _ := g.Weights[wi].numel()
				b, _ := g.Weights[wi].bytesPer()
				need += n * b
			}
			if need > 1<<20 {
				continue
			}
			m.Weights = map[string]*Weight{}
			if err := m.decodeGroup(gi, make([]byte, need)); err != nil {
				t.Fatal(err)
			}
		}
	})
}
