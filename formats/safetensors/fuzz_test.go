package safetensors

import (
	"bytes"
	"math"
	"testing"
)

func FuzzSafetensors(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, []Tensor{{Name: "w", Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}}, {Name: "b", Shape: []int{1}, F32: []float32{5}}}, map[string]string{"k": "v"})
	f.Add(buf.Bytes())
	f.Add(file(`{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"I64","shape":[],"data_offsets":[4,12]}}`, make([]byte, 12)))
	f.Add(file(`{"h":{"dtype":"F16","shape":[1,1],"data_offsets":[0,2]},"d":{"dtype":"F64","shape":[1],"data_offsets":[2,10]}}`, make([]byte, 10)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := Decode("fuzz.safetensors", data)
		if err != nil {
			return
		}
		// Whatever was read can be written and read back unchanged (as F32).
		var out bytes.Buffer
		for i := range ts {
			ts[i].DType = "F32"
		}
		if err := Encode(&out, ts, meta); err != nil {
			t.Fatal(err)
		}
		ts2, meta2, err := Decode("again", out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(ts2) != len(ts) || len(meta2) != len(meta) {
			t.Fatal("round trip changed the tensor or metadata count")
		}
		for i := range ts {
			if ts[i].Name != ts2[i].Name || len(ts[i].F32) != len(ts2[i].F32) {
				t.Fatalf("tensor %d changed", i)
			}
			for k := range ts[i].F32 {
				if math.Float32bits(ts[i].F32[k]) != math.Float32bits(ts2[i].F32[k]) {
					t.Fatalf("%s[%d] changed", ts[i].Name, k)
				}
			}
		}
	})
}
