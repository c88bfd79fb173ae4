package hierarchy

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/internal/mirror"
)

// toyOutcome builds an Outcome without scoring anything: two trained networks with their
// random controls on one benchmark per region, with held-out resamples and best-layer depth
// draws chosen so that every test's answer is known.
func toyOutcome(t *testing.T) *Outcome {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 5))
	o := &Outcome{Config: Config{Seed: 1, Bootstrap: 400, Perms: 1000}}
	for _, s := range []struct{ name, region string }{{"v1", "V1"}, {"v4", "V4"}, {"it", "IT"}} {
		o.Benchmarks = append(o.Benchmarks, &benchmarks.Spec{Name: s.name, Region: s.region})
	}
	o.Models = []Model{
		{Name: "netA", Kind: "trained", Control: "random:netA", Perf: &Performance{0.7, "published", "imagenet"}},
		{Name: "random:netA", Kind: "random", Perf: &Performance{Chance, "chance", "imagenet"}},
		{Name: "netB", Kind: "trained", Control: "random:netB", Perf: &Performance{0.4, "published", "imagenet"}},
		{Name: "random:netB", Kind: "random", Perf: &Performance{Chance, "chance", "imagenet"}},
		{Name: "hmax", Network: "hmax", Kind: "fixed"},
	}
	B := 400
	depth := map[string]float64{"V1": 0.2, "V4": 0.5, "IT": 0.8}
	for _, m := range o.Models {
		for _, s := range o.Benchmarks {
			// Trained networks score 0.5 (netA) or 0.4 (netB), controls and HMAX 0.1, with
			// resampling noise 0.02: every trained-vs-random difference is far from 0.
			mean := 0.1
			switch m.Name {
			case "netA":
				mean = 0.5
			case "netB":
				mean = 0.4
			}
			res := &benchmarks.Result{Benchmark: s.Name, Seed: 1, Bootstrap: B, Model: m.Name, HeldOut: mean, BestLayer: "l"}
			d := make([]float64, B)
			for b := range B {
				res.HeldOutSamples = append(res.HeldOutSamples, mean+0.02*r.NormFloat64())
				d[b] = depth[s.Region]
				if m.Name == "netB" && s.Region == "V4" && b%2 == 0 {
					d[b] = 0.9 // netB's V4 depth is unsure: half the draws put it above IT
				}
			}
			lo, hi := Interval(d)
			o.Bests = append(o.Bests, Best{Model: m.Name, Benchmark: s.Name, Region: s.Region, Layer: "l", Depth: depth[s.Region],
				DepthSamples: d, DepthLow: lo, DepthHigh: hi, HeldOut: mean, HeldOutNorm: math.NaN(), Score: mean, CILow: mean - 0.04, CIHigh: mean + 0.04, res: res})
			for i, dd := range []float64{0, 0.5, 1} {
				o.Profiles = append(o.Profiles, Profile{Model: m.Name, Benchmark: s.Name, Region: s.Region, Layer: string(rune('a' + i)),
					Depth: dd, Score: mean * dd, CILow: mean*dd - 0.05, CIHigh: mean*dd + 0.05})
			}
		}
	}
	if err := o.tests(); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestToyTestsAndClaims(t *testing.T) {
	o := toyOutcome(t)
	if len(o.Controls) != 6 {
		t.Fatalf("%d trained-vs-random tests, want 6", len(o.Controls))
	}
	for _, c := range o.Controls {
		// All 400 paired differences are positive: the two-sided p is 2/401, Holm over 6.
		if c.Diff <= 0 || math.Abs(c.P-2.0/401) > 1e-12 || math.Abs(c.PHolm-6*2.0/401) > 1e-12 || c.Family != 6 {
			t.Errorf("%s vs %s on %s: diff %v p %v Holm %v family %d", c.Model, c.Reference, c.Benchmark, c.Diff, c.P, c.PHolm, c.Family)
		}
	}
	if len(o.Orders) != 2 {
		t.Fatalf("%d ordering tests", len(o.Orders))
	}
	a, b := o.Orders[0], o.Orders[1]
	if a.Prob != 1 || a.P != 1.0/401 {
		t.Errorf("netA ordering %+v, want prob 1, p 1/401", a)
	}
	// netB: V4 above IT in half the draws (200 of 400): p23 = 201/401.
	if b.Prob != 0.5 || math.Abs(b.P-201.0/401) > 1e-12 {
		t.Errorf("netB ordering %+v, want prob 0.5, p 201/401", b)
	}
	if len(o.VsHMAX) != 3 || o.VsHMAX[0].Model != "netA" {
		t.Errorf("vs HMAX tests: %+v", o.VsHMAX)
	}
	// With controls: top-1 (0.7, 0.001, 0.4, 0.001) vs score (0.5, 0.1, 0.4, 0.1): rho = 1.
	for _, c := range o.Correlations {
		if c.Set == "trained and random controls" && c.Scope == "IT" {
			if len(c.Models) != 4 || math.Abs(c.Rho-1) > 1e-12 || !c.Exact {
				t.Errorf("IT correlation %+v", c)
			}
			// 2 of 24 permutations of the ranks (4, 1.5, 3, 1.5) reach |rho| = 1 (the identity and the
			// swap of the tied pair; none reaches -1).
			if math.Abs(c.P-2.0/24) > 1e-12 {
				t.Errorf("IT correlation p %v, want 2/24", c.P)
			}
		}
		if c.Set == "trained only" && !math.IsNaN(c.P) {
			t.Errorf("two trained networks gave p %v, want NaN", c.P)
		}
	}
	verdict := map[string]string{}
	for _, c := range o.Claims() {
		verdict[c.Claim] = c.Verdict
	}
	for claim, want := range map[string]string{
		"ImageNet training makes networks more like IT than their random controls":              Holds,
		"Within each trained network the best layer deepens along the stream: V1 < V4 < IT":     Undecided,
		"Better ImageNet performance goes with a better IT score (trained and random controls)": Undecided,
		"The best trained deep network beats HMAX (Khaligh-Razavi and Kriegeskorte 2014)":       Holds,
	} {
		if !strings.HasPrefix(verdict[claim], want) {
			t.Errorf("%q: %q, want %s", claim, verdict[claim], want)
		}
	}
}

