"""Put the serving code into the model: ``<model_dir>/code/`` ends up inside ``model.tar.gz``.

A registered model must not depend on anything outside its own artifacts: not on the CDK
bootstrap bucket (``cdk gc`` deletes unreferenced assets), not on the internet (serving runs in
a VPC without it). The SageMaker scikit-learn serving container imports ``SAGEMAKER_PROGRAM``
from ``SAGEMAKER_SUBMIT_DIRECTORY``; with ``/opt/ml/model/code`` (where SageMaker extracts
``model.tar.gz``'s ``code/`` folder) the code travels with the model, which is the layout the
SageMaker Python SDK's repack produces for framework models.

What is copied: an ``inference.py`` entry point at the root, and the modules of this package that
``<package>.inference.handler`` imports, found by reading their ``import`` statements (so a
change to the handler's imports is followed, and tests, ETL or training code are left out).
No ``requirements.txt`` is ever written: the serving containers pip-install one when they find
it in the code directory, which fails (or hangs) without internet access.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Sequence
from pathlib import Path

CODE_DIR = "code"
ENTRY_POINT = "inference.py"
HANDLER_MODULE = "inference.handler"
ENTRY_POINT_SOURCE = (
    '"""Entry point for the SageMaker scikit-learn container (SAGEMAKER_PROGRAM)."""\n'
    "from {package}.{handler} import input_fn, model_fn, output_fn, predict_fn\n\n"
    '__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]\n'
)
#: Files the serving containers would act on (pip install) if they were in the code directory.
FORBIDDEN_FILES: tuple[str, ...] = ("requirements.txt",)

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _module_file(package_root: Path, module: str) -> Path | None:
    """The source file of ``<package>.<module>`` ("" = the package itself), if there is one."""
    base = package_root.joinpath(*module.split(".")) if module else package_root
    if module and base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    init = base / "__init__.py"
    return init if init.is_file() else None


def _imported_modules(source: Path, package: str, module: str) -> set[str]:
    """Names (relative to ``package``) that ``source`` imports, anywhere in the file.

    ``from pkg.a import b`` yields ``a`` and ``a.b`` (``b`` may be a module); names that are no
    module are dropped by the caller.
    """
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    parent = module if source.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def add(absolute: str) -> None:
        if absolute == package:
            found.add("")
        elif absolute.startswith(f"{package}."):
            found.add(absolute[len(package) + 1 :])

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = [package, *parent.split(".")] if parent else [package]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                target = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                target = node.module or ""
            add(target)
            for alias in node.names:
                add(f"{target}.{alias.name}")
    return found


def inference_modules(
    package_root: Path = PACKAGE_ROOT, extra_modules: Sequence[str] = ()
) -> list[str]:
    """Relative paths (under the package) of the handler's module closure, ``__init__``s
    included; ``extra_modules`` (relative dotted names) and their closures too, e.g. the module
    of a pickled model class the handler does not import itself."""
    package = package_root.name
    todo = [HANDLER_MODULE, *extra_modules]
    seen: set[str] = set()
    files: set[Path] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        source = _module_file(package_root, module)
        if source is None:
            continue  # `from pkg.mod import name`: `pkg.mod.name` is not a module
        files.add(source)
        parts = module.split(".") if module else []
        todo.extend(".".join(parts[:i]) for i in range(len(parts)))  # parent packages
        todo.extend(_imported_modules(source, package, module))
    if _module_file(package_root, HANDLER_MODULE) is None:
        raise FileNotFoundError(
            f"{package_root / 'inference' / 'handler.py'} does not exist; the model's serving code "
            f"is {package}.{HANDLER_MODULE} (model_fn, input_fn, predict_fn, output_fn)"
        )
    return sorted(f.relative_to(package_root).as_posix() for f in files)


def copy_inference_code(
    model_dir: str | Path, package_root: Path = PACKAGE_ROOT, extra_modules: Sequence[str] = ()
) -> Path:
    """Write ``<model_dir>/code/`` (entry point + the handler's modules, and
    ``extra_modules``') and return its path."""
    root = Path(package_root).resolve()
    code = Path(model_dir) / CODE_DIR
    if code.exists():
        shutil.rmtree(code)
    target = code / root.name
    for rel in inference_modules(root, extra_modules):
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, dest)
    (code / ENTRY_POINT).write_text(
        ENTRY_POINT_SOURCE.format(package=root.name, handler=HANDLER_MODULE), encoding="utf-8"
    )
    for name in FORBIDDEN_FILES:
        found = sorted(code.rglob(name))
        if found:
            raise RuntimeError(f"{found[0]} must not be in the model's code directory")
    return code
