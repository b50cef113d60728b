"""Helpers for the deployment tests: a moto account with a registry and endpoints.

moto 5 implements ListModelPackages, DescribeModelPackage, CreateModel, CreateEndpointConfig,
CreateEndpoint, DescribeEndpoint(Config) and DescribeModel, and sagemaker-runtime
InvokeEndpoint with a queue of configured answers. It has no UpdateEndpoint: an endpoint
"after a deployment" is built directly on the config it ends up on, and a status such as
``Failed`` is set on moto's endpoint object. What moto cannot answer at all (``ModelError``
with ``OriginalStatusCode``, ``LastDeploymentConfig``, a status sequence) goes through
botocore's Stubber in the tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

REGION = "eu-west-1"
ACCOUNT = "123456789012"
GROUP = "churn"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/model-execution"
INFERENCE_SPEC = {
    "Containers": [
        {
            "Image": f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "ModelDataUrl": "s3://artifacts/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["application/json"],
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh moto account in eu-west-1, with the deployment env variables cleared."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in (
        "MODEL_PACKAGE_GROUP_NAME",
        "MODEL_PACKAGE_ARN",
        "EVENT_MODEL_PACKAGE_ARN",
        "PROD_ENDPOINT_NAME",
        "ENDPOINT_NAME",
        "SAMPLE_FILE",
        "P99_MS",
        "ALERTS_TOPIC_ARN",
        "RESOLVED_FILE",
        "EXPECTED_ENDPOINT_CONFIG_NAME",
        "ON_DUPLICATE",
    ):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def sagemaker() -> Any:
    return boto3.client("sagemaker", region_name=REGION)


def register(statuses: list[str], group: str = GROUP) -> list[str]:
    """Versions 1..n of ``group`` with these approval statuses; returns their ARNs."""
    sm = sagemaker()
    if not sm.list_model_package_groups(NameContains=group)["ModelPackageGroupSummaryList"]:
        sm.create_model_package_group(ModelPackageGroupName=group)
    return [
        sm.create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification=INFERENCE_SPEC,
            ModelApprovalStatus=status,
        )["ModelPackageArn"]
        for status in statuses
    ]


def serve(
    endpoint: str, package_arn: str, *, config: str | None = None, create_endpoint: bool = True
) -> str:
    """A model + endpoint config for ``package_arn`` (and the endpoint on it); returns the config name."""
    sm = sagemaker()
    suffix = package_arn.rsplit("/", 1)[-1]
    model = f"{endpoint}-model-v{suffix}"
    config = config or f"{endpoint}-config-v{suffix}"
    sm.create_model(
        ModelName=model, ExecutionRoleArn=ROLE, Containers=[{"ModelPackageName": package_arn}]
    )
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    if create_endpoint:
        sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return config


def set_endpoint_status(endpoint: str, status: str, reason: str | None = None) -> None:
    """Put moto's endpoint into ``status`` (moto has no UpdateEndpoint to get there)."""
    from moto.sagemaker.models import sagemaker_backends

    ep = sagemaker_backends[ACCOUNT][REGION].endpoints[endpoint]
    ep.endpoint_status = status
    ep.failure_reason = reason  # type: ignore[assignment]


def queue_invoke_results(bodies: list[str], content_type: str = "application/json") -> None:
    """moto's documented way to set what InvokeEndpoint answers, one body per request."""
    results = [
        {
            "Body": b,
            "ContentType": content_type,
            "InvokedProductionVariant": "AllTraffic",
            "CustomAttributes": "",
        }
        for b in bodies
    ]
    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={"account_id": ACCOUNT, "region": REGION, "results": results},
        timeout=5,
    )
    assert response.status_code == 201, response.text


def predictions(probabilities: list[float]) -> str:
    return json.dumps(
        {
            "predictions": [
                {"probability": p, "predicted_label": int(p >= 0.5)} for p in probabilities
            ]
        }
    )
