"""Evaluate a trained model on the test split (SageMaker Processing contract).

    /opt/ml/processing/model/model.tar.gz     the training output (a model folder works too)
    /opt/ml/processing/test/                  test.csv (or .parquet)
    /opt/ml/processing/evaluation/            evaluation.json, report.html

``evaluation.json`` holds ``binary_classification_metrics`` in the model-registry format,
``bias_metrics`` per sensitive attribute, ``confidence_bounds`` (one-sided lower bounds from the
bootstrap standard deviations, e.g. ``confidence_bounds.auc.lower``), ``feature_importance``
(permutation importance on at most ``importance_rows`` sampled test rows) and
``evaluation_info`` (``labels`` names the user's label values behind the encoded 0/1). A
pipeline's condition step (or :func:`pipeline_code.evaluation.gate.check_quality_gate`) reads
it; the local run's gate adds a ``quality_gate`` section saying which value it compared.

    python -m pipeline_code.evaluation.evaluate --model out/model/model.tar.gz \\
        --test out/splits/test --output-dir out/evaluation

Champion/challenger: with ``--champion-model DIR`` the production model (a ``*.tar.gz`` in
``DIR``; none there means no champion, e.g. the pipeline's default marker input) is evaluated on
the same test data, and the ``champion_challenger`` section (both figures, the margin, ``passed``)
is written into ``evaluation.json`` (:mod:`pipeline_code.retraining.champion`). The pipeline's
gate reads ``champion_challenger.passed``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from ..data.tables import read_table
from ..schema import Schema
from ..training.train import features_and_target, load_model_dir
from .bias import bias_metrics
from .metrics import (
    DEFAULT_CONFIDENCE_LEVEL,
    binary_classification_metrics,
    confidence_bounds,
    z_value,
)
from .report import render_report

PROCESSING_ROOT = Path("/opt/ml/processing")
EVALUATION_FILE = "evaluation.json"
REPORT_FILE = "report.html"
DEFAULT_IMPORTANCE_ROWS = 2000
DEFAULT_IMPORTANCE_REPEATS = 3


def class_labels(schema: Schema) -> dict[int, str]:
    """Encoded class -> the user's label value (1 is the schema's positive label)."""
    return {1: str(schema.target.positive), 0: str(schema.target.negative)}


def feature_importance(
    pipeline: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    max_rows: int = DEFAULT_IMPORTANCE_ROWS,
    n_repeats: int = DEFAULT_IMPORTANCE_REPEATS,
    seed: int = 0,
) -> dict[str, Any]:
    """Permutation importance of each input feature on (a seeded sample of) the test rows.

    Cost is bounded: at most ``max_rows`` rows, ``n_repeats`` shuffles per feature, so
    ``features * n_repeats`` predictions of ``max_rows`` rows. Scored by ROC AUC (accuracy when
    the sample holds one class). ``max_rows=0`` or ``n_repeats=0`` skips it.
    """
    base: dict[str, Any] = {
        "method": "permutation",
        "test_rows": len(x),
        "n_repeats": n_repeats,
        "seed": seed,
    }
    if max_rows <= 0 or n_repeats <= 0:
        return {**base, "rows": 0, "scoring": None, "features": {}, "skipped": "turned off"}
    if len(x) == 0:
        return {**base, "rows": 0, "scoring": None, "features": {}, "skipped": "no test rows"}
    rng = np.random.default_rng(seed)
    if len(x) > max_rows:
        idx = np.sort(rng.choice(len(x), size=max_rows, replace=False))
        xs, ys = x.iloc[idx], y[idx]
    else:
        xs, ys = x, y
    scoring = "roc_auc" if len(np.unique(ys)) == 2 else "accuracy"
    result = permutation_importance(
        pipeline, xs, ys, scoring=scoring, n_repeats=n_repeats, random_state=seed
    )
    order = np.argsort(-result.importances_mean, kind="mergesort")
    features = {
        str(x.columns[i]): {
            "mean": round(float(result.importances_mean[i]), 6),
            "std": round(float(result.importances_std[i]), 6),
        }
        for i in order
    }
    return {**base, "rows": len(xs), "scoring": scoring, "features": features}


def evaluate(
    model_path: str | Path,
    test_path: str | Path,
    output_dir: str | Path,
    *,
    threshold: float = 0.5,
    bootstrap: int = 40,
    seed: int = 0,
    min_group_size: int = 10,
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL,
    importance_rows: int = DEFAULT_IMPORTANCE_ROWS,
    importance_repeats: int = DEFAULT_IMPORTANCE_REPEATS,
) -> dict[str, Any]:
    """Score the test data, write ``evaluation.json`` and ``report.html``, return the evaluation."""
    z_value(confidence_level)  # fail on a bad level before any work
    model_file = Path(model_path)
    if model_file.is_dir() and (model_file / "model.tar.gz").exists():
        model_file = model_file / "model.tar.gz"
    pipeline, schema, metadata = load_model_dir(model_file)
    test = read_table(test_path, schema)
    x, y = features_and_target(test, schema)
    score = pipeline.predict_proba(x)[:, 1]
    pred = (score >= threshold).astype(np.int64)
    labels = class_labels(schema)
    present = [labels[c] for c in (1, 0) if (y == c).any()]
    warnings: list[str] = []
    if len(present) == 1:
        missing = labels[0] if present[0] == labels[1] else labels[1]
        warnings.append(
            f"the test data holds only {schema.target.name}={present[0]} rows (no "
            f"{schema.target.name}={missing}): AUC and the curves are undefined"
        )
    metrics = binary_classification_metrics(
        y, score, threshold=threshold, bootstrap=bootstrap, seed=seed
    )
    evaluation: dict[str, Any] = {
        "binary_classification_metrics": metrics,
        "bias_metrics": bias_metrics(test, y, pred, schema, min_group_size=min_group_size),
        "confidence_bounds": confidence_bounds(metrics, confidence_level),
        "feature_importance": feature_importance(
            pipeline, x, y, max_rows=importance_rows, n_repeats=importance_repeats, seed=seed
        ),
        "evaluation_info": {
            "schema": schema.name,
            "model_type": metadata.get("hyperparameters", {}).get("model_type"),
            "test_rows": len(test),
            "test_positive_rate": float(y.mean()),
            "decision_threshold": threshold,
            "bootstrap_replicates": bootstrap,
            "confidence_level": float(confidence_level),
            # Human-facing: the user's label values; the metrics keep the encoded "0"/"1".
            "labels": {
                "target": schema.target.name,
                "positive": labels[1],
                "negative": labels[0],
                "encoding": {"1": labels[1], "0": labels[0]},
            },
            "classes_present": present,
            "warnings": warnings,
        },
    }
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    # allow_nan=False: the file must be strict JSON for the registry; NaN is written as "NaN".
    (out / EVALUATION_FILE).write_text(
        json.dumps(evaluation, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (out / REPORT_FILE).write_text(
        render_report(evaluation, title=f"Model evaluation: {schema.name}"), encoding="utf-8"
    )
    return evaluation


def find_champion_model(folder: str | Path | None) -> Path | None:
    """The champion's ``model.tar.gz`` in ``folder`` (a file or a folder), or None."""
    if folder is None:
        return None
    path = Path(folder)
    if path.is_file():
        return path if path.name.endswith(".tar.gz") else None
    if not path.is_dir():
        return None
    found = sorted(path.rglob("*.tar.gz"))
    return found[0] if found else None


