"""Pipeline expressions (``Get``, ``Std:Join``, ``Std:JsonGet``), parameters and conditions.

These are the functions of the pipeline definition language (version 2020-12-01) that SageMaker
evaluates while an execution runs. Anything else in a ``Std:`` or ``Get`` form is refused, and
so is a property path or a JSON path that leads nowhere: the error names the step and the field
that holds the expression.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdk_mlops.executor.errors import ExecutorError

#: The execution variables (``Execution.<name>``) SageMaker offers.
EXECUTION_VARIABLES = (
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "StartDateTime",
    "CurrentDateTime",
)
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
#: Keys of list elements that ``['name']`` selects by (``Outputs['train']``).
_NAME_KEYS = ("OutputName", "InputName", "ChannelName", "MetricName", "Name")


def parse_path(path: str) -> list[str | int]:
    """``A.B['c'][0]`` -> ``['A', 'B', 'c', 0]``; raises ValueError for anything else."""
    out: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m or m.end() == pos or (pos == 0 and path.startswith(".")):
            raise ValueError(f"cannot read {path!r} at character {pos} ({path[pos:]!r})")
        name, index, key, key2 = m.groups()
        out.append(int(index) if index is not None else (name or key or key2 or ""))
        pos = m.end()
    return out


def navigate(root: Any, tokens: Sequence[str | int]) -> Any:
    """Follow ``tokens`` through dicts and lists; raises KeyError saying where it stopped."""
    node = root
    for depth, token in enumerate(tokens):
        here = ".".join(str(t) for t in tokens[:depth]) or "(root)"
        if isinstance(token, int):
            if not isinstance(node, list) or not -len(node) <= token < len(node):
                raise KeyError(f"no element [{token}] under {here}")
            node = node[token]
        elif isinstance(node, dict):
            if token not in node:
                raise KeyError(f"no {token!r} under {here}; there: {sorted(node)}")
            node = node[token]
        elif isinstance(node, list):
            matches = [
                e
                for e in node
                if isinstance(e, dict) and any(e.get(k) == token for k in _NAME_KEYS)
            ]
            if not matches:
                names = [
                    next((e[k] for k in _NAME_KEYS if k in e), None)
                    for e in node
                    if isinstance(e, dict)
                ]
                raise KeyError(f"no element named {token!r} under {here}; names there: {names}")
            node = matches[0]
        else:
            raise KeyError(f"{here} is a {type(node).__name__}, it has no {token!r}")
    return node


def is_expression(value: Any) -> bool:
    """A one-key dict whose key is ``Get`` or a ``Std:`` function."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and (next(iter(value)) == "Get" or str(next(iter(value))).startswith("Std:"))
    )


