"""The README's composition example synthesizes with every compliance pack and no findings."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Template

from cdk_mlops.compliance import add_compliance_checks
from examples.compose_level1 import AnalyticsPlatformStack
from tests.cdk_mlops.helpers import new_app


def test_compose_level1_example_is_compliant(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = AnalyticsPlatformStack(app, "AnalyticsPlatform")
    app.synth()  # raises on any unacknowledged cdk-nag finding
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::SageMaker::Domain", 0)
    t.resource_count_is("AWS::EC2::Subnet", 1)
    t.resource_count_is("AWS::SNS::Subscription", 1)


def test_compose_training_pipeline_example_ships_the_users_code(tmp_path: Path) -> None:
    import shutil

    from cdk_mlops.assets import PIPELINE_CODE_DIR
    from examples.compose_training_pipeline import FraudTrainingStack

    # The user's repository: a copy of pipeline_code under another name, with its own change.
    code = tmp_path / "fraud_ml"
    shutil.copytree(PIPELINE_CODE_DIR, code, ignore=shutil.ignore_patterns("__pycache__"))
    (code / "training" / "README.txt").write_text("fraud team's fork\n")
    app = new_app(outdir=str(tmp_path / "out"))
    add_compliance_checks(app)
    stack = FraudTrainingStack(app, "FraudTraining", code_dir=code, schema="churn")
    app.synth()  # raises on any unacknowledged cdk-nag finding
    training = stack.training
    assert training.code.package_name == "fraud_ml"
    definition = training.definition.to_definition()
    modules = [
        s["Arguments"]["AppSpecification"]["ContainerEntrypoint"][-1]
        for s in definition["Steps"]
        if s["Type"] == "Processing"
    ]
    assert modules and all(m.startswith("fraud_ml.") for m in modules)
    register = training.definition.step(
        "Register"
    ).to_request()  # inside the quality gate's if-branch
    assert (
        register["Arguments"]["CustomerMetadataProperties"]["code_version"]
        == training.code.code_version
    )
    from cdk_mlops.assets import build_bundles

    assert training.code.code_version != build_bundles().code_version
