"""Evaluate a trained model on the test split (SageMaker Processing contract).

    /opt/ml/processing/model/model.tar.gz     the training output (a model folder works too)
    /opt/ml/processing/test/                  test.csv (or .parquet)
    /opt/ml/processing/evaluation/            evaluation.json, report.html

``evaluation.json`` holds ``binary_classification_metrics`` in the model-registry format,
``bias_metrics`` per sensitive attribute and ``evaluation_info``. A pipeline's condition step
(or :func:`pipeline_code.evaluation.gate.check_quality_gate`) reads it.

    python -m pipeline_code.evaluation.evaluate --model out/model/model.tar.gz \\
        --test out/splits/test --output-dir out/evaluation
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline_code.data.tables import read_table
from pipeline_code.evaluation.bias import bias_metrics
from pipeline_code.evaluation.metrics import binary_classification_metrics
from pipeline_code.evaluation.report import render_report
from pipeline_code.training.train import features_and_target, load_model_dir

PROCESSING_ROOT = Path("/opt/ml/processing")
EVALUATION_FILE = "evaluation.json"
REPORT_FILE = "report.html"


def evaluate(
    model_path: str | Path,
    test_path: str | Path,
    output_dir: str | Path,
    *,
    threshold: float = 0.5,
    bootstrap: int = 40,
    seed: int = 0,
    min_group_size: int = 10,
) -> dict[str, Any]:
    """Score the test data, write ``evaluation.json`` and ``report.html``, return the evaluation."""
    model_file = Path(model_path)
    if model_file.is_dir() and (model_file / "model.tar.gz").exists():
        model_file = model_file / "model.tar.gz"
    pipeline, schema, metadata = load_model_dir(model_file)
    test = read_table(test_path, schema)
    x, y = features_and_target(test, schema)
    score = pipeline.predict_proba(x)[:, 1]
    pred = (score >= threshold).astype(np.int64)
    evaluation: dict[str, Any] = {
        "binary_classification_metrics": binary_classification_metrics(
            y, score, threshold=threshold, bootstrap=bootstrap, seed=seed
        ),
        "bias_metrics": bias_metrics(test, y, pred, schema, min_group_size=min_group_size),
        "evaluation_info": {
            "schema": schema.name,
            "model_type": metadata.get("hyperparameters", {}).get("model_type"),
            "test_rows": len(test),
            "test_positive_rate": float(y.mean()),
            "decision_threshold": threshold,
            "bootstrap_replicates": bootstrap,
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
    )
    m = evaluation["binary_classification_metrics"]
    print(
        " ".join(f"{k}={m[k]['value']}" for k in ("accuracy", "precision", "recall", "f1", "auc")),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
