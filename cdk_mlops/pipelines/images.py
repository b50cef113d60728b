"""SageMaker scikit-learn container image URIs, resolved per region at deploy time.

The registry account of the prebuilt scikit-learn images differs per region. The table below is
copied from the SageMaker Python SDK's ``src/sagemaker/image_uri_config/sklearn.json`` (the same
account serves every framework version and both the training and inference images in a region).
Only the commercial ``aws`` partition is listed; China, GovCloud and ISO regions are left out.

:func:`sklearn_image_uri` puts the table into the stack as a CloudFormation mapping and builds the
URI from ``Fn::FindInMap`` + ``AWS::Region`` + ``AWS::URLSuffix``, so one synthesized template
deploys to any listed region (stacks stay environment-agnostic).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from cdk_mlops.pipelines.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from constructs import Construct

SKLEARN_REPOSITORY = "sagemaker-scikit-learn"

# Framework versions published in sklearn.json, with the same registry account per region.
SKLEARN_FRAMEWORK_VERSIONS: tuple[str, ...] = (
    "0.20.0",
    "0.23-1",
    "1.0-1",
    "1.2-1",
    "1.4-2",
    "1.9-0",
)
# sklearn.json (SDK 2.253+, and sagemaker-core 3.x) lists these under "training" only, not
# "inference". It is one image all the same: the 1.4-2 Dockerfile sets both
# SAGEMAKER_TRAINING_MODULE and SAGEMAKER_SERVING_MODULE and starts the model server on 8080,
# so we also register models with it.
SDK_TRAINING_ONLY_VERSIONS: frozenset[str] = frozenset({"1.4-2"})
# 1.4-2: Python 3.10, numpy 2.1.0, scikit-learn 1.4.2, pyarrow 17 (1.2-1 has Python 3.9 and
# scikit-learn 1.2.1, too old for pipeline_code). pipeline_code is tested against the 1.4-2
# libraries in .venv-container (requirements/container-sklearn-1.4-2.txt).
# Newer than the SDK the oracle test installs (sagemaker 2.257): listed for training AND
# inference, same registry accounts, in the SDK's sagemaker-core/src/sagemaker/core/
# image_uri_config/sklearn.json (aws/sagemaker-python-sdk commit 5e2ee19b).
NEWER_THAN_ORACLE_SDK: frozenset[str] = frozenset({"1.9-0"})
# 1.9-0 (scikit-learn 1.9, Python 3.12 per the SDK change that added it) matches the library
# line pipeline_code is developed and tested on, and is listed for serving too.
DEFAULT_SKLEARN_VERSION = "1.9-0"

# Region -> ECR registry account, from the SDK's sklearn.json (commercial partition only).
SKLEARN_REGISTRY_ACCOUNTS: Mapping[str, str] = MappingProxyType(
    {
        "af-south-1": "510948584623",
        "ap-east-1": "651117190479",
        "ap-northeast-1": "354813040037",
        "ap-northeast-2": "366743142698",
        "ap-northeast-3": "867004704886",
        "ap-south-1": "720646828776",
        "ap-south-2": "628508329040",
        "ap-southeast-1": "121021644041",
        "ap-southeast-2": "783357654285",
        "ap-southeast-3": "951798379941",
        "ap-southeast-4": "106583098589",
        "ca-central-1": "341280168497",
        "ca-west-1": "190319476487",
        "eu-central-1": "492215442770",
        "eu-central-2": "680994064768",
        "eu-north-1": "662702820516",
        "eu-south-1": "978288397137",
        "eu-south-2": "104374241257",
        "eu-west-1": "141502667606",
        "eu-west-2": "764974769150",
        "eu-west-3": "659782779980",
        "il-central-1": "898809789911",
        "me-central-1": "272398656194",
        "me-south-1": "801668240914",
        "sa-east-1": "737474898029",
        "us-east-1": "683313688378",
        "us-east-2": "257758044811",
        "us-west-1": "746614075791",
        "us-west-2": "246618743249",
    }
)

MAPPING_ID = "SageMakerSklearnImageRegistry"
_ACCOUNT_KEY = "account"


def sklearn_image_tag(framework_version: str = DEFAULT_SKLEARN_VERSION) -> str:
    """The image tag, e.g. ``1.4-2-cpu-py3``."""
    if framework_version not in SKLEARN_FRAMEWORK_VERSIONS:
        raise PipelineDefinitionError(
            f"scikit-learn framework_version {framework_version!r} is not one of "
            f"{list(SKLEARN_FRAMEWORK_VERSIONS)} (the versions SageMaker publishes images for)"
        )
    return f"{framework_version}-cpu-py3"


def sklearn_image_uri_for_region(
    region: str, framework_version: str = DEFAULT_SKLEARN_VERSION
) -> str:
    """The literal image URI in a known region (for tests and non-CDK use)."""
    if region not in SKLEARN_REGISTRY_ACCOUNTS:
        raise PipelineDefinitionError(
            f"no SageMaker scikit-learn image registry known for region {region!r}; "
            f"known regions: {', '.join(sorted(SKLEARN_REGISTRY_ACCOUNTS))}"
        )
    account = SKLEARN_REGISTRY_ACCOUNTS[region]
    return (
        f"{account}.dkr.ecr.{region}.amazonaws.com/{SKLEARN_REPOSITORY}:"
        f"{sklearn_image_tag(framework_version)}"
    )


def sklearn_image_uri(scope: Construct, *, framework_version: str = DEFAULT_SKLEARN_VERSION) -> str:
    """An image URI token for the stack of ``scope``, resolved by region at deploy time.

    Adds the region -> account ``CfnMapping`` to the stack once (id ``MAPPING_ID``) and
    returns ``<account>.dkr.ecr.<region>.<url suffix>/sagemaker-scikit-learn:<tag>``.
    A stack with a concrete region outside the table fails here, at synth, rather than at
    deploy.
    """
    from aws_cdk import Aws, CfnMapping, Fn, Stack, Token

    tag = sklearn_image_tag(framework_version)
    stack = Stack.of(scope)
    if not Token.is_unresolved(stack.region) and stack.region not in SKLEARN_REGISTRY_ACCOUNTS:
        raise PipelineDefinitionError(
            f"stack {stack.stack_name}: no SageMaker scikit-learn image registry known for "
            f"region {stack.region!r}; known regions: {', '.join(sorted(SKLEARN_REGISTRY_ACCOUNTS))}"
        )
    mapping = stack.node.try_find_child(MAPPING_ID)
    if mapping is None:
        mapping = CfnMapping(
            stack,
            MAPPING_ID,
            mapping={
                region: {_ACCOUNT_KEY: account}
                for region, account in sorted(SKLEARN_REGISTRY_ACCOUNTS.items())
            },
        )
    assert isinstance(mapping, CfnMapping)
    # Through the mapping object (not Fn.find_in_map), so CDK knows the mapping is used.
    account = mapping.find_in_map(Aws.REGION, _ACCOUNT_KEY)
    return Fn.join(
        "",
        [account, ".dkr.ecr.", Aws.REGION, ".", Aws.URL_SUFFIX, f"/{SKLEARN_REPOSITORY}:{tag}"],
    )
