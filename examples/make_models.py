#!/usr/bin/env python3
"""Generate the example model repository under examples/models/.

Run with the system interpreter that has scikit-learn, torch and onnx:

    /usr/bin/python3 examples/make_models.py

Layout produced (KServe/Triton style model repository)::

    examples/models/<name>/<version>/model.onnx
    examples/models/<name>/reference.json

reference.json holds the ORIGINAL library's predictions (scikit-learn
predict/predict_proba, torch forward in eval mode) for a few held-out rows,
so a server can be checked against them.

Everything is deterministic (fixed seeds, single-threaded torch) and needs no
network: only the datasets bundled with scikit-learn are used.

skl2onnx is not available here, so the three scikit-learn models are written
by hand with onnx.helper in the graph layout skl2onnx (1.14 series, default
options, zipmap=True) produces for them: same operators, attributes, tensor
and node names, and the same opset / IR version selection.
"""

import base64
import inspect
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "models")

SEED = 0
SKL_LIBRARY = "scikit-learn %s" % sklearn.__version__
TORCH_LIBRARY = "torch %s" % torch.__version__
ONNX_LIBRARY = "onnx %s" % onnx.__version__

# What skl2onnx writes into the model header. The graphs below mimic the
# skl2onnx 1.14 series (the release line that goes with scikit-learn 1.2).
SKL2ONNX_PRODUCER = ("skl2onnx", "1.14.1")
# skl2onnx picks the IR version from the main opset of the target (onnx 1.12
# → opset 17 → IR 8).
SKL2ONNX_IR_VERSION = 8
SKL2ONNX_TARGET_OPSET = 17

TORCH_OPSET = 13
N_TABULAR_ROWS = 5

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

V2_DATATYPES = {
    np.dtype(np.bool_): "BOOL",
    np.dtype(np.int8): "INT8",
    np.dtype(np.int16): "INT16",
    np.dtype(np.int32): "INT32",
    np.dtype(np.int64): "INT64",
    np.dtype(np.uint8): "UINT8",
    np.dtype(np.uint16): "UINT16",
    np.dtype(np.uint32): "UINT32",
    np.dtype(np.uint64): "UINT64",
    np.dtype(np.float16): "FP16",
    np.dtype(np.float32): "FP32",
    np.dtype(np.float64): "FP64",
}


def v2_datatype(arr):
    if arr.dtype.kind in ("U", "S", "O"):
        return "BYTES"
    return V2_DATATYPES[arr.dtype]


def tensor_entry(name, arr, datatype=None, base64_data=False):
    """A KServe V2 style tensor description of a numpy array."""
    arr = np.asarray(arr)
    datatype = datatype or v2_datatype(arr)
    entry = {"name": name, "datatype": datatype, "shape": [int(d) for d in arr.shape]}
    if base64_data:
        if datatype == "BYTES":
            raise ValueError("base64 data is only for fixed-size types")
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        entry["data_base64"] = base64.b64encode(raw).decode("ascii")
        return entry
    flat = arr.reshape(-1)
    if datatype == "BYTES":
        data = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat]
    elif datatype == "BOOL":
        data = [bool(v) for v in flat]
    elif datatype in ("FP16", "FP32", "FP64"):
        # float(np.float32(x)) is exact: the JSON number is the float32 value.
        data = [float(v) for v in flat]
    else:
        data = [int(v) for v in flat]
    entry["data"] = data
    return entry


