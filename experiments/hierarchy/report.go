package hierarchy

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/report"
)

// ReportFile is the page WriteAll and WriteReport write into an output folder.
const ReportFile = "report.html"

// IsOutput reports whether dir holds a hierarchy run's output (its summary and best-layer table).
func IsOutput(dir string) bool {
	for _, f := range []string{"summary.txt", "best_layers.csv", "models.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// csvTable is a CSV file read by column name.
type csvTable struct {
	path   string
	header []string
	rows   [][]string
}

func readTable(dir, name string) (*csvTable, error) {
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty (no header)", p)
	}
	return &csvTable{path: p, header: recs[0], rows: recs[1:]}, nil
}

// col returns the index of column name, or an error naming the file and the column.
func (t *csvTable) col(name string) (int, error) {
	i := slices.Index(t.header, name)
	if i < 0 {
		return 0, fmt.Errorf("%s: no column %q (header %s)", t.path, name, strings.Join(t.header, ","))
	}
	return i, nil
}

// pick returns, per row, the named columns formatted by fm (nil: as they are).
func (t *csvTable) pick(cols []string, fm map[string]func(string) string) ([][]string, error) {
	idx := make([]int, len(cols))
	for i, c := range cols {
		j, err := t.col(c)
		if err != nil {
			return nil, err
		}
		idx[i] = j
	}
	var out [][]string
	for r, row := range t.rows {
		if len(row) != len(t.header) {
			return nil, fmt.Errorf("%s: line %d has %d fields, want %d", t.path, r+2, len(row), len(t.header))
		}
		cells := make([]string, len(cols))
		for i, j := range idx {
			cells[i] = row[j]
			if f := fm[cols[i]]; f != nil {
				cells[i] = f(row[j])
			}
		}
		out = append(out, cells)
	}
	return out, nil
}

// num formats a number cell to three decimals ("-" for NaN or empty).
func num(s string) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		if s == "" || err == nil {
			return "-"
		}
		return s
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// pval formats a p value with three significant digits.
func pval(s string) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Report builds the HTML report of a hierarchy output folder from its files alone (the
// tables, figures and summary.txt WriteAll wrote), so a finished run is reported without
// rescoring. Tables missing from the folder (no HMAX, no behaviour) leave their section out.
func Report(dir string) (*report.Report, error) {
	if !IsOutput(dir) {
		return nil, fmt.Errorf("%s: not a hierarchy output folder (summary.txt, best_layers.csv and models.csv expected)", dir)
	}
	summary, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	if err != nil {
		return nil, err
	}
	r := &report.Report{Title: "Do ImageNet-trained networks model the ventral stream?",
		Subtitle: "ventral experiment hierarchy: " + filepath.Clean(dir)}
	// The claims: summary.txt's verdict lines, each with its evidence.
	var claims []string
	for _, line := range strings.Split(string(summary), "\n") {
		switch {
		case strings.HasPrefix(line, "- "):
			claims = append(claims, strings.TrimPrefix(line, "- "))
		case strings.HasPrefix(line, "    ") && len(claims) > 0:
			claims[len(claims)-1] += " · " + strings.TrimSpace(line)
		}
	}
	r.Sections = append(r.Sections, report.Section{Heading: "Claims", Text: claims})

	models, err := readTable(dir, "models.csv")
	if err != nil {
		return nil, err
	}
	kind := map[string]string{}
	for _, row := range models.rows {
		if len(row) >= 3 {
			kind[row[0]] = row[2]
		}
	}
	rows, err := models.pick([]string{"model", "kind", "control", "task_performance", "performance_source", "layers", "seconds", "cpu_seconds"},
		map[string]func(string) string{"task_performance": num, "seconds": num, "cpu_seconds": num})
	if err != nil {
		return nil, err
	}
	r.Sections = append(r.Sections, report.Section{Heading: "Models",
		Text:  []string{"Task performance: published ImageNet top-1 (random controls at chance), or a CIFAR-trained network's CIFAR-10 test accuracy measured here (another task, kept out of the ImageNet correlations)."},
		Table: &report.Table{Header: []string{"model", "kind", "random control", "task performance", "source", "layers", "seconds", "CPU seconds"}, Rows: rows}})

	// One section per region: its profile figure and its rows of the best-layer table.
	best, err := readTable(dir, "best_layers.csv")
	if err != nil {
		return nil, err
	}
	ri, err := best.col("region")
	if err != nil {
		return nil, err
	}
	var regions []string
	for _, row := range best.rows {
		if len(row) > ri && !slices.Contains(regions, row[ri]) {
			regions = append(regions, row[ri])
		}
	}
	slices.SortStableFunc(regions, func(a, b string) int { return regionRank(a) - regionRank(b) })
	interval := func(row []string, v, lo, hi int) string {
		return fmt.Sprintf("%s [%s, %s]", num(row[v]), num(row[lo]), num(row[hi]))
	}
	cols := map[string]int{}
	for _, c := range []string{"model", "benchmark", "best_layer", "relative_depth", "depth_ci_low", "depth_ci_high", "held_out_score", "score_all", "score_ci_low", "score_ci_high"} {
		if cols[c], err = best.col(c); err != nil {
			return nil, err
		}
	}
	for _, region := range regions {
		s := report.Section{Heading: "Region " + region + ": layer profiles and best layers",
			Text: []string{"Score against relative depth (0 input, 1 last layer), one line per model (random controls and untrained models dashed), 95% bootstrap intervals shaded; the best layer is chosen on the selection data and scored on the held-out data, its depth interval re-selects the best layer in each bootstrap resample."}}
		fig := ProfileFigure(region)
		if _, err := os.Stat(filepath.Join(dir, fig)); err == nil {
			s.Figures = append(s.Figures, report.Figure{File: fig, Caption: region + ": one panel per benchmark"})
		}
		t := &report.Table{Header: []string{"model", "benchmark", "best layer", "depth [95%]", "held-out score", "score, all data [95%]"}, Highlight: map[int]bool{}}
		for _, row := range best.rows {
			if len(row) != len(best.header) {
				return nil, fmt.Errorf("%s: a line has %d fields, want %d", best.path, len(row), len(best.header))
			}
			if row[ri] != region {
				continue
			}
			if kind[row[cols["model"]]] == "trained" {
				t.Highlight[len(t.Rows)] = true
			}
			t.Rows = append(t.Rows, []string{row[cols["model"]], row[cols["benchmark"]], short(row[cols["best_layer"]]),
				interval(row, cols["relative_depth"], cols["depth_ci_low"], cols["depth_ci_high"]), num(row[cols["held_out_score"]]),
				interval(row, cols["score_all"], cols["score_ci_low"], cols["score_ci_high"])})
		}
		s.Table = t
		r.Sections = append(r.Sections, s)
	}

	testCols := []string{"model", "reference", "benchmark", "diff", "diff_ci_low", "diff_ci_high", "p", "p_holm"}
	testFmt := map[string]func(string) string{"diff": num, "diff_ci_low": num, "diff_ci_high": num, "p": pval, "p_holm": pval}
	testHeader := []string{"model", "reference", "benchmark", "held-out difference", "95% low", "95% high", "p", "Holm p"}
	for _, tb := range []struct{ file, heading, text string }{
		{"trained_vs_random.csv", "Trained vs random control", "Paired bootstrap of the held-out scores of each trained network and its random: control (same architecture, untrained), Holm-adjusted over the table."},
		{"best_vs_hmax.csv", "Best trained network vs HMAX", "The trained network with the best held-out score on each benchmark against HMAX, paired bootstrap, Holm over the table."},
	} {
		t, err := readTable(dir, tb.file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rows, err := t.pick(testCols, testFmt)
		if err != nil {
			return nil, err
		}
		r.Sections = append(r.Sections, report.Section{Heading: tb.heading, Text: []string{tb.text}, Table: &report.Table{Header: testHeader, Rows: rows}})
	}

	if t, err := readTable(dir, "depth_order.csv"); err == nil {
		rows, err := t.pick([]string{"model", "depth_v1", "depth_v4", "depth_it", "prob_v1_lt_v4_lt_it", "p_v1_lt_v4", "p_v4_lt_it", "p", "p_holm"},
			map[string]func(string) string{"depth_v1": num, "depth_v4": num, "depth_it": num, "prob_v1_lt_v4_lt_it": num, "p_v1_lt_v4": pval, "p_v4_lt_it": pval, "p": pval, "p_holm": pval})
		if err != nil {
			return nil, err
		}
		r.Sections = append(r.Sections, report.Section{Heading: "Depth ordering V1 < V4 < IT",
			Text:  []string{"Each region's best depth (mean over its benchmarks) within each trained network; bootstrap probability of the strict order, one-sided p per step, p the larger of the two (intersection-union), Holm over networks."},
			Table: &report.Table{Header: []string{"model", "V1", "V4", "IT", "P(V1<V4<IT)", "p V1<V4", "p V4<IT", "p", "Holm p"}, Rows: rows}})
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	if t, err := readTable(dir, "performance_correlation.csv"); err == nil {
		rows, err := t.pick([]string{"scope", "models_set", "n", "spearman_rho", "p_permutation", "exact"},
			map[string]func(string) string{"spearman_rho": num, "p_permutation": pval})
		if err != nil {
			return nil, err
		}
		s := report.Section{Heading: "Task performance vs brain score",
			Text:  []string{"Spearman's rho across models of published ImageNet top-1 (random controls at chance) and held-out score, per region (mean over its benchmarks) and per benchmark; two-sided permutation p, exact up to 8 models."},
			Table: &report.Table{Header: []string{"scope", "models", "n", "rho", "p", "exact"}, Rows: rows}}
		if _, err := os.Stat(filepath.Join(dir, "performance_vs_score.png")); err == nil {
			s.Figures = []report.Figure{{File: "performance_vs_score.png", Caption: "ImageNet top-1 against mean held-out score per region"}}
		}
		r.Sections = append(r.Sections, s)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	if err := behaviourSections(r, dir, kind); err != nil {
		return nil, err
	}
	r.Sections = append(r.Sections, report.Section{Heading: "summary.txt", Pre: string(summary)})
	return r, nil
}

func regionRank(r string) int {
	if i := slices.Index(Regions, r); i >= 0 {
		return i
	}
	return len(Regions)
}

// behaviourSections adds the behaviour table and, per behavioural spec, accuracy and error
// consistency per category of the trained networks beside the humans.
func behaviourSections(r *report.Report, dir string, kind map[string]string) error {
	t, err := readTable(dir, "behaviour.csv")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	rows, err := t.pick([]string{"model", "spec", "categories", "stimuli", "accuracy", "error_consistency_kappa", "observed_consistency", "human_accuracy", "human_human_kappa"},
		map[string]func(string) string{"accuracy": num, "error_consistency_kappa": num, "observed_consistency": num, "human_accuracy": num, "human_human_kappa": num})
	if err != nil {
		return err
	}
	r.Sections = append(r.Sections, report.Section{Heading: "Behaviour: shape-only edge images",
		Text:  []string{"Error consistency (kappa) with the 10 human observers of Geirhos et al.'s edge experiment, beside human-human kappa on the same trials. ImageNet networks answer among all 16 categories; CIFAR-10 networks among the 7 categories that are CIFAR-10 classes (70 images, with their own human ceiling)."},
		Table: &report.Table{Header: []string{"model", "spec", "categories", "images", "accuracy", "kappa", "observed consistency", "human accuracy", "human-human kappa"}, Rows: rows}})
	cats, err := readTable(dir, "behaviour_categories.csv")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	all, err := cats.pick([]string{"model", "spec", "category", "model_accuracy", "model_human_kappa", "human_accuracy", "human_human_kappa"}, nil)
	if err != nil {
		return err
	}
	var specs []string
	for _, row := range all {
		if !slices.Contains(specs, row[1]) {
			specs = append(specs, row[1])
		}
	}
	for _, spec := range specs {
		var models, categories []string
		cell := map[[2]string]string{}
		humans := map[string]string{}
		for _, row := range all {
			if row[1] != spec || kind[row[0]] != "trained" {
				continue
			}
			if !slices.Contains(models, row[0]) {
				models = append(models, row[0])
			}
			if !slices.Contains(categories, row[2]) {
				categories = append(categories, row[2])
			}
			cell[[2]string{row[0], row[2]}] = num(row[3]) + " / " + num(row[4])
			humans[row[2]] = num(row[5]) + " / " + num(row[6])
		}
		if len(models) == 0 {
			continue
		}
		tb := &report.Table{Header: append(append([]string{"category"}, models...), "humans")}
		for _, c := range categories {
			row := []string{c}
			for _, m := range models {
				row = append(row, cell[[2]string{m, c}])
			}
			tb.Rows = append(tb.Rows, append(row, humans[c]))
		}
		r.Sections = append(r.Sections, report.Section{Heading: "Per category: " + spec,
			Text:  []string{"Trained networks: accuracy / error consistency with the observers on the category's trials; humans: accuracy / human-human kappa (- where undefined)."},
			Table: tb})
	}
	return nil
}

// WriteReport writes the report of the hierarchy output folder dir to out/report.html (out
// empty: dir itself), copying the figures beside it when out is another folder; it returns
// the page's path.
func WriteReport(dir, out string) (string, error) {
	r, err := Report(dir)
	if err != nil {
		return "", err
	}
	if out == "" {
		out = dir
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	src, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	dst, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	if src != dst {
		for _, f := range r.Figures() {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				return "", err
			}
			if err := atomicfile.Write(filepath.Join(out, f), b); err != nil {
				return "", err
			}
		}
	}
	path := filepath.Join(out, ReportFile)
	return path, r.WriteHTML(path)
}
