"""Step Functions (JSONata) states that find the model package an endpoint serves.

DescribeEndpoint -> DescribeEndpointConfig (the variant's model) -> DescribeModel (its
``ModelPackageName``) -> DescribeModelPackage, then ``assign`` evaluated on the package. Every
lookup is defined even when something is missing (Step Functions fails a state whose expression
is undefined): a variant the endpoint does not serve, or a model that is not a model package,
goes to ``missing_state``; an API error (no such endpoint yet, throttling after retries) to
``catch_state``. Used by ``ModelMonitoring`` (the deployed version's drift baseline) and
``DriftRetraining`` (the production model to compare a retrained one with).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from cdk_mlops.constructs._sagemaker import sagemaker_arn

DESCRIBE_ACTIONS = (
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeModelPackage",
)


def deployed_package_states(
    *,
    endpoint_name: str,
    variant_name: str,
    assign: dict[str, str],
    next_state: str,
    missing_state: str,
    catch_state: str,
    prefix: str = "",
) -> dict[str, Any]:
    """The states, named ``<prefix>DescribeEndpoint`` ... ``<prefix>DescribeModelPackage``;
    the chain starts at ``<prefix>DescribeEndpoint``. ``assign`` sees the package as
    ``$states.result``; its expressions must be defined for any package."""
    catch = [{"ErrorEquals": ["States.ALL"], "Next": catch_state}]
    retry = [
        {
            "ErrorEquals": ["SageMaker.SageMakerException", "SageMaker.ThrottlingException"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            "BackoffRate": 2,
        }
    ]
    variant = f"$states.result.ProductionVariants[VariantName = '{variant_name}']"
    return {
        f"{prefix}DescribeEndpoint": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
            "Arguments": {"EndpointName": endpoint_name},
            "Assign": {"endpointConfig": "{% $states.result.EndpointConfigName %}"},
            "Retry": retry,
            "Catch": catch,
            "Next": f"{prefix}DescribeEndpointConfig",
        },
        f"{prefix}DescribeEndpointConfig": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpointConfig",
            "Arguments": {"EndpointConfigName": "{% $endpointConfig %}"},
            # '' (not undefined, which fails the state) when the variant is not served
            "Assign": {"modelName": f"{{% $exists({variant}) ? {variant}.ModelName : '' %}}"},
            "Retry": retry,
            "Catch": catch,
            "Next": f"{prefix}HasVariant?",
        },
        f"{prefix}HasVariant?": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $modelName != '' %}", "Next": f"{prefix}DescribeModel"}],
            "Default": missing_state,
        },
        f"{prefix}DescribeModel": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeModel",
            "Arguments": {"ModelName": "{% $modelName %}"},
            "Assign": {
                "modelPackage": "{% $states.result.PrimaryContainer.ModelPackageName ? "
                "$states.result.PrimaryContainer.ModelPackageName : "
                "$states.result.Containers[0].ModelPackageName ? "
                "$states.result.Containers[0].ModelPackageName : '' %}"
            },
            "Retry": retry,
            "Catch": catch,
            "Next": f"{prefix}HasPackage?",
        },
        f"{prefix}HasPackage?": {
            "Type": "Choice",
            "Choices": [
                {
                    "Condition": "{% $modelPackage != '' %}",
                    "Next": f"{prefix}DescribeModelPackage",
                }
            ],
            "Default": missing_state,
        },
        f"{prefix}DescribeModelPackage": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeModelPackage",
            "Arguments": {"ModelPackageName": "{% $modelPackage %}"},
            "Assign": assign,
            "Retry": retry,
            "Catch": catch,
            "Next": next_state,
        },
    }


def describe_deployed_package_statement(
    stack: cdk.Stack, endpoint_name: str
) -> iam.PolicyStatement:
    """Read-only Describe calls the chain makes: the endpoint by name; its config, model and
    package change with every deployment."""
    endpoint = endpoint_name if cdk.Token.is_unresolved(endpoint_name) else endpoint_name.lower()
    return iam.PolicyStatement(
        sid="FindDeployedModel",
        actions=list(DESCRIBE_ACTIONS),
        resources=[
            sagemaker_arn(stack, "endpoint", endpoint),
            sagemaker_arn(stack, "endpoint-config", "*"),
            sagemaker_arn(stack, "model", "*"),
            sagemaker_arn(stack, "model-package", "*"),
        ],
    )


def describe_findings(stack: cdk.Stack) -> list[str]:
    """cdk-nag IAM5 findings of :func:`describe_deployed_package_statement`."""
    from cdk_mlops.compliance import resource_finding

    return [
        resource_finding(stack, sagemaker_arn(stack, kind, "*"))
        for kind in ("endpoint-config", "model", "model-package")
    ]
