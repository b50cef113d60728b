"""Drift metrics to CloudWatch, under Model Monitor's namespace and dimensions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..compat import UTC
from . import formats

if TYPE_CHECKING:
    from .drift import DriftReport


def emit_cloudwatch_metrics(
    report: DriftReport,
    *,
    endpoint_name: str,
    schedule_name: str,
    namespace: str = formats.METRIC_NAMESPACE,
    cloudwatch_client: Any = None,
    timestamp: datetime | None = None,
) -> int:
    """Publish the report's metrics with ``put_metric_data``; returns how many were sent.

    Dimensions are ``Endpoint`` and ``MonitoringSchedule``, as Model Monitor uses for endpoints.
    """
    if cloudwatch_client is None:
        import boto3

        cloudwatch_client = boto3.client("cloudwatch")
    ts = timestamp or datetime.now(UTC)
    dims = [
        {"Name": "Endpoint", "Value": endpoint_name},
        {"Name": "MonitoringSchedule", "Value": schedule_name},
    ]
    data = [
        {
            "MetricName": name,
            "Dimensions": dims,
            "Timestamp": ts,
            "Value": float(value),
            "Unit": "None",
        }
        for name, value in sorted(report.metrics.items())
    ]
    for i in range(0, len(data), 20):  # 20 per call is within every PutMetricData limit
        cloudwatch_client.put_metric_data(Namespace=namespace, MetricData=data[i : i + 20])
    return len(data)
