#!/usr/bin/env python3
"""The numpy / scikit-learn side of bench/batch-suite.mjs: the same job as `ferry batch` (read a CSV of id + 30
floats, score it with the breast_cancer classifier, write the results), done the plain scientific-Python way:
np.loadtxt, Pipeline.predict_proba, np.savetxt. Run with /usr/bin/python3 (it has numpy and scikit-learn).

    /usr/bin/python3 bench/batch_sklearn.py generate ROWS OUT.csv [SEED]   # the benchmark's input, deterministic
    /usr/bin/python3 bench/batch_sklearn.py score IN.csv OUT.csv           # the baseline job; one JSON line

The model is trained exactly as examples/make_models.py trains breast_cancer (same data split, seed and
Pipeline(StandardScaler, LogisticRegression)), so its coefficients are the ones in examples/models/breast_cancer's
ONNX file and its probabilities match ferry's to float32 precision (the suite checks a sample of rows).
"""

import json
import os
import sys
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

SEED = 0  # examples/make_models.py's SEED


def train():
    """examples/make_models.py's make_breast_cancer(), the training part."""
    data = load_breast_cancer()
    X = data.data.astype(np.float32)
    y = data.target
    X_train, _X_test, y_train, _y_test = train_test_split(X, y, test_size=0.2, random_state=SEED, stratify=y)
    pipe = Pipeline([("scaler", StandardScaler()), ("classifier", LogisticRegression(max_iter=1000))])
    pipe.fit(X_train, y_train)
    return pipe


def generate(rows, out, seed):
    """Rows like the breast cancer data set's: a random real row plus noise (10% of each feature's spread),
    written with 6 significant digits (about 275 bytes a row). Written to OUT.tmp, then renamed."""
    data = load_breast_cancer().data
    std = data.std(axis=0)
    rng = np.random.default_rng(seed)
    tmp = out + ".tmp"
    names = ["id"] + ["f%02d" % i for i in range(data.shape[1])]
    fmt = "%d," + ",".join(["%.6g"] * data.shape[1])
    chunk = 100_000
    with open(tmp, "w") as f:
        f.write(",".join(names) + "\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            base = data[rng.integers(0, data.shape[0], n)]
            x = np.abs(base + rng.standard_normal((n, data.shape[1])) * std * 0.1)
            block = np.column_stack([np.arange(start, start + n), x])
            f.write("\n".join(fmt % tuple(r) for r in block))
            f.write("\n")
    os.replace(tmp, out)


def score(inp, out):
    t0 = time.perf_counter()
    pipe = train()
    t1 = time.perf_counter()
    table = np.loadtxt(inp, delimiter=",", skiprows=1, dtype=np.float64)
    ids = table[:, 0].astype(np.int64)
    X = table[:, 1:].astype(np.float32)  # the model was trained on float32, as ferry's input is FP32
    del table
    t2 = time.perf_counter()
    proba = pipe.predict_proba(X)
    label = pipe.classes_[np.argmax(proba, axis=1)]
    t3 = time.perf_counter()
    np.savetxt(out, np.column_stack([ids, label, proba]), fmt=["%d", "%d", "%.9g", "%.9g"], delimiter=",",
               header="id,output_label,probability_0,probability_1", comments="")
    t4 = time.perf_counter()
    with open(out, "rb") as f:
        rows_out = sum(1 for _ in f) - 1
    print(json.dumps({
        "rows_in": int(X.shape[0]), "rows_out": rows_out,
        "train_s": t1 - t0, "read_s": t2 - t1, "score_s": t3 - t2, "write_s": t4 - t3,
        # The job's time: read + score + write (training stands in for loading a model and is not counted).
        "seconds": t4 - t1, "rows_per_s": X.shape[0] / (t4 - t1),
    }))


def main(argv):
    if len(argv) >= 3 and argv[0] == "generate":
        generate(int(argv[1]), argv[2], int(argv[3]) if len(argv) > 3 else 42)
    elif len(argv) == 3 and argv[0] == "score":
        score(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
