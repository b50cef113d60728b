"""The metric lines the monitoring job prints, and the list of metrics, as importable data.

No pandas or numpy here: the CDK construct imports this module at synth time to create one
CloudWatch Logs metric filter per metric on the job's log group (the job runs network-isolated,
so it cannot call ``PutMetricData``; its stdout reaches CloudWatch Logs through SageMaker).

One line per metric value, a JSON object on one line::

    {"cdk_mlops_metric": "feature_baseline_drift_tenure_months",
     "namespace": "aws/sagemaker/Endpoints/data-metrics", "value": 0.031,
     "endpoint": "churn-prod", "schedule": "churn-prod-hourly"}

Bias metrics add ``"facet": "<sensitive attribute>"`` (a third dimension). A metric filter
selects a line with the JSON pattern of :func:`filter_pattern` (the name, and ``$.value`` so the
value may be used as the metric value), takes ``$.value`` as the value and maps the dimensions
of :attr:`MetricDefinition.dimensions` (at most 3, the metric-filter limit). Non-finite values
are never printed (JSON has no NaN; an undefined metric is simply absent for that run).
Namespaces, names and the dimensions ``Endpoint`` / ``MonitoringSchedule`` are Model Monitor's,
so alarms written for the managed service keep working.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import job_contract as jc

#: The key that marks a metric line (the metric filter pattern selects on it).
MARKER = "cdk_mlops_metric"

DATA_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
BIAS_NAMESPACE = "aws/sagemaker/Endpoints/bias-metrics"
OWN_NAMESPACE = "cdk-mlops/monitoring"

ENDPOINT_DIMENSION = "Endpoint"
SCHEDULE_DIMENSION = "MonitoringSchedule"
FACET_DIMENSION = "Facet"
MONITOR_DIMENSION = "Monitor"
#: Dimension name -> JSON selector in the line, for every metric.
BASE_DIMENSIONS: dict[str, str] = {
    ENDPOINT_DIMENSION: "$.endpoint",
    SCHEDULE_DIMENSION: "$.schedule",
}
#: CloudWatch Logs: at most 3 dimensions per metric filter, 100 metric filters per log group
#: (SageMaker Processing logs to the shared log group /aws/sagemaker/ProcessingJobs).
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
MAX_DIMENSIONS = 3
MAX_FILTERS_PER_LOG_GROUP = 100

DRIFT_PREFIX = "feature_baseline_drift_"
NON_NULL_PREFIX = "feature_non_null_"

#: Model Monitor's binary-classification metric names (namespace model-metrics).
MODEL_QUALITY_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f0_5",
    "f1",
    "f2",
    "auc",
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
)
#: Clarify-style short names (bias_metric_<short>), one value per sensitive attribute (Facet):
#: DPPL = demographic parity difference (max - min predicted positive rate across groups),
#: DI = disparate impact (min / max predicted positive rate), RD = equal opportunity difference
#: (max - min recall across groups). Computed by pipeline_code.evaluation.bias on live traffic.
BIAS_METRICS: dict[str, str] = {
    "bias_metric_DPPL": "demographic_parity_difference",
    "bias_metric_DI": "disparate_impact",
    "bias_metric_RD": "equal_opportunity_difference",
}
#: Prediction drift (namespace data-metrics, as Model Monitor would name a column "score"):
#: L-infinity distance of the score distribution and the predicted positive rate.
PREDICTION_DRIFT_METRIC = "feature_baseline_drift_prediction_score"
PREDICTED_POSITIVE_RATE_METRIC = "predicted_positive_rate"
#: Ours, per monitor (dimension Monitor): violations found, records evaluated.
VIOLATIONS_METRIC = "drift_violations"
RECORDS_METRIC = "records_evaluated"
#: Ours, job level: unusable capture records; ground truth matched / still unlabeled.
BAD_RECORDS_METRIC = "bad_capture_records"
GROUND_TRUTH_MATCHED_METRIC = "ground_truth_matched"
GROUND_TRUTH_UNLABELED_METRIC = "ground_truth_unlabeled"


@dataclass(frozen=True)
class MetricDefinition:
    """One CloudWatch metric the job emits: what a metric filter needs."""

    name: str
    namespace: str
    monitor: str
    #: Dimension name -> JSON selector of the line (at most MAX_DIMENSIONS)
    dimensions: dict[str, str] = field(default_factory=lambda: dict(BASE_DIMENSIONS))
    description: str = ""

    @property
    def filter_pattern(self) -> str:
        """The pattern for every endpoint's lines (see :func:`filter_pattern`)."""
        return filter_pattern(self.name)

    def filter_pattern_for(self, endpoint: str) -> str:
        """The pattern for one endpoint's lines (what a construct per endpoint should use)."""
        return filter_pattern(self.name, endpoint)


def filter_pattern(name: str, endpoint: str | None = None) -> str:
    """The CloudWatch Logs JSON filter pattern that selects the lines of metric ``name``.

    ``$.value = *`` is part of the pattern because a metric filter may only take its value
    from a field the pattern matched. With ``endpoint`` (a literal name, or a CloudFormation
    token the construct resolves) only that endpoint's lines match: SageMaker writes every
    processing job of the account and region to one log group, so two monitored endpoints must
    not each count the other's lines (each filter would publish a data point per line, doubling
    Sum and SampleCount).
    """
    if endpoint is None:
        return f'{{ ($.{MARKER} = "{name}") && ($.value = *) }}'
    return f'{{ ($.{MARKER} = "{name}") && ($.endpoint = "{endpoint}") && ($.value = *) }}'


