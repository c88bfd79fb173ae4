package datasets

import (
	"path/filepath"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
)

// Every file of the V4 recordings and the ImageNet networks resolves through the registry and
// passes its hash check (the mirror is required under CI).
func TestOpenDataFilesResolve(t *testing.T) {
	dir := filepath.Dir(filepath.Dir(mirror.Path(t, "cowley2023-v4/readme.txt")))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	t.Setenv("VENTRAL_MIRROR", dir)
	n := 0
	for _, f := range Files() {
		switch f.Dataset {
		case "cowley2023-v4", "onnx-mobilenetv2-int8", "coral-test-data", "ml5-mobilenet-v1-0.75", "imagenet-labels":
			if _, err := Resolve(f.Dataset, f.Name); err != nil {
				t.Errorf("%s/%s: %v", f.Dataset, f.Name, err)
			}
			n++
		}
	}
	if n != 72 {
		t.Errorf("%d files registered for the new datasets, want 72", n)
	}
}
