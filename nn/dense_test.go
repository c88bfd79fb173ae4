package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// A dense layer large enough for tensor.SgemmNT's streamed path (1040 x 1030 weights, above 2^20):
// every sample's outputs equal a float64 computation of W·x + b within 1e-5 relative, and are the
// same bit for bit whether the sample runs alone, in a batch of 5 or of 16, on 1 or 2 threads.
func TestDenseLargeBatchInvariant(t *testing.T) {
	defer tensor.SetThreads(0)
	const in, out, batch = 1040, 1030, 16
	g := &nn.Graph{Name: "fc", InputShape: []int{in}}
	g.Chain("fc", &nn.Dense{Out: out})
	if err := g.Build(7); err != nil {
		t.Fatal(err)
	}
	d := g.Node("fc").Op.(*nn.Dense)
	w, b := d.Params()[0].Value.Data, d.Params()[1].Value.Data
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	x := tensor.New(batch, in)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	forward := func(x *tensor.Tensor) []float32 {
		tr, err := g.Forward(nn.NewCtx(false, 0), x)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Output().Clone().Data
	}
	tensor.SetThreads(2)
	full := forward(x)
	for s := 0; s < batch; s++ {
		var maxRef, maxDiff float64
		for j := 0; j < out; j++ {
			ref := float64(b[j])
			for p := 0; p < in; p++ {
				ref += float64(w[j*in+p]) * float64(x.Data[s*in+p])
			}
			maxRef = max(maxRef, math.Abs(ref))
			maxDiff = max(maxDiff, math.Abs(ref-float64(full[s*out+j])))
		}
		if maxDiff > 1e-5*maxRef {
			t.Fatalf("sample %d: max |diff| %g against the float64 reference (max |ref| %g)", s, maxDiff, maxRef)
		}
	}
	for _, threads := range []int{1, 2} {
		tensor.SetThreads(threads)
		for _, part := range [][2]int{{0, 1}, {15, 1}, {3, 5}, {0, 16}} {
			s0, n := part[0], part[1]
			y := forward(tensor.FromData(x.Data[s0*in:(s0+n)*in], n, in))
			for i := range y {
				if y[i] != full[s0*out+i] {
					t.Fatalf("%d threads: output %d of sample %d is %v in a batch of %d, %v in a batch of %d on 2 threads",
						threads, i%out, s0+i/out, y[i], n, full[s0*out+i], batch)
				}
			}
		}
	}
}