def references(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every ``(Get path, field)`` inside ``value`` (property files included)."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from references(v, f"{where}[{i}]")
    elif isinstance(value, dict):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            yield value["Get"], where
            return
        for k, v in value.items():
            yield from references(v, f"{where}.{k}" if where else k)


def step_references(value: Any) -> set[str]:
    """Names of the steps ``value`` reads properties of."""
    return {path.split(".")[1] for path, _ in references(value) if path.startswith("Steps.")}


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter: its type, default and allowed values."""

    name: str
    type: str
    default: Any = None
    enum_values: tuple[Any, ...] | None = None

    def coerce(self, raw: Any, source: str) -> Any:
        """``raw`` (a string from the command line, or a typed default) as the parameter type."""
        where = f"parameter {self.name} ({self.type}, {source})"
        try:
            if self.type == "String":
                value: Any = str(raw)
            elif self.type == "Integer":
                if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                    raise ValueError
                value = int(raw)
            elif self.type == "Float":
                if isinstance(raw, bool):
                    raise ValueError
                value = float(raw)
                if not math.isfinite(value):
                    raise ValueError
            else:  # Boolean
                if isinstance(raw, bool):
                    value = raw
                elif str(raw).lower() in ("true", "false"):
                    value = str(raw).lower() == "true"
                else:
                    raise ValueError
        except (TypeError, ValueError):
            raise ExecutorError(f"{where}: {raw!r} is not a valid {self.type}") from None
        if self.enum_values is not None and value not in self.enum_values:
            raise ExecutorError(
                f"{where}: {value!r} is not one of the allowed values {list(self.enum_values)}"
            )
        return value


def parse_parameters(definition: Mapping[str, Any]) -> dict[str, Parameter]:
    """The definition's ``Parameters``, checked."""
    out: dict[str, Parameter] = {}
    for i, raw in enumerate(definition.get("Parameters") or []):
        where = f"Parameters[{i}]"
        if not isinstance(raw, dict) or "Name" not in raw:
            raise ExecutorError(f"{where}: a parameter needs a Name")
        kind = raw.get("Type", "String")
        if kind not in PARAMETER_TYPES:
            raise ExecutorError(
                f"{where} ({raw['Name']}): type {kind!r} is not one of {list(PARAMETER_TYPES)}"
            )
        enum = raw.get("EnumValues")
        out[raw["Name"]] = Parameter(
            name=raw["Name"],
            type=kind,
            default=raw.get("DefaultValue"),
            enum_values=tuple(enum) if enum is not None else None,
        )
    return out


def parameter_values(
    parameters: Mapping[str, Parameter], overrides: Mapping[str, str]
) -> dict[str, Any]:
    """Each parameter's value: the override, else the default; refuses unknown names."""
    unknown = sorted(set(overrides) - set(parameters))
    if unknown:
        raise ExecutorError(
            f"--parameter {', '.join(unknown)}: not a parameter of this pipeline; it has "
            f"{sorted(parameters)}"
        )
    values: dict[str, Any] = {}
    for name, p in parameters.items():
        if name in overrides:
            values[name] = p.coerce(overrides[name], "--parameter")
        elif p.default is not None:
            values[name] = p.coerce(p.default, "DefaultValue")
        else:
            raise ExecutorError(
                f"parameter {name} has no DefaultValue; pass --parameter {name}=<value>"
            )
    return values


@dataclass
class Context:
    """What expressions read while an execution runs.

    ``properties`` holds the describe response of each finished step; ``property_file``
    loads (step, property file name) -> parsed JSON.
    """

    parameters: Mapping[str, Any]
    execution: Mapping[str, str]
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    property_file: Callable[[str, str], Any] | None = None

    def evaluate(self, value: Any, *, step: str, where: str) -> Any:
        """``value`` with every expression replaced by its value."""
        if isinstance(value, list):
            return [self.evaluate(v, step=step, where=f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if is_expression(value):
            ((fn, arg),) = value.items()
            if fn == "Get":
                return self.get(arg, step=step, where=where)
            if fn == "Std:Join":
                return self._join(arg, step=step, where=where)
            if fn == "Std:JsonGet":
                return self._json_get(arg, step=step, where=where)
            raise ExecutorError(
                f"unknown function {fn} (the executor evaluates Get, Std:Join and Std:JsonGet)",
                step=step,
                field=where,
            )
        return {
            k: self.evaluate(v, step=step, where=f"{where}.{k}" if where else k)
            for k, v in value.items()
        }

    def get(self, path: Any, *, step: str, where: str) -> Any:
        if not isinstance(path, str):
            raise ExecutorError(f"Get takes a string, got {path!r}", step=step, field=where)
        head, _, rest = path.partition(".")
        if head == "Parameters":
            if rest not in self.parameters:
                raise ExecutorError(
                    f"Get {path}: no parameter {rest!r}; parameters: {sorted(self.parameters)}",
                    step=step,
                    field=where,
                )
            return self.parameters[rest]
        if head == "Execution":
            if rest not in self.execution:
                raise ExecutorError(
                    f"Get {path}: unknown execution variable; known: {list(EXECUTION_VARIABLES)}",
                    step=step,
                    field=where,
                )
            return self.execution[rest]
        if head == "Steps":
            name, _, prop = rest.partition(".")
            if name not in self.properties:
                raise ExecutorError(
                    f"Get {path}: step {name!r} has not run before this one (no such step, or "
                    "it is not upstream of it)",
                    step=step,
                    field=where,
                )
            if prop.startswith("PropertyFiles."):
                raise ExecutorError(
                    f"Get {path}: a property file is read through Std:JsonGet, not Get",
                    step=step,
                    field=where,
                )
            try:
                return navigate(self.properties[name], parse_path(prop))
            except (KeyError, ValueError) as exc:
                raise ExecutorError(
                    f"Get {path}: step {name} has no such property ({exc.args[0]})",
                    step=step,
                    field=where,
                ) from None
        raise ExecutorError(
            f"Get {path}: expected Parameters.<name>, Execution.<variable> or Steps.<step>.<property>",
            step=step,
            field=where,
        )

    def _join(self, arg: Any, *, step: str, where: str) -> str:
        if not isinstance(arg, dict) or "Values" not in arg:
            raise ExecutorError("Std:Join needs On and Values", step=step, field=where)
        values = self.evaluate(arg["Values"], step=step, where=f"{where}.Std:Join.Values")
        parts = []
        for i, v in enumerate(values):
            if isinstance(v, dict | list):
                raise ExecutorError(
                    f"Std:Join value [{i}] is not a primitive ({json.dumps(v)[:80]})",
                    step=step,
                    field=where,
                )
            parts.append(json.dumps(v) if isinstance(v, bool) else str(v))
        return str(arg.get("On", "")).join(parts)

    def _json_get(self, arg: Any, *, step: str, where: str) -> Any:
        if not isinstance(arg, dict) or "Path" not in arg or "PropertyFile" not in arg:
            raise ExecutorError(
                "Std:JsonGet needs PropertyFile and Path (the S3Uri form is not supported)",
                step=step,
                field=where,
            )
        ref = arg["PropertyFile"]
        path = arg["Path"]
        ref_path = ref.get("Get") if isinstance(ref, dict) else None
        parts = str(ref_path).split(".")
        if len(parts) != 4 or parts[0] != "Steps" or parts[2] != "PropertyFiles":
            raise ExecutorError(
                f"Std:JsonGet PropertyFile must be Get Steps.<step>.PropertyFiles.<name>, got {ref!r}",
                step=step,
                field=where,
            )
        source, name = parts[1], parts[3]
        if source not in self.properties or self.property_file is None:
            raise ExecutorError(
                f"Std:JsonGet reads property file {name} of step {source!r}, which has not run "
                "before this one",
                step=step,
                field=where,
            )
        document, described = self.property_file(source, name)
        try:
            return navigate(document, parse_path(str(path)))
        except (KeyError, ValueError) as exc:
            raise ExecutorError(
                f"Std:JsonGet path {path!r} is not in property file {name} ({described} of step "
                f"{source}): {exc.args[0]}",
                step=step,
                field=where,
            ) from None


# ----------------------------------------------------------------------- conditions
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: bool(a == b),
    "GreaterThan": lambda a, b: bool(a > b),
    "GreaterThanOrEqualTo": lambda a, b: bool(a >= b),
    "LessThan": lambda a, b: bool(a < b),
    "LessThanOrEqualTo": lambda a, b: bool(a <= b),
}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def evaluate_condition(condition: Any, ctx: Context, *, step: str, where: str) -> bool:
    """One entry of a Condition step's ``Conditions``."""
    if not isinstance(condition, dict) or "Type" not in condition:
        raise ExecutorError("a condition needs a Type", step=step, field=where)
    kind = condition["Type"]
    if kind in _COMPARISONS:
        left = ctx.evaluate(condition.get("LeftValue"), step=step, where=f"{where}.LeftValue")
        right = ctx.evaluate(condition.get("RightValue"), step=step, where=f"{where}.RightValue")
        comparable = (_number(left) and _number(right)) or (
            isinstance(left, str) and isinstance(right, str)
        )
        if kind != "Equals" and not comparable:
            raise ExecutorError(
                f"{kind} compares {left!r} ({type(left).__name__}) with {right!r} "
                f"({type(right).__name__}); both must be numbers (or both strings)",
                step=step,
                field=where,
            )
        return _COMPARISONS[kind](left, right)
    if kind == "In":
        query = ctx.evaluate(condition.get("QueryValue"), step=step, where=f"{where}.QueryValue")
        values = ctx.evaluate(condition.get("Values"), step=step, where=f"{where}.Values")
        return query in values
    if kind == "Not":
        return not evaluate_condition(
            condition.get("Expression"), ctx, step=step, where=f"{where}.Expression"
        )
    if kind == "Or":
        return any(
            evaluate_condition(c, ctx, step=step, where=f"{where}.Conditions[{i}]")
            for i, c in enumerate(condition.get("Conditions") or [])
        )
    raise ExecutorError(
        f"condition type {kind!r} is not one of {[*_COMPARISONS, 'In', 'Not', 'Or']}",
        step=step,
        field=where,
    )
