package behaviour

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

// cohen computes Cohen's kappa from the 2x2 table of (a correct, b correct), the textbook way.
func cohen(a, b []bool) float64 {
	var n [2][2]float64
	for i := range a {
		x, y := 0, 0
		if a[i] {
			x = 1
		}
		if b[i] {
			y = 1
		}
		n[x][y]++
	}
	t := float64(len(a))
	po := (n[0][0] + n[1][1]) / t
	pe := ((n[1][0]+n[1][1])*(n[0][1]+n[1][1]) + (n[0][0]+n[0][1])*(n[0][0]+n[1][0])) / (t * t)
	return (po - pe) / (1 - pe)
}

func TestErrorConsistency(t *testing.T) {
	a := []bool{true, true, false, true, false, false, true, true}
	r, err := ErrorConsistency(a, a)
	if err != nil || r.Kappa != 1 || r.CObs != 1 {
		t.Fatalf("identical: %+v %v", r, err)
	}
	// Hand-made: a = 11010011, b = 10011011 (8 trials). Same on 6 -> c_obs = 0.75;
	// p1 = 5/8, p2 = 5/8, c_exp = 25/64 + 9/64 = 34/64; kappa = (48/64 - 34/64)/(30/64) = 14/30.
	b := []bool{true, false, false, true, true, false, true, true}
	a2 := []bool{true, true, false, true, false, false, true, true}
	r, _ = ErrorConsistency(a2, b)
	if math.Abs(r.CObs-0.75) > 1e-12 || math.Abs(r.CExp-34.0/64) > 1e-12 || math.Abs(r.Kappa-14.0/30) > 1e-12 {
		t.Fatalf("hand-made: %+v", r)
	}
	// Opposite responders: kappa -1 when both are at 50%.
	r, _ = ErrorConsistency([]bool{true, false, true, false}, []bool{false, true, false, true})
	if math.Abs(r.Kappa+1) > 1e-12 {
		t.Fatalf("opposite: %+v", r)
	}
	// Both always right: c_exp = 1, kappa undefined.
	r, _ = ErrorConsistency([]bool{true, true}, []bool{true, true})
	if !math.IsNaN(r.Kappa) {
		t.Fatalf("c_exp 1: %+v", r)
	}
	// Independent responders: near 0; always equal to the textbook Cohen's kappa.
	rng := rand.New(rand.NewPCG(1, 1))
	for k := range 20 {
		n := 20000
		if k > 0 {
			n = 5 + rng.IntN(50)
		}
		x, y := make([]bool, n), make([]bool, n)
		for i := range x {
			x[i], y[i] = rng.Float64() < 0.7, rng.Float64() < 0.4
			if k > 10 && rng.Float64() < 0.5 {
				y[i] = x[i] // correlated
			}
		}
		r, _ := ErrorConsistency(x, y)
		want := cohen(x, y)
		if !(math.Abs(r.Kappa-want) < 1e-9 || (math.IsNaN(want) && math.IsNaN(r.Kappa))) {
			t.Fatalf("kappa %v, textbook %v", r.Kappa, want)
		}
		if k == 0 && math.Abs(r.Kappa) > 0.03 {
			t.Fatalf("independent: kappa %v", r.Kappa)
		}
	}
	if _, err := ErrorConsistency(a, b[:3]); err == nil {
		t.Fatal("length mismatch accepted")
	}
}

func edgesSpec(t *testing.T) *Spec {
	root := mirror.Path(t, "geirhos-edges")
	s, err := LoadSpec("geirhos-edges-cifar10")
	if err != nil {
		t.Fatal(err)
	}
	s.Root = root
	return s
}

