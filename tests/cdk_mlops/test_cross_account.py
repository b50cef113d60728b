"""Cross-account model promotion, checked the way it fails in practice: every link of the chain
(group policy, bucket policy, key policy, consumer role policy) for each consumer account, in the
synthesized templates of three made-up accounts.

Tooling/dev account 111111111111 trains and registers (level 3, as the delivery pipeline
deploys it); staging 222222222222 and prod 333333333333 serve. A fourth account is in no policy.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs import (
    DEFAULT_MODEL_KEYS,
    MODEL_READER_PATH,
    ModelSharing,
    SharedModelReader,
    SharedModelSource,
)
from cdk_mlops.levels import RepeatableSettings
from cdk_mlops.stacks import ModelConsumerStack, ReliableStack, RepeatableStack
from tests.cdk_mlops.helpers import new_app

TOOLING, STAGING, PROD, STRANGER = "111111111111", "222222222222", "333333333333", "444444444444"
REGION = "eu-west-1"
SOURCE = "MlopsLevel3"


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("cross-account")
    app = new_app(outdir=str(out))
    add_compliance_checks(app)
    ReliableStack(
        app,
        SOURCE,
        env=cdk.Environment(account=TOOLING, region=REGION),
        repeatable=RepeatableSettings(model_consumer_accounts=(STAGING, PROD)),
    )
    source = SharedModelSource.for_stack(SOURCE, account=TOOLING, region=REGION)
    for name, account in (("Staging", STAGING), ("Prod", PROD)):
        ModelConsumerStack(
            app, f"Models{name}", source=source, env=cdk.Environment(account=account, region=REGION)
        )
    app.synth()  # every nag pack
    paths = stack_templates(out)
    for path in paths.values():
        assert cfn_lint(path, (REGION,)) == [], path
    return {name: json.loads(path.read_text()) for name, path in paths.items()}


def _resolve(node: Any, template: dict[str, Any]) -> Any:
    """The literal value of an intrinsic, as CloudFormation would give it in this account."""
    resources = template["Resources"]
    if isinstance(node, dict):
        if "Ref" in node:
            ref = node["Ref"]
            pseudo = {
                "AWS::Partition": "aws",
                "AWS::Region": REGION,
                "AWS::URLSuffix": "amazonaws.com",
            }
            if ref in pseudo:
                return pseudo[ref]
            resource = resources[ref]
            if resource["Type"] == "AWS::S3::Bucket":
                return resource["Properties"]["BucketName"]
            return f"<{ref}>"
        if "Fn::GetAtt" in node:
            ref, attribute = node["Fn::GetAtt"]
            resource = resources[ref]
            if resource["Type"] == "AWS::S3::Bucket" and attribute == "Arn":
                return f"arn:aws:s3:::{resource['Properties']['BucketName']}"
            return f"<{ref}.{attribute}>"
        if "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return separator.join(str(_resolve(p, template)) for p in parts)
        return {k: _resolve(v, template) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, template) for v in node]
    return node


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: dict[str, Any], template: dict[str, Any]) -> list[dict[str, Any]]:
    return [_resolve(s, template) for s in document["Statement"]]


def _principals(statement: dict[str, Any]) -> list[str]:
    return _as_list(statement.get("Principal", {}).get("AWS", []))


def _of_type(template: dict[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == cfn_type}


def _artifacts_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r)
        for k, r in _of_type(template, "AWS::S3::Bucket").items()
        if "Artifacts" in k and "BucketName" in r["Properties"]
    ]
    return found


@pytest.mark.parametrize("account", [STAGING, PROD])
def test_link1_the_group_policy_admits_the_account(
    templates: dict[str, dict[str, Any]], account: str
) -> None:
    tooling = templates[SOURCE]
    (group,) = _of_type(tooling, "AWS::SageMaker::ModelPackageGroup").values()
    source = SharedModelSource.for_stack(SOURCE, account=TOOLING, region=REGION)
    assert group["Properties"]["ModelPackageGroupName"] == source.model_package_group_name
    statements = _statements(group["Properties"]["ModelPackageGroupPolicy"], tooling)
    admitted = {a for s in statements for a in _principals(s)}
    assert f"arn:aws:iam::{account}:root" in admitted
    assert f"arn:aws:iam::{STRANGER}:root" not in admitted
    actions = {a for s in statements for a in _as_list(s["Action"])}
    assert {"sagemaker:DescribeModelPackage", "sagemaker:CreateModel"} <= actions


def _sharing_statement(statements: list[dict[str, Any]], account: str, sid: str) -> dict[str, Any]:
    (statement,) = [s for s in statements if s.get("Sid") == sid]
    assert f"arn:aws:iam::{account}:root" in _principals(statement)
    assert f"arn:aws:iam::{STRANGER}:root" not in _principals(statement)
    assert statement["Effect"] == "Allow"
    return statement


def _reader_patterns(statement: dict[str, Any]) -> list[str]:
    return _as_list(statement["Condition"]["ArnLike"]["aws:PrincipalArn"])


@pytest.mark.parametrize("account", [STAGING, PROD])
def test_link2_the_bucket_policy_admits_its_model_readers_to_the_models_only(
    templates: dict[str, dict[str, Any]], account: str
) -> None:
    tooling = templates[SOURCE]
    bucket_id, bucket = _artifacts_bucket(tooling)
    name = bucket["Properties"]["BucketName"]
    assert (
        name
        == SharedModelSource.for_stack(SOURCE, account=TOOLING, region=REGION).artifacts_bucket_name
    )
    (policy,) = [
        p for p in _of_type(tooling, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]  # fmt: skip
    statement = _sharing_statement(
        _statements(policy["Properties"]["PolicyDocument"], tooling),
        account,
        "SharedModelsReadByConsumerAccounts",
    )
    assert _as_list(statement["Action"]) == ["s3:GetObject"]
    assert _as_list(statement["Resource"]) == [f"arn:aws:s3:::{name}/{DEFAULT_MODEL_KEYS}"]
    assert f"arn:aws:iam::{account}:role{MODEL_READER_PATH}*" in _reader_patterns(statement)


def _data_key(tooling: dict[str, Any]) -> str:
    """The logical id of the key that encrypts the artifacts bucket."""
    _, bucket = _artifacts_bucket(tooling)
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BucketKeyEnabled"] is True
    key_ref = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    return str(key_ref["Fn::GetAtt"][0])


@pytest.mark.parametrize("account", [STAGING, PROD])
def test_link3_the_key_policy_lets_them_decrypt_through_s3_for_that_bucket(
    templates: dict[str, dict[str, Any]], account: str
) -> None:
    tooling = templates[SOURCE]
    key = tooling["Resources"][_data_key(tooling)]
    statement = _sharing_statement(
        _statements(key["Properties"]["KeyPolicy"], tooling),
        account,
        "SharedModelsDecryptByConsumerAccounts",
    )
    assert _as_list(statement["Action"]) == ["kms:Decrypt"]
    condition = statement["Condition"]
    assert condition["StringEquals"]["kms:ViaService"] == f"s3.{REGION}.amazonaws.com"
    name = _artifacts_bucket(tooling)[1]["Properties"]["BucketName"]
    assert f"arn:aws:s3:::{name}" in condition["StringLike"]["kms:EncryptionContext:aws:s3:arn"]
    assert f"arn:aws:iam::{account}:role{MODEL_READER_PATH}*" in _reader_patterns(statement)


@pytest.mark.parametrize(("stack", "account"), [("ModelsStaging", STAGING), ("ModelsProd", PROD)])
def test_link4_the_consumer_role_reads_exactly_those_models_and_nothing_else(
    templates: dict[str, dict[str, Any]], stack: str, account: str
) -> None:
    tooling, consumer = templates[SOURCE], templates[stack]
    (role_id, role), = _of_type(consumer, "AWS::IAM::Role").items()  # fmt: skip
    # the role's ARN matches the pattern both source policies admit
    assert role["Properties"]["Path"] == MODEL_READER_PATH
    arn = f"arn:aws:iam::{account}:role{MODEL_READER_PATH}GeneratedName"
    assert fnmatch.fnmatchcase(arn, f"arn:aws:iam::{account}:role{MODEL_READER_PATH}*")
    trust = _statements(role["Properties"]["AssumeRolePolicyDocument"], consumer)
    assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]
    assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}

    (policy,) = _of_type(consumer, "AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    statements = _statements(policy["Properties"]["PolicyDocument"], consumer)
    name = _artifacts_bucket(tooling)[1]["Properties"]["BucketName"]
    s3_resources = [r for s in statements if any(a.startswith("s3:") for a in _as_list(s["Action"]))
                    for r in _as_list(s["Resource"])]  # fmt: skip
    assert s3_resources == [f"arn:aws:s3:::{name}/{DEFAULT_MODEL_KEYS}"]  # the bucket policy's
    (read,) = [s for s in statements if s.get("Sid") == "ReadSharedModels"]
    assert read["Condition"] == {"StringEquals": {"s3:ResourceAccount": TOOLING}}

    (decrypt,) = [s for s in statements if s.get("Sid") == "DecryptSharedModels"]
    assert decrypt["Resource"] == f"arn:aws:kms:{REGION}:{TOOLING}:key/*"
    aliases = decrypt["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
    # ... and that alias is the one the tooling account gives the bucket's key
    data_key = _data_key(tooling)
    (alias,) = [
        a["Properties"]["AliasName"] for a in _of_type(tooling, "AWS::KMS::Alias").values()
        if a["Properties"]["TargetKeyId"] == {"Fn::GetAtt": [data_key, "Arn"]}
    ]  # fmt: skip
    assert aliases == [alias]
    kms_actions = {a for s in statements for a in _as_list(s["Action"]) if a.startswith("kms:")}
    assert kms_actions == {"kms:Decrypt"}
    # nothing else of the tooling account
    assert TOOLING not in json.dumps([s for s in statements if s.get("Sid") not in (
        "ReadSharedModels", "DecryptSharedModels")])  # fmt: skip


def test_the_stranger_account_is_in_no_policy(templates: dict[str, dict[str, Any]]) -> None:
    for template in templates.values():
        assert STRANGER not in json.dumps(template)


def test_without_consumers_level2_shares_nothing(tmp_path: Path) -> None:
    app = new_app()
    stack = RepeatableStack(app, "Alone", env=cdk.Environment(account=TOOLING, region=REGION))
    text = json.dumps(app.synth().get_stack_by_name(stack.stack_name).template)
    assert "SharedModels" not in text and "ModelPackageGroupPolicy" not in text


# -- failures --------------------------------------------------------------------------------


def test_fails_when_sharing_without_an_environment() -> None:
    with pytest.raises(ValueError, match="needs the stack's account and region"):
        RepeatableStack(
            new_app(), "Agnostic", repeatable=RepeatableSettings(model_consumer_accounts=(PROD,))
        )


@pytest.mark.parametrize(
    ("accounts", "message"),
    [
        ((), "non-empty list"),
        ("222222222222", "non-empty list"),
        (("2222",), "consumer_accounts='2222'"),
        ((TOOLING,), "this stack's own account"),
        ((PROD, PROD), "List each account once"),
    ],
)
def test_model_sharing_fails_on_bad_accounts(accounts: Any, message: str) -> None:
    stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account=TOOLING, region=REGION))
    bucket = s3.Bucket(stack, "B", bucket_name="models-bucket")
    key = kms.Key(stack, "K")
    with pytest.raises(ValueError, match=message):
        ModelSharing(stack, "Sharing", artifacts_bucket=bucket, encryption_key=key,
                     consumer_accounts=accounts)  # fmt: skip


def test_model_sharing_fails_on_a_bucket_with_a_generated_name() -> None:
    stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account=TOOLING, region=REGION))
    with pytest.raises(ValueError, match="Give the bucket a fixed bucket_name"):
        ModelSharing(stack, "Sharing", artifacts_bucket=s3.Bucket(stack, "B"),
                     encryption_key=kms.Key(stack, "K"), consumer_accounts=(PROD,))  # fmt: skip


def test_model_sharing_fails_on_an_imported_bucket() -> None:
    stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account=TOOLING, region=REGION))
    bucket = s3.Bucket.from_bucket_name(stack, "B", "theirs")
    with pytest.raises(ValueError, match="The bucket is imported"):
        ModelSharing(stack, "Sharing", artifacts_bucket=bucket, encryption_key=kms.Key(stack, "K"),
                     consumer_accounts=(PROD,))  # fmt: skip


def test_model_sharing_fails_on_a_bad_key_pattern() -> None:
    stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account=TOOLING, region=REGION))
    with pytest.raises(ValueError, match="model_keys='/models/\\*'"):
        ModelSharing(stack, "Sharing", artifacts_bucket=s3.Bucket(stack, "B", bucket_name="b-1"),
                     encryption_key=kms.Key(stack, "K"), consumer_accounts=(PROD,),
                     model_keys="/models/*")  # fmt: skip


def test_reader_fails_in_the_source_account() -> None:
    stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account=TOOLING, region=REGION))
    source = SharedModelSource.for_stack(SOURCE, account=TOOLING, region=REGION)
    with pytest.raises(ValueError, match="The source is this account"):
        SharedModelReader(stack, "Reader", source=source)


def test_names_are_derived_the_same_way_on_both_sides() -> None:
    source = SharedModelSource.for_stack("MlopsLevel3-prod", account=TOOLING, region=REGION)
    assert source.artifacts_bucket_name == f"mlopslevel3-prod-artifacts-{TOOLING}-{REGION}"
    assert source.key_alias == "alias/MlopsLevel3-prod/data"
    assert source.model_package_group_name == "MlopsLevel3-prod-models"
    long = SharedModelSource.for_stack("M" * 80, account=TOOLING, region=REGION)
    assert len(long.artifacts_bucket_name) <= 63
