#!/usr/bin/env python3
"""Trains the `churn` example: a model whose clients send plain records such as

    {"age": 41, "tenure_months": 12, "monthly_charges": 70.5, "support_calls": 2, "plan": "pro", "region": "east"}

and ferry turns them into the model's input with the feature engineering written in the model's config.yaml.

    /usr/bin/python3 examples/churn/train.py [--out examples/models] [--seed 0]

What it does (deterministic, no network; needs numpy, scikit-learn, onnx, and PyYAML only for the self-check):

1. generates a synthetic churn data set (numpy, seeded): age, tenure_months, monthly_charges, support_calls, plan,
   region and a churn label drawn from a logistic function of them; a few per cent of age and monthly_charges are
   NaN and a few per cent of region are missing (None);
2. fits Pipeline(ColumnTransformer([num: SimpleImputer(mean) + StandardScaler, cat: OneHotEncoder(ignore)]),
   LogisticRegression). The encoder is fitted on the rows whose region is known: scikit-learn 1.2 would otherwise
   make None a category of its own, which a config cannot say. A missing region is then an unknown category at
   prediction time (all zeros), which is exactly ferry's `missing: unknown` + `one_hot: {unknown: ignore}`;
3. writes OUT/churn/1/model.onnx: the logistic regression alone, in plain ONNX ops
   (probabilities = Concat(1 - p, p), p = Sigmoid(MatMul(float_input, W) + b));
4. writes OUT/churn/config.yaml from the fitted objects (imputer statistics_, scaler mean_/scale_, encoder
   categories_), with each number's training distribution (`reference`) for drift monitoring;
5. writes OUT/churn/reference.json: records (some with missing fields, unseen categories) and the probabilities
   scikit-learn's predict_proba gives for them;
6. checks, independently of scikit-learn, that the config.yaml read back + the ONNX graph evaluated with numpy give
   the same numbers as the pipeline (fails loudly otherwise).
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "models"))
MODEL = "churn"

NUMERIC = ["age", "tenure_months", "monthly_charges", "support_calls"]
CATEGORICAL = ["plan", "region"]
COLUMNS = NUMERIC + CATEGORICAL
PLANS = ["basic", "pro", "team"]
REGIONS = ["north", "south", "east", "west"]
LABELS = ["stay", "churn"]
THRESHOLD = 0.5
INPUT = "float_input"
OUTPUT = "probabilities"


# ----------------------------------------------------------------------------------------------------------- data


def make_data(seed, n=4000):
    """The synthetic data set: an object array [n, 6] (numbers as float, NaN when missing; categories as str or None)
    and the 0/1 churn labels."""
    rng = np.random.default_rng(seed)
    age = np.clip(np.round(rng.normal(46, 16, n)), 18, 90)
    tenure = rng.integers(0, 73, n).astype(np.float64)
    plan = rng.choice(PLANS, n, p=[0.5, 0.3, 0.2])
    low = np.select([plan == "basic", plan == "pro"], [15.0, 45.0], 80.0)
    high = np.select([plan == "basic", plan == "pro"], [55.0, 95.0], 130.0)
    charges = np.round(rng.uniform(low, high), 2)
    calls = np.clip(rng.poisson(1.6, n), 0, 10).astype(np.float64)
    region = rng.choice(REGIONS, n, p=[0.3, 0.25, 0.25, 0.2])

    z = (
        -0.9
        - 0.025 * (age - 46)
        - 0.055 * (tenure - 36)
        + 0.022 * (charges - 65)
        + 0.45 * (calls - 1.6)
        + np.select([plan == "basic", plan == "pro"], [0.3, -0.2], -0.6)
        + np.select([region == "south", region == "west"], [0.5, -0.3], 0.0)
        + rng.normal(0, 0.5, n)
    )
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-z))).astype(np.int64)

    X = np.empty((n, len(COLUMNS)), dtype=object)
    X[:, 0], X[:, 1], X[:, 2], X[:, 3] = age, tenure, charges, calls
    X[:, 4], X[:, 5] = plan, region
    # Missing values, independent of the label: a few per cent of age, monthly_charges and region.
    X[rng.uniform(size=n) < 0.03, 0] = np.nan
    X[rng.uniform(size=n) < 0.03, 2] = np.nan
    X[rng.uniform(size=n) < 0.04, 5] = None
    return X, y


def make_pipeline():
    numeric = Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler())])
    prep = ColumnTransformer(
        [
            ("num", numeric, list(range(len(NUMERIC)))),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(range(len(NUMERIC), len(COLUMNS)))),
        ]
    )
    return Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=1000))])


def records_to_matrix(records):
    """JSON records -> the object matrix the pipeline takes (absent or null number: NaN; category: None)."""
    X = np.empty((len(records), len(COLUMNS)), dtype=object)
    for i, r in enumerate(records):
        for j, name in enumerate(COLUMNS):
            v = r.get(name)
            if name in NUMERIC:
                X[i, j] = np.nan if v is None else float(v)
            else:
                X[i, j] = v
    return X


# ----------------------------------------------------------------------------------------------------------- ONNX


def export_onnx(clf, n_columns):
    W = np.asarray(clf.coef_, dtype=np.float32).reshape(n_columns, 1)
    b = np.asarray(clf.intercept_, dtype=np.float32).reshape(1)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", [INPUT, "coef"], ["scores"], name="matmul"),
            helper.make_node("Add", ["scores", "intercept"], ["logit"], name="add"),
            helper.make_node("Sigmoid", ["logit"], ["p_churn"], name="sigmoid"),
            helper.make_node("Sub", ["one", "p_churn"], ["p_stay"], name="complement"),
            helper.make_node("Concat", ["p_stay", "p_churn"], [OUTPUT], name="concat", axis=1),
        ],
        MODEL,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", n_columns])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 2])],
        initializer=[
            numpy_helper.from_array(W, "coef"),
            numpy_helper.from_array(b, "intercept"),
            numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one"),
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="ferry examples/churn/train.py",
        producer_version="scikit-learn " + sklearn.__version__,
        doc_string="LogisticRegression of the churn example; the feature engineering is in config.yaml",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def run_onnx(model, feeds, dtype):
    """A small numpy evaluator for the plain ONNX ops these examples use (weights cast to `dtype`)."""
    values = {t.name: numpy_helper.to_array(t).astype(dtype) for t in model.graph.initializer}
    values.update(feeds)
    for node in model.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        x = [values[i] for i in node.input]
        if node.op_type == "MatMul":
            out = x[0] @ x[1]
        elif node.op_type == "Add":
            out = x[0] + x[1]
        elif node.op_type == "Sub":
            out = x[0] - x[1]
        elif node.op_type == "Sigmoid":
            out = 1.0 / (1.0 + np.exp(-x[0]))
        elif node.op_type == "Concat":
            out = np.concatenate(x, axis=a["axis"])
        else:
            raise RuntimeError("op %s not handled by the checker" % node.op_type)
        values[node.output[0]] = out.astype(dtype)
    return values[model.graph.output[0].name]


# ----------------------------------------------------------------------------------------------------------- YAML

PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def yscalar(v):
    """A YAML flow scalar that YAML 1.1 and 1.2 parsers read back as the same value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            raise ValueError("non-finite number in config")
        r = repr(v)
        mantissa, _, exponent = r.partition("e")
        if exponent and "." not in mantissa:
            r = mantissa + ".0e" + exponent  # 1e-05 is a string to YAML 1.1 parsers; 1.0e-05 is a float to both
        return r
    if isinstance(v, str):
        return v if PLAIN.match(v) and v.lower() not in RESERVED else json.dumps(v)
    raise TypeError(type(v))


