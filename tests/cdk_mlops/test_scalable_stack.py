"""Level 4 (so far): level 3 with a permissions boundary on every role and mandatory tags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.checks import stack_templates
from cdk_mlops.governance import BOUNDARY_PATH
from cdk_mlops.stacks import ScalableSettings, ScalableStack
from tests.cdk_mlops.helpers import new_app


def _template(assembly: Path, stack: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stack_templates(assembly)[stack].read_text())
    return data


def test_level4_is_level3_plus_the_boundary(assembly: Path) -> None:
    level3 = _template(assembly, "MlopsLevel3")["Resources"]
    level4 = _template(assembly, "MlopsLevel4")["Resources"]
    # same construct paths, same logical ids (but for the security group's rules on itself,
    # whose ids contain the stack name and a hash of it)
    named = [k for k in level3 if "MlopsLevel3" in k]
    assert len(named) == len([k for k in level4 if "MlopsLevel4" in k]) == 2
    assert set(level3) - set(named) <= set(level4)
    (extra,) = {k for k in level4 if "MlopsLevel4" not in k} - set(level3)
    assert level4[extra]["Type"] == "AWS::IAM::ManagedPolicy"
    assert level4[extra]["Properties"]["Path"] == BOUNDARY_PATH
    for logical_id, resource in level4.items():
        if resource["Type"] == "AWS::IAM::Role":
            assert resource["Properties"]["PermissionsBoundary"] == {"Ref": extra}, logical_id
            assert "PermissionsBoundary" not in level3[logical_id]["Properties"], logical_id


def test_level4_carries_the_mandatory_tags(assembly: Path) -> None:
    manifest = json.loads((assembly / "manifest.json").read_text())
    tags = manifest["artifacts"]["MlopsLevel4"]["properties"]["tags"]
    assert {"cost-centre", "owner", "data-classification"} <= set(tags)


def test_fails_without_the_mandatory_tags() -> None:
    app = new_app()
    ScalableStack(app, "Untagged", scalable=ScalableSettings(tags={"owner": "ml-platform"}))
    with pytest.raises(RuntimeError) as info:
        app.synth()
    message = str(info.value)
    assert "Untagged/Initial/Keys/Data/Resource (AWS::KMS::Key): no tag 'cost-centre'" in message
    assert "no tag 'owner'" not in message