def _dump(obj, indent=0):
    """JSON with indentation, but lists of scalars kept on one line."""
    pad = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [
            "%s  %s: %s" % (pad, json.dumps(k), _dump(v, indent + 1)) for k, v in obj.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj):
            return json.dumps(obj, ensure_ascii=False)
        items = ["%s  %s" % (pad, _dump(v, indent + 1)) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def write_reference(name, library, tolerance, cases, extra=None):
    ref = {"model": name, "library": library, "tolerance": tolerance}
    if extra:
        ref.update(extra)
    ref["cases"] = cases
    path = os.path.join(MODELS_DIR, name, "reference.json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(_dump(ref) + "\n")
    return path


def check(model):
    """onnx.checker, with strict shape inference unless the graph has a ZipMap:
    onnx's symbolic shape inference cannot merge its sequence(map) type."""
    has_zipmap = any(n.op_type == "ZipMap" for n in model.graph.node)
    onnx.checker.check_model(model, full_check=not has_zipmap)


def save_model(model, name, version=1):
    check(model)
    directory = os.path.join(MODELS_DIR, name, str(version))
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "model.onnx")
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def reset_model_dir(name):
    directory = os.path.join(MODELS_DIR, name)
    if os.path.isdir(directory):
        shutil.rmtree(directory)
    os.makedirs(directory)


def zipmap_type(key_type):
    """sequence(map(key_type, tensor(float))) as skl2onnx declares ZipMap outputs."""
    t = onnx.TypeProto()
    t.sequence_type.elem_type.map_type.key_type = key_type
    t.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return t


def skl2onnx_model(graph, opsets, doc):
    """Wrap a graph with the header skl2onnx writes."""
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets]
    )
    model.ir_version = SKL2ONNX_IR_VERSION
    model.producer_name, model.producer_version = SKL2ONNX_PRODUCER
    model.domain = "ai.onnx"
    model.model_version = 0
    model.doc_string = doc
    return model


def floats(values):
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def linear_classifier_nodes(clf, input_name, label_is_string):
    """LinearClassifier (+ Normalizer) + Cast/Identity + ZipMap, as skl2onnx 1.14
    converts a LogisticRegression (multi_class='auto') followed by its ZipMap.

    Returns (nodes, zipmap_input_name)."""
    classes = clf.classes_
    n_classes = len(classes)
    coefficients = floats(clf.coef_)
    intercepts = floats(clf.intercept_)
    if n_classes == 2:
        # Binary: sklearn keeps one row of coefficients; skl2onnx writes
        # [-w, w] / [-b, b] so LinearClassifier emits one score per class.
        coefficients = [-c for c in coefficients] + coefficients
        intercepts = [-b for b in intercepts] + intercepts
    # LogisticRegression.multi_class == 'auto' -> skl2onnx's multi_class = 2
    # (attribute multi_class=1); 'auto' with 2 classes is one-vs-rest
    # (LOGISTIC), otherwise multinomial (SOFTMAX).
    assert clf.multi_class == "auto" and clf.solver != "liblinear"
    post_transform = "LOGISTIC" if n_classes <= 2 else "SOFTMAX"
    attrs = dict(
        coefficients=coefficients,
        intercepts=intercepts,
        multi_class=1,
        post_transform=post_transform,
    )
    if label_is_string:
        attrs["classlabels_strings"] = [str(c) for c in classes]
    else:
        attrs["classlabels_ints"] = [int(c) for c in classes]
    nodes = [
        helper.make_node(
            "LinearClassifier", [input_name], ["label", "probability_tensor"],
            name="LinearClassifier", domain="ai.onnx.ml", **attrs
        ),
        # "Make sure the probability sum is 1 over all classes"
        helper.make_node(
            "Normalizer", ["probability_tensor"], ["probabilities"],
            name="Normalizer", domain="ai.onnx.ml", norm="L1"
        ),
    ]
    # ZipMap operator: label passes through (Cast to int64 for integer
    # labels, Identity for strings), probabilities are zipped with the labels.
    if label_is_string:
        nodes.append(helper.make_node("Identity", ["label"], ["output_label"], name="Identity"))
        zipmap_attrs = {"classlabels_strings": [str(c) for c in classes]}
    else:
        nodes.append(
            helper.make_node("Cast", ["label"], ["output_label"], name="Cast", to=TensorProto.INT64)
        )
        zipmap_attrs = {"classlabels_int64s": [int(c) for c in classes]}
    nodes.append(
        helper.make_node(
            "ZipMap", ["probabilities"], ["output_probability"],
            name="ZipMap", domain="ai.onnx.ml", **zipmap_attrs
        )
    )
    return nodes, "probabilities"


