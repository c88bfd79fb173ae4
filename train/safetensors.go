package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/ventral-lab/ventral/formats/safetensors"
	"github.com/ventral-lab/ventral/tensor"
)

// ChecksumKey is the metadata key of a checkpoint's per-tensor checksums: a JSON object from
// tensor name to the sha256 of its little-endian float32 bytes. safetensors itself has no
// checksum, so without one flipped bits in a weight load silently.
const ChecksumKey = "tensor_sha256"

func tensorSum(data []float32) string {
	h := sha256.New()
	var buf [4096]byte
	for len(data) > 0 {
		n := min(len(data), len(buf)/4)
		for i, v := range data[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		h.Write(buf[:4*n])
		data = data[n:]
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeSafetensors writes named float32 tensors and metadata (plus the tensors' checksums)
// atomically.
func writeSafetensors(path string, tensors map[string]*tensor.Tensor, meta map[string]string) error {
	list := make([]safetensors.Tensor, 0, len(tensors))
	sums := make(map[string]string, len(tensors))
	for k, t := range tensors {
		list = append(list, safetensors.Tensor{Name: k, DType: "F32", Shape: t.Shape, F32: t.Data})
		sums[k] = tensorSum(t.Data)
	}
	js, err := json.Marshal(sums)
	if err != nil {
		return err
	}
	m := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		m[k] = v
	}
	m[ChecksumKey] = string(js)
	return safetensors.Write(path, list, m)
}

// readSafetensors reads a safetensors file into named tensors (converted to float32). When the
// metadata holds checksums (every checkpoint ventral writes), each tensor is verified.
func readSafetensors(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	list, meta, err := safetensors.Read(path)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]*tensor.Tensor, len(list))
	for _, t := range list {
		out[t.Name] = tensor.FromData(t.F32, t.Shape...)
	}
	if js, ok := meta[ChecksumKey]; ok {
		if err := verifySums(path, js, list); err != nil {
			return nil, nil, err
		}
	}
	return out, meta, nil
}

func verifySums(path, js string, list []safetensors.Tensor) error {
	var sums map[string]string
	if err := json.Unmarshal([]byte(js), &sums); err != nil {
		return fmt.Errorf("%s: metadata %s is not a JSON object of checksums: %v", path, ChecksumKey, err)
	}
	seen := make(map[string]bool, len(list))
	for _, t := range list {
		seen[t.Name] = true
		want, ok := sums[t.Name]
		if !ok {
			return fmt.Errorf("%s: tensor %q has no checksum in the metadata (the file was altered after it was written)", path, t.Name)
		}
		if t.DType != "F32" {
			return fmt.Errorf("%s: tensor %q is %s; checksummed checkpoints hold F32 only", path, t.Name, t.DType)
		}
		if got := tensorSum(t.F32); got != want {
			return fmt.Errorf("%s: tensor %q fails its checksum (sha256 %s, recorded %s): the file is corrupted (flipped bits or a bad copy)",
				path, t.Name, got[:16], want[:min(16, len(want))])
		}
	}
	var missing []string
	for k := range sums {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%s: tensor %q is recorded in the checksums but missing from the file", path, missing[0])
	}
	return nil
}
