"""Independent checkers for pipeline definitions, used by the tests.

- ``validate_request``: walks a botocore *input* shape (CreateProcessingJob, CreateTrainingJob,
  CreateModelPackage): structure members, required members, lists, maps, enums, string
  patterns and lengths, number ranges. Pipeline expressions and CDK tokens are first replaced
  by typed placeholders (``substitute``); a placeholder satisfies a member of its own type only,
  and its string value (unknown at build time) skips pattern and length checks.
- ``schema_errors``: the published (stale) pipeline-definition JSON schema, per step type.

Deliberately written against botocore and jsonschema directly, not through the builder, so the
builder is checked by something it does not share code with.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.model
import jsonschema

try:  # botocore patterns use Java classes such as \p{L}; `regex` understands them.
    import regex as _regex_module
except ImportError:  # pragma: no cover - regex comes with cfn-lint in the dev environment
    _regex_module = None

SCHEMA_PATH = (
    # AWS's published pipeline-definition schema (April 2025), copied from the project's shared/
    # folder so the tests do not depend on a folder outside the repository.
    Path(__file__).resolve().parent / "data" / "sagemaker-pipeline-definition.schema.json"
)

# The operation each step type's Arguments are the request of, and the request members the
# pipeline itself fills in at run time (so they are absent from a definition).
OPERATIONS: dict[str, tuple[str, frozenset[str]]] = {
    "Processing": ("CreateProcessingJob", frozenset({"ProcessingJobName"})),
    "Training": ("CreateTrainingJob", frozenset({"TrainingJobName"})),
    "Tuning": ("CreateHyperParameterTuningJob", frozenset({"HyperParameterTuningJobName"})),
    "RegisterModel": ("CreateModelPackage", frozenset()),
}
# The Describe response each step type's properties come from.
PROPERTY_SHAPES = {
    "Processing": "DescribeProcessingJobResponse",
    "Training": "DescribeTrainingJobResponse",
    "RegisterModel": "DescribeModelPackageOutput",
}
# A tuning step's properties come from two responses, chosen here by the path's first field.
TUNING_LIST_FIELDS = frozenset({"TrainingJobSummaries", "NextToken"})
_SCALARS = {
    "string": "String",
    "integer": "Integer",
    "long": "Integer",
    "float": "Float",
    "double": "Float",
    "boolean": "Boolean",
    "timestamp": "String",
}
_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")
_SEGMENT = re.compile(r"\.([A-Za-z0-9]+)|\[(\d+)\]|\['([^']*)'\]")


@functools.cache
def service_model() -> botocore.model.ServiceModel:
    """SageMaker's botocore model."""
    loader = botocore.loaders.Loader()
    return botocore.model.ServiceModel(
        loader.load_service_model("sagemaker", "service-2"), "sagemaker"
    )


@dataclass(frozen=True)
class Placeholder:
    """Stands for a value only known at run or deploy time."""

    type_name: str | None  # String/Integer/Float/Boolean, None = any scalar
    source: str


def _property_type(step_type: str, path: str) -> str:
    """Type of ``Steps.<x>.<path>`` walked through botocore's output shape (raises if absent)."""
    if step_type == "Tuning":
        first = re.split(r"[.\[]", path, maxsplit=1)[0]
        root = (
            "ListTrainingJobsForHyperParameterTuningJobResponse"
            if first in TUNING_LIST_FIELDS
            else "DescribeHyperParameterTuningJobResponse"
        )
    else:
        root = PROPERTY_SHAPES[step_type]
    shape = service_model().shape_for(root)
    text = "." + path
    pos = 0
    while pos < len(text):
        m = _SEGMENT.match(text, pos)
        assert m, f"malformed property path {path!r}"
        name = m.group(1)
        if name is not None:
            assert shape.type_name == "structure" and name in shape.members, (
                f"{path!r}: no member {name!r} in {shape.name}"
            )
            shape = shape.members[name]
        elif shape.type_name == "list":
            shape = shape.member
        else:
            assert shape.type_name == "map", f"{path!r}: cannot index {shape.name}"
            shape = shape.value
        pos = m.end()
    assert shape.type_name in _SCALARS, f"{path!r} is a {shape.type_name}, not a value"
    return _SCALARS[shape.type_name]