# ---------------------------------------------------------------------------
# 1. breast_cancer: Pipeline(StandardScaler, LogisticRegression)
# ---------------------------------------------------------------------------


def make_breast_cancer():
    name = "breast_cancer"
    reset_model_dir(name)
    data = load_breast_cancer()
    X = data.data.astype(np.float32)
    y = data.target
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=SEED, stratify=y
    )
    pipe = Pipeline(
        [("scaler", StandardScaler()), ("classifier", LogisticRegression(max_iter=1000))]
    )
    pipe.fit(X_train, y_train)
    scaler = pipe.named_steps["scaler"]
    clf = pipe.named_steps["classifier"]

    n_features = X.shape[1]
    nodes = [
        helper.make_node(
            "Scaler", ["float_input"], ["variable"], name="Scaler", domain="ai.onnx.ml",
            offset=floats(scaler.mean_), scale=floats(1.0 / scaler.scale_),
        )
    ]
    clf_nodes, zipmap_input = linear_classifier_nodes(clf, "variable", label_is_string=False)
    nodes += clf_nodes
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, n_features])],
        [
            helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
            helper.make_value_info("output_probability", zipmap_type(TensorProto.INT64)),
        ],
    )
    # Opsets as skl2onnx records them: the highest version used per domain
    # (Cast is added with op_version 9), ai.onnx.ml 1.
    model = skl2onnx_model(
        graph, [("", 9), ("ai.onnx.ml", 1)],
        "Pipeline(StandardScaler, LogisticRegression) on sklearn's breast cancer data; "
        "written by examples/make_models.py in skl2onnx's layout.",
    )
    path = save_model(model, name)

    X_ref = X_test[:N_TABULAR_ROWS]
    labels = pipe.predict(X_ref).astype(np.int64)
    proba = pipe.predict_proba(X_ref).astype(np.float32)
    cases = [
        {
            "inputs": [tensor_entry("float_input", X_ref)],
            "outputs": [
                tensor_entry("output_label", labels),
                tensor_entry("output_probability", proba),
            ],
        }
    ]
    write_reference(
        name, SKL_LIBRARY, {"rtol": 1e-4, "atol": 1e-5}, cases,
        extra={"class_labels": [int(c) for c in clf.classes_]},
    )
    return path, zipmap_input


# ---------------------------------------------------------------------------
# 2. diabetes_forest: RandomForestRegressor
# ---------------------------------------------------------------------------


def sklearn_threshold_float32(threshold):
    """skl2onnx's sklearn_threshold(dtype=float32, mode='BRANCH_LEQ').

    scikit-learn compares float32(x) <= double threshold; ONNX compares with a
    float32 threshold. Pick the float32 w with float32(x) <= t <=> x <= w."""
    t = np.float64(threshold)
    ft = np.float32(t)
    if ft == t or ft < t:
        return float(ft)
    eps = max(abs(ft), np.finfo(np.float32).eps) * 10
    return float(np.nextafter(np.array([ft]), np.array([ft - eps]), dtype=np.float32)[0])


