#!/usr/bin/env python3
"""Triton's "simple" and "simple_string" example models as ONNX, so Triton's own example programs (its client
repository's src/python/examples/simple_*_client.py) run unchanged against ferry.

    /usr/bin/python3 bench/triton_simple_models.py REPOSITORY_DIR

simple: INPUT0, INPUT1 INT32 [-1,16] -> OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1.
simple_string: the same on BYTES tensors holding decimal integers (Cast string -> int32 and back).
simple_identity: OUTPUT0 = INPUT0, BYTES [-1,-1].
Written with onnx.helper (skl2onnx is not available here) and checked with onnx.checker.
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def model(name, elem):
    shape = ["batch", 16]
    inputs = [helper.make_tensor_value_info(n, elem, shape) for n in ("INPUT0", "INPUT1")]
    outputs = [helper.make_tensor_value_info(n, elem, shape) for n in ("OUTPUT0", "OUTPUT1")]
    nodes = []
    a, b = "INPUT0", "INPUT1"
    if elem == TensorProto.STRING:
        nodes += [helper.make_node("Cast", [a], ["a"], to=TensorProto.INT32), helper.make_node("Cast", [b], ["b"], to=TensorProto.INT32)]
        a, b = "a", "b"
        nodes += [helper.make_node("Add", [a, b], ["sum"]), helper.make_node("Sub", [a, b], ["diff"])]
        nodes += [helper.make_node("Cast", ["sum"], ["OUTPUT0"], to=TensorProto.STRING), helper.make_node("Cast", ["diff"], ["OUTPUT1"], to=TensorProto.STRING)]
    else:
        nodes += [helper.make_node("Add", [a, b], ["OUTPUT0"]), helper.make_node("Sub", [a, b], ["OUTPUT1"])]
    graph = helper.make_graph(nodes, name, inputs, outputs)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ferry bench")
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def identity():
    graph = helper.make_graph(
        [helper.make_node("Identity", ["INPUT0"], ["OUTPUT0"])],
        "simple_identity",
        [helper.make_tensor_value_info("INPUT0", TensorProto.STRING, ["batch", "n"])],
        [helper.make_tensor_value_info("OUTPUT0", TensorProto.STRING, ["batch", "n"])],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ferry bench")
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def main():
    root = sys.argv[1]
    os.makedirs(os.path.join(root, "simple_identity", "1"), exist_ok=True)
    onnx.save(identity(), os.path.join(root, "simple_identity", "1", "model.onnx"))
    for name, elem in (("simple", TensorProto.INT32), ("simple_string", TensorProto.STRING)):
        os.makedirs(os.path.join(root, name, "1"), exist_ok=True)
        path = os.path.join(root, name, "1", "model.onnx")
        onnx.save(model(name, elem), path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
