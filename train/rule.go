package train

import (
	"fmt"

	"github.com/ventral-lab/ventral/rules"
)

// newRule binds the run's learning rule to its model: fresh feedback matrices drawn from the
// run's seed, or, when resuming, the ones the checkpoint saved.
func newRule(cfg Config, ck *Checkpoint) (*rules.Rule, error) {
	r, err := rules.New(cfg.Rule, cfg.Model, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if ck != nil {
		if err := r.LoadState(ck.Rule, ck.Path); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	return r, nil
}

// startRule prepares a fresh run's model for its rule: fa and dfa start with the output layers
// at zero (rules.Rule.ZeroOutputLayers).
func startRule(cfg Config) error {
	r, err := rules.New(cfg.Rule, cfg.Model, cfg.Seed)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if r.ZeroesOutput() {
		r.ZeroOutputLayers()
	}
	return nil
}
