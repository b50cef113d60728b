"""cdk-mlops run-local: run the whole ML chain on this machine, with no AWS account.

    cdk-mlops run-local                                   # synthetic churn data, 20,000 rows
    cdk-mlops run-local --rows 5000 --output /tmp/run     # smaller, elsewhere
    cdk-mlops run-local --data my.csv --schema my_schema.json --metric f1 --threshold 0.6
    cdk-mlops run-local --skip-spark                      # pandas ETL (same rules) instead of Spark
    cdk-mlops generate --schema loan_default --rows 1000 --bad-fraction 0.05 --output loans.csv

run-local runs: generate -> ETL (local Spark, as on Glue 5.0) -> preprocess -> train ->
evaluate -> quality gate -> register (local versioned registry) -> baseline -> simulated
traffic with drift through the inference handler, written as data capture -> drift check;
then Level 3's loop (--level 3, the default; pipeline_code/loop.py): approve -> the next
day's drifted data is ingested and served as live traffic with labels as ground truth ->
monitoring job (four monitors) -> drift alarm -> retraining guard -> retrain on both days ->
champion/challenger on the same test split -> version 2, pending approval. --level 2 stops
after the drift check. Every artifact has the name and format SageMaker would give it.
Exit status: 0 done, 1 error (message on stderr), 2 bad arguments, 3 the quality gate
rejected the model.

The ``cdk-mlops`` console script is :mod:`cdk_mlops.cli`; it takes the arguments and the
commands from here. This module imports numpy and pandas only inside the commands, so the
parsers (and ``--help``) work without the ``ml`` extra. ``python -m pipeline_code.cli`` runs
the same two commands.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .evaluation.metric_names import SCALAR_METRICS, metric_problem
from .progress import STEPS as STEPS
from .progress import Progress as Progress
from .progress import QualityGateFailed as QualityGateFailed
from .progress import StepRecord as StepRecord
from .schema import Schema, SchemaError

if TYPE_CHECKING:
    pass

#: The Level 3 loop's steps (``--level 3``), after ``STEPS``: :mod:`pipeline_code.loop`.
LEVEL3_STEPS: tuple[str, ...] = (
    "approve",
    "next day's data",
    "live traffic",
    "monitor",
    "drift alarm",
    "retraining guard",
    "retrain",
    "champion/challenger",
    "register v2",
)
DEFAULT_ROWS = 20_000
DEFAULT_OUTPUT = "cdk-mlops-local"
EXIT_ERROR = 1
EXIT_GATE_FAILED = 3


@dataclass(frozen=True)
class RunLocalConfig:
    """Settings of one local run (the ``run-local`` arguments)."""

    output: Path
    rows: int = DEFAULT_ROWS
    seed: int = 0
    data: Path | None = None
    schema: str = "churn"
    metric: str = "auc"
    threshold: float = 0.7
    gate_bound: str = "point"  # or "lower": the metric's lower confidence bound
    confidence_level: float = 0.95
    skip_spark: bool = False
    bad_fraction: float = 0.02
    model_type: str = "hgb"
    traffic_rows: int = 2000
    traffic_drift: float = 0.5
    drift_threshold: float = 0.1
    group: str | None = None
    ingest_date: str | None = None  # the ETL partition; default: today (UTC)
    # ETL quarantine budget; default 0.05, or --bad-fraction when it injects more bad rows
    max_quarantine_fraction: float | None = None
    threads: int = 1
    level: int = 3  # 2 stops after the drift check; 3 adds the monitoring/retraining loop
    retrain_cooldown_hours: float = 6.0
    retrain_max_per_day: int = 2
    champion_margin: float = 0.0
    tune: int = 0  # > 0: a search over that many candidates before the final training


def _tune(
    cfg: RunLocalConfig,
    hp: Any,
    schema: Schema,
    split_dirs: dict[str, Path],
    folder: Path,
    summary: dict[str, Any],
) -> tuple[Any, str]:
    """``--tune N``: the best of N candidates (:func:`.training.tuning.tune_locally`); returns
    its hyperparameters and the train step's note."""
    from .training.tuning import tune_locally

    best, record = tune_locally(
        hp,
        schema,
        split_dirs["train"],
        split_dirs["validation"],
        _reset(folder),
        candidates=cfg.tune,
        seed=cfg.seed,
    )
    summary["tuning"] = record
    trial = record["trials"][record["best"] - 1]
    return best, (
        f"; tuned: best of {len(record['trials'])} is #{record['best']} "
        f"({record['objective']} {trial['score']:.3f})"
    )


