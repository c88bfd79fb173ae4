package hdf5

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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
			if d := time.Since(start); d > 10*time.Second { // generous: the machine may be loaded; the loops this catches ran for minutes
				t.Fatalf("%s mutation %d took %v", name, it, d)
			}
		}
	}
}

// TestChecksumMismatch corrupts one byte inside each v2 object header of a seed file: reading
// the object must fail with a checksum error, not return wrong metadata.
func TestChecksumMismatch(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join("testdata", "seed_latest.h5"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for p := bytes.Index(seed, []byte("OHDR")); p >= 0; {
		b := bytes.Clone(seed)
		flags := seed[p+5]
		pre := 6 + 1<<(flags&3)
		if flags&0x20 != 0 {
			pre += 16
		}
		if flags&0x10 != 0 {
			pre += 4
		}
		b[p+pre+2] ^= 0x10 // the first message's size field
		n++
		f, err := NewReader("corrupt.h5", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		h, err := f.header(uint64(p))
		if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
			t.Errorf("header at %d: %v, %v; want a checksum mismatch", p, h, err)
		}
		q := bytes.Index(seed[p+4:], []byte("OHDR"))
		if q < 0 {
			break
		}
		p += 4 + q
	}
	if n < 5 {
		t.Errorf("only %d object headers found", n)
	}
}
