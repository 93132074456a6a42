"""Baseline (c): a prediction service the way most tutorials build one. Flask under gunicorn (2 sync workers):

    gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench/servers flask_app:app

- breast_cancer: the same scikit-learn Pipeline(StandardScaler, LogisticRegression) as
  examples/make_models.py, trained on load_breast_cancer when the worker starts (same split, same seed, so the
  same model), answered with request.get_json -> np.array -> predict_proba -> jsonify.
- mlp, image_cnn: PyTorch modules with the architectures of the example models (seeded random weights, not the
  ONNX ones: the cost is the same), model.eval() and torch.no_grad().

Requests and answers are KServe V2 JSON, as for ferry; a request may also use Triton's binary tensor extension
(JSON header of Inference-Header-Content-Length bytes, then raw little-endian FP32), decoded with np.frombuffer.
Everything else (threads, JSON encoder, workers) is left at its default, as in the tutorials.
"""
import json
import os
import sys

import numpy as np
import torch
from flask import Flask, jsonify, request
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

app = Flask(__name__)

# --- models --------------------------------------------------------------------------------------------------------
data = load_breast_cancer()
X_train, X_test, y_train, y_test = train_test_split(
    data.data.astype(np.float32), data.target, test_size=0.2, random_state=0, stratify=data.target
)
breast_cancer = Pipeline([("scaler", StandardScaler()), ("classifier", LogisticRegression(max_iter=1000))])
breast_cancer.fit(X_train, y_train)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        return torch.softmax(self.layers(x), dim=1)


class ImageCNN(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(32, n_classes)

    def forward(self, image):
        x = (image - 0.5) * 2.0
        return self.classifier(torch.flatten(self.features(x), 1))


torch.manual_seed(0)
mlp = MLP().eval()
image_cnn = ImageCNN().eval()


# --- request handling ----------------------------------------------------------------------------------------------
def read_inputs():
    """The request's input tensors as numpy arrays: V2 JSON, or JSON + raw bytes (binary tensor extension)."""
    header_length = request.headers.get("Inference-Header-Content-Length")
    if header_length is None:
        body = request.get_json()
        return [np.array(i["data"], dtype=np.float32).reshape(i["shape"]) for i in body["inputs"]]
    raw = request.get_data()
    offset = int(header_length)
    body = json.loads(raw[:offset])
    arrays = []
    for i in body["inputs"]:
        if "data" in i:
            arrays.append(np.array(i["data"], dtype=np.float32).reshape(i["shape"]))
            continue
        size = i["parameters"]["binary_data_size"]
        arrays.append(np.frombuffer(raw[offset:offset + size], dtype="<f4").reshape(i["shape"]))
        offset += size
    return arrays


def v2_response(model, outputs):
    return jsonify({
        "model_name": model,
        "model_version": "1",
        "outputs": [
            {"name": name, "datatype": datatype, "shape": list(value.shape), "data": value.ravel().tolist()}
            for name, datatype, value in outputs
        ],
    })


@app.post("/v2/models/breast_cancer/infer")
def predict_breast_cancer():
    (x,) = read_inputs()
    proba = breast_cancer.predict_proba(x)
    label = breast_cancer.classes_[proba.argmax(axis=1)]
    return v2_response("breast_cancer", [("output_label", "INT64", label), ("output_probability", "FP32", proba)])


@app.post("/v2/models/mlp/infer")
def predict_mlp():
    (x,) = read_inputs()
    with torch.no_grad():
        y = mlp(torch.tensor(x))
    return v2_response("mlp", [("output", "FP32", y.numpy())])


@app.post("/v2/models/image_cnn/infer")
def predict_image_cnn():
    (x,) = read_inputs()
    with torch.no_grad():
        y = image_cnn(torch.tensor(x))
    return v2_response("image_cnn", [("logits", "FP32", y.numpy())])


@app.get("/v2/health/ready")
def ready():
    return "", 200


# One line per worker once its models are ready (the bench waits for both workers).
print("flask_app ready pid=%d torch_threads=%d" % (os.getpid(), torch.get_num_threads()), file=sys.stderr, flush=True)
