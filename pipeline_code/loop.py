"""Level 3 on this machine: the loop after a model is registered (``run-local``, level 3).

approve -> serve the next day's traffic (drifted, with labels arriving as ground truth) ->
monitor (all four monitors, :mod:`pipeline_code.monitoring.job`) -> drift alarm -> retraining
guard (:mod:`pipeline_code.retraining.guard`) -> retrain on the current data (the new day is
ingested by the ETL next to the old one) -> champion/challenger on the same test split
(:func:`pipeline_code.evaluation.evaluate.compare_champion`) -> a new version, pending approval.

Time is simulated so the guard's rules mean what they mean in AWS: the first model is trained
at ``T0`` (this run's start, UTC hour), live traffic arrives the next day from ``T0 + 24 h``, and
the drift alarm fires when the monitoring run of that window finds drift, ``T0 + 26 h``
(Level 3's default of two consecutive drifted hours). The guard sees the first training as the
only past execution.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .compat import UTC
from .schema import Schema

#: The endpoint and schedule names the local loop uses in capture, ground truth and metrics.
LOCAL_ENDPOINT = "local-prod"
LOCAL_SCHEDULE = "local-prod-hourly"
ROWS_PER_REQUEST = 20


@dataclass(frozen=True)
class LoopSettings:
    """The loop's knobs (``run-local`` flags)."""

    traffic_rows: int = 2000
    traffic_drift: float = 0.5
    cooldown_hours: float = 6.0
    max_per_day: int = 2
    champion_margin: float = 0.0
    drift_threshold: float = 0.1


def predict_requests(
    model: Any, features: pd.DataFrame, rows_per_request: int
) -> tuple[list[pd.DataFrame], list[np.ndarray], list[str], list[range]]:
    """Send ``features`` through ``input_fn``/``predict_fn``/``output_fn`` as CSV requests of
    ``rows_per_request`` rows: the accepted batches, their probabilities, the rejection
    messages, and the row positions of each accepted batch."""
    from .inference import handler

    accepted: list[pd.DataFrame] = []
    probabilities: list[np.ndarray] = []
    rejected: list[str] = []
    positions: list[range] = []
    for lo in range(0, len(features), rows_per_request):
        batch = features.iloc[lo : lo + rows_per_request]
        body = batch.to_csv(header=False, index=False)
        try:
            parsed = handler.input_fn(body, "text/csv")
            prediction = handler.predict_fn(parsed, model)
            response = handler.output_fn(prediction, "application/json")
        except handler.InferenceClientError as exc:
            rejected.append(str(exc))
            continue
        if isinstance(prediction, handler.RejectedRequest):
            rejected.append(str(prediction.error))
            continue
        body_out, _content_type = response
        probs = np.array(
            [p["probability"] for p in json.loads(body_out)["predictions"]], dtype=float
        )
        accepted.append(batch)
        probabilities.append(probs)
        positions.append(range(lo, lo + len(batch)))
    return accepted, probabilities, rejected, positions


def load_served_model(tarball: Path) -> Any:
    """What SageMaker does before ``model_fn``: unpack ``model.tar.gz`` and load it."""
    import tarfile
    import tempfile

    from .compat import extract_tar
    from .inference import handler

    with tempfile.TemporaryDirectory(prefix="cdk-mlops-model-") as tmp:
        with tarfile.open(tarball, "r:gz") as tar:
            extract_tar(tar, tmp)
        return handler.model_fn(tmp)


