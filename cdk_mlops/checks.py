"""Check synthesized templates the way CI does: cfn-lint and checkov, plus a summary table.

Usage (``make synth`` runs it after ``cdk synth``)::

    python -m cdk_mlops.checks cdk.out [--checkov .venv-checkov/bin/checkov]

cdk-nag already ran during synthesis (a finding makes ``cdk synth`` fail); this adds the
CloudFormation linter and checkov, and prints per stack: resources, template size against
CloudFormation's limits, nag acknowledgments, cfn-lint and checkov results. Exit code 1 when
any check finds something. cfn-lint is imported lazily: it is a development dependency.
"""

from __future__ import annotations

import argparse
import json
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


def stack_templates(assembly_dir: Path) -> dict[str, Path]:
    """Stack name -> template path for every stack in a cloud assembly (``cdk.out``)."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    out: dict[str, Path] = {}
    for name, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") == "aws:cloudformation:stack":
            out[name] = assembly_dir / artifact["properties"]["templateFile"]
        elif artifact.get("type") == "cdk:cloud-assembly":  # nested stage (e.g. pipelines)
            nested = assembly_dir / artifact["properties"]["directoryName"]
            out.update({f"{name}/{k}": v for k, v in stack_templates(nested).items()})
    return out


def count_nag_acknowledgments(assembly_dir: Path, stack: str) -> int:
    """How many cdk-nag findings the stack acknowledges (with a reason each)."""
    path = assembly_dir / f"{stack.split('/')[-1]}.metadata.json"
    if not path.exists():
        manifest = json.loads((assembly_dir / "manifest.json").read_text())
        entries = manifest["artifacts"].get(stack, {}).get("metadata", {})
    else:
        entries = json.loads(path.read_text())
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
        raise RuntimeError(
            f"checkov failed on {names} (exit {proc.returncode}): {proc.stderr[-2000:]}"
        )
    data: Any = json.loads(proc.stdout)
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
    head = f"{'stack':<24} {'resources':>9} {'template KB':>11} {'nag acks':>8} {'cfn-lint':>8} {'checkov fail/skip':>17}  status"
    lines = [head, "-" * len(head)]
    for r in reports:
        ck = f"{len(r.checkov_failed)}/{r.checkov_skipped}" if r.checkov_ran else "not run"
        lines.append(
            f"{r.stack:<24} {r.resources:>5}/{MAX_RESOURCES} {r.template_bytes / 1000:>7.1f}/1000 "
            f"{r.nag_acknowledgments:>8} {len(r.cfn_lint):>8} {ck:>17}  {'ok' if r.ok else 'FAIL'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assembly", type=Path, nargs="?", default=Path("cdk.out"))
    parser.add_argument(
        "--checkov", default=".venv-checkov/bin/checkov", help="checkov executable ('' to skip)"
    )
    args = parser.parse_args(argv)
    exe = args.checkov or None
    if exe and not (Path(exe).exists() or shutil.which(exe)):
        print(
            f"checkov executable {exe!r} not found; run 'make .venv-checkov' or pass --checkov ''",
            file=sys.stderr,
        )
        return 2
    reports = check_assembly(args.assembly, checkov_executable=exe)
    print(format_table(reports))
    for r in reports:
        for line in r.cfn_lint:
            print(f"  cfn-lint {r.stack}: {line}")
        for line in r.checkov_failed:
            print(f"  checkov {r.stack}: {line}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
