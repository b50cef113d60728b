"""pipeline_code needs nothing newer than Python 3.10: the SageMaker scikit-learn image "1.4-2".

The default image, 1.9-0, runs Python 3.12, and make test runs pipeline_code's tests on 3.12
in .venv-container (requirements/container-sklearn-1.9-0.txt). The older 1.4-2 image (Python
3.10) is still offered; its tests run only with make container-test-1.4-2, so these checks read
the source on every run instead. Three layers, each catching what the others cannot:

- the 3.10 grammar: ``ast.parse(..., feature_version=(3, 10))`` rejects ``except*``; star
  expressions in subscripts and ``*args: *Ts`` (PEP 646) are looked for in the tree;
- a list of standard-library names added in 3.11+ (``datetime.UTC``, ``enum.StrEnum``,
  ``typing.Self``, ``tomllib``, ...), looked up through the imports of each file;
- vermin (in the dev extra and the container environments), which knows every stdlib module,
  member and keyword argument by version.

make typecheck also runs mypy with --python-version 3.10 and 3.12 over pipeline_code. The
1.4-2 libraries (numpy 2.1, scikit-learn 1.4.2, pandas 2.2) are checked by running the tests in
.venv-container-1.4-2 (requirements/container-sklearn-1.4-2.txt).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pipeline_code"
TARGET = (3, 10)

# Standard-library names that appeared after 3.10: {module: {name: version}}. Not exhaustive
# (vermin is), but it covers what code like ours reaches for. "builtins" are bare names.
NEWER_NAMES: dict[str, dict[str, tuple[int, int]]] = {
    "asyncio": {n: (3, 11) for n in ("TaskGroup", "timeout", "timeout_at", "Runner", "Barrier")},
    "builtins": {"ExceptionGroup": (3, 11), "BaseExceptionGroup": (3, 11)},
    "collections.abc": {"Buffer": (3, 12)},
    "contextlib": {"chdir": (3, 11)},
    "datetime": {"UTC": (3, 11)},
    "enum": {
        **{
            n: (3, 11)
            for n in (
                "StrEnum",
                "ReprEnum",
                "EnumCheck",
                "FlagBoundary",
                "verify",
                "member",
                "nonmember",
                "global_enum",
                "show_flag_values",
                "EnumType",
            )
        },
    },
    "hashlib": {"file_digest": (3, 11)},
    "http": {"HTTPMethod": (3, 11)},
    "inspect": {"getmembers_static": (3, 11), "markcoroutinefunction": (3, 12)},
    "itertools": {"batched": (3, 12)},
    "logging": {"getLevelNamesMapping": (3, 11), "getHandlerByName": (3, 12)},
    "math": {"cbrt": (3, 11), "exp2": (3, 11), "sumprod": (3, 12), "fma": (3, 13)},
    "operator": {"call": (3, 11)},
    "re": {"NOFLAG": (3, 11), "PatternError": (3, 13)},
    "sys": {"exception": (3, 11), "monitoring": (3, 12)},
    "typing": {
        **{
            n: (3, 11)
            for n in (
                "Self",
                "LiteralString",
                "Never",
                "assert_never",
                "assert_type",
                "reveal_type",
                "Required",
                "NotRequired",
                "TypeVarTuple",
                "Unpack",
                "dataclass_transform",
                "get_overloads",
                "clear_overloads",
            )
        },
        "override": (3, 12),
        "TypeAliasType": (3, 12),
        "ReadOnly": (3, 13),
        "TypeIs": (3, 13),
    },
}
NEWER_MODULES: dict[str, tuple[int, int]] = {"tomllib": (3, 11), "wsgiref.types": (3, 11)}
# Methods added in 3.11+ whose owner type the AST cannot know; the names are distinctive.
NEWER_METHODS: dict[str, tuple[int, int]] = {"add_note": (3, 11)}


def _sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30, f"found only {len(files)} files under {PACKAGE}"
    return files


def _newer_uses(tree: ast.AST) -> Iterator[str]:
    """``"line N: module.name (3.x)"`` for each 3.11+ standard-library name the code uses."""
    aliases: dict[str, str] = {}  # local name -> module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in NEWER_MODULES:
                    yield f"line {node.lineno}: import {a.name} {NEWER_MODULES[a.name]}"
                aliases[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in NEWER_MODULES:
                yield f"line {node.lineno}: from {node.module} {NEWER_MODULES[node.module]}"
            newer = NEWER_NAMES.get(node.module, {})
            for a in node.names:
                if a.name in newer:
                    yield f"line {node.lineno}: {node.module}.{a.name} {newer[a.name]}"
                full = f"{node.module}.{a.name}"
                if full in NEWER_MODULES:
                    yield f"line {node.lineno}: {full} {NEWER_MODULES[full]}"
                aliases.setdefault(a.asname or a.name, full)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr in NEWER_METHODS:
                yield f"line {node.lineno}: .{node.attr}() {NEWER_METHODS[node.attr]}"
            if isinstance(node.value, ast.Name) and node.value.id in aliases:
                module = aliases[node.value.id]
                newer = NEWER_NAMES.get(module, {})
                if node.attr in newer:
                    yield f"line {node.lineno}: {module}.{node.attr} {newer[node.attr]}"
        elif (
            isinstance(node, ast.Name)
            and node.id in NEWER_NAMES["builtins"]
            and node.id not in aliases
        ):
            yield f"line {node.lineno}: {node.id} {NEWER_NAMES['builtins'][node.id]}"
        # PEP 646 syntax, which feature_version=(3, 10) does not reject by itself
        elif isinstance(node, ast.Subscript):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if any(isinstance(p, ast.Starred) for p in parts):
                yield f"line {node.lineno}: star expression in a subscript (3, 11)"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            vararg = node.args.vararg
            if vararg is not None and isinstance(vararg.annotation, ast.Starred):
                yield f"line {node.lineno}: *args: *Ts annotation (3, 11)"


def _check(source: str, path: str = "<snippet>") -> list[str]:
    """Problems of one source text for Python 3.10: syntax first, then newer stdlib names."""
    try:
        tree = ast.parse(source, filename=path, feature_version=TARGET)
    except SyntaxError as exc:
        return [f"line {exc.lineno}: needs newer syntax than 3.10 ({exc.msg})"]
    return list(_newer_uses(tree))


def test_pipeline_code_parses_and_imports_as_python_310() -> None:
    problems = {
        str(f.relative_to(ROOT)): found
        for f in _sources()
        if (found := _check(f.read_text(encoding="utf-8"), str(f)))
    }
    assert problems == {}, (
        "pipeline_code must run on Python 3.10 (SageMaker scikit-learn 1.4-2); "
        "use pipeline_code.compat (e.g. compat.UTC for datetime.UTC) or a 3.10 spelling"
    )


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("import datetime as dt\nx = dt.datetime.now(dt.UTC)\n", "datetime.UTC (3, 11)"),
        ("from datetime import UTC, datetime\n", "datetime.UTC (3, 11)"),
        ("import datetime\nx = datetime.UTC\n", "datetime.UTC (3, 11)"),
        ("from enum import StrEnum\n", "enum.StrEnum (3, 11)"),
        ("import enum\nclass A(enum.StrEnum): ...\n", "enum.StrEnum (3, 11)"),
        ("from typing import Self\n", "typing.Self (3, 11)"),
        ("import typing as t\ndef f() -> t.Never: ...\n", "typing.Never (3, 11)"),
        ("import tomllib\n", "import tomllib (3, 11)"),
        ("from tomllib import loads\n", "from tomllib (3, 11)"),
        ("from wsgiref import types\n", "wsgiref.types (3, 11)"),
        ("from itertools import batched\n", "itertools.batched (3, 12)"),
        ("raise ExceptionGroup('x', [])\n", "ExceptionGroup (3, 11)"),
        ("try:\n    pass\nexcept* ValueError:\n    pass\n", "newer syntax"),
        ("def f(*a: *tuple[int, ...]): ...\n", "*args: *Ts annotation (3, 11)"),
        ("x: tuple[*Ts]\n", "star expression in a subscript (3, 11)"),
        ("y = a[1, *b]\n", "star expression in a subscript (3, 11)"),
        ("try:\n    pass\nexcept Exception as e:\n    e.add_note('x')\n", ".add_note() (3, 11)"),
        ("import hashlib\nhashlib.file_digest(f, 'sha256')\n", "hashlib.file_digest (3, 11)"),
    ],
)
def test_the_check_finds_311_features(snippet: str, expected: str) -> None:
    found = _check(snippet)
    # Run on Python 3.10 itself (.venv-container-1.4-2), ast.parse rejects 3.11 syntax outright.
    accepted = (expected, "newer syntax") if sys.version_info < (3, 11) else (expected,)
    assert any(e in p for p in found for e in accepted), found


@pytest.mark.parametrize(
    "snippet",
    [
        "import datetime as dt\nx = dt.timezone.utc\n",
        "from pipeline_code.compat import UTC\n",  # a name of ours, not datetime's
        "match x:\n    case 1:\n        pass\n",  # 3.10 syntax is fine
        "def f(a: int | None) -> list[int]: ...\n",
        "with (open('a') as f, open('b') as g):\n    pass\n",
        "from enum import Enum\nclass E(str, Enum):\n    A = 'a'\n",
    ],
)
def test_the_check_accepts_310_code(snippet: str) -> None:
    assert _check(snippet) == []


def test_vermin_agrees_that_python_310_is_enough() -> None:
    """vermin's full tables (modules, members, keyword arguments, syntax) for every file."""
    vermin = pytest.importorskip(
        "vermin", reason="vermin is not installed (dev extra, container environments)"
    )
    config = vermin.Config()
    config.set_eval_annotations(True)
    too_new = {}
    for f in _sources():
        mins = vermin.detect(f.read_text(encoding="utf-8"), config, str(f))
        if mins[1] is not None and mins[1] != 0 and tuple(mins[1]) > TARGET:
            too_new[str(f.relative_to(ROOT))] = mins[1]
    assert too_new == {}
    # and vermin does see the difference: datetime.UTC needs 3.11
    assert tuple(vermin.detect("import datetime\nx = datetime.UTC\n", config)[1]) == (3, 11)
