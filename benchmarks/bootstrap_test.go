package benchmarks

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/subject"
)

// A 95% percentile interval needs at least MinBootstrap samples (one beyond each of the 2.5th
// and 97.5th percentiles); fewer gave a "95% interval" that could exclude the score itself. A
// huge count is refused with a memory estimate instead of growing until killed (2e9 reached
// 23 GB). No bootstrap (negative) prints no interval rather than a degenerate [score, score].
func TestBootstrapValidated(t *testing.T) {
	b, err := Load("kriegeskorte92-monkeyIT-rsa")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    int
		want string
	}{{1, "at least 40"}, {39, "at least 40"}, {2_000_000_000, "GB"}} {
		if _, err := Score(subject.FromGraph(tinyModel(t)), b, Options{Seed: 1, Bootstrap: tc.n}); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bootstrap") {
			t.Errorf("bootstrap %d: %v (want an error saying %q)", tc.n, err, tc.want)
		}
	}
	if err := CheckBootstrap(-3); err == nil || !strings.Contains(err.Error(), "at least 40") {
		t.Errorf("flag -3: %v", err)
	}
	for _, n := range []int{0, 40, 1000} {
		if err := CheckBootstrap(n); err != nil {
			t.Errorf("flag %d: %v", n, err)
		}
	}
	// The spec field has the same rule.
	spec := func(n string) error {
		_, err := Parse([]byte(strings.Replace(string(mustSpecYAML(t, b)), "bootstrap: 1000", "bootstrap: "+n, 1)), "b.yaml")
		return err
	}
	if err := spec("1000"); err != nil {
		t.Fatal(err)
	}
	if err := spec("1"); err == nil || !strings.Contains(err.Error(), "metric.bootstrap") || !strings.Contains(err.Error(), "at least 40") {
		t.Errorf("spec bootstrap 1: %v", err)
	}

	useMirror(t, k92[0])
	r, err := Score(subject.FromGraph(tinyModel(t)), b, Options{Seed: 1, Bootstrap: -1, Layers: []string{"relu1", "fc"}})
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	if err := r.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	if r.Bootstrap != 0 || strings.Contains(tab.String(), "[") || !strings.Contains(tab.String(), "no bootstrap") {
		t.Errorf("no bootstrap, yet an interval:\n%s", tab.String())
	}
}

func mustSpecYAML(t *testing.T, s *Spec) []byte {
	t.Helper()
	y, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(y, []byte("bootstrap: 1000")) {
		t.Fatalf("spec without bootstrap: 1000:\n%s", y)
	}
	return y
}