def yflow(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, yflow(x)) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(yflow(x) for x in v) + "]"
    return yscalar(v)


def features_yaml(features):
    lines = ["features:"]
    for f in features:
        first = True
        for k, v in f.items():
            lines.append(("  - " if first else "    ") + "%s: %s" % (k, yflow(v)))
            first = False
    return lines


# ----------------------------------------------------------------------------------------------------------- check


def apply_features(features, record):
    """ferry's feature semantics, written out in Python from the config alone (independent of scikit-learn)."""
    row = []
    for f in features:
        name, kind = f["name"], f.get("type", "number")
        v = record.get(name)
        missing = f.get("missing", "reject")
        if v is None:
            if missing == "reject":
                raise ValueError("'%s' is missing" % name)
            if isinstance(missing, dict):
                (v,) = missing.values()
        if kind == "number":
            x = float(v)
            if "clip" in f:
                x = min(max(x, f["clip"][0]), f["clip"][1])
            if f.get("log1p"):
                x = math.log1p(x)
            if f.get("log"):
                x = math.log(x)
            if "standard" in f:
                x = (x - f["standard"]["mean"]) / f["standard"]["scale"]
            if "min_max" in f:
                x = (x - f["min_max"]["min"]) / (f["min_max"]["max"] - f["min_max"]["min"])
            if "bucketize" in f:
                raise NotImplementedError
            row.append(x)
        elif kind == "category":
            enc = f["one_hot"]
            vocab = enc["vocabulary"]
            cols = [0.0] * len(vocab)
            if v in vocab:
                cols[vocab.index(v)] = 1.0
            elif enc.get("unknown", "error") == "error":
                raise ValueError("'%s': unknown category %r" % (name, v))
            row.extend(cols)
        else:
            raise NotImplementedError(kind)
    return row