func TestGeirhosEdges(t *testing.T) {
	s := edgesSpec(t)
	files, trials, err := ReadTrialFiles(filepath.Join(s.Root, s.Trials))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 {
		t.Fatalf("%d subject files", len(files))
	}
	for i, ts := range trials {
		if len(ts) != 160 {
			t.Fatalf("%s: %d trials", files[i], len(ts))
		}
	}
	b, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Subjects) != 10 || len(b.Stimuli) != 70 {
		t.Fatalf("%d subjects, %d stimuli", len(b.Subjects), len(b.Stimuli))
	}
	for _, sub := range b.Subjects {
		if len(sub.Correct) != 70 {
			t.Fatalf("%s: %d trials used", sub.Name, len(sub.Correct))
		}
	}
	g, err := models.Get("cifar-cnn")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(g)
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.Consistency(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pairs) != 45 || len(r.Subjects) != 10 {
		t.Fatalf("%d pairs, %d subjects", len(r.Pairs), len(r.Subjects))
	}
	h := r.MeanHuman
	t.Logf("humans: acc %.3f c_obs %.3f kappa %.3f; untrained model: acc %.3f kappa %.3f", h.AccA, h.CObs, h.Kappa, r.ModelAcc, r.MeanModel.Kappa)
	if h.Kappa < 0.05 || h.Kappa > 0.9 || h.CObs < 0.5 || h.AccA < 0.3 {
		t.Fatalf("human-human consistency out of range: %+v", h)
	}
	// Cross-check one pair with the textbook formula.
	p := r.Pairs[0]
	var x, y []bool
	for _, k := range sortedKeysB(b.Subjects[0].Correct) {
		x, y = append(x, b.Subjects[0].Correct[k]), append(y, b.Subjects[1].Correct[k])
	}
	if math.Abs(cohen(x, y)-p.Kappa) > 1e-12 {
		t.Fatalf("pair kappa %v, textbook %v", p.Kappa, cohen(x, y))
	}
	out := t.TempDir()
	if err := r.WriteCSV(filepath.Join(out, "c.csv")); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpecErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "stim/cat/a.png", "x")
	writeFile(t, dir, "good/s1.csv", "subj,session,trial,rt,object_response,category,condition,imagename\ns1,1,1,0.5,cat,cat,0,a.png\n")
	bad := writeFile(t, dir, "bad/s1.csv", "subj,session,trial,rt,object_response,category,imagename\ns1,1,1,0.5,cat,cat,a.png\n")
	n := 0
	spec := func(trials, cmap, extra string) string {
		n++
		return writeFile(t, dir, "spec"+string(rune('0'+n))+".yaml", "name: t\nstimuli: stim\ntrials: "+trials+"\nclass_map: {"+cmap+"}\n"+extra)
	}
	for _, c := range []struct{ spec, want string }{
		{spec("bad/*.csv", "cat: cat", ""), "missing column(s) condition"},
		{spec("good/*.csv", "dog: dog", ""), `category "dog"`},
		{spec("good/*.csv", "cat: cat", "conditions: ['5']\n"), "leave no trials in " + filepath.Join(dir, "good/s1.csv")},
		{spec("none/*.csv", "cat: cat", ""), "no behavioural CSV"},
	} {
		s, err := LoadSpec(c.spec)
		if err == nil {
			_, err = s.Load()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want error containing %q, got %v", c.want, err)
		}
	}
	if _, err := ReadTrials(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("error does not name the file: %v", err)
	}
	if _, err := ParseSpec([]byte("name: x\nstimuli: s\ntrials: t\nclass_map: {a: b}\nbogus: 1\n"), "x.yaml"); err == nil {
		t.Error("unknown spec field accepted")
	}
	// A model class the model does not have.
	s := edgesSpec(t)
	s.ClassMap = map[string]string{"cat": "kitten"}
	b, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := models.Get("cifar-cnn")
	g.Build(1)
	c, _ := NewClassifier(g)
	if _, err := b.Consistency(c); err == nil || !strings.Contains(err.Error(), `"kitten"`) {
		t.Errorf("unknown model class: %v", err)
	}
}

func TestHumanCurve(t *testing.T) {
	dir := mirror.Path(t, "model-vs-human-raw/contrast")
	d, _ := Lookup("contrast")
	h, subjects, err := HumanCurve(dir, d.HumanLevel)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 8 || subjects != 4 || h[0].Level != 0.01 || h[7].Level != 1 {
		t.Fatalf("%d levels, %d subjects: %+v", len(h), subjects, h)
	}
	if h[7].Accuracy < 0.8 || h[0].Accuracy > h[7].Accuracy-0.3 {
		t.Fatalf("implausible human contrast curve %+v", h)
	}
	for _, n := range Distortions() {
		d, _ := Lookup(n)
		if d.Human == "" {
			continue
		}
		h, _, err := HumanCurve(filepath.Join(filepath.Dir(dir), d.Human), d.HumanLevel)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range h {
			if err := d.Check(p.Level); err != nil {
				t.Errorf("human level outside the model's range: %v", err)
			}
		}
	}
}

// synthetic is a two-class set of 1x6x6 images: class 0 bright on the left, class 1 on the right.
func synthetic(n int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 9))
	ds := &datasets.Dataset{Name: "synthetic", N: n, C: 1, H: 6, W: 6, Classes: []string{"left", "right"}}
	for i := range n {
		y := i % 2
		for range 6 {
			for c := range 6 {
				v := 0.2 + 0.2*rng.Float32()
				if (c < 3) == (y == 0) {
					v += 0.4
				}
				ds.X = append(ds.X, v)
			}
		}
		ds.Labels = append(ds.Labels, y)
	}
	return ds
}

