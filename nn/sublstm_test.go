package nn_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/peers"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

// Every coordinate of every parameter and of the input (Samples exceeds each tensor's size),
// through 4 steps of backpropagation through time, for each cell and both output modes.
func TestGradRecurrentCells(t *testing.T) {
	cells := map[string]func() *nn.LSTM{
		"lstm":        func() *nn.LSTM { return nn.NewLSTM(5) },
		"sublstm":     func() *nn.LSTM { return nn.NewSubLSTM(5) },
		"fix-sublstm": func() *nn.LSTM { l := nn.NewSubLSTM(5); l.FixedForget = true; return l },
	}
	for name, mk := range cells {
		for _, seq := range []bool{false, true} {
			l := mk()
			l.Sequence = seq
			t.Run(name, func(t *testing.T) {
				nntest.CheckOp(t, l, [][]int{{4, 3}}, nntest.Opts{Batch: 3, Samples: 1000, Eps: 1e-2, RTol: 1e-2, ATol: 1e-3})
			})
		}
	}
}

// The recurrence must carry information: the last output depends on the first input step, and
// a graph with the layer between a reshape and a readout is a valid spec that round-trips.
func TestRecurrentCellSpec(t *testing.T) {
	spec := `
name: seq
input: [1, 6, 4]
layers:
  - {name: rows, type: reshape, shape: [6, 4]}
  - {name: rnn, type: sublstm, hidden: 8, fixed_forget: true, sequence: true}
  - {name: rnn2, type: lstm, hidden: 7}
  - {name: fc, type: dense, out: 3}
`
	g, err := nn.ParseSpec([]byte(spec), "seq.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	if s := g.Node("rnn").Shape; len(s) != 2 || s[0] != 6 || s[1] != 8 {
		t.Fatalf("rnn shape %v, want [6 8]", s)
	}
	js, err := g.SpecJSON()
	if err != nil {
		t.Fatal(err)
	}
	g2, err := nn.ParseSpec(js, "round.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := g2.Build(1); err != nil {
		t.Fatal(err)
	}
	js2, _ := g2.SpecJSON()
	if !bytes.Equal(js, js2) || !strings.Contains(string(js), `"fixed_forget": true`) || !strings.Contains(string(js), `"type": "sublstm"`) {
		t.Fatalf("spec does not round-trip:\n%s\n%s", js, js2)
	}
	x := tensor.New(2, 1, 6, 4)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)))
	}
	tr, err := g.Forward(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	y0 := tr.Output().Clone()
	x.Data[0] += 1 // first step of sample 0 only
	tr, _ = g.Forward(nil, x)
	y1 := tr.Output()
	if y0.Data[0] == y1.Data[0] || y0.Data[3] != y1.Data[3] {
		t.Fatalf("outputs %v -> %v: sample 0 must change and sample 1 must not", y0.Data, y1.Data)
	}
	for _, bad := range []string{
		`{name: b, input: [6, 4], layers: [{name: r, type: sublstm}]}`,
		`{name: b, input: [1, 6, 4], layers: [{name: r, type: lstm, hidden: 3}]}`,
		`{name: b, input: [6, 4], layers: [{name: r, type: lstm, hidden: 3, fixed_forget: true}]}`,
	} {
		g, err := nn.ParseSpec([]byte(bad), "bad.yaml")
		if err == nil {
			err = g.Build(1)
		}
		if err == nil || !strings.Contains(err.Error(), `layer "r"`) {
			t.Errorf("%s: err = %v, want an error naming the layer", bad, err)
		}
	}
}

