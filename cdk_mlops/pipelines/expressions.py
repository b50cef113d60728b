"""Pipeline parameters and expressions (``Get``, ``Std:Join``, ``Std:JsonGet``).

Everything here renders to the JSON forms SageMaker Pipelines evaluates at run time:

- a parameter: ``{"Get": "Parameters.<name>"}``
- an execution variable: ``{"Get": "Execution.PipelineExecutionId"}``
- a step property: ``{"Get": "Steps.<step>.<path>"}``, the path checked against botocore
- ``Join``: ``{"Std:Join": {"On": "/", "Values": [...]}}``
- ``JsonGet``: ``{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.<step>.PropertyFiles.<name>"},
  "Path": "..."}}``

Plain strings may contain CDK tokens (``${Token[...]}``), e.g. an asset URI or a role ARN; they are
emitted unchanged and resolved by CloudFormation.
"""

from __future__ import annotations

import abc
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

from cdk_mlops.pipelines import _service_model
from cdk_mlops.pipelines.errors import PipelineDefinitionError

# Pattern of pipeline parameter, step and property-file names (the published pipeline
# definition schema's ParameterName/StepName).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")


def check_name(kind: str, name: object) -> str:
    """Raise unless ``name`` is a valid pipeline parameter/step/property-file name."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise PipelineDefinitionError(
            f"{kind} name {name!r} is invalid: SageMaker accepts 1 to 64 characters from "
            f"A-Z, a-z, 0-9, '-' and '_' (pattern {NAME_PATTERN.pattern})"
        )
    return name


class Expression(abc.ABC):
    """A value SageMaker Pipelines computes at run time."""

    @abc.abstractmethod
    def to_request(self) -> dict[str, Any]:
        """The JSON form of the expression inside a definition."""

    @property
    @abc.abstractmethod
    def value_type(self) -> str | None:
        """``String``, ``Integer``, ``Float`` or ``Boolean``; None when not known at build time."""

    def to_string(self) -> Join:
        """This value as a string (a one-element ``Std:Join``), as the SDK does for strings maps."""
        return Join(on="", values=(self,))


Primitive: TypeAlias = str | int | float | bool
Value: TypeAlias = Primitive | Expression
"""A literal or an expression; strings may embed CDK tokens."""


def render(value: Value, where: str) -> Any:
    """The definition JSON of ``value``; ``where`` names the argument for error messages."""
    if isinstance(value, Property):
        if value.value_type is None:
            raise PipelineDefinitionError(
                f"{where}: property {value.expr_path!r} is a {value.shape_type}, not a value; "
                f"select one of its fields"
            )
        return value.to_request()
    if isinstance(value, Expression):
        return value.to_request()
    if isinstance(value, float) and not math.isfinite(value):
        raise PipelineDefinitionError(f"{where}: {value!r} is not a finite number")
    if isinstance(value, str | int | float | bool):
        return value
    raise PipelineDefinitionError(
        f"{where}: {value!r} ({type(value).__name__}) is neither a literal nor a pipeline "
        f"expression (Parameter*, Join, JsonGet, a step property or an ExecutionVariable)"
    )


def value_type_of(value: Value) -> str | None:
    """The pipeline type of a literal or expression (bool before int: bool is an int)."""
    if isinstance(value, Expression):
        return value.value_type
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    return "String"


# ----------------------------------------------------------------------------- parameters


@dataclass(frozen=True, kw_only=True)
class Parameter(Expression):
    """Base of pipeline parameters: ``{"Get": "Parameters.<name>"}`` when used as a value."""

    TYPE: ClassVar[str] = ""
    name: str

    def __post_init__(self) -> None:
        if not self.TYPE:
            raise PipelineDefinitionError(
                "use ParameterString, ParameterInteger, ParameterFloat or ParameterBoolean"
            )
        check_name("parameter", self.name)

    def to_request(self) -> dict[str, Any]:
        """``{"Get": "Parameters.<name>"}``."""
        return {"Get": f"Parameters.{self.name}"}

    @property
    def value_type(self) -> str | None:
        """The declared parameter type."""
        return self.TYPE

    def to_definition(self) -> dict[str, Any]:
        """The parameter's entry in the definition's ``Parameters`` list."""
        out: dict[str, Any] = {"Name": self.name, "Type": self.TYPE}
        default = getattr(self, "default_value", None)
        if default is not None:
            out["DefaultValue"] = default
        return out


@dataclass(frozen=True, kw_only=True)
class ParameterString(Parameter):
    """A string parameter, optionally restricted to ``enum_values``."""

    TYPE: ClassVar[str] = "String"
    default_value: str | None = None
    enum_values: Sequence[str] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.default_value is not None and not isinstance(self.default_value, str):
            raise PipelineDefinitionError(
                f"parameter {self.name}: default_value {self.default_value!r} must be a str"
            )
        if self.enum_values is not None:
            values = tuple(self.enum_values)
            if not values or not all(isinstance(v, str) for v in values):
                raise PipelineDefinitionError(
                    f"parameter {self.name}: enum_values must be a non-empty list of strings, "
                    f"got {self.enum_values!r}"
                )
            if len(set(values)) != len(values):
                raise PipelineDefinitionError(
                    f"parameter {self.name}: enum_values {list(values)} contain duplicates"
                )
            if self.default_value is not None and self.default_value not in values:
                raise PipelineDefinitionError(
                    f"parameter {self.name}: default_value {self.default_value!r} is not one of "
                    f"enum_values {list(values)}"
                )
            object.__setattr__(self, "enum_values", values)

    def to_definition(self) -> dict[str, Any]:
        """Definition entry, with ``EnumValues`` when given (as the SDK writes it)."""
        out = super().to_definition()
        if self.enum_values is not None:
            out["EnumValues"] = list(self.enum_values)
        return out


@dataclass(frozen=True, kw_only=True)
class ParameterInteger(Parameter):
    """An integer parameter."""

    TYPE: ClassVar[str] = "Integer"
    default_value: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        dv = self.default_value
        if dv is not None and (isinstance(dv, bool) or not isinstance(dv, int)):
            raise PipelineDefinitionError(
                f"parameter {self.name}: default_value {dv!r} must be an int"
            )


@dataclass(frozen=True, kw_only=True)
class ParameterFloat(Parameter):
    """A floating-point parameter (an int default is stored as a float)."""

    TYPE: ClassVar[str] = "Float"
    default_value: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        dv = self.default_value
        if dv is None:
            return
        if isinstance(dv, bool) or not isinstance(dv, int | float) or not math.isfinite(dv):
            raise PipelineDefinitionError(
                f"parameter {self.name}: default_value {dv!r} must be a finite number"
            )
        object.__setattr__(self, "default_value", float(dv))


@dataclass(frozen=True, kw_only=True)
class ParameterBoolean(Parameter):
    """A boolean parameter."""

    TYPE: ClassVar[str] = "Boolean"
    default_value: bool | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.default_value is not None and not isinstance(self.default_value, bool):
            raise PipelineDefinitionError(
                f"parameter {self.name}: default_value {self.default_value!r} must be a bool"
            )


# ----------------------------------------------------------------------- execution variables


@dataclass(frozen=True, kw_only=True)
class ExecutionVariable(Expression):
    """A value of the running execution, e.g. its id: ``{"Get": "Execution.<name>"}``."""

    KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "CurrentDateTime",
            "StartDateTime",
            "PipelineExecutionId",
            "PipelineExecutionArn",
            "PipelineName",
            "PipelineArn",
            "TrainingJobName",
            "ProcessingJobName",
        }
    )
    name: str

    def __post_init__(self) -> None:
        if self.name not in self.KNOWN:
            raise PipelineDefinitionError(
                f"unknown execution variable {self.name!r}; known: {', '.join(sorted(self.KNOWN))}"
            )

    def to_request(self) -> dict[str, Any]:
        """``{"Get": "Execution.<name>"}``."""
        return {"Get": f"Execution.{self.name}"}

    @property
    def value_type(self) -> str | None:
        """Execution variables are strings."""
        return "String"


class ExecutionVariables:
    """The execution variables SageMaker Pipelines provides."""

    CURRENT_DATETIME = ExecutionVariable(name="CurrentDateTime")
    START_DATETIME = ExecutionVariable(name="StartDateTime")
    PIPELINE_EXECUTION_ID = ExecutionVariable(name="PipelineExecutionId")
    PIPELINE_EXECUTION_ARN = ExecutionVariable(name="PipelineExecutionArn")
    PIPELINE_NAME = ExecutionVariable(name="PipelineName")
    PIPELINE_ARN = ExecutionVariable(name="PipelineArn")
    TRAINING_JOB_NAME = ExecutionVariable(name="TrainingJobName")
    PROCESSING_JOB_NAME = ExecutionVariable(name="ProcessingJobName")


# ------------------------------------------------------------------------------- functions


@dataclass(frozen=True, kw_only=True)
class Join(Expression):
    """``Std:Join``: the string of ``values`` joined with ``on``."""

    on: str = ""
    values: Sequence[Value] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.on, str):
            raise PipelineDefinitionError(f"Join: 'on' must be a string, got {self.on!r}")
        values = tuple(self.values)
        if not values:
            raise PipelineDefinitionError("Join: values must not be empty")
        for i, v in enumerate(values):
            render(v, f"Join value {i}")  # type check early
        object.__setattr__(self, "values", values)

    def to_request(self) -> dict[str, Any]:
        """``{"Std:Join": {"On": ..., "Values": [...]}}``."""
        return {
            "Std:Join": {
                "On": self.on,
                "Values": [render(v, f"Join value {i}") for i, v in enumerate(self.values)],
            }
        }

    @property
    def value_type(self) -> str | None:
        """A join is a string."""
        return "String"


@dataclass(frozen=True, kw_only=True)
class PropertyFile:
    """A JSON file written by a processing step that later steps read with ``JsonGet``.

    ``output_name`` is the processing output holding the file, ``path`` the file's path inside
    that output (e.g. ``evaluation.json``).
    """

    name: str
    output_name: str
    path: str

    def __post_init__(self) -> None:
        check_name("property file", self.name)
        if not isinstance(self.output_name, str) or not self.output_name:
            raise PipelineDefinitionError(
                f"property file {self.name}: output_name must be a non-empty string"
            )
        if not isinstance(self.path, str) or not self.path or self.path.startswith("/"):
            raise PipelineDefinitionError(
                f"property file {self.name}: path {self.path!r} must be a non-empty path "
                f"relative to the output (e.g. 'evaluation.json')"
            )

    def to_definition(self) -> dict[str, Any]:
        """The entry in the step's ``PropertyFiles`` list."""
        return {
            "PropertyFileName": self.name,
            "OutputName": self.output_name,
            "FilePath": self.path,
        }


