"""A small Step Functions (JSONata) interpreter for our state machines, for tests.

Runs Pass, Task, Choice, Succeed and Fail states the way the Amazon States Language describes
them for ``QueryLanguage: JSONata``: ``Arguments``/``Output``/``Assign``/``Condition`` are
evaluated with the reference JSONata engine (:mod:`tests.cdk_mlops.jsonata_eval`, which fails an
expression that yields nothing, as Step Functions does), ``$states.input`` is the previous
state's output, ``$states.result`` a task's result, a ``Catch`` passes ``{Error, Cause}`` on.
Every task's evaluated ``Arguments`` are validated against the service API's request shape
with botocore (for ``aws-sdk:<service>:<action>`` and the optimized SageMaker/SNS resources),
then handed to a mock that returns the result or raises :class:`TaskFailed`.
Retries, timeouts, Map and Parallel are not modelled (our machines do not need them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from tests.cdk_mlops import jsonata_eval

#: optimized integrations -> (botocore service, operation)
_OPTIMIZED = {
    "arn:aws:states:::sagemaker:createProcessingJob.sync": ("sagemaker", "CreateProcessingJob"),
    "arn:aws:states:::sns:publish": ("sns", "Publish"),
}
_SESSION = botocore.session.get_session()


class TaskFailed(Exception):
    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(error)
        self.error, self.cause = error, cause


@dataclass
class Run:
    status: str  # SUCCEEDED | FAILED
    output: Any
    path: list[str]
    variables: dict[str, Any]
    error: str | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def operation(resource: str) -> tuple[str, str]:
    if resource in _OPTIMIZED:
        return _OPTIMIZED[resource]
    m = re.fullmatch(r"arn:aws:states:::aws-sdk:(\w+):(\w+)", resource)
    if not m:
        raise ValueError(f"unsupported resource {resource}")
    service, action = m.groups()
    return service, action[0].upper() + action[1:]


def validate_request(resource: str, arguments: dict[str, Any]) -> None:
    """Raise AssertionError when ``arguments`` do not fit the API's request shape."""
    service, op = operation(resource)
    model = _SESSION.get_service_model(service).operation_model(op)
    report = ParamValidator().validate(arguments, model.input_shape)
    if report.has_errors():
        raise AssertionError(f"{resource}: {report.generate_report()}")


def _collect(value: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _collect(v, f"{path}/{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _collect(v, f"{path}/{i}", out)
    elif jsonata_eval.is_expression(value):
        out[path] = value


def _rebuild(value: Any, path: str, done: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _rebuild(v, f"{path}/{k}", done) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebuild(v, f"{path}/{i}", done) for i, v in enumerate(value)]
    return done.get(path, value)


def evaluate_tree(value: Any, bindings: dict[str, Any]) -> Any:
    """``value`` with every ``{% %}`` string at any depth replaced by its value."""
    exprs: dict[str, str] = {}
    _collect(value, "", exprs)
    done = jsonata_eval.evaluate(exprs, bindings) if exprs else {}
    return _rebuild(value, "", done)


def run(
    definition: dict[str, Any],
    execution_input: Any,
    *,
    start_time: str,
    tasks: Callable[[str, dict[str, Any]], Any],
    execution_name: str = "exec-1",
    max_steps: int = 100,
) -> Run:
    assert definition.get("QueryLanguage") == "JSONata"
    states = definition["States"]
    context = {
        "Execution": {
            "StartTime": start_time,
            "Name": execution_name,
            "Id": f"arn:aws:states:eu-west-1:111111111111:execution:machine:{execution_name}",
        }
    }
    variables: dict[str, Any] = {}
    name, state_input = definition["StartAt"], execution_input
    path: list[str] = []
    calls: list[tuple[str, dict[str, Any]]] = []

    def bindings(**extra: Any) -> dict[str, Any]:
        return {**variables, "states": {"input": state_input, "context": context, **extra}}

    for _ in range(max_steps):
        path.append(name)
        state = states[name]
        kind = state["Type"]
        if kind == "Pass":
            output = state_input
            if "Assign" in state:
                variables.update(evaluate_tree(state["Assign"], bindings()))
            if "Output" in state:
                output = evaluate_tree(state["Output"], bindings())
        elif kind == "Task":
            arguments = evaluate_tree(state.get("Arguments", {}), bindings())
            validate_request(state["Resource"], arguments)
            calls.append((state["Resource"], arguments))
            try:
                result = tasks(state["Resource"], arguments)
            except TaskFailed as failure:
                catch = next(
                    (c for c in state.get("Catch", [])
                     if "States.ALL" in c["ErrorEquals"] or failure.error in c["ErrorEquals"]),
                    None,
                )  # fmt: skip
                error_output = {"Error": failure.error, "Cause": failure.cause}
                if catch is None:
                    return Run("FAILED", None, path, variables, failure.error, calls)
                if "Assign" in catch:
                    variables.update(
                        evaluate_tree(catch["Assign"], bindings(errorOutput=error_output))
                    )
                name, state_input = catch["Next"], error_output
                continue
            if "Assign" in state:
                variables.update(evaluate_tree(state["Assign"], bindings(result=result)))
            output = (
                evaluate_tree(state["Output"], bindings(result=result))
                if "Output" in state
                else result
            )
        elif kind == "Choice":
            nxt = state.get("Default")
            for choice in state["Choices"]:
                if evaluate_tree({"c": choice["Condition"]}, bindings())["c"] is True:
                    nxt = choice["Next"]
                    break
            if nxt is None:
                return Run("FAILED", None, path, variables, "States.NoChoiceMatched", calls)
            name = nxt
            continue
        elif kind == "Succeed":
            output = (
                evaluate_tree(state["Output"], bindings()) if "Output" in state else state_input
            )
            return Run("SUCCEEDED", output, path, variables, None, calls)
        elif kind == "Fail":
            return Run("FAILED", None, path, variables, state.get("Error"), calls)
        else:
            raise ValueError(f"state type {kind} not modelled")
        if state.get("End"):
            return Run("SUCCEEDED", output, path, variables, None, calls)
        name, state_input = state["Next"], output
    raise AssertionError(f"more than {max_steps} steps: {path[-10:]}")
