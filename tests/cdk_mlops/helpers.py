"""Helpers for construct tests: an App with the project's feature flags, synthesized once."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

ROOT = Path(__file__).resolve().parents[2]
#: The feature flags of cdk.json, so tests synthesize what `cdk synth` does.
FEATURE_FLAGS: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]


def new_app(outdir: str | None = None, **context: Any) -> cdk.App:
    """An App with the project's feature flags; assets are not copied and nothing is bundled."""
    ctx = {
        **FEATURE_FLAGS,
        "aws:cdk:disable-asset-staging": True,
        "aws:cdk:bundling-stacks": [],
        # What the CDK CLI sets, so templates carry aws:cdk:path as `cdk synth` writes them.
        "aws:cdk:enable-path-metadata": True,
        **context,
    }
    # cfn-lint does CloudFormation validation in our gates; the built-in one costs 6-9 s a synth.
    return cdk.App(context=ctx, outdir=outdir, builtin_cloud_formation_validation=False)


def template_of(build: Callable[[cdk.Stack], Any], stack_id: str = "Test") -> tuple[Template, Any]:
    """Synthesize a stack in which ``build(stack)`` adds constructs; return its template and the result."""
    app = new_app()
    stack = cdk.Stack(app, stack_id)
    built = build(stack)
    return Template.from_stack(stack), built


def resources(template: Template, cfn_type: str) -> Mapping[str, Any]:
    """Logical id -> resource dict for every resource of one type."""
    return template.find_resources(cfn_type)
