package benchmarks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ventral-lab/ventral/internal/peers"
)

// Stimulus ids across files written by NumPy: images in a .npy (rows numbered from 1 with
// id_offset), responses in an .npz whose rows are in another order and name their stimuli by
// an id array (stimulus_ids: ids), axes [stimulus, neuroid]. The aligned data put each
// response on its stimulus: neuroid n's response to stimulus k is 10*k + n.
func TestStimulusIDsAcrossFiles(t *testing.T) {
	py := peers.Python(t, "numpy")
	dir := t.TempDir()
	script := `
import numpy as np, sys
d = sys.argv[1]
rng = np.random.default_rng(0)
np.save(d + '/imgs.npy', rng.random((12, 8, 8)))
perm = rng.permutation(12)
ids = perm + 1                                  # 1-based stimulus ids, shuffled rows
resp = np.stack([10.0 * ids + n for n in range(3)], axis=1)   # stimulus x neuroid
np.savez(d + '/resp.npz', resp=resp, ids=ids)
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	body := "name: ids\nversion: 1\ncitation: x\nregion: IT\nstimuli: {path: imgs.npy, id_offset: 1}\n" +
		"data: {kind: assembly, path: resp.npz, variable: resp, dims: [stimulus, neuroid], stimulus_ids: ids}\n" +
		"metric: {type: pls, folds: 2, components: 2}\nceiling: {type: none}\n"
	p := filepath.Join(dir, "ids.yaml")
	os.WriteFile(p, []byte(body), 0o644)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	set, err := s.StimulusSet("")
	if err != nil {
		t.Fatal(err)
	}
	if set.ID(0) != "1" || set.ID(11) != "12" {
		t.Fatalf("ids %v", set.IDs())
	}
	a, err := s.loadAssembly(&s.Data, nil, set.IDs(), &Result{})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 12; k++ {
		id, _ := strconv.Atoi(a.Stimuli[k])
		for n := 0; n < 3; n++ {
			if a.At(k, n, 0, 0) != float64(10*id+n) || id != k+1 {
				t.Fatalf("stimulus %s neuroid %d: %v", a.Stimuli[k], n, a.At(k, n, 0, 0))
			}
		}
	}
	r, err := Check(s)
	if err != nil || !r.OK() || r.Data[0].Matched != 12 {
		t.Fatalf("check: %v %+v", err, r)
	}
	// Without id_offset the set is numbered from 0: stimulus 0 has no data and 12 no image.
	os.WriteFile(p, []byte(body[:len("name: ids\nversion: 1\ncitation: x\nregion: IT\n")]+"stimuli: {path: imgs.npy}\n"+body[len("name: ids\nversion: 1\ncitation: x\nregion: IT\nstimuli: {path: imgs.npy, id_offset: 1}\n"):]), 0o644)
	if s, err = Load(p); err != nil {
		t.Fatal(err)
	}
	if r, err = Check(s); err != nil || r.OK() || r.Data[0].Matched != 11 || r.Data[0].Missing[0] != "0" || r.Data[0].Extra[0] == "" {
		t.Fatalf("0-based check: %v %+v", err, r)
	}
}
