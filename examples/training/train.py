#!/usr/bin/env python3
"""Trains the example classifier and hands it to ferry: scikit-learn's breast cancer data, a Pipeline of
StandardScaler and LogisticRegression, exported to ONNX (ai.onnx.ml's Scaler, LinearClassifier and Normalizer, written
with onnx.helper as skl2onnx lays them out; skl2onnx itself is not needed) and written into a ferry model repository
as the model's next version. The version folder appears in one rename, so a ferry polling the repository loads it
complete, warms it up, and moves traffic to it without a failed request.

    python3 train.py --repository /models [--model breast_cancer] [--c 1.0] [--seed 0]

Prints the test-set accuracy and the version it wrote. Runs in its own image (Containerfile here) or anywhere with
numpy, scikit-learn and onnx.
"""
import argparse
import json
import os
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def floats(values):
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def export(pipe, n_features):
    """The fitted pipeline as an ONNX-ML graph: label (INT64 [N]) and probabilities (FP32 [N, 2])."""
    scaler, clf = pipe.named_steps["scaler"], pipe.named_steps["classifier"]
    # A binary LogisticRegression keeps one row of weights; LinearClassifier wants one per class.
    coefficients = [-c for c in floats(clf.coef_)] + floats(clf.coef_)
    intercepts = [-b for b in floats(clf.intercept_)] + floats(clf.intercept_)
    nodes = [
        helper.make_node("Scaler", ["float_input"], ["scaled"], domain="ai.onnx.ml",
                         offset=floats(scaler.mean_), scale=floats(1.0 / scaler.scale_)),
        helper.make_node("LinearClassifier", ["scaled"], ["label", "scores"], domain="ai.onnx.ml",
                         coefficients=coefficients, intercepts=intercepts, multi_class=1,
                         post_transform="LOGISTIC", classlabels_ints=[int(c) for c in clf.classes_]),
        helper.make_node("Normalizer", ["scores"], ["output_probability"], domain="ai.onnx.ml", norm="L1"),
        helper.make_node("Cast", ["label"], ["output_label"], to=TensorProto.INT64),
    ]
    graph = helper.make_graph(
        nodes, "breast_cancer",
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
         helper.make_tensor_value_info("output_probability", TensorProto.FLOAT, [None, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def next_version(model_dir):
    versions = [int(d) for d in os.listdir(model_dir) if d.isdigit()] if os.path.isdir(model_dir) else []
    return max(versions, default=0) + 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repository", required=True, help="the ferry model repository to write into")
    p.add_argument("--model", default="breast_cancer")
    p.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    data = load_breast_cancer()
    X, y = data.data.astype(np.float32), data.target
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=a.seed, stratify=y)
    pipe = Pipeline([("scaler", StandardScaler()), ("classifier", LogisticRegression(C=a.c, max_iter=1000))])
    pipe.fit(X_train, y_train)
    accuracy = float(pipe.score(X_test, y_test))

    model_dir = os.path.join(a.repository, a.model)
    os.makedirs(model_dir, exist_ok=True)
    version = next_version(model_dir)
    # Written beside its final place, then renamed in: ferry never sees half a version.
    staging = tempfile.mkdtemp(prefix=".training-", dir=model_dir)
    onnx.save(export(pipe, X.shape[1]), os.path.join(staging, "model.onnx"))
    with open(os.path.join(staging, "training.json"), "w") as f:
        json.dump({"accuracy": accuracy, "C": a.c, "seed": a.seed, "rows": int(len(X_train))}, f)
    os.chmod(staging, 0o755)
    os.rename(staging, os.path.join(model_dir, str(version)))
    print(json.dumps({"model": a.model, "version": version, "test_accuracy": round(accuracy, 4)}))


if __name__ == "__main__":
    main()
