"""DeploymentPipeline: approval event -> resolve -> staging (deploy, tests, verify) -> approval -> prod."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs._notifications import encrypted_topic
from cdk_mlops.constructs.deployment_pipeline import (
    DEPLOYMENT_INTERFACE_ENDPOINTS,
    DeploymentPipeline,
)
from cdk_mlops.constructs.model_registry import ModelRegistry
from cdk_mlops.constructs.network import DEFAULT_INTERFACE_ENDPOINTS, Network
from cdk_mlops.stacks.endpoint import ENDPOINT_PARAMETERS, EndpointStageSettings
from tests.cdk_mlops.construct_fixtures import TemplateView, role_statements
from tests.cdk_mlops.helpers import new_app

#: The contract's parameter ids (cdk_mlops.stacks.endpoint.ENDPOINT_PARAMETERS).
CONTRACT_PARAMETERS = (
    "ModelPackageArn",
    "EndpointName",
    "ExecutionRoleArn",
    "SubnetIds",
    "SecurityGroupIds",
    "DataKeyArn",
    "CaptureBucketName",
    "AlarmTopicArn",
)


def settings(stage: str) -> EndpointStageSettings:
    return EndpointStageSettings.prod() if stage == "prod" else EndpointStageSettings.staging()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.csv"
    path.write_text("1.0,2.0,3.0\n4.0,5.0,6.0\n")
    return path


def build(stack: cdk.Stack, sample: Path, **overrides: Any) -> DeploymentPipeline:
    key = kms.Key.from_key_arn(
        stack,
        "DataKey",
        f"arn:{stack.partition}:kms:{stack.region}:{stack.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    logs_key = kms.Key.from_key_arn(
        stack,
        "LogsKey",
        f"arn:{stack.partition}:kms:{stack.region}:{stack.account}:key/9876abcd-12ab-34cd-56ef-1234567890ab",
    )
    network = Network(
        stack,
        "Network",
        interface_endpoints=list(
            {
                e.short_name: e
                for e in (*DEFAULT_INTERFACE_ENDPOINTS, *DEPLOYMENT_INTERFACE_ENDPOINTS)
            }.values()
        ),
    )
    props: dict[str, Any] = {
        "registry": ModelRegistry.from_group_name(stack, "Registry", "Churn-Models"),
        "job_network": network.job_network,
        "artifacts_bucket": s3.Bucket.from_bucket_attributes(
            stack, "Artifacts", bucket_name="team-artifacts", encryption_key=key
        ),
        "encryption_key": key,
        "logs_key": logs_key,
        "capture_bucket": s3.Bucket.from_bucket_name(stack, "Capture", "team-monitoring"),
        "alarm_topic": sns.Topic.from_topic_arn(
            stack, "Alerts", f"arn:{stack.partition}:sns:{stack.region}:{stack.account}:alerts"
        ),
        "staging": settings("staging"),
        "prod": settings("prod"),
        "smoke_test_sample": sample,
        "execution_role": iam.Role.from_role_arn(
            stack,
            "ExecRole",
            f"arn:{stack.partition}:iam::{stack.account}:role/churn-model",
            mutable=False,
        ),
        "endpoint_name_prefix": "churn",
    }
    props.update(overrides)
    return DeploymentPipeline(stack, "Deploy", **props)


@dataclass
class Built(TemplateView):
    template: Template
    construct: DeploymentPipeline

    def pipeline(self) -> dict[str, Any]:
        (props,) = [
            r["Properties"]
            for r in self.template.find_resources("AWS::CodePipeline::Pipeline").values()
        ]
        return dict(props)

    def action(self, stage: str, name: str) -> dict[str, Any]:
        (st,) = [s for s in self.pipeline()["Stages"] if s["Name"] == stage]
        (act,) = [a for a in st["Actions"] if a["Name"] == name]
        return dict(act)

    def buildspec(self, project_prefix: str) -> dict[str, Any]:
        spec: dict[str, Any] = json.loads(
            self.props("AWS::CodeBuild::Project", project_prefix)["Source"]["BuildSpec"]
        )
        return spec


@pytest.fixture(scope="module")
def built(sample: Path) -> Built:
    stack = cdk.Stack(new_app(), "Level3")
    construct = build(stack, sample)
    return Built(Template.from_stack(stack), construct)


def test_pipeline_is_v2_with_the_stages_in_order(built: Built) -> None:
    props = built.pipeline()
    assert props["PipelineType"] == "V2"
    assert [s["Name"] for s in props["Stages"]] == [
        "Source",
        "Resolve",
        "Staging",
        "Approve",
        "Prod",
    ]
    assert sorted(a["Name"] for a in built.action("Staging", "Deploy")["InputArtifacts"]) == [
        "Resolved",
        "Templates",
    ]
    assert props["Variables"] == [
        {
            "Name": "ModelPackageArn",
            "DefaultValue": "newest",
            "Description": props["Variables"][0]["Description"],
        }
    ]


def test_deploy_actions_take_the_contract_parameters(built: Built) -> None:
    for stage in ("Staging", "Prod"):
        config = built.action(stage, "Deploy")["Configuration"]
        overrides = json.loads(json.dumps(config["ParameterOverrides"]))
        resolved = built.construct.node.scope and cdk.Stack.of(built.construct).resolve(overrides)
        assert (
            config["TemplateConfiguration"]
            == f"Resolved::template-configuration-{stage.lower()}.json"
        )
        assert config["TemplatePath"] == f"Templates::{stage.lower()}.template.json"
        assert config["ActionMode"] == (
            "REPLACE_ON_FAILURE" if stage == "Staging" else "CREATE_UPDATE"
        )
        assert resolved is not None
        text = json.dumps(overrides)
        for pid in set(CONTRACT_PARAMETERS) - {"ModelPackageArn"}:
            assert f'\\"{pid}\\"' in text, pid
        assert f"churn-{stage.lower()}" in text


def test_templates_asset_holds_both_stage_templates_and_the_sample(
    built: Built, sample: Path
) -> None:
    from cdk_mlops.constructs._deployment_templates import build_templates_dir

    folder = build_templates_dir(settings("staging"), settings("prod"), sample)
    for name in ("staging.template.json", "prod.template.json"):
        doc = json.loads((folder / name).read_text())
        assert set(CONTRACT_PARAMETERS) <= set(doc["Parameters"]), name
        assert "Rules" not in doc or "CheckBootstrapVersion" not in doc["Rules"]
    assert (folder / "smoke-sample.csv").read_bytes() == sample.read_bytes()
    # Deterministic: the same settings give the same folder.
    assert build_templates_dir(settings("staging"), settings("prod"), sample) == folder


def test_builds_run_in_the_vpc_encrypted_unprivileged(built: Built) -> None:
    projects = built.template.find_resources("AWS::CodeBuild::Project")
    assert len(projects) == 3
    for project in projects.values():
        props = project["Properties"]
        assert props["VpcConfig"]["Subnets"]
        assert props["EncryptionKey"]
        assert props["Environment"]["PrivilegedMode"] is False
        assert props["Environment"]["Image"] == "aws/codebuild/standard:7.0"
        assert props["LogsConfig"]["CloudWatchLogs"]["Status"] == "ENABLED"
    for group in built.template.find_resources("AWS::Logs::LogGroup").values():
        if "KmsKeyId" in group["Properties"]:
            assert group["Properties"]["RetentionInDays"] == 365


def test_commands_are_the_deployment_module(built: Built) -> None:
    resolve = " ".join(built.buildspec("DeployResolve")["phases"]["build"]["commands"])
    assert "python -m pipeline_code.deployment resolve" in resolve
    assert "--stage staging=$STAGING_ENDPOINT_NAME --stage prod=$PROD_ENDPOINT_NAME" in resolve
    tests = " ".join(built.buildspec("DeployTestStaging")["phases"]["build"]["commands"])
    assert "smoke-test" in tests and "latency-test" in tests
    assert built.buildspec("DeployTestStaging")["env"]["variables"]["P99_MS"] == "200"
    verify = built.action("Prod", "Verify")["Configuration"]["EnvironmentVariables"]
    assert "#{ProdStack.EndpointConfigName}" in json.dumps(verify)


def test_trigger_is_the_approval_event_with_a_confined_role(built: Built) -> None:
    rules = [
        r["Properties"]
        for r in built.template.find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.sagemaker"]
    ]
    (rule,) = rules
    assert rule["EventPattern"]["detail"] == {
        "ModelPackageGroupName": ["Churn-Models"],
        "ModelApprovalStatus": ["Approved"],
    }
    role = built.props("AWS::IAM::Role", "DeployTriggerRole")
    condition = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert set(condition) == {"StringEquals", "ArnEquals"}


def test_deploy_role_passes_only_the_execution_role_to_sagemaker(built: Built) -> None:
    lid = built.lid("AWS::IAM::Role", "DeployDeployRole")
    statements = role_statements(built.template, lid)
    passes = [s for s in statements if "iam:PassRole" in json.dumps(s["Action"])]
    (pass_role,) = passes
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert "role/churn-model" in json.dumps(pass_role["Resource"])
    assert not any(s["Action"] == "*" or s["Action"] == "sagemaker:*" for s in statements)


def test_each_build_role_reaches_only_its_endpoints(built: Built) -> None:
    def actions_of(prefix: str) -> dict[str, str]:
        lid = built.lid("AWS::IAM::Role", prefix)
        out: dict[str, str] = {}
        for st in role_statements(built.template, lid):
            for action in st["Action"] if isinstance(st["Action"], list) else [st["Action"]]:
                out[action] = out.get(action, "") + json.dumps(st["Resource"])
        return out

    test = actions_of("DeployTestStagingRole")
    assert "endpoint/churn-staging" in test["sagemaker:InvokeEndpoint"]
    assert "churn-prod" not in test["sagemaker:InvokeEndpoint"]
    resolve = actions_of("DeployResolveRole")
    assert "sagemaker:InvokeEndpoint" not in resolve
    assert "model-package/churn-models/*" in resolve["sagemaker:DescribeModelPackage"]
    verify = actions_of("DeployVerifyRole")
    assert "sagemaker:InvokeEndpoint" not in verify
    assert "churn-staging" in verify["sagemaker:DescribeEndpoint"]
    assert "churn-prod" in verify["sagemaker:DescribeEndpoint"]
    assert "sns:Publish" in verify


def test_grant_start_and_metrics(built: Built) -> None:
    stack = cdk.Stack.of(built.construct)
    role = iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())
    grant = built.construct.grant_start(role)
    assert grant.success
    metric = built.construct.metric_failed_executions()
    assert (metric.namespace, metric.metric_name) == ("AWS/Events", "TriggeredRules")
    assert "sagemaker.runtime" in {e.short_name for e in DEPLOYMENT_INTERFACE_ENDPOINTS}


def test_without_approval_and_with_the_default_prefix(sample: Path) -> None:
    stack = cdk.Stack(new_app(), "Team-Level3")
    construct = build(stack, sample, require_manual_approval=False, endpoint_name_prefix=None)
    assert construct.staging_endpoint_name == "Team-Level3-Deploy-staging"
    assert construct.prod_endpoint_name == "Team-Level3-Deploy-prod"
    assert construct.stack_names == {
        "staging": "Team-Level3-Deploy-staging-endpoint",
        "prod": "Team-Level3-Deploy-prod-endpoint",
    }
    stages = Template.from_stack(stack).find_resources("AWS::CodePipeline::Pipeline")
    (props,) = [r["Properties"] for r in stages.values()]
    assert [s["Name"] for s in props["Stages"]] == ["Source", "Resolve", "Staging", "Prod"]


def _fails(sample: Path, message: str, **overrides: Any) -> None:
    stack = cdk.Stack(new_app(), "Bad")
    with pytest.raises(ValueError, match=message):
        build(stack, sample, **overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"staging": "prod"}, r"staging\.stage='prod' is not allowed.*stage='staging'"),
        ({"prod": "staging"}, r"prod\.stage='staging' is not allowed"),
        (
            {"endpoint_name_prefix": "bad_name"},
            r"endpoint_name_prefix='bad_name'.*letters, digits and hyphens",
        ),
        ({"endpoint_name_prefix": "x" * 56}, r"endpoint_name_prefix=.*at most 55"),
        ({"p99_latency_ms": 0}, r"p99_latency_ms=0 is not allowed"),
        ({"p99_latency_ms": 120_000}, r"p99_latency_ms=120000"),
    ],
)
def test_fails_on_bad_props(sample: Path, overrides: dict[str, Any], message: str) -> None:
    resolved = {k: settings(v) if k in ("staging", "prod") else v for k, v in overrides.items()}
    _fails(sample, message, **resolved)


def test_fails_when_the_network_lacks_an_endpoint(sample: Path) -> None:
    stack = cdk.Stack(new_app(), "Bad")
    with pytest.raises(
        ValueError, match=r"job_network.interface_endpoints=.*\['monitoring', 'sns'\]"
    ):
        build(stack, sample, job_network=Network(stack, "Plain").job_network)


def test_fails_when_the_sample_is_missing_or_empty(sample: Path, tmp_path: Path) -> None:
    _fails(sample, r"smoke_test_sample=.*non-empty CSV", smoke_test_sample=tmp_path / "none.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _fails(sample, r"smoke_test_sample=.*non-empty CSV", smoke_test_sample=empty)


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [
        None,
        cdk.Environment(account="111111111111", region="eu-west-1"),
        cdk.Environment(account="222222222222", region="us-east-1"),
    ],
    ids=["agnostic", "eu-west-1", "us-east-1"],
)
def test_compliance_packs_and_cfn_lint(
    sample: Path, tmp_path: Path, env: cdk.Environment | None
) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = cdk.Stack(app, "Level3", env=env)
    # A topic of ours (KMS-encrypted, admits the notifiers), as the level-3 stack passes.
    topic = encrypted_topic(stack, "AlertsTopic", key=None, display_name="alerts")
    build(stack, sample, alarm_topic=topic)
    app.synth()  # raises on any unacknowledged finding of the four packs
    (template,) = stack_templates(tmp_path).values()
    region = env.region if env is not None and env.region else "eu-west-1"
    assert cfn_lint(template, (region,)) == []


_: Callable[..., Any] = build


def test_endpoint_stack_parameters_match_the_contract() -> None:
    """The pipeline passes exactly the parameters the endpoint stack declares."""
    assert tuple(ENDPOINT_PARAMETERS) == CONTRACT_PARAMETERS
