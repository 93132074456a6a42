#!/usr/bin/env python3
"""Writes the copy of examples/models/breast_cancer that baseline (b) loads: the skl2onnx ZipMap output replaced by
an Identity, so that output_probability is the FP32 [N, 2] tensor onnxruntime-node can return (the same rewrite
ferry does when it loads the model).

    /usr/bin/python3 bench/prepare_models.py examples/models/breast_cancer/1/model.onnx OUT.onnx
"""
import sys

import onnx
from onnx import TensorProto, helper

src, dst = sys.argv[1], sys.argv[2]
model = onnx.load(src)
graph = model.graph
for node in graph.node:
    if node.op_type == "ZipMap" and node.domain == "ai.onnx.ml":
        classes = len(next(a for a in node.attribute if a.name.startswith("classlabels")).ints)
        out = node.output[0]
        node.op_type, node.domain = "Identity", ""
        del node.attribute[:]
        for i, o in enumerate(graph.output):
            if o.name == out:
                graph.output.remove(o)
                graph.output.insert(i, helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", classes]))
                break
if not any(o.domain in ("", "ai.onnx") for o in model.opset_import):
    model.opset_import.append(helper.make_opsetid("", 13))
onnx.save(model, dst)
print("wrote", dst)
