package hdf5

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMutatedSeeds runs the readers over seeded random corruptions of the seed files (single
// bytes, all-ones addresses and lengths, flipped bits): none may panic or take long. It found
// an unbounded shuffle loop that the coverage-guided fuzzer had not reached.
func TestMutatedSeeds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	iters := 800
	if testing.Short() {
		iters = 200
	}
	for _, name := range []string{"seed_v0.h5", "seed_latest.h5"} {
		seed, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for it := 0; it < iters; it++ {
			b := bytes.Clone(seed)
			for k := 0; k < 1+rng.IntN(4); k++ {
				p := rng.IntN(len(b) - 8)
				switch rng.IntN(4) {
				case 0:
					b[p] = byte(rng.IntN(256))
				case 1:
					copy(b[p:p+8], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
				case 2:
					copy(b[p:p+4], []byte{0xff, 0xff, 0, 0})
				case 3:
					b[p] ^= 1 << rng.IntN(8)
				}
			}
			start := time.Now()
			file, err := NewReader("mutated.h5", bytes.NewReader(b), int64(len(b)))
			if err == nil {
				file.Limit = 1 << 20
				exercise(file.Root(), map[uint64]bool{}, 0)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("%s mutation %d took %v", name, it, d)
			}
		}
	}
}