def _group_name(schema: Schema) -> str:
    """A SageMaker-valid model package group name from the schema name."""
    return "".join(c if c.isalnum() else "-" for c in schema.name).strip("-")[:63] or "model"


def _reset(path: Path) -> Path:
    """Empty a step's output folder so a re-run never mixes old and new files."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _top(counts: dict[str, int], n: int = 3) -> str:
    items = sorted(counts.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v}" for k, v in items)


def run_local(cfg: RunLocalConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run the chain; returns the summary (also written to ``<output>/summary.json``).

    Raises :class:`QualityGateFailed` when the gate rejects the model (nothing is registered).
    """
    import sklearn.ensemble  # noqa: F401  (loads OpenMP now, so the limit below applies to it)
    from threadpoolctl import threadpool_limits

    # OpenMP (HistGradientBoosting) spinning on a busy laptop costs far more than it saves on
    # data this small: 1 thread by default, --threads to change it.
    with threadpool_limits(limits=cfg.threads):
        return _run_local(cfg, progress or Progress())


def _run_local(cfg: RunLocalConfig, progress: Progress) -> dict[str, Any]:
    from .data import generate as gen
    from .data.tables import read_table, resolve_schema

    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    schema = resolve_schema(cfg.schema)
    if cfg.level >= 3:
        progress.add_steps(LEVEL3_STEPS)
    summary: dict[str, Any] = {"schema": schema.name, "output": str(out)}

    # 1. generate (or take the user's CSV)
    if cfg.data is not None:
        if not cfg.data.is_file():
            raise FileNotFoundError(f"--data {str(cfg.data)!r} does not exist; pass a CSV file")
        raw_csv = cfg.data
        progress.skip("generate", f"using {cfg.data}")
    else:
        with progress.step("generate") as rec:
            data = gen.generate(schema, cfg.rows, seed=cfg.seed, bad_fraction=cfg.bad_fraction)
            raw_csv = data.to_csv(_reset(out / "raw") / f"{schema.name}.csv")
            positives = float((data.frame[schema.target.name] == schema.target.positive).mean())
            rec.detail = (
                f"{cfg.rows} rows, {positives:.1%} positive, {len(data.injected)} bad rows injected"
            )
    summary["raw_data"] = str(raw_csv)

    # 2. ETL
    curated, quarantine = out / "curated", out / "quarantine"
    with progress.step("etl") as rec:
        _reset(curated), _reset(quarantine)
        from .etl.common import DEFAULT_MAX_QUARANTINE_FRACTION

        budget = cfg.max_quarantine_fraction
        if budget is None:
            budget = DEFAULT_MAX_QUARANTINE_FRACTION
            if cfg.data is None:  # generated data: the bad rows asked for are not a failure
                budget = max(budget, cfg.bad_fraction)
        if cfg.skip_spark:
            from .etl.pandas_transform import run_etl_pandas

            etl = run_etl_pandas(
                raw_csv,
                curated,
                quarantine,
                schema,
                ingest_date=cfg.ingest_date,
                max_quarantine_fraction=budget,
            )
        else:
            from .etl.spark_local import is_spark_available, local_spark_session

            if not is_spark_available():
                raise RuntimeError(
                    "Spark needs pyspark and Java 17; install them or pass --skip-spark"
                )
            from .etl.transform import run_etl

            etl = run_etl(
                # Spark's own console output goes to a file, not into the progress lines.
                local_spark_session(jvm_log=out / "spark-driver.log"),
                str(raw_csv),
                str(curated),
                str(quarantine),
                schema,
                ingest_date=cfg.ingest_date,
                max_quarantine_fraction=budget,
            )
        (out / "etl_report.json").write_text(etl.to_json(), encoding="utf-8")
        rec.detail = (
            f"{etl.engine}: {etl.rows_in} in = {etl.rows_clean} clean + {etl.rows_quarantined} quarantined"
            + (f" (top: {_top(etl.reason_counts)})" if etl.reason_counts else "")
            + "".join(f"; WARNING {w}" for w in etl.warnings)
        )
    summary["etl"] = asdict(etl)

    # 3. preprocess
    from .processing.preprocess import SPLITS, preprocess

    split_dirs = {name: out / "splits" / name for name in SPLITS}
    with progress.step("preprocess") as rec:
        _reset(out / "splits")
        split = preprocess(curated, schema, split_dirs, seed=cfg.seed)
        rec.detail = " / ".join(f"{k} {v}" for k, v in split.rows.items())
    summary["splits"] = split.rows

    # 4. train
    from .registry.local import code_sha256
    from .training.train import Hyperparameters, train

    model_dir, tarball = out / "training" / "model", out / "training" / "output" / "model.tar.gz"
    with progress.step("train") as rec:
        _reset(out / "training")
        hp = Hyperparameters.from_mapping({"model_type": cfg.model_type, "random_state": cfg.seed})
        tuned = ""
        if cfg.tune:
            hp, tuned = _tune(cfg, hp, schema, split_dirs, out / "tuning", summary)
        trained = train(
            split_dirs["train"],
            model_dir,
            schema,
            hp,
            validation_path=split_dirs["validation"],
            code_version=code_sha256()[:12],
            tarball=tarball,
        )
        val = trained.metadata["metrics"].get("validation", {})
        rec.detail = (
            f"{hp.model_type} on {trained.metadata['training_rows']} rows, validation auc "
            f"{val.get('auc', float('nan')):.3f}{tuned}"
        )
    summary["model_tarball"] = str(tarball)

    # 5. evaluate
    from .evaluation.evaluate import EVALUATION_FILE, REPORT_FILE, evaluate

    eval_dir = out / "evaluation"
    with progress.step("evaluate") as rec:
        _reset(eval_dir)
        evaluation = evaluate(
            tarball,
            split_dirs["test"],
            eval_dir,
            seed=cfg.seed,
            confidence_level=cfg.confidence_level,
        )
        m = evaluation["binary_classification_metrics"]
        rec.detail = ", ".join(
            f"{k} {m[k]['value']:.3f}" for k in ("auc", "f1", "accuracy") if m[k]["value"] != "NaN"
        )
    summary["metrics"] = {
        k: m[k]["value"] for k in ("accuracy", "precision", "recall", "f1", "auc")
    }
    summary["evaluation"] = str(eval_dir / EVALUATION_FILE)

    # 6. quality gate
    from .evaluation.gate import check_quality_gate, record_quality_gate

    with progress.step("quality gate") as rec:
        gate = check_quality_gate(
            eval_dir / EVALUATION_FILE,
            cfg.metric,
            cfg.threshold,
            bound=cfg.gate_bound,
            confidence_level=cfg.confidence_level,
        )
        # evaluation.json and report.html say which value and bound were compared
        record_quality_gate(eval_dir / EVALUATION_FILE, gate, report_file=eval_dir / REPORT_FILE)
        summary["quality_gate"] = asdict(gate)
        if not gate.passed:
            _write_summary(out, summary)
            raise QualityGateFailed(gate.message)
        rec.detail = gate.message

    # 7. register
    from .registry.local import LocalModelRegistry

    registry = LocalModelRegistry(out / "registry")
    group = cfg.group or _group_name(schema)
    with progress.step("register") as rec:
        package = registry.register(
            group,
            tarball,
            evaluation=eval_dir / EVALUATION_FILE,
            report=eval_dir / REPORT_FILE,
            data_paths=[raw_csv],
            description=f"{schema.name} {hp.model_type}, {cfg.metric} {gate.value:.3f}",
            metadata={"schema": schema.name, "rows": etl.rows_clean, "seed": cfg.seed},
        )
        rec.detail = f"{group} version {package.version} ({package.approval_status})"
    summary["model_package"] = {
        "group": group,
        "version": package.version,
        "path": str(package.path),
    }

    # 8. baseline (Model Monitor statistics/constraints of the training data)
    from .monitoring.baseline import run_baseline
    from .monitoring.prediction_drift import write_prediction_baseline
    from .traffic import model_scores, simulate_traffic

    baseline_dir = package.path / "baseline"
    with progress.step("baseline") as rec:
        train_df = read_table(split_dirs["train"], schema)
        baseline = run_baseline(train_df, schema, baseline_dir)
        # the model's scores on the training data: the prediction-drift monitor's reference
        write_prediction_baseline(model_scores(tarball, train_df, schema), baseline_dir)
        registry.attach_baseline(group, package.version, baseline_dir)
        rec.detail = (
            f"{len(schema.feature_names)} features and the score distribution over "
            f"{baseline['item_count']} rows"
        )
    summary["baseline"] = str(baseline_dir)

    # 9. simulated traffic through the inference handler, recorded as data capture
    capture_dir = out / "capture"
    with progress.step("traffic") as rec:
        _reset(capture_dir)
        traffic = simulate_traffic(
            tarball, split_dirs["test"], schema, capture_dir,
            rows=cfg.traffic_rows, drift=cfg.traffic_drift, seed=cfg.seed,
        )  # fmt: skip
        rec.detail = (
            f"{traffic['requests']} requests, {traffic['rows_predicted']} rows predicted, "
            f"{traffic['requests_rejected']} rejected (drift {cfg.traffic_drift})"
        )
    summary["traffic"] = traffic

    # 10. drift check
    from .monitoring.drift import run_drift_check

    drift_dir = out / "monitoring" / "drift"
    with progress.step("drift check") as rec:
        _reset(drift_dir)
        report = run_drift_check(
            capture_dir, baseline_dir, schema, drift_dir, threshold=cfg.drift_threshold
        )
        drifted = report.drifted_features
        rec.detail = f"{len(report.violations)} violations; drifted: {', '.join(drifted) if drifted else 'none'}"
    summary["drift"] = {
        "violations": len(report.violations),
        "drifted_features": drifted,
        "constraint_violations": str(drift_dir / "constraint_violations.json"),
    }
    if cfg.level >= 3:
        from .loop import LoopSettings, run_loop

        summary["level3"] = run_loop(
            out=out,
            schema=schema,
            settings=LoopSettings(
                traffic_rows=cfg.traffic_rows,
                traffic_drift=cfg.traffic_drift,
                cooldown_hours=cfg.retrain_cooldown_hours,
                max_per_day=cfg.retrain_max_per_day,
                champion_margin=cfg.champion_margin,
                drift_threshold=cfg.drift_threshold,
            ),
            progress=progress,
            registry=registry,
            group=group,
            version=package.version,
            tarball=tarball,
            curated=curated,
            quarantine=quarantine,
            seed=cfg.seed,
            model_type=cfg.model_type,
            metric=cfg.metric,
            threshold=cfg.threshold,
            confidence_level=cfg.confidence_level,
        )
    _write_summary(out, summary)
    return summary


