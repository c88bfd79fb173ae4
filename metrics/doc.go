// Package metrics groups the statistics that compare model activations with neural recordings:
// rsa (representational similarity analysis), regression (PLS, ridge and cross-validated neural
// predictivity), ceiling (split-half reliability and score normalisation) and stats (shared
// helpers). Its own test cross-checks them against numpy, scipy and scikit-learn through
// scripts/crosscheck/crosscheck.py when those are installed.
package metrics
