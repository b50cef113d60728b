"""A local, versioned model registry that mirrors SageMaker Model Registry.

Layout (one folder per model package group, one per version, numbered from 1)::

    <root>/<group>/model-package-group.json
    <root>/<group>/version-1/model.tar.gz
                            /evaluation.json, report.html
                            /baseline/statistics.json, constraints.json   (attached later)
                            /model-package.json    SageMaker-style description (see below)

``model-package.json`` uses the field names of SageMaker's ``DescribeModelPackage``
(``ModelPackageGroupName``, ``ModelPackageVersion``, ``ModelApprovalStatus``,
``ModelMetrics``, ``DriftCheckBaselines``, ``CustomerMetadataProperties``...), and records
``code_sha256`` (the ``pipeline_code`` tree) and ``data_sha256`` (the training data) so a
version can be traced to the exact code and data that made it; ``DataLineage`` (path, sha256
and size of each training file) and ``CodeLineage`` (the code folder and its hash) let
``cdk-mlops lineage`` check each against what is there now. New versions start as
``PendingManualApproval``, as in SageMaker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compat import UTC

APPROVAL_STATUSES: tuple[str, ...] = ("PendingManualApproval", "Approved", "Rejected")
DEFAULT_APPROVAL = "PendingManualApproval"
GROUP_FILE = "model-package-group.json"
PACKAGE_FILE = "model-package.json"
_GROUP_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's pattern
_VERSION_RE = re.compile(r"^version-([1-9][0-9]*)$")
PIPELINE_CODE_DIR = Path(__file__).resolve().parent.parent


class RegistryError(ValueError):
    """A registry call got a bad name, version or status. The message says what to pass."""


def _skipped(part: str) -> bool:
    """Hidden files, ``__pycache__`` and Spark/Hadoop markers (``_SUCCESS``, ``.crc``) are not data."""
    return (
        part.startswith(".")
        or part == "__pycache__"
        or (part.startswith("_") and not part.endswith(".py"))
    )


def hash_paths(paths: Iterable[str | Path], *, suffixes: tuple[str, ...] | None = None) -> str:
    """SHA-256 over files (folders walked in sorted order; hidden files, caches and markers skipped).

    Relative names are hashed with the contents, so renaming a file changes the hash.
    """
    digest = hashlib.sha256()
    for root in sorted(Path(p) for p in paths):
        if not root.exists():
            raise FileNotFoundError(f"cannot hash {str(root)!r}: it does not exist")
        files = [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.is_file())
        for f in files:
            rel = f.relative_to(root) if root.is_dir() else Path(f.name)
            if any(_skipped(part) for part in rel.parts):
                continue
            if suffixes is not None and f.suffix not in suffixes:
                continue
            digest.update(str(rel).encode("utf-8") + b"\0")
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            digest.update(b"\0")
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of one file's contents (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_lineage(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """``path``, ``sha256`` and ``bytes`` of every file under ``paths`` (folders walked, sorted;
    hidden files, caches and Spark markers skipped, as in :func:`hash_paths`), as registration
    records them."""
    records: list[dict[str, Any]] = []
    for given in paths:
        root = Path(given).resolve()
        files = (
            sorted(
                p
                for p in root.rglob("*")
                if p.is_file() and not any(_skipped(part) for part in p.relative_to(root).parts)
            )
            if root.is_dir()
            else [root]
        )
        for path in files:
            records.append(
                {"path": str(path), "sha256": file_sha256(path), "bytes": path.stat().st_size}
            )
    return records


def code_sha256(folder: str | Path = PIPELINE_CODE_DIR) -> str:
    """The hash of a code package's sources (``.py`` and ``.json``); by default this
    ``pipeline_code`` package's."""
    return hash_paths([folder], suffixes=(".py", ".json"))


def _now() -> str:
    return dt.datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    # A temporary name of this writer's own: concurrent writers of one file must not share it.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # readers never see a half-written file


