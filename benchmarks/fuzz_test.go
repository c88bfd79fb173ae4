package benchmarks

import "testing"

// FuzzParse: a benchmark spec parses into a valid spec that marshals and parses back, or
// gives an error; never a panic.
func FuzzParse(f *testing.F) {
	for _, name := range Builtin() {
		if s, err := Load(name); err == nil {
			if b, err := s.Marshal(); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("name: x\nversion: 1\nmetric: {type: rsa}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatalf("a parsed spec does not marshal: %v", err)
		}
		if _, err := Parse(b, "fuzz-again.yaml"); err != nil {
			t.Fatalf("a marshalled spec does not parse: %v\n%s", err, b)
		}
	})
}
