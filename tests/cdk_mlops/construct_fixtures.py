"""Small shared helpers for the Level 1 construct tests (template lookups, fresh stacks)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from tests.cdk_mlops.helpers import new_app


def fresh_stack(stack_id: str = "Test") -> cdk.Stack:
    """A new stack in a new App; for failing-case tests that only construct (no synth)."""
    return cdk.Stack(new_app(), stack_id)


def logical_id(template: Template, cfn_type: str, prefix: str) -> str:
    """The one logical id of ``cfn_type`` that starts with ``prefix`` (e.g. ``"LakeRaw"``)."""
    ids = [lid for lid in template.find_resources(cfn_type) if lid.startswith(prefix)]
    if len(ids) != 1:
        raise AssertionError(f"expected one {cfn_type} starting with {prefix!r}, found {ids}")
    return ids[0]


def arn_of(lid: str) -> dict[str, Any]:
    """``Fn::GetAtt [lid, Arn]``, as CDK renders a resource's ARN."""
    return {"Fn::GetAtt": [lid, "Arn"]}


def as_list(value: Any) -> list[Any]:
    """IAM fields may be a single value or a list; always a list."""
    return value if isinstance(value, list) else [value]


def role_statements(template: Template, role_lid: str) -> list[dict[str, Any]]:
    """Every statement of every ``AWS::IAM::Policy`` attached to the role ``role_lid``."""
    out: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        props = policy["Properties"]
        if {"Ref": role_lid} in props.get("Roles", []):
            out.extend(props["PolicyDocument"]["Statement"])
    return out


def allowed_actions_on(statements: list[dict[str, Any]], resource: Any) -> set[str]:
    """Actions that Allow statements grant on ``resource`` (compared as rendered JSON)."""
    actions: set[str] = set()
    for st in statements:
        if st.get("Effect") == "Allow" and resource in as_list(st.get("Resource")):
            actions.update(as_list(st["Action"]))
    return actions


class TemplateView:
    """Look-ups on one synthesized template; test modules subclass it as a dataclass with a
    ``template`` field and the constructs they built."""

    template: Template

    @cached_property
    def resources(self) -> dict[str, Any]:
        res: dict[str, Any] = self.template.to_json()["Resources"]
        return res

    def lid(self, cfn_type: str, prefix: str) -> str:
        return logical_id(self.template, cfn_type, prefix)

    def props(self, cfn_type: str, prefix: str) -> dict[str, Any]:
        props: dict[str, Any] = self.resources[self.lid(cfn_type, prefix)]["Properties"]
        return props
