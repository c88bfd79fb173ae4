package benchmarks

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/subject"
)

// The human IT noise ceiling's unit is the subject: each subject's two session RDMs are
// averaged, and the Nili et al. (2014) bounds are taken over the 4 subject RDMs (the lower bound
// leaves a whole subject out). Both the subject bounds and the 8-session variant (unit: session)
// are checked against numpy/scipy reading the same .mat file.
func TestHumanITCeilingBySubject(t *testing.T) {
	useMirror(t, k92...)
	b, err := Load("kriegeskorte92-humanIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	if b.Ceiling.Unit != "subject" || b.Version != 2 {
		t.Fatalf("spec: unit %q version %d", b.Ceiling.Unit, b.Version)
	}
	g := subject.FromGraph(tinyModel(t))
	opts := Options{Seed: 1, Bootstrap: -1, Layers: []string{"relu1", "fc"}}
	bySubject, err := Score(g, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	bs := *b
	bs.Ceiling.Unit = "session"
	bySession, err := Score(g, &bs, opts)
	if err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys, numpy as np, scipy.io as sio
from scipy.stats import spearmanr
R = sio.loadmat(sys.argv[1])["RDMs"]          # struct array 1 x 4 subjects x 2 sessions
iu = np.triu_indices(92, 1)
sess = [[R[0, s, e]["RDM"][iu] for e in range(2)] for s in range(4)]
def bounds(units):
    units = np.array(units)
    n = len(units)
    up = np.mean([spearmanr(u, units.mean(0))[0] for u in units])
    lo = np.mean([spearmanr(units[k], np.delete(units, k, 0).mean(0))[0] for k in range(n)])
    return [lo, up]
subj = [np.mean(s, axis=0) for s in sess]
print(json.dumps({"subject": bounds(subj), "session": bounds([r for s in sess for r in s])}))
`
	var want map[string][2]float64
	runPython(t, t.TempDir(), script, &want, mirror.Path(t, k92[1]))
	for _, c := range []struct {
		unit  string
		n     int
		r     *Result
		bound [2]float64
	}{{"subject", 4, bySubject, want["subject"]}, {"session", 8, bySession, want["session"]}} {
		got := c.r.Ceiling
		t.Logf("unit %s: lower %.6f upper %.6f (python %.6f %.6f)", c.unit, got.Lower, got.Upper, c.bound[0], c.bound[1])
		if got.Unit != c.unit || got.Units != c.n {
			t.Errorf("unit %s: result says %d %ss", c.unit, got.Units, got.Unit)
		}
		// 1e-6: the means of RDMs are summed in another order in numpy, which can turn exact
		// ties among the 4,186 pairs into near-ties and move a rank by one half (about 1e-7 in
		// Spearman's rho); the unit changes the bounds by more than 0.05.
		if math.Abs(got.Lower-c.bound[0]) > 1e-6 || math.Abs(got.Upper-c.bound[1]) > 1e-6 || got.Value != got.Upper {
			t.Errorf("unit %s: bounds %v %v, python %v", c.unit, got.Lower, got.Upper, c.bound)
		}
	}
	var tab bytes.Buffer
	bySubject.WriteTable(&tab)
	js, _ := bySubject.JSON()
	if !strings.Contains(tab.String(), "over 4 subjects") || !strings.Contains(string(js), `"unit": "subject"`) || !strings.Contains(string(js), `"units": 4`) {
		t.Fatalf("the unit is not reported:\n%s\n%s", tab.String(), js)
	}
	bs.Ceiling.Unit = "voxel"
	if err := bs.Validate(); err == nil || !strings.Contains(err.Error(), "ceiling.unit") {
		t.Errorf("unknown unit: %v", err)
	}
}