// Every table is written, readable as CSV with its header, and the figures are PNG files.
func TestToyWriteAll(t *testing.T) {
	o := toyOutcome(t)
	dir := t.TempDir()
	if d := os.Getenv("HIER_KEEP"); d != "" {
		dir = d
	}
	paths, err := o.WriteAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"models.csv": 5, "profiles.csv": 5 * 3 * 3, "best_layers.csv": 15, "trained_vs_random.csv": 6, "best_vs_hmax.csv": 3,
		"depth_order.csv": 2, "performance_correlation.csv": 12}
	for name, n := range want {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rows)-1 != n {
			t.Errorf("%s: %d rows, want %d", name, len(rows)-1, n)
		}
	}
	for _, p := range paths {
		if strings.HasSuffix(p, ".png") {
			b, err := os.ReadFile(p)
			if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
				t.Errorf("%s: not a PNG (%v)", p, err)
			}
		}
	}
	// One profile figure per region, one panel per benchmark of the region: a second IT
	// benchmark doubles the IT figure's width.
	width := func(name string) int {
		t.Helper()
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		c, err := png.DecodeConfig(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c.Width
	}
	w1 := width("profile-V1.png")
	if w4, wit := width("profile-V4.png"), width("profile-IT.png"); w4 != w1 || wit != w1 {
		t.Errorf("one-benchmark figures %d, %d, %d px wide", w1, w4, wit)
	}
	o.Benchmarks = append(o.Benchmarks, &benchmarks.Spec{Name: "it2", Region: "IT"})
	for _, p := range o.Profiles {
		if p.Benchmark == "it" {
			p.Benchmark = "it2"
			o.Profiles = append(o.Profiles, p)
		}
	}
	if _, err := o.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	if w := width("profile-IT.png"); w != 2*w1 {
		t.Errorf("IT figure with two benchmarks %d px wide, want %d", w, 2*w1)
	}
	if _, err := os.Stat(filepath.Join(dir, "profile-IT-it.png")); err == nil {
		t.Error("a per-benchmark figure was written")
	}
	s, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	if err != nil || !strings.Contains(string(s), "HOLDS") {
		t.Errorf("summary: %v\n%s", err, s)
	}
	// The HTML report: a section per region with its figure and best layers, the tests, the
	// scatter and summary.txt, from the files alone.
	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{"<h2>Claims", "<h2>Models", "<h2>Region V1", "<h2>Region V4", "<h2>Region IT", `src="profile-V1.png"`, `src="profile-V4.png"`,
		`src="profile-IT.png"`, "<h2>Trained vs random control", "<h2>Best trained network vs HMAX", "<h2>Depth ordering", `src="performance_vs_score.png"`,
		"<h2>summary.txt", "<pre>Do ImageNet-trained networks", "HOLDS"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// netA's IT row: held-out 0.5, its depth interval from the draws (all 0.8).
	if !strings.Contains(page, "<td>netA</td><td>it</td><td>l</td><td>0.800 [0.800, 0.800]</td><td>0.500</td>") {
		t.Errorf("report lacks netA's IT row")
	}
	// Elsewhere, with the figures copied beside the page; a folder that is no output and a
	// table without its column are errors naming them.
	out := t.TempDir()
	if p, err := WriteReport(dir, out); err != nil || p != filepath.Join(out, ReportFile) {
		t.Fatalf("WriteReport: %q, %v", p, err)
	}
	if _, err := os.Stat(filepath.Join(out, "profile-V4.png")); err != nil {
		t.Error(err)
	}
	if _, err := WriteReport(out, ""); err == nil || !strings.Contains(err.Error(), "not a hierarchy output folder") {
		t.Errorf("no output: %v", err)
	}
	bad := t.TempDir()
	for _, f := range []string{"summary.txt", "best_layers.csv", "models.csv"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		os.WriteFile(filepath.Join(bad, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(bad, "best_layers.csv"), []byte("model,benchmark\nnetA,it\n"), 0o644)
	if _, err := Report(bad); err == nil || !strings.Contains(err.Error(), "best_layers.csv") || !strings.Contains(err.Error(), `"region"`) {
		t.Errorf("table without its column: %v", err)
	}
}

// Run end to end on the 92-image IT benchmarks with a small network and its random: control:
// every model and benchmark has a profile and a best layer, the control is recorded at the
// network's layers and depths, and the activations are cached for reuse.
func TestRunSmall(t *testing.T) {
	for _, f := range []string{"kriegeskorte92/Kriegeskorte_Neuron2008_supplementalData.mat", "kriegeskorte92/92_brainRDMs.mat"} {
		mirror.Path(t, f)
	}
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	cache := t.TempDir()
	cfg := Defaults()
	cfg.Models = []string{"cifar-cnn", "random:cifar-cnn"}
	cfg.Benchmarks = []string{"kriegeskorte92-monkeyIT-rsa", "kriegeskorte92-humanIT-rsa"}
	cfg.MaxLayers, cfg.Bootstrap, cfg.Behaviour, cfg.CacheDir = 3, 40, "none", cache
	o, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Bests) != 4 || len(o.Profiles) != 2*2*3 {
		t.Fatalf("%d best layers, %d profile points", len(o.Bests), len(o.Profiles))
	}
	if o.Models[0].Control != "random:cifar-cnn" || o.Models[0].Layers != 3 {
		t.Errorf("model %+v", o.Models[0])
	}
	for i := 0; i < 6; i++ { // the control's profile points repeat the network's layers and depths
		a, b := o.Profiles[i], o.Profiles[6+i]
		if a.Layer != b.Layer || a.Depth != b.Depth || a.Benchmark != b.Benchmark {
			t.Errorf("point %d: %s at %v vs control %s at %v", i, a.Layer, a.Depth, b.Layer, b.Depth)
		}
		if !(a.Depth >= 0 && a.Depth <= 1) || !(a.CILow <= a.Score && a.Score <= a.CIHigh) {
			t.Errorf("point %+v", a)
		}
	}
	for _, b := range o.Bests {
		if len(b.DepthSamples) != 40 || !(b.DepthLow <= b.DepthHigh) || math.IsNaN(b.HeldOut) {
			t.Errorf("best %+v", b)
		}
	}
	if ents, _ := os.ReadDir(cache); len(ents) == 0 {
		t.Error("no activations cached")
	}
}

// A model that does not load fails at once, naming it, before anything is scored.
func TestRunBadModel(t *testing.T) {
	cfg := Defaults()
	cfg.Models = []string{"cifar-cnn", "no-such-network"}
	cfg.Benchmarks = []string{"kriegeskorte92-monkeyIT-rsa"}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), `"no-such-network"`) {
		t.Fatalf("error %v, want one naming the model", err)
	}
	cfg.Models = []string{"cifar-cnn", "cifar-cnn"}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("duplicate: %v", err)
	}
}
