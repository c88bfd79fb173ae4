package analysis

import (
	"encoding/json"
	"fmt"
	"github.com/ventral-lab/ventral/subject"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// LesionSpec says what to silence: a seeded choice of round(Fraction x N) of a layer's
// channels (axis 0 of its per-sample output, the default) or, with Units, of its individual
// units (every element of the per-sample output).
type LesionSpec struct {
	Layer    string
	Fraction float64
	Units    bool
	Seed     uint64
}

// Mask is a lesion wrapper op: it runs the wrapped op and multiplies its output by a 0/1 mask,
// so the silenced channels or units output zero and pass no gradient. It is how Lesion inserts
// a lesion without touching the model's weights; its spec serialisation is the wrapped op's
// with a "lesion" field added, so a lesioned model has a digest of its own.
type Mask struct {
	Inner nn.Op
	Spec  LesionSpec
	// Silenced lists the silenced channel or unit indices, sorted.
	Silenced []int
	keep     []float32 // per-sample mask
}

// Unwrap returns the wrapped op.
func (m *Mask) Unwrap() nn.Op       { return m.Inner }
func (m *Mask) Type() string        { return m.Inner.Type() }
func (m *Mask) Params() []*nn.Param { return m.Inner.Params() }

// Build builds the wrapped op and draws the silenced channels or units.
func (m *Mask) Build(in [][]int, rng *rand.Rand) ([]int, error) {
	out, err := m.Inner.Build(in, rng)
	if err != nil {
		return nil, err
	}
	if m.Spec.Fraction < 0 || m.Spec.Fraction > 1 || math.IsNaN(m.Spec.Fraction) {
		return nil, fmt.Errorf("lesion fraction %g outside [0, 1]", m.Spec.Fraction)
	}
	size := tensor.Numel(out)
	n := size
	if !m.Spec.Units {
		if len(out) == 0 {
			return nil, fmt.Errorf("lesion: layer output has no channel axis")
		}
		n = out[0]
	}
	k := int(math.Round(m.Spec.Fraction * float64(n)))
	pick := rand.New(rand.NewPCG(m.Spec.Seed, hash64("lesion/"+m.Spec.Layer))).Perm(n)[:k]
	sort.Ints(pick)
	m.Silenced = pick
	m.keep = make([]float32, size)
	for i := range m.keep {
		m.keep[i] = 1
	}
	per := size / n
	for _, i := range pick {
		for j := i * per; j < (i+1)*per; j++ {
			m.keep[j] = 0
		}
	}
	return out, nil
}

type maskCache struct {
	inner any
	raw   *tensor.Tensor
}

func (m *Mask) Forward(ctx *nn.Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	raw, cache := m.Inner.Forward(ctx, in)
	y := ctx.Alloc(raw.Shape...)
	per := len(m.keep)
	for i, v := range raw.Data {
		y.Data[i] = v * m.keep[i%per]
	}
	return y, maskCache{cache, raw}
}

func (m *Mask) Backward(ctx *nn.Ctx, cache any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	mc := cache.(maskCache)
	d := ctx.Alloc(dy.Shape...)
	per := len(m.keep)
	for i, v := range dy.Data {
		d.Data[i] = v * m.keep[i%per]
	}
	return m.Inner.Backward(ctx, mc.inner, in, mc.raw, d, need)
}

// Buffers passes the wrapped op's buffers through (nn.Stateful).
func (m *Mask) Buffers() map[string]*tensor.Tensor {
	if s, ok := m.Inner.(nn.Stateful); ok {
		return s.Buffers()
	}
	return nil
}

// DigestExtra passes the wrapped op's extra digest state through.
func (m *Mask) DigestExtra() []float32 {
	if s, ok := m.Inner.(interface{ DigestExtra() []float32 }); ok {
		return s.DigestExtra()
	}
	return nil
}

// PartialShape passes shape inference around recurrent loops through.
func (m *Mask) PartialShape(in [][]int) ([]int, bool) {
	if s, ok := m.Inner.(nn.PartialShaper); ok {
		return s.PartialShape(in)
	}
	return nil, false
}

// MarshalJSON writes the wrapped op's fields and the lesion.
func (m *Mask) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(m.Inner)
	if err != nil {
		return nil, err
	}
	f := map[string]any{}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	mode := "channels"
	if m.Spec.Units {
		mode = "units"
	}
	f["lesion"] = map[string]any{"fraction": m.Spec.Fraction, "mode": mode, "seed": m.Spec.Seed, "silenced": m.Silenced}
	return json.Marshal(f)
}

