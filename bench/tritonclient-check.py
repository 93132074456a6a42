#!/usr/bin/env python3
"""Triton's own Python client (tritonclient, HTTP and gRPC) against a running ferry: the calls its tools make.

tritonclient is on no registry reachable here, so it runs from its public source (github.com/triton-inference-
server/client, src/python/library) with its gRPC stubs generated from Triton's own grpc_service.proto and
model_config.proto (github.com/triton-inference-server/common) by grpc_tools; Debian's python3-grpcio,
python3-grpc-tools, python3-geventhttpclient, python3-rapidjson and python3-numpy are its dependencies.

    PYTHONPATH=<client>/src/python/library /usr/bin/python3 bench/tritonclient-check.py [HTTP_ADDR] [GRPC_ADDR]

Checks, for model mlp: server ready, metadata, model config, an inference (HTTP binary, gRPC typed: answered in
raw_output_contents), the statistics after it, the log and trace settings. Exits 1 at the first mismatch.
"""
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

HTTP = sys.argv[1] if len(sys.argv) > 1 else "localhost:8080"
GRPC = sys.argv[2] if len(sys.argv) > 2 else "localhost:8081"
MODEL = "mlp"


def check(what, ok, detail=None):
    print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + str(detail) if detail is not None and str(detail) else ''}")
    if not ok:
        sys.exit(1)


def main():
    x = np.random.default_rng(0).random((4, 30), dtype=np.float32)
    for name, module, client in (("http", httpclient, httpclient.InferenceServerClient(HTTP)), ("grpc", grpcclient, grpcclient.InferenceServerClient(GRPC))):
        check(f"{name} server ready", client.is_server_ready())
        meta = client.get_model_metadata(MODEL, as_json=True) if name == "grpc" else client.get_model_metadata(MODEL)
        check(f"{name} metadata", meta["name"] == MODEL, meta["inputs"])
        config = client.get_model_config(MODEL, as_json=True) if name == "grpc" else client.get_model_config(MODEL)
        config = config.get("config", config)
        check(f"{name} model config", int(config["max_batch_size"]) == 64 and config["input"][0]["data_type"] == "TYPE_FP32", {k: config[k] for k in ("max_batch_size", "input", "instance_group")})
        before = client.get_inference_statistics(MODEL, as_json=True) if name == "grpc" else client.get_inference_statistics(MODEL)
        count = int(before["model_stats"][0].get("inference_count", 0))
        inp = module.InferInput("input", list(x.shape), "FP32")
        if name == "http":
            inp.set_data_from_numpy(x, binary_data=True)
        else:
            inp.set_data_from_numpy(x)
        result = client.infer(MODEL, [inp])
        out = result.as_numpy("output")
        check(f"{name} infer", out is not None and out.shape == (4, 3) and np.allclose(out.sum(axis=1), 1, atol=1e-5), out[:1] if out is not None else None)
        after = client.get_inference_statistics(MODEL, as_json=True) if name == "grpc" else client.get_inference_statistics(MODEL)
        stats = after["model_stats"][0]
        check(f"{name} statistics", int(stats["inference_count"]) == count + 4, {k: stats[k] for k in ("inference_count", "execution_count")})
        logs = client.get_log_settings(as_json=True) if name == "grpc" else client.get_log_settings()
        check(f"{name} log settings", "log_verbose_level" in str(logs), logs)
        trace = client.get_trace_settings(as_json=True) if name == "grpc" else client.get_trace_settings()
        check(f"{name} trace settings", "OFF" in str(trace), trace)
    print("tritonclient: every call answered")


if __name__ == "__main__":
    main()
