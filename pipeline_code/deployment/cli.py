"""The argument parsers and command functions of ``python -m pipeline_code.deployment``.

Light to import: argparse and the standard library only; boto3 and each command's module load
when the command runs. The flags are documented in :mod:`pipeline_code.deployment`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    DeploymentError,
    UsageError,
    one_line,
)

PROG = "python -m pipeline_code.deployment"
JSON = "application/json"
CSV = "text/csv"


def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; an empty or unset variable gives ``default``."""
    value = os.environ.get(name, "")
    return value if value.strip() else default


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _count(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {low}")
        return value

    return parse


# ------------------------------------------------------------------------------ clients
def _region(args: argparse.Namespace) -> str | None:
    return getattr(args, "region", None) or env("AWS_REGION") or env("AWS_DEFAULT_REGION")


def control_client(service: str, args: argparse.Namespace) -> Any:
    """A boto3 client with standard retries (throttling on Describe* calls is retried)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5})
    return boto3.client(service, region_name=_region(args), config=config)


def runtime_client(args: argparse.Namespace) -> Any:
    """sagemaker-runtime without retries: a failed or slow request is measured, not hidden."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        read_timeout=70,
        connect_timeout=5,
        max_pool_connections=max(10, int(getattr(args, "concurrency", 1) or 1)),
    )
    return boto3.client("sagemaker-runtime", region_name=_region(args), config=config)


# ------------------------------------------------------------------------------ parsers
def _add_region(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--region", default=None, help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)"
    )


def add_resolve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-package-group", default=env("MODEL_PACKAGE_GROUP_NAME"))
    parser.add_argument(
        "--model-package-arn",
        default=env("MODEL_PACKAGE_ARN"),
        help="explicit version (may be older than production: a rollback on purpose)",
    )
    parser.add_argument(
        "--event-model-package-arn",
        default=env("EVENT_MODEL_PACKAGE_ARN"),
        help="the approval event's version (an older one is refused)",
    )
    parser.add_argument("--prod-endpoint-name", default=env("PROD_ENDPOINT_NAME", ""))
    parser.add_argument("--endpoint-name", default=env("ENDPOINT_NAME", ""))
    parser.add_argument("--stage", action="append", default=[], metavar="STAGE=ENDPOINT_NAME")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--output", default=env("RESOLVED_FILE", "resolved.json"))
    parser.add_argument(
        "--template-configuration",
        default=env("TEMPLATE_CONFIGURATION", "template-configuration.json"),
    )
    parser.add_argument("--env-file", default=env("RESOLVED_ENV_FILE"))
    parser.add_argument(
        "--on-duplicate",
        choices=("fail", "succeed"),
        default=env("ON_DUPLICATE", "fail"),
        help="production already serves the version: exit 3 (fail) or 0 (succeed)",
    )
    _add_region(parser)


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint-name", default=env("ENDPOINT_NAME"))
    parser.add_argument("--url", default=env("MODEL_SERVER_URL"), help="local model server URL")
    parser.add_argument("--target-variant", default=env("TARGET_VARIANT"))
    parser.add_argument("--sample-file", default=env("SAMPLE_FILE"))
    parser.add_argument(
        "--skip-header", action="store_true", help="the sample's first line is a header"
    )
    parser.add_argument("--max-rows", type=_count(1), default=None)
    parser.add_argument("--accept", choices=(JSON, CSV), default=JSON)
    _add_region(parser)


def add_smoke_arguments(parser: argparse.ArgumentParser) -> None:
    _add_target(parser)
    parser.add_argument("--batch-size", type=_count(1), default=env("SMOKE_BATCH_SIZE", "10"))


