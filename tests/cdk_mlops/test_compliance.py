"""Compliance gates: every stack of app.py passes cdk-nag (4 packs), cfn-lint and checkov.

The canaries prove each gate fails when it should.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cdk_nag
import pytest
from aws_cdk import aws_s3 as s3

from app import build_app
from cdk_mlops.checks import cfn_lint, checkov, count_nag_acknowledgments, stack_templates
from cdk_mlops.compliance import acknowledge, add_compliance_checks
from tests.cdk_mlops.helpers import ROOT, new_app

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def checkov_exe() -> str:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}; run 'make deps' (it has its own venv)")
    return str(CHECKOV)


def test_app_has_a_stack_per_maturity_level_built_so_far(assembly: Path) -> None:
    assert set(stack_templates(assembly)) == {
        "MlopsLevel1",
        "MlopsLevel2",
        "MlopsLevel3",
        "MlopsLevel3Endpoint",
        "MlopsLevel4",
    }


def test_no_unacknowledged_nag_findings(assembly: Path) -> None:
    report = assembly / "validation-report.json"
    if report.exists():
        violations = [
            v for p in json.loads(report.read_text())["pluginReports"] for v in p["violations"]
        ]
        assert violations == []


def test_cfn_lint_finds_nothing(assembly: Path) -> None:
    for stack, template in stack_templates(assembly).items():
        assert cfn_lint(template) == [], stack


def test_checkov_finds_nothing(assembly: Path, checkov_exe: str) -> None:
    results = checkov(list(stack_templates(assembly).values()), checkov_exe)
    assert {t.name: failed for t, (failed, _) in results.items()} == {t.name: [] for t in results}


def test_every_checkov_skip_is_justified(assembly: Path) -> None:
    for template in stack_templates(assembly).values():
        for lid, res in json.loads(template.read_text())["Resources"].items():
            for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert len(skip["comment"]) >= 30, (lid, skip)


def test_acknowledgments_are_narrow_and_explained(assembly: Path) -> None:
    for stack in stack_templates(assembly):
        entries = json.loads((assembly / f"{stack}.metadata.json").read_text())
        for path, items in entries.items():
            for item in items:
                if item["type"] != "aws:cdk:acknowledged-rules":
                    continue
                for rule, reason in item["data"].items():
                    if rule.startswith("CloudFormation-Validate::"):
                        continue  # CDK's own, on the stack
                    assert path.count("/") >= 2, f"{rule} acknowledged at stack level ({path})"
                    assert len(reason) >= 40, (path, rule, reason)
        # every level stack needs some; the endpoint template (parameters only) needs none
        assert (count_nag_acknowledgments(assembly, stack) > 0) == (stack != "MlopsLevel3Endpoint")


def test_two_synths_are_byte_identical(assembly: Path, tmp_path: Path) -> None:
    build_app(new_app(outdir=str(tmp_path))).synth()
    for stack, template in stack_templates(assembly).items():
        assert (tmp_path / template.name).read_bytes() == template.read_bytes(), stack


# ---------------------------------------------------------------- canaries: each gate can fail
def _unencrypted_bucket_app(outdir: Path) -> cdk.App:
    app = new_app(outdir=str(outdir))
    add_compliance_checks(app)
    stack = cdk.Stack(app, "Canary")
    s3.Bucket(stack, "Plain")
    return app


def test_nag_gate_fails_on_an_unencrypted_bucket(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="ValidationFailed"):
        _unencrypted_bucket_app(tmp_path).synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10", "NIST.800.53.R5-S3DefaultEncryptionKMS"} <= rules


def test_cfn_lint_gate_fails_on_a_broken_template(tmp_path: Path) -> None:
    bad = tmp_path / "bad.template.json"
    bad.write_text(
        json.dumps(
            {
                "Resources": {
                    "B": {
                        "Type": "AWS::S3::Bucket",
                        "Properties": {"VersioningConfiguration": {"Status": "Sometimes"}},
                    }
                }
            }
        )
    )
    assert any(line.startswith("E") for line in cfn_lint(bad))


def test_checkov_gate_fails_on_an_unencrypted_bucket(tmp_path: Path, checkov_exe: str) -> None:
    bad = tmp_path / "bad.template.json"
    bad.write_text(json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {}}}}))
    failed, _ = checkov([bad], checkov_exe)[bad]
    assert any(f.startswith("CKV_AWS_18 ") for f in failed)  # no access logging


def test_fails_when_acknowledging_a_rule_of_no_pack() -> None:
    stack = cdk.Stack(new_app(), "S")
    with pytest.raises(ValueError, match="not a finding of"):
        acknowledge(stack, "IAM5", "the reason is long enough to pass the length check")


def test_fails_when_the_reason_says_nothing() -> None:
    stack = cdk.Stack(new_app(), "S")
    with pytest.raises(ValueError, match="too short"):
        acknowledge(stack, "AwsSolutions-IAM5[Resource::*]", "ok")


def test_packs_are_selectable(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app, packs=(cdk_nag.AwsSolutionsChecks, cdk_nag.NIST80053R5Checks))
    s3.Bucket(cdk.Stack(app, "S"), "Plain")
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    packs = {
        rule["ruleName"].split("-")[0] for p in report["pluginReports"] for rule in p["violations"]
    }
    assert packs == {"AwsSolutions", "NIST.800.53.R5"}


@pytest.mark.parametrize(
    ("packs", "message"),
    [
        ((), "at least one cdk-nag pack"),
        ("AwsSolutions", "at least one cdk-nag pack"),
        (("AwsSolutions",), "not a cdk-nag pack class"),
        ((cdk_nag.AwsSolutionsChecks, cdk_nag.AwsSolutionsChecks), "names a pack twice"),
    ],
)
def test_fails_when_packs_are_not_pack_classes(packs: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        add_compliance_checks(new_app(), packs=packs)
