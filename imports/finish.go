package imports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/stimuli"
)

// applySidecar attaches preprocessing, labels and citation to an imported model: first what
// the file's own metadata says (ONNX metadata_props "preprocess" as JSON, "labels" or "classes"
// as a JSON array or comma-separated list, "citation"), then the sidecar, which wins.
func applySidecar(m *Model, meta map[string]string, side *Sidecar) error {
	var pre *stimuli.Preprocess
	if s, ok := meta["preprocess"]; ok {
		var p stimuli.Preprocess
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			return fmt.Errorf("metadata \"preprocess\": %w", err)
		}
		pre = &p
	}
	for _, k := range []string{"labels", "classes"} {
		if s, ok := meta[k]; ok && m.Labels == nil {
			m.Labels = parseLabels([]byte(s))
		}
	}
	if s, ok := meta["citation"]; ok {
		m.Graph.Meta["citation"] = s
	}
	if side != nil {
		if side.Preprocess != nil {
			pre = side.Preprocess
		}
		if side.Labels != "" {
			p := side.Labels
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(side.Path), p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("sidecar %s: labels: %w", side.Path, err)
			}
			m.Labels = parseLabels(b)
			if len(m.Labels) == 0 {
				return fmt.Errorf("sidecar %s: labels file %s holds no labels", side.Path, p)
			}
		}
		if side.LabelOffset > 0 && m.Labels != nil {
			pad := make([]string, side.LabelOffset)
			for i := range pad {
				pad[i] = fmt.Sprintf("(output %d)", i)
			}
			m.Labels = append(pad, m.Labels...)
		}
		if side.Citation != "" {
			m.Graph.Meta["citation"] = side.Citation
		}
	}
	return m.setMeta(pre)
}

// setMeta records preprocessing and labels in the graph's metadata, where the rest of ventral
// reads them (stimuli.FromMeta, models.Classes).
func (m *Model) setMeta(pre *stimuli.Preprocess) error {
	if pre != nil {
		if err := pre.ToMeta(m.Graph); err != nil {
			return err
		}
		m.Preprocess = *pre
	}
	if m.Labels != nil {
		out := m.Graph.Node(m.Graph.OutputName())
		if out != nil {
			n := 1
			for _, d := range out.Shape {
				n *= d
			}
			if n != len(m.Labels) {
				return fmt.Errorf("%d labels for %d outputs of layer %q", len(m.Labels), n, out.Name)
			}
		}
		// SetClasses keeps labels with commas ("tench, Tinca tinca") whole.
		models.SetClasses(m.Graph, m.Labels)
	}
	return nil
}

// parseLabels reads a JSON array of strings, a JSON object with such an array under "labels"
// (the metadata.json of ml5 and TF.js models), or one label per line (or, on a single line, a
// comma-separated list).
func parseLabels(b []byte) []string {
	var arr []string
	if err := json.Unmarshal(b, &arr); err == nil {
		return arr
	}
	var obj struct {
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal(b, &obj); err == nil {
		return obj.Labels
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	if !strings.Contains(s, "\n") && strings.Contains(s, ",") {
		return strings.Split(s, ",")
	}
	var out []string
	for _, l := range strings.Split(s, "\n") {
		out = append(out, strings.TrimSpace(l))
	}
	return out
}
