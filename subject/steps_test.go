package subject_test

import (
	"testing"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/subject"
)

// The recurrent zoo models expose every node at every time step as recordable (not default)
// layers at the node's depth; a feed-forward model adds none.
func TestRecurrentZooStepLayers(t *testing.T) {
	for _, c := range []struct {
		model, layer string
		steps        int
	}{{"cornet-rt", "IT", 5}, {"blt-blt", "l2", 4}} {
		g, err := models.Build(c.model, models.Options{Classes: 10, InputSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(1); err != nil {
			t.Fatal(err)
		}
		m := subject.FromGraph(g)
		ls, err := m.Layers()
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]subject.Layer{}
		for _, l := range ls {
			byName[l.Name] = l
		}
		if len(ls) != len(g.Nodes)*(1+c.steps) {
			t.Errorf("%s: %d layers, want %d nodes x (1 + %d steps)", c.model, len(ls), len(g.Nodes), c.steps)
		}
		for k := 0; k < c.steps; k++ {
			l, ok := byName[g.StepLayers(c.layer)[k]]
			if !ok || l.Default || l.Depth != byName[c.layer].Depth {
				t.Errorf("%s: step layer %d of %s: %+v (present %v)", c.model, k, c.layer, l, ok)
			}
		}
		if _, ok := byName[c.layer+"@t"+string(rune('0'+c.steps))]; ok {
			t.Errorf("%s: a step beyond the model is listed", c.model)
		}
		n1, err1 := m.LayerSize(c.layer)
		n2, err2 := m.LayerSize(c.layer + "@t1")
		if err1 != nil || err2 != nil || n1 != n2 || n1 == 0 {
			t.Errorf("%s: LayerSize %d (%v), at step 1 %d (%v)", c.model, n1, err1, n2, err2)
		}
		def, _ := subject.DefaultLayers(m)
		for _, d := range def {
			if byName[d].Name != d || len(d) > 2 && d[len(d)-3:len(d)-1] == "@t" {
				t.Errorf("%s: step layer %s is a default layer", c.model, d)
			}
		}
	}
	g, _ := models.Get("lenet5")
	g.Build(1)
	ls, _ := subject.FromGraph(g).Layers()
	if len(ls) != len(g.Nodes) {
		t.Errorf("lenet5: %d layers for %d nodes", len(ls), len(g.Nodes))
	}
}