def _write_summary(out: Path, summary: dict[str, Any]) -> None:
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
    )


# ----------------------------------------------------------------------------------- CLI
# Argument definitions and commands are shared with the ``cdk-mlops`` console script
# (cdk_mlops.cli), which must build its parsers without numpy: nothing here imports it.
# Descriptions are shown as written (no re-wrapping), so keep them under 80 columns.
RUN_LOCAL_HELP = "run the whole ML chain on this machine"
RUN_LOCAL_DESCRIPTION = (__doc__ or "").split("\n\nThe ``cdk-mlops`` console script")[0]
GENERATE_HELP = "write a synthetic data set as CSV"
GENERATE_DESCRIPTION = """\
cdk-mlops generate: write a synthetic data set as CSV, for a built-in schema
(churn, loan_default) or a schema JSON file, optionally with bad rows and drift
injected. run-local generates its data the same way.

    cdk-mlops generate --output churn.csv
    cdk-mlops generate --schema loan_default --rows 1000 --bad-fraction 0.05 --output loans.csv
"""


def add_run_local_arguments(run: argparse.ArgumentParser) -> None:
    """The ``run-local`` arguments."""
    run.add_argument(
        "--output", default=DEFAULT_OUTPUT, help=f"output folder (default: ./{DEFAULT_OUTPUT})"
    )
    run.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help=f"rows to generate (default: {DEFAULT_ROWS})"
    )
    run.add_argument(
        "--seed", type=int, default=0, help="random seed for data, split and model (default: 0)"
    )
    run.add_argument(
        "--data", default=None, help="your CSV instead of generated data (needs --schema)"
    )
    run.add_argument(
        "--schema", default=None, help="schema JSON file or built-in name (default: churn)"
    )
    run.add_argument(
        "--metric",
        default="auc",
        help=(
            "quality-gate metric: one of " + ", ".join(SCALAR_METRICS) + ", or a path such as "
            "confidence_bounds.auc.lower or bias_metrics.<attribute>.<metric> (default: auc)"
        ),
    )
    run.add_argument(
        "--threshold", type=float, default=0.7, help="quality-gate threshold (default: 0.7)"
    )
    run.add_argument(
        "--gate-bound",
        choices=("point", "lower"),
        default="point",
        help="compare the metric's value (point) or its one-sided lower confidence bound, "
        "value - z * bootstrap std. dev. (lower) with the threshold (default: point)",
    )
    run.add_argument(
        "--confidence-level",
        type=float,
        default=0.95,
        help="confidence level of the lower bound (default: 0.95)",
    )
    run.add_argument(
        "--skip-spark", action="store_true", help="use the pandas ETL (same rules) instead of Spark"
    )
    run.add_argument(
        "--max-quarantine-fraction",
        type=float,
        default=None,
        help="fail the ETL when more than this fraction of rows is quarantined "
        "(default: 0.05, or --bad-fraction for generated data if larger)",
    )
    run.add_argument(
        "--bad-fraction",
        type=float,
        default=0.02,
        help="bad rows injected by the generator (default: 0.02)",
    )
    run.add_argument("--model-type", default="hgb", help="hgb or logistic (default: hgb)")
    run.add_argument(
        "--tune",
        type=int,
        default=0,
        metavar="N",
        help="search N hyperparameter candidates (the pipeline's Tune step) and train the best "
        "by validation AUC (default: 0, no search)",
    )
    run.add_argument(
        "--traffic-rows", type=int, default=2000, help="simulated requests' rows (default: 2000)"
    )
    run.add_argument(
        "--traffic-drift",
        type=float,
        default=0.5,
        help="drift of the traffic, 0 to 1 (default: 0.5)",
    )
    run.add_argument(
        "--level",
        type=int,
        choices=(2, 3),
        default=3,
        help="2: stop after the drift check; 3: also the monitoring, drift alarm, guarded "
        "retraining and champion/challenger loop (default: 3)",
    )
    run.add_argument(
        "--retrain-cooldown-hours",
        type=float,
        default=6.0,
        help="retraining guard: hours between two starts (default: 6)",
    )
    run.add_argument(
        "--retrain-max-per-day",
        type=int,
        default=2,
        help="retraining guard: starts per UTC day, 1 to 48 (default: 2)",
    )
    run.add_argument(
        "--champion-margin",
        type=float,
        default=0.0,
        help="how much worse than the champion the retrained model may be, 0 to 1 (default: 0)",
    )
    run.add_argument(
        "--drift-threshold", type=float, default=0.1, help="drift distance threshold (default: 0.1)"
    )
    run.add_argument(
        "--group", default=None, help="model package group (default: from the schema name)"
    )
    run.add_argument(
        "--threads", type=int, default=1, help="threads for scikit-learn/numpy (default: 1)"
    )