def tree_ensemble_regressor_attrs(forest):
    """Attributes of skl2onnx's TreeEnsembleRegressor for a RandomForestRegressor
    (get_default_tree_regressor_attribute_pairs + add_tree_to_attribute_pairs)."""
    attrs = {
        "post_transform": "NONE",
        "n_targets": int(forest.n_outputs_),
        "nodes_treeids": [],
        "nodes_nodeids": [],
        "nodes_featureids": [],
        "nodes_modes": [],
        "nodes_values": [],
        "nodes_truenodeids": [],
        "nodes_falsenodeids": [],
        "nodes_missing_value_tracks_true": [],
        "nodes_hitrates": [],
        "target_treeids": [],
        "target_nodeids": [],
        "target_ids": [],
        "target_weights": [],
    }
    n_trees = len(forest.estimators_)
    tree_weight = 1.0 / n_trees  # a forest averages its trees
    for tree_id, estimator in enumerate(forest.estimators_):
        tree = estimator.tree_
        for i in range(tree.node_count):
            left, right = int(tree.children_left[i]), int(tree.children_right[i])
            if left > i or right > i:
                mode = "BRANCH_LEQ"
                feature = int(tree.feature[i])
                value = sklearn_threshold_float32(tree.threshold[i])
            else:
                mode, feature, value, left, right = "LEAF", 0, 0.0, 0, 0
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(i)
            attrs["nodes_featureids"].append(feature)
            attrs["nodes_modes"].append(mode)
            attrs["nodes_values"].append(value)
            attrs["nodes_truenodeids"].append(left)
            attrs["nodes_falsenodeids"].append(right)
            attrs["nodes_missing_value_tracks_true"].append(0)
            attrs["nodes_hitrates"].append(1.0)
            if mode == "LEAF":
                for target_id, w in enumerate(tree.value[i].ravel()):
                    attrs["target_treeids"].append(tree_id)
                    attrs["target_nodeids"].append(i)
                    attrs["target_ids"].append(target_id)
                    attrs["target_weights"].append(float(w) * tree_weight)
    for key in ("nodes_values", "target_weights", "nodes_hitrates"):
        attrs[key] = [float(v) for v in np.asarray(attrs[key], dtype=np.float32)]
    # aggregate_function (SUM) and base_values (0) are left at their ONNX
    # defaults, as skl2onnx does for random forests.
    return attrs


def make_diabetes_forest():
    name = "diabetes_forest"
    reset_model_dir(name)
    data = load_diabetes()
    X = data.data.astype(np.float32)
    y = data.target
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=SEED)
    forest = RandomForestRegressor(n_estimators=10, max_depth=6, random_state=SEED)
    forest.fit(X_train, y_train)

    n_features = X.shape[1]
    node = helper.make_node(
        "TreeEnsembleRegressor", ["float_input"], ["variable"],
        name="TreeEnsembleRegressor", domain="ai.onnx.ml",
        **tree_ensemble_regressor_attrs(forest)
    )
    graph = helper.make_graph(
        [node],
        name,
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
    )
    # Only ai.onnx.ml nodes: skl2onnx then adds the main domain at the target opset.
    model = skl2onnx_model(
        graph, [("ai.onnx.ml", 1), ("", SKL2ONNX_TARGET_OPSET)],
        "RandomForestRegressor(n_estimators=10, max_depth=6) on sklearn's diabetes data; "
        "written by examples/make_models.py in skl2onnx's layout.",
    )
    path = save_model(model, name)

    X_ref = X_test[:N_TABULAR_ROWS]
    pred = forest.predict(X_ref).astype(np.float32).reshape(-1, 1)
    cases = [
        {
            "inputs": [tensor_entry("float_input", X_ref)],
            "outputs": [tensor_entry("variable", pred)],
        }
    ]
    write_reference(name, SKL_LIBRARY, {"rtol": 1e-4, "atol": 1e-3}, cases)
    return path


# ---------------------------------------------------------------------------
# 6. text_category: Pipeline(OneHotEncoder on a string column, LogisticRegression)
# ---------------------------------------------------------------------------

COLORS = ["black", "blue", "gold", "green", "red", "silver", "white"]
# P(cheap), P(standard), P(premium) for each colour of the toy data set.
COLOR_TIERS = {
    "black": (0.2, 0.4, 0.4),
    "blue": (0.5, 0.4, 0.1),
    "gold": (0.05, 0.15, 0.8),
    "green": (0.6, 0.3, 0.1),
    "red": (0.4, 0.5, 0.1),
    "silver": (0.1, 0.3, 0.6),
    "white": (0.3, 0.5, 0.2),
}
TIERS = ["cheap", "standard", "premium"]


