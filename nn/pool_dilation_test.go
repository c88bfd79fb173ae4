package nn_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/peers"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

const torchDilatedPool = `
import json, sys, torch
out = []
for a in json.load(sys.stdin):
    x = torch.tensor(a["x"], dtype=torch.float64).reshape(a["shape"]).requires_grad_()
    y = torch.nn.functional.max_pool2d(x, a["k"], stride=a["s"], padding=a["p"], dilation=a["d"], ceil_mode=a["ceil"])
    y.backward(torch.tensor(a["dy"], dtype=torch.float64).reshape(y.shape))
    out.append({"shape": list(y.shape), "y": y.detach().flatten().tolist(), "dx": x.grad.flatten().tolist()})
print(json.dumps(out))
`

// Dilated max pooling (ONNX MaxPool dilations) against PyTorch's max_pool2d: outputs, output
// sizes (ceil mode included) and input gradients, in training and inference mode.
func TestDilatedMaxPoolAgainstTorch(t *testing.T) {
	py := peers.Python(t, "torch")
	type pcase struct {
		k, s, p, d []int
		ceil       bool
		h, w       int
	}
	cases := []pcase{
		{[]int{2, 2}, []int{1, 1}, []int{0, 0}, []int{2, 2}, false, 5, 5},
		{[]int{3, 2}, []int{2, 1}, []int{1, 1}, []int{2, 3}, false, 9, 8},
		{[]int{3, 3}, []int{2, 2}, []int{1, 0}, []int{2, 2}, true, 8, 7},
	}
	var ops []*nn.MaxPool2D
	var xs, dys []*tensor.Tensor
	var req []map[string]any
	for _, c := range cases {
		op := &nn.MaxPool2D{Kernel: nn.Dims(c.k), Stride: nn.Dims(c.s), Pad: nn.Dims(c.p), Dilation: nn.Dims(c.d), CeilMode: c.ceil}
		shape, err := op.Build([][]int{{2, c.h, c.w}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.New(2, 2, c.h, c.w)
		for i := range x.Data {
			x.Data[i] = float32(math.Sin(1.7*float64(i)+0.3) * 2) // no ties
		}
		dy := tensor.New(append([]int{2}, shape...)...)
		for i := range dy.Data {
			dy.Data[i] = float32(math.Cos(0.9 * float64(i)))
		}
		ops, xs, dys = append(ops, op), append(xs, x), append(dys, dy)
		req = append(req, map[string]any{"x": x.Data, "shape": x.Shape, "dy": dy.Data, "k": c.k, "s": c.s, "p": c.p, "d": c.d, "ceil": c.ceil})
	}
	js, _ := json.Marshal(req)
	cmd := exec.Command(py, "-c", torchDilatedPool)
	cmd.Stdin = bytes.NewReader(js)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("torch: %v\n%s", err, out)
	}
	var wants []struct {
		Shape []int
		Y, DX []float64
	}
	if err := json.Unmarshal(out, &wants); err != nil || len(wants) != len(cases) {
		t.Fatalf("%v: %s", err, out)
	}
	for ci, c := range cases {
		op, x, dy, want := ops[ci], xs[ci], dys[ci], wants[ci]
		if want.Shape[2] != dy.Shape[2] || want.Shape[3] != dy.Shape[3] {
			t.Fatalf("%+v: output %v, torch %v", c, dy.Shape, want.Shape)
		}
		for _, train := range []bool{true, false} {
			ctx := nn.NewCtx(train, 1)
			y, cache := op.Forward(ctx, []*tensor.Tensor{x})
			dx := op.Backward(ctx, cache, []*tensor.Tensor{x}, y, dy, []bool{true})[0]
			for i, v := range want.Y {
				if math.Abs(float64(y.Data[i])-v) > 1e-6 {
					t.Fatalf("%+v train=%v: y[%d] = %v, torch %v", c, train, i, y.Data[i], v)
				}
			}
			for i, v := range want.DX {
				if math.Abs(float64(dx.Data[i])-v) > 1e-5 {
					t.Fatalf("%+v train=%v: dx[%d] = %v, torch %v", c, train, i, dx.Data[i], v)
				}
			}
		}
	}
	nntest.CheckOp(t, &nn.MaxPool2D{Kernel: nn.Dims{2}, Stride: nn.Dims{1}, Dilation: nn.Dims{2}}, [][]int{{2, 5, 6}}, nntest.Opts{Kinky: true})
	// A window with every tap in the padding is refused rather than pooled to -inf.
	bad := &nn.MaxPool2D{Kernel: nn.Dims{2}, Stride: nn.Dims{1}, Pad: nn.Dims{1}, Dilation: nn.Dims{3}}
	if _, err := bad.Build([][]int{{1, 2, 2}}, nil); err == nil || !strings.Contains(err.Error(), "every tap") {
		t.Error("a dilated window entirely in the padding was accepted")
	}
}