def add_generate_arguments(p: argparse.ArgumentParser, *, output_required: bool = True) -> None:
    """The ``generate`` arguments: the same as ``python -m pipeline_code.data.generate``
    (that module's parser imports numpy with its module; a test keeps the two equal)."""
    p.add_argument(
        "--schema", default="churn", help="schema JSON file or built-in name (default: churn)"
    )
    p.add_argument("--rows", type=int, default=20000, help="number of rows (default: 20000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--bad-fraction", type=float, default=0.0, help="share of bad rows, 0 to 0.5 (default: 0)"
    )
    p.add_argument("--drift", type=float, default=0.0, help="drift strength, 0 to 1 (default: 0)")
    p.add_argument(
        "--new-categories", action="store_true", help="add category values the schema does not list"
    )
    p.add_argument("--output", required=output_required, help="CSV file to write")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m pipeline_code.cli`` (``cdk-mlops`` is :mod:`cdk_mlops.cli`)."""
    parser = argparse.ArgumentParser(
        prog="cdk-mlops",
        description="Run the whole ML chain on this machine, with no AWS account.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run-local",
        help=RUN_LOCAL_HELP,
        description=RUN_LOCAL_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_local_arguments(run)
    generate = sub.add_parser(
        "generate",
        help=GENERATE_HELP,
        description=GENERATE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Not required here: this entry point reports a missing --output itself (exit 2).
    add_generate_arguments(generate, output_required=False)
    return parser


def _config_from_args(args: argparse.Namespace) -> RunLocalConfig:
    if args.data is not None and args.schema is None:
        raise SchemaError(
            "--data needs --schema: pass the schema JSON file that describes your CSV"
        )
    if args.rows < 1:
        raise ValueError(f"--rows must be at least 1, got {args.rows}")
    if args.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {args.threads}")
    if args.traffic_rows < 1:
        raise ValueError(f"--traffic-rows must be at least 1, got {args.traffic_rows}")
    if args.retrain_cooldown_hours < 0:
        raise ValueError(
            f"--retrain-cooldown-hours must be 0 or more, got {args.retrain_cooldown_hours}"
        )
    if not 1 <= args.retrain_max_per_day <= 48:
        raise ValueError(
            f"--retrain-max-per-day must be between 1 and 48, got {args.retrain_max_per_day}"
        )
    if not 0 <= args.champion_margin < 1:
        raise ValueError(f"--champion-margin must be in [0, 1), got {args.champion_margin}")
    # Checked before the ETL and training run, not after them.
    problem = metric_problem(args.metric)
    if problem:
        raise ValueError(problem)
    return RunLocalConfig(
        output=Path(args.output),
        rows=args.rows,
        seed=args.seed,
        data=Path(args.data) if args.data else None,
        schema=args.schema or "churn",
        metric=args.metric,
        threshold=args.threshold,
        gate_bound=args.gate_bound,
        confidence_level=args.confidence_level,
        skip_spark=args.skip_spark,
        max_quarantine_fraction=args.max_quarantine_fraction,
        bad_fraction=args.bad_fraction,
        model_type=args.model_type,
        tune=args.tune,
        traffic_rows=args.traffic_rows,
        traffic_drift=args.traffic_drift,
        drift_threshold=args.drift_threshold,
        group=args.group,
        threads=args.threads,
        level=args.level,
        retrain_cooldown_hours=args.retrain_cooldown_hours,
        retrain_max_per_day=args.retrain_max_per_day,
        champion_margin=args.champion_margin,
    )


def generate_command(args: argparse.Namespace) -> int:
    """``generate`` for parsed arguments; exit status 0 written, 1 bad values, 2 no --output."""
    from .data import generate as gen

    if args.output is None:
        print("cdk-mlops generate: error: --output is required", file=sys.stderr)
        return 2
    try:
        return gen.run_from_args(args)
    except (ValueError, OSError) as exc:
        print(f"cdk-mlops generate: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def run_local_command(args: argparse.Namespace) -> int:
    """``run-local`` for parsed arguments; the exit status is in the module docstring."""
    progress = Progress()
    spark_was_active = _spark_active()
    try:
        cfg = _config_from_args(args)
        summary = run_local(cfg, progress)
    except QualityGateFailed as exc:
        print(progress.table())
        print(f"\nmodel NOT registered: {exc}", file=sys.stderr)
        return EXIT_GATE_FAILED
    except (ValueError, OSError, RuntimeError, KeyError) as exc:
        print(progress.table())
        print(f"\ncdk-mlops run-local: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if not spark_was_active:
            _stop_spark()
    print(progress.table())
    print(
        f"\nartifacts in {summary['output']} (summary.json); model package "
        f"{summary['model_package']['group']} v{summary['model_package']['version']} at "
        f"{summary['model_package']['path']}"
    )
    level3 = summary.get("level3")
    if level3 is not None:
        new = level3.get("new_version")
        print(
            f"level 3: drift alarm {'fired' if level3['drift_alarm'] else 'did not fire'}; "
            f"retraining {level3['retraining']['decision']}"
            + (
                f"; version {new['version']} registered ({new['approval_status']}) at {new['path']}"
                if new
                else ""
            )
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pipeline_code.cli`` (the same commands as ``cdk-mlops``)."""
    args = build_parser().parse_args(argv)
    if args.command == "generate":
        return generate_command(args)
    return run_local_command(args)


def _spark_active() -> bool:
    if "pyspark" not in sys.modules:
        return False
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() is not None


def _stop_spark() -> None:
    """Stop a session this command started (tests that share a session keep theirs)."""
    if "pyspark" not in sys.modules:
        return
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


if __name__ == "__main__":
    raise SystemExit(main())