def make_text_category():
    name = "text_category"
    reset_model_dir(name)
    rng = np.random.RandomState(SEED)
    n = 400
    colors = rng.choice(COLORS, size=n)
    labels = np.array([TIERS[rng.choice(3, p=COLOR_TIERS[c])] for c in colors])
    X = colors.reshape(-1, 1).astype(object)
    X_train, X_test, y_train, y_test = train_test_split(
        X, labels, test_size=0.2, random_state=SEED
    )
    pipe = Pipeline(
        [
            ("encoder", OneHotEncoder(handle_unknown="ignore")),
            ("classifier", LogisticRegression(max_iter=1000)),
        ]
    )
    pipe.fit(X_train, y_train)
    encoder = pipe.named_steps["encoder"]
    clf = pipe.named_steps["classifier"]
    categories = [str(c) for c in encoder.categories_[0]]

    # skl2onnx's OneHotEncoder converter: Gather the column, OneHotEncoder
    # (ai.onnx.ml) -> [N, 1, C], Concat over the columns, Reshape to [N, C].
    initializers = [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "input0"),
        numpy_helper.from_array(np.array([-1, len(categories)], dtype=np.int64), "shape_tensor"),
    ]
    nodes = [
        helper.make_node("Gather", ["input", "input0"], ["input01"], name="Gather", axis=1),
        helper.make_node(
            "OneHotEncoder", ["input01"], ["input01out"], name="OneHotEncoder",
            domain="ai.onnx.ml", cats_strings=categories,
            zeros=1 if encoder.handle_unknown == "ignore" else 0,
        ),
        helper.make_node("Concat", ["input01out"], ["concat_result"], name="Concat", axis=-1),
        helper.make_node("Reshape", ["concat_result", "shape_tensor"], ["variable"], name="Reshape"),
    ]
    clf_nodes, zipmap_input = linear_classifier_nodes(clf, "variable", label_is_string=True)
    nodes += clf_nodes
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.STRING, [None, 1])],
        [
            helper.make_tensor_value_info("output_label", TensorProto.STRING, [None]),
            helper.make_value_info("output_probability", zipmap_type(TensorProto.STRING)),
        ],
        initializer=initializers,
    )
    # Highest versions used: Identity-16 / Gather-13 / Concat-11 / Reshape-5.
    model = skl2onnx_model(
        graph, [("", 16), ("ai.onnx.ml", 1)],
        "Pipeline(OneHotEncoder, LogisticRegression) on a seeded toy 'colour -> price tier' "
        "data set; written by examples/make_models.py in skl2onnx's layout.",
    )
    path = save_model(model, name)

    # Held-out rows plus one colour never seen in training (all-zero one-hot).
    X_ref = np.concatenate([X_test[: N_TABULAR_ROWS - 1], np.array([["purple"]], dtype=object)])
    pred = pipe.predict(X_ref)
    proba = pipe.predict_proba(X_ref).astype(np.float32)
    cases = [
        {
            "inputs": [tensor_entry("input", X_ref, datatype="BYTES")],
            "outputs": [
                tensor_entry("output_label", pred, datatype="BYTES"),
                tensor_entry("output_probability", proba),
            ],
        }
    ]
    write_reference(
        name, SKL_LIBRARY, {"rtol": 1e-4, "atol": 1e-5}, cases,
        extra={"class_labels": [str(c) for c in clf.classes_]},
    )
    return path, zipmap_input


# ---------------------------------------------------------------------------
# PyTorch models
# ---------------------------------------------------------------------------


def torch_export(module, args, path, input_names, output_names, dynamic_axes):
    kwargs = dict(
        input_names=input_names,
        output_names=output_names,
        dynamic_axes=dynamic_axes,
        opset_version=TORCH_OPSET,
        do_constant_folding=True,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter; no onnxscript needed
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, **kwargs)
    check(onnx.load(path))
    return path


def torch_seed():
    torch.manual_seed(SEED)
    np.random.seed(SEED)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 3)
        )

    def forward(self, x):
        return torch.softmax(self.layers(x), dim=1)


