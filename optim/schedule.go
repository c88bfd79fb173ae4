package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule scales the base learning rate per step. Kinds:
//
//	constant  lr
//	step      lr * Gamma^floor(epoch/StepEpochs), epoch = step/StepsPerEpoch (torch StepLR)
//	cosine    Floor + (lr-Floor)*(1+cos(pi*t/T))/2 over the steps after warm-up (torch
//	          CosineAnnealingLR evaluated per step, eta_min = Floor)
//
// A linear warm-up of WarmupSteps composes with any kind: at step s < WarmupSteps the rate is
// the scheduled rate times (s+1)/WarmupSteps. Steps count from 0.
type Schedule struct {
	Kind        string  `json:"kind"`                   // "constant" (default), "step", "cosine"
	StepEpochs  int     `json:"step_epochs,omitempty"`  // step: decay every this many epochs
	Gamma       float64 `json:"gamma,omitempty"`        // step: factor (default 0.1)
	Floor       float64 `json:"floor,omitempty"`        // cosine: final learning rate
	WarmupSteps int     `json:"warmup_steps,omitempty"` // linear warm-up length in steps
}

// Validate reports an unusable schedule.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "", "constant", "cosine":
	case "step":
		if s.StepEpochs <= 0 {
			return fmt.Errorf("optim: step schedule needs step_epochs > 0")
		}
		if s.Gamma < 0 {
			return fmt.Errorf("optim: step schedule gamma must be >= 0, got %v", s.Gamma)
		}
	default:
		return fmt.Errorf("optim: unknown schedule %q (expected constant, step or cosine)", s.Kind)
	}
	if s.WarmupSteps < 0 || s.Floor < 0 {
		return fmt.Errorf("optim: warm-up steps and floor must be >= 0")
	}
	return nil
}

// LR returns the learning rate at step (0-based) for base rate base, given the number of steps
// per epoch and the total number of steps of the run (used by cosine).
func (s Schedule) LR(base float64, step, stepsPerEpoch, totalSteps int) float64 {
	lr := base
	switch s.Kind {
	case "step":
		g := s.Gamma
		if g == 0 {
			g = 0.1
		}
		epoch := 0
		if stepsPerEpoch > 0 {
			epoch = step / stepsPerEpoch
		}
		lr = base * math.Pow(g, float64(epoch/s.StepEpochs))
	case "cosine":
		span := totalSteps - s.WarmupSteps
		t := step - s.WarmupSteps
		if t < 0 {
			t = 0
		}
		frac := 1.0
		if span > 0 {
			frac = math.Min(float64(t)/float64(span), 1)
		}
		lr = s.Floor + (base-s.Floor)*(1+math.Cos(math.Pi*frac))/2
	}
	if step < s.WarmupSteps {
		lr *= float64(step+1) / float64(s.WarmupSteps)
	}
	return lr
}

// ParseSchedule reads a schedule from a short form:
//
//	constant
//	step:N[:GAMMA]      decay by GAMMA (default 0.1) every N epochs
//	cosine[:FLOOR]      cosine to FLOOR (default 0)
//
// each optionally followed by ",warmup=STEPS", e.g. "cosine:1e-4,warmup=500".
func ParseSchedule(text string) (Schedule, error) {
	var s Schedule
	parts := strings.Split(strings.TrimSpace(text), ",")
	for _, extra := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(extra), "=")
		if !ok || k != "warmup" {
			return s, fmt.Errorf("optim: schedule %q: unknown option %q (expected warmup=STEPS)", text, extra)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s, fmt.Errorf("optim: schedule %q: warmup must be a step count", text)
		}
		s.WarmupSteps = n
	}
	f := strings.Split(parts[0], ":")
	s.Kind = f[0]
	num := func(i int) (float64, error) {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return 0, fmt.Errorf("optim: schedule %q: %q is not a number", text, f[i])
		}
		return v, nil
	}
	switch s.Kind {
	case "", "constant":
		s.Kind = "constant"
		if len(f) > 1 {
			return s, fmt.Errorf("optim: schedule %q: constant takes no arguments", text)
		}
	case "step":
		if len(f) < 2 || len(f) > 3 {
			return s, fmt.Errorf("optim: schedule %q: expected step:EPOCHS[:GAMMA]", text)
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return s, fmt.Errorf("optim: schedule %q: %q is not an epoch count", text, f[1])
		}
		s.StepEpochs, s.Gamma = n, 0.1
		if len(f) == 3 {
			if s.Gamma, err = num(2); err != nil {
				return s, err
			}
		}
	case "cosine":
		if len(f) > 2 {
			return s, fmt.Errorf("optim: schedule %q: expected cosine[:FLOOR]", text)
		}
		if len(f) == 2 {
			v, err := num(1)
			if err != nil {
				return s, err
			}
			s.Floor = v
		}
	}
	return s, s.Validate()
}

// String is the short form read by ParseSchedule.
func (s Schedule) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	var out string
	switch s.Kind {
	case "step":
		g := s.Gamma
		if g == 0 {
			g = 0.1
		}
		out = "step:" + strconv.Itoa(s.StepEpochs) + ":" + f(g)
	case "cosine":
		out = "cosine"
		if s.Floor != 0 {
			out += ":" + f(s.Floor)
		}
	default:
		out = "constant"
	}
	if s.WarmupSteps > 0 {
		out += ",warmup=" + strconv.Itoa(s.WarmupSteps)
	}
	return out
}
