"""scikit-learn image URIs: the region table and the CloudFormation mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from cdk_mlops.pipelines import PipelineDefinitionError
from cdk_mlops.pipelines.images import (
    DEFAULT_SKLEARN_VERSION,
    MAPPING_ID,
    NEWER_THAN_ORACLE_SDK,
    SDK_TRAINING_ONLY_VERSIONS,
    SKLEARN_FRAMEWORK_VERSIONS,
    SKLEARN_REGISTRY_ACCOUNTS,
    sklearn_image_uri,
    sklearn_image_uri_for_region,
)
from tests.cdk_mlops.helpers import new_app

ROOT = Path(__file__).resolve().parents[3]


def synth(build: Any, env: cdk.Environment | None = None) -> tuple[dict[str, Any], Any]:
    """Template of a stack built by ``build(stack)``, and what it returned."""
    app = new_app()
    stack = cdk.Stack(app, "Images", env=env)
    result = build(stack)
    cdk.CfnOutput(stack, "Uri", value=result if isinstance(result, str) else result[0])
    return app.synth().get_stack_by_name("Images").template, result


@pytest.fixture(scope="module")
def agnostic() -> dict[str, Any]:
    """An environment-agnostic stack asking for two images."""
    template, _ = synth(
        lambda s: (sklearn_image_uri(s), sklearn_image_uri(s, framework_version="1.0-1"))
    )
    return template


def test_known_accounts_match_the_sdk_table() -> None:
    # Spot checks against the SageMaker SDK's sklearn.json (TOOLCHAIN.md notes us-east-1).
    assert SKLEARN_REGISTRY_ACCOUNTS["us-east-1"] == "683313688378"
    assert SKLEARN_REGISTRY_ACCOUNTS["eu-west-1"] == "141502667606"
    assert SKLEARN_REGISTRY_ACCOUNTS["ap-southeast-2"] == "783357654285"
    assert len(SKLEARN_REGISTRY_ACCOUNTS) == 29
    assert all(len(a) == 12 and a.isdigit() for a in SKLEARN_REGISTRY_ACCOUNTS.values())
    # Commercial partition only.
    assert not [r for r in SKLEARN_REGISTRY_ACCOUNTS if r.startswith(("cn-", "us-gov-", "us-iso"))]


def test_literal_uri_for_a_region() -> None:
    assert sklearn_image_uri_for_region("us-east-1") == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )
    assert sklearn_image_uri_for_region("eu-central-1", "0.23-1").endswith(":0.23-1-cpu-py3")
    assert sklearn_image_uri_for_region("eu-west-1", "1.2-1") == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )


def test_default_is_the_scikit_learn_line_pipeline_code_is_developed_on() -> None:
    # 1.2-1 runs Python 3.9 and scikit-learn 1.2.1, too old for pipeline_code; 1.9-0 carries
    # scikit-learn 1.9 (our dev line) and is listed for serving as well as training.
    assert DEFAULT_SKLEARN_VERSION == "1.9-0"
    assert frozenset({"1.9-0"}) == NEWER_THAN_ORACLE_SDK


def test_the_older_python_310_image_is_covered_by_the_container_test_env() -> None:
    # pipeline_code is also tested against the 1.4-2 libraries (requirements/container-sklearn-1.4-2.txt).
    pins = (ROOT / "requirements" / "container-sklearn-1.4-2.txt").read_text(encoding="utf-8")
    for pin in ("numpy==2.1.0", "scikit-learn==1.4.2", "pyarrow==17.0.0"):
        assert pin in pins.splitlines(), pin
    # the SDK lists 1.4-2 for training only; we use it for serving too (same image)
    assert sorted(SDK_TRAINING_ONLY_VERSIONS) == ["1.4-2"]
    assert SDK_TRAINING_ONLY_VERSIONS.issubset(SKLEARN_FRAMEWORK_VERSIONS)


def test_mapping_is_added_once_with_every_region(agnostic: dict[str, Any]) -> None:
    mappings = agnostic["Mappings"]
    assert list(mappings) == [MAPPING_ID]
    assert mappings[MAPPING_ID] == {
        region: {"account": account} for region, account in SKLEARN_REGISTRY_ACCOUNTS.items()
    }


def test_uri_is_built_from_find_in_map_region_and_url_suffix(agnostic: dict[str, Any]) -> None:
    uri = agnostic["Outputs"]["Uri"]["Value"]
    assert uri == {
        "Fn::Join": [
            "",
            [
                {"Fn::FindInMap": [MAPPING_ID, {"Ref": "AWS::Region"}, "account"]},
                ".dkr.ecr.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/sagemaker-scikit-learn:1.9-0-cpu-py3",
            ],
        ]
    }


def test_a_stack_in_a_listed_region_synthesizes() -> None:
    template, _ = synth(sklearn_image_uri, env=cdk.Environment(region="eu-west-1"))
    assert MAPPING_ID in template["Mappings"]


def test_fails_for_a_concrete_region_outside_the_table() -> None:
    with pytest.raises(PipelineDefinitionError, match="no SageMaker scikit-learn image registry"):
        synth(sklearn_image_uri, env=cdk.Environment(region="cn-north-1"))
    with pytest.raises(PipelineDefinitionError, match="known regions"):
        sklearn_image_uri_for_region("xx-nowhere-1")


def test_fails_for_an_unpublished_framework_version() -> None:
    with pytest.raises(PipelineDefinitionError, match=r"not one of \['0.20.0'"):
        sklearn_image_uri_for_region("us-east-1", "1.5-1")
    assert {"1.2-1", "1.4-2"} <= set(SKLEARN_FRAMEWORK_VERSIONS)
