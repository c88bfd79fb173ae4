package modelreport

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/experiments/hierarchy"
)

// The hierarchy experiment's report in a real browser: a small output folder (two models on
// one benchmark per region, two for IT) written by hierarchy's WriteAll, reported, loaded in
// chromium: it shows a section per region with its profile figure, the scatter, the summary,
// every image decodes, nothing is logged as an error.
func TestHierarchyReportInBrowser(t *testing.T) {
	needChromium(t)
	o := &hierarchy.Outcome{Config: hierarchy.Config{Seed: 1, Bootstrap: 100, MaxLayers: 3}}
	for _, s := range []struct{ name, region string }{{"v1", "V1"}, {"v4", "V4"}, {"it-a", "IT"}, {"it-b", "IT"}} {
		o.Benchmarks = append(o.Benchmarks, &benchmarks.Spec{Name: s.name, Region: s.region})
	}
	o.Models = []hierarchy.Model{
		{Name: "net<b>", Network: "net", Kind: "trained", Control: "random:net<b>", Perf: &hierarchy.Performance{Top1: 0.7, Source: "published", Task: "imagenet"}, Layers: 3},
		{Name: "random:net<b>", Network: "net", Kind: "random", Perf: &hierarchy.Performance{Top1: hierarchy.Chance, Source: "chance", Task: "imagenet"}, Layers: 3},
	}
	for _, m := range o.Models {
		for k, s := range o.Benchmarks {
			for i, d := range []float64{0, 0.5, 1} {
				v := 0.1 * float64(k+1) * d
				o.Profiles = append(o.Profiles, hierarchy.Profile{Model: m.Name, Benchmark: s.Name, Region: s.Region, Layer: string(rune('a' + i)),
					Depth: d, Score: v, CILow: v - 0.05, CIHigh: v + 0.05})
			}
			o.Bests = append(o.Bests, hierarchy.Best{Model: m.Name, Benchmark: s.Name, Region: s.Region, Layer: "c", Depth: 1, DepthLow: 0.5, DepthHigh: 1,
				HeldOut: 0.1, HeldOutNorm: math.NaN(), Score: 0.1, CILow: 0.05, CIHigh: 0.15})
		}
	}
	dir := t.TempDir()
	if _, err := o.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, hierarchy.ReportFile)
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "net<b>") {
		t.Error("a model name is not escaped")
	}
	pc := openInBrowser(t, page)
	heads := strings.Join(pc.Headings, "|")
	for _, h := range []string{"Claims", "Models", "Region V1", "Region V4", "Region IT", "Task performance vs brain score", "summary.txt"} {
		if !strings.Contains(heads, h) {
			t.Errorf("no heading %q in %q", h, pc.Headings)
		}
	}
	want := map[string]bool{"profile-V1.png": true, "profile-V4.png": true, "profile-IT.png": true, "performance_vs_score.png": true}
	if len(pc.Images) != len(want) || pc.Scripts != 0 {
		t.Errorf("%d images (want %d), %d scripts", len(pc.Images), len(want), pc.Scripts)
	}
	for _, im := range pc.Images {
		if !want[im.Src] || !im.Complete || im.Width == 0 {
			t.Errorf("image %s: complete %v, width %d", im.Src, im.Complete, im.Width)
		}
	}
	if len(pc.Errors) > 0 {
		t.Errorf("browser errors:\n%s", strings.Join(pc.Errors, "\n"))
	}
}
