"""The monitor-your-own-endpoint example synthesizes with every compliance pack and no findings."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from examples.monitor_own_endpoint import BASELINE_FOLDER, ENDPOINT_NAME, ChurnMonitoringStack
from tests.cdk_mlops.helpers import new_app


def test_monitor_own_endpoint_example(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    env = cdk.Environment(account="111111111111", region="eu-west-1")
    stack = ChurnMonitoringStack(app, "ChurnMonitoring", env=env)
    app.synth()  # raises on any unacknowledged cdk-nag finding
    t = Template.from_stack(stack).to_json()
    text = json.dumps(t)
    # their endpoint, their buckets, their fixed baseline; no registry lookup
    assert f'($.endpoint = \\"{ENDPOINT_NAME}\\")' in text
    assert f"data-capture/{ENDPOINT_NAME}/AllTraffic/*" in text
    assert f"s3://my-model-artifacts/{BASELINE_FOLDER}" in text
    assert "describeModelPackage" not in text
    alarms = [
        r["Properties"] for r in t["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    auc = next(a for a in alarms if a.get("MetricName") == "auc")
    assert auc["Namespace"] == "aws/sagemaker/Endpoints/model-metrics"
    assert auc["AlarmActions"] == ["arn:aws:sns:eu-west-1:111111111111:alerts"]
    (template,) = stack_templates(tmp_path).values()
    assert cfn_lint(template, ("eu-west-1",)) == []
