"""Fixtures of the monitoring-job tests: a baseline, a capture window, ground truth."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code.compat import UTC
from pipeline_code.monitoring.baseline import run_baseline
from pipeline_code.monitoring.capture import write_capture_files
from pipeline_code.monitoring.ground_truth import write_ground_truth_files
from pipeline_code.monitoring.prediction_drift import write_prediction_baseline
from pipeline_code.schema import Schema

from ..conftest_serving import churn_schema as churn_schema
from ..conftest_serving import synthetic_features

START = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def scores_of(df: pd.DataFrame) -> np.ndarray:
    """A deterministic 'model': more support calls and a short tenure -> churn."""
    z = 0.15 * df["support_calls"].to_numpy(float) - 0.03 * df["tenure_months"].to_numpy(float)
    return np.round(1.0 / (1.0 + np.exp(-(z + 0.2))), 6)


def make_capture(
    folder: Path, df: pd.DataFrame, *, rows_per_request: int = 5, interval: float = 7.0
) -> list[Path]:
    """Capture files spanning several hours (one file per hour), CSV in and out."""
    return write_capture_files(
        df,
        scores_of(df),
        folder,
        start_time=START,
        rows_per_request=rows_per_request,
        interval_seconds=interval,
        endpoint_name="churn-prod",
    )


def make_ground_truth(
    capture_dir: Path, gt_dir: Path, *, share: float = 0.8, seed: int = 5
) -> tuple[int, int]:
    """Labels for a share of the captured events (plus gender/senior values); returns
    (records labelled, records captured)."""
    rng = np.random.default_rng(seed)
    ids: list[str] = []
    labels: list[list[int]] = []
    sensitive: list[dict[str, object] | None] = []
    labelled = total = 0
    for path in sorted(capture_dir.rglob("*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            out = event["captureData"]["endpointOutput"]["data"]
            probs = [float(r.split(",")[0]) for r in out.strip().splitlines()]
            total += len(probs)
            if rng.random() >= share:
                continue
            ids.append(event["eventMetadata"]["eventId"])
            labels.append([int(rng.random() < p) for p in probs])
            sensitive.append(
                {
                    "gender": [str(rng.choice(["female", "male", "nonbinary"])) for _ in probs],
                    "senior_citizen": bool(rng.random() < 0.2),
                }
            )
            labelled += len(probs)
    write_ground_truth_files(
        ids, labels, gt_dir, endpoint_name="churn-prod", time=START, sensitive=sensitive
    )
    return labelled, total


@pytest.fixture(scope="package")
def baseline_dir(tmp_path_factory: pytest.TempPathFactory, churn_schema: Schema) -> Path:
    out = tmp_path_factory.mktemp("job-baseline")
    ref = synthetic_features(churn_schema, 6000, seed=41)
    run_baseline(ref, churn_schema, out)
    (out / "schema.json").write_text(churn_schema.to_json())
    write_prediction_baseline(scores_of(ref), out)
    return out


@pytest.fixture(scope="package")
def window(tmp_path_factory: pytest.TempPathFactory, churn_schema: Schema) -> dict[str, Path]:
    """3000 records in 600 events over ~3.3 hours (four hour files), 80% labelled."""
    root = tmp_path_factory.mktemp("job-window")
    cap, gt = root / "capture", root / "ground-truth"
    make_capture(cap, synthetic_features(churn_schema, 3000, seed=42), interval=20.0)
    make_ground_truth(cap, gt)
    return {"capture": cap, "ground_truth": gt}