def substitute(node: Any, *, parameters: dict[str, str], step_types: dict[str, str]) -> Any:
    """Replace Get / Std:Join / Std:JsonGet and CDK-token strings by typed placeholders."""
    if isinstance(node, dict):
        if set(node) == {"Get"}:
            head, _, rest = node["Get"].partition(".")
            if head == "Parameters":
                return Placeholder(parameters[rest], node["Get"])
            if head == "Execution":
                return Placeholder("String", node["Get"])
            step, _, path = rest.partition(".")
            return Placeholder(_property_type(step_types[step], path), node["Get"])
        if set(node) == {"Std:Join"}:
            return Placeholder("String", "Std:Join")
        if set(node) == {"Std:JsonGet"}:
            return Placeholder(None, "Std:JsonGet")
        return {
            k: substitute(v, parameters=parameters, step_types=step_types) for k, v in node.items()
        }
    if isinstance(node, list):
        return [substitute(v, parameters=parameters, step_types=step_types) for v in node]
    if isinstance(node, str) and _TOKEN.search(node):
        return Placeholder("String", "CDK token")
    return node


class _Patterns:
    """Compiles botocore patterns once; remembers the ones neither engine understands."""

    def __init__(self) -> None:
        self.cache: dict[str, Any] = {}
        self.unsupported: set[str] = set()

    def fullmatch(self, pattern: str, value: str) -> bool | None:
        if pattern not in self.cache:
            compiled: Any = None
            for engine in (_regex_module, re):
                if engine is None:
                    continue
                try:
                    compiled = engine.compile(pattern)
                    break
                except Exception:
                    continue
            self.cache[pattern] = compiled
            if compiled is None:
                self.unsupported.add(pattern)
        compiled = self.cache[pattern]
        if compiled is None:
            return None
        return compiled.fullmatch(value) is not None


PATTERNS = _Patterns()


def _check_scalar(value: Any, shape: Any, where: str, errors: list[str]) -> None:
    expected = _SCALARS[shape.type_name]
    if isinstance(value, Placeholder):
        if value.type_name is None:
            return
        ok = value.type_name == expected or (expected == "Float" and value.type_name == "Integer")
        if not ok:
            errors.append(f"{where}: {value.source} is a {value.type_name}, expected {expected}")
        return
    meta = shape.metadata
    if expected == "String":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string, got {value!r}")
            return
        if shape.enum and value not in shape.enum:
            errors.append(f"{where}: {value!r} not in enum {shape.name}")
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"{where}: shorter than {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{where}: longer than {meta['max']}")
        if "pattern" in meta and PATTERNS.fullmatch(meta["pattern"], value) is False:
            errors.append(f"{where}: {value!r} does not match {meta['pattern']!r}")
    elif expected == "Boolean":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected a boolean, got {value!r}")
    else:
        numeric = (int,) if expected == "Integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, numeric):
            errors.append(f"{where}: expected {expected}, got {value!r}")
            return
        if "min" in meta and value < meta["min"]:
            errors.append(f"{where}: {value} below minimum {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(f"{where}: {value} above maximum {meta['max']}")


def _walk(
    value: Any, shape: Any, where: str, errors: list[str], skip_required: frozenset[str]
) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object ({shape.name}), got {value!r}")
            return
        for key in value:
            if key not in shape.members:
                errors.append(f"{where}: unknown member {key!r} of {shape.name}")
        for req in shape.required_members:
            if req not in value and req not in skip_required:
                errors.append(f"{where}: missing required member {req!r} of {shape.name}")
        for key, sub in value.items():
            if key in shape.members:
                _walk(sub, shape.members[key], f"{where}.{key}", errors, frozenset())
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list ({shape.name}), got {value!r}")
            return
        meta = shape.metadata
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"{where}: fewer than {meta['min']} items")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{where}: more than {meta['max']} items")
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{where}[{i}]", errors, frozenset())
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a map ({shape.name}), got {value!r}")
            return
        meta = shape.metadata
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"{where}: fewer than {meta['min']} entries")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{where}: more than {meta['max']} entries")
        for key, sub in value.items():
            _check_scalar(key, shape.key, f"{where} key {key!r}", errors)
            _walk(sub, shape.value, f"{where}[{key!r}]", errors, frozenset())
    elif kind in _SCALARS:
        _check_scalar(value, shape, where, errors)
    else:  # blob etc.: not used by pipeline steps
        errors.append(f"{where}: unsupported shape type {kind}")


