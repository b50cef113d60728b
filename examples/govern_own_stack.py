"""Put your organization's guardrails on a stack of your own: its permissions boundary on every
role (ours included, and CDK's custom-resource roles), and mandatory tags checked at synth.

Run it: ``npx cdk synth --app "python -m examples.govern_own_stack"`` (no AWS account needed).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.governance import Governance
from examples.compose_level1 import AnalyticsPlatformStack


class GovernedAnalyticsStack(AnalyticsPlatformStack):
    """The level 1 composition example, governed by the security team's boundary and tags.

    :param boundary_name: the name of the managed policy your security team publishes as the
        permissions boundary (it must exist in the account before deployment).
    :param team: the team that owns the stack (the ``owner`` tag).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        boundary_name: str = "org-ml-workload-boundary",
        team: str = "fraud-analytics",
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.governance = Governance(
            self,
            "Governance",
            permissions_boundary=iam.ManagedPolicy.from_managed_policy_name(
                self, "OrgBoundary", boundary_name
            ),
            tags={"owner": team, "cost-centre": "cc-1234", "data-classification": "restricted"},
        )


if __name__ == "__main__":
    app = cdk.App()
    add_compliance_checks(app)
    GovernedAnalyticsStack(app, "GovernedAnalytics")
    app.synth()