def make_mlp():
    name = "mlp"
    reset_model_dir(name)
    torch_seed()
    # A synthetic (seeded, bundled-generator) 3-class problem, hard enough that
    # the brief training leaves non-saturated probabilities.
    X, y = make_classification(
        n_samples=1500, n_features=30, n_informative=10, n_redundant=4,
        n_classes=3, class_sep=0.7, flip_y=0.05, random_state=SEED,
    )
    X = X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=SEED)
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(X_train), torch.from_numpy(y_train.astype(np.int64))
    model.train()
    for _ in range(20):  # brief full-batch training
        optimizer.zero_grad()
        logits = model.layers(xt)
        loss = nn.functional.cross_entropy(logits, yt)
        loss.backward()
        optimizer.step()
    model.eval()

    path = torch_export(
        model, (torch.zeros(1, 30),),
        os.path.join(MODELS_DIR, name, "1", "model.onnx"),
        ["input"], ["output"], {"input": {0: "batch"}, "output": {0: "batch"}},
    )
    X_ref = X_test[:N_TABULAR_ROWS]
    with torch.no_grad():
        out = model(torch.from_numpy(X_ref)).numpy()
    cases = [{"inputs": [tensor_entry("input", X_ref)], "outputs": [tensor_entry("output", out)]}]
    write_reference(name, TORCH_LIBRARY, {"rtol": 1e-4, "atol": 1e-5}, cases)
    return path


class ImageCNN(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 64x64
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32x32
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16x16
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(32, n_classes)

        # Seeded random weights; He init and zero biases so the logits depend
        # visibly on the image rather than on the biases.
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, image):
        x = (image - 0.5) * 2.0  # [0, 1] pixels -> [-1, 1]
        return self.classifier(torch.flatten(self.features(x), 1))


def reference_images():
    """Two deterministic 3x128x128 float32 images in [0, 1]."""
    yy, xx = np.meshgrid(np.linspace(0, 1, 128), np.linspace(0, 1, 128), indexing="ij")
    pattern = np.stack(
        [
            xx,
            yy,
            0.5 + 0.5 * np.sin(12 * np.pi * xx) * np.cos(8 * np.pi * yy),
        ]
    )
    noise = np.random.RandomState(SEED + 1).rand(3, 128, 128)
    return np.stack([pattern, noise]).astype(np.float32)


def make_image_cnn():
    name = "image_cnn"
    reset_model_dir(name)
    torch_seed()
    model = ImageCNN().eval()  # seeded random weights
    path = torch_export(
        model, (torch.zeros(1, 3, 128, 128),),
        os.path.join(MODELS_DIR, name, "1", "model.onnx"),
        ["image"], ["logits"], {"image": {0: "batch"}, "logits": {0: "batch"}},
    )
    images = reference_images()
    with torch.no_grad():
        logits = model(torch.from_numpy(images)).numpy()
    cases = [
        {
            "inputs": [tensor_entry("image", images, base64_data=True)],
            "outputs": [tensor_entry("logits", logits)],
        }
    ]
    write_reference(name, TORCH_LIBRARY, {"rtol": 1e-3, "atol": 1e-4}, cases)
    return path


