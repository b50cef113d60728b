"""cdk-mlops run-pipeline: run a synthesized SageMaker pipeline on this machine.

    cdk-mlops run-pipeline cdk.out/MlopsLevel2.template.json --data my.csv --schema churn
    cdk-mlops run-pipeline cdk.out/MlopsLevel2.template.json --curated curated/ \\
        --parameter MetricThreshold=0.8 --work-dir /tmp/run

The pipeline definition is read from the template's AWS::SageMaker::Pipeline (CloudFormation
values resolved for one account and region), S3 is moto in this process seeded with the
stack's buckets and the assets cdk.out holds, and every job runs as a local process with the
SageMaker container contracts, in <work-dir>/jobs/<step>/opt/ml (nothing is written to /opt).
Models are registered in <work-dir>/registry. Exit status: 0 the execution succeeded, 1 a
step failed or the definition was refused (the message names the step and the field),
2 bad arguments, 3 the execution reached a Fail step (e.g. the quality gate).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_FAIL_STEP = 3
RUN_PIPELINE_HELP = "run a synthesized SageMaker pipeline locally (moto S3, local jobs)"
RUN_PIPELINE_DESCRIPTION = __doc__ or ""


def add_run_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``run-pipeline`` arguments."""
    parser.add_argument("template", help="cdk.out/<stack>.template.json (synthesized with assets)")
    parser.add_argument(
        "--data", default=None, help="raw CSV, curated with the pandas ETL before the run"
    )
    parser.add_argument(
        "--curated", default=None, help="a folder of curated Parquet (instead of --data)"
    )
    parser.add_argument(
        "--schema",
        default="churn",
        help="schema of --data: built-in name or JSON file (default: churn)",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pipeline parameter value (repeatable), e.g. MetricThreshold=0.8",
    )
    parser.add_argument(
        "--work-dir",
        default="cdk-mlops-pipeline",
        help="job folders, registry and summary.json (default: ./cdk-mlops-pipeline)",
    )
    parser.add_argument(
        "--pipeline",
        default=None,
        help="pipeline name or logical id (when the template has several)",
    )
    parser.add_argument(
        "--python",
        default=None,
        help="interpreter the jobs run with (default: this one; e.g. .venv-container/bin/python "
        "for the SageMaker scikit-learn image's libraries)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="OMP/BLAS threads per job (default: 1; 0: unset)"
    )
    parser.add_argument(
        "--region", default="us-east-1", help="region the template resolves in (default: us-east-1)"
    )
    parser.add_argument(
        "--object",
        action="append",
        default=[],
        metavar="S3URI=FILE",
        help="put FILE at S3URI before the run (repeatable), e.g. a production model for "
        "-p ChampionModelUri=S3URI",
    )
    parser.add_argument(
        "--account", default="123456789012", help="account id the template resolves in"
    )


def _objects(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        uri, sep, path = pair.partition("=")
        if not sep or not uri.startswith("s3://") or not path:
            raise ValueError(
                f"--object {pair!r}: use S3URI=FILE, e.g. s3://bucket/key=model.tar.gz"
            )
        if not Path(path).is_file():
            raise ValueError(f"--object {pair!r}: {path!r} is not a file")
        out[uri] = path
    return out


def _parameters(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--parameter {pair!r}: use NAME=VALUE, e.g. MetricThreshold=0.8")
        out[name] = value
    return out


def run_pipeline_command(args: argparse.Namespace) -> int:
    """``run-pipeline`` for parsed arguments; the exit status is in the module docstring."""
    from cdk_mlops.executor.errors import ExecutorError
    from cdk_mlops.executor.runner import run_pipeline

    prog = "cdk-mlops run-pipeline"
    try:
        parameters = _parameters(args.parameter)
        objects = _objects(args.object)
        if args.data and args.curated:
            raise ValueError("pass --data or --curated, not both")
        if args.threads < 0:
            raise ValueError(f"--threads must be 0 or more, got {args.threads}")
        python = args.python or sys.executable
        if args.python and not Path(args.python).exists():
            raise ValueError(f"--python {args.python!r} does not exist")
    except ValueError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = run_pipeline(
            args.template,
            work_dir=args.work_dir,
            data=args.data,
            curated=args.curated,
            schema=args.schema,
            parameters=parameters,
            pipeline=args.pipeline,
            python=python,
            threads=args.threads or None,
            account=args.account,
            region=args.region,
            objects=objects,
        )
    except ExecutorError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(result.table())
    if result.status != "Succeeded":
        print(f"\n{result.failure_reason}", file=sys.stderr)
        return EXIT_FAIL_STEP if result.reached_fail_step else EXIT_ERROR
    if result.model_package:
        print(
            f"\nregistered {result.model_package['ModelPackageGroupName']} version "
            f"{result.model_package['ModelPackageVersion']} at {result.model_package['path']}"
        )
    print(f"summary: {Path(args.work_dir) / 'summary.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cdk_mlops.executor",
        description=RUN_PIPELINE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_pipeline_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m cdk_mlops.executor`` (the same as ``cdk-mlops run-pipeline``)."""
    return run_pipeline_command(build_parser().parse_args(argv))
