package nn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"sort"

	"github.com/ventral-lab/ventral/tensor"
)

// Digest is a content hash of the model: its spec, every parameter's name, shape and values,
// every buffer an op keeps outside its parameters (see Stateful: batch norm's running
// statistics, fixed gains, HMAX prototypes, Neocognitron S-cell weights) and any further state an
// op exposes through a DigestExtra() []float32 method. Two models with the same digest compute the
// same function, so caches keyed by it cannot go stale when weights or statistics change. An op
// that keeps output-changing state anywhere else must expose it through Buffers or DigestExtra.
func (g *Graph) Digest() (string, error) {
	h := sha256.New()
	spec, err := g.SpecJSON()
	if err != nil {
		return "", err
	}
	h.Write(spec)
	for _, p := range g.Params() {
		hashTensor(h, "param "+p.Name, p.Value)
	}
	for _, n := range g.Nodes {
		if s, ok := n.Op.(Stateful); ok {
			bufs := s.Buffers()
			keys := make([]string, 0, len(bufs))
			for k := range bufs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				hashTensor(h, "buffer "+n.Name+"."+k, bufs[k])
			}
		}
		if s, ok := n.Op.(interface{ DigestExtra() []float32 }); ok {
			hashTensor(h, "extra "+n.Name, tensor.FromData(s.DigestExtra(), len(s.DigestExtra())))
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashTensor writes a length-prefixed name, the shape and the values, so that no two different
// sequences of tensors hash the same bytes.
func hashTensor(h hash.Hash, name string, t *tensor.Tensor) {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(len(name)))
	h.Write(buf[:])
	h.Write([]byte(name))
	if t == nil {
		binary.LittleEndian.PutUint64(buf[:], math.MaxUint64)
		h.Write(buf[:])
		return
	}
	binary.LittleEndian.PutUint64(buf[:], uint64(len(t.Shape)))
	h.Write(buf[:])
	for _, d := range t.Shape {
		binary.LittleEndian.PutUint64(buf[:], uint64(d))
		h.Write(buf[:])
	}
	binary.LittleEndian.PutUint64(buf[:], uint64(len(t.Data)))
	h.Write(buf[:])
	for _, v := range t.Data {
		binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
		h.Write(buf[:4])
	}
}
