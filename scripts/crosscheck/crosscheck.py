#!/usr/bin/python3
"""Reference values for ventral's metrics, computed with numpy, scipy and scikit-learn.

Usage: crosscheck.py INPUT.json  -> prints one JSON object on stdout.

The input (written by the Go test TestCrosscheckPython in metrics/) holds small matrices; every
quantity here is computed independently of ventral's Go code:
  patterns             -> condensed RDMs via scipy.spatial.distance.pdist (correlation, cosine,
                          euclidean, sqeuclidean)
  rdm_a, rdm_b         -> scipy.stats.spearmanr, pearsonr, kendalltau(variant='b') and tau-a
                          counted directly with numpy (scipy has no tau-a variant), cosine
  pls                  -> sklearn PLSRegression(n_components, scale=True) predictions, with the
                          default and with a tight (tol=1e-15) NIPALS convergence tolerance
  ridge                -> sklearn Ridge(alpha) predictions and coef_
  splithalf            -> Pearson r between the means of two fixed halves of the repetitions
"""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial.distance import pdist
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import Ridge


def tau_a(x, y):
    x = np.asarray(x)
    y = np.asarray(y)
    n = len(x)
    s = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    return float(np.triu(s, 1).sum() / (n * (n - 1) / 2))


def main():
    with open(sys.argv[1]) as f:
        inp = json.load(f)
    out = {}
    P = np.array(inp["patterns"], dtype=float)
    for metric in ("correlation", "cosine", "euclidean", "sqeuclidean"):
        out["rdm_" + metric] = pdist(P, metric).tolist()
    a = np.array(inp["rdm_a"], dtype=float)
    b = np.array(inp["rdm_b"], dtype=float)
    out["spearman"] = float(stats.spearmanr(a, b)[0])
    out["pearson"] = float(stats.pearsonr(a, b)[0])
    out["tau_a"] = tau_a(a, b)
    out["tau_b"] = float(stats.kendalltau(a, b, variant="b")[0])
    out["cosine"] = float(a @ b / np.sqrt((a @ a) * (b @ b)))

    pls = inp["pls"]
    X = np.array(pls["X"], dtype=float)
    Y = np.array(pls["Y"], dtype=float)
    Xt = np.array(pls["Xtest"], dtype=float)
    m = PLSRegression(n_components=pls["n_components"], scale=True).fit(X, Y)
    out["pls_pred_default_tol"] = m.predict(Xt).tolist()
    # NIPALS' inner power iteration stops at tol=1e-6 by default, which leaves predictions ~1e-3
    # away from the converged solution; the tightly converged fit is the reference.
    m = PLSRegression(n_components=pls["n_components"], scale=True, max_iter=100000, tol=1e-15).fit(X, Y)
    out["pls_pred"] = m.predict(Xt).tolist()

    rd = inp["ridge"]
    X = np.array(rd["X"], dtype=float)
    Y = np.array(rd["Y"], dtype=float)
    Xt = np.array(rd["Xtest"], dtype=float)
    r = Ridge(alpha=rd["alpha"]).fit(X, Y)
    out["ridge_pred"] = r.predict(Xt).tolist()
    out["ridge_coef"] = np.atleast_2d(r.coef_).T.tolist()  # features x neuroids

    sh = inp["splithalf"]
    D = np.array(sh["data"], dtype=float)  # stimuli x neuroids x repetitions
    ha = D[:, :, sh["a"]].mean(axis=2)
    hb = D[:, :, sh["b"]].mean(axis=2)
    rs = [float(stats.pearsonr(ha[:, j], hb[:, j])[0]) for j in range(D.shape[1])]
    out["splithalf_r"] = rs
    out["splithalf_sb"] = [2 * v / (1 + v) for v in rs]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
