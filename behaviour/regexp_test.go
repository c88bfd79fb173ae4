package behaviour

import (
	"strings"
	"testing"
)

// A stimulus path that uses {N} beyond the regexp's capture groups (or without a regexp) is an
// error when the spec is read, naming the field; it used to fail later on "stat .../{1}".
func TestStimulusPathGroupsChecked(t *testing.T) {
	spec := func(stim string) string {
		return "name: t\ncitation: none\nstimuli: s\ntrials: 'x/*.csv'\nconditions: [a]\nclass_map: {a: a}\nstimulus: {" + stim + "}\n"
	}
	for _, c := range []struct{ stim, want string }{
		{`regexp: '^\d+_(\w+)$', path: '{1}/{2}.png'`, "{2}"},
		{`regexp: '^\d+_\w+$', path: '{category}/{1}.png'`, "no capture group"},
		{`path: '{category}/{1}.png'`, "no stimulus.regexp"},
	} {
		_, err := ParseSpec([]byte(spec(c.stim)), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), "t.yaml") || !strings.Contains(err.Error(), "stimulus.path") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.stim, err)
		}
	}
	if _, err := ParseSpec([]byte(spec(`regexp: '^(\d+)_(\w+)$', path: '{2}/{1}.png'`)), "t.yaml"); err != nil {
		t.Fatal(err)
	}
}
