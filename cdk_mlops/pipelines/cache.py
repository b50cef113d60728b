"""Step caching: reuse a previous successful run of a job step with the same arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cdk_mlops.pipelines.errors import PipelineDefinitionError

_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


@dataclass(frozen=True, kw_only=True)
class CacheConfig:
    """Step caching: reuse a previous successful run with the same arguments.

    ``expire_after`` is an ISO 8601 duration such as ``P30D`` or ``PT12H``.
    """

    enabled: bool = True
    expire_after: str | None = None

    def __post_init__(self) -> None:
        if self.expire_after is not None and not _ISO_DURATION.match(self.expire_after):
            raise PipelineDefinitionError(
                f"CacheConfig.expire_after {self.expire_after!r} is not an ISO 8601 duration "
                f"(e.g. 'P30D', 'PT12H')"
            )

    def to_request(self) -> dict[str, Any]:
        """``{"Enabled": ..., "ExpireAfter": ...}``."""
        out: dict[str, Any] = {"Enabled": self.enabled}
        if self.expire_after is not None:
            out["ExpireAfter"] = self.expire_after
        return out
