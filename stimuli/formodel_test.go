package stimuli

import (
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
)

func TestForModelCompletesToTheInputShape(t *testing.T) {
	grey := &nn.Graph{Name: "g", InputShape: []int{1, 28, 28}}
	p, err := ForModel(grey)
	if err != nil || p.Size != 28 || !p.Grey || p.RGB {
		t.Errorf("grey model: %+v, %v", p, err)
	}
	colour := &nn.Graph{Name: "c", InputShape: []int{3, 32, 32}}
	if err := (Preprocess{Size: 40, Crop: 0.8}).ToMeta(colour); err != nil {
		t.Fatal(err)
	}
	p, err = ForModel(colour)
	if err != nil || p.Size != 40 || p.Crop != 0.8 || !p.RGB {
		t.Errorf("declared preprocessing not kept: %+v, %v", p, err)
	}
	if _, err := ForModel(&nn.Graph{Name: "r", InputShape: []int{3, 20, 30}}); err == nil || !strings.Contains(err.Error(), "not square") {
		t.Errorf("non-square input without preprocessing: %v", err)
	}
	if _, err := ForModel(&nn.Graph{Name: "v", InputShape: []int{100}}); err == nil {
		t.Error("vector input accepted")
	}
}
