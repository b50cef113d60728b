"""The govern-your-own-stack example: every role gets the organization's boundary, every taggable
resource the mandatory tags; every compliance pack and cfn-lint pass."""

from __future__ import annotations

import json
from pathlib import Path

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from examples.govern_own_stack import GovernedAnalyticsStack
from tests.cdk_mlops.helpers import new_app


def test_govern_own_stack_example(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    GovernedAnalyticsStack(app, "GovernedAnalytics")
    app.synth()  # raises on a nag finding or a missing mandatory tag
    (template_path,) = stack_templates(tmp_path).values()
    template = json.loads(template_path.read_text())
    resources = template["Resources"].values()
    roles = [r for r in resources if r["Type"] == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        assert "policy/org-ml-workload-boundary" in json.dumps(
            role["Properties"]["PermissionsBoundary"]
        )
    assert not [r for r in resources if r["Type"] == "AWS::IAM::ManagedPolicy"]  # theirs, not ours
    tagged = [r for r in resources if "Tags" in r.get("Properties", {})]
    assert tagged
    for resource in tagged:
        tags = resource["Properties"]["Tags"]
        pairs = {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else tags
        assert pairs["data-classification"] == "restricted"
        assert pairs["owner"] == "fraud-analytics"
    assert cfn_lint(template_path, ("us-east-1",)) == []
