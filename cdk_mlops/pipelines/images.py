"""SageMaker scikit-learn container image URIs, resolved per region at deploy time.

The registry account of the prebuilt scikit-learn images differs per region. The table below is
copied from the SageMaker Python SDK's ``image_uri_config/sklearn.json`` (the same account serves
every framework version and both the training and inference images in a region). Only the
commercial ``aws`` partition is listed; China, GovCloud and ISO regions are left out.

Sources (each a file at a commit on the repository's default branch):

- aws/sagemaker-python-sdk, ``sagemaker-core/src/sagemaker/core/image_uri_config/sklearn.json``
  at a24812666d258d9d19c9a82d0c9385ca0bd3ba01 (master, 2026-08-21): the region -> account table
  (identical for ``1.4-2``, ``1.4-2-py312`` and the older versions). It does not list ``1.9-0``.
- aws/deep-learning-containers at e0ecedea6a1c56d6b5914f9cfb2fec5c548e67e0 (main, 2026-08-21),
  which builds and releases ``1.9-0``: ``.github/config/image/sklearn/sagemaker-1.9-0.yml``
  (``prod_image: sagemaker-scikit-learn:1.9-0-cpu-py3``, ``python_version: "3.12"``),
  ``docker/sklearn/1.9-0/pyproject.toml`` and ``uv.lock`` (library versions, see
  :data:`SKLEARN_IMAGE_RUNTIMES`), ``docker/sklearn/1.9-0/Dockerfile`` (one image for training
  and serving: it sets both ``SAGEMAKER_TRAINING_MODULE`` and ``SAGEMAKER_SERVING_MODULE``).
  Its ``docs/reference/region_availability.md`` ("SageMaker Algorithm Registry") lists the
  scikit-learn accounts: the same as ours for 27 regions; it has no me-central-1 and me-south-1
  rows (those two come from the SDK table only).

:func:`sklearn_image_uri` puts the table into the stack as a CloudFormation mapping and builds the
URI from ``Fn::FindInMap`` + ``AWS::Region`` + ``AWS::URLSuffix``, so one synthesized template
deploys to any listed region (stacks stay environment-agnostic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
# scikit-learn 1.2.1, too old for pipeline_code). pipeline_code stays valid Python 3.10 for it
# (static checks in make typecheck) and its tests run on those versions with
# make container-test-1.4-2 (requirements/container-sklearn-1.4-2.txt).
# Not known to the SDK the oracle test installs (sagemaker 2.257), nor to the SDK's master
# branch (see the module docstring): released by aws/deep-learning-containers, GA 2026-07-16
# (its docs/src/data/sagemaker-scikit-learn/1.9-0-cpu-sagemaker.yml), into the same algorithm
# registry accounts. The oracle test cannot resolve its URI from the SDK.
NEWER_THAN_ORACLE_SDK: frozenset[str] = frozenset({"1.9-0"})
# 1.9-0 (scikit-learn 1.9.0 on Python 3.12) matches the library line pipeline_code is developed
# on, and one image serves as well as trains.
DEFAULT_SKLEARN_VERSION = "1.9-0"


@dataclass(frozen=True, kw_only=True)
class SklearnImageRuntime:
    """What runs ``pipeline_code`` inside one SageMaker scikit-learn image."""

    python: str
    """The interpreter's ``X.Y``."""
    libraries: Mapping[str, str]
    """Distribution name -> exact version, for the libraries ``pipeline_code`` imports."""
    source: str
    """Where these versions are written down (repository, commit, files)."""


