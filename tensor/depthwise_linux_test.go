package tensor

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// The direct forward pass reads only inside the input plane and writes only inside the output
// plane: both lie against inaccessible pages (before and after), where a stray access faults.
func TestDepthwiseForwardGuardPages(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 3*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip(err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Skip(err)
	}
	if err := syscall.Mprotect(mem[2*page:], syscall.PROT_NONE); err != nil {
		t.Skip(err)
	}
	fl := unsafe.Slice((*float32)(unsafe.Pointer(&mem[page])), page/4)
	saved, saved512 := useAVX2, useAVX512
	defer func() { useAVX2, useAVX512 = saved, saved512 }()
	r := rand.New(rand.NewPCG(31, 32))
	checked := 0
	for trial := 0; trial < 400; trial++ {
		g := DWGeom{H: 1 + r.IntN(12), W: 1 + r.IntN(40), KH: 1 + r.IntN(4), KW: 1 + r.IntN(4),
			PadH: r.IntN(3), PadW: r.IntN(3), StrideH: 1 + r.IntN(2), StrideW: 1 + r.IntN(2), DilH: 1 + r.IntN(2), DilW: 1 + r.IntN(2)}
		if trial%2 == 0 {
			g.KH, g.KW, g.DilH, g.DilW, g.PadH, g.PadW = 3, 3, 1, 1, 1, 1
		}
		if g.Check() != nil || g.H*g.W > len(fl)/2 || g.OH*g.OW > len(fl)/2 {
			continue
		}
		checked++
		ip, op := g.H*g.W, g.OH*g.OW
		// Integers, so that the two forms agree exactly.
		k, bias := make([]float32, g.KH*g.KW), []float32{float32(r.IntN(100))}
		for i := range k {
			k[i] = float32(r.IntN(9) - 4)
		}
		want := make([]float32, op)
		for _, atEnd := range []bool{false, true} {
			// The input at one end of the page, the output at the other.
			src, dst := fl[:ip], fl[len(fl)-op:]
			if atEnd {
				src, dst = fl[len(fl)-ip:], fl[:op]
			}
			for i := range src {
				src[i] = float32(r.IntN(9) - 4)
			}
			for level := 0; level < 3; level++ {
				avx := level > 0
				if avx && !saved || level == 2 && !saved512 {
					continue
				}
				useAVX2, useAVX512 = avx, level == 2
				DepthwiseForward(&g, src, k, bias, dst, nil, 1)
				if !avx {
					copy(want, dst)
				} else {
					for i := range want {
						if dst[i] != want[i] {
							t.Fatalf("%+v: level %d out[%d] = %g, Go %g", g, level, i, dst[i], want[i])
						}
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d geometries checked", checked)
	}
}
