package imports

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
)

func TestNamed(t *testing.T) {
	if !slices.Contains(Names(), "mobilenetv2-imagenet-onnx") {
		t.Fatalf("Names() = %v", Names())
	}
	if _, err := Named("no-such-net"); err == nil || !strings.Contains(err.Error(), "mobilenetv2-imagenet-onnx") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := datasets.Resolve("onnx-mobilenetv2-int8", "mobilenetv2-12-int8.onnx"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	m, err := Named("mobilenetv2-imagenet-onnx")
	if err != nil {
		t.Fatal(err)
	}
	out := m.Graph.Node(m.Graph.OutputName())
	if len(m.Labels) != 1000 || m.Labels[0] != "tench" || out.Shape[0] != 1000 || m.Preprocess.Size != 224 || m.Graph.Meta["citation"] == "" {
		t.Errorf("labels %d (%q...), output %v, preprocess %+v, citation %q", len(m.Labels), m.Labels[0], out.Shape, m.Preprocess, m.Graph.Meta["citation"])
	}
	def := strings.Split(m.Graph.Meta["default_layers"], ",")
	if !slices.Contains(def, "474_quantized") || !slices.Contains(def, "339_quantized") || slices.Contains(def, "474_quantized.acc") || len(def) < 60 {
		t.Errorf("default_layers %v", def)
	}
	if m.Operators["QLinearConv"] != 52 {
		t.Errorf("operators %v, want 52 QLinearConv", m.Operators)
	}
}