# ----------------------------------------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="the model repository (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    X, y = make_data(args.seed)
    order = np.random.default_rng(args.seed + 1).permutation(len(y))
    test, train = order[:800], order[800:]
    known = np.array([X[i, 5] is not None for i in train])
    fit_rows = train[known]

    pipe = make_pipeline().fit(X[fit_rows], y[fit_rows])
    prep, clf = pipe.named_steps["prep"], pipe.named_steps["clf"]
    accuracy = float((pipe.predict(X[test]) == y[test]).mean())
    print("churn rate %.3f; trained on %d rows (%d with a missing region left out); test accuracy %.3f (%d rows)"
          % (y.mean(), len(fit_rows), int((~known).sum()), accuracy, len(test)))

    imputer = prep.named_transformers_["num"].named_steps["impute"]
    scaler = prep.named_transformers_["num"].named_steps["scale"]
    encoder = prep.named_transformers_["cat"]
    n_columns = len(NUMERIC) + sum(len(c) for c in encoder.categories_)
    assert clf.coef_.shape == (1, n_columns), clf.coef_.shape
    assert list(clf.classes_) == [0, 1]

    # ---- config.yaml
    features = []
    raw = X[fit_rows]
    for j, name in enumerate(NUMERIC):
        values = raw[:, j].astype(np.float64)
        values = values[~np.isnan(values)]
        # The inner decile edges; for a number with few distinct values (support_calls) deciles repeat, and ferry
        # wants ascending edges: each edge once, none at the minimum (its bin below would always be empty).
        edges = np.unique(np.quantile(values, np.arange(1, 10) / 10.0))
        edges = edges[edges > values.min()]
        bins = np.searchsorted(edges, values, side="right")  # bin index = number of edges <= x
        shares = np.bincount(bins, minlength=len(edges) + 1) / len(values)
        features.append({
            "name": name,
            "type": "number",
            "into": INPUT,
            "missing": {"mean": float(imputer.statistics_[j])},
            "standard": {"mean": float(scaler.mean_[j]), "scale": float(scaler.scale_[j])},
            "reference": {"edges": [float(e) for e in edges], "shares": [float(s) for s in shares]},
        })
    for name, categories in zip(CATEGORICAL, encoder.categories_):
        features.append({
            "name": name,
            "type": "category",
            "into": INPUT,
            "missing": "unknown",
            "one_hot": {"vocabulary": [str(c) for c in categories], "unknown": "ignore"},
        })
    postprocess = {"output": OUTPUT, "labels": LABELS, "threshold": THRESHOLD}
    config_text = "\n".join(
        [
            "# Written by examples/churn/train.py (scikit-learn %s, seed %d) from the fitted pipeline." % (sklearn.__version__, args.seed),
            "# Clients send records {age, tenure_months, monthly_charges, support_calls, plan, region};",
            "# ferry builds the %d columns of %s from them as the pipeline's ColumnTransformer did." % (n_columns, INPUT),
            "max_batch_size: 64",
        ]
        + features_yaml(features)
        + ["postprocess:"]
        + ["  %s: %s" % (k, yflow(v)) for k, v in postprocess.items()]
    ) + "\n"

    # ---- reference records
    ordinary = [i for i in test if X[i, 5] is not None and not any(isinstance(X[i, j], float) and math.isnan(X[i, j]) for j in range(4))][:6]
    records = []
    for i in ordinary:
        records.append({
            "age": int(X[i, 0]), "tenure_months": int(X[i, 1]), "monthly_charges": float(X[i, 2]),
            "support_calls": int(X[i, 3]), "plan": str(X[i, 4]), "region": str(X[i, 5]),
        })
    records += [
        {"tenure_months": 3, "monthly_charges": 99.9, "support_calls": 5, "plan": "team", "region": "south"},  # age absent
        {"age": 63, "tenure_months": 48, "monthly_charges": None, "support_calls": 0, "plan": "pro", "region": "north"},
        {"age": 29, "tenure_months": 7, "monthly_charges": 42.5, "support_calls": 3, "plan": "basic"},  # region absent
        {"age": 37, "tenure_months": 20, "monthly_charges": 120.0, "support_calls": 1, "plan": "enterprise", "region": "west"},
        {"age": 52, "tenure_months": 60, "monthly_charges": 80.25, "support_calls": 2, "plan": "pro", "region": "central"},
        {"age": 44.5, "tenure_months": 0, "monthly_charges": None, "support_calls": 9, "plan": "basic", "region": None},
    ]
    Xr = records_to_matrix(records)
    proba = pipe.predict_proba(Xr)
    labels = [LABELS[1] if p[1] >= THRESHOLD else LABELS[0] for p in proba]
    reference = {
        "model": MODEL,
        "library": "scikit-learn " + sklearn.__version__,
        "tolerance": {"atol": 1e-5, "rtol": 0},
        "records": records,
        "probabilities": [[float(p) for p in row] for row in proba],
        "labels": labels,
    }

    model = export_onnx(clf, n_columns)

    # ---- independent check: config.yaml (as parsed back) + the ONNX graph (numpy) == predict_proba
    import yaml  # PyYAML; only for the check

    parsed = yaml.safe_load(config_text)
    assert parsed["features"] == features, "config.yaml does not read back as written"
    assert parsed["postprocess"] == postprocess and parsed["max_batch_size"] == 64
    rows = np.array([apply_features(parsed["features"], r) for r in records], dtype=np.float64)
    sk_rows = prep.transform(Xr)
    sk_rows = sk_rows.toarray() if hasattr(sk_rows, "toarray") else np.asarray(sk_rows, dtype=np.float64)
    err_rows = float(np.abs(rows - sk_rows).max())
    p64 = run_onnx(model, {INPUT: rows}, np.float64)
    p32 = run_onnx(model, {INPUT: rows.astype(np.float32)}, np.float32)
    err64 = float(np.abs(p64 - proba).max())
    err32 = float(np.abs(p32.astype(np.float64) - proba).max())
    print("check: config transform vs scikit-learn %.2e; config + ONNX (float64) vs predict_proba %.2e; (float32) %.2e"
          % (err_rows, err64, err32))
    if not (err_rows < 1e-9 and err64 < 1e-6 and err32 < 1e-5):
        sys.exit("churn: the config.yaml / ONNX graph do NOT reproduce the scikit-learn pipeline")
    with_labels = [LABELS[1] if p[1] >= THRESHOLD else LABELS[0] for p in p32]
    if with_labels != labels:
        sys.exit("churn: labels from the ONNX graph differ from scikit-learn's")

    # The records as V2 tensors, in the layout of the other examples' reference.json ("cases"): a model with features
    # takes one column per feature (FP64 numbers, BYTES categories; "" is a missing category). JSON has no NaN, so
    # the records with a missing number are left out here (they are in "records").
    whole = [i for i, r in enumerate(records) if all(r.get(n) is not None for n in NUMERIC)]
    inputs = [{"name": n, "datatype": "FP64", "shape": [len(whole)], "data": [float(records[i][n]) for i in whole]}
              for n in NUMERIC]
    inputs += [{"name": n, "datatype": "BYTES", "shape": [len(whole)], "data": [records[i].get(n) or "" for i in whole]}
               for n in CATEGORICAL]
    reference["cases"] = [{
        "inputs": inputs,
        "outputs": [
            {"name": OUTPUT, "datatype": "FP32", "shape": [len(whole), 2], "data": [float(v) for i in whole for v in proba[i]]},
            {"name": "label", "datatype": "BYTES", "shape": [len(whole)], "data": [labels[i] for i in whole]},
        ],
    }]

    # ---- write
    model_dir = os.path.join(args.out, MODEL)
    os.makedirs(os.path.join(model_dir, "1"), exist_ok=True)
    written = []
    path = os.path.join(model_dir, "1", "model.onnx")
    onnx.save(model, path)
    written.append(path)
    path = os.path.join(model_dir, "config.yaml")
    with open(path, "w") as f:
        f.write(config_text)
    written.append(path)
    path = os.path.join(model_dir, "reference.json")
    with open(path, "w") as f:
        json.dump(reference, f, indent=2, allow_nan=False)
        f.write("\n")
    written.append(path)
    for p in written:
        print("wrote", os.path.relpath(p))


if __name__ == "__main__":
    main()
