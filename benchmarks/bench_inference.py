"""Inference overhead: our handler's predict_fn vs a bare ``model.predict_proba``.

One run, one table. The model is the serving tests' model (a scikit-learn Pipeline with a
ColumnTransformer, imputer, scaler, one-hot encoder and logistic regression, fitted on 400
synthetic churn rows), loaded through ``model_fn`` from a model.tar.gz layout.

For 1 row and for 1,000 rows, each repetition times, back to back (so machine load hits all
three alike):

* bare: ``pipeline.predict_proba(frame)`` on a ready DataFrame with the dtypes predict_fn
  builds (float64 numbers, object strings); for information also on the same rows with pandas
  3's default ``str`` dtype, which scikit-learn handles a little more slowly;
* predict_fn: schema validation of the parsed rows (types, ranges, categories, nulls),
  building the frame, ``predict_proba`` and the labels;
* input_fn: parsing the CSV body (reported separately, it is not part of predict_fn).

Run::

    .venv/bin/python benchmarks/bench_inference.py [--repeats-batch 300 --repeats-single 2000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline_code.inference import handler  # noqa: E402
from pipeline_code.schema import Schema  # noqa: E402
from tests.pipeline_code.conftest_serving import synthetic_features, write_model_artifact  # noqa: E402


def measure(model: handler.LoadedModel, frame: pd.DataFrame, repeats: int) -> dict[str, np.ndarray]:
    body = frame.to_csv(header=False, index=False).encode("utf-8")
    parsed = handler.input_fn(body, "text/csv")
    assert isinstance(parsed, handler.ParsedInput)
    ready = handler.frame_from_input(parsed, model)  # same values and dtypes predict_fn builds
    # warm up every path (imports, caches) before timing
    for _ in range(5):
        model.pipeline.predict_proba(ready)
        model.pipeline.predict_proba(frame)
        handler.predict_fn(parsed, model)
        handler.input_fn(body, "text/csv")
    times: dict[str, list[float]] = {"bare": [], "bare_str": [], "predict_fn": [], "input_fn": []}
    clock = time.perf_counter
    gc.disable()  # a collection in the middle of one timing would be noise, not overhead
    try:
        for _ in range(repeats):
            # fresh frames each time (untimed), as each request brings new data: no caching
            # inside one DataFrame object can favour the bare call
            ready_i, frame_i = ready.copy(), frame.copy()
            t0 = clock()
            model.pipeline.predict_proba(ready_i)
            t1 = clock()
            handler.predict_fn(parsed, model)
            t2 = clock()
            handler.input_fn(body, "text/csv")
            t3 = clock()
            model.pipeline.predict_proba(frame_i)
            t4 = clock()
            times["bare"].append(t1 - t0)
            times["predict_fn"].append(t2 - t1)
            times["input_fn"].append(t3 - t2)
            times["bare_str"].append(t4 - t3)
    finally:
        gc.enable()
    return {k: np.asarray(v) * 1000.0 for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats-batch", type=int, default=300)
    parser.add_argument("--repeats-single", type=int, default=2000)
    args = parser.parse_args(argv)

    schema = Schema.builtin("churn")
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as tmp:
        model = handler.model_fn(write_model_artifact(schema, Path(tmp)))
    frames = {
        1: synthetic_features(schema, 1, seed=99),
        1000: synthetic_features(schema, 1000, seed=99),
    }
    results = {
        1: measure(model, frames[1], args.repeats_single),
        1000: measure(model, frames[1000], args.repeats_batch),
    }

    print(f"{'rows':>5} {'what':<40}{'p50 ms':>9}{'p99 ms':>9}{'p50 ratio':>11}{'p99 ratio':>11}")
    print("-" * 85)
    for rows, t in results.items():
        b50, b99 = np.percentile(t["bare"], [50, 99])
        for key, label in (
            ("bare", "bare pipeline.predict_proba(frame)"),
            ("predict_fn", "predict_fn (validate + frame + predict)"),
            ("input_fn", "input_fn (parse CSV), separate"),
            ("bare_str", "  info: bare on pandas str-dtype frame"),
        ):
            p50, p99 = np.percentile(t[key], [50, 99])
            ratio = (
                f"{p50 / b50:>11.2f}{p99 / b99:>11.2f}"
                if key != "input_fn"
                else f"{'':>11}{'':>11}"
            )
            print(f"{rows:>5} {label:<40}{p50:>9.3f}{p99:>9.3f}{ratio}")
        over = np.percentile(t["predict_fn"], 50) - b50
        print(f"{'':>5} {'predict_fn overhead (p50 difference)':<40}{over:>9.3f}")
        print()
    t = results[1000]
    ratio = np.percentile(t["predict_fn"], 50) / np.percentile(t["bare"], 50)
    print(
        f"goal: predict_fn within 1.5x of bare predict_proba for 1,000 rows (p50): {ratio:.2f}x -> "
        f"{'PASS' if ratio <= 1.5 else 'FAIL'}"
    )
    print(
        f"repeats: {args.repeats_single} (1 row), {args.repeats_batch} (1,000 rows); "
        f"scikit-learn {sklearn.__version__}, pandas {pd.__version__}, numpy {np.__version__}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
