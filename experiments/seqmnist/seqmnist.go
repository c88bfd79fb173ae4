// Package seqmnist is the sequential-MNIST experiment: it asks whether subtractive gating, the
// cortical-microcircuit reading of the LSTM by Costa et al. (2017), learns as well as the
// multiplicative gates of the LSTM. Each model reads an MNIST image row by row (28 steps of 28
// pixels, the "row-sequential" task), keeps its last hidden state and classifies it with one
// linear layer. Every cell gets the same hidden size, data, optimizer, epochs and seed, and
// the table reports their test accuracy side by side.
//
// Row-sequential rather than pixel-by-pixel (784 steps of one pixel, the paper's harder
// variant): the pixel task is 28 times longer per image and needs many epochs, hours on two
// CPU cores; the row task separates the cells in minutes.
package seqmnist

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/train"
)

// Cells are the recurrent layers the experiment knows: nn's lstm, sublstm, and sublstm with a
// learned constant forget gate.
var Cells = []string{"lstm", "sublstm", "fix-sublstm"}

// Config sets up a run; start from Defaults.
type Config struct {
	Cells  []string // from Cells
	Hidden int      // units of every cell
	// Train and Test, when set, replace MNIST (tests use small synthetic sets).
	Train, Test   *datasets.Dataset
	TrainN, TestN int // subsets (<= 0: all)
	Epochs, Batch int
	LR            float64 // Adam
	Seed          uint64
	Threads       int
	Log           io.Writer
}

// Defaults is the size the README reports: all three cells, 64 units, all 60,000 training and
// 10,000 test images, 4 epochs; a few minutes per cell on two cores.
func Defaults() Config {
	return Config{Cells: Cells, Hidden: 64, Epochs: 4, Batch: 64, LR: 3e-3, Seed: 1}
}

// Row is one cell's result.
type Row struct {
	Cell     string
	Hidden   int
	Params   int
	TrainAcc float64 // last epoch, running mean over its batches
	TestAcc  float64
	Seconds  float64 // training and evaluation wall time
}

// Model returns the row-sequential classifier with the named cell: the image [1 28 28] is
// reshaped to 28 steps of 28 pixels, read by the cell, and its last hidden state goes to a
// linear readout over 10 classes. Built with seed.
func Model(cell string, hidden int, seed uint64) (*nn.Graph, error) {
	var rnn *nn.LSTM
	switch cell {
	case "lstm":
		rnn = nn.NewLSTM(hidden)
	case "sublstm":
		rnn = nn.NewSubLSTM(hidden)
	case "fix-sublstm":
		rnn = nn.NewSubLSTM(hidden)
		rnn.FixedForget = true
	default:
		return nil, fmt.Errorf("seqmnist: unknown cell %q (expected one of %v)", cell, Cells)
	}
	g := &nn.Graph{Name: cell + "-mnist-rows", InputShape: []int{1, 28, 28},
		Meta: map[string]string{"citation": "Costa et al. 2017, Cortical microcircuits as gated-recurrent neural networks (NeurIPS)"}}
	g.Add("rows", &nn.Reshape{Shape: []int{28, 28}}, nn.InputName).
		Chain("rnn", rnn).
		Chain("readout", &nn.Dense{Out: 10})
	if err := g.Build(seed); err != nil {
		return nil, err
	}
	return g, nil
}

// Run trains and tests every cell with the same recipe.
func Run(cfg Config) ([]Row, error) {
	if len(cfg.Cells) == 0 {
		return nil, fmt.Errorf("seqmnist: no cells")
	}
	if cfg.Hidden <= 0 || cfg.Epochs <= 0 || cfg.Batch <= 0 || cfg.LR <= 0 {
		return nil, fmt.Errorf("seqmnist: hidden (%d), epochs (%d), batch (%d) and lr (%g) must be positive", cfg.Hidden, cfg.Epochs, cfg.Batch, cfg.LR)
	}
	if cfg.TrainN < 0 || cfg.TestN < 0 || cfg.Threads < 0 {
		return nil, fmt.Errorf("seqmnist: train (%d), test (%d) and threads (%d) must not be negative (0: all)", cfg.TrainN, cfg.TestN, cfg.Threads)
	}
	for _, c := range cfg.Cells {
		if _, err := Model(c, 1, 0); err != nil {
			return nil, err
		}
	}
	trainSet, testSet, err := datasets.LoadSplits("mnist", cfg.Train, cfg.Test)
	if err != nil {
		return nil, err
	}
	trainSet, testSet = train.Subset(trainSet, cfg.TrainN), train.Subset(testSet, cfg.TestN)
	var rows []Row
	for _, cell := range cfg.Cells {
		g, err := Model(cell, cfg.Hidden, cfg.Seed)
		if err != nil {
			return nil, err
		}
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "%s: %d hidden units, %d parameters, %d training and %d test images\n", cell, cfg.Hidden, g.NumParams(), trainSet.Len(), testSet.Len())
		}
		t0 := time.Now()
		res, err := train.Run(train.Config{Model: g, Train: trainSet, DataName: "mnist", Epochs: cfg.Epochs, Batch: cfg.Batch,
			Optim: optim.Config{Name: "adam", LR: cfg.LR}, Schedule: optim.Schedule{Kind: "cosine"}, Seed: cfg.Seed, Threads: cfg.Threads, Log: cfg.Log})
		if err != nil {
			return nil, fmt.Errorf("seqmnist: %s: %w", cell, err)
		}
		acc, _, err := train.Evaluate(g, testSet, 0)
		if err != nil {
			return nil, fmt.Errorf("seqmnist: %s: %w", cell, err)
		}
		last := res.Rows[len(res.Rows)-1]
		rows = append(rows, Row{Cell: cell, Hidden: cfg.Hidden, Params: g.NumParams(), TrainAcc: last.TrainAcc, TestAcc: acc, Seconds: time.Since(t0).Seconds()})
	}
	return rows, nil
}

// WriteTable prints the rows as an aligned table.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "cell\thidden\tparameters\ttrain acc\ttest acc\tseconds")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%.4f\t%.0f\n", r.Cell, r.Hidden, r.Params, r.TrainAcc, r.TestAcc, r.Seconds)
	}
	return tw.Flush()
}

// WriteCSV writes the rows to path atomically.
func WriteCSV(path string, rows []Row) error {
	return atomicfile.WriteFunc(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"cell", "hidden", "parameters", "train_acc", "test_acc", "seconds"})
		for _, r := range rows {
			cw.Write([]string{r.Cell, strconv.Itoa(r.Hidden), strconv.Itoa(r.Params), strconv.FormatFloat(r.TrainAcc, 'f', 4, 64),
				strconv.FormatFloat(r.TestAcc, 'f', 4, 64), strconv.FormatFloat(r.Seconds, 'f', 1, 64)})
		}
		cw.Flush()
		return cw.Error()
	})
}
