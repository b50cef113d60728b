"""``cdk synth`` through the CDK CLI, a named account, no AWS credentials (issue 15, item 4).

A stack with ``env=Environment(account, region)`` that creates a ``Network`` makes CDK look up
the account's availability zones; without credentials the CLI then fails with "Need to perform
AWS calls". The answer is a committed ``cdk.context.json`` entry
(``availability_zones_context``) and, to pick the zones, ``Network(availability_zones=...)``.
One CLI run (about 10 to 20 s), shared by the module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdk_mlops.constructs import availability_zones_context
from tests.cdk_mlops.helpers import FEATURE_FLAGS, ROOT

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
ACCOUNT, REGION = "111111111111", "eu-west-1"

APP = textwrap.dedent(
    f"""
    import aws_cdk as cdk

    from cdk_mlops.compliance import add_compliance_checks
    from cdk_mlops.constructs import EncryptionKeys, Network

    app = cdk.App()
    add_compliance_checks(app)
    stack = cdk.Stack(app, "Named", env=cdk.Environment(account="{ACCOUNT}", region="{REGION}"))
    keys = EncryptionKeys(stack, "Keys")
    Network(
        stack,
        "Net",
        availability_zones=["{REGION}a", "{REGION}b"],
        interface_endpoints=[],
        flow_logs_key=keys.logs_key,
    )
    app.synth()
    """
)


def offline_env() -> dict[str, str]:
    """This environment without AWS credentials or profiles, and without instance metadata."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
        AWS_CONFIG_FILE="/nonexistent/config",
        CDK_DISABLE_CLI_TELEMETRY="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    return env


@dataclass
class Synth:
    result: subprocess.CompletedProcess[str]
    out: Path


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    if not CDK_CLI.exists():
        pytest.fail(f"the CDK CLI is not installed at {CDK_CLI}; run 'npm ci' in {ROOT}")
    project = tmp_path_factory.mktemp("named-account")
    (project / "app.py").write_text(APP)
    # The app runs on this checkout's library (PYTHONPATH), with the project's feature flags.
    (project / "cdk.json").write_text(
        json.dumps({"app": f"{sys.executable} app.py", "context": FEATURE_FLAGS}, indent=2)
    )
    context = availability_zones_context(
        account=ACCOUNT, region=REGION, zones=[f"{REGION}a", f"{REGION}b", f"{REGION}c"]
    )
    (project / "cdk.context.json").write_text(json.dumps(context, indent=2))
    env = offline_env()
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [str(CDK_CLI), "synth", "--no-notices", "--no-validation", "--quiet"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Synth(result, project / "cdk.out")


def test_cli_synth_of_a_named_account_needs_no_aws(synth: Synth) -> None:
    assert synth.result.returncode == 0, synth.result.stderr[-3000:]
    assert "Need to perform AWS calls" not in synth.result.stderr
    manifest = json.loads((synth.out / "manifest.json").read_text())
    assert manifest.get("missing", []) == []
    assert manifest["artifacts"]["Named"]["environment"] == f"aws://{ACCOUNT}/{REGION}"


def test_the_vpc_uses_the_zones_given(synth: Synth) -> None:
    template = json.loads((synth.out / "Named.template.json").read_text())
    zones = sorted(
        r["Properties"]["AvailabilityZone"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    )
    assert zones == [f"{REGION}a", f"{REGION}b"]
