package imports

import (
	"fmt"

	"github.com/ventral-lab/ventral/formats/onnx"
)

// fold computes a node at import time: every input is a constant (or, for Shape, the input's
// shape is known), so the node's outputs become constants and no nn layer is added. This is
// how the Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains exporters emit disappear.
func (im *importer) fold(n *onnx.Node) error {
	c := func(i int) *cval {
		v, _ := im.in(n, i)
		if v == nil {
			return nil
		}
		return v.c
	}
	setC := func(x *cval) { im.set(n, 0, &val{c: x}) }
	wrap := func(err error) error {
		if err != nil {
			return im.errorf("%v", err)
		}
		return nil
	}
	// The inputs each folded operator needs (optional ones may be absent).
	need := map[string]int{"Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Gather": 2, "DequantizeLinear": 2, "Concat": 1,
		"Identity": 1, "Dropout": 1, "Cast": 1, "Unsqueeze": 1, "Squeeze": 1, "Reshape": 1, "Flatten": 1,
		"Transpose": 1, "ConstantOfShape": 1, "Slice": 1}[n.OpType]
	if n.OpType == "Slice" && im.opset >= 10 {
		need = 3
	}
	for i := 0; i < need; i++ {
		if c(i) == nil {
			return im.errorf("missing input %d", i)
		}
	}
	switch n.OpType {
	case "Shape":
		v, err := im.mustIn(n, 0)
		if err != nil {
			return err
		}
		shape := v.shape
		if v.c != nil {
			shape = v.c.shape
		}
		r := len(shape)
		start, end := attrInt(n, "start", 0), attrInt(n, "end", r)
		if start < 0 {
			start += r
		}
		if end < 0 {
			end += r
		}
		start, end = clampInt(start, 0, r), clampInt(end, 0, r)
		out := &cval{shape: []int{max(0, end-start)}, dtype: onnx.Int64}
		for _, d := range shape[start:max(start, end)] {
			out.data = append(out.data, float64(d))
		}
		setC(out)
	case "Constant":
		a := n.Attrs
		if len(a) != 1 {
			return im.errorf("Constant needs exactly one value attribute, has %d", len(a))
		}
		switch a[0].Name {
		case "value":
			if a[0].T == nil {
				return im.errorf("Constant value attribute holds no tensor")
			}
			x, err := tensorToConst(a[0].T)
			if err != nil {
				return im.errorf("%v", err)
			}
			setC(x)
		case "value_float":
			setC(&cval{shape: []int{}, data: []float64{float64(a[0].F)}, dtype: onnx.Float})
		case "value_floats":
			x := &cval{shape: []int{len(a[0].Floats)}, dtype: onnx.Float}
			for _, f := range a[0].Floats {
				x.data = append(x.v(), float64(f))
			}
			setC(x)
		case "value_int":
			setC(&cval{shape: []int{}, data: []float64{float64(a[0].I)}, dtype: onnx.Int64})
		case "value_ints":
			x := &cval{shape: []int{len(a[0].Ints)}, dtype: onnx.Int64}
			for _, f := range a[0].Ints {
				x.data = append(x.v(), float64(f))
			}
			setC(x)
		default:
			return im.unsupported(fmt.Sprintf("Constant attribute %q", a[0].Name))
		}
	case "Identity", "Dropout":
		setC(c(0))
	case "Cast":
		setC(castConst(c(0), onnx.DataType(attrInt(n, "to", int(onnx.Float)))))
	case "Add", "Sub", "Mul", "Div":
		x, err := foldBinary(n.OpType, c(0), c(1))
		if err != nil {
			return wrap(err)
		}
		setC(x)
	case "Gather":
		x, err := foldGather(c(0), c(1), attrInt(n, "axis", 0))
		if err != nil {
			return wrap(err)
		}
		setC(x)
	case "Concat":
		var cs []*cval
		for i := range n.Inputs {
			cs = append(cs, c(i))
		}
		x, err := foldConcat(cs, attrInt(n, "axis", 1))
		if err != nil {
			return wrap(err)
		}
		setC(x)
	case "Unsqueeze", "Squeeze":
		x := c(0)
		axes := attrInts(n, "axes")
		if im.opset >= 13 {
			if a := c(1); a != nil {
				axes = a.ints()
			}
		}
		shape, err := squeezeShape(n.OpType, x.shape, axes)
		if err != nil {
			return wrap(err)
		}
		setC(&cval{shape: shape, data: x.v(), dtype: x.dtype})
	case "Reshape", "Flatten":
		x := c(0)
		var shape []int
		var err error
		if n.OpType == "Flatten" {
			ax, e := normAxis(attrInt(n, "axis", 1), len(x.shape)+1)
			if e != nil {
				return wrap(e)
			}
			shape = []int{numel(x.shape[:ax]), numel(x.shape[ax:])}
		} else {
			target, e := im.reshapeShape(n)
			if e != nil {
				return e
			}
			shape, err = reshapeTarget(x.shape, target, attrInt(n, "allowzero", 0) != 0)
		}
		if err != nil {
			return wrap(err)
		}
		setC(&cval{shape: shape, data: x.v(), dtype: x.dtype})
	case "Transpose":
		x := c(0)
		perm := attrInts(n, "perm")
		if perm == nil {
			for i := len(x.shape) - 1; i >= 0; i-- {
				perm = append(perm, i)
			}
		}
		y, err := foldTranspose(x, perm)
		if err != nil {
			return wrap(err)
		}
		setC(y)
	case "Slice":
		x := c(0)
		var starts, ends, axes, steps []int
		if im.opset < 10 {
			starts, ends, axes = attrInts(n, "starts"), attrInts(n, "ends"), attrInts(n, "axes")
		} else {
			starts, ends = c(1).ints(), c(2).ints()
			if a := c(3); a != nil {
				axes = a.ints()
			}
			if s := c(4); s != nil {
				steps = s.ints()
			}
		}
		for i := range ends {
			// INT64_MAX and INT64_MIN mean "to the end", "before the start".
			if ends[i] > 1<<40 {
				ends[i] = 1 << 40
			} else if ends[i] < -(1 << 40) {
				ends[i] = -(1 << 40)
			}
		}
		for i := range starts {
			starts[i] = clampInt(starts[i], -(1 << 40), 1<<40)
		}
		if len(ends) != len(starts) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
			return im.errorf("Slice starts, ends, axes and steps differ in length")
		}
		y, err := foldSlice(x, starts, ends, axes, steps)
		if err != nil {
			return wrap(err)
		}
		setC(y)
	case "ConstantOfShape":
		shape := c(0).ints()
		for _, d := range shape {
			if d < 0 || d > 1<<24 {
				return im.errorf("ConstantOfShape of shape %v", shape)
			}
		}
		y := &cval{shape: shape, data: make([]float64, numel(shape)), dtype: onnx.Float}
		if a := n.Attr("value"); a != nil && a.T != nil {
			v, err := tensorToConst(a.T)
			if err != nil || len(v.v()) != 1 {
				return im.errorf("ConstantOfShape value must be a one-element tensor")
			}
			y.dtype = v.dtype
			for i := range y.data {
				y.data[i] = v.v()[0]
			}
		}
		setC(y)
	case "DequantizeLinear":
		x, s := c(0), c(1)
		z := c(2)
		y, err := dequantConst(x, s, z, attrInt(n, "axis", 1))
		if err != nil {
			return wrap(err)
		}
		setC(y)
	default:
		return im.errorf("internal: no folding for %s", n.OpType)
	}
	return nil
}

