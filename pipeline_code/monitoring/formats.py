"""SageMaker Model Monitor file formats: names, constants and JSON reading/writing.

The formats follow the Model Monitor documentation ("Schema for Statistics", "Schema for
Constraints", "Schema for Violations", "CloudWatch Metrics") so that the files this package
writes can be read by tools that read Model Monitor output, and the other way round.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from ..schema import ColumnSpec

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
METRICS_FILE = "metrics.json"
BAD_RECORDS_FILE = "bad_records.jsonl"
SCHEMA_FILE = "schema.json"

# Model Monitor's constraint check types (constraint_violations.json).
DATA_TYPE_CHECK = "data_type_check"
COMPLETENESS_CHECK = "completeness_check"
BASELINE_DRIFT_CHECK = "baseline_drift_check"
MISSING_COLUMN_CHECK = "missing_column_check"
EXTRA_COLUMN_CHECK = "extra_column_check"
CATEGORICAL_VALUES_CHECK = "categorical_values_check"
#: Not a Model Monitor check: numeric values outside the num_constraints min/max (the schema's
#: allowed range), which our baselines add next to Model Monitor's ``is_non_negative``.
VALUE_RANGE_CHECK = "value_range_check"
CHECK_TYPES = (
    DATA_TYPE_CHECK,
    COMPLETENESS_CHECK,
    BASELINE_DRIFT_CHECK,
    MISSING_COLUMN_CHECK,
    EXTRA_COLUMN_CHECK,
    CATEGORICAL_VALUES_CHECK,
    VALUE_RANGE_CHECK,
)

# Model Monitor's inferred types.
INTEGRAL = "Integral"
FRACTIONAL = "Fractional"
STRING = "String"
UNKNOWN = "Unknown"

#: CloudWatch namespace Model Monitor uses for data-quality metrics of real-time endpoints.
METRIC_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_METRIC_PREFIX = "feature_baseline_drift_"
NON_NULL_METRIC_PREFIX = "feature_non_null_"
#: Not a Model Monitor metric: PSI is our addition, reported next to the L-infinity distance.
PSI_METRIC_PREFIX = "feature_psi_"

DEFAULT_THRESHOLD = 0.1


def inferred_type(spec: ColumnSpec) -> str:
    """Model Monitor's inferred type for a schema column."""
    if spec.type == "integer":
        return INTEGRAL
    if spec.type == "float":
        return FRACTIONAL
    return STRING


def default_monitoring_config(threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """The ``monitoring_config`` block of constraints.json with the documented defaults."""
    return {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 0.1,
        "domain_content_threshold": 0.1,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": threshold,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": threshold,
            "categorical_drift_method": "LInfinity",
        },
    }


def write_json(path: Path, document: Any) -> Path:
    """Write JSON atomically (temp file + rename) so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite(document), indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _finite(obj: Any) -> Any:
    """JSON has no NaN/inf: write them as null rather than producing invalid JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def read_json(path: Path, what: str) -> Any:
    """Read a JSON file; errors name the file, what it should be and how to fix it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{what} file {str(path)!r} does not exist; run the baseline step first "
            "(pipeline_code.monitoring.baseline) or pass the folder that holds it"
        ) from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{what} file {str(path)!r} is not valid JSON ({exc}); regenerate it"
        ) from None


def check_statistics(doc: Any, source: str) -> dict[str, Any]:
    """Structural check of a statistics.json document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ValueError(
            f"{source}: not a Model Monitor statistics document (expected an object with a "
            "'features' list); regenerate it with the baseline step"
        )
    for i, f in enumerate(doc["features"]):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            raise ValueError(f"{source}: features[{i}] has no 'name'; regenerate the baseline")
    return doc


def check_constraints(doc: Any, source: str) -> dict[str, Any]:
    """Structural check of a constraints.json document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ValueError(
            f"{source}: not a Model Monitor constraints document (expected an object with a "
            "'features' list); regenerate it with the baseline step"
        )
    cfg = doc.get("monitoring_config", {})
    if not isinstance(cfg, dict):
        raise ValueError(f"{source}: 'monitoring_config' must be an object, got {cfg!r:.80}")
    return doc
