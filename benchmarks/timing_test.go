package benchmarks

import (
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/subject"
)

// BenchmarkAlexNetScore92 scores every layer of AlexNet (224 px) on both 92-image benchmarks
// with 1,000 bootstrap samples, activations included (no cache).
func BenchmarkAlexNetScore92(b *testing.B) {
	for _, f := range k92 {
		mirror.Path(b, f)
	}
	b.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	b.Setenv("VENTRAL_HOME", b.TempDir())
	g, err := models.Get("alexnet")
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		b.Fatal(err)
	}
	var specs []*Spec
	for _, name := range []string{"kriegeskorte92-humanIT-rsa", "kriegeskorte92-monkeyIT-rsa"} {
		s, err := Load(name)
		if err != nil {
			b.Fatal(err)
		}
		specs = append(specs, s)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range specs {
			if _, err := Score(subject.FromGraph(g), s, Options{Seed: 1, Bootstrap: 1000}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
