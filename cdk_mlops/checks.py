"""Check synthesized templates the way CI does: cfn-lint and checkov, plus a summary table.

Usage, in your project's CI after ``cdk synth``::

    cdk-mlops check cdk.out                          # checkov from PATH
    cdk-mlops check cdk.out --checkov PATH           # checkov from its own virtual environment
    cdk-mlops check cdk.out --no-checkov             # cfn-lint only

``python -m cdk_mlops.checks`` takes the same arguments (``make synth`` runs it). cdk-nag already
ran during synthesis (a finding makes ``cdk synth`` fail); this adds the CloudFormation linter
and checkov, and prints per stack: resources, template size against CloudFormation's limits, nag
acknowledgments, cfn-lint and checkov results. Exit status: 0 clean, 1 findings, 2 a usage
problem (no such folder, no templates, cfn-lint or checkov missing) with a one-line message.
cfn-lint comes with the ``checks`` extra (``pip install 'cdk-mlops[checks]'``); checkov pins
versions that clash with aws-cdk-lib's dependencies, so it lives in its own environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk_mlops._nag_packs import PACK_NAMES

#: CloudFormation quotas a template must stay under.
MAX_TEMPLATE_BYTES = 1_000_000
MAX_RESOURCES = 500
#: Regions the environment-agnostic templates are linted for.
LINT_REGIONS = ("us-east-1", "eu-west-1")


@dataclass
class StackReport:
    """What the checks found for one stack's template."""

    stack: str
    template: Path
    resources: int
    template_bytes: int
    nag_acknowledgments: int
    cfn_lint: list[str] = field(default_factory=list)
    checkov_failed: list[str] = field(default_factory=list)
    checkov_skipped: int = 0
    checkov_ran: bool = False

    @property
    def ok(self) -> bool:
        return (
            not self.cfn_lint
            and not self.checkov_failed
            and self.resources <= MAX_RESOURCES
            and self.template_bytes <= MAX_TEMPLATE_BYTES
        )


#: How ProductStack names the template it writes as a file asset of its parent stack.
PRODUCT_TEMPLATE_SUFFIX = ".product.template.json"


def stack_templates(assembly_dir: Path) -> dict[str, Path]:
    """Stack name -> template path for every stack in a cloud assembly (``cdk.out``).

    Service Catalog product templates (``ProductStack``), which are file assets of their parent
    stack rather than stacks, are included as ``<parent>/<product stack id>``.
    """
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    artifacts = manifest.get("artifacts", {})
    out: dict[str, Path] = {}
    for name, artifact in sorted(artifacts.items()):
        if artifact.get("type") == "aws:cloudformation:stack":
            out[name] = assembly_dir / artifact["properties"]["templateFile"]
            for product_id, path in sorted(product_templates(assembly_dir, artifact).items()):
                out[f"{name}/{product_id}"] = path
        elif artifact.get("type") == "cdk:cloud-assembly":  # nested stage (e.g. pipelines)
            nested = assembly_dir / artifact["properties"]["directoryName"]
            out.update({f"{name}/{k}": v for k, v in stack_templates(nested).items()})
    return out


