package train

// A minimal safetensors reader and writer (float32 tensors only), used until the shared
// formats/safetensors package lands. Layout: an 8-byte little-endian header length, a JSON
// header {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
// "__metadata__": {string: string}}, then the raw little-endian data.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

type stEntry struct {
	Dtype   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

func writeSafetensors(path string, tensors map[string]*tensor.Tensor, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for k := range tensors {
		names = append(names, k)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	off := 0
	for _, k := range names {
		t := tensors[k]
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[k] = stEntry{Dtype: "F32", Shape: shape, Offsets: [2]int{off, off + 4*len(t.Data)}}
		off += 4 * len(t.Data)
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	buf := make([]byte, 8+len(hj)+off)
	binary.LittleEndian.PutUint64(buf, uint64(len(hj)))
	copy(buf[8:], hj)
	p := 8 + len(hj)
	for _, k := range names {
		for _, v := range tensors[k].Data {
			binary.LittleEndian.PutUint32(buf[p:], math.Float32bits(v))
			p += 4
		}
	}
	return nn.WriteFileAtomic(path, buf)
}

func readSafetensors(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("%s: not a safetensors file (too short)", path)
	}
	hl := binary.LittleEndian.Uint64(data)
	if hl > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("%s: not a safetensors file (header length %d beyond the file)", path, hl)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+hl], &raw); err != nil {
		return nil, nil, fmt.Errorf("%s: bad safetensors header: %w", path, err)
	}
	body := data[8+hl:]
	var meta map[string]string
	out := map[string]*tensor.Tensor{}
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				return nil, nil, fmt.Errorf("%s: bad metadata: %w", path, err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, fmt.Errorf("%s: tensor %q: %w", path, k, err)
		}
		if e.Dtype != "F32" {
			return nil, nil, fmt.Errorf("%s: tensor %q has dtype %s (only F32 is read)", path, k, e.Dtype)
		}
		n := tensor.Numel(e.Shape)
		b, en := e.Offsets[0], e.Offsets[1]
		if b < 0 || en > len(body) || en-b != 4*n {
			return nil, nil, fmt.Errorf("%s: tensor %q: offsets %v do not fit shape %v in %d data bytes", path, k, e.Offsets, e.Shape, len(body))
		}
		t := tensor.New(e.Shape...)
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[b+4*i:]))
		}
		out[k] = t
	}
	return out, meta, nil
}
