"""The ``cdk-mlops`` command line.

One console script for the library. Building the parsers imports nothing heavy, so
``cdk-mlops --help``, ``--version`` and every subcommand's ``--help`` work after a plain
``pip install cdk-mlops``. A subcommand imports its implementation only when it runs; when
that needs an extra that is not installed, it says so in one line with the install command and
exits with status 2, instead of ending in a ``ModuleNotFoundError`` traceback.

New subcommands are one :class:`Subcommand` entry in :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata

DISTRIBUTION = "cdk-mlops"
PROG = "cdk-mlops"
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, kw_only=True)
class Extra:
    """An optional dependency group of the distribution and the modules that show it is there."""

    name: str
    modules: tuple[str, ...]

    @property
    def install_command(self) -> str:
        """What to run to get it."""
        return f"pip install '{DISTRIBUTION}[{self.name}]'"

    def missing_modules(self) -> list[str]:
        """Top-level modules of this extra that cannot be imported here."""
        return [m for m in self.modules if importlib.util.find_spec(m) is None]


# Import names of what the ``ml`` extra in pyproject.toml installs.
ML_EXTRA = Extra(
    name="ml",
    modules=("numpy", "pandas", "sklearn", "pyarrow", "joblib", "threadpoolctl"),
)
# ... and of the ``checks`` extra (checkov lives in its own environment: its pins clash).
CHECKS_EXTRA = Extra(name="checks", modules=("cfnlint",))
# ... and of the ``executor`` extra (``run-pipeline``: the jobs need ml; S3 is moto in-process).
EXECUTOR_EXTRA = Extra(name="executor", modules=(*ML_EXTRA.modules, "moto", "boto3"))


@dataclass(frozen=True, kw_only=True)
class Subcommand:
    """One ``cdk-mlops`` subcommand.

    ``add_arguments`` and ``run`` are loaded by name when needed, so importing this module (and
    building the parser) never imports an implementation's dependencies.
    """

    name: str
    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    extra: Extra | None = None
    raw_description: bool = False


def _run_local_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline_code.cli import add_run_local_arguments

    add_run_local_arguments(parser)


def _run_local(args: argparse.Namespace) -> int:
    from pipeline_code.cli import run_local_command

    return run_local_command(args)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline_code.inference.serve_cli import add_serve_arguments

    add_serve_arguments(parser)


def _serve(args: argparse.Namespace) -> int:
    from pipeline_code.inference.serve_cli import serve_command

    return serve_command(args)


def _infer_schema_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline_code.schema_infer import add_infer_schema_arguments

    add_infer_schema_arguments(parser)


def _infer_schema(args: argparse.Namespace) -> int:
    # standard library only: works without the ml extra
    from pipeline_code.schema_infer import infer_schema_command

    return infer_schema_command(args)


def _lineage_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline_code.registry.lineage import add_lineage_arguments

    add_lineage_arguments(parser)


def _lineage(args: argparse.Namespace) -> int:
    # standard library only: works without the ml extra
    from pipeline_code.registry.lineage import lineage_command

    return lineage_command(args)


def _new_arguments(parser: argparse.ArgumentParser) -> None:
    from cdk_mlops.scaffold import add_new_arguments

    add_new_arguments(parser)


def _new(args: argparse.Namespace) -> int:
    from cdk_mlops.scaffold import new_command

    return new_command(args)


def _generate_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline_code.cli import add_generate_arguments

    add_generate_arguments(parser, output_required=True)


def _generate(args: argparse.Namespace) -> int:
    from pipeline_code.cli import generate_command

    return generate_command(args)


def _run_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    from cdk_mlops.executor.cli import add_run_pipeline_arguments

    add_run_pipeline_arguments(parser)


def _run_pipeline(args: argparse.Namespace) -> int:
    from cdk_mlops.executor.cli import run_pipeline_command

    return run_pipeline_command(args)


def _deploy_local_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline_code.deployment.local import add_deploy_local_arguments

    add_deploy_local_arguments(parser)


def _deploy_local(args: argparse.Namespace) -> int:
    from pipeline_code.deployment.local import deploy_local_command

    return deploy_local_command(args)


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    from cdk_mlops.checks import add_arguments

    add_arguments(parser)


def _check(args: argparse.Namespace) -> int:
    from cdk_mlops.checks import run

    return run(args, prog=f"{PROG} check")


CHECK_DESCRIPTION = (
    "Run cfn-lint and checkov on the templates 'cdk synth' wrote and print a table per stack "
    "(resources, template size, cdk-nag acknowledgments, findings). Exit status 0 when clean, "
    "1 on findings, 2 on a usage problem (no such folder, no templates, cfn-lint or checkov "
    "missing). checkov is taken from PATH unless --checkov names it; it pins versions that "
    "clash with aws-cdk-lib's, so install it in its own virtual environment."
)


def _texts() -> tuple[str, str, str, str]:
    # pipeline_code.cli is light to import (numpy and pandas load inside its commands).
    from pipeline_code import cli

    return (
        cli.RUN_LOCAL_HELP,
        cli.RUN_LOCAL_DESCRIPTION,
        cli.GENERATE_HELP,
        cli.GENERATE_DESCRIPTION,
    )


def subcommands() -> tuple[Subcommand, ...]:
    """Every subcommand, in the order ``--help`` lists them."""
    run_help, run_description, generate_help, generate_description = _texts()
    # these modules are light to import (standard library only)
    from cdk_mlops.executor.cli import RUN_PIPELINE_DESCRIPTION, RUN_PIPELINE_HELP
    from pipeline_code.deployment.local import DEPLOY_LOCAL_DESCRIPTION, DEPLOY_LOCAL_HELP
    from pipeline_code.inference.serve_cli import SERVE_DESCRIPTION, SERVE_HELP
    from pipeline_code.schema_infer import INFER_SCHEMA_DESCRIPTION, INFER_SCHEMA_HELP

    return (
        Subcommand(
            name="run-local",
            help=run_help,
            description=run_description,
            add_arguments=_run_local_arguments,
            run=_run_local,
            extra=ML_EXTRA,
            raw_description=True,
        ),
        Subcommand(
            name="infer-schema",
            help=INFER_SCHEMA_HELP,
            description=INFER_SCHEMA_DESCRIPTION,
            add_arguments=_infer_schema_arguments,
            run=_infer_schema,
            raw_description=True,
        ),
        Subcommand(
            name="serve",
            help=SERVE_HELP,
            description=SERVE_DESCRIPTION,
            add_arguments=_serve_arguments,
            run=_serve,
            extra=ML_EXTRA,
            raw_description=True,
        ),
        Subcommand(
            name="generate",
            help=generate_help,
            description=generate_description,
            add_arguments=_generate_arguments,
            run=_generate,
            extra=ML_EXTRA,
            raw_description=True,
        ),
        Subcommand(
            name="run-pipeline",
            help=RUN_PIPELINE_HELP,
            description=RUN_PIPELINE_DESCRIPTION,
            add_arguments=_run_pipeline_arguments,
            run=_run_pipeline,
            extra=EXECUTOR_EXTRA,
            raw_description=True,
        ),
        Subcommand(
            name="deploy-local",
            help=DEPLOY_LOCAL_HELP,
            description=DEPLOY_LOCAL_DESCRIPTION,
            add_arguments=_deploy_local_arguments,
            run=_deploy_local,
            extra=ML_EXTRA,
            raw_description=True,
        ),
        Subcommand(
            name="new",
            help="create a new ML project repository on cdk-mlops (app, code, tests, CI)",
            description=(
                "Create a new ML project in FOLDER: the team's own code package (a copy of "
                "pipeline_code under the project's name), an app.py with the chosen level's "
                "stack on it, cdk.json, tests, a Makefile whose make synth and make test pass "
                "as created, a CI workflow and a README."
            ),
            add_arguments=_new_arguments,
            run=_new,
        ),
        Subcommand(
            name="lineage",
            help="what a model version in the local registry was made from (code, data, metrics)",
            description=(
                "Print a model version's lineage from the local registry that run-local or "
                "run-pipeline wrote: the model, code and data hashes it was registered with, "
                "whether each still matches (unchanged, changed, missing), its evaluation "
                "metrics and the versions it was retrained from. Exit status: 0 printed, 1 an "
                "unreadable record, 2 no such registry, group or version."
            ),
            add_arguments=_lineage_arguments,
            run=_lineage,
        ),
        Subcommand(
            name="check",
            help="cfn-lint and checkov on a synthesized cloud assembly (cdk.out)",
            description=CHECK_DESCRIPTION,
            add_arguments=_check_arguments,
            run=_check,
            extra=CHECKS_EXTRA,
        ),
    )


def version() -> str:
    """The installed distribution's version (the package's own when run from a checkout)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from cdk_mlops import __version__

        return __version__


