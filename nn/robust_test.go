package nn_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// Importers hand the new ops whatever a model file says. For random configurations and input
// shapes, Build either fails with an error or gives a shape that Forward and Backward honour;
// nothing panics.
func TestImportOpsRandomConfigs(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	small := func() int { return rng.IntN(9) - 3 }
	pads := func() []int { return []int{rng.IntN(3), rng.IntN(3), rng.IntN(3), rng.IntN(3)} }
	list := func(n int) []int {
		l := make([]int, n)
		for i := range l {
			l[i] = small()
		}
		return l
	}
	configs := map[string]func() map[string]any{
		"clip": func() map[string]any { return map[string]any{"min": small(), "max": small()} },
		"fake_quant": func() map[string]any {
			return map[string]any{"scale": float64(small()) / 2, "zero_point": small(), "qmin": small(), "qmax": small() * 40}
		},
		"channel_affine": func() map[string]any { return map[string]any{"channels": small()} },
		"constant":       func() map[string]any { return map[string]any{"shape": list(rng.IntN(4))} },
		"pad2d": func() map[string]any {
			return map[string]any{"pads": list(3 + rng.IntN(3)), "mode": []string{"", "constant", "reflect", "edge", "wrap"}[rng.IntN(5)]}
		},
		"reshape":   func() map[string]any { return map[string]any{"shape": list(rng.IntN(4))} },
		"transpose": func() map[string]any { return map[string]any{"perm": list(rng.IntN(4))} },
		"slice":     func() map[string]any { return map[string]any{"axis": small(), "start": small(), "end": small()} },
		"softmax":   func() map[string]any { return map[string]any{"axis": small()} },
		"concat":    func() map[string]any { return map[string]any{"axis": small()} },
		"maxpool2d": func() map[string]any {
			return map[string]any{"kernel": 1 + rng.IntN(4), "pads": pads(), "ceil_mode": rng.IntN(2) == 1}
		},
		"avgpool2d": func() map[string]any {
			return map[string]any{"kernel": 1 + rng.IntN(4), "stride": 1 + rng.IntN(3), "pads": pads(), "exclude_pad": rng.IntN(2) == 1}
		},
		"conv_transpose2d": func() map[string]any {
			return map[string]any{"out": small(), "kernel": small(), "stride": small(), "pad": small(), "output_pad": small()}
		},
		"conv2d": func() map[string]any {
			c := 1 + rng.IntN(4)
			return map[string]any{"out": c * (1 + rng.IntN(2)), "kernel": 1 + rng.IntN(4), "stride": 1 + rng.IntN(3), "pad": rng.IntN(3), "dilation": 1 + rng.IntN(2), "groups": c}
		},
		"mul": func() map[string]any { return map[string]any{} },
		"div": func() map[string]any { return map[string]any{} },
		"add": func() map[string]any { return map[string]any{} },
	}
	shape := func() []int {
		s := make([]int, 1+rng.IntN(3))
		for i := range s {
			s[i] = 1 + rng.IntN(5)
		}
		return s
	}
	built := map[string]int{}
	for trial := 0; trial < 3000; trial++ {
		typ := []string{"clip", "fake_quant", "channel_affine", "constant", "pad2d", "reshape", "transpose", "slice", "softmax", "concat", "maxpool2d", "avgpool2d", "conv_transpose2d", "conv2d", "mul", "div", "add"}[trial%17]
		op, _ := nn.NewOp(typ)
		cfg := configs[typ]()
		b, _ := json.Marshal(cfg)
		if json.Unmarshal(b, op) != nil {
			continue
		}
		in := [][]int{shape()}
		if typ == "mul" || typ == "div" || typ == "add" || typ == "concat" {
			in = append(in, shape())
		}
		if typ == "maxpool2d" || typ == "avgpool2d" || typ == "pad2d" {
			in[0] = []int{1 + rng.IntN(3), 2 + rng.IntN(6), 2 + rng.IntN(6)}
		}
		if typ == "conv2d" {
			in[0] = []int{cfg["groups"].(int), 3 + rng.IntN(5), 3 + rng.IntN(5)}
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s %s on %v panicked: %v", typ, b, in, r)
				}
			}()
			out, err := op.Build(in, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				return
			}
			built[typ]++
			var xs []*tensor.Tensor
			for _, s := range in {
				xs = append(xs, randN(rng, 1, append([]int{2}, s...)...))
			}
			ctx := nn.NewCtx(true, 1)
			y, cache := op.Forward(ctx, xs)
			if want := append([]int{2}, out...); !tensor.SameShape(y.Shape, want) {
				t.Fatalf("%s %s on %v: output %v, Build said %v", typ, b, in, y.Shape, want)
			}
			need := make([]bool, len(xs))
			for i := range need {
				need[i] = true
			}
			din := op.Backward(ctx, cache, xs, y, y.Clone(), need)
			for i, d := range din {
				if !tensor.SameShape(d.Shape, xs[i].Shape) {
					t.Fatalf("%s %s on %v: input gradient %d has shape %v", typ, b, in, i, d.Shape)
				}
			}
		}()
	}
	for typ := range configs {
		if built[typ] == 0 {
			t.Errorf("%s: no random configuration built; the test checks nothing for it", typ)
		}
	}
}
