"""Governance: a permissions boundary on every role, mandatory tags with synth errors.

The Level 3 stack and the endpoint stack (every role the library creates) are synthesized once,
governed, with every compliance pack, in a concrete account and region.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.governance import (
    BOUNDARY_ALLOWED_ACTIONS,
    BOUNDARY_DENIED_ACTIONS,
    BOUNDARY_PATH,
    DEFAULT_REQUIRED_TAG_KEYS,
    Governance,
)
from cdk_mlops.stacks import EndpointStack, ReliableStack
from tests.cdk_mlops.helpers import new_app

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
TAGS = {"owner": "ml-platform", "data-classification": "confidential"}


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("governed")
    app = new_app(outdir=str(out))
    add_compliance_checks(app)
    level3 = ReliableStack(app, "GovernedLevel3", env=ENV, tags={"cost-centre": "cc-42"})
    Governance(level3, "Governance", tags=TAGS)
    endpoint = EndpointStack(app, "GovernedEndpoint", env=ENV, tags={"cost-centre": "cc-42"})
    Governance(endpoint, "Governance", tags=TAGS)
    app.synth()  # raises on any nag finding or governance error
    return stack_templates(out)


def _template(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _of_type(template: dict[str, Any], cfn_type: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == cfn_type}


def _boundary_id(template: dict[str, Any]) -> str:
    (boundary,) = (
        k
        for k, r in _of_type(template, "AWS::IAM::ManagedPolicy").items()
        if r["Properties"].get("Path") == BOUNDARY_PATH
    )
    return boundary


def test_every_role_has_the_boundary(governed: dict[str, Path]) -> None:
    for name, path in governed.items():
        template = _template(path)
        boundary = _boundary_id(template)
        roles = _of_type(template, "AWS::IAM::Role")
        assert roles or name == "GovernedEndpoint", name  # the endpoint's role is a parameter
        for logical_id, role in roles.items():
            assert role["Properties"].get("PermissionsBoundary") == {"Ref": boundary}, logical_id


def test_the_boundary_policy_has_a_generated_name(governed: dict[str, Path]) -> None:
    # managed policy names are global to the account: a fixed one would collide across regions
    template = _template(governed["GovernedLevel3"])
    policy = template["Resources"][_boundary_id(template)]["Properties"]
    assert "ManagedPolicyName" not in policy
    sids = [s["Sid"] for s in policy["PolicyDocument"]["Statement"]]
    assert sids == ["AllowTheLibrarysServices", "DenyGuardrailActions", "DenyChangingBoundaries"]


def _granted_actions(template: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(policy, action) for every Allow statement of every identity policy but the boundary."""
    boundary = _boundary_id(template)
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if logical_id != boundary:
                documents.append(props["PolicyDocument"])
        elif resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
            for arn in props.get("ManagedPolicyArns", []):
                # AWS managed policies the library attaches: what they grant
                assert "AWSLambdaBasicExecutionRole" in json.dumps(arn), (logical_id, arn)
                for action in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"):
                    yield logical_id, action
        for document in documents:
            for statement in document["Statement"]:
                if statement.get("Effect") != "Allow":
                    continue
                actions = statement["Action"]
                for action in [actions] if isinstance(actions, str) else actions:
                    yield logical_id, action


def _overlap(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)


def test_the_boundary_covers_every_action_the_library_grants(governed: dict[str, Path]) -> None:
    # A boundary that cuts off an action a role needs breaks the workload in a real account,
    # silently until that call is made; this is the check that the ceiling fits.
    checked = 0
    for name, path in governed.items():
        for policy, action in _granted_actions(_template(path)):
            allowed = any(
                fnmatch.fnmatchcase(action.lower(), a.lower()) for a in BOUNDARY_ALLOWED_ACTIONS
            )
            assert allowed, f"{name}/{policy}: {action} is outside the default boundary"
            denied = [d for d in BOUNDARY_DENIED_ACTIONS if _overlap(action, d)]
            assert not denied, f"{name}/{policy}: {action} is denied by the boundary ({denied})"
            checked += 1
    assert checked > 200


def test_every_taggable_resource_carries_the_mandatory_tags(governed: dict[str, Path]) -> None:
    template = _template(governed["GovernedLevel3"])
    tagged = 0
    for logical_id, resource in template["Resources"].items():
        tags = resource.get("Properties", {}).get("Tags")
        if tags is None:
            continue
        pairs = {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags)
        for key, value in TAGS.items():
            assert pairs.get(key) == value, (logical_id, key, pairs)
        tagged += 1
    assert tagged > 50
    # the stack tag (cost-centre) is CloudFormation's to propagate: it is on the stack, not
    # repeated on each resource
    manifest = json.loads((governed["GovernedLevel3"].parent / "manifest.json").read_text())
    stack_tags = manifest["artifacts"]["GovernedLevel3"]["properties"].get("tags", {})
    assert stack_tags.get("cost-centre") == "cc-42"


def test_governed_templates_pass_cfn_lint(governed: dict[str, Path]) -> None:
    for name, path in governed.items():
        assert cfn_lint(path, (ENV.region or "eu-west-1",)) == [], name


# -- failures ---------------------------------------------------------------------------------


def _synth_error(build: Any) -> str:
    app = new_app()
    stack = cdk.Stack(app, "S", tags={"cost-centre": "cc-1"})
    build(stack)
    with pytest.raises(RuntimeError) as info:
        app.synth()
    return str(info.value)


