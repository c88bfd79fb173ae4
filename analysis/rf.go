package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/nn"
)

// axisRF is the receptive field of a layer's units along one spatial axis, in input pixels:
// size is the side of the window a unit sees, jump the distance between the windows of
// adjacent units, start the centre of the window of unit 0.
type axisRF struct{ size, jump, start float64 }

// compose applies a window op (kernel k, stride s, padding p, dilation d) on top of in:
// the classic recurrence r' = r + (d(k-1)) j, j' = j s, start' = start + (d(k-1)/2 - p) j.
func (in axisRF) compose(k, s, p, d int) axisRF {
	keff := float64(d*(k-1) + 1)
	return axisRF{
		size:  in.size + (keff-1)*in.jump,
		jump:  in.jump * float64(s),
		start: in.start + ((keff-1)/2-float64(p))*in.jump,
	}
}

// TheoreticalRF is the receptive field a layer's units have by construction: the input window
// that can influence one unit, whatever the weights.
type TheoreticalRF struct {
	Layer string
	Type  string // the op's spec type
	Shape []int  // per-sample output shape
	// Size is the window's side (height, width) in input pixels. It can exceed the input: the
	// part beyond the image is padding.
	Size [2]float64
	// Jump is the distance in input pixels between the windows of adjacent units (the product
	// of the strides below the layer); Start is the input coordinate (row, column) of the centre
	// of the window of unit (0, 0). Both are meaningful only for Spatial layers.
	Jump, Start [2]float64
	// Global is true when every unit sees the whole input (dense layers, global pooling and
	// everything above them); Size is then the input's size.
	Global bool
	// Spatial is true when the output keeps a [C H W] layout.
	Spatial bool
}

// Centre returns the input coordinate (row, column) of the centre of the window of the unit at
// spatial position (y, x).
func (r TheoreticalRF) Centre(y, x int) (float64, float64) {
	return r.Start[0] + float64(y)*r.Jump[0], r.Start[1] + float64(x)*r.Jump[1]
}

// Clipped returns, for the unit at spatial position (y, x), the side of the smallest square
// centred on the unit's centre that holds the part of its window inside an input of height h
// and width w (the pixels that can affect the unit). It is measured the way EffectiveRF.Side
// is, so the effective side never exceeds it.
func (r TheoreticalRF) Clipped(y, x, h, w int) (float64, float64) {
	if r.Global {
		return float64(h), float64(w)
	}
	cy, cx := r.Centre(y, x)
	clip := func(c, s float64, n int) float64 {
		lo := math.Max(math.Ceil(c-(s-1)/2-1e-9), 0)
		hi := math.Min(math.Floor(c+(s-1)/2+1e-9), float64(n-1))
		if hi < lo {
			return 0
		}
		return 2*math.Max(c-lo, hi-c) + 1
	}
	return clip(cy, r.Size[0], h), clip(cx, r.Size[1], w)
}

// Unwrapper is implemented by ops that wrap another op without changing its geometry (the
// lesion mask); the receptive-field walk looks through them.
type Unwrapper interface{ Unwrap() nn.Op }

// TheoreticalRFs walks the graph from the input and composes, layer by layer, the kernel,
// stride, padding and dilation of every windowed op (conv2d, local2d, maxpool2d, avgpool2d,
// gabor, scale_max, rbf, adaptive_avgpool with its largest window and mean stride, upsample
// dividing the jump). Elementwise and per-position ops (activations, batchnorm, groupnorm,
// lrn, divnorm, dropout, scale, softmax, energy) and flatten leave the field unchanged.
// Dense layers and global pooling see the whole input.
//
// Merges (add, concat and any op with several inputs) take the union of their inputs'
// windows for the same unit: the field of a skip connection is that of its widest branch.
// Recurrence is handled by unrolling over the graph's time steps: an input "v@prev" carries
// the field v had at the previous step (nothing at the first step, where it is zero), so
// recurrent loops widen the field step after step; the result is the field at the last step,
// the one the model's output is read at.
//
// The graph must be built (shapes are needed). The result lists every layer in declaration
// order.
func TheoreticalRFs(g *nn.Graph) ([]TheoreticalRF, error) {
	if !g.Built() {
		return nil, fmt.Errorf("receptive fields: model %q is not built", g.Name)
	}
	if len(g.InputShape) != 3 {
		return nil, fmt.Errorf("receptive fields: model %q takes %v, not [C H W] images", g.Name, g.InputShape)
	}
	order, err := sameStepOrder(g)
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	for i, n := range g.Nodes {
		index[n.Name] = i
	}
	inH, inW := float64(g.InputShape[1]), float64(g.InputShape[2])
	input := TheoreticalRF{Layer: nn.InputName, Shape: g.InputShape, Size: [2]float64{1, 1}, Jump: [2]float64{1, 1}, Spatial: true}
	var prev []*TheoreticalRF
	var cur []*TheoreticalRF
	for t := 0; t < g.NumSteps(); t++ {
		cur = make([]*TheoreticalRF, len(g.Nodes))
		for _, i := range order {
			n := g.Nodes[i]
			var ins []TheoreticalRF
			for _, name := range n.Inputs {
				src, isPrev := strings.CutSuffix(name, nn.PrevSuffix)
				switch {
				case src == nn.InputName:
					ins = append(ins, input)
				case isPrev:
					if t > 0 && prev[index[src]] != nil {
						ins = append(ins, *prev[index[src]])
					}
				default:
					if cur[index[src]] == nil {
						return nil, fmt.Errorf("receptive fields: layer %q reads %q before it is computed", n.Name, src)
					}
					ins = append(ins, *cur[index[src]])
				}
			}
			r, err := layerRF(n, ins, inH, inW)
			if err != nil {
				return nil, fmt.Errorf("receptive fields: model %q: %w", g.Name, err)
			}
			cur[i] = &r
		}
		prev = cur
	}
	out := make([]TheoreticalRF, len(g.Nodes))
	for i, r := range cur {
		out[i] = *r
	}
	return out, nil
}

