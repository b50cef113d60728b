"""SageMaker's botocore service model: the source of truth for step property paths.

SageMaker Pipelines resolves ``{"Get": "Steps.<step>.<path>"}`` against the response of the
job's Describe call (``DescribeProcessingJob``, ``DescribeTrainingJob``, ``DescribeModelPackage``),
exactly as the SageMaker Python SDK models it. Walking the same botocore output shapes lets a
typo such as ``ProcessingOutputConfig.Output`` fail when the definition is built, not when the
pipeline runs.

botocore is imported lazily (only when a property path is used) and its service model is loaded
once per process.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdk_mlops.pipelines.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from botocore.model import ServiceModel, Shape

# The Describe response shape each step type's properties come from (as in the SageMaker SDK).
PROPERTY_SHAPES: dict[str, str] = {
    "Processing": "DescribeProcessingJobResponse",
    "Training": "DescribeTrainingJobResponse",
    "RegisterModel": "DescribeModelPackageOutput",
    # A tuning step's properties are two responses in one (as in the SDK's TuningStep):
    # DescribeHyperParameterTuningJob (BestTrainingJob, ...) and
    # ListTrainingJobsForHyperParameterTuningJob (TrainingJobSummaries, best first).
    "Tuning": "TuningStepProperties",
}
#: The responses merged into the tuning step's synthetic property shape.
TUNING_PROPERTY_SOURCES = (
    "DescribeHyperParameterTuningJobResponse",
    "ListTrainingJobsForHyperParameterTuningJobResponse",
)

# botocore scalar type -> the value type a pipeline expression of that shape produces.
_SCALAR_TYPES: dict[str, str] = {
    "string": "String",
    "integer": "Integer",
    "long": "Integer",
    "float": "Float",
    "double": "Float",
    "boolean": "Boolean",
    "timestamp": "String",
}

_SEGMENT = re.compile(r"\.([A-Za-z][A-Za-z0-9]*)|\[(\d+)\]|\['([^'\]]*)'\]")


@functools.cache
def service_model() -> ServiceModel:
    """SageMaker's botocore service model (loaded once; no AWS session or credentials)."""
    try:
        import botocore.loaders
        import botocore.model
    except ImportError as exc:  # pragma: no cover - botocore is a declared dependency
        raise PipelineDefinitionError(
            "botocore is needed to validate pipeline property paths: pip install 'botocore>=1.34'"
        ) from exc
    loader = botocore.loaders.Loader()
    return botocore.model.ServiceModel(
        loader.load_service_model("sagemaker", "service-2"), service_name="sagemaker"
    )


@functools.cache
def shape(name: str) -> Shape:
    """A named shape of the SageMaker service model (or the tuning step's merged one)."""
    if name == PROPERTY_SHAPES["Tuning"]:
        return _merged_shape(name, TUNING_PROPERTY_SOURCES)
    return service_model().shape_for(name)


def _merged_shape(name: str, sources: tuple[str, ...]) -> Shape:
    """A structure with the members of every shape in ``sources`` (later ones win)."""
    import botocore.model

    model = service_model()
    members: dict[str, Any] = {}
    for source in sources:
        members.update(model._service_description["shapes"][source]["members"])
    return botocore.model.StructureShape(
        name, {"type": "structure", "members": members}, model._shape_resolver
    )


@dataclass(frozen=True)
class ResolvedPath:
    """A property path checked against the service model."""

    path: str
    """The path after the step name, e.g. ``ModelArtifacts.S3ModelArtifacts``."""
    shape_type: str
    """botocore type of the leaf: string, integer, structure, list, map, ..."""

    @property
    def value_type(self) -> str | None:
        """``String``/``Integer``/``Float``/``Boolean`` for a scalar leaf, None for containers."""
        return _SCALAR_TYPES.get(self.shape_type)


def member(parent: Shape, name: str, where: str) -> Shape:
    """The member ``name`` of structure ``parent``, or a clear error naming close matches."""
    if parent.type_name != "structure":
        raise PipelineDefinitionError(
            f"property path {where!r}: {parent.name} is a {parent.type_name}, it has no field "
            f"{name!r}"
            + (" (index it with [...] instead)" if parent.type_name in {"list", "map"} else "")
        )
    members = parent.members
    if name not in members:
        close = difflib.get_close_matches(name, list(members), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise PipelineDefinitionError(
            f"property path {where!r}: {parent.name} has no field {name!r}{hint} "
            f"(fields come from SageMaker's API model)"
        )
    result: Shape = members[name]
    return result


def index(parent: Shape, key: str | int, where: str) -> Shape:
    """The element shape of list/map ``parent`` for ``key``."""
    if parent.type_name == "list":
        if isinstance(key, bool) or not isinstance(key, int | str):
            raise PipelineDefinitionError(
                f"property path {where!r}: list index must be an int or a name, got {key!r}"
            )
        result: Shape = parent.member
        return result
    if parent.type_name == "map":
        if not isinstance(key, str):
            raise PipelineDefinitionError(
                f"property path {where!r}: map key must be a string, got {key!r}"
            )
        value: Shape = parent.value
        return value
    raise PipelineDefinitionError(
        f"property path {where!r}: {parent.name} is a {parent.type_name}, it cannot be indexed "
        f"with [{key!r}]"
    )


def format_key(key: str | int) -> str:
    """Path syntax of an index as the SDK writes it: ``[0]`` or ``['train']``."""
    if isinstance(key, int):
        return f"[{key}]"
    if "'" in key or "]" in key:
        raise PipelineDefinitionError(
            f"property key {key!r} contains a quote or ']': SageMaker cannot address it in a path"
        )
    return f"['{key}']"


def resolve(step_type: str, path: str) -> ResolvedPath:
    """Check ``path`` (without ``Steps.<name>``) against the step type's Describe response.

    ``path`` looks like ``ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri``.
    Raises PipelineDefinitionError when a segment does not exist.
    """
    if step_type not in PROPERTY_SHAPES:
        raise PipelineDefinitionError(
            f"steps of type {step_type!r} have no properties to reference (path {path!r}); "
            f"only {', '.join(sorted(PROPERTY_SHAPES))} steps do"
        )
    current = shape(PROPERTY_SHAPES[step_type])
    text = "." + path
    pos = 0
    while pos < len(text):
        match = _SEGMENT.match(text, pos)
        if match is None:
            raise PipelineDefinitionError(
                f"property path {path!r} is malformed at {text[pos:]!r}: use "
                f"Field.Sub, [0] or ['name'] segments"
            )
        name, number, key = match.groups()
        if name is not None:
            current = member(current, name, path)
        elif number is not None:
            current = index(current, int(number), path)
        else:
            current = index(current, key, path)
        pos = match.end()
    if pos == 0:
        raise PipelineDefinitionError("empty property path")
    return ResolvedPath(path=path, shape_type=current.type_name)


def enum_values(shape_name: str) -> list[str]:
    """Enum values of a string shape (e.g. ``ProcessingInstanceType``)."""
    values: list[Any] = shape(shape_name).enum
    return [str(v) for v in values]