def serve_live_traffic(
    tarball: Path,
    live: pd.DataFrame,
    schema: Schema,
    capture_root: Path,
    ground_truth_root: Path,
    *,
    start: dt.datetime,
) -> dict[str, Any]:
    """Serve ``live`` (typed rows as the ETL writes them, target 0/1) as requests from
    ``start``; write the
    accepted ones as data capture and their labels (and sensitive attributes) as ground truth,
    keyed by each capture event's id, as a user would upload them."""
    from .monitoring.capture import write_capture_files
    from .monitoring.ground_truth import write_ground_truth_files

    model = load_served_model(tarball)
    accepted, probabilities, rejected, positions = predict_requests(
        model, live[schema.feature_names], ROWS_PER_REQUEST
    )
    if not accepted:
        raise RuntimeError(f"every live request was rejected; first: {rejected[:1]}")
    files = write_capture_files(
        pd.concat(accepted, ignore_index=True),
        np.concatenate(probabilities),
        capture_root,
        content_type="text/csv",
        endpoint_name=LOCAL_ENDPOINT,
        start_time=start,
        interval_seconds=30.0,
        rows_per_request=ROWS_PER_REQUEST,
    )
    # events are written in request order; each carries one accepted batch
    event_ids = [
        json.loads(line)["eventMetadata"]["eventId"]
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    target = live[schema.target.name].to_numpy()
    labels = [[int(v) for v in target[list(rows)]] for rows in positions]
    sensitive = [
        {name: [_plain(v) for v in live[name].iloc[list(rows)]] for name in schema.sensitive_names}
        if schema.sensitive_names
        else None
        for rows in positions
    ]
    write_ground_truth_files(
        event_ids,
        labels,
        ground_truth_root,
        endpoint_name=LOCAL_ENDPOINT,
        time=start,
        sensitive=sensitive,
    )
    return {
        "requests": len(accepted) + len(rejected),
        "requests_rejected": len(rejected),
        "rows_predicted": int(sum(len(b) for b in accepted)),
        "capture_files": len(files),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def drift_alarm(violations: int) -> bool:
    """The drift alarm's rule on one local window: at least one data-quality violation (in AWS,
    ``drift_violations >= 1`` for ``drift_evaluation_periods`` consecutive windows)."""
    return violations >= 1


def simulated_times(now: dt.datetime) -> dict[str, dt.datetime]:
    """``T0`` (the first training), the live window's start and the drift alarm's time."""
    t0 = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    live = t0 + dt.timedelta(days=1)
    return {"trained": t0, "live_start": live, "alarm": live + dt.timedelta(hours=2)}


def window_of(start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The monitored window: the UTC hour ``start`` is in (what the hourly schedule reads)."""
    return start, start + dt.timedelta(hours=1)


def run_loop(
    *,
    out: Path,
    schema: Schema,
    settings: LoopSettings,
    progress: Any,
    registry: Any,
    group: str,
    version: int,
    tarball: Path,
    curated: Path,
    quarantine: Path,
    seed: int,
    model_type: str,
    metric: str,
    threshold: float,
    confidence_level: float,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The Level 3 loop after version ``version`` of ``group`` is registered (see the module
    docstring); returns the ``level3`` section of the run summary."""
    from .data import generate as gen
    from .data.tables import read_table
    from .etl.common import DEFAULT_MAX_QUARANTINE_FRACTION
    from .etl.pandas_transform import run_etl_pandas
    from .evaluation.evaluate import (
        EVALUATION_FILE,
        REPORT_FILE,
        compare_champion,
        evaluate,
    )
    from .evaluation.gate import check_quality_gate, record_quality_gate
    from .monitoring import job as monitoring_job
    from .monitoring.baseline import run_baseline
    from .monitoring.prediction_drift import write_prediction_baseline
    from .processing.preprocess import SPLITS, preprocess
    from .registry.local import code_sha256
    from .retraining import guard
    from .training.train import Hyperparameters, load_model_dir, train

    times = simulated_times(now or dt.datetime.now(UTC))
    loop: dict[str, Any] = {"times": {k: v.isoformat() for k, v in times.items()}}
    root = out / "level3"
    root.mkdir(parents=True, exist_ok=True)

    # approve the registered version (a reviewer, or the deployment pipeline's approval)
    with progress.step("approve") as rec:
        registry.update_approval(group, version, "Approved", comment="run-local level 3")
        rec.detail = f"{group} version {version} Approved; serving it as {LOCAL_ENDPOINT}"

    # the next day's data arrives: the ETL ingests it next to the first day
    day2 = times["live_start"].date().isoformat()
    with progress.step("next day's data") as rec:
        raw2 = root / "day2.csv"
        gen.generate(
            schema, settings.traffic_rows, seed=seed + 101, drift=settings.traffic_drift,
            bad_fraction=0.01, id_prefix="LIVE-",
        ).to_csv(raw2)  # fmt: skip
        etl2 = run_etl_pandas(
            raw2, curated, quarantine, schema, ingest_date=day2,
            max_quarantine_fraction=max(DEFAULT_MAX_QUARANTINE_FRACTION, 0.01),
        )  # fmt: skip
        live = read_table(curated / f"ingest_date={day2}", schema)
        rec.detail = (
            f"{etl2.rows_in} rows on {day2} (drift {settings.traffic_drift}): "
            f"{etl2.rows_clean} clean, {etl2.rows_quarantined} quarantined"
        )

    # live traffic on the production model, with labels arriving as ground truth
    capture_root, gt_root = root / "data-capture", root / "ground-truth"
    with progress.step("live traffic") as rec:
        traffic = serve_live_traffic(
            tarball, live, schema, capture_root, gt_root, start=times["live_start"]
        )
        rec.detail = (
            f"{traffic['requests']} requests, {traffic['rows_predicted']} rows predicted, "
            f"{traffic['requests_rejected']} rejected; labels for all as ground truth"
        )
    loop["traffic"] = traffic

    # the hourly monitoring run of the first live hour: all four monitors
    start, end = window_of(times["live_start"])
    hour = start.strftime("%Y/%m/%d/%H")
    baseline_dir = registry.get(group, version).path / "baseline"
    monitoring_dir = root / "monitoring" / hour
    with progress.step("monitor") as rec:
        result = monitoring_job.run_job(
            monitoring_job.JobConfig(
                capture_dir=capture_root / LOCAL_ENDPOINT / "AllTraffic" / hour,
                baseline_dir=baseline_dir,
                output_dir=monitoring_dir,
                schema=schema,
                ground_truth_dir=gt_root / LOCAL_ENDPOINT / hour,
                endpoint_name=LOCAL_ENDPOINT,
                schedule_name=LOCAL_SCHEDULE,
                window_start=start,
                window_end=end,
                threshold=settings.drift_threshold,
            )
        )
        violations = {m: len(v) for m, v in result.violations.items()}
        quality = result.statistics.get("model-quality", {})
        live_auc = quality.get("binary_classification_metrics", {}).get("auc", {}).get("value")
        rec.detail = (
            f"{result.records} records; violations "
            + ", ".join(f"{m} {n}" for m, n in violations.items())
            + (f"; live auc {live_auc:.3f}" if isinstance(live_auc, float) else "")
        )
    loop["monitoring"] = {
        "window": [start.isoformat(), end.isoformat()],
        "records": result.records,
        "violations": violations,
        "ground_truth": result.ground_truth,
        "live_auc": live_auc,
        "output": str(monitoring_dir),
        "metric_lines": len(result.metric_lines),
    }

    fired = drift_alarm(violations.get("data-quality", 0))
    with progress.step("drift alarm") as rec:
        rec.detail = (
            f"ALARM at {times['alarm'].isoformat()}: {violations.get('data-quality', 0)} "
            "data-quality violations"
            if fired
            else "OK: no data-quality violation"
        )
    loop["drift_alarm"] = fired
    if not fired:
        loop["retraining"] = {"decision": "no-alarm"}
        return loop

    with progress.step("retraining guard") as rec:
        decision = guard.decide(
            times["alarm"],
            [guard.Execution(times["trained"], "Succeeded", "first training")],
            guard.GuardSettings(
                cooldown_seconds=int(settings.cooldown_hours * 3600),
                max_per_day=settings.max_per_day,
            ),
        )
        rec.detail = f"{decision.reason}: {decision.message}"
    loop["retraining"] = {"decision": decision.reason, "message": decision.message}
    if not decision.start:
        return loop

    # retrain on the current data (both days), compare with the champion on the same test split
    splits = {name: root / "splits" / name for name in SPLITS}
    with progress.step("retrain") as rec:
        split = preprocess(curated, schema, splits, seed=seed)
        hp = Hyperparameters.from_mapping({"model_type": model_type, "random_state": seed})
        challenger = root / "training" / "model.tar.gz"
        trained = train(
            splits["train"], root / "training" / "model", schema, hp,
            validation_path=splits["validation"], code_version=code_sha256()[:12],
            tarball=challenger,
        )  # fmt: skip
        rec.detail = f"{hp.model_type} on {trained.metadata['training_rows']} rows ({split.rows})"
    eval_dir = root / "evaluation"
    with progress.step("champion/challenger") as rec:
        evaluate(challenger, splits["test"], eval_dir, seed=seed, confidence_level=confidence_level)
        record = compare_champion(
            eval_dir / EVALUATION_FILE,
            tarball,
            splits["test"],
            metric=metric,
            margin=settings.champion_margin,
            seed=seed,
        )
        gate = check_quality_gate(eval_dir / EVALUATION_FILE, metric, threshold)
        record_quality_gate(eval_dir / EVALUATION_FILE, gate, report_file=eval_dir / REPORT_FILE)
        rec.detail = f"{record['message']}; gate: {gate.message}"
    loop["champion_challenger"] = record
    loop["quality_gate"] = {"passed": gate.passed, "message": gate.message}
    if not (record["passed"] and gate.passed):
        loop["new_version"] = None
        return loop

    with progress.step("register v2") as rec:
        # trained on both days: version 1's data files and the second day's
        first_day = [
            r["path"] for r in registry.get(group, version).description.get("DataLineage", [])
        ]
        package = registry.register(
            group,
            challenger,
            evaluation=eval_dir / EVALUATION_FILE,
            report=eval_dir / REPORT_FILE,
            data_paths=[*first_day, raw2],
            description=f"drift retraining of version {version}: {record['message']}",
            metadata={"schema": schema.name, "retrained_from": version, "seed": seed},
        )
        new_baseline = package.path / "baseline"
        train_df = read_table(splits["train"], schema)
        run_baseline(train_df, schema, new_baseline)
        model, _schema, _meta = load_model_dir(challenger)
        write_prediction_baseline(
            model.predict_proba(train_df[schema.feature_names])[:, 1], new_baseline
        )
        registry.attach_baseline(group, package.version, new_baseline)
        rec.detail = f"{group} version {package.version} ({package.approval_status})"
    loop["new_version"] = {
        "version": package.version,
        "approval_status": package.approval_status,
        "path": str(package.path),
    }
    return loop