// Outputs and all gradients against PyTorch: nn.LSTM for the LSTM (the same weight layout;
// its two biases carry ventral's one), and autograd through the paper's equations written in
// torch for the two subLSTMs.
func TestRecurrentCellsAgainstTorch(t *testing.T) {
	py := peers.Python(t, "torch")
	const N, T, F, H = 3, 5, 4, 6
	type result struct {
		Y, DX, DW, DR, DB, DF []float64
	}
	type run struct {
		variant string
		l       *nn.LSTM
		y, dx   *tensor.Tensor
	}
	var runs []run
	var ins []map[string]any
	for _, variant := range []string{"lstm", "sublstm", "fix-sublstm"} {
		l := nn.NewLSTM(H)
		if variant != "lstm" {
			l = nn.NewSubLSTM(H)
			l.FixedForget = variant == "fix-sublstm"
		}
		if _, err := l.Build([][]int{{T, F}}, rand.New(rand.NewPCG(11, 1))); err != nil {
			t.Fatal(err)
		}
		x := tensor.New(N, T, F)
		dy := tensor.New(N, H)
		for i := range x.Data {
			x.Data[i] = float32(math.Sin(1.3*float64(i)) * 1.5)
		}
		for i := range dy.Data {
			dy.Data[i] = float32(math.Cos(0.7 * float64(i)))
		}
		ctx := nn.NewCtx(true, 1)
		y, cache := l.Forward(ctx, []*tensor.Tensor{x})
		dx := l.Backward(ctx, cache, []*tensor.Tensor{x}, y, dy, []bool{true})[0]
		ps := l.Params()
		in := map[string]any{"variant": variant, "N": N, "T": T, "F": F, "H": H,
			"x": x.Data, "dy": dy.Data, "W": ps[0].Value.Data, "R": ps[1].Value.Data, "b": ps[2].Value.Data}
		if len(ps) == 4 {
			in["f"] = ps[3].Value.Data
		}
		runs = append(runs, run{variant, l, y, dx})
		ins = append(ins, in)
	}
	// One python process for all three (importing torch dominates the test's time).
	js, _ := json.Marshal(ins)
	cmd := exec.Command(py, "-c", torchRecurrent)
	cmd.Stdin = bytes.NewReader(js)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("torch: %v\n%s", err, out)
	}
	var wants []result
	if err := json.Unmarshal(out, &wants); err != nil || len(wants) != len(runs) {
		t.Fatalf("%v: %s", err, out)
	}
	for k, r := range runs {
		want, ps := wants[k], r.l.Params()
		check := func(what string, got []float32, w []float64) {
			if len(got) != len(w) {
				t.Fatalf("%s %s: %d values, torch %d", r.variant, what, len(got), len(w))
			}
			for i := range w {
				if math.Abs(float64(got[i])-w[i]) > 1e-5+1e-4*math.Abs(w[i]) {
					t.Fatalf("%s %s[%d] = %v, torch %v", r.variant, what, i, got[i], w[i])
				}
			}
		}
		check("output", r.y.Data, want.Y)
		check("input grad", r.dx.Data, want.DX)
		check("weight_ih grad", ps[0].Grad.Data, want.DW)
		check("weight_hh grad", ps[1].Grad.Data, want.DR)
		check("bias grad", ps[2].Grad.Data, want.DB)
		if len(ps) == 4 {
			check("forget grad", ps[3].Grad.Data, want.DF)
		}
	}
}

const torchRecurrent = `
import json, sys, torch

def run(d):
  N, T, F, H, v = d["N"], d["T"], d["F"], d["H"], d["variant"]
  t64 = lambda k, *s: torch.tensor(d[k], dtype=torch.float64).reshape(*s).requires_grad_()
  x = t64("x", N, T, F)
  G = 3 if v == "fix-sublstm" else 4
  W, R, b = t64("W", G*H, F), t64("R", G*H, H), t64("b", G*H)
  f = t64("f", H) if v == "fix-sublstm" else None
  if v == "lstm":
      m = torch.nn.LSTM(F, H, batch_first=True).double()
      with torch.no_grad():
          m.weight_ih_l0.copy_(W); m.weight_hh_l0.copy_(R); m.bias_ih_l0.copy_(b); m.bias_hh_l0.zero_()
      out, _ = m(x)
      y = out[:, -1]
  else:
      h = torch.zeros(N, H, dtype=torch.float64); c = torch.zeros(N, H, dtype=torch.float64)
      for t in range(T):
          a = torch.sigmoid(x[:, t] @ W.T + h @ R.T + b)
          if v == "sublstm":
              i, fg, z, o = a.chunk(4, 1)
          else:
              i, z, o = a.chunk(3, 1)
              fg = f.clamp(0, 1)
          c = fg * c + z - i
          h = torch.sigmoid(c) - o
      y = h
  dy = torch.tensor(d["dy"], dtype=torch.float64).reshape(N, H)
  (y * dy).sum().backward()
  if v == "lstm":
      gW, gR, gb = m.weight_ih_l0.grad, m.weight_hh_l0.grad, m.bias_ih_l0.grad
  else:
      gW, gR, gb = W.grad, R.grad, b.grad
  r = {"Y": y.flatten().tolist(), "DX": x.grad.flatten().tolist(), "DW": gW.flatten().tolist(),
       "DR": gR.flatten().tolist(), "DB": gb.flatten().tolist()}
  if f is not None:
      r["DF"] = f.grad.flatten().tolist()
  return r

print(json.dumps([run(d) for d in json.load(sys.stdin)]))
`