_JSON_PATH = re.compile(r"^[A-Za-z0-9_\-]+(\[\d+\])*(\.[A-Za-z0-9_\-]+(\[\d+\])*)*$")


@dataclass(frozen=True, kw_only=True)
class JsonGet(Expression):
    """``Std:JsonGet``: the value at ``json_path`` in a step's property file."""

    step_name: str
    property_file: PropertyFile | str
    json_path: str

    def __post_init__(self) -> None:
        check_name("step", self.step_name)
        if isinstance(self.property_file, str):
            check_name("property file", self.property_file)
        if not isinstance(self.json_path, str) or not _JSON_PATH.match(self.json_path):
            raise PipelineDefinitionError(
                f"JsonGet: json_path {self.json_path!r} must look like 'a.b[0].c' "
                f"(e.g. 'binary_classification_metrics.auc.value')"
            )

    @property
    def file_name(self) -> str:
        """The property file's name."""
        pf = self.property_file
        return pf if isinstance(pf, str) else pf.name

    def to_request(self) -> dict[str, Any]:
        """``{"Std:JsonGet": {"PropertyFile": {"Get": ...}, "Path": ...}}``."""
        return {
            "Std:JsonGet": {
                "PropertyFile": {"Get": f"Steps.{self.step_name}.PropertyFiles.{self.file_name}"},
                "Path": self.json_path,
            }
        }

    @property
    def value_type(self) -> str | None:
        """Unknown until the file is read at run time."""
        return None


