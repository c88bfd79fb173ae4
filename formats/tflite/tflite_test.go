package tflite

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
)

// TestCoralModels reads the four coral MobileNets and checks what their model cards say: one
// subgraph, a [1 H W 3] uint8 input quantized so 0..255 spans [-1, 1], a [1 1001] output, and
// the operators listed in the shared data README.
func TestCoralModels(t *testing.T) {
	cases := []struct {
		file string
		size int32
		in   TensorType
	}{
		{"mobilenet_v1_0.25_128_quant.tflite", 128, Uint8},
		{"mobilenet_v1_0.75_192_quant.tflite", 192, Uint8},
		{"mobilenet_v2_1.0_224_quant.tflite", 224, Uint8},
		{"tf2_mobilenet_v2_1.0_224_ptq.tflite", 224, Uint8},
	}
	allowed := map[string]bool{"CONV_2D": true, "DEPTHWISE_CONV_2D": true, "ADD": true, "AVERAGE_POOL_2D": true,
		"MEAN": true, "RESHAPE": true, "SOFTMAX": true, "QUANTIZE": true, "DEQUANTIZE": true, "FULLY_CONNECTED": true}
	for _, c := range cases {
		m, err := Read(mirror.Path(t, "coral-test-data/"+c.file))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Subgraphs) != 1 {
			t.Fatalf("%s: %d subgraphs", c.file, len(m.Subgraphs))
		}
		g := m.Subgraphs[0]
		in := g.Tensors[g.Inputs[0]]
		if len(in.Shape) != 4 || in.Shape[1] != c.size || in.Shape[2] != c.size || in.Shape[3] != 3 || in.Type != c.in {
			t.Fatalf("%s: input %v %s", c.file, in.Shape, in.Type)
		}
		q := in.Quantization
		lo, hi := q.Scale[0]*float32(0-q.ZeroPoint[0]), q.Scale[0]*float32(255-q.ZeroPoint[0])
		if lo < -1.01 || lo > -0.99 || hi < 0.99 || hi > 1.01 {
			t.Fatalf("%s: input range [%g, %g]", c.file, lo, hi)
		}
		out := g.Tensors[g.Outputs[0]]
		if n := out.Shape[len(out.Shape)-1]; n != 1001 {
			t.Fatalf("%s: output %v", c.file, out.Shape)
		}
		ops := map[string]int{}
		for i := range g.Operators {
			ops[m.Op(&g.Operators[i]).String()]++
		}
		for k := range ops {
			if !allowed[k] {
				t.Errorf("%s: unexpected operator %s", c.file, k)
			}
		}
		if ops["CONV_2D"] == 0 || ops["DEPTHWISE_CONV_2D"] == 0 {
			t.Errorf("%s: operators %v", c.file, ops)
		}
		// Every constant operand's buffer decodes to its shape's number of values.
		for _, o := range g.Operators {
			for _, i := range o.Inputs[1:] {
				x := &g.Tensors[i]
				if len(m.Data(x)) == 0 {
					continue
				}
				v, err := m.Float32s(x)
				if err != nil {
					t.Fatal(err)
				}
				n := 1
				for _, d := range x.Shape {
					n *= int(d)
				}
				if len(v) != n {
					t.Fatalf("%s: tensor %q: %d values for shape %v", c.file, x.Name, len(v), x.Shape)
				}
			}
		}
		t.Logf("%s: %d tensors, %v", c.file, len(g.Tensors), ops)
	}
}

// TestCorrupt: every truncation of a real file and a few byte flips are errors naming the
// file, never panics.
func TestCorrupt(t *testing.T) {
	path := mirror.Path(t, "coral-test-data/mobilenet_v1_0.25_128_quant.tflite")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 7, 8, 64, 1000, len(b) / 2} {
		if _, err := Decode("cut.tflite", b[:n]); err == nil || !strings.Contains(err.Error(), "cut.tflite") {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	bad := append([]byte{}, b...)
	copy(bad[4:8], "XXXX")
	if _, err := Decode("x.tflite", bad); err == nil || !strings.Contains(err.Error(), "TFL3") {
		t.Errorf("wrong identifier: %v", err)
	}
	for i := 0; i < 2000; i++ {
		c := append([]byte{}, b[:4096]...)
		c[(i*7919)%len(c)] ^= byte(i)
		Decode("flip.tflite", c)
	}
}

// TestEncodeRoundTrip: a real file decoded, encoded and decoded again is the same model.
func TestEncodeRoundTrip(t *testing.T) {
	m, err := Read(mirror.Path(t, "coral-test-data/tf2_mobilenet_v2_1.0_224_ptq.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Decode("encoded", Encode(m))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Fatal("the re-encoded model differs")
	}
}
