"""Shared helpers for the Level 2 construct tests: pipeline definitions, code copies, lookups."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from cdk_mlops.assets import PIPELINE_CODE_DIR
from tests.cdk_mlops.construct_fixtures import as_list

#: Step types that run a SageMaker job (and so must carry VPC, KMS, isolation, encryption).
JOB_STEP_TYPES = ("Processing", "Training")


def placeholder(intrinsic: dict[str, Any]) -> str:
    """A JSON-safe stand-in for a CloudFormation intrinsic that keeps what it refers to.

    ``{"Ref": "X"}`` -> ``${Ref:X}``, ``{"Fn::GetAtt": ["X", "Arn"]}`` -> ``${X.Arn}``,
    ``{"Fn::Sub": "s"}`` -> ``${Sub:s}`` (asset URIs); any other intrinsic (``Fn::Join``,
    ``Fn::FindInMap``, ...) -> ``${TOKEN}``. None of these contain a quote or a backslash.
    """
    if set(intrinsic) == {"Ref"}:
        return "${Ref:" + str(intrinsic["Ref"]) + "}"
    if set(intrinsic) == {"Fn::GetAtt"}:
        lid, attr = intrinsic["Fn::GetAtt"]
        return "${" + f"{lid}.{attr}" + "}"
    if set(intrinsic) == {"Fn::Sub"} and isinstance(intrinsic["Fn::Sub"], str):
        return "${Sub:" + intrinsic["Fn::Sub"] + "}"
    return "${TOKEN}"


def definition_text(body: Any) -> str:
    """``PipelineDefinitionBody`` (a string or an ``Fn::Join`` of strings and intrinsics) as JSON text."""
    if isinstance(body, str):
        return body
    delimiter, parts = body["Fn::Join"]
    return str(delimiter).join(p if isinstance(p, str) else placeholder(p) for p in parts)


def pipeline_definitions(template: Template) -> dict[str, dict[str, Any]]:
    """Logical id -> parsed pipeline definition of every ``AWS::SageMaker::Pipeline``."""
    out: dict[str, dict[str, Any]] = {}
    for lid, resource in template.find_resources("AWS::SageMaker::Pipeline").items():
        body = resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
        out[lid] = json.loads(definition_text(body))
    return out


def all_steps(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step of a definition, condition branches included."""
    pending = list(definition["Steps"])
    while pending:
        step = pending.pop(0)
        yield step
        args = step.get("Arguments", {})
        if step["Type"] == "Condition":
            pending.extend(args.get("IfSteps", []))
            pending.extend(args.get("ElseSteps", []))


def step_named(definition: dict[str, Any], name: str) -> dict[str, Any]:
    """The step called ``name`` (branches included)."""
    for step in all_steps(definition):
        if step["Name"] == name:
            return step
    raise AssertionError(f"no step {name!r} in {[s['Name'] for s in all_steps(definition)]}")


def copy_pipeline_code(dest: Path) -> Path:
    """Copy this library's ``pipeline_code`` package to ``dest`` (no ``__pycache__``); return ``dest``."""
    shutil.copytree(PIPELINE_CODE_DIR, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def ref_of(lid: str) -> dict[str, str]:
    """``{"Ref": lid}``."""
    return {"Ref": lid}


def statements_allowing(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    """Allow statements whose actions include ``action`` exactly."""
    return [
        s for s in statements if s.get("Effect") == "Allow" and action in as_list(s.get("Action"))
    ]


def all_actions(statements: list[dict[str, Any]]) -> set[str]:
    """Every action an Allow statement in ``statements`` grants."""
    out: set[str] = set()
    for s in statements:
        if s.get("Effect") == "Allow":
            out.update(as_list(s["Action"]))
    return out


def rendered(value: Any) -> str:
    """Sorted-key JSON of a template fragment, for substring checks on ARNs and joins."""
    return json.dumps(value, sort_keys=True)


def bucket_grants(
    statements: list[dict[str, Any]], bucket_lids: set[str]
) -> dict[tuple[str, str | None], set[str]]:
    """``(bucket lid, object pattern or None for the bucket) -> actions`` granted by ``statements``.

    Only resources of the buckets in ``bucket_lids`` count: ``GetAtt [lid, Arn]`` is the bucket,
    ``Join [GetAtt [lid, Arn], "/pattern"]`` its objects matching ``pattern``.
    """
    out: dict[tuple[str, str | None], set[str]] = {}
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        for res in as_list(st.get("Resource")):
            key: tuple[str, str | None] | None = None
            if (
                isinstance(res, dict)
                and "Fn::GetAtt" in res
                and res["Fn::GetAtt"][0] in bucket_lids
            ):
                key = (res["Fn::GetAtt"][0], None)
            elif isinstance(res, dict) and "Fn::Join" in res:
                parts = res["Fn::Join"][1]
                head = parts[0] if parts else None
                if (
                    isinstance(head, dict)
                    and "Fn::GetAtt" in head
                    and head["Fn::GetAtt"][0] in bucket_lids
                    and len(parts) == 2
                    and isinstance(parts[1], str)
                ):
                    key = (head["Fn::GetAtt"][0], parts[1].removeprefix("/"))
            if key is not None:
                out.setdefault(key, set()).update(as_list(st["Action"]))
    return out