def add_latency_arguments(parser: argparse.ArgumentParser) -> None:
    _add_target(parser)
    parser.add_argument("--p99-ms", type=_positive_float, default=env("P99_MS"))
    parser.add_argument("--batch-p99-ms", type=_positive_float, default=env("BATCH_P99_MS"))
    parser.add_argument("--requests", type=_count(1), default=env("LATENCY_REQUESTS", "100"))
    parser.add_argument("--batch-rows", type=_count(0), default=env("LATENCY_BATCH_ROWS", "100"))
    parser.add_argument("--warmup", type=_count(0), default=5)
    parser.add_argument("--concurrency", type=_count(1), default=env("LATENCY_CONCURRENCY", "1"))


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint-name", default=env("ENDPOINT_NAME"))
    parser.add_argument("--model-package-arn", default=env("MODEL_PACKAGE_ARN"))
    parser.add_argument("--resolved", default=env("RESOLVED_FILE"), help="resolve's resolved.json")
    parser.add_argument(
        "--expected-endpoint-config-name", default=env("EXPECTED_ENDPOINT_CONFIG_NAME", "")
    )
    parser.add_argument("--alerts-topic-arn", default=env("ALERTS_TOPIC_ARN"))
    parser.add_argument("--stage", default=env("STAGE", ""))
    parser.add_argument("--wait-seconds", type=_count(0), default=900)
    parser.add_argument("--poll-seconds", type=_count(1), default=15)
    _add_region(parser)


# ------------------------------------------------------------------------------ commands
def resolve_command(args: argparse.Namespace) -> int:
    from . import resolve as r

    parameters = r.parse_parameters(args.parameter)
    stages = r.parse_stages(args.stage)
    sm = control_client("sagemaker", args)
    outputs = {
        "output": Path(args.output),
        "template_configuration_path": Path(args.template_configuration),
        "endpoint_name": args.endpoint_name,
        "parameters": parameters,
        "stages": stages,
        "env_file": Path(args.env_file) if args.env_file else None,
    }
    try:
        resolution = r.resolve(
            sm,
            group=args.model_package_group or "",
            model_package_arn=args.model_package_arn or "",
            event_model_package_arn=args.event_model_package_arn or "",
            prod_endpoint_name=args.prod_endpoint_name,
        )
    except r.NothingToDoResolved as nothing:
        r.write_outputs(nothing.resolution, **outputs)
        if args.on_duplicate == "succeed":
            print(f"{nothing.resolution.reason} (DEPLOY_DECISION={r.NOTHING_TO_DO})")
            return EXIT_OK
        raise
    r.write_outputs(resolution, **outputs)
    print(
        f"{resolution.decision}: {resolution.candidate.arn} -- {resolution.reason} "
        f"(wrote {args.output}, {args.template_configuration})"
    )
    return EXIT_OK


def _invoker(args: argparse.Namespace) -> Any:
    from .invoke import HttpInvoker, SageMakerInvoker

    if args.url and args.endpoint_name:
        raise UsageError("pass either --endpoint-name or --url, not both")
    if args.url:
        return HttpInvoker(args.url)
    if not args.endpoint_name:
        raise UsageError(
            "no target: pass --endpoint-name (or ENDPOINT_NAME), or --url for a local model server"
        )
    return SageMakerInvoker(
        runtime_client(args), args.endpoint_name, target_variant=args.target_variant
    )


def _rows(args: argparse.Namespace) -> Any:
    from .samples import load_sample_rows

    if not args.sample_file:
        raise UsageError(
            "no sample rows: pass --sample-file (or SAMPLE_FILE), a CSV of feature rows without header"
        )
    s3 = control_client("s3", args) if args.sample_file.startswith("s3://") else None
    return load_sample_rows(
        args.sample_file, skip_header=args.skip_header, max_rows=args.max_rows, s3_client=s3
    )


def smoke_command(args: argparse.Namespace) -> int:
    from .smoke import require_pass, run_smoke_test

    rows = _rows(args)
    report = run_smoke_test(_invoker(args), rows, batch_size=args.batch_size, accept=args.accept)
    require_pass(report)
    print(report.summary())
    return EXIT_OK


def latency_command(args: argparse.Namespace) -> int:
    from .latency import require_pass, run_latency_test

    if args.p99_ms is None:
        raise UsageError("latency-test needs --p99-ms (or P99_MS), the p99 limit in milliseconds")
    rows = _rows(args)
    report = run_latency_test(
        _invoker(args),
        rows,
        requests=args.requests,
        batch_rows=args.batch_rows,
        p99_ms=args.p99_ms,
        batch_p99_ms=args.batch_p99_ms,
        warmup=args.warmup,
        concurrency=args.concurrency,
        accept=args.accept,
    )
    print(report.table())
    require_pass(report)
    print(report.summary())
    return EXIT_OK


