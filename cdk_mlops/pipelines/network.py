"""Where a job runs: its VPC (subnets, security groups), isolation and traffic encryption."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdk_mlops.pipelines._checks import _frozen_tuple
from cdk_mlops.pipelines.errors import PipelineDefinitionError


@dataclass(frozen=True, kw_only=True)
class VpcConfig:
    """Subnets and security groups a job runs in (ids or CDK tokens)."""

    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]

    def __post_init__(self) -> None:
        _frozen_tuple(self, "subnet_ids")
        _frozen_tuple(self, "security_group_ids")
        if not 1 <= len(self.subnet_ids) <= 16:
            raise PipelineDefinitionError(
                f"VpcConfig.subnet_ids: 1 to 16 subnets, got {len(self.subnet_ids)}"
            )
        if not 1 <= len(self.security_group_ids) <= 5:
            raise PipelineDefinitionError(
                f"VpcConfig.security_group_ids: 1 to 5 groups, got {len(self.security_group_ids)}"
            )
        for v in (*self.subnet_ids, *self.security_group_ids):
            if not isinstance(v, str) or not v:
                raise PipelineDefinitionError(
                    f"VpcConfig: ids must be non-empty strings, got {v!r}"
                )

    def to_request(self) -> dict[str, Any]:
        """``VpcConfig`` as in the SageMaker API."""
        return {
            "SecurityGroupIds": list(self.security_group_ids),
            "Subnets": list(self.subnet_ids),
        }


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """Network settings of a job. Isolation and traffic encryption are on by default."""

    vpc: VpcConfig | None = None
    enable_network_isolation: bool = True
    enable_inter_container_traffic_encryption: bool = True

    def __post_init__(self) -> None:
        for attr in ("enable_network_isolation", "enable_inter_container_traffic_encryption"):
            if not isinstance(getattr(self, attr), bool):
                raise PipelineDefinitionError(f"NetworkConfig.{attr} must be a bool")
