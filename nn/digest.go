package nn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
)

// Digest is a content hash of the model: its spec and every parameter's name and values (and
// any extra state an op exposes through Stateful). Two models with the same digest compute the
// same function, so caches keyed by it cannot go stale when weights change.
func (g *Graph) Digest() (string, error) {
	h := sha256.New()
	spec, err := g.SpecJSON()
	if err != nil {
		return "", err
	}
	h.Write(spec)
	var buf [4]byte
	for _, p := range g.Params() {
		h.Write([]byte(p.Name))
		for _, v := range p.Value.Data {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			h.Write(buf[:])
		}
	}
	for _, n := range g.Nodes {
		if s, ok := n.Op.(interface{ DigestExtra() []float32 }); ok {
			h.Write([]byte(n.Name))
			for _, v := range s.DigestExtra() {
				binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
				h.Write(buf[:])
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
