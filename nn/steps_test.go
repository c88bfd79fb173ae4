package nn_test

import (
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

func TestStepLayers(t *testing.T) {
	for _, c := range []struct {
		name, node string
		step       int
		ok         bool
	}{
		{"V4@t2", "V4", 2, true}, {"V4", "V4", 0, false}, {"V4@t", "V4@t", 0, false}, {"V4@t-1", "V4@t-1", 0, false},
		{"V4@t02", "V4@t02", 0, false}, {"@t1", "@t1", 0, false}, {"a@prev", "a@prev", 0, false}, {"x@t10", "x", 10, true},
	} {
		n, k, ok := nn.SplitStepLayer(c.name)
		if n != c.node || k != c.step || ok != c.ok {
			t.Errorf("SplitStepLayer(%q) = %q, %d, %v; want %q, %d, %v", c.name, n, k, ok, c.node, c.step, c.ok)
		}
	}
	g := recurrentGraph() // 3 steps
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(g.StepLayers("h"), ","); got != "h@t0,h@t1,h@t2" {
		t.Errorf("StepLayers = %s", got)
	}
	x := tensor.New(2, 4)
	for i := range x.Data {
		x.Data[i] = float32(i%5) - 2
	}
	tr, err := g.Forward(nil, x, nn.KeepNodes([]string{"h@t0", "h@t2", "h"})...)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		got, want := tr.Layer(nn.StepLayer("h", k)), tr.OutAt("h", k)
		if got == nil || got != want {
			t.Errorf("h@t%d is not step %d's output", k, k)
		}
	}
	if tr.Layer("h") != tr.OutAt("h", 2) || tr.Layer("h@t0").Data[0] == tr.Layer("h@t2").Data[0] {
		t.Error("the plain name must be the last step, and the steps must differ")
	}
	if n, k, err := g.ResolveLayer("h"); err != nil || n.Name != "h" || k != 2 {
		t.Errorf("ResolveLayer(h) = %v, %d, %v", n, k, err)
	}
	for _, bad := range []string{"h@t3", "nosuch@t0", "nosuch"} {
		if _, _, err := g.ResolveLayer(bad); err == nil {
			t.Errorf("ResolveLayer(%q) succeeded", bad)
		}
	}
	if got := strings.Join(nn.KeepNodes([]string{"h@t0", "h@t2", "out", "h"}), ","); got != "h,out" {
		t.Errorf("KeepNodes = %s", got)
	}
}
