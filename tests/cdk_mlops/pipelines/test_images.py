"""scikit-learn image URIs: the region table and the CloudFormation mapping."""

from __future__ import annotations

import re
import subprocess
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
    SKLEARN_IMAGE_RUNTIMES,
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
    # scikit-learn 1.9 (our dev line) and is one image for serving as well as training.
    assert DEFAULT_SKLEARN_VERSION == "1.9-0"
    assert frozenset({"1.9-0"}) == NEWER_THAN_ORACLE_SDK


def _requirements(version: str) -> tuple[str, dict[str, str]]:
    """The ``# python: X.Y`` line and the ``name==version`` pins of a container requirements file."""
    text = (ROOT / "requirements" / f"container-sklearn-{version}.txt").read_text(encoding="utf-8")
    python = re.search(r"^# python: *(\S+)$", text, re.MULTILINE)
    assert python, f"container-sklearn-{version}.txt has no '# python: X.Y' line"
    pins = dict(
        line.split("==", 1) for line in text.splitlines() if "==" in line and line[0] != "#"
    )
    return python.group(1), {name.lower(): pin for name, pin in pins.items()}


def test_default_image_runtime_is_the_dlc_release_config() -> None:
    # aws/deep-learning-containers: .github/config/image/sklearn/sagemaker-1.9-0.yml says
    # Python 3.12; docker/sklearn/1.9-0/pyproject.toml pins scikit-learn 1.9.0, pandas 2.2.3...
    runtime = SKLEARN_IMAGE_RUNTIMES[DEFAULT_SKLEARN_VERSION]
    assert runtime.python == "3.12"
    assert dict(runtime.libraries) == {
        "scikit-learn": "1.9.0",
        "numpy": "2.5.1",
        "scipy": "1.18.0",
        "pandas": "2.2.3",
        "pyarrow": "25.0.0",
        "joblib": "1.5.3",
        "threadpoolctl": "3.6.0",
        "boto3": "1.43.46",
    }


def test_runtime_sources_are_files_at_full_commits() -> None:
    # A source that holds: owner/repo@<40-hex commit>: the files. A short or unknown hash
    # (the SDK commit cited before, 5e2ee19b, is on no branch of the SDK) fails here.
    for version, runtime in SKLEARN_IMAGE_RUNTIMES.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}: \S.*", runtime.source), version
    source = Path(sklearn_image_uri.__code__.co_filename).read_text(encoding="utf-8")
    short_hashes = [h for h in re.findall(r"\b[0-9a-f]{7,39}\b", source) if re.search(r"[a-f]", h)]
    assert short_hashes == []


@pytest.mark.parametrize("version", sorted(SKLEARN_IMAGE_RUNTIMES))
def test_container_requirements_pin_the_image_runtime(version: str) -> None:
    runtime = SKLEARN_IMAGE_RUNTIMES[version]
    python, pins = _requirements(version)
    assert python == runtime.python
    for name, pin in runtime.libraries.items():
        assert pins.get(name) == pin, name


@pytest.mark.parametrize(
    ("target", "version"),
    [
        (".venv-container/.installed", DEFAULT_SKLEARN_VERSION),
        (".venv-container-1.4-2/.installed", "1.4-2"),
    ],
)
def test_makefile_builds_each_container_env_on_the_image_python(target: str, version: str) -> None:
    # make -n -B prints the recipe without running it: the env is (re)created on the image's
    # Python X.Y and filled from that image's requirements file.
    out = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", target, "CONTAINER_PYTHON=python3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    major, minor = SKLEARN_IMAGE_RUNTIMES[version].python.split(".")
    assert f"sys.version_info[:2] != ({major},{minor})" in out
    assert f"-r requirements/container-sklearn-{version}.txt" in out


def test_make_test_runs_the_default_image_container_tests() -> None:
    out = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", "container-test", "CONTAINER_PYTHON=python3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"-r requirements/container-sklearn-{DEFAULT_SKLEARN_VERSION}.txt" in out
    assert ".venv-container/bin/python -m pytest tests/pipeline_code" in out


def test_typecheck_covers_the_python_of_every_tested_image() -> None:
    out = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", "typecheck"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for runtime in SKLEARN_IMAGE_RUNTIMES.values():
        assert f"mypy --python-version {runtime.python} pipeline_code" in out, runtime.python


def test_sdk_lists_the_older_image_for_training_only() -> None:
    # the SDK lists 1.4-2 for training only; we use it for serving too (same image)
    assert sorted(SDK_TRAINING_ONLY_VERSIONS) == ["1.4-2"]
    assert SDK_TRAINING_ONLY_VERSIONS.issubset(SKLEARN_FRAMEWORK_VERSIONS)
    assert set(SKLEARN_IMAGE_RUNTIMES) <= set(SKLEARN_FRAMEWORK_VERSIONS)


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
