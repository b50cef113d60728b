"""What a model version was made from, and whether that still exists unchanged.

``cdk-mlops lineage <registry> <group> <version>`` prints, from the local registry (the one
``run-local`` and ``run-pipeline`` write): the version's status and model hash; the code hash
it was trained with and whether today's code is the same; every training data file with its
hash and whether the file is still there unchanged; the evaluation metrics; and the chain of
versions it was retrained from. With ``--json`` the same as one JSON object. Exit status: 0
printed, 1 a version's record is unreadable, 2 bad arguments (no such registry, group or
version).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from .local import (
    PACKAGE_FILE,
    LocalModelRegistry,
    ModelPackage,
    RegistryError,
    code_sha256,
    hash_paths,
)

EXIT_ERROR, EXIT_USAGE = 1, 2
#: Model package metadata printed as recorded (the pipeline's data and model card fields).
_RECORDED = ("data_version", "training_data", "intended_use", "quality_metric", "quality_value")


class LineageError(ValueError):
    """A lineage request named something that does not exist; the message says what to pass."""


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package(registry: LocalModelRegistry, group: str, version: str | int) -> ModelPackage:
    if not registry.root.is_dir():
        raise LineageError(
            f"registry {str(registry.root)!r} does not exist; give the folder run-local wrote "
            "(<output>/registry) or run-pipeline's registry"
        )
    if not registry.list_versions(group):
        groups = sorted(p.name for p in registry.root.iterdir() if p.is_dir())
        raise LineageError(f"group {group!r} has no versions in {registry.root}; groups: {groups}")
    if str(version) == "latest":
        latest = registry.latest(group)
        assert latest is not None
        return latest
    try:
        number = int(str(version))
    except ValueError:
        raise LineageError(f"version {version!r} is not a number; give e.g. 1, or latest") from None
    return registry.get(group, number)


def _metrics(package: ModelPackage) -> dict[str, float]:
    path = package.path / "evaluation.json"
    if not path.is_file():
        return {}
    evaluation = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, float] = {}
    for section, metrics in evaluation.items():
        if section.endswith("_metrics") and isinstance(metrics, dict):
            for name, value in metrics.items():
                if isinstance(value, dict) and isinstance(value.get("value"), int | float):
                    out[name] = float(value["value"])
    return out


def lineage(root: str | Path, group: str, version: str | int) -> dict[str, Any]:
    """The lineage of ``group``/``version`` (a number or ``latest``) in the registry ``root``."""
    registry = LocalModelRegistry(root)
    try:
        package = _package(registry, group, version)
    except RegistryError as error:
        raise LineageError(str(error)) from None
    desc = package.description
    meta = desc.get("CustomerMetadataProperties", {})
    model = package.model_tarball
    recorded_model = meta.get("model_sha256", "")
    files = []
    for record in desc.get("DataLineage", []):
        path = Path(record["path"])
        if not path.is_file():
            state = "missing"
        elif _file_sha256(path) != record["sha256"]:
            state = "changed"
        else:
            state = "unchanged"
        files.append({**record, "state": state})
    chain: list[int] = []
    seen = {package.version}
    parent = meta.get("retrained_from")
    while parent is not None and str(parent).isdigit() and int(parent) not in seen:
        chain.append(int(parent))
        seen.add(int(parent))
        try:
            parent = (
                registry.get(group, int(parent))
                .description.get("CustomerMetadataProperties", {})
                .get("retrained_from")
            )
        except RegistryError:
            break
    current_code = code_sha256()
    return {
        "group": group,
        "version": package.version,
        "path": str(package.path),
        "approval_status": package.approval_status,
        "created": desc.get("CreationTime"),
        "model": {
            "path": str(model),
            "sha256": recorded_model,
            "state": "missing"
            if not model.is_file()
            else "unchanged"
            if hash_paths([model]) == recorded_model
            else "changed",
        },
        "code": {
            "sha256": meta.get("code_sha256", ""),
            "current_sha256": current_code,
            "state": "unchanged" if meta.get("code_sha256") == current_code else "changed",
        },
        "data": {"sha256": meta.get("data_sha256", ""), "files": files},
        "metrics": _metrics(package),
        "retrained_from": chain,
        # what a SageMaker pipeline records instead of files (run-pipeline): the data version
        # it computed, where the training split was, and the model card's fields
        "recorded": {k: meta[k] for k in _RECORDED if k in meta},
    }


def render(info: dict[str, Any]) -> str:
    """Plain text for a terminal."""
    lines = [
        f"{info['group']} version {info['version']} ({info['approval_status']}, created "
        f"{info['created']})",
        f"  model  {info['model']['sha256'][:16]}  {info['model']['state']}  "
        f"{info['model']['path']}",
        f"  code   {info['code']['sha256'][:16]}  "
        + (
            "unchanged since"
            if info["code"]["state"] == "unchanged"
            else f"changed since (now {info['code']['current_sha256'][:16]})"
        ),
        f"  data   {info['data']['sha256'][:16]}  {len(info['data']['files'])} file(s)",
    ]
    lines += [
        f"    {f['sha256'][:16]}  {f['bytes']:>12,} B  {f['state']:9}  {f['path']}"
        for f in info["data"]["files"]
    ]
    if not info["data"]["files"]:
        lines.append("    (no per-file record: a pipeline's version records the data below)")
    lines += [f"  {key}: {value}" for key, value in info["recorded"].items()]
    if info["metrics"]:
        lines.append(
            "  metrics "
            + ", ".join(f"{name} {value:.4f}" for name, value in sorted(info["metrics"].items()))
        )
    if info["retrained_from"]:
        lines.append(
            "  retrained from " + " <- ".join(f"version {v}" for v in info["retrained_from"])
        )
    return "\n".join(lines)


def add_lineage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "registry", type=Path, help="the registry folder (run-local: <output>/registry)"
    )
    parser.add_argument("group", help="model package group, e.g. customer-churn")
    parser.add_argument("version", help="version number, or latest")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def lineage_command(args: argparse.Namespace) -> int:
    """``cdk-mlops lineage``: print the lineage; errors go to stderr with the exit status."""
    import sys

    try:
        info = lineage(args.registry, args.group, args.version)
    except LineageError as error:
        print(f"cdk-mlops lineage: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError, KeyError) as error:
        path = Path(args.registry) / args.group / f"version-{args.version}" / PACKAGE_FILE
        print(f"cdk-mlops lineage: cannot read {path}: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps(info, indent=2) if args.json else render(info))
    return 0
