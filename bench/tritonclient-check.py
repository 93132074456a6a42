#!/usr/bin/env python3
"""Triton's own Python client (tritonclient, HTTP and gRPC) against a running ferry: the calls its tools make.

tritonclient is on no registry reachable here, so it runs from its public source (github.com/triton-inference-
server/client, src/python/library) with its gRPC stubs generated from Triton's own grpc_service.proto and
model_config.proto (github.com/triton-inference-server/common) by grpc_tools; Debian's python3-grpcio,
python3-grpc-tools, python3-geventhttpclient, python3-rapidjson and python3-numpy are its dependencies.

    PYTHONPATH=<client>/src/python/library /usr/bin/python3 bench/tritonclient-check.py [HTTP_ADDR] [GRPC_ADDR]

Checks, for model mlp: server ready, metadata, model config, an inference (HTTP binary, gRPC typed: answered in
raw_output_contents), the statistics after it, the log and trace settings, and system shared memory (the client's
tritonclient.utils.shared_memory regions registered, an inference with its input and output in them, the status,
unregistering). Exits 1 at the first mismatch. The shared memory part needs `ferry serve --allow-client-shm`.

Triton's own example programs (the client repository's src/python/examples/simple_*_client.py) run unchanged against
the models bench/triton_simple_models.py writes (Triton's simple, simple_string and simple_identity, as ONNX):

    /usr/bin/python3 bench/triton_simple_models.py /tmp/simple_repo
    node dist/cli/main.js serve /tmp/simple_repo --allow-client-shm --http-port 8000 --grpc-port 8001
    PYTHONPATH=<client>/src/python/library /usr/bin/python3 <client>/src/python/examples/simple_http_shm_client.py
"""
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm

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
        shared_memory(name, module, client, x, out)
    print("tritonclient: every call answered")


def shared_memory(name, module, client, x, expected):
    """The input and output through /dev/shm regions the client made, as Triton's simple_*_shm_client examples do."""
    client.unregister_system_shared_memory()  # what Triton's examples do first
    out_bytes = expected.nbytes
    regions = {f"{name}_in": (f"/ferry_tc_{name}_in", x.nbytes), f"{name}_out": (f"/ferry_tc_{name}_out", out_bytes)}
    handles = {r: shm.create_shared_memory_region(r, key, size) for r, (key, size) in regions.items()}
    try:
        shm.set_shared_memory_region(handles[f"{name}_in"], [x])
        for r, (key, size) in regions.items():
            client.register_system_shared_memory(r, key, size)
        status = client.get_system_shared_memory_status(as_json=True) if name == "grpc" else client.get_system_shared_memory_status()
        listed = sorted(status["regions"]) if name == "grpc" else sorted(s["name"] for s in status)
        check(f"{name} shared memory status", listed == sorted(regions), status)
        inp = module.InferInput("input", list(x.shape), "FP32")
        inp.set_shared_memory(f"{name}_in", x.nbytes)
        req_out = module.InferRequestedOutput("output")
        req_out.set_shared_memory(f"{name}_out", out_bytes)
        result = client.infer(MODEL, [inp], outputs=[req_out])
        answered = result.get_output("output")
        shape = list(answered["shape"] if name == "http" else answered.shape)
        got = shm.get_contents_as_numpy(handles[f"{name}_out"], np.float32, shape)
        check(f"{name} infer through shared memory", shape == [4, 3] and np.allclose(got, expected, atol=1e-6), got[:1])
        client.unregister_system_shared_memory(f"{name}_in")
        client.unregister_system_shared_memory()
        status = client.get_system_shared_memory_status(as_json=True) if name == "grpc" else client.get_system_shared_memory_status()
        check(f"{name} shared memory unregistered", not (status.get("regions") if name == "grpc" else status), status)
    finally:
        for handle in handles.values():
            shm.destroy_shared_memory_region(handle)


if __name__ == "__main__":
    main()