func tinyTrained(t *testing.T) *nn.Graph {
	g, err := nn.ParseSpec([]byte("name: tiny\ninput: [1, 6, 6]\nmeta: {classes: 'left,right', preprocess: '{\"mean\":[0.5],\"std\":[0.25]}'}\n"+
		"layers:\n  - {name: flat, type: flatten}\n  - {name: fc1, type: dense, out: 8}\n  - {name: relu, type: relu}\n  - {name: fc2, type: dense, out: 2}\n"), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	_, err = train.Run(train.Config{Model: g, Train: synthetic(200, 1), Epochs: 5, Batch: 20, Seed: 1,
		Optim: optim.Config{Name: "sgd", LR: 0.1, Momentum: 0.9}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAttackAndCurve(t *testing.T) {
	g := tinyTrained(t)
	c, err := NewClassifier(g)
	if err != nil {
		t.Fatal(err)
	}
	test := synthetic(60, 2)
	for _, m := range []string{"fgsm", "pgd"} {
		r, err := MinimalAttack(c, test, AttackConfig{Method: m, MaxEps: 0.5, Bisect: 12})
		if err != nil {
			t.Fatal(err)
		}
		if r.Attacked < 55 || r.Flipped != r.Attacked {
			t.Fatalf("%s: attacked %d flipped %d", m, r.Attacked, r.Flipped)
		}
		// The class signal is a 0.4 step between halves: a flip needs eps of that order.
		if r.MedianLinf < 0.02 || r.MedianLinf > 0.45 {
			t.Fatalf("%s: median L-inf %v", m, r.MedianLinf)
		}
		t.Logf("%s: flipped %d/%d, L-inf mean %.3f median %.3f, L2 mean %.3f", m, r.Flipped, r.Attacked, r.MeanLinf, r.MedianLinf, r.MeanL2)
		// Reproduce the first image's perturbation and check the reported norms and the flip.
		im := r.PerImage[0]
		if im.Linf > im.Eps+1e-6 {
			t.Fatalf("L-inf %v above eps %v", im.Linf, im.Eps)
		}
		if m == "fgsm" {
			a := &attacker{c: c, cfg: AttackConfig{Method: m}, per: 36, hw: 36, mean: []float32{0.5}, std: []float32{0.25}}
			x := test.Image(im.Index)
			_, g0, err := a.forward(x, []int{im.Label})
			if err != nil {
				t.Fatal(err)
			}
			adv, _ := a.perturb(x, []int{im.Label}, g0, []float64{im.Eps})
			var l2, li float64
			for j := range x {
				d := math.Abs(float64(adv[j] - x[j]))
				l2 += d * d
				li = math.Max(li, d)
			}
			if math.Abs(math.Sqrt(l2)-im.L2) > 1e-6 || math.Abs(li-im.Linf) > 1e-6 {
				t.Fatalf("norms %v %v, actual %v %v", im.L2, im.Linf, math.Sqrt(l2), li)
			}
			pred, err := c.Predict([]*tensorT{tensorFrom(adv)})
			if err != nil || pred[0] == im.Label {
				t.Fatalf("perturbation at eps %v does not flip (%v)", im.Eps, err)
			}
		}
	}
	cv, err := DistortionCurve(c, test, CurveConfig{Distortion: "contrast", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if cv.Points[0].Accuracy < 0.9 || len(cv.Confusion) != 8 {
		t.Fatalf("curve %+v", cv.Points)
	}
	if _, err := DistortionCurve(c, test, CurveConfig{Distortion: "contrast", Levels: []float64{2}}); err == nil {
		t.Fatal("level 2 accepted")
	}
	out := t.TempDir()
	human := []LevelAccuracy{{Level: 0.01, Accuracy: 0.1}, {Level: 1, Accuracy: 0.9}}
	base := filepath.Join(out, "contrast")
	if err := PlotCurve(base, cv, human); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".png", ".svg"} {
		if st, err := os.Stat(base + ext); err != nil || st.Size() < 1000 {
			t.Fatalf("plot %s: %v", ext, err)
		}
	}
	svg, _ := os.ReadFile(base + ".svg")
	if !strings.Contains(string(svg), "images differ") {
		t.Fatal("caveat missing from the plot")
	}
}

type tensorT = tensor.Tensor

func tensorFrom(x []float32) *tensor.Tensor {
	return tensor.FromData(append([]float32(nil), x...), 1, 6, 6)
}
