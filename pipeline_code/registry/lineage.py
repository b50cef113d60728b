"""What a model version was made from, and whether that still exists unchanged.

``cdk-mlops lineage <registry> <group> <version>`` prints, from the local registry (the one
``run-local`` and ``run-pipeline`` write): the version's status and model hash; the code hash
it was trained with and whether that code folder is still the same; every training data file
with its hash and whether the file is still there unchanged; what a pipeline recorded instead
of files (code and data versions, the training split's location); the evaluation metrics; and
the chain of versions it was retrained from. With ``--json`` the same as one JSON object.
Exit status: 0 printed, 1 a record is unreadable, 2 bad arguments (no such registry, group or
version).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from .local import (
    PACKAGE_FILE,
    PIPELINE_CODE_DIR,
    LocalModelRegistry,
    RegistryError,
    code_sha256,
    file_sha256,
    hash_paths,
)

EXIT_ERROR, EXIT_USAGE = 1, 2
#: Model package metadata printed as recorded: the pipeline's code and data versions, where
#: its model and training split were, and the model card's fields.
_RECORDED = (
    "code_version",
    "commit_id",
    "data_version",
    "training_data",
    "model_data_url",
    "image",
    "intended_use",
    "quality_metric",
    "quality_value",
)
_VERSION_DIR = re.compile(r"^version-([1-9][0-9]*)$")
_REREGISTER = "restore it, or register the version again"


class LineageError(ValueError):
    """A lineage request named something that does not exist; the message says what to pass."""


class LineageRecordError(ValueError):
    """A version's record exists but cannot be read; the message names the file and the fix."""


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or :class:`LineageRecordError` naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise LineageRecordError(
            f"{path} is not valid JSON ({error.msg}, line {error.lineno}); {_REREGISTER}"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise LineageRecordError(f"cannot read {path} ({error}); {_REREGISTER}") from None
    if not isinstance(data, dict):
        raise LineageRecordError(
            f"{path} holds a JSON {type(data).__name__}, not an object; {_REREGISTER}"
        )
    return data


def _versions(group_dir: Path) -> dict[int, Path]:
    """The version folders of a group that hold a record, by number."""
    if not group_dir.is_dir():
        return {}
    found = {}
    for path in group_dir.iterdir():
        match = _VERSION_DIR.match(path.name)
        if match and (path / PACKAGE_FILE).is_file():
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def _resolve(root: Path, group: str, version: str | int) -> tuple[int, dict[int, Path]]:
    """The version number ``version`` names (a number, ``version-N`` or ``latest``)."""
    if not root.is_dir():
        raise LineageError(
            f"registry {str(root)!r} does not exist; give the folder run-local wrote "
            "(<output>/registry) or run-pipeline's (<work-dir>/registry)"
        )
    try:
        LocalModelRegistry.validate_group_name(group)
    except RegistryError as error:
        raise LineageError(str(error)) from None
    versions = _versions(root / group)
    if not versions:
        groups = sorted(p.name for p in root.iterdir() if p.is_dir() and _versions(p))
        raise LineageError(
            f"group {group!r} has no versions in {root}; groups: {groups} (give one of them)"
        )
    text = str(version).strip()
    if text == "latest":
        return max(versions), versions
    number_text = text.removeprefix("version-")
    if not number_text.isdigit():
        raise LineageError(
            f"version {str(version)!r} is not a number; give one of {list(versions)}, or latest"
        )
    number = int(number_text)
    if number not in versions:
        raise LineageError(
            f"model package {group}/{number} does not exist; known versions: "
            f"{list(versions)} (give one of them, or latest)"
        )
    return number, versions


def _data_files(package_file: Path, records: Any) -> list[dict[str, Any]]:
    """Each recorded training file with its state now: unchanged, changed or missing."""
    if not isinstance(records, list):
        raise LineageRecordError(
            f"{package_file}: DataLineage is a {type(records).__name__}, not a list; {_REREGISTER}"
        )
    files = []
    for index, record in enumerate(records):
        if not (
            isinstance(record, dict)
            and isinstance(record.get("path"), str)
            and isinstance(record.get("sha256"), str)
            and isinstance(record.get("bytes"), int)
        ):
            raise LineageRecordError(
                f"{package_file}: DataLineage[{index}] is {record!r}, not a path, sha256 and "
                f"bytes; {_REREGISTER}"
            )
        path = Path(record["path"])
        if not path.is_file():
            state = "missing"
        elif file_sha256(path) != record["sha256"]:
            state = "changed"
        else:
            state = "unchanged"
        files.append({**record, "state": state})
    return files


def _metrics(version_dir: Path) -> dict[str, float]:
    path = version_dir / "evaluation.json"
    if not path.is_file():
        return {}
    out: dict[str, float] = {}
    for section, metrics in _read_json(path).items():
        if section.endswith("_metrics") and isinstance(metrics, dict):
            for name, value in metrics.items():
                if isinstance(value, dict) and isinstance(value.get("value"), int | float):
                    out[name] = float(value["value"])
    return out


def _code(desc: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """The recorded code hash, compared with the folder it was taken from if that is still
    there (a team's renamed copy), else with this installed ``pipeline_code``."""
    recorded = desc.get("CodeLineage")
    recorded = recorded if isinstance(recorded, dict) else {}
    sha = str(meta.get("code_sha256") or recorded.get("sha256") or "")
    folder = Path(str(recorded.get("path") or PIPELINE_CODE_DIR))
    if not folder.is_dir():
        folder = PIPELINE_CODE_DIR
    current = code_sha256(folder)
    state = "not recorded" if not sha else "unchanged" if sha == current else "changed"
    return {"sha256": sha, "path": str(folder), "current_sha256": current, "state": state}


def lineage(root: str | Path, group: str, version: str | int) -> dict[str, Any]:
    """The lineage of ``group``/``version`` (a number, ``version-N`` or ``latest``) in the
    registry ``root``. :class:`LineageError` for a name that does not exist,
    :class:`LineageRecordError` for a record that cannot be read."""
    root = Path(root)
    number, versions = _resolve(root, group, version)
    version_dir = versions[number]
    package_file = version_dir / PACKAGE_FILE
    desc = _read_json(package_file)
    meta = desc.get("CustomerMetadataProperties", {})
    status = desc.get("ModelApprovalStatus")
    if not isinstance(meta, dict) or not isinstance(status, str):
        raise LineageRecordError(
            f"{package_file} lacks ModelApprovalStatus or CustomerMetadataProperties: it is not "
            f"a record LocalModelRegistry wrote; {_REREGISTER}"
        )
    model = version_dir / "model.tar.gz"
    recorded_model = str(meta.get("model_sha256", ""))
    if not recorded_model:
        model_state = "not recorded"
    elif not model.is_file():
        model_state = "missing"
    else:
        model_state = "unchanged" if hash_paths([model]) == recorded_model else "changed"
    chain: list[int] = []
    missing_parent = None
    parent = meta.get("retrained_from")
    while parent is not None and str(parent).isdigit() and int(parent) not in {number, *chain}:
        chain.append(int(parent))
        if int(parent) not in versions:
            missing_parent = int(parent)
            break
        parent_meta = _read_json(versions[int(parent)] / PACKAGE_FILE).get(
            "CustomerMetadataProperties"
        )
        parent = parent_meta.get("retrained_from") if isinstance(parent_meta, dict) else None
    return {
        "group": group,
        "version": number,
        "path": str(version_dir),
        "approval_status": status,
        "created": desc.get("CreationTime"),
        "model": {"path": str(model), "sha256": recorded_model, "state": model_state},
        "code": _code(desc, meta),
        "data": {
            "sha256": str(meta.get("data_sha256", "")),
            "files": _data_files(package_file, desc.get("DataLineage", [])),
        },
        "metrics": _metrics(version_dir),
        "retrained_from": chain,
        # a version that retrained_from names but that is not in this registry
        "retrained_from_missing": missing_parent,
        # what a SageMaker pipeline records instead of files (run-pipeline): the code and data
        # versions it computed, where the training split was, and the model card's fields
        "recorded": {k: str(meta[k]) for k in _RECORDED if k in meta},
    }


def render(info: dict[str, Any]) -> str:
    """Plain text for a terminal."""
    code = info["code"]
    code_line = f"  code   {code['sha256'][:16] or '-':16}  {code['state']:9}  {code['path']}"
    if code["state"] == "changed":
        code_line += f"  (now {code['current_sha256'][:16]})"
    lines = [
        f"{info['group']} version {info['version']} ({info['approval_status']}, created "
        f"{info['created']})",
        f"  model  {info['model']['sha256'][:16] or '-':16}  {info['model']['state']:9}  "
        f"{info['model']['path']}",
        code_line,
        f"  data   {info['data']['sha256'][:16] or '-':16}  {len(info['data']['files'])} file(s)",
    ]
    lines += [
        f"    {f['sha256'][:16]}  {f['bytes']:>12,} B  {f['state']:9}  {f['path']}"
        for f in info["data"]["files"]
    ]
    if not info["data"]["files"]:
        lines.append(
            "    (no per-file record"
            + (": the pipeline recorded the data below)" if info["recorded"] else ")")
        )
    lines += [f"  {key}: {value}" for key, value in info["recorded"].items()]
    if info["metrics"]:
        lines.append(
            "  metrics "
            + ", ".join(f"{name} {value:.4f}" for name, value in sorted(info["metrics"].items()))
        )
    if info["retrained_from"]:
        lines.append(
            "  retrained from "
            + " <- ".join(
                f"version {v}"
                + (" (not in this registry)" if v == info["retrained_from_missing"] else "")
                for v in info["retrained_from"]
            )
        )
    return "\n".join(lines)


def add_lineage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "registry",
        type=Path,
        help="the registry folder (run-local: <output>/registry; run-pipeline: <work-dir>/registry)",
    )
    parser.add_argument("group", help="model package group, e.g. customer-churn")
    parser.add_argument("version", help="version number (1 or version-1), or latest")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def lineage_command(args: argparse.Namespace) -> int:
    """``cdk-mlops lineage``: print the lineage; errors go to stderr with the exit status."""
    import sys

    try:
        info = lineage(args.registry, args.group, args.version)
        text = json.dumps(info, indent=2) if args.json else render(info)
    except LineageError as error:
        print(f"cdk-mlops lineage: {error}", file=sys.stderr)
        return EXIT_USAGE
    except LineageRecordError as error:
        print(f"cdk-mlops lineage: {error}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as error:  # a data or model file that exists but cannot be read
        print(
            f"cdk-mlops lineage: cannot read {error.filename}: {error.strerror}; check its "
            "permissions",
            file=sys.stderr,
        )
        return EXIT_ERROR
    print(text)
    return 0