// sameStepOrder is a topological order of the nodes over same-step edges (recurrent inputs
// excluded), stable in declaration order.
func sameStepOrder(g *nn.Graph) ([]int, error) {
	index := map[string]int{}
	for i, n := range g.Nodes {
		index[n.Name] = i
	}
	indeg := make([]int, len(g.Nodes))
	users := make([][]int, len(g.Nodes))
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in == nn.InputName || strings.HasSuffix(in, nn.PrevSuffix) {
				continue
			}
			j, ok := index[in]
			if !ok {
				return nil, fmt.Errorf("layer %q: unknown input %q", n.Name, in)
			}
			indeg[i]++
			users[j] = append(users[j], i)
		}
	}
	var order []int
	done := make([]bool, len(g.Nodes))
	for len(order) < len(g.Nodes) {
		progressed := false
		for i := range g.Nodes {
			if !done[i] && indeg[i] == 0 {
				done[i], progressed = true, true
				order = append(order, i)
				for _, u := range users[i] {
					indeg[u]--
				}
			}
		}
		if !progressed {
			return nil, fmt.Errorf("model %q has a cycle within one time step", g.Name)
		}
	}
	return order, nil
}

// layerRF computes one node's field from its inputs' fields (ins may be empty at the first
// step of a layer whose only inputs are recurrent).
func layerRF(n *nn.Node, ins []TheoreticalRF, inH, inW float64) (TheoreticalRF, error) {
	op := n.Op
	for {
		u, ok := op.(Unwrapper)
		if !ok {
			break
		}
		op = u.Unwrap()
	}
	r := TheoreticalRF{Layer: n.Name, Type: op.Type(), Shape: n.Shape, Spatial: len(n.Shape) == 3}
	if len(ins) == 0 {
		// Only recurrent inputs, at the first step: the output is a function of zeros.
		r.Size, r.Jump = [2]float64{0, 0}, [2]float64{1, 1}
		return r, nil
	}
	in := union(ins)
	global := func() TheoreticalRF {
		r.Global, r.Size, r.Jump, r.Start = true, [2]float64{inH, inW}, [2]float64{}, [2]float64{(inH - 1) / 2, (inW - 1) / 2}
		return r
	}
	if in.Global {
		return global(), nil
	}
	window := func(k, s, p, d nn.Dims, defS int) TheoreticalRF {
		kh, kw := k.HW(1)
		sh, sw := s.HW(1)
		if len(s) == 0 && defS == 0 { // pooling: the stride defaults to the kernel
			sh, sw = kh, kw
		}
		ph, pw := p.HW(0)
		dh, dw := d.HW(1)
		a := axisRF{in.Size[0], in.Jump[0], in.Start[0]}.compose(kh, sh, ph, dh)
		b := axisRF{in.Size[1], in.Jump[1], in.Start[1]}.compose(kw, sw, pw, dw)
		r.Size, r.Jump, r.Start = [2]float64{a.size, b.size}, [2]float64{a.jump, b.jump}, [2]float64{a.start, b.start}
		return r
	}
	identity := func() TheoreticalRF {
		r.Size, r.Jump, r.Start = in.Size, in.Jump, in.Start
		return r
	}
	switch o := op.(type) {
	case *nn.Conv2D:
		return window(o.Kernel, o.Stride, o.Pad, o.Dilation, 1), nil
	case *nn.Local2D:
		return window(o.Kernel, o.Stride, o.Pad, o.Dilation, 1), nil
	case *nn.MaxPool2D:
		return window(o.Kernel, o.Stride, topLeft(o.Pad, o.Pads), o.Dilation, 0), nil
	case *nn.AvgPool2D:
		return window(o.Kernel, o.Stride, topLeft(o.Pad, o.Pads), nil, 0), nil
	case *nn.Constant:
		// Independent of the input: an empty field, which merges leave out.
		r.Size, r.Jump = [2]float64{0, 0}, [2]float64{1, 1}
		return r, nil
	case *nn.Pad2D:
		// Output pixel 0 sits top (left) pixels before input pixel 0.
		r = identity()
		if len(o.Pads) == 4 {
			r.Start[0] -= float64(o.Pads[0]) * in.Jump[0]
			r.Start[1] -= float64(o.Pads[2]) * in.Jump[1]
		}
		return r, nil
	case *nn.Slice:
		// A crop along a spatial axis moves the first unit; a slice of channels changes nothing.
		r = identity()
		if ax := o.Axis; len(ins[0].Shape) == 3 && len(n.Shape) == 3 {
			if ax < 0 {
				ax += 3
			}
			if ax == 1 || ax == 2 {
				start := o.Start
				if start < 0 {
					start += ins[0].Shape[ax]
				}
				r.Start[ax-1] += float64(start) * in.Jump[ax-1]
			}
		}
		return r, nil
	case *nn.Reshape, *nn.Transpose:
		// Positions are rearranged: the field of each unit is still the input's, but it is no
		// longer a map over the same grid unless the shape is unchanged.
		r = identity()
		r.Spatial = r.Spatial && len(ins[0].Shape) == 3 && slices.Equal(ins[0].Shape, n.Shape)
		if t, ok := o.(*nn.Transpose); ok && !slices.Equal(t.Perm, []int{0, 1, 2}) {
			r.Spatial = false
		}
		return r, nil
	case *nn.ScaleMax:
		return window(o.Kernel, o.Stride, nil, nil, 0), nil
	case *nn.Gabor:
		k := 1
		for _, s := range o.Sizes {
			k = max(k, s)
		}
		return window(nn.Dims{k}, nil, nn.Dims{k / 2}, nil, 1), nil
	case *nn.RBF:
		r = window(nn.Dims{o.Size}, nil, nil, nil, 1)
		r.Spatial = false // positions of all bands are flattened
		return r, nil
	case *nn.AdaptiveAvgPool:
		if len(ins[0].Shape) != 3 || len(n.Shape) != 3 {
			return global(), nil
		}
		for ax := 0; ax < 2; ax++ {
			h, o := ins[0].Shape[1+ax], n.Shape[1+ax]
			k := 0
			for i := 0; i < o; i++ {
				k = max(k, (i+1)*h/o+btoi((i+1)*h%o != 0)-i*h/o)
			}
			s := float64(h) / float64(o)
			r.Size[ax] = in.Size[ax] + float64(k-1)*in.Jump[ax]
			r.Jump[ax] = in.Jump[ax] * s
			r.Start[ax] = in.Start[ax] + float64(k-1)/2*in.Jump[ax]
		}
		return r, nil
	case *nn.Upsample:
		f := float64(max(o.Factor, 1))
		if o.Factor == 0 {
			f = 2
		}
		r = identity()
		r.Jump = [2]float64{in.Jump[0] / f, in.Jump[1] / f}
		return r, nil
	case *nn.Dense, *nn.GlobalAvgPool, nn.GlobalAvgPool, *nn.GlobalMax:
		return global(), nil
	case *nn.Flatten, nn.Flatten:
		r = identity()
		r.Spatial = false
		return r, nil
	case *nn.Activation, *nn.BatchNorm, *nn.GroupNorm, *nn.LRN, *nn.DivNorm, *nn.Dropout,
		*nn.Scale, *nn.SoftmaxOp, nn.SoftmaxOp, *nn.Energy, *nn.Add, nn.Add, *nn.Concat, nn.Concat,
		*nn.Binary, *nn.Clip, *nn.FakeQuant, *nn.ChannelAffine:
		return identity(), nil
	}
	// An op this walk does not know: accept it as elementwise when it keeps the spatial size.
	if len(ins) == 1 && len(ins[0].Shape) == 3 && len(n.Shape) == 3 && ins[0].Shape[1] == n.Shape[1] && ins[0].Shape[2] == n.Shape[2] {
		return identity(), nil
	}
	return r, fmt.Errorf("layer %q: op %q changes the spatial size and its receptive field is unknown", n.Name, op.Type())
}

// topLeft is a pooling op's top and left padding, from pad or asymmetric pads.
func topLeft(pad nn.Dims, pads []int) nn.Dims {
	if len(pads) == 4 {
		return nn.Dims{pads[0], pads[2]}
	}
	return pad
}

// union merges the fields of a node's inputs: the union of their windows for unit (0, 0),
// with the finest jump.
func union(ins []TheoreticalRF) TheoreticalRF {
	u := ins[0]
	for _, r := range ins[1:] {
		if r.Size[0] == 0 && r.Size[1] == 0 { // zeros from a recurrent input at step 0
			continue
		}
		if u.Size[0] == 0 && u.Size[1] == 0 {
			u = r
			continue
		}
		if r.Global {
			return r
		}
		for ax := 0; ax < 2; ax++ {
			lo := math.Min(u.Start[ax]-u.Size[ax]/2, r.Start[ax]-r.Size[ax]/2)
			hi := math.Max(u.Start[ax]+u.Size[ax]/2, r.Start[ax]+r.Size[ax]/2)
			u.Size[ax], u.Start[ax] = hi-lo, (hi+lo)/2
			u.Jump[ax] = math.Min(u.Jump[ax], r.Jump[ax])
		}
	}
	return u
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
