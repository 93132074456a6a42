#!/usr/bin/env python3
"""Train the iris k-nearest-neighbours example: a model written in TypeScript (examples/models/iris_knn/1/model.ts).

kNN has nothing to export to ONNX: its "model" is the scaled training set and k. This script fits scikit-learn's
StandardScaler + KNeighborsClassifier on iris, writes what the TypeScript model needs beside it
(neighbours.json), and writes reference.json with scikit-learn's predict_proba on held-out rows, so the served
model can be checked against the library (test/integration/parity.test.ts reads it).

    /usr/bin/python3 examples/knn/train.py [--out examples/models]
"""
import argparse
import json
import os

import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

K = 5

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument('--out', default=os.path.join(here, '..', 'models'))
    args = parser.parse_args()

    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.2, random_state=0, stratify=iris.target)
    pipe = Pipeline([('scale', StandardScaler()), ('knn', KNeighborsClassifier(n_neighbors=K, algorithm='brute'))])
    pipe.fit(x_train, y_train)
    print(f'test accuracy {pipe.score(x_test, y_test):.3f}')

    scaler = pipe.named_steps['scale']
    points = scaler.transform(x_train)
    # Rows whose k-th and (k+1)-th neighbours are (nearly) as far: a tie either library may break its own way.
    distances = np.sqrt(((scaler.transform(x_test)[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    ordered = np.sort(distances, axis=1)
    clear = ordered[:, K] - ordered[:, K - 1] > 1e-6
    cases = x_test[clear][:12]

    folder = os.path.join(args.out, 'iris_knn', '1')
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'neighbours.json'), 'w') as f:
        json.dump({
            'k': K,
            'features': list(iris.feature_names),
            'labels': list(iris.target_names),
            'mean': scaler.mean_.tolist(),
            'scale': scaler.scale_.tolist(),
            'points': points.tolist(),
            'classes': y_train.tolist(),
        }, f)
    probabilities = pipe.predict_proba(cases)
    reference = {
        'model': 'iris_knn',
        'library': 'scikit-learn KNeighborsClassifier',
        'tolerance': {'rtol': 0, 'atol': 1e-6},
        'cases': [{
            'inputs': [{'name': 'measurements', 'datatype': 'FP32', 'shape': [len(cases), 4], 'data': cases.astype(np.float32).astype(float).ravel().tolist()}],
            'outputs': [
                {'name': 'probabilities', 'datatype': 'FP32', 'shape': [len(cases), 3], 'data': probabilities.ravel().tolist()},
                {'name': 'label', 'datatype': 'BYTES', 'shape': [len(cases)], 'data': [str(iris.target_names[i]) for i in probabilities.argmax(axis=1)]},
            ],
        }],
    }
    with open(os.path.join(args.out, 'iris_knn', 'reference.json'), 'w') as f:
        json.dump(reference, f, indent=1)
    print(f'wrote {folder}/neighbours.json and the reference ({len(cases)} rows)')

if __name__ == '__main__':
    main()