def validate_request(
    arguments: Any, operation: str, *, skip_required: frozenset[str] = frozenset()
) -> list[str]:
    """Errors of ``arguments`` (placeholders substituted) against ``operation``'s input shape."""
    errors: list[str] = []
    shape = service_model().operation_model(operation).input_shape
    _walk(arguments, shape, operation, errors, skip_required)
    return errors


def iter_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All step dicts, condition branches included."""
    out: list[dict[str, Any]] = []
    for step in steps:
        out.append(step)
        if step["Type"] == "Condition":
            out += iter_steps(step["Arguments"].get("IfSteps", []))
            out += iter_steps(step["Arguments"].get("ElseSteps", []))
    return out


def validate_definition_requests(definition: dict[str, Any]) -> dict[str, list[str]]:
    """Per job step name: botocore request errors of its Arguments."""
    parameters = {p["Name"]: p["Type"] for p in definition.get("Parameters", [])}
    steps = iter_steps(definition["Steps"])
    step_types = {s["Name"]: s["Type"] for s in steps}
    result: dict[str, list[str]] = {}
    for step in steps:
        if step["Type"] not in OPERATIONS:
            continue
        operation, skip = OPERATIONS[step["Type"]]
        args = substitute(step["Arguments"], parameters=parameters, step_types=step_types)
        result[step["Name"]] = validate_request(args, operation, skip_required=skip)
    return result


# ------------------------------------------------------------------------------ JSON schema


@functools.cache
def pipeline_schema() -> dict[str, Any]:
    """AWS's published pipeline-definition schema (April 2025)."""
    result: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return result


def _schema_for(definition_name: str | None) -> jsonschema.Draft7Validator:
    schema = pipeline_schema()
    if definition_name is None:
        target: dict[str, Any] = schema
    else:
        target = {"definitions": schema["definitions"], "$ref": f"#/definitions/{definition_name}"}
    return jsonschema.Draft7Validator(target)


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: where (a dotted path), which keyword, the message."""

    scope: str  # "Pipeline" or the step type
    path: str
    keyword: str
    message: str


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def schema_errors(definition: dict[str, Any]) -> list[SchemaError]:
    """Errors of the top level (steps emptied) and of each step against its type's schema.

    Condition steps are checked with empty branches; their branch steps are checked on their
    own, so an error is reported once, under its own step type.
    """
    found: list[SchemaError] = []
    top = {**definition, "Steps": []}
    for err in _schema_for(None).iter_errors(top):
        found.append(SchemaError("Pipeline", _path(err), str(err.validator), err.message))
    for step in iter_steps(definition["Steps"]):
        doc = copy.deepcopy(step)
        if doc["Type"] == "Condition":
            doc["Arguments"]["IfSteps"] = []
            doc["Arguments"]["ElseSteps"] = []
        for err in _schema_for(f"{step['Type']}Step").iter_errors(doc):
            found.append(SchemaError(step["Type"], _path(err), str(err.validator), err.message))
    return found