def build_parser(commands: Sequence[Subcommand] | None = None) -> argparse.ArgumentParser:
    """The ``cdk-mlops`` parser; each subcommand's :class:`Subcommand` is in ``args.subcommand``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Tools for the cdk-mlops construct library. Subcommands that need an optional "
            "extra say which one, and how to install it, when it is missing."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    sub = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")
    for command in subcommands() if commands is None else commands:
        child = sub.add_parser(
            command.name,
            help=command.help,
            description=command.description,
            formatter_class=(
                argparse.RawDescriptionHelpFormatter
                if command.raw_description
                else argparse.HelpFormatter
            ),
        )
        command.add_arguments(child)
        child.set_defaults(subcommand=command)
    return parser


def _missing_extra_message(command: Subcommand, missing: Sequence[str]) -> str:
    assert command.extra is not None
    return (
        f"{PROG} {command.name} needs the '{command.extra.name}' extra "
        f"(missing: {', '.join(missing)}): {command.extra.install_command}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``cdk-mlops``; returns the exit status."""
    args = build_parser().parse_args(argv)
    command: Subcommand = args.subcommand
    if command.extra is not None and (missing := command.extra.missing_modules()):
        print(_missing_extra_message(command, missing), file=sys.stderr)
        return EXIT_USAGE
    try:
        return command.run(args)
    except ModuleNotFoundError as exc:
        # An extra's module that is importable by name but broken, or one a later import needs.
        top = (exc.name or "").partition(".")[0]
        if command.extra is not None and top in command.extra.modules:
            print(_missing_extra_message(command, [top]), file=sys.stderr)
            return EXIT_USAGE
        raise
    except KeyboardInterrupt:
        print(f"{PROG} {command.name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
