"""``run-local``'s simulated production traffic: held-out rows, drifted, sent through the
inference handler as CSV requests and written as SageMaker data capture; and a model's scores
on a frame (the prediction-drift baseline). numpy and pandas are imported inside the functions,
so the command-line parsers that import ``pipeline_code.cli`` stay light."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .schema import Schema


def model_scores(tarball: Path, frame: Any, schema: Schema) -> Any:
    """Positive-class probabilities of the model in ``tarball`` on ``frame``."""
    from .training.train import features_and_target, load_model_dir

    pipeline, _schema, _meta = load_model_dir(tarball)
    x, _y = features_and_target(frame, schema)
    return pipeline.predict_proba(x)[:, 1]


def simulate_traffic(
    tarball: Path,
    test_dir: Path,
    schema: Schema,
    capture_dir: Path,
    *,
    rows: int,
    drift: float,
    seed: int,
    rows_per_request: int = 20,
) -> dict[str, Any]:
    """Send drifted copies of held-out rows through ``input_fn``/``predict_fn``/``output_fn`` as
    CSV requests, and write the accepted ones as SageMaker data capture.

    Traffic is drawn from the test split (so it works for any schema) and shifted with
    :func:`pipeline_code.data.generate.apply_drift`; ``traffic_drift=0`` gives undrifted traffic.
    Rows are drawn without replacement, in fresh random orders of the whole split when more
    rows are asked for than it holds, so every row repeats as evenly as possible and the
    repeats add no manufactured evidence; ``distinct_rows`` in the result says how many rows
    the traffic really holds (the drift check counts repeated rows once).
    """
    import numpy as np
    import pandas as pd

    from .data import generate as gen
    from .data.tables import read_table
    from .loop import load_served_model, predict_requests
    from .monitoring.capture import write_capture_files

    model = load_served_model(tarball)
    rng = np.random.default_rng(seed + 1)
    test = read_table(test_dir, schema)
    rounds = -(-rows // len(test)) if len(test) else 0
    order = [rng.permutation(len(test)) for _ in range(rounds)]
    picks = np.concatenate(order)[:rows] if order else np.empty(0, dtype=np.int64)
    sample = test.iloc[picks].reset_index(drop=True)
    features = sample[schema.feature_names]
    if drift > 0:
        features = gen.apply_drift(features, schema, rng, strength=drift)
    accepted, probabilities, rejected, _positions = predict_requests(
        model, features, rows_per_request
    )
    requests = len(accepted) + len(rejected)
    if accepted:
        records = pd.concat(accepted, ignore_index=True)
        write_capture_files(
            records,
            np.concatenate(probabilities),
            capture_dir,
            content_type="text/csv",
            rows_per_request=rows_per_request,
        )
    return {
        "requests": requests,
        "requests_rejected": len(rejected),
        "rows_predicted": int(sum(len(b) for b in accepted)),
        "first_rejection": rejected[0] if rejected else None,
        "capture_dir": str(capture_dir),
        "distinct_rows": int(np.unique(picks).size),
    }
