"""Local serving latency: the model server over HTTP against the handler called in process.

One run, one table. The model is the serving tests' model (scikit-learn Pipeline with a
ColumnTransformer and a logistic regression, fitted on 400 synthetic churn rows, see
benchmarks/bench_inference.py), loaded through ``model_fn``.

For 1 row and 100 rows per request it measures, sequentially, each timing client-side:

* in process, ``predict_fn`` alone on a parsed body (validation, frame, ``predict_proba``);
* in process, the whole handler chain ``input_fn`` -> ``predict_fn`` -> ``output_fn``, i.e.
  everything the server does for a request except HTTP;
* the local server (:mod:`pipeline_code.inference.server`) through the deployment pipeline's own
  client (:class:`pipeline_code.deployment.invoke.HttpInvoker`, HTTP/1.1 keep-alive), the
  request the latency test of ``deploy-local`` times;
* the same server with Nagle's algorithm back on (``disable_nagle_algorithm = False``, as it
  was before the fix), to show what the server's two writes per response (headers, then body)
  cost with Nagle's algorithm and delayed ACKs.

Each repetition times the four back to back (as bench_inference.py does), so machine load
hits all of them alike.

Ratios and differences are against ``predict_fn`` in process. Percentiles are nearest-rank.
Run::

    .venv/bin/python benchmarks/bench_serving_latency.py [--requests 300]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline_code.deployment.invoke import CSV, JSON, HttpInvoker, InvokeResult  # noqa: E402
from pipeline_code.deployment.latency import percentile  # noqa: E402
from pipeline_code.deployment.samples import SampleRow, csv_body  # noqa: E402
from pipeline_code.inference import handler, server  # noqa: E402
from pipeline_code.schema import Schema  # noqa: E402
from tests.pipeline_code.conftest_serving import synthetic_features, write_model_artifact  # noqa: E402

SIZES = (1, 100)


class _NagleHandler(server._RequestHandler):
    disable_nagle_algorithm = False  # before: the server's sockets without TCP_NODELAY


def start(model: handler.LoadedModel, *, nagle: bool) -> server.ModelServer:
    srv = server.ModelServer(0, model, quiet=True)
    if nagle:
        srv.RequestHandlerClass = _NagleHandler
    server.start_in_thread(srv)
    return srv


def measure(
    model: handler.LoadedModel, body: bytes, invokers: dict[str, HttpInvoker], repeats: int
) -> dict[str, list[float]]:
    """Each repetition times every variant back to back, so machine load hits all alike."""
    parsed = handler.input_fn(body, CSV)

    def chain() -> object:
        return handler.output_fn(handler.predict_fn(handler.input_fn(body, CSV), model), JSON)

    calls: dict[str, Callable[[], object]] = {
        "predict_fn": lambda: handler.predict_fn(parsed, model),
        "chain": chain,
    }
    for name, invoker in invokers.items():
        calls[name] = _request(invoker, body)
    for _ in range(10):  # warm up every path and connection
        for fn in calls.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in calls}
    clock = time.perf_counter
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in calls.items():
                t0 = clock()
                fn()
                times[name].append((clock() - t0) * 1000.0)
    finally:
        gc.enable()
    return times


def _request(invoker: HttpInvoker, body: bytes) -> Callable[[], object]:
    def call() -> InvokeResult:
        result = invoker.invoke(body, CSV, JSON)
        if not result.ok:
            raise SystemExit(f"the server failed: HTTP {result.status} {result.error}")
        return result

    return call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="repetitions per case")
    args = parser.parse_args(argv)

    schema = Schema.builtin("churn")
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        model = handler.model_fn(write_model_artifact(schema, Path(tmp)))
    frame = synthetic_features(schema, max(SIZES), seed=99, null_share=0.0)
    text = frame.to_csv(header=False, index=False, lineterminator="\n")
    rows = [SampleRow(i, line) for i, line in enumerate(text.splitlines(), start=1)]

    timings: dict[int, dict[str, list[float]]] = {}
    servers = {"http": start(model, nagle=False), "http_nagle": start(model, nagle=True)}
    invokers = {name: HttpInvoker(srv.url) for name, srv in servers.items()}
    try:
        with threadpool_limits(limits=1):
            for size in SIZES:
                timings[size] = measure(model, csv_body(rows[:size]), invokers, args.requests)
    finally:
        for srv in servers.values():
            srv.shutdown()
            srv.server_close()
    labels = {
        "predict_fn": "predict_fn in process",
        "chain": "input_fn+predict_fn+output_fn in process",
        "http": "local server over HTTP (as shipped, TCP_NODELAY)",
        "http_nagle": "local server, Nagle on (before)",
    }
    head = (
        f"{'rows':>5} {'what':<50}{'p50 ms':>9}{'p99 ms':>9}{'p50 x':>8}{'p99 x':>8}{'p50 +ms':>9}"
    )
    print(head)
    print("-" * len(head))
    for size, t in timings.items():
        b50, b99 = percentile(t["predict_fn"], 50), percentile(t["predict_fn"], 99)
        for key, label in labels.items():
            p50, p99 = percentile(t[key], 50), percentile(t[key], 99)
            print(
                f"{size:>5} {label:<50}{p50:>9.2f}{p99:>9.2f}{p50 / b50:>8.2f}{p99 / b99:>8.2f}{p50 - b50:>9.2f}"
            )
        print()
    print(
        f"repetitions per case: {args.requests} (sequential, one keep-alive connection per server); "
        f"scikit-learn {sklearn.__version__}, pandas {pd.__version__}, numpy {np.__version__}, "
        f"Python {sys.version.split()[0]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