// Lesion returns a lesioned copy of a built model: the same spec and weights (copied, so the
// original is untouched) with spec.Layer's op wrapped in a Mask. Layer names are unchanged, so
// the lesioned layer's name reads its silenced output, and every layer above sees the lesion.
func Lesion(g *nn.Graph, spec LesionSpec) (*nn.Graph, *Mask, error) {
	if !g.Built() {
		return nil, nil, fmt.Errorf("lesion: model %q is not built", g.Name)
	}
	if err := CheckLayers(g, []string{spec.Layer}); err != nil {
		return nil, nil, err
	}
	js, err := g.SpecJSON()
	if err != nil {
		return nil, nil, err
	}
	c, err := nn.ParseSpec(js, g.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("lesion: copying model %q: %w", g.Name, err)
	}
	n := c.Node(spec.Layer)
	mask := &Mask{Inner: n.Op, Spec: spec}
	n.Op = mask
	if err := c.Build(g.Seed()); err != nil {
		return nil, nil, err
	}
	for i, on := range g.Nodes {
		cn := c.Nodes[i]
		op := cn.Op
		if u, ok := op.(Unwrapper); ok {
			op = u.Unwrap()
		}
		src, dst := on.Op.Params(), op.Params()
		if len(src) != len(dst) {
			return nil, nil, fmt.Errorf("lesion: layer %q: %d parameters in the copy, %d in the model", on.Name, len(dst), len(src))
		}
		for k := range src {
			copy(dst[k].Value.Data, src[k].Value.Data)
		}
		if s, ok := on.Op.(nn.Stateful); ok {
			db := map[string]*tensor.Tensor{}
			if d, ok := op.(nn.Stateful); ok {
				db = d.Buffers()
			}
			for name, t := range s.Buffers() {
				if db[name] == nil || len(db[name].Data) != len(t.Data) {
					return nil, nil, fmt.Errorf("lesion: layer %q: buffer %q missing from the copy", on.Name, name)
				}
				copy(db[name].Data, t.Data)
			}
		}
	}
	mode := "channels"
	if spec.Units {
		mode = "units"
	}
	c.Name = fmt.Sprintf("%s+lesion(%s,%g,%s)", g.Name, spec.Layer, spec.Fraction, mode)
	return c, mask, nil
}

// LesionRow is one lesion's effect.
type LesionRow struct {
	Layer    string
	Fraction float64
	Units    bool
	Silenced int // channels or units silenced
	Total    int // channels or units in the layer
	// Accuracy and Loss on the evaluation set (NaN without one).
	Accuracy, Loss float64
	// Score is the benchmark score of ScoreLayer (its held-out best-layer score when ScoreLayer
	// is ""), NaN without a benchmark.
	Score      float64
	ScoreLayer string
}

// SweepOptions control LesionSweep.
type SweepOptions struct {
	Layer     string
	Fractions []float64 // default 0, 0.25, 0.5, 0.75, 1
	Units     bool
	Seed      uint64
	Data      *datasets.Dataset // evaluation set for accuracy (nil: none)
	Batch     int               // evaluation batch (default 256)
	Benchmark *benchmarks.Spec  // nil: no brain score
	Score     benchmarks.Options
	// ScoreLayer is the layer whose benchmark score is reported ("": the best layer's
	// held-out score).
	ScoreLayer string
}

// LesionSweep lesions a growing fraction of a layer and measures accuracy (train.Evaluate) and
// the brain score (benchmarks.Score) after each. The choices are nested for a given seed: the
// channels silenced at a fraction include those silenced at every smaller fraction.
func LesionSweep(g *nn.Graph, o SweepOptions) ([]LesionRow, error) {
	fr := o.Fractions
	if len(fr) == 0 {
		fr = []float64{0, 0.25, 0.5, 0.75, 1}
	}
	var rows []LesionRow
	for _, f := range fr {
		lg, mask, err := Lesion(g, LesionSpec{Layer: o.Layer, Fraction: f, Units: o.Units, Seed: o.Seed})
		if err != nil {
			return nil, err
		}
		total := lg.Node(o.Layer).Shape[0]
		if o.Units {
			total = tensor.Numel(lg.Node(o.Layer).Shape)
		}
		r := LesionRow{Layer: o.Layer, Fraction: f, Units: o.Units, Silenced: len(mask.Silenced), Total: total,
			Accuracy: math.NaN(), Loss: math.NaN(), Score: math.NaN(), ScoreLayer: o.ScoreLayer}
		if o.Data != nil {
			if r.Accuracy, r.Loss, err = train.Evaluate(lg, o.Data, o.Batch); err != nil {
				return nil, err
			}
		}
		if o.Benchmark != nil {
			res, err := benchmarks.Score(subject.FromGraph(lg), o.Benchmark, o.Score)
			if err != nil {
				return nil, err
			}
			if o.ScoreLayer == "" {
				r.Score, r.ScoreLayer = res.HeldOut, res.BestLayer
			} else {
				for _, ls := range res.Layers {
					if ls.Layer == o.ScoreLayer {
						r.Score = ls.Score
					}
				}
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}
