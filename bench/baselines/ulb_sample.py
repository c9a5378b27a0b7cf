#!/usr/bin/env python3
"""XGBoost on the ULB card-fraud sample's time split, and how much its AUC can move.

The split is the one `train anomaly --time-column Time --holdout 0.3` makes: rows sorted by
`Time` (stable), the earliest 70 % to train, the latest 30 % to test; `sample_weight` (33 for
the legitimate rows kept at 3 %, 1 for frauds) in training and in the AUC. Prints the later
period's weighted AUC for a few XGBoost settings, then a bootstrap over the test rows of the
model with the settings closest to nivesh-ml's defaults (300 rounds, depth 2, rate 0.05, min
child weight 5, subsample 0.8).

    pip install xgboost scikit-learn pandas
    python3 bench/baselines/ulb_sample.py ../shared/datasets/fraud/creditcard_train_sample.csv
"""
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

d = pd.read_csv(sys.argv[1]).sort_values("Time", kind="stable")
cut = int(round(len(d) * 0.7))
tr, te = d.iloc[:cut], d.iloc[cut:]
feats = [c for c in d.columns if c not in ("Class", "orig_row", "sample_weight", "Time")]
print(f"train {len(tr)} rows ({int(tr.Class.sum())} frauds), test {len(te)} rows ({int(te.Class.sum())} frauds)")


def fit(depth, rounds, eta, mcw, sub, seed=0):
    m = xgb.XGBClassifier(n_estimators=rounds, max_depth=depth, learning_rate=eta, min_child_weight=mcw,
                          subsample=sub, tree_method="hist", random_state=seed)
    m.fit(tr[feats], tr.Class, sample_weight=tr.sample_weight)
    return m.predict_proba(te[feats])[:, 1]


for depth, rounds, eta, mcw, sub in [(2, 300, 0.05, 5, 0.8), (4, 400, 0.3, 1, 1.0), (4, 400, 0.1, 1, 1.0),
                                     (6, 100, 0.3, 1, 1.0)]:
    auc = roc_auc_score(te.Class, fit(depth, rounds, eta, mcw, sub), sample_weight=te.sample_weight)
    print(f"depth {depth}, {rounds} rounds, rate {eta}, min child weight {mcw}, subsample {sub}: AUC {auc:.4f}")

p = fit(2, 300, 0.05, 5, 0.8)
y, w = te.Class.values, te.sample_weight.values
rng = np.random.default_rng(0)
boot = []
for _ in range(500):
    i = rng.integers(0, len(y), len(y))
    boot.append(roc_auc_score(y[i], p[i], sample_weight=w[i]))
lo, hi = np.percentile(boot, [2.5, 97.5])
print(f"bootstrap over the test rows (500 resamples): sd {np.std(boot):.4f}, 95 % interval {lo:.4f}-{hi:.4f}")
