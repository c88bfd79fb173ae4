package benchmarks

import (
	"github.com/ventral-lab/ventral/subject"
	"os"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/models"
)

// TestAlexNetTiming scores every layer of AlexNet (224 px) on both 92-image benchmarks with
// 1,000 bootstrap samples, activations included. Set VENTRAL_TIMING=1 to run it.
func TestAlexNetTiming(t *testing.T) {
	if os.Getenv("VENTRAL_TIMING") == "" {
		t.Skip("set VENTRAL_TIMING=1")
	}
	useMirror(t, k92...)
	mirror.Path(t, k92[0])
	g, err := models.Get("alexnet")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	t.Logf("meta: %v input %v", g.Meta, g.InputShape)
	start := time.Now()
	for _, name := range []string{"kriegeskorte92-humanIT-rsa", "kriegeskorte92-monkeyIT-rsa"} {
		b, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		r, err := Score(subject.FromGraph(g), b, Options{Seed: 1, Bootstrap: 1000, CacheDir: os.Getenv("VENTRAL_TIMING_CACHE")})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d layers, best %s %.4f, %.1fs", name, len(r.Layers), r.BestLayer, r.HeldOut, time.Since(t0).Seconds())
	}
	t.Logf("total %.1fs", time.Since(start).Seconds())
}
