package analysis

import (
	"path/filepath"
	"testing"

	"github.com/ventral-lab/ventral/internal/diskfull"
	"github.com/ventral-lab/ventral/tensor"
)

// TestWriteGridAtomic: a PNG grid whose write fails part-way leaves the previous file whole.
func TestWriteGridAtomic(t *testing.T) {
	var imgs []*tensor.Tensor
	for k := 0; k < 4; k++ {
		img := tensor.New(3, 16, 16)
		for i := range img.Data {
			img.Data[i] = float32((i*7+k*13)%97) / 97
		}
		imgs = append(imgs, img)
	}
	p := filepath.Join(t.TempDir(), "grid.png")
	diskfull.Check(t, p, 1024, func() error { return WriteGrid(p, imgs, 2, 8) })
}
