package nn

import (
	"encoding/json"
	"fmt"
)

// Dims is a per-axis size in a spec: a single number for a square kernel, stride or padding
// ("kernel: 5"), or a list [h, w] ("kernel: [5, 3]"). Empty means "use the op's default".
type Dims []int

// UnmarshalJSON accepts a number or a list of one or two numbers.
func (d *Dims) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = nil
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*d = Dims{n}
		return nil
	}
	var l []int
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("expected a number or a list [h, w], got %s", b)
	}
	if len(l) < 1 || len(l) > 2 {
		return fmt.Errorf("expected 1 or 2 sizes, got %d", len(l))
	}
	*d = Dims(l)
	return nil
}

// MarshalJSON writes a single number when both axes agree.
func (d Dims) MarshalJSON() ([]byte, error) {
	if len(d) == 1 || (len(d) == 2 && d[0] == d[1]) {
		return json.Marshal(d[0])
	}
	return json.Marshal([]int(d))
}

// HW returns the (h, w) sizes, def for both when d is empty.
func (d Dims) HW(def int) (int, int) {
	switch len(d) {
	case 0:
		return def, def
	case 1:
		return d[0], d[0]
	}
	return d[0], d[1]
}

func (d Dims) valid(what string, min int) error {
	if len(d) > 2 {
		return fmt.Errorf("%s: expected 1 or 2 sizes, got %v", what, []int(d))
	}
	for _, v := range d {
		if v < min {
			return fmt.Errorf("%s must be >= %d, got %v", what, min, []int(d))
		}
	}
	return nil
}
