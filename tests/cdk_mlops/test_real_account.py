"""What a real account hits that the template gates cannot see: names, retention, trust, grants.

Run on the app's own stacks (``assembly``: MlopsLevel1 to MlopsLevel3 in one app, as
``cdk deploy --all`` puts them into one account and region).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cdk_mlops.checks import stack_templates
from tests.cdk_mlops.construct_fixtures import as_list

#: Name properties that CloudFormation does not generate and AWS keeps unique per account and
#: region (KMS aliases, Glue databases and security configurations, SageMaker domains, model
#: package groups, pipelines; log groups, topics, roles and buckets when named).
NAME_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::Glue::SecurityConfiguration": ("Name",),
    "AWS::Glue::Job": ("Name",),
    "AWS::SageMaker::Domain": ("DomainName",),
    "AWS::SageMaker::ModelPackageGroup": ("ModelPackageGroupName",),
    "AWS::SageMaker::Pipeline": ("PipelineName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::SNS::Topic": ("TopicName",),
    "AWS::IAM::Role": ("RoleName",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::Budgets::Budget": ("Budget", "BudgetName"),
    "AWS::CodePipeline::Pipeline": ("Name",),
    "AWS::CloudTrail::Trail": ("TrailName",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::CodeBuild::Project": ("Name",),
}
#: Retained on stack deletion because they hold data; anything else must be deleted.
DATA_HOLDERS = {
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SageMaker::ModelPackageGroup",
}
#: Retained AND named: a redeploy after `cdk destroy` fails until it is deleted or reused. The
#: README's teardown section lists it with the cleanup steps.
RETAINED_WITH_A_FIXED_NAME = {"AWS::SageMaker::ModelPackageGroup"}


def _templates(assembly: Path) -> dict[str, dict[str, Any]]:
    return {s: json.loads(t.read_text()) for s, t in stack_templates(assembly).items()}


def _resources(assembly: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stack, template in _templates(assembly).items():
        for lid, res in template["Resources"].items():
            yield stack, lid, res


def _name(res: dict[str, Any]) -> Any:
    value: Any = res.get("Properties", {})
    for key in NAME_PROPERTIES[res["Type"]]:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def test_fixed_names_do_not_collide_between_the_stacks_of_one_account(assembly: Path) -> None:
    names = Counter(
        (res["Type"], json.dumps(_name(res), sort_keys=True))
        for _, _, res in _resources(assembly)
        if res["Type"] in NAME_PROPERTIES and _name(res) is not None
    )
    assert names, "no named resource found: the property table is stale"
    assert [n for n, count in names.items() if count > 1] == []


def test_only_resources_that_hold_data_are_retained(assembly: Path) -> None:
    retained = {
        (stack, lid, res["Type"])
        for stack, lid, res in _resources(assembly)
        if res.get("DeletionPolicy") == "Retain"
    }
    assert {t for _, _, t in retained} <= DATA_HOLDERS, retained
    named = {
        t
        for stack, lid, t in retained
        if t in NAME_PROPERTIES and _name(_templates(assembly)[stack]["Resources"][lid]) is not None
    }
    assert named == RETAINED_WITH_A_FIXED_NAME


def test_the_teardown_leftovers_are_documented(assembly: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Teardown", 1)[1].split("\n## ", 1)[0]
    for needle in ("delete-model-package-group", "EFS", "network interface", "cdk destroy"):
        assert needle in section, needle


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(doc.get("Statement", []))


def _services(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    return (
        [str(s) for s in as_list(principal.get("Service", []))]
        if isinstance(principal, dict)
        else []
    )


def test_sagemaker_may_assume_our_roles_only_for_this_account(assembly: Path) -> None:
    trusted = 0
    for _, lid, res in _resources(assembly):
        if res["Type"] != "AWS::IAM::Role":
            continue
        for st in _statements(res["Properties"]["AssumeRolePolicyDocument"]):
            if "sagemaker.amazonaws.com" in _services(st):
                trusted += 1
                assert "aws:SourceAccount" in st.get("Condition", {}).get("StringEquals", {}), lid
    assert trusted >= 2  # the data-scientist role (twice: both stacks) and the pipeline role


def test_eventbridge_publishes_only_for_our_rules_and_uses_keys_only_for_our_topics(
    assembly: Path,
) -> None:
    topic_statements = key_statements = 0
    for _, lid, res in _resources(assembly):
        if res["Type"] == "AWS::SNS::TopicPolicy":
            for st in _statements(res["Properties"]["PolicyDocument"]):
                if st["Effect"] == "Allow" and "events.amazonaws.com" in _services(st):
                    topic_statements += 1
                    assert "aws:SourceArn" in st["Condition"]["ArnEquals"], lid
        if res["Type"] == "AWS::KMS::Key":
            for st in _statements(res["Properties"]["KeyPolicy"]):
                if "events.amazonaws.com" in _services(st):
                    key_statements += 1
                    condition = st["Condition"]
                    assert list(condition) == ["ArnLike"], lid
                    topics = json.dumps(
                        condition["ArnLike"]["kms:EncryptionContext:aws:sns:topicArn"]
                    )
                    assert ":sns:" in topics and topics.endswith(':*"]]}'), lid
    assert topic_statements >= 2 and key_statements >= 1


def test_the_data_scientist_role_can_start_jobs_with_an_encrypted_volume(assembly: Path) -> None:
    # Jobs must name a volume KMS key (IAM condition); SageMaker then creates a grant on that
    # key with the caller's permissions, so the role needs kms:CreateGrant on it.
    for stack, template in _templates(assembly).items():
        if stack == "MlopsLevel3Endpoint":
            continue  # no Studio: the endpoint template the level 3 pipeline deploys
        policies = [
            r
            for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::IAM::Policy"
            and lid.startswith("InitialStudioDataScientistRolePolicy")
        ]
        statements = [s for p in policies for s in _statements(p["Properties"]["PolicyDocument"])]
        grants = [s for s in statements if "kms:CreateGrant" in as_list(s["Action"])]
        assert len(grants) == 1, stack
        assert grants[0]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
        assert grants[0]["Resource"] == {"Fn::GetAtt": [_data_key(template), "Arn"]}


def _data_key(template: dict[str, Any]) -> str:
    (lid,) = [
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::KMS::Key" and lid.startswith("InitialKeysData")
    ]
    return lid
