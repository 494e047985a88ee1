"""Single-row latency of a Python onnxruntime loop: the baseline for the gateway's predict_one.

Run by the inference_footprint example (infra/scripts/bench-inference.sh) on the files it
wrote to --dir: model.onnx, rows.f32 (N x F float32, little-endian, row-major) and
forecasts.f32 (the gateway's N forecasts, to prove both sides ran the same model on the same
rows). The session is configured as shared/inference configures the gateway's: one intra-op
and one inter-op thread, sequential execution, all graph optimisations, CPU provider.

Two loops, each timed per call with perf_counter_ns (as the Rust side times each call with
Instant), after the same untimed warm-up calls:
  run         session.run([output], {input: row}) on a preallocated (N, 1, F) array: the usual
              way to call onnxruntime from Python, input and output names looked up once;
  io_binding  the row copied into a bound, preallocated input, output bound to a preallocated
              array: what the gateway's predict_one does, the fastest Python path.
Prints one JSON object on stdout.
"""

import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def session(model_path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(
        model_path, sess_options=options, providers=["CPUExecutionProvider"]
    )


def latency(samples_ns):
    """Nearest-rank percentiles (index round((n - 1) * q)), as the Rust side computes them."""
    ordered = np.sort(samples_ns)

    def at(q):
        return float(ordered[int(round((len(ordered) - 1) * q))]) / 1e3

    return {
        "p50": at(0.5),
        "p99": at(0.99),
        "mean": float(ordered.mean()) / 1e3,
        "calls": len(ordered),
    }


def loop_run(sess, rows, passes, warm_up):
    input_name, output_names = sess.get_inputs()[0].name, [sess.get_outputs()[0].name]
    run, clock = sess.run, time.perf_counter_ns
    for i in range(warm_up):
        run(output_names, {input_name: rows[i % len(rows)]})
    samples = np.empty(passes * len(rows), dtype=np.int64)
    forecasts = np.empty(len(rows), dtype=np.float32)
    k = 0
    for _ in range(passes):
        for j in range(len(rows)):
            row = rows[j]
            start = clock()
            result = run(output_names, {input_name: row})
            samples[k] = clock() - start
            forecasts[j] = result[0][0, 0]
            k += 1
    return samples, forecasts


def loop_io_binding(sess, rows, passes, warm_up):
    row_in = np.zeros(rows.shape[1:], dtype=np.float32)
    forecast_out = np.zeros((1, 1), dtype=np.float32)
    binding = sess.io_binding()
    binding.bind_ortvalue_input(
        sess.get_inputs()[0].name, ort.OrtValue.ortvalue_from_numpy(row_in)
    )
    binding.bind_ortvalue_output(
        sess.get_outputs()[0].name, ort.OrtValue.ortvalue_from_numpy(forecast_out)
    )
    run, copy, clock = sess.run_with_iobinding, np.copyto, time.perf_counter_ns
    for i in range(warm_up):
        copy(row_in, rows[i % len(rows)])
        run(binding)
    samples = np.empty(passes * len(rows), dtype=np.int64)
    forecasts = np.empty(len(rows), dtype=np.float32)
    k = 0
    for _ in range(passes):
        for j in range(len(rows)):
            row = rows[j]
            start = clock()
            copy(row_in, row)
            run(binding)
            samples[k] = clock() - start
            forecasts[j] = forecast_out[0, 0]
            k += 1
    return samples, forecasts


def vm_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--features", type=int, required=True)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--warm-up", type=int, default=1000)
    args = parser.parse_args()

    rows = np.fromfile(f"{args.dir}/rows.f32", dtype="<f4").reshape(-1, 1, args.features)
    expected = np.fromfile(f"{args.dir}/forecasts.f32", dtype="<f4")
    loading = time.perf_counter_ns()
    sess = session(f"{args.dir}/model.onnx")
    session_load_us = (time.perf_counter_ns() - loading) / 1e3

    report = {
        "onnxruntime": ort.__version__,
        "numpy": np.__version__,
        "session_load_us": session_load_us,
    }
    for name, loop in [("run", loop_run), ("io_binding", loop_io_binding)]:
        samples, forecasts = loop(sess, rows, args.passes, args.warm_up)
        report[name] = latency(samples) | {
            "max_abs_diff": float(np.max(np.abs(forecasts - expected)))
        }
    report["vm_rss_kib"] = vm_rss_kib()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
