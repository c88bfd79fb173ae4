package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// Forward at inference splits a batch into one part per thread (nn.Graph.sampleParts); every
// layer of every zoo network gives the same bits as one pass over the whole batch, for batches
// that split evenly and unevenly.
func TestSplitBatchSameBits(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	for _, name := range Names() {
		g, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(1); err != nil {
			t.Fatal(err)
		}
		if g.NumSteps() != 1 {
			continue // recurrent networks run whole (no recycling, no split)
		}
		layers := g.LayerNames()
		for _, c := range []struct{ batch, threads int }{{4, 2}, {5, 3}} {
			rng := rand.New(rand.NewPCG(uint64(c.batch), 7))
			x := tensor.New(append([]int{c.batch}, g.InputShape...)...)
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			tensor.SetThreads(c.threads)
			run := func(split bool) map[string][]float32 {
				ctx := nn.NewCtx(false, 1)
				ctx.NoSplit = !split
				tr, err := g.Forward(ctx, x, layers...)
				if err != nil {
					t.Fatal(err)
				}
				out := map[string][]float32{}
				for _, l := range layers {
					if o := tr.Out(l); o != nil {
						out[l] = append([]float32(nil), o.Data...)
					}
				}
				return out
			}
			want, got := run(false), run(true)
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%s: %d layers split, %d whole", name, len(got), len(want))
			}
			for l, w := range want {
				gl := got[l]
				if len(gl) != len(w) {
					t.Fatalf("%s %s: %d values split, %d whole", name, l, len(gl), len(w))
				}
				for i := range w {
					if math.Float32bits(gl[i]) != math.Float32bits(w[i]) {
						t.Fatalf("%s, batch %d on %d threads, layer %s[%d]: %g split, %g whole", name, c.batch, c.threads, l, i, gl[i], w[i])
					}
				}
			}
		}
	}
}