func squeezeShape(op string, shape, axes []int) ([]int, error) {
	if op == "Unsqueeze" {
		r := len(shape) + len(axes)
		ins := map[int]bool{}
		for _, a := range axes {
			na, err := normAxis(a, r)
			if err != nil {
				return nil, err
			}
			ins[na] = true
		}
		out := make([]int, 0, r)
		k := 0
		for i := 0; i < r; i++ {
			if ins[i] {
				out = append(out, 1)
			} else {
				if k >= len(shape) {
					return nil, fmt.Errorf("unsqueeze axes %v repeat", axes)
				}
				out = append(out, shape[k])
				k++
			}
		}
		return out, nil
	}
	drop := map[int]bool{}
	for _, a := range axes {
		na, err := normAxis(a, len(shape))
		if err != nil {
			return nil, err
		}
		if shape[na] != 1 {
			return nil, fmt.Errorf("squeeze axis %d has size %d", a, shape[na])
		}
		drop[na] = true
	}
	var out []int
	for i, d := range shape {
		if (len(axes) == 0 && d == 1) || drop[i] {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// dequantConst is DequantizeLinear on a constant: (x - zero) * scale, per tensor or per
// channel along axis.
func dequantConst(x, scale, zero *cval, axis int) (*cval, error) {
	if nz := numelOrZero(zero); scale.numel() == 0 || (zero != nil && nz != scale.numel()) {
		return nil, fmt.Errorf("%d scales with %d zero points", scale.numel(), nz)
	}
	y := &cval{shape: x.shape, data: make([]float64, len(x.v())), dtype: onnx.Float}
	if x.dtype == onnx.Int32 && zero != nil {
		for _, z := range zero.v() {
			if z != 0 {
				return nil, fmt.Errorf("int32 dequantization with a non-zero zero point")
			}
		}
	}
	if scale.numel() == 1 {
		z := 0.0
		if zero != nil {
			z = zero.v()[0]
		}
		for i, v := range x.v() {
			y.data[i] = float64(float32((v - z) * scale.v()[0]))
		}
		return y, nil
	}
	ax, err := normAxis(axis, len(x.shape))
	if err != nil {
		return nil, err
	}
	if scale.numel() != x.shape[ax] || (zero != nil && zero.numel() != scale.numel()) {
		return nil, fmt.Errorf("per-axis scale of %d values for axis %d of shape %v", scale.numel(), ax, x.shape)
	}
	inner := numel(x.shape[ax+1:])
	d := x.shape[ax]
	for i, v := range x.v() {
		ch := (i / inner) % d
		z := 0.0
		if zero != nil {
			z = zero.v()[ch]
		}
		y.data[i] = float64(float32((v - z) * scale.v()[ch]))
	}
	return y, nil
}

// reshapeShape reads Reshape's target shape (an attribute before opset 5, an input after).
func (im *importer) reshapeShape(n *onnx.Node) ([]int, error) {
	if im.opset < 5 {
		if s := attrInts(n, "shape"); s != nil {
			return s, nil
		}
	}
	c, err := im.constIn(n, 1, "Reshape's shape")
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, im.errorf("Reshape has no shape input")
	}
	return c.ints(), nil
}

func numelOrZero(c *cval) int {
	if c == nil {
		return 0
	}
	return c.numel()
}