# ------------------------------------------------------------------------------ properties


class Property(Expression):
    """A step property, e.g. ``train.properties.ModelArtifacts.S3ModelArtifacts``.

    Each attribute access and index is checked against the step type's Describe response shape
    in botocore's SageMaker model; a missing field raises PipelineDefinitionError at once.
    """

    __slots__ = ("_path", "_shape", "_step_name", "_step_type")
    _path: str
    _shape: Any
    _step_name: str
    _step_type: str

    def __init__(self, *, step_name: str, step_type: str, path: str = "") -> None:
        root = _service_model.shape(_service_model.PROPERTY_SHAPES[step_type])
        object.__setattr__(self, "_step_name", step_name)
        object.__setattr__(self, "_step_type", step_type)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_shape", root)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("step properties are immutable")

    def _child(self, path: str, shape: Any) -> Property:
        child = Property.__new__(Property)
        object.__setattr__(child, "_step_name", self._step_name)
        object.__setattr__(child, "_step_type", self._step_type)
        object.__setattr__(child, "_path", path)
        object.__setattr__(child, "_shape", shape)
        return child

    def __getattr__(self, name: str) -> Property:
        if name.startswith("_"):
            raise AttributeError(name)
        where = f"{self._path}.{name}" if self._path else name
        return self._child(where, _service_model.member(self._shape, name, where))

    def __getitem__(self, key: str | int) -> Property:
        where = f"{self._path}{_service_model.format_key(key)}"
        return self._child(where, _service_model.index(self._shape, key, where))

    def __repr__(self) -> str:
        return f"Property(Steps.{self._step_name}.{self._path})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Property) and self.to_request() == other.to_request()

    def __hash__(self) -> int:
        return hash(self.expr_path)

    @property
    def step_name(self) -> str:
        """The step the property belongs to."""
        return str(self._step_name)

    @property
    def path(self) -> str:
        """The path after the step name."""
        return str(self._path)

    @property
    def expr_path(self) -> str:
        """``Steps.<step>.<path>``."""
        return f"Steps.{self._step_name}.{self._path}"

    @property
    def shape_type(self) -> str:
        """botocore type of the shape the path points at."""
        return str(self._shape.type_name)

    def to_request(self) -> dict[str, Any]:
        """``{"Get": "Steps.<step>.<path>"}``."""
        if not self._path:
            raise PipelineDefinitionError(
                f"step {self._step_name}: select a property (e.g. .ModelArtifacts...)"
            )
        return {"Get": self.expr_path}

    @property
    def value_type(self) -> str | None:
        """Pipeline type of a scalar property; None for structures, lists and maps."""
        return _service_model.ResolvedPath(self._path, self.shape_type).value_type
