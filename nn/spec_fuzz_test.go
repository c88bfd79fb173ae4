package nn_test

import (
	"testing"

	"github.com/ventral-lab/ventral/nn"
)

// FuzzParseSpec: any bytes either fail with an error or give a graph whose JSON spec parses back
// to the same JSON; the parser never panics.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte("name: x\ninput: [1, 8, 8]\nlayers:\n  - {name: c, type: conv2d, out: 2, kernel: 3}\n  - {name: r, type: relu}\n"))
	f.Add([]byte(`{"name":"m","input":[4],"steps":2,"layers":[{"name":"a","type":"dense","out":3},{"name":"b","type":"add","inputs":["a","a@prev"]}]}`))
	f.Add([]byte("layers: [{name: a, type: maxpool2d, kernel: [2, 3]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := nn.ParseSpec(data, "fuzz.yaml")
		if err != nil {
			return
		}
		js, err := g.SpecJSON()
		if err != nil {
			return
		}
		g2, err := nn.ParseSpec(js, "fuzz.json")
		if err != nil {
			t.Fatalf("spec written by SpecJSON does not parse: %v\n%s", err, js)
		}
		js2, err := g2.SpecJSON()
		if err != nil || string(js2) != string(js) {
			t.Fatalf("round trip changed the spec:\n%s\n%s", js, js2)
		}
	})
}