def metric_definitions(
    feature_names: Sequence[str],
    *,
    monitors: Sequence[str] = jc.MONITORS,
    has_sensitive_attributes: bool = True,
) -> list[MetricDefinition]:
    """Every metric the job can emit for these features and monitors, in a stable order.

    Raises ``ValueError`` when the list needs more metric filters than one log group allows.
    """
    unknown = [m for m in monitors if m not in jc.MONITORS]
    if unknown:
        raise ValueError(f"monitors {unknown} are not monitors; use a subset of {jc.MONITORS}")
    out: list[MetricDefinition] = []
    own = {**BASE_DIMENSIONS, MONITOR_DIMENSION: "$.monitor"}
    out.append(
        MetricDefinition(
            BAD_RECORDS_METRIC,
            OWN_NAMESPACE,
            "job",
            description="capture lines or records that could not be used (see bad_records.jsonl)",
        )
    )
    for monitor in jc.MONITORS:
        if monitor not in monitors:
            continue
        out.append(
            MetricDefinition(
                VIOLATIONS_METRIC,
                OWN_NAMESPACE,
                monitor,
                own,
                "constraint violations found by the monitor in the window",
            )
        )
        out.append(
            MetricDefinition(RECORDS_METRIC, OWN_NAMESPACE, monitor, own, "records evaluated")
        )
    if jc.MONITOR_DATA_QUALITY in monitors:
        for f in feature_names:
            out.append(
                MetricDefinition(
                    DRIFT_PREFIX + f,
                    DATA_NAMESPACE,
                    jc.MONITOR_DATA_QUALITY,
                    description=f"L-infinity distance of {f} to the baseline",
                )
            )
            out.append(
                MetricDefinition(
                    NON_NULL_PREFIX + f,
                    DATA_NAMESPACE,
                    jc.MONITOR_DATA_QUALITY,
                    description=f"share of records with a value for {f}",
                )
            )
    if jc.MONITOR_PREDICTION_DRIFT in monitors:
        out.append(
            MetricDefinition(
                PREDICTION_DRIFT_METRIC,
                DATA_NAMESPACE,
                jc.MONITOR_PREDICTION_DRIFT,
                description="L-infinity distance of the score distribution to the baseline",
            )
        )
        out.append(
            MetricDefinition(
                PREDICTED_POSITIVE_RATE_METRIC,
                DATA_NAMESPACE,
                jc.MONITOR_PREDICTION_DRIFT,
                description="share of records predicted positive",
            )
        )
    if jc.MONITOR_MODEL_QUALITY in monitors:
        for name in MODEL_QUALITY_METRICS:
            out.append(MetricDefinition(name, MODEL_NAMESPACE, jc.MONITOR_MODEL_QUALITY))
        for name, what in (
            (GROUND_TRUTH_MATCHED_METRIC, "records of the window with a ground-truth label"),
            (GROUND_TRUTH_UNLABELED_METRIC, "records of the window still without a label"),
        ):
            out.append(
                MetricDefinition(name, OWN_NAMESPACE, jc.MONITOR_MODEL_QUALITY, description=what)
            )
    if jc.MONITOR_BIAS_DRIFT in monitors and has_sensitive_attributes:
        for name, what in BIAS_METRICS.items():
            out.append(
                MetricDefinition(
                    name,
                    BIAS_NAMESPACE,
                    jc.MONITOR_BIAS_DRIFT,
                    {**BASE_DIMENSIONS, FACET_DIMENSION: "$.facet"},
                    what,
                )
            )
    # metric filters are per (name, namespace); the per-monitor own metrics share one filter
    filters = {(d.name, d.namespace) for d in out}
    if len(filters) > MAX_FILTERS_PER_LOG_GROUP:
        raise ValueError(
            f"{len(filters)} metrics need more than the {MAX_FILTERS_PER_LOG_GROUP} metric "
            f"filters a log group allows ({len(feature_names)} features); monitor fewer "
            "features or give the data-quality monitor its own log group"
        )
    return out


def metric_filters(definitions: Iterable[MetricDefinition]) -> list[MetricDefinition]:
    """One definition per (name, namespace): what the construct turns into metric filters."""
    seen: dict[tuple[str, str], MetricDefinition] = {}
    for d in definitions:
        seen.setdefault((d.name, d.namespace), d)
    return list(seen.values())


def metric_line(
    name: str,
    namespace: str,
    value: float,
    *,
    endpoint: str,
    schedule: str,
    monitor: str | None = None,
    facet: str | None = None,
) -> str | None:
    """One metric line (``None`` when ``value`` is not a finite number)."""
    v = float(value)
    if not math.isfinite(v):
        return None
    doc: dict[str, object] = {
        MARKER: name,
        "namespace": namespace,
        "value": v,
        "endpoint": endpoint,
        "schedule": schedule,
    }
    if monitor is not None:
        doc["monitor"] = monitor
    if facet is not None:
        doc["facet"] = facet
    return json.dumps(doc, separators=(",", ":"))


def parse_metric_lines(text: str) -> list[dict[str, object]]:
    """The metric lines of a log (other lines ignored), as dicts: for tests and the local loop."""
    out: list[dict[str, object]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and MARKER in line:
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(doc, dict) and MARKER in doc:
                out.append(doc)
    return out
