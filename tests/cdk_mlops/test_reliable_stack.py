"""Level 3 (Reliable): a superset of level 2 plus the deployment pipeline, dashboard and trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from cdk_mlops.constructs import (
    DEFAULT_INTERFACE_ENDPOINTS,
    DEPLOYMENT_INTERFACE_ENDPOINTS,
    ServerlessConfig,
)
from cdk_mlops.levels import InitialSettings, ReliableSettings
from cdk_mlops.levels.reliable import _schema_sample
from cdk_mlops.stacks import EndpointStageSettings, ReliableStack, RepeatableStack
from cdk_mlops.stacks.reliable import level3_interface_endpoints
from pipeline_code.deployment.samples import schema_sample_text
from pipeline_code.schema import Schema
from tests.cdk_mlops.helpers import new_app

MAX_TEMPLATE_BYTES = 1_000_000
MAX_RESOURCES = 500
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Synth:
    level2: dict[str, Any]
    level3: dict[str, Any]
    stack: ReliableStack

    @cached_property
    def template(self) -> Template:
        return Template.from_json(self.level3)

    def of_type(self, cfn_type: str, doc: dict[str, Any] | None = None) -> dict[str, Any]:
        resources = (doc or self.level3)["Resources"]
        return {lid: r for lid, r in resources.items() if r["Type"] == cfn_type}


@pytest.fixture(scope="module")
def synth() -> Synth:
    # same stack name in two apps: logical ids that embed it (self-referencing security group
    # rules) and stack-scoped names compare equal
    level2 = RepeatableStack(new_app(), "Level")
    level3 = ReliableStack(new_app(), "Level")
    return Synth(
        level2=Template.from_stack(level2).to_json(),
        level3=Template.from_stack(level3).to_json(),
        stack=level3,
    )


def test_is_a_superset_of_level_2_with_the_same_logical_ids(synth: Synth) -> None:
    level2 = synth.level2["Resources"]
    level3 = synth.level3["Resources"]
    assert set(level2) <= set(level3), sorted(set(level2) - set(level3))
    changed = [lid for lid in level2 if level2[lid] != level3[lid]]
    # Only what level 3 extends may differ: the alerts topic's policy (the deployment pipeline
    # publishes to it) and the access log bucket's policy (the trail bucket logs to it).
    unexpected = [
        lid
        for lid in changed
        if level2[lid]["Type"] not in {"AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy"}
    ]
    assert unexpected == [], unexpected


def test_a_new_vpc_reaches_the_services_the_deployment_builds_call(synth: Synth) -> None:
    services = {
        json.dumps(r["Properties"]["ServiceName"], sort_keys=True)
        for r in synth.of_type("AWS::EC2::VPCEndpoint").values()
    }
    text = " ".join(services)
    for service in (*DEFAULT_INTERFACE_ENDPOINTS, *DEPLOYMENT_INTERFACE_ENDPOINTS):
        assert f".{service.short_name}" in text, service.short_name
    level2_endpoints = synth.of_type("AWS::EC2::VPCEndpoint", synth.level2)
    assert (
        len(synth.of_type("AWS::EC2::VPCEndpoint")) == len(level2_endpoints) + 2
    )  # sns, monitoring


def test_a_users_vpc_or_endpoint_list_is_left_as_given() -> None:
    own = InitialSettings(interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.STS])
    assert level3_interface_endpoints(own) is own
    added = level3_interface_endpoints(InitialSettings()).interface_endpoints
    assert added is not None
    names = [e.short_name for e in added]
    assert len(names) == len(set(names))
    assert {e.short_name for e in DEPLOYMENT_INTERFACE_ENDPOINTS} <= set(names)


def test_no_endpoint_is_created_before_a_model_is_approved(synth: Synth) -> None:
    for cfn_type in ("AWS::SageMaker::Endpoint", "AWS::SageMaker::Model"):
        assert synth.of_type(cfn_type) == {}, cfn_type
    assert "Parameters" not in synth.level3 or set(synth.level3["Parameters"]) <= {
        "BootstrapVersion"
    }


def test_the_registrys_approvals_start_the_deployment_pipeline(synth: Synth) -> None:
    pipelines = synth.of_type("AWS::CodePipeline::Pipeline")
    assert len(pipelines) == 2  # level 2's CI and level 3's deployment
    (deploy,) = [
        p
        for p in pipelines.values()
        if p["Properties"].get("PipelineType") == "V2"
        and [s["Name"] for s in p["Properties"]["Stages"]][-1] == "Prod"
    ]
    stages = [s["Name"] for s in deploy["Properties"]["Stages"]]
    assert stages == ["Source", "Resolve", "Staging", "Approve", "Prod"]
    patterns = [
        r["Properties"]["EventPattern"]
        for r in synth.of_type("AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]
    ]
    approval = [
        p
        for p in patterns
        if p.get("detail-type") == ["SageMaker Model Package State Change"]
        and p.get("detail", {}).get("ModelApprovalStatus") == ["Approved"]
    ]
    assert approval, patterns


def test_the_dashboard_shows_the_prod_endpoint(synth: Synth) -> None:
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "Deployment-prod" in body
    assert "AllTraffic" in body and "ModelLatency" in body


def test_the_audit_trail_logs_data_events_of_the_four_zones(synth: Synth) -> None:
    (trail,) = synth.of_type("AWS::CloudTrail::Trail").values()
    props = trail["Properties"]
    assert props["EnableLogFileValidation"] is True and "KMSKeyId" in props
    selectors = json.dumps(props.get("EventSelectors", props.get("AdvancedEventSelectors")))
    data_lake_buckets = [
        lid
        for lid, r in synth.of_type("AWS::S3::Bucket").items()
        if "InitialDataLake" in lid and "AccessLogs" not in lid
    ]
    assert len(data_lake_buckets) == 4, data_lake_buckets
    for lid in data_lake_buckets:
        assert lid in selectors, lid
    trail_buckets = [
        r for lid, r in synth.of_type("AWS::S3::Bucket").items() if "ReliableAuditTrail" in lid
    ]
    (bucket,) = trail_buckets
    assert "LoggingConfiguration" in bucket["Properties"]  # to the data lake's log bucket


def test_within_cloudformation_limits(synth: Synth) -> None:
    assert len(synth.level3["Resources"]) < MAX_RESOURCES
    assert len(json.dumps(synth.level3)) < MAX_TEMPLATE_BYTES


def test_the_default_smoke_sample_is_made_from_the_schema() -> None:
    schema_file = ROOT / "pipeline_code" / "schemas" / "churn.json"
    path = _schema_sample(schema_file)
    assert path.read_text() == schema_sample_text(Schema.from_file(schema_file))
    assert _schema_sample(schema_file) == path  # content-named: the templates asset is stable


def test_settings_reach_the_deployment_pipeline_and_the_trail_can_be_left_out(
    tmp_path: Path,
) -> None:
    sample = tmp_path / "rows.csv"
    sample.write_text("1,2,3\n")
    stack = ReliableStack(
        new_app(),
        "Custom",
        reliable=ReliableSettings(
            staging=EndpointStageSettings(stage="staging", serverless=ServerlessConfig()),
            smoke_test_sample=sample,
            endpoint_name_prefix="churn",
            require_manual_approval=False,
            audit_trail=False,
        ),
        env=cdk.Environment(account="111111111111", region="eu-west-1"),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudTrail::Trail", 0)
    assert stack.reliable.audit_trail is None
    deployment = stack.reliable.deployment
    assert deployment.staging_endpoint_name == "churn-staging"
    assert deployment.prod_endpoint_name == "churn-prod"
    stages = [
        s["Name"]
        for p in template.find_resources("AWS::CodePipeline::Pipeline").values()
        for s in p["Properties"]["Stages"]
    ]
    assert "Approve" not in stages


def test_fails_when_the_staging_settings_are_for_prod() -> None:
    with pytest.raises(ValueError, match=r"staging\.stage.*'prod'"):
        ReliableStack(
            new_app(),
            "Wrong",
            reliable=ReliableSettings(staging=EndpointStageSettings.prod()),
        )
