"""``pipeline_code`` as deterministic bundles for CDK assets.

Two synths of the same code give byte-identical bundles (sorted entries, fixed timestamps and
permissions), so the asset hash, recorded on every model package as ``code_version``, changes
exactly when the code does.

- ``pipeline_code.zip``: the package at the zip root. Glue imports it from ``--extra-py-files``;
  SageMaker jobs unpack it (``cdk_mlops.pipelines.training.BOOTSTRAP``).
- ``sourcedir.tar.gz``: the package plus an ``inference.py`` shim at the root, the layout the
  SageMaker scikit-learn serving container expects in ``SAGEMAKER_SUBMIT_DIRECTORY``, and a
  ``train.py`` shim, the script a tuning job's training toolkit runs (``sagemaker_program``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: The package that ships to AWS.
PIPELINE_CODE_DIR = Path(__file__).resolve().parent.parent / "pipeline_code"
_INCLUDE_SUFFIXES = frozenset({".py", ".json", ".csv", ".txt"})
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: ``inference.py`` at the source-dir root; ``{package}`` is the code package's name.
INFERENCE_SHIM = (
    '"""Entry point for the SageMaker scikit-learn container (SAGEMAKER_PROGRAM)."""\n'
    "from {package}.inference.handler import input_fn, model_fn, output_fn, predict_fn\n\n"
    '__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]\n'
)


#: ``train.py`` at the source-dir root: the training toolkit runs it as a script (a tuning job
#: has no container entry point), with the hyperparameters as ``--name value`` arguments.
TRAIN_SHIM = (
    '"""Entry point for the SageMaker training toolkit (sagemaker_program): runs the training\n'
    'module named by CDK_MLOPS_TRAIN_MODULE (default {package}.training.train)."""\n'
    "import os\n"
    "import runpy\n\n"
    "runpy.run_module(\n"
    '    os.environ.get("CDK_MLOPS_TRAIN_MODULE") or "{package}.training.train",\n'
    '    run_name="__main__",\n'
    ")\n"
)

#: The Glue job's entry script. Glue runs the script file itself (not ``python -m``), so the
#: package's ``etl/glue_job.py``, whose imports are relative, is imported from the package that
#: ``--extra-py-files`` ships, by its name.
GLUE_SHIM = (
    '"""AWS Glue entry script: runs {package}.etl.glue_job from --extra-py-files."""\n'
    "from {package}.etl.glue_job import main\n\n"
    "raise SystemExit(main())\n"
)


_LAYOUT = "2"


@dataclass(frozen=True)
class CodeBundles:
    """Paths of the bundles and the code version (sha256 of the sources, 16 hex digits)."""

    zip_path: Path
    sourcedir_path: Path
    code_version: str
    glue_entry_path: Path


def _sources(root: Path) -> list[tuple[str, bytes]]:
    if not (root / "__init__.py").exists():
        raise FileNotFoundError(
            f"code directory {str(root)!r} is not a Python package (no __init__.py)"
        )
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root.parent)
        if path.is_file() and path.suffix in _INCLUDE_SUFFIXES and "__pycache__" not in rel.parts:
            files.append((rel.as_posix(), path.read_bytes()))
    return files


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def _tar_gz(files: list[tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tf.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def build_bundles(code_dir: Path = PIPELINE_CODE_DIR) -> CodeBundles:
    """Build the bundles of the package at ``code_dir`` (written once per content version).

    The sources are hashed on every call (milliseconds), so an edit is always seen; the bundle
    files are reused when a folder for that version already exists.
    """
    root = Path(code_dir).resolve()
    files = _sources(root)
    shims = [
        ("inference.py", INFERENCE_SHIM.format(package=root.name).encode()),
        ("train.py", TRAIN_SHIM.format(package=root.name).encode()),
    ]
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    version = digest.hexdigest()[:16]
    # The bundle layout's own version is in the folder name: a cached folder of an older layout
    # (e.g. without train.py) is never reused.
    out = Path(tempfile.gettempdir()) / "cdk-mlops-bundles" / f"{version}-{_LAYOUT}"
    zip_path, tar_path = out / "pipeline_code.zip", out / "sourcedir.tar.gz"
    glue_path = out / "glue_entry.py"
    if not (zip_path.exists() and tar_path.exists() and glue_path.exists()):
        out.mkdir(parents=True, exist_ok=True)
        for path, data in (
            (zip_path, _zip(files)),
            (tar_path, _tar_gz([*shims, *files])),
            (glue_path, GLUE_SHIM.format(package=root.name).encode()),
        ):
            tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic rename: parallel synths never see half a bundle
    return CodeBundles(
        zip_path=zip_path, sourcedir_path=tar_path, code_version=version, glue_entry_path=glue_path
    )
