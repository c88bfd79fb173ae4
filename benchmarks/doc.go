// Package benchmarks scores models against neural data. A benchmark is data, not code: a YAML
// spec names its stimuli, its neural data, the region, the metric and the ceiling. Built-in
// specs live in specs/*.yaml (Builtin lists them); Load also reads a user's spec file.
//
//	name: kriegeskorte92-humanIT-rsa   # unique name; results are keyed by name and version
//	version: 1
//	citation: "Kriegeskorte et al. 2008 ..."
//	region: IT                          # also selects neuroids when data have region metadata
//	stimuli: {set: kriegeskorte92}      # a built-in set, or {set: allen-mouse-v1, train: train, test: test}
//	# stimuli:                          # ... or a file: images.zip | a folder | x.npy | x.npz | x.mat
//	#   path: images.zip                # relative to this spec, or absolute; or dataset: + file: (hash-checked)
//	#   variable: images                # .npz member / .mat struct array (field: image)
//	#   id_offset: 1                    # arrays: ids are row numbers from 0 (+ id_offset); or id_variable: ids
//	#   metadata: stimuli.csv           # optional, a row per stimulus; without it ids are the sorted file names
//	#   id_column: id                   # the CSV's id column; file_column: file makes rows name the images
//	#   degrees: 8                      # visual angle of the images
//	data:
//	  kind: rdm                         # rdm | assembly
//	  dataset: kriegeskorte92           # a registered dataset file (hash-checked) ...
//	  file: Kriegeskorte_Neuron2008_supplementalData.mat
//	  # path: my.csv                    # ... or a local file, relative to the spec
//	  variable: RDMs_mIT_hIT_fig1(2)    # MAT path: var(k).field, one-based index
//	  field: RDM                        # struct field holding each RDM
//	  # dims: [neuroid, stimulus, repetition]  assembly arrays: the axes in file order (any order of
//	  #                                 stimulus, neuroid, time_bin, repetition); NaN = missing repetition
//	  # stimulus_ids: order             # rows follow the stimulus set; or an id column / variable name
//	  # train: {file: ...}  test: {file: ...}   a shipped train/test split (regression)
//	metric:
//	  type: rsa                         # rsa | ridge | pls
//	  rdm_distance: correlation         # rsa: correlation | euclidean
//	  comparison: spearman              # rsa: spearman | pearson | kendall_tau_a
//	  target: subjects                  # rsa: reference (default) | subjects
//	  bootstrap: 1000
//	  # folds: 5, stratify: category, components: 25, alphas: [...], aggregate: median
//	ceiling:
//	  type: rsa-noise-ceiling           # rsa-noise-ceiling | split-half | none
//	  data: {kind: rdm, dataset: kriegeskorte92, file: 92_brainRDMs.mat, variable: RDMs, field: RDM}
//	  unit: subject                     # rsa-noise-ceiling: rdm (default) | session | subject
//	                                    # (subject: a subject's RDMs averaged, one subject left out)
//	  note: "how the ceiling is estimated, or why there is none"
//
// Unknown keys are errors. Score runs a model on a benchmark. It sees the model only through
// subject.Model (a ventral graph via subject.FromGraph, an imported network, or activations
// precomputed elsewhere via subject.Open), never its layers' internals: it asks for the layers'
// activations, computes the metric per layer, the ceiling, raw and normalised scores
// (normalised = raw / ceiling; for the RSA noise ceiling of Nili et al. 2014 the upper bound),
// 95% percentile bootstrap intervals over stimuli, and the layer-to-region mapping: the best
// layer is chosen on data kept apart from the data that score it (RSA: one half of the
// stimuli by a seeded split, scored on the other half; regression: inner cross-validation on
// the training stimuli, scored on the test stimuli), with a paired bootstrap test of the best
// layer against the best of the others.
//
// Regression metrics (ridge: fitted on the train split with its penalty chosen by nested
// cross-validation, scored on the test split; pls: 25 components, 10-fold cross-validation over
// all stimuli, stratified by a stimulus metadata column, mean and standard error over folds of
// the median Pearson r over neuroids) report per-neuroid scores, and the split-half ceiling
// (metrics/ceiling: Spearman-Brown corrected split-half r over repetitions, median over
// neuroids) normalises them as r / ceiling. Stimuli come from package stimuli, activations from
// package activations (content-addressed cache), and the statistics from metrics/stats,
// metrics/rsa, metrics/regression and metrics/ceiling.
//
// Time: Score pools the time bins of an assembly (RSA: one response vector of neuroid x bin;
// regression: each neuroid@bin a target of its own). A recurrent
// model's layers can be recorded step by step ("IT@t2", see nn.StepSep), and ScoreTimeCourse
// compares a layer at every model step with every time bin of an RSA benchmark's responses:
// the time course of the model-brain match.
package benchmarks