def verify_command(args: argparse.Namespace) -> int:
    from . import verify as v

    if not args.endpoint_name:
        raise UsageError("verify needs --endpoint-name (or ENDPOINT_NAME)")
    expected = args.model_package_arn
    if not expected and args.resolved:
        expected, _decision = v.expected_from_resolved(args.resolved)
    if not expected:
        raise UsageError(
            "verify needs the expected version: --model-package-arn (or MODEL_PACKAGE_ARN), or "
            "--resolved resolved.json"
        )
    sm = control_client("sagemaker", args)
    outcome = v.verify_endpoint(
        sm,
        args.endpoint_name,
        expected,
        expected_config_name=args.expected_endpoint_config_name,
        wait_seconds=args.wait_seconds,
        poll_seconds=args.poll_seconds,
    )
    if not outcome.ok and args.alerts_topic_arn:
        message_id = v.publish_alert(
            control_client("sns", args),
            args.alerts_topic_arn,
            outcome,
            stage=args.stage,
            cloudwatch=control_client("cloudwatch", args),
        )
        print(f"alert published to {args.alerts_topic_arn} (MessageId {message_id})")
    v.require_verified(outcome)
    print(outcome.message)
    return EXIT_OK


def _deploy_local_arguments(parser: argparse.ArgumentParser) -> None:
    from .local import add_deploy_local_arguments

    add_deploy_local_arguments(parser)


def _deploy_local(args: argparse.Namespace) -> int:
    from .local import deploy_local_command

    return deploy_local_command(args)


COMMANDS: dict[
    str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {
    "resolve": (
        "find the version to deploy and write the template configuration",
        add_resolve_arguments,
        resolve_command,
    ),
    "smoke-test": (
        "send the sample rows and check every answer",
        add_smoke_arguments,
        smoke_command,
    ),
    "latency-test": (
        "p50/p99 of 1-row and batch requests against a p99 limit",
        add_latency_arguments,
        latency_command,
    ),
    "verify": (
        "check the endpoint really serves the deployed version; alert if not",
        add_verify_arguments,
        verify_command,
    ),
    "deploy-local": (
        "rehearse resolve, serve, smoke, latency and verify on this machine",
        _deploy_local_arguments,
        _deploy_local,
    ),
}


def _section(command: str) -> str:
    """The command's block of the package docstring (its flags and environment variables)."""
    from .. import deployment

    lines = (deployment.__doc__ or "").splitlines()
    if command not in lines:
        return ""
    out: list[str] = []
    for line in lines[lines.index(command) + 1 :]:
        if line and not line.startswith(" "):
            break
        out.append(line[4:] if line.startswith("    ") else line)
    return (
        "\n".join(out).strip()
        + "\n\nExit status: 0 done, 1 stopped (one line says why), 2 bad flags, 3 nothing to do."
    )


def build_parser() -> argparse.ArgumentParser:
    from .. import deployment

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=deployment.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add, _run) in COMMANDS.items():
        description = _section(name) or help_text
        if name == "deploy-local":
            from .local import DEPLOY_LOCAL_DESCRIPTION

            description = DEPLOY_LOCAL_DESCRIPTION
        add(
            sub.add_parser(
                name,
                help=help_text,
                description=description,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
        )
    return parser


def run_reporting_errors(command: str, run: Callable[[], int]) -> int:
    """Run a command; a :class:`DeploymentError` (or an AWS setup problem) is one line on stderr."""
    try:
        return run()
    except DeploymentError as exc:
        print(f"{command}: {one_line(exc)}", file=sys.stderr)
        return exc.exit_status
    except Exception as exc:
        try:
            from botocore.exceptions import BotoCoreError, ClientError, NoRegionError
        except ImportError:  # pragma: no cover - boto3 is in every supported environment
            raise exc from None
        if isinstance(exc, NoRegionError):
            print(f"{command}: no AWS region; pass --region or set AWS_REGION", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(exc, ClientError | BotoCoreError):
            print(f"{command}: AWS call failed: {one_line(exc)}", file=sys.stderr)
            return EXIT_FAILED
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _help, _add, run = COMMANDS[args.command]
    return run_reporting_errors(args.command, lambda: run(args))
