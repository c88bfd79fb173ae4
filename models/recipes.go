package models

import (
	"fmt"
	"strconv"
	"strings"
)

// Recipe is the training recipe a zoo model is trained with by default: the settings the README
// reports results for (lenet5: test accuracy 0.9897 after 2 epochs; cifar-cnn after 15). Without
// it `ventral train --model lenet5` used the generic flag defaults and reached 0.9829. Flags
// given on the command line override single fields.
type Recipe struct {
	Optimizer   string
	LR          float64
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	Schedule    string
	Warmup      int // linear warm-up steps
	Batch       int
	Epochs      int
	Flip        bool
	Crop        int // random-crop padding in pixels
}

var recipes = map[string]Recipe{
	"lenet5": {Optimizer: "sgd", LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Schedule: "cosine",
		Warmup: 200, Batch: 64, Epochs: 2},
	"cifar-cnn": {Optimizer: "sgd", LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Schedule: "cosine",
		Warmup: 300, Batch: 128, Epochs: 15, Flip: true, Crop: 4},
}

// RecipeOf returns the training recipe of a zoo model, if it has one.
func RecipeOf(name string) (Recipe, bool) {
	r, ok := recipes[name]
	return r, ok
}

// Flags returns the recipe as `ventral train` flag values, by flag name.
func (r Recipe) Flags() map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return map[string]string{
		"optimizer": r.Optimizer, "lr": f(r.LR), "momentum": f(r.Momentum), "nesterov": strconv.FormatBool(r.Nesterov),
		"weight-decay": f(r.WeightDecay), "schedule": r.Schedule, "warmup": strconv.Itoa(r.Warmup),
		"batch": strconv.Itoa(r.Batch), "epochs": strconv.Itoa(r.Epochs), "flip": strconv.FormatBool(r.Flip),
		"crop": strconv.Itoa(r.Crop),
	}
}

// String writes the recipe as the flags that give it.
func (r Recipe) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--optimizer %s --lr %g --momentum %g", r.Optimizer, r.LR, r.Momentum)
	if r.Nesterov {
		b.WriteString(" --nesterov")
	}
	fmt.Fprintf(&b, " --weight-decay %g --schedule %s --warmup %d --batch %d --epochs %d", r.WeightDecay, r.Schedule, r.Warmup, r.Batch, r.Epochs)
	if r.Flip {
		b.WriteString(" --flip")
	}
	if r.Crop > 0 {
		fmt.Fprintf(&b, " --crop %d", r.Crop)
	}
	return b.String()
}
