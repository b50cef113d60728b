"""EndpointStack: parameters, outputs and stage defaults."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from cdk_mlops.stacks.endpoint import ENDPOINT_PARAMETERS, EndpointStack, EndpointStageSettings
from tests.cdk_mlops.helpers import new_app


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    app = new_app()
    return dict(
        Template.from_stack(
            EndpointStack(app, "Prod", settings=EndpointStageSettings.prod())
        ).to_json()
    )


def test_parameters_and_outputs(prod: dict[str, Any]) -> None:
    assert set(ENDPOINT_PARAMETERS) <= set(prod["Parameters"])
    assert {"EndpointName", "EndpointConfigName", "ModelPackageArn"} <= set(prod["Outputs"])


def test_prod_canary(prod: dict[str, Any]) -> None:
    (endpoint,) = [r for r in prod["Resources"].values() if r["Type"] == "AWS::SageMaker::Endpoint"]
    routing = endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"
    ]
    assert routing == {"Type": "CANARY", "WaitIntervalInSeconds": 600,
                       "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}  # fmt: skip
    (config,) = [
        r for r in prod["Resources"].values() if r["Type"] == "AWS::SageMaker::EndpointConfig"
    ]
    assert config["Properties"]["ProductionVariants"][0]["InitialInstanceCount"] == 2
    assert "KmsKeyId" in config["Properties"]


def test_serverless_staging_has_no_volume_key() -> None:
    app = new_app()
    t = dict(
        Template.from_stack(
            EndpointStack(app, "Staging", settings=EndpointStageSettings.staging(serverless=True))
        ).to_json()
    )
    (config,) = [
        r for r in t["Resources"].values() if r["Type"] == "AWS::SageMaker::EndpointConfig"
    ]
    assert "KmsKeyId" not in config["Properties"]
    assert (
        config["Properties"]["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"] == 2048
    )
