package nn

import (
	"fmt"
	"math"

	"github.com/ventral-lab/ventral/internal/sysinfo"
)

// Size limits checked by Graph.Build before any parameter is allocated, so that a typo in a
// spec (out: 100000000000) is an error naming the layer instead of a makeslice panic or an
// attempt to allocate hundreds of GB. They are variables so a program meant for a larger
// machine can raise them.
var (
	// MaxParamBytes bounds the float32 parameter values of a whole model (their gradients and
	// optimizer state come on top).
	MaxParamBytes = float64(64 << 30)
	// MaxActivationBytes bounds one layer's output for one image (a batch multiplies it).
	MaxActivationBytes = float64(16 << 30)
	// MaxSteps bounds Graph.Steps: every step of an unrolled graph keeps its activations.
	MaxSteps = 10000
	// machineMemory is the physical memory: parameters and their gradients (8 bytes per
	// parameter) beyond it cannot be held at all. 0 when unknown.
	machineMemory = sysinfo.TotalMemoryBytes()
)

// paramSizer is implemented by ops whose parameter count follows from their fields and input
// shapes; it must not allocate. ParamElems returns the number of float32 parameter values the
// op's Build would allocate (math.Inf(1) when that count is beyond int64), or ok=false when the
// inputs are invalid (Build then reports why).
type paramSizer interface {
	paramElems(in [][]int) (n float64, ok bool)
}

// elems multiplies sizes in float64, which cannot overflow where int would wrap.
func elems(dims ...int) float64 {
	n := 1.0
	for _, d := range dims {
		n *= float64(d)
	}
	return n
}

func bias(none bool, n int) float64 {
	if none {
		return 0
	}
	return float64(n)
}

func (d *Dense) paramElems(in [][]int) (float64, bool) {
	if len(in) != 1 || d.Out <= 0 {
		return 0, false
	}
	return elems(d.Out)*elems(in[0]...) + bias(d.NoBias, d.Out), true
}

func (cv *Conv2D) paramElems(in [][]int) (float64, bool) {
	var g convGeom
	if len(in) != 1 || cv.Out <= 0 || g.setup("conv2d", in[0], cv.Kernel, cv.Stride, cv.Pad, cv.Dilation) != nil {
		return 0, false
	}
	gr := cv.groups()
	if gr <= 0 || g.c%gr != 0 {
		return 0, false
	}
	return elems(cv.Out, g.c/gr, g.kh, g.kw) + bias(cv.NoBias, cv.Out), true
}

func (l *Local2D) paramElems(in [][]int) (float64, bool) {
	var g convGeom
	if len(in) != 1 || l.Out <= 0 || g.setup("local2d", in[0], l.Kernel, l.Stride, l.Pad, l.Dilation) != nil {
		return 0, false
	}
	return elems(g.oh, g.ow, l.Out, g.c, g.kh, g.kw) + bias(l.NoBias, l.Out*g.oh*g.ow), true
}

func (ct *ConvTranspose2D) paramElems(in [][]int) (float64, bool) {
	if len(in) != 1 || len(in[0]) != 3 || ct.Out <= 0 {
		return 0, false
	}
	g, err := ct.shape(in[0])
	if err != nil {
		return 0, false
	}
	return elems(in[0][0], ct.Out, g.kh, g.kw) + bias(ct.NoBias, ct.Out), true
}

func (dn *DivNorm) paramElems(in [][]int) (float64, bool) {
	if len(in) != 1 || len(in[0]) < 1 {
		return 0, false
	}
	return elems(in[0][0], in[0][0]) + float64(in[0][0]), true
}

func (c *Constant) paramElems([][]int) (float64, bool) {
	if len(c.Shape) == 0 {
		return 0, false
	}
	return elems(c.Shape...), true
}

// bytesText writes a byte count for an error message.
func bytesText(b float64) string {
	switch {
	case math.IsInf(b, 0) || b >= 1<<60:
		return fmt.Sprintf("%.3g bytes", b)
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	default:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	}
}

// checkSteps validates Graph.Steps.
func (g *Graph) checkSteps() error {
	if g.Steps < 0 || g.Steps > MaxSteps {
		return fmt.Errorf("model %q: steps %d: expected 0 or 1 (no unrolling) up to %d time steps", g.Name, g.Steps, MaxSteps)
	}
	return nil
}

// sizeBudget accumulates a graph's parameter estimate while Build visits its layers.
type sizeBudget struct {
	g      *Graph
	params float64 // float32 values so far
}

// checkInput refuses an input shape whose single image is beyond MaxActivationBytes.
func (b *sizeBudget) checkInput() error {
	if by := 4 * elems(b.g.InputShape...); by > MaxActivationBytes {
		return fmt.Errorf("model %q: input shape %v is %s per image (limit %s)", b.g.Name, b.g.InputShape, bytesText(by), bytesText(MaxActivationBytes))
	}
	return nil
}

// beforeBuild is called with a layer's input shapes before its Build allocates: it refuses a
// layer whose parameters would take the model beyond MaxParamBytes.
func (b *sizeBudget) beforeBuild(n *Node, in [][]int) error {
	ps, ok := n.Op.(paramSizer)
	if !ok {
		return nil
	}
	k, ok := ps.paramElems(in)
	if !ok {
		return nil
	}
	if by := 4 * (b.params + k); by > MaxParamBytes {
		return fmt.Errorf("model %q: layer %q (%s): %.4g parameters (%s) take the model to %s of parameters, more than the %s limit (input %v)",
			b.g.Name, n.Name, n.Op.Type(), k, bytesText(4*k), bytesText(by), bytesText(MaxParamBytes), in)
	}
	if by := 8 * (b.params + k); machineMemory > 0 && by > machineMemory {
		return fmt.Errorf("model %q: layer %q (%s): %.4g parameters take the model's parameters and gradients to %s, more than this machine's %s of memory (limit %s)",
			b.g.Name, n.Name, n.Op.Type(), k, bytesText(by), bytesText(machineMemory), bytesText(machineMemory))
	}
	b.params += k
	return nil
}

// afterBuild refuses a layer whose output for one image is beyond MaxActivationBytes, before
// any later layer sizes itself from it or a forward pass allocates it.
func (b *sizeBudget) afterBuild(n *Node, out []int) error {
	if by := 4 * elems(out...); by > MaxActivationBytes {
		return fmt.Errorf("model %q: layer %q (%s): output %v is %s per image, more than the %s limit",
			b.g.Name, n.Name, n.Op.Type(), out, bytesText(by), bytesText(MaxActivationBytes))
	}
	return nil
}