class TwoInputs(nn.Module):
    def __init__(self, n_features=8, n_categories=5, emb_dim=4, hidden=16, n_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(n_categories, emb_dim)
        self.body = nn.Sequential(nn.Linear(n_features + emb_dim, hidden), nn.ReLU())
        self.score_head = nn.Linear(hidden, 1)
        self.class_head = nn.Linear(hidden, n_classes)

    def forward(self, features, category):
        h = self.body(torch.cat([features, self.embedding(category)], dim=1))
        score = torch.sigmoid(self.score_head(h))
        class_id = torch.argmax(self.class_head(h), dim=1)
        return score, class_id


def make_two_inputs():
    name = "two_inputs"
    reset_model_dir(name)
    torch_seed()
    model = TwoInputs().eval()  # seeded random weights
    path = torch_export(
        model, (torch.zeros(2, 8), torch.zeros(2, dtype=torch.int64)),
        os.path.join(MODELS_DIR, name, "1", "model.onnx"),
        ["features", "category"], ["score", "class_id"],
        {
            "features": {0: "batch"},
            "category": {0: "batch"},
            "score": {0: "batch"},
            "class_id": {0: "batch"},
        },
    )
    rng = np.random.RandomState(SEED + 2)
    features = rng.randn(N_TABULAR_ROWS, 8).astype(np.float32)
    category = np.array([0, 1, 2, 3, 4], dtype=np.int64)
    with torch.no_grad():
        score, class_id = model(torch.from_numpy(features), torch.from_numpy(category))
    cases = [
        {
            "inputs": [tensor_entry("features", features), tensor_entry("category", category)],
            "outputs": [
                tensor_entry("score", score.numpy()),
                tensor_entry("class_id", class_id.numpy().astype(np.int64)),
            ],
        }
    ]
    write_reference(name, TORCH_LIBRARY, {"rtol": 1e-4, "atol": 1e-5}, cases)
    return path


# ---------------------------------------------------------------------------
# 8. sequence_pool: variable-length token sequences with their true lengths
# ---------------------------------------------------------------------------

class SequencePool(nn.Module):
    """Mean of token embeddings over each row's first `lengths[i]` tokens: padding past the length has no effect,
    which is what lets the server batch sequences of different lengths by padding them."""

    def __init__(self, vocab=20, emb_dim=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb_dim)

    def forward(self, tokens, lengths):
        positions = torch.arange(tokens.shape[1]).unsqueeze(0)            # [1, L]
        mask = (positions < lengths.unsqueeze(1)).to(torch.float32)        # [N, L]
        summed = (self.embedding(tokens) * mask.unsqueeze(2)).sum(dim=1)  # [N, D]
        return summed / lengths.unsqueeze(1).to(torch.float32)


def make_sequence_pool():
    name = "sequence_pool"
    reset_model_dir(name)
    torch_seed()
    model = SequencePool().eval()  # seeded random weights
    path = torch_export(
        model, (torch.zeros(2, 3, dtype=torch.int64), torch.full((2,), 3, dtype=torch.int64)),
        os.path.join(MODELS_DIR, name, "1", "model.onnx"),
        ["tokens", "lengths"], ["pooled"],
        {"tokens": {0: "batch", 1: "sequence"}, "lengths": {0: "batch"}, "pooled": {0: "batch"}},
    )
    cases = []
    # Requests of different sequence lengths, each rectangular (its rows share one length).
    for tokens in ([[1, 2, 3], [4, 5, 6]], [[7, 8, 9, 10, 11]], [[12]], [[13, 14, 15, 16], [17, 18, 19, 0]]):
        t = np.array(tokens, dtype=np.int64)
        lengths = np.full((t.shape[0],), t.shape[1], dtype=np.int64)
        with torch.no_grad():
            pooled = model(torch.from_numpy(t), torch.from_numpy(lengths))
        cases.append({
            "inputs": [tensor_entry("tokens", t), tensor_entry("lengths", lengths)],
            "outputs": [tensor_entry("pooled", pooled.numpy())],
        })
    write_reference(name, TORCH_LIBRARY, {"rtol": 1e-5, "atol": 1e-6}, cases)
    return path


# ---------------------------------------------------------------------------
# 7. datatypes: one Identity per KServe V2 datatype
# ---------------------------------------------------------------------------

DATATYPES = [
    # (suffix, onnx type, numpy dtype, sample rows [3, 2])
    ("bool", TensorProto.BOOL, np.bool_, [[True, False], [False, False], [True, True]]),
    ("int8", TensorProto.INT8, np.int8, [[-128, 127], [0, -1], [42, 7]]),
    ("int16", TensorProto.INT16, np.int16, [[-32768, 32767], [0, -1], [1234, -4321]]),
    ("int32", TensorProto.INT32, np.int32, [[-2147483648, 2147483647], [0, -1], [123456, -654321]]),
    # int64/uint64 kept within +-(2^53 - 1) so JSON numbers stay exact in JavaScript
    ("int64", TensorProto.INT64, np.int64, [[-9007199254740991, 9007199254740991], [0, -1], [1, 2]]),
    ("uint8", TensorProto.UINT8, np.uint8, [[0, 255], [1, 128], [7, 42]]),
    ("uint16", TensorProto.UINT16, np.uint16, [[0, 65535], [1, 32768], [7, 42]]),
    ("uint32", TensorProto.UINT32, np.uint32, [[0, 4294967295], [1, 2147483648], [7, 42]]),
    ("uint64", TensorProto.UINT64, np.uint64, [[0, 9007199254740991], [1, 4294967296], [7, 42]]),
    # fp16/fp32/fp64 samples are exactly representable in the respective type
    ("fp16", TensorProto.FLOAT16, np.float16, [[0.5, -1.25], [65504.0, -0.0009765625], [0.0, 3.140625]]),
    ("fp32", TensorProto.FLOAT, np.float32, [[0.5, -1.25], [3.4028234663852886e38, 1.1754943508222875e-38], [0.0, 3.1415927410125732]]),
    ("fp64", TensorProto.DOUBLE, np.float64, [[0.5, -1.25], [1.7976931348623157e308, 5e-324], [0.0, 3.141592653589793]]),
    ("bytes", TensorProto.STRING, object, [["hello", ""], ["héllo wörld", "✓ ünïcode"], ["a b c", "line1\nline2"]]),
]


def make_datatypes():
    name = "datatypes"
    reset_model_dir(name)
    inputs, outputs, nodes = [], [], []
    for suffix, onnx_type, _, _ in DATATYPES:
        inputs.append(helper.make_tensor_value_info("in_" + suffix, onnx_type, ["N", 2]))
        outputs.append(helper.make_tensor_value_info("out_" + suffix, onnx_type, ["N", 2]))
        nodes.append(
            helper.make_node("Identity", ["in_" + suffix], ["out_" + suffix], name="identity_" + suffix)
        )
    graph = helper.make_graph(nodes, name, inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    model.producer_name = "ferry-examples"
    model.producer_version = "1"
    model.doc_string = (
        "One Identity per KServe V2 datatype: in_<type> -> out_<type>, shape [N, 2]. "
        "Written by examples/make_models.py."
    )
    path = save_model(model, name)

    case_inputs, case_outputs = [], []
    for suffix, _, dtype, rows in DATATYPES:
        arr = np.array(rows, dtype=dtype)
        datatype = "BYTES" if dtype is object else None
        case_inputs.append(tensor_entry("in_" + suffix, arr, datatype=datatype))
        case_outputs.append(tensor_entry("out_" + suffix, arr, datatype=datatype))
    cases = [{"inputs": case_inputs, "outputs": case_outputs}]
    write_reference(name, ONNX_LIBRARY + " (Identity)", {"rtol": 0, "atol": 0}, cases)
    return path


# ---------------------------------------------------------------------------


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(MODELS_DIR, exist_ok=True)
    produced = []
    path, zip_bc = make_breast_cancer()
    produced.append(path)
    produced.append(make_diabetes_forest())
    produced.append(make_mlp())
    produced.append(make_image_cnn())
    produced.append(make_two_inputs())
    path, zip_tc = make_text_category()
    produced.append(path)
    produced.append(make_datatypes())
    produced.append(make_sequence_pool())
    for p in produced:
        print("%-60s %8d bytes" % (os.path.relpath(p, HERE), os.path.getsize(p)))
    print("ZipMap input tensors: breast_cancer=%s text_category=%s" % (zip_bc, zip_tc))
    print("versions: %s, %s, %s" % (SKL_LIBRARY, TORCH_LIBRARY, ONNX_LIBRARY))


if __name__ == "__main__":
    sys.exit(main())
