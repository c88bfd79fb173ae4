package benchmarks

import (
	"math"
	"strconv"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/subject"
)

// checkRidgeAgainstSklearn recomputes each layer's test score of a ridge benchmark with one
// penalty with scikit-learn: the model's activations z-scored by the train stimuli, Ridge with
// that penalty times the mean eigenvalue of the train features' covariance, Pearson r per
// neuron on the test stimuli (scipy), median over neurons; the held-out score is the chosen
// layer's.
func checkRidgeAgainstSklearn(t *testing.T, m subject.Model, b *Spec, r *Result, trainOut, testOut string) {
	t.Helper()
	if len(b.Metric.Alphas) != 1 {
		t.Fatalf("the check needs one penalty, the spec has %v", b.Metric.Alphas)
	}
	dir := t.TempDir()
	var layers []string
	for _, l := range r.Layers {
		layers = append(layers, l.Layer)
	}
	for _, split := range []string{b.Stimuli.Train, b.Stimuli.Test} {
		set, err := b.StimulusSet(split)
		if err != nil {
			t.Fatal(err)
		}
		feats, err := m.Activations(set, layers, subject.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range feats {
			d := make([]float64, len(f.Data))
			for k, v := range f.Data {
				d[k] = float64(v)
			}
			writeNpy(t, dir, split+"_"+layers[i]+".npy", []int{f.Rows, f.Cols}, d)
		}
	}
	script := `
import json, sys, numpy as np
from scipy.stats import pearsonr
from sklearn.linear_model import Ridge
ytr, yte, a = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
out = {}
for l in sys.argv[4:]:
    ftr, fte = np.load("train_%s.npy" % l), np.load("test_%s.npy" % l)
    mu, sd = ftr.mean(0), ftr.std(0)
    ok = sd > 0
    ztr = np.where(ok, (ftr - mu) / np.where(ok, sd, 1), 0.0)
    zte = np.where(ok, (fte - mu) / np.where(ok, sd, 1), 0.0)
    alpha = a * ((ztr - ztr.mean(0)) ** 2).sum() / len(ztr)
    p = Ridge(alpha=alpha).fit(ztr, ytr).predict(zte)
    out[l] = float(np.median([pearsonr(p[:, n], yte[:, n])[0] for n in range(yte.shape[1])]))
print(json.dumps(out))
`
	var want map[string]float64
	runPython(t, dir, script, &want, append([]string{trainOut, testOut, formatFloat(b.Metric.Alphas[0])}, layers...)...)
	for _, l := range r.Layers {
		if math.Abs(l.Score-want[l.Layer]) > 1e-4 {
			t.Errorf("layer %s: score %.6f, scikit-learn %.6f", l.Layer, l.Score, want[l.Layer])
		}
	}
	if math.Abs(r.HeldOut-want[r.BestLayer]) > 1e-4 {
		t.Errorf("held-out %.6f, scikit-learn's score of the chosen layer %s %.6f", r.HeldOut, r.BestLayer, want[r.BestLayer])
	}
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// allenOutputs returns the mirror paths of the Allen train and test responses.
func allenOutputs(t *testing.T) (string, string) {
	return mirror.Path(t, "allen-mouse-v1/Allen_train_output.npy"), mirror.Path(t, "allen-mouse-v1/Allen_test_output.npy")
}

// checkHumanITAgainstScipy recomputes the human IT benchmark's per-layer scores with numpy and
// scipy from the model's activations: correlation-distance RDMs, Spearman with each subject's
// RDM (the mean of its two sessions), averaged over the 4 subjects; the normalised scores are
// these over the ceiling's upper bound, whose value (0.6607, lower 0.3786) scipy gives in
// TestHumanITCeilingBySubject.
func checkHumanITAgainstScipy(t *testing.T, m subject.Model, b *Spec, r *Result) {
	t.Helper()
	const lower, upper = 0.3786, 0.6607
	if math.Abs(r.Ceiling.Lower-lower) > 5e-5 || math.Abs(r.Ceiling.Upper-upper) > 5e-5 {
		t.Errorf("ceiling lower %.5f upper %.5f, scipy %.4f %.4f", r.Ceiling.Lower, r.Ceiling.Upper, lower, upper)
	}
	dir := t.TempDir()
	set, err := b.StimulusSet("")
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, l := range r.Layers {
		layers = append(layers, l.Layer)
	}
	feats, err := m.Activations(set, layers, subject.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range feats {
		d := make([]float64, len(f.Data))
		for k, v := range f.Data {
			d[k] = float64(v)
		}
		writeNpy(t, dir, layers[i]+".npy", []int{f.Rows, f.Cols}, d)
	}
	script := `
import json, sys, numpy as np, scipy.io as sio
from scipy.stats import spearmanr
R = sio.loadmat(sys.argv[1])["RDMs"]
iu = np.triu_indices(92, 1)
subj = [np.mean([R[0, s, e]["RDM"][iu] for e in range(2)], axis=0) for s in range(4)]
out = {}
for l in sys.argv[2:]:
    rdm = (1 - np.corrcoef(np.load(l + ".npy")))[iu]
    out[l] = float(np.mean([spearmanr(rdm, u)[0] for u in subj]))
print(json.dumps(out))
`
	var want map[string]float64
	runPython(t, dir, script, &want, append([]string{mirror.Path(t, k92[1])}, layers...)...)
	for _, l := range r.Layers {
		// 1e-4: the model RDM is a float32 Gram matrix here, float64 in numpy.
		if math.Abs(l.Score-want[l.Layer]) > 1e-4 {
			t.Errorf("layer %s: score %.6f, scipy %.6f", l.Layer, l.Score, want[l.Layer])
		}
		if l.Normalized == nil || math.Abs(*l.Normalized-want[l.Layer]/upper) > 5e-4 {
			t.Errorf("layer %s: normalised %.6f, scipy %.6f / upper %.4f = %.6f", l.Layer, deref(l.Normalized), want[l.Layer], upper, want[l.Layer]/upper)
		}
	}
}
