package train

import (
	"fmt"

	"github.com/ventral-lab/ventral/tensor"
)

// checkFiniteTensors refuses weights or buffers holding NaN or Inf. Such a model's outputs are
// NaN, which evaluation used to report as "training diverged" and scoring as a constant layer;
// the file is the place to say it.
func checkFiniteTensors(ts map[string]*tensor.Tensor, names []string, file string) error {
	for _, k := range names {
		n, first := 0, -1
		for i, v := range ts[k].Data {
			if v-v != 0 { // NaN or ±Inf
				if n == 0 {
					first = i
				}
				n++
			}
		}
		if n > 0 {
			return fmt.Errorf("%s: tensor %q holds %d NaN or infinite values of %d (first at index %d, %v): the weights are not usable (saved from a diverged run, or edited)", file, k, n, len(ts[k].Data), first, ts[k].Data[first])
		}
	}
	return nil
}