def test_fails_naming_an_untagged_resource() -> None:
    def build(stack: cdk.Stack) -> None:
        Governance(stack, "Governance", tags={"owner": "me"})
        s3.Bucket(stack, "Raw")

    message = _synth_error(build)
    assert "S/Raw/Resource (AWS::S3::Bucket): no tag 'data-classification'" in message
    assert "cdk.Tags.of(<scope>).add(key, value)" in message
    assert "no tag 'owner'" not in message and "no tag 'cost-centre'" not in message


def test_fails_on_a_value_outside_the_allowed_list() -> None:
    def build(stack: cdk.Stack) -> None:
        Governance(stack, "Governance", tags={"owner": "me", "data-classification": "internal"})
        bucket = s3.Bucket(stack, "Raw")
        cdk.Tags.of(bucket).add("data-classification", "secret")  # overrides, closer scope

    message = _synth_error(build)
    assert "tag data-classification='secret' is not one of public, internal" in message


def test_tags_added_anywhere_in_the_tree_count() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S")
    Governance(stack, "Governance", required_tag_keys=("team",), allowed_tag_values={})
    s3.Bucket(stack, "Raw")
    cdk.Tags.of(app).add("team", "risk")  # on the app, after the Governance construct
    app.synth()


def test_the_tag_check_can_be_turned_off_but_the_boundary_stays() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S")
    Governance(stack, "Governance", required_tag_keys=(), allowed_tag_values={})
    iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    template = app.synth().get_stack_by_name("S").template
    (role,) = _of_type(template, "AWS::IAM::Role").values()
    assert "PermissionsBoundary" in role["Properties"]


def test_your_own_boundary_replaces_the_default() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S")
    theirs = iam.ManagedPolicy.from_managed_policy_name(stack, "Theirs", "org-boundary")
    Governance(stack, "Governance", permissions_boundary=theirs, required_tag_keys=())
    iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    template = app.synth().get_stack_by_name("S").template
    assert not _of_type(template, "AWS::IAM::ManagedPolicy")
    (role,) = _of_type(template, "AWS::IAM::Role").values()
    assert "policy/org-boundary" in json.dumps(role["Properties"]["PermissionsBoundary"])


def test_governed_scope_can_be_a_subtree() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S")
    team = cdk.Stack(app, "Other")
    inner = cdk.Resource(stack, "Team")
    Governance(stack, "Governance", governed=inner, required_tag_keys=("owner",))
    s3.Bucket(inner, "Theirs", encryption=s3.BucketEncryption.S3_MANAGED)
    s3.Bucket(stack, "Outside")
    s3.Bucket(team, "OtherStack")
    with pytest.raises(RuntimeError) as info:
        app.synth()
    assert "S/Team/Theirs/Resource" in str(info.value)
    assert "S/Outside" not in str(info.value) and "Other/OtherStack" not in str(info.value)


def test_default_keys_are_the_three_of_the_issue() -> None:
    assert DEFAULT_REQUIRED_TAG_KEYS == ("cost-centre", "owner", "data-classification")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"tags": {"aws:owner": "me"}}, "tags='aws:owner' is not allowed"),
        ({"tags": {"owner": ""}}, "tags\\['owner'\\]='' is not allowed"),
        ({"tags": {"data-classification": "secret"}}, "Use one of public, internal"),
        ({"required_tag_keys": "owner"}, "required_tag_keys='owner' is not allowed"),
        ({"required_tag_keys": ("bad#key",)}, "required_tag_keys='bad#key'"),
        ({"allowed_tag_values": {"owner": ()}}, "allowed_tag_values\\['owner'\\]=\\(\\)"),
        ({"boundary_allowed_actions": ("lambda",)}, 'as "service:Action"'),
        ({"boundary_allowed_actions": ("iam:*",)}, "is no boundary"),
    ],
)
def test_fails_on_bad_props(props: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(new_app(), "S")
    with pytest.raises(ValueError, match=message) as info:
        Governance(stack, "Governance", **props)
    assert "Governance" in str(info.value)


def test_fails_when_extending_a_boundary_that_is_not_ours() -> None:
    stack = cdk.Stack(new_app(), "S")
    theirs = iam.ManagedPolicy.from_managed_policy_name(stack, "Theirs", "org-boundary")
    with pytest.raises(ValueError, match="extends the default boundary only"):
        Governance(
            stack,
            "Governance",
            permissions_boundary=theirs,
            boundary_allowed_actions=("lambda:InvokeFunction",),
        )


def test_extra_allowed_actions_reach_the_boundary() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S")
    Governance(
        stack,
        "Governance",
        boundary_allowed_actions=("lambda:InvokeFunction",),
        required_tag_keys=(),
    )
    template = app.synth().get_stack_by_name("S").template
    (policy,) = _of_type(template, "AWS::IAM::ManagedPolicy").values()
    allow = policy["Properties"]["PolicyDocument"]["Statement"][0]["Action"]
    assert "lambda:InvokeFunction" in allow


def test_findings_are_not_repeated_when_the_app_synthesizes_twice() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S")
    governance = Governance(stack, "Governance", required_tag_keys=("owner",))
    s3.Bucket(stack, "Raw")
    for _ in range(2):
        with pytest.raises(RuntimeError):
            app.synth(force=True)
    assert len(governance.required_tags.findings) == 1