# The images pipeline_code is tested on: requirements/container-sklearn-<version>.txt pins these
# (a test keeps them equal) for the Makefile's container environments.
SKLEARN_IMAGE_RUNTIMES: Mapping[str, SklearnImageRuntime] = MappingProxyType(
    {
        "1.9-0": SklearnImageRuntime(
            python="3.12",
            libraries=MappingProxyType(
                {
                    "scikit-learn": "1.9.0",
                    "numpy": "2.5.1",
                    "scipy": "1.18.0",
                    "pandas": "2.2.3",
                    "pyarrow": "25.0.0",
                    "joblib": "1.5.3",
                    "threadpoolctl": "3.6.0",
                    "boto3": "1.43.46",
                }
            ),
            source=(
                "aws/deep-learning-containers@e0ecedea6a1c56d6b5914f9cfb2fec5c548e67e0: "
                ".github/config/image/sklearn/sagemaker-1.9-0.yml, "
                "docker/sklearn/1.9-0/pyproject.toml, docker/sklearn/1.9-0/uv.lock"
            ),
        ),
        # The Python 3.10 build; its Dockerfiles were replaced by 1.4-2-py312 on 2026-03-06.
        # AWS's DLC support policy says it is no longer supported (use 1.4-2-py312).
        "1.4-2": SklearnImageRuntime(
            python="3.10",
            libraries=MappingProxyType(
                {"scikit-learn": "1.4.2", "numpy": "2.1.0", "pyarrow": "17.0.0"}
            ),
            source=(
                "aws/sagemaker-scikit-learn-container@1481b7dfc78aa83f8693111e1d0ee18a934b6d6c: "
                "docker/1.4-2/base/Dockerfile.cpu, docker/1.4-2/final/Dockerfile.cpu"
            ),
        ),
    }
)

# Region -> ECR registry account, from the SDK's sklearn.json (commercial partition only; the
# commit is in the module docstring).
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
#: SageMaker's XGBoost algorithm and framework image (training, processing and serving).
XGBOOST_REPOSITORY = "sagemaker-xgboost"
#: 3.0-5: Python 3.10, xgboost 3.0.5, scikit-learn 1.5.2, numpy 2.1.0, pandas 2.2.3, pyarrow 22
#: (aws/sagemaker-xgboost-container@d4a0e90b89ab30f997df7aff82997d206e01d0c3: docker/3.0-5
#: and requirements.txt, the commit that made 3.0-5).
XGBOOST_VERSIONS = ("3.0-5",)
DEFAULT_XGBOOST_VERSION = "3.0-5"
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
    return _registry_image_uri(
        scope, SKLEARN_REPOSITORY, sklearn_image_tag(framework_version), "scikit-learn"
    )


def xgboost_image_uri(scope: Construct, *, version: str = DEFAULT_XGBOOST_VERSION) -> str:
    """The SageMaker XGBoost image (``sagemaker-xgboost:<version>``) for the stack of ``scope``.

    SageMaker publishes it from the same registry account per region as the scikit-learn image
    (checked against the SageMaker SDK's tables by a test), so the same mapping resolves it.
    """
    if version not in XGBOOST_VERSIONS:
        raise PipelineDefinitionError(
            f"XGBoost version {version!r} is not one of {list(XGBOOST_VERSIONS)} (the image "
            "versions this library is tested against)"
        )
    return _registry_image_uri(scope, XGBOOST_REPOSITORY, version, "XGBoost")


def xgboost_image_uri_for_region(region: str, version: str = DEFAULT_XGBOOST_VERSION) -> str:
    """The literal XGBoost image URI in a known region (for tests and non-CDK use)."""
    sklearn = sklearn_image_uri_for_region(region)
    return f"{sklearn.split('/', 1)[0]}/{XGBOOST_REPOSITORY}:{version}"


def _registry_image_uri(scope: Construct, repository: str, tag: str, what: str) -> str:
    from aws_cdk import Aws, CfnMapping, Fn, Stack, Token

    stack = Stack.of(scope)
    if not Token.is_unresolved(stack.region) and stack.region not in SKLEARN_REGISTRY_ACCOUNTS:
        raise PipelineDefinitionError(
            f"stack {stack.stack_name}: no SageMaker {what} image registry known for "
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
        [account, ".dkr.ecr.", Aws.REGION, ".", Aws.URL_SUFFIX, f"/{repository}:{tag}"],
    )
