// Package report writes the HTML report a researcher reads: one self-contained page (styles
// inline, no scripts or outside resources) beside the PNG/SVG figures it shows, and the figure
// helpers that draw them with gonum/plot.
package report

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

	"github.com/ventral-lab/ventral/nn"
)

// Report is a titled list of sections.
type Report struct {
	Title    string
	Subtitle string
	Sections []Section
}

// Section holds prose, a table and figures.
type Section struct {
	Heading string
	Text    []string // paragraphs
	Table   *Table
	Figures []Figure
	// Pre is preformatted text shown after the figures (e.g. a plain-text summary).
	Pre string
}

// Table is a header and rows of cells.
type Table struct {
	Header []string
	Rows   [][]string
	// Highlight marks rows to show in bold (e.g. the best layer).
	Highlight map[int]bool
}

// Figure names an image file relative to the report's folder.
type Figure struct {
	File    string
	Caption string
}

// Figures lists every figure file the report shows.
func (r *Report) Figures() []string {
	var out []string
	for _, s := range r.Sections {
		for _, f := range s.Figures {
			out = append(out, f.File)
		}
	}
	return out
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
tr.hl td{font-weight:bold;background:#fff8dc}
figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top}
figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.85em;color:#555;max-width:520px}
pre{font-size:.8em;background:#f8f8f8;border:1px solid #ddd;padding:.6em;overflow-x:auto}
</style></head><body>
<h1>{{.Title}}</h1>{{if .Subtitle}}<p class="sub">{{.Subtitle}}</p>{{end}}
{{range .Sections}}<section><h2>{{.Heading}}</h2>
{{range .Text}}<p>{{.}}</p>{{end}}
{{with .Table}}<table><thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{$t := .}}{{range $i, $row := .Rows}}<tr{{if index $t.Highlight $i}} class="hl"{{end}}>{{range $row}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>{{end}}
{{range .Figures}}<figure><img src="{{.File}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}{{with .Pre}}<pre>{{.}}</pre>{{end}}</section>
{{end}}</body></html>
`))

// WriteHTML writes the page to path atomically; every figure must already exist beside it,
// so a report never names a missing image.
func (r *Report) WriteHTML(path string) error {
	dir := filepath.Dir(path)
	for _, f := range r.Figures() {
		if filepath.IsAbs(f) {
			return fmt.Errorf("report %s: figure %s must be relative to the report's folder", path, f)
		}
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("report %s: figure %s: %w", path, f, err)
		}
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, r); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nn.WriteFileAtomic(path, buf.Bytes())
}
