package analysis

import (
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/models"
)

// TestERFOptionsRefused: a mass outside (0, 1] or a negative image count is an error from
// EffectiveRFs (they used to be replaced by the defaults without a word).
func TestERFOptionsRefused(t *testing.T) {
	g, err := models.Build("cornet-z", models.Options{InputSize: 32, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	for _, o := range []ERFOptions{{Mass: 2}, {Mass: -0.5}, {N: -5}, {Batch: -1}} {
		if _, err := EffectiveRFs(g, []string{"V1"}, o); err == nil || !strings.Contains(err.Error(), "expected") {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := EffectiveRFs(g, []string{"V1"}, ERFOptions{N: 2, Mass: 0.9}); err != nil {
		t.Error(err)
	}
}