def compare_champion(
    evaluation_path: str | Path,
    champion_folder: str | Path | None,
    test_path: str | Path,
    *,
    metric: str = "binary_classification_metrics.auc.value",
    margin: float = 0.0,
    threshold: float = 0.5,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate the champion on the same test data, record the comparison in the challenger's
    ``evaluation.json`` and return the ``champion_challenger`` record.

    A champion that cannot score this test data (e.g. the schema changed since it was trained)
    is recorded with the reason and does not block the challenger: the comparison needs both
    models on the same data, and a person still approves the new version.
    """
    import tarfile
    import tempfile

    from ..retraining.champion import (
        ChampionComparison,
        compare_with_champion,
        record_champion_comparison,
    )

    champion_file = find_champion_model(champion_folder)
    champion_eval: dict[str, Any] | None = None
    problem = None
    if champion_file is not None:
        with tempfile.TemporaryDirectory(prefix="champion-") as tmp:
            try:
                champion_eval = evaluate(
                    champion_file, test_path, tmp, threshold=threshold, seed=seed,
                    importance_rows=0,
                )  # fmt: skip
            except (ValueError, KeyError, OSError, tarfile.TarError) as exc:
                problem = (
                    f"champion {champion_file.name} could not be evaluated on this test data: {exc}"
                )
    comparison = compare_with_champion(evaluation_path, champion_eval, metric=metric, margin=margin)
    if problem is not None:
        comparison = ChampionComparison(
            passed=True, metric=metric, challenger=comparison.challenger, champion=None,
            margin=comparison.margin, message=problem,
        )  # fmt: skip
    record = record_champion_comparison(evaluation_path, comparison)
    return dict(record["champion_challenger"])


def build_parser() -> argparse.ArgumentParser:
    """Arguments; defaults follow the SageMaker Processing paths."""
    p = argparse.ArgumentParser(prog="evaluate", description="Evaluate a model on the test split")
    p.add_argument(
        "--model", default=str(PROCESSING_ROOT / "model"), help="model.tar.gz or its folder"
    )
    p.add_argument(
        "--test", default=str(PROCESSING_ROOT / "test"), help="test split folder or file"
    )
    p.add_argument("--output-dir", default=str(PROCESSING_ROOT / "evaluation"))
    p.add_argument("--threshold", type=float, default=0.5, help="decision threshold on P(positive)")
    p.add_argument(
        "--bootstrap", type=int, default=40, help="bootstrap replicates for standard deviations"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-group-size", type=int, default=10)
    p.add_argument(
        "--confidence-level",
        type=float,
        default=DEFAULT_CONFIDENCE_LEVEL,
        help="level of the one-sided lower bounds in confidence_bounds (default: 0.95)",
    )
    p.add_argument(
        "--importance-rows",
        type=int,
        default=DEFAULT_IMPORTANCE_ROWS,
        help="test rows sampled for permutation importance; 0 skips it (default: 2000)",
    )
    p.add_argument(
        "--importance-repeats",
        type=int,
        default=DEFAULT_IMPORTANCE_REPEATS,
        help="shuffles per feature for permutation importance (default: 3)",
    )
    p.add_argument(
        "--champion-model",
        default=None,
        help="folder (or file) with the production model's model.tar.gz; none there = no champion",
    )
    p.add_argument(
        "--champion-metric",
        default="binary_classification_metrics.auc.value",
        help="evaluation.json path of the compared metric (default: AUC)",
    )
    p.add_argument(
        "--champion-margin",
        type=float,
        default=0.0,
        help="the challenger may be this much worse than the champion (default 0)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for the Processing container; prints the headline metrics."""
    args = build_parser().parse_args(argv)
    evaluation = evaluate(
        args.model,
        args.test,
        args.output_dir,
        threshold=args.threshold,
        bootstrap=args.bootstrap,
        seed=args.seed,
        min_group_size=args.min_group_size,
        confidence_level=args.confidence_level,
        importance_rows=args.importance_rows,
        importance_repeats=args.importance_repeats,
    )
    m = evaluation["binary_classification_metrics"]
    info = evaluation["evaluation_info"]
    print(
        " ".join(f"{k}={m[k]['value']}" for k in ("accuracy", "precision", "recall", "f1", "auc"))
        + f" (positive class {info['labels']['target']}={info['labels']['positive']})",
        file=sys.stderr,
    )
    for warning in info["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.champion_model is not None:
        record = compare_champion(
            Path(args.output_dir) / EVALUATION_FILE,
            args.champion_model,
            args.test,
            metric=args.champion_metric,
            margin=args.champion_margin,
            threshold=args.threshold,
            seed=args.seed,
        )
        print(f"champion/challenger: {record['message']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
