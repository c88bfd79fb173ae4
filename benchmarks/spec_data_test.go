package benchmarks

import (
	"strings"
	"testing"
)

// Spec fields for stimuli and data given as files: each rule's violation is refused with a
// message naming the field.
func TestSpecStimuliAndDataRules(t *testing.T) {
	base := "name: b\nversion: 1\ncitation: x\nregion: V4\n"
	good := base + "stimuli: {path: imgs.zip, metadata: m.csv, id_column: stim, file_column: file, degrees: 8}\n" +
		"data: {kind: assembly, path: r.npy, dims: [neuroid, stimulus, repetition], stimulus_ids: order}\n" +
		"metric: {type: pls}\nceiling: {type: split-half}\n"
	s, err := Parse([]byte(good), "good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Stimuli.Degrees != 8 || len(s.Data.Dims) != 3 || s.Data.StimulusIDs != "order" {
		t.Fatalf("parsed %+v", s)
	}
	y, _ := s.Marshal()
	if _, err := Parse(y, "again"); err != nil {
		t.Fatalf("round trip: %v\n%s", err, y)
	}
	cases := []struct{ body, want string }{
		{"stimuli: {}\n", "exactly one of set"},
		{"stimuli: {set: kriegeskorte92, path: x.zip}\n", "exactly one of set"},
		{"stimuli: {file: images/x.zip}\n", "needs a dataset"},
		{"stimuli: {path: x.zip, train: a, test: b}\n", "built-in set's splits"},
		{"stimuli: {set: kriegeskorte92, id_offset: 1}\n", "built-in set"},
		{"stimuli: {path: x.npy, id_column: id}\n", "need metadata"},
		{"stimuli: {path: x.zip}\ndata: {kind: assembly, path: r.npy, dims: [neuroid, stimulus, trial]}\n", `unknown axis "trial"`},
		{"stimuli: {path: x.zip}\ndata: {kind: assembly, path: r.npy, dims: [neuroid, neuroid, stimulus]}\n", "named twice"},
		{"stimuli: {path: x.zip}\ndata: {kind: assembly, path: r.npy, dims: [neuroid, repetition]}\n", "needs a stimulus and a neuroid"},
		{"stimuli: {path: x.zip}\ndata: {kind: assembly, path: r.npy, dims: [neuroid, stimulus], transpose: true}\n", "dims or transpose"},
	}
	for _, c := range cases {
		body := base + c.body
		if !strings.Contains(c.body, "data:") {
			body += "data: {kind: assembly, path: r.npy}\n"
		}
		body += "metric: {type: pls}\nceiling: {type: none}\n"
		_, err := Parse([]byte(body), "bad.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%q: got %v, want an error with %q", c.body, err, c.want)
		}
	}
}

// metric rsa with ceiling split-half is refused when the spec is read, with the alternatives.
func TestRSASplitHalfRefused(t *testing.T) {
	body := "name: b\nversion: 1\ncitation: x\nregion: IT\nstimuli: {path: x.zip}\ndata: {kind: assembly, path: r.npy, dims: [neuroid, stimulus, repetition]}\nmetric: {type: rsa}\nceiling: {type: split-half}\n"
	_, err := Parse([]byte(body), "rsa.yaml")
	if err == nil || !strings.Contains(err.Error(), "split-half cannot normalise metric rsa") || !strings.Contains(err.Error(), "rsa-noise-ceiling") {
		t.Fatalf("rsa with split-half: %v", err)
	}
}