def product_templates(assembly_dir: Path, stack_artifact: dict[str, Any]) -> dict[str, Path]:
    """Product stack id -> template path for the Service Catalog product templates a stack
    artifact carries as file assets (found through its asset manifest)."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    artifacts = manifest.get("artifacts", {})
    out: dict[str, Path] = {}
    for dependency in stack_artifact.get("dependencies", []):
        assets = artifacts.get(dependency, {})
        if assets.get("type") != "cdk:asset-manifest":
            continue
        data = json.loads((assembly_dir / assets["properties"]["file"]).read_text())
        for asset in data.get("files", {}).values():
            source = str(asset.get("source", {}).get("path", ""))
            if not source.endswith(PRODUCT_TEMPLATE_SUFFIX):
                continue
            display = str(asset.get("displayName", ""))
            product_id = (
                display.removesuffix(" Template").split("/")[-1]
                if display.endswith(" Template")
                else source.removesuffix(PRODUCT_TEMPLATE_SUFFIX)
            )
            out[product_id] = assembly_dir / source
    return out


def _stack_metadata(assembly_dir: Path, stack: str) -> dict[str, Any] | None:
    path = assembly_dir / f"{stack.split('/')[-1]}.metadata.json"
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    artifact = manifest["artifacts"].get(stack)
    return None if artifact is None else artifact.get("metadata", {})


def count_nag_acknowledgments(assembly_dir: Path, stack: str) -> int:
    """How many cdk-nag findings the stack acknowledges (with a reason each).

    A product template's (``<parent>/<product stack id>``) are recorded in its parent stack's
    metadata under the product stack's path; the parent's count leaves them out.
    """
    entries = _stack_metadata(assembly_dir, stack)
    products: set[str] = set()
    if entries is None and "/" in stack:
        parent, product = stack.rsplit("/", 1)
        found = _stack_metadata(assembly_dir, parent) or {}
        entries = {p: v for p, v in found.items() if f"/{product}/" in f"{p}/"}
    elif entries is not None:
        manifest = json.loads((assembly_dir / "manifest.json").read_text())
        artifact = manifest["artifacts"].get(stack)
        if artifact is not None:
            products = set(product_templates(assembly_dir, artifact))
    entries = {
        p: v for p, v in (entries or {}).items() if not any(f"/{x}/" in f"{p}/" for x in products)
    }
    n = 0
    for items in entries.values():
        for item in items:
            if item.get("type") == "aws:cdk:acknowledged-rules":
                n += sum(1 for rule in item["data"] if rule.split("::", 1)[0] in PACK_NAMES)
    return n


def cfn_lint(template: Path, regions: tuple[str, ...] = LINT_REGIONS) -> list[str]:
    """cfn-lint findings (errors and warnings) as printable lines."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(template.read_text(), config=ManualArgs(regions=list(regions)))
    return [f"{m.rule.id} {m.message} ({template.name}:{m.linenumber})" for m in matches]


def checkov(templates: list[Path], executable: str) -> dict[Path, tuple[list[str], int]]:
    """checkov failed checks and skip counts per template (CloudFormation framework, offline).

    One checkov process for all templates (its start-up is most of its cost); results are
    grouped back by the file each check ran on.
    """
    if not templates:
        return {}
    cmd = [executable]
    for template in templates:
        cmd += ["-f", str(template)]
    cmd += ["--framework", "cloudformation", "--compact", "--skip-download", "-o", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        names = ", ".join(t.name for t in templates)
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"checkov failed on {names} (exit {proc.returncode}): {last[-500:]}")
    try:
        data: Any = json.loads(proc.stdout)
    except ValueError:
        raise RuntimeError(
            f"checkov printed no JSON report (exit {proc.returncode}): {proc.stdout[:200]!r}"
        ) from None
    by_name = {t.name: t for t in templates}
    out: dict[Path, tuple[list[str], int]] = {t: ([], 0) for t in templates}
    for report in data if isinstance(data, list) else [data]:
        results = report.get("results", {})
        for kind in ("failed_checks", "skipped_checks"):
            for check in results.get(kind, []):
                found = by_name.get(Path(check["file_path"]).name)
                if found is None:
                    raise RuntimeError(
                        f"checkov reported on an unexpected file: {check['file_path']}"
                    )
                failed, skipped = out[found]
                if kind == "failed_checks":
                    failed.append(f"{check['check_id']} {check['resource']}: {check['check_name']}")
                else:
                    out[found] = (failed, skipped + 1)
    return out


def check_assembly(assembly_dir: Path, *, checkov_executable: str | None) -> list[StackReport]:
    """Run every template check on a cloud assembly."""
    reports = []
    templates = stack_templates(assembly_dir)
    ck = checkov(list(templates.values()), checkov_executable) if checkov_executable else {}
    for stack, path in templates.items():
        template = json.loads(path.read_text())
        failed, skipped = ck.get(path, ([], 0))
        reports.append(
            StackReport(
                stack=stack,
                template=path,
                resources=len(template.get("Resources", {})),
                template_bytes=path.stat().st_size,
                nag_acknowledgments=count_nag_acknowledgments(assembly_dir, stack),
                cfn_lint=cfn_lint(path),
                checkov_failed=failed,
                checkov_skipped=skipped,
                checkov_ran=path in ck,
            )
        )
    return reports


def format_table(reports: list[StackReport]) -> str:
    width = max([24, *(len(r.stack) for r in reports)])
    head = f"{'stack':<{width}} {'resources':>9} {'template KB':>11} {'nag acks':>8} {'cfn-lint':>8} {'checkov fail/skip':>17}  status"
    lines = [head, "-" * len(head)]
    for r in reports:
        ck = f"{len(r.checkov_failed)}/{r.checkov_skipped}" if r.checkov_ran else "not run"
        lines.append(
            f"{r.stack:<{width}} {r.resources:>5}/{MAX_RESOURCES} {r.template_bytes / 1000:>7.1f}/1000 "
            f"{r.nag_acknowledgments:>8} {len(r.cfn_lint):>8} {ck:>17}  {'ok' if r.ok else 'FAIL'}"
        )
    return "\n".join(lines)


EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

#: How to get checkov without disturbing this environment (its pins clash with ours).
CHECKOV_INSTALL = (
    "python -m venv .venv-checkov && .venv-checkov/bin/pip install checkov, "
    "then pass --checkov .venv-checkov/bin/checkov"
)
CFN_LINT_INSTALL = "pip install 'cdk-mlops[checks]'"


class UsageError(Exception):
    """A problem with the arguments or the environment, reported in one line (exit 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``cdk-mlops check`` and ``python -m cdk_mlops.checks``."""
    parser.add_argument(
        "assembly",
        type=Path,
        nargs="?",
        default=Path("cdk.out"),
        help="the cloud assembly folder 'cdk synth' wrote (default: cdk.out)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--checkov",
        metavar="PATH",
        help="the checkov executable (default: 'checkov' on PATH)",
    )
    which.add_argument(
        "--no-checkov", action="store_true", help="run cfn-lint only, without checkov"
    )


def find_checkov(path: str | None, *, no_checkov: bool = False) -> str | None:
    """The checkov executable to run, or None with ``no_checkov``.

    :raises UsageError: the executable given (or ``checkov`` on PATH) is not there.
    """
    if no_checkov:
        return None
    if path is None:
        found = shutil.which("checkov")
        if found is None:
            raise UsageError(
                f"checkov is not on PATH. Install it: {CHECKOV_INSTALL}; or run with --no-checkov"
            )
        return found
    if not path.strip():
        raise UsageError("--checkov '' names no executable; pass --no-checkov to run without it")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    found = shutil.which(path)
    if found is None:
        raise UsageError(
            f"--checkov {path!r}: no such executable. Install checkov: {CHECKOV_INSTALL}; "
            "or run with --no-checkov"
        )
    return found


def assembly_templates(assembly_dir: Path) -> dict[str, Path]:
    """:func:`stack_templates`, with a :class:`UsageError` when there is nothing to check."""
    if not assembly_dir.is_dir():
        raise UsageError(
            f"assembly folder {str(assembly_dir)!r} does not exist; run 'cdk synth' first "
            "(it writes cdk.out) or pass the folder it wrote"
        )
    if not (assembly_dir / "manifest.json").is_file():
        raise UsageError(
            f"{str(assembly_dir)!r} is not a cloud assembly (no manifest.json); pass the folder "
            "'cdk synth' wrote (cdk.out)"
        )
    try:
        templates = stack_templates(assembly_dir)
    except (ValueError, KeyError) as exc:
        raise UsageError(
            f"{str(assembly_dir / 'manifest.json')!r} cannot be read ({exc!r}); synthesize again"
        ) from None
    if not templates:
        raise UsageError(
            f"{str(assembly_dir)!r} holds no stack templates; does your app define a stack?"
        )
    missing = [str(t) for t in templates.values() if not t.is_file()]
    if missing:
        raise UsageError(f"the manifest names templates that are missing: {', '.join(missing)}")
    return templates


def run(args: argparse.Namespace, *, prog: str = "cdk-mlops check") -> int:
    """Run the checks for parsed arguments; print the table and findings; return the exit status."""
    try:
        if importlib.util.find_spec("cfnlint") is None:
            raise UsageError(f"cfn-lint is not installed: {CFN_LINT_INSTALL}")
        assembly_templates(args.assembly)
        exe = find_checkov(args.checkov, no_checkov=args.no_checkov)
        reports = check_assembly(args.assembly, checkov_executable=exe)
    except (UsageError, RuntimeError) as exc:
        message = " ".join(str(exc).split())
        print(f"{prog}: {message}", file=sys.stderr)
        return EXIT_USAGE
    print(format_table(reports))
    for r in reports:
        for line in r.cfn_lint:
            print(f"  cfn-lint {r.stack}: {line}")
        for line in r.checkov_failed:
            print(f"  checkov {r.stack}: {line}")
    if exe is None:
        print("checkov: not run (--no-checkov)")
    return EXIT_CLEAN if all(r.ok for r in reports) else EXIT_FINDINGS


def main(argv: list[str] | None = None) -> int:
    """``python -m cdk_mlops.checks``: the same as ``cdk-mlops check``."""
    prog = "python -m cdk_mlops.checks"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv), prog=prog)


if __name__ == "__main__":
    raise SystemExit(main())
