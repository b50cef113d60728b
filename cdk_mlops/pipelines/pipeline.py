"""The pipeline: parameters + steps -> definition JSON (version 2020-12-01), validated.

``Pipeline(...)`` checks the whole graph when it is constructed: unique step and parameter
names, every reference (``Get``, ``JsonGet``, ``DependsOn``) points at something that exists,
property paths exist for the referenced step's type, processing outputs named in a path exist,
and the dependency graph has no cycle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdk_mlops.pipelines import _service_model
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import (
    ExecutionVariable,
    ExecutionVariables,
    Parameter,
    Value,
    render,
)
from cdk_mlops.pipelines.steps import ConditionStep, ProcessingStep, Step, TrainingStep

if TYPE_CHECKING:
    from constructs import Construct

DEFINITION_VERSION = "2020-12-01"

_OUTPUT_KEY = re.compile(r"^ProcessingOutputConfig\.Outputs\['([^']*)'\]")
_INPUT_KEY = re.compile(r"^ProcessingInputs\['([^']*)'\]")
_METRIC_KEY = re.compile(r"^FinalMetricDataList\['([^']*)'\]")


@dataclass(frozen=True, kw_only=True)
class PipelineExperimentConfig:
    """Experiment and trial that executions are recorded under (SageMaker Experiments)."""

    experiment_name: Value = ExecutionVariables.PIPELINE_NAME
    trial_name: Value = ExecutionVariables.PIPELINE_EXECUTION_ID

    def to_request(self) -> dict[str, Any]:
        """``{"ExperimentName": ..., "TrialName": ...}``."""
        return {
            "ExperimentName": render(self.experiment_name, "experiment_name"),
            "TrialName": render(self.trial_name, "trial_name"),
        }


@dataclass(frozen=True)
class Edge:
    """``source`` must finish before ``target`` starts."""

    source: str
    target: str
    kind: str
    """``depends_on`` (explicit), ``data`` (a Get/JsonGet reference) or ``branch`` (condition)."""


@dataclass(frozen=True)
class _Reference:
    kind: str  # parameter | step | property_file | execution
    name: str
    detail: str = ""


def _walk_references(node: Any, skip_branches: bool = False) -> Iterator[_Reference]:
    """Every Get/JsonGet reference in a rendered JSON fragment."""
    if isinstance(node, dict):
        get = node.get("Get")
        if isinstance(get, str) and len(node) == 1:
            yield _parse_get(get)
            return
        for key, value in node.items():
            if skip_branches and key in ("IfSteps", "ElseSteps"):
                continue
            yield from _walk_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_references(item)


def _parse_get(get: str) -> _Reference:
    head, _, rest = get.partition(".")
    if head == "Parameters" and rest:
        return _Reference("parameter", rest)
    if head == "Execution" and rest:
        return _Reference("execution", rest)
    if head == "Steps" and rest:
        step, sep, path = rest.partition(".")
        if not sep or not path:
            raise PipelineDefinitionError(f"reference {get!r} names a step but no property")
        if path.startswith("PropertyFiles."):
            return _Reference("property_file", step, path.removeprefix("PropertyFiles."))
        return _Reference("step", step, path)
    raise PipelineDefinitionError(
        f"reference {get!r} is not Parameters.<name>, Execution.<name> or Steps.<name>.<path>"
    )


@dataclass(frozen=True, kw_only=True)
class Pipeline:
    """A SageMaker Pipeline definition.

    ``steps`` are the top-level steps; steps inside a ConditionStep's branches are found
    through it. Construction validates the whole graph and raises PipelineDefinitionError.
    """

    steps: Sequence[Step]
    parameters: Sequence[Parameter] = ()
    experiment_config: PipelineExperimentConfig | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        if not self.steps:
            raise PipelineDefinitionError("a pipeline needs at least one step")
        self._check_parameters()
        steps = self._check_step_names()
        edges = self._collect_edges(steps)
        self._check_acyclic(steps, edges)
        object.__setattr__(self, "_edges", tuple(edges))

    # ---------------------------------------------------------------- validation helpers

    def _check_parameters(self) -> None:
        seen: set[str] = set()
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise PipelineDefinitionError(f"{p!r} is not a pipeline parameter")
            if p.name in seen:
                raise PipelineDefinitionError(f"parameter {p.name!r} is declared twice")
            seen.add(p.name)

    def _check_step_names(self) -> dict[str, Step]:
        steps: dict[str, Step] = {}
        places: dict[str, str] = {}

        def visit(step: Step, where: str) -> None:
            if not isinstance(step, Step):
                raise PipelineDefinitionError(f"{where}: {step!r} is not a step")
            if step.name in steps:
                raise PipelineDefinitionError(
                    f"duplicate step name {step.name!r} ({places[step.name]} and {where}); step "
                    f"names must be unique across the pipeline, including condition branches"
                )
            steps[step.name] = step
            places[step.name] = where
            for child in step.child_steps():
                visit(child, f"a branch of {step.name}")

        for step in self.steps:
            visit(step, "top level")
        return steps

    def _collect_edges(self, steps: dict[str, Step]) -> list[Edge]:
        params = {p.name for p in self.parameters}
        edges: list[Edge] = []
        if self.experiment_config is not None:
            for ref in _walk_references(self.experiment_config.to_request()):
                if ref.kind != "execution" and ref.kind != "parameter":
                    raise PipelineDefinitionError(
                        "PipelineExperimentConfig may only use parameters and execution variables"
                    )
                self._check_simple_reference(ref, params, "PipelineExperimentConfig")
        for step in steps.values():
            for dep in step.depends_on_names:
                if dep not in steps:
                    raise PipelineDefinitionError(
                        f"step {step.name} depends on unknown step {dep!r}; steps: {sorted(steps)}"
                    )
                edges.append(Edge(dep, step.name, "depends_on"))
            for child in step.child_steps():
                edges.append(Edge(step.name, child.name, "branch"))
            arguments = step.arguments()
            for ref in _walk_references(arguments, skip_branches=isinstance(step, ConditionStep)):
                where = f"step {step.name}"
                if ref.kind in ("parameter", "execution"):
                    self._check_simple_reference(ref, params, where)
                    continue
                target = steps.get(ref.name)
                if target is None:
                    raise PipelineDefinitionError(
                        f"{where} references unknown step {ref.name!r}; steps: {sorted(steps)}"
                    )
                if ref.kind == "property_file":
                    files = (
                        [pf.name for pf in target.property_files]
                        if isinstance(target, ProcessingStep)
                        else []
                    )
                    if ref.detail not in files:
                        raise PipelineDefinitionError(
                            f"{where} reads property file {ref.detail!r} of step {ref.name}, "
                            f"which has property files {files}"
                        )
                else:
                    self._check_property(target, ref.detail, where)
                edge = Edge(ref.name, step.name, "data")
                if edge not in edges:
                    edges.append(edge)
        return edges

    @staticmethod
    def _check_simple_reference(ref: _Reference, params: set[str], where: str) -> None:
        if ref.kind == "parameter" and ref.name not in params:
            raise PipelineDefinitionError(
                f"{where} uses parameter {ref.name!r}, which is not in the pipeline's parameters "
                f"{sorted(params)}; add it to Pipeline(parameters=...)"
            )
        if ref.kind == "execution":
            ExecutionVariable(name=ref.name)  # raises for an unknown variable

    @staticmethod
    def _check_property(target: Step, path: str, where: str) -> None:
        resolved = _service_model.resolve(target.STEP_TYPE, path)
        if resolved.value_type is None:
            raise PipelineDefinitionError(
                f"{where}: Steps.{target.name}.{path} is a {resolved.shape_type}, not a value"
            )
        if isinstance(target, ProcessingStep):
            for pattern, names, kind in (
                (_OUTPUT_KEY, target.output_names, "output"),
                (_INPUT_KEY, tuple(i.input_name for i in target.inputs), "input"),
            ):
                match = pattern.match(path)
                if match and match.group(1) not in names:
                    raise PipelineDefinitionError(
                        f"{where} references {kind} {match.group(1)!r} of step {target.name}, "
                        f"whose {kind}s are {list(names)}"
                    )
        if isinstance(target, TrainingStep):
            match = _METRIC_KEY.match(path)
            metrics = [m.name for m in target.metric_definitions]
            if match and match.group(1) not in metrics:
                raise PipelineDefinitionError(
                    f"{where} references metric {match.group(1)!r} of step {target.name}, "
                    f"which defines metrics {metrics}"
                )

    @staticmethod
    def _check_acyclic(steps: dict[str, Step], edges: list[Edge]) -> None:
        graph: dict[str, list[str]] = {name: [] for name in steps}
        for edge in edges:
            graph[edge.source].append(edge.target)
        white, grey, black = 0, 1, 2
        color = dict.fromkeys(steps, white)
        for root in steps:
            if color[root] != white:
                continue
            stack: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
            path = [root]
            color[root] = grey
            while stack:
                node, children = stack[-1]
                for child in children:
                    if color[child] == grey:
                        cycle = [*path[path.index(child) :], child]
                        raise PipelineDefinitionError(
                            f"dependency cycle: {' -> '.join(cycle)} (through DependsOn, data "
                            f"references or condition branches)"
                        )
                    if color[child] == white:
                        color[child] = grey
                        stack.append((child, iter(graph[child])))
                        path.append(child)
                        break
                else:
                    color[node] = black
                    stack.pop()
                    path.pop()

    # --------------------------------------------------------------------------- output

    @property
    def edges(self) -> tuple[Edge, ...]:
        """Dependency edges: explicit DependsOn, data references and condition branches."""
        edges: tuple[Edge, ...] = getattr(self, "_edges")  # noqa: B009 - set in __post_init__
        return edges

    def all_steps(self) -> tuple[Step, ...]:
        """Every step, branch steps included, depth first in definition order."""
        out: list[Step] = []

        def visit(step: Step) -> None:
            out.append(step)
            for child in step.child_steps():
                visit(child)

        for step in self.steps:
            visit(step)
        return tuple(out)

    def step(self, name: str) -> Step:
        """The step called ``name`` (branch steps included)."""
        for s in self.all_steps():
            if s.name == name:
                return s
        raise KeyError(name)

    def to_definition(self) -> dict[str, Any]:
        """The definition as plain data (strings may hold CDK tokens)."""
        definition: dict[str, Any] = {
            "Version": DEFINITION_VERSION,
            "Metadata": {},
            "Parameters": [p.to_definition() for p in self.parameters],
        }
        if self.experiment_config is not None:
            definition["PipelineExperimentConfig"] = self.experiment_config.to_request()
        definition["Steps"] = [s.to_request() for s in self.steps]
        return definition

    def to_json(self, *, indent: int | None = None) -> str:
        """Deterministic JSON: sorted keys, no timestamps, same input -> same bytes."""
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(
            self.to_definition(), sort_keys=True, indent=indent, separators=separators
        )

    def to_json_string(self, scope: Construct) -> str:
        """The definition as a CloudFormation-ready string in ``scope``'s stack.

        CDK tokens inside (role ARNs, asset URIs, image URIs) become ``Fn::Join`` pieces, with
        JSON escaping handled by ``Stack.to_json_string``. Use it for ``PipelineDefinitionBody``.
        """
        from aws_cdk import Stack

        return Stack.of(scope).to_json_string(json.loads(self.to_json()))
