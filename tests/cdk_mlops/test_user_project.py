"""The README's "Use it in your own project", step by step, in a folder outside the repository.

1. a new virtual environment in the project, ``pip install "<checkout>[checks]"``;
2. an ``app.py`` of the user's own: their network stack with a VPC hardened by ``VpcHardening``,
   and an ML stack whose ``Network`` adds interface endpoints to that VPC (its CIDR is a token
   there), with ``EncryptionKeys`` and ``DataLake``, both under a named account; every cdk-nag
   pack on;
3. ``cdk.json`` (the app command and feature flags) and a committed ``cdk.context.json`` (the
   account's zones, from ``availability_zones_context``);
4. ``cdk synth`` through the CDK CLI with no AWS credentials in the environment;
5. ``cdk-mlops check cdk.out --checkov <checkov>`` exits 0; ``cdk-mlops check missing`` exits 2.

One venv, one synth. pip's cache makes the install quick after the first run; the test prints
each step's time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cdk_mlops.helpers import FEATURE_FLAGS, ROOT
from tests.cdk_mlops.test_named_account_cli import CDK_CLI, offline_env

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "README.md", "cdk_mlops", "pipeline_code")
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"

#: The user's app.py, as the README shows it.
APP = textwrap.dedent(
    """
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    from cdk_mlops.compliance import add_compliance_checks
    from cdk_mlops.constructs import DataLake, EncryptionKeys, Network, VpcHardening

    ENV = cdk.Environment(account="111111111111", region="eu-west-1")

    app = cdk.App()
    add_compliance_checks(app)  # cdk-nag: AwsSolutions, HIPAA, NIST 800-53 rev5, PCI DSS 3.2.1

    # Your network stack: your VPC, hardened to the same bar as the VPCs cdk-mlops creates.
    network = cdk.Stack(app, "Network", env=ENV)
    vpc = ec2.Vpc(
        network,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
        restrict_default_security_group=True,
    )
    VpcHardening(network, "VpcHardening", vpc=vpc)

    # Your ML stack: keys, a data lake and endpoints in that VPC (its CIDR is a token here).
    ml = cdk.Stack(app, "MlPlatform", env=ENV)
    keys = EncryptionKeys(ml, "Keys")
    DataLake(ml, "DataLake", encryption_key=keys.data_key)
    Network(
        ml,
        "Network",
        vpc=vpc,
        interface_endpoints=[
            ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
            ec2.InterfaceVpcEndpointAwsService.STS,
        ],
    )

    app.synth()
    """
)
#: What the user writes to cdk.context.json (availability_zones_context prints the same).
CONTEXT = {
    "availability-zones:account=111111111111:region=eu-west-1": [
        "eu-west-1a",
        "eu-west-1b",
        "eu-west-1c",
    ]
}


@dataclass
class Project:
    folder: Path
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        started = time.perf_counter()
        result = subprocess.run(
            list(args),
            cwd=self.folder,
            env=offline_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        label = " ".join(Path(a).name for a in args[:3] if not a.startswith("-") or a == "-m")
        self.timings[label] = time.perf_counter() - started
        return result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    for tool in (CDK_CLI, CHECKOV):
        if not tool.exists():
            pytest.fail(f"{tool} is not installed; run 'make deps'")
    base = tmp_path_factory.mktemp("user-project")
    assert ROOT not in base.parents
    checkout = base / "cdk-mlops"
    checkout.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, checkout / name)
    folder = base / "my-ml-platform"
    folder.mkdir()
    proj = Project(folder)
    # Step 1: a virtual environment in the project, the library with the checks extra.
    venv = proj.run(sys.executable, "-m", "venv", ".venv")
    assert venv.returncode == 0, venv.stderr
    install = proj.run(
        ".venv/bin/python",
        "-m",
        "pip",
        "install",
        "-q",
        "--no-compile",
        "--disable-pip-version-check",
        "-c",
        str(ROOT / "requirements" / "constraints.txt"),
        f"{checkout}[checks]",
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # Steps 2 and 3: app.py, cdk.json, cdk.context.json.
    (folder / "app.py").write_text(APP)
    (folder / "cdk.json").write_text(
        json.dumps({"app": ".venv/bin/python app.py", "context": FEATURE_FLAGS}, indent=2)
    )
    (folder / "cdk.context.json").write_text(json.dumps(CONTEXT, indent=2))
    yield proj
    print("user project timings (s):", {k: round(v, 1) for k, v in proj.timings.items()})
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def synth(project: Project) -> subprocess.CompletedProcess[str]:
    # Step 4: the CDK CLI, no AWS credentials in the environment.
    return project.run(str(CDK_CLI), "synth", "--no-notices", "--no-validation", "--quiet")


def test_the_context_file_is_what_the_helper_writes() -> None:
    from cdk_mlops.constructs import availability_zones_context

    assert (
        availability_zones_context(
            account="111111111111",
            region="eu-west-1",
            zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        )
        == CONTEXT
    )


def test_the_install_brings_cfn_lint_and_the_command(project: Project) -> None:
    result = project.run(".venv/bin/cdk-mlops", "--version")
    assert result.returncode == 0, result.stderr
    probe = project.run(".venv/bin/python", "-c", "import cfnlint, cdk_mlops.checks")
    assert probe.returncode == 0, probe.stderr


def test_cdk_synth_through_the_cli_passes_every_nag_pack_offline(
    project: Project, synth: subprocess.CompletedProcess[str]
) -> None:
    assert synth.returncode == 0, synth.stderr[-4000:]
    assert "Need to perform AWS calls" not in synth.stderr
    out = project.folder / "cdk.out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest.get("missing", []) == []
    assert {"Network", "MlPlatform"} <= set(manifest["artifacts"])
    # cdk-nag ran (its plugins are registered) and found nothing unacknowledged.
    report = out / "validation-report.json"
    if report.exists():
        violations = [
            v["ruleName"]
            for p in json.loads(report.read_text())["pluginReports"]
            for v in p["violations"]
            if not v["ruleName"].startswith("Annotation::")
        ]
        assert violations == []
    acknowledged = json.loads((out / "MlPlatform.metadata.json").read_text())
    assert any(
        item["type"] == "aws:cdk:acknowledged-rules"
        for items in acknowledged.values()
        for item in items
    )


def test_cdk_mlops_check_passes(project: Project, synth: subprocess.CompletedProcess[str]) -> None:
    assert synth.returncode == 0
    # Step 5: the template checks, as in the user's CI.
    result = project.run(".venv/bin/cdk-mlops", "check", "cdk.out", "--checkov", str(CHECKOV))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[2:]}
    assert set(rows) == {"Network", "MlPlatform"}
    for row in rows.values():
        # status, cfn-lint findings, checkov failed/skipped (it ran: not "not run")
        assert (row[-1], row[-3], row[-2].split("/")[0]) == ("ok", "0", "0"), row


def test_cdk_mlops_check_on_a_missing_folder_exits_2(project: Project) -> None:
    result = project.run(".venv/bin/cdk-mlops", "check", "missing")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("cdk-mlops check: assembly folder 'missing' does not exist")