@dataclass(frozen=True)
class ModelPackage:
    """One registered version."""

    group: str
    version: int
    path: Path
    description: dict[str, Any]

    @property
    def approval_status(self) -> str:
        return str(self.description["ModelApprovalStatus"])

    @property
    def model_tarball(self) -> Path:
        return self.path / "model.tar.gz"


class LocalModelRegistry:
    """A model registry in a folder. Safe for concurrent ``register`` calls (atomic mkdir)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -------------------------------------------------------------------- helpers
    @staticmethod
    def validate_group_name(group: str) -> None:
        """Raise :class:`RegistryError` unless ``group`` is a valid SageMaker group name."""
        if not isinstance(group, str) or not _GROUP_RE.match(group):
            raise RegistryError(
                f"model package group name {group!r} is invalid: use 1 to 63 letters, digits and "
                "hyphens, starting and ending with a letter or digit (e.g. 'customer-churn')"
            )

    def _group_dir(self, group: str) -> Path:
        self.validate_group_name(group)
        return self.root / group

    def _version_dir(self, group: str, version: int) -> Path:
        path = self._group_dir(group) / f"version-{version}"
        if not (path / PACKAGE_FILE).exists():
            known = [p.version for p in self.list_versions(group)]
            raise RegistryError(
                f"model package {group}/{version} does not exist; known versions: {known}"
            )
        return path

    # ------------------------------------------------------------------------ API
    def register(
        self,
        group: str,
        model_tarball: str | Path,
        *,
        evaluation: str | Path,
        report: str | Path | None = None,
        data_paths: Iterable[str | Path] = (),
        approval_status: str = DEFAULT_APPROVAL,
        description: str = "",
        metadata: Mapping[str, Any] | None = None,
    ) -> ModelPackage:
        """Copy the model and its evaluation into a new version folder and describe it."""
        if approval_status not in APPROVAL_STATUSES:
            raise RegistryError(
                f"approval status {approval_status!r} is invalid; use one of {list(APPROVAL_STATUSES)}"
            )
        tarball, evaluation_path = Path(model_tarball), Path(evaluation)
        for label, p in (("model_tarball", tarball), ("evaluation", evaluation_path)):
            if not p.is_file():
                raise FileNotFoundError(
                    f"{label} {str(p)!r} does not exist; run training and evaluation first"
                )
        group_dir = self._group_dir(group)
        group_dir.mkdir(parents=True, exist_ok=True)
        if not (group_dir / GROUP_FILE).exists():
            _write_json(
                group_dir / GROUP_FILE,
                {
                    "ModelPackageGroupName": group,
                    "CreationTime": _now(),
                    "ModelPackageGroupStatus": "Completed",
                },
            )
        version, path = self._allocate(group_dir)
        shutil.copy2(tarball, path / "model.tar.gz")
        shutil.copy2(evaluation_path, path / "evaluation.json")
        if report is not None and Path(report).is_file():
            shutil.copy2(report, path / "report.html")
        data_list = list(data_paths)
        code = code_sha256()
        package: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version,
            "ModelPackageArn": f"local://{group}/{version}",
            "ModelPackageDescription": description,
            "ModelApprovalStatus": approval_status,
            "ModelPackageStatus": "Completed",
            "CreationTime": _now(),
            "InferenceSpecification": {
                "ModelDataUrl": str(path / "model.tar.gz"),
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["application/json", "text/csv"],
            },
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": str(path / "evaluation.json"),
                    }
                },
            },
            # Each training data file as it was: enough to reproduce the version, or to see
            # that the data changed since (``cdk-mlops lineage``).
            "DataLineage": data_lineage(data_list),
            # The folder the code hash covers: a team's renamed copy of pipeline_code is
            # compared with itself, not with the installed pipeline_code.
            "CodeLineage": {"path": str(PIPELINE_CODE_DIR), "sha256": code},
            "CustomerMetadataProperties": {
                "code_sha256": code,
                "data_sha256": hash_paths(data_list) if data_list else "",
                "model_sha256": hash_paths([path / "model.tar.gz"]),
                **{k: str(v) for k, v in (metadata or {}).items()},
            },
            "ApprovalHistory": [
                {"ModelApprovalStatus": approval_status, "Time": _now(), "Comment": "registered"}
            ],
        }
        _write_json(path / PACKAGE_FILE, package)
        return ModelPackage(group, version, path, package)

    def _allocate(self, group_dir: Path) -> tuple[int, Path]:
        existing = [
            int(m.group(1)) for p in group_dir.iterdir() if (m := _VERSION_RE.match(p.name))
        ]
        version = max(existing, default=0) + 1
        while True:
            path = group_dir / f"version-{version}"
            try:
                path.mkdir()  # atomic: two concurrent registrations never share a version
            except FileExistsError:
                version += 1
                continue
            return version, path

    def attach_baseline(self, group: str, version: int, baseline_dir: str | Path) -> ModelPackage:
        """Copy Model Monitor baseline files into ``version-N/baseline`` and reference them as
        ``DriftCheckBaselines`` (and ``ModelMetrics.ModelDataQuality``)."""
        path = self._version_dir(group, version)
        src = Path(baseline_dir)
        files = {name: src / name for name in ("statistics.json", "constraints.json")}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"baseline files {missing} are missing; run the baseline step first"
            )
        dest = path / "baseline"
        if src.resolve() != dest.resolve():
            dest.mkdir(exist_ok=True)
            for name, f in files.items():
                shutil.copy2(f, dest / name)
        package = self.get(group, version).description
        quality = {
            "Statistics": {
                "ContentType": "application/json",
                "S3Uri": str(dest / "statistics.json"),
            },
            "Constraints": {
                "ContentType": "application/json",
                "S3Uri": str(dest / "constraints.json"),
            },
        }
        package["ModelMetrics"]["ModelDataQuality"] = quality
        package["DriftCheckBaselines"] = {"ModelDataQuality": quality}
        _write_json(path / PACKAGE_FILE, package)
        return ModelPackage(group, version, path, package)

    def update_approval(
        self, group: str, version: int, status: str, *, comment: str = ""
    ) -> ModelPackage:
        """Set ``ModelApprovalStatus`` (the step a reviewer or the deploy pipeline takes)."""
        if status not in APPROVAL_STATUSES:
            raise RegistryError(
                f"approval status {status!r} is invalid; use one of {list(APPROVAL_STATUSES)}"
            )
        path = self._version_dir(group, version)
        package = self.get(group, version).description
        package["ModelApprovalStatus"] = status
        package.setdefault("ApprovalHistory", []).append(
            {"ModelApprovalStatus": status, "Time": _now(), "Comment": comment}
        )
        _write_json(path / PACKAGE_FILE, package)
        return ModelPackage(group, version, path, package)

    def get(self, group: str, version: int) -> ModelPackage:
        """One version; :class:`RegistryError` if it does not exist."""
        path = self._version_dir(group, version)
        package = json.loads((path / PACKAGE_FILE).read_text(encoding="utf-8"))
        return ModelPackage(group, version, path, package)

    def list_versions(self, group: str) -> list[ModelPackage]:
        """Every version of ``group``, oldest first (empty if the group does not exist)."""
        group_dir = self._group_dir(group)
        if not group_dir.is_dir():
            return []
        out: list[ModelPackage] = []
        for p in group_dir.iterdir():
            m = _VERSION_RE.match(p.name)
            if m and (p / PACKAGE_FILE).exists():
                desc = json.loads((p / PACKAGE_FILE).read_text(encoding="utf-8"))
                out.append(ModelPackage(group, int(m.group(1)), p, desc))
        return sorted(out, key=lambda pkg: pkg.version)

    def latest(self, group: str, *, status: str | None = None) -> ModelPackage | None:
        """The newest version, optionally only among those with approval ``status``."""
        if status is not None and status not in APPROVAL_STATUSES:
            raise RegistryError(
                f"approval status {status!r} is invalid; use one of {list(APPROVAL_STATUSES)}"
            )
        versions = [
            v for v in self.list_versions(group) if status is None or v.approval_status == status
        ]
        return versions[-1] if versions else None
