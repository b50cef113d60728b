"""AWS Glue 5.0 entry script: read job arguments and run the ETL transform.

Job arguments (Glue passes them as ``--name value``)::

    --input_path       s3://bucket/raw/          CSV file or prefix
    --output_path      s3://bucket/curated/      clean Parquet, partitioned by ingest_date
    --quarantine_path  s3://bucket/quarantine/   bad rows with quarantine_reason
    --schema_path      s3://bucket/schema.json   the dataset contract (or a built-in name)
    --ingest_date      2024-05-01                optional, default: today (UTC)
    --code_version     1a2b3c                    optional, echoed in the job's result log
    --max_quarantine_fraction 0.05               optional (also --max-quarantine-fraction):
                                                 fail when more rows than this are quarantined

On Glue, ``pipeline_code`` must be importable: ship it with ``--extra-py-files`` (a zip of the
package). Without ``awsglue`` (a laptop) the same arguments are parsed with argparse and a
local SparkSession is used::

    python -m pipeline_code.etl.glue_job --input_path raw.csv --output_path out/curated \\
        --quarantine_path out/quarantine --schema_path pipeline_code/schemas/churn.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..schema import Schema
from .common import DEFAULT_MAX_QUARANTINE_FRACTION, check_fraction

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REQUIRED_ARGS: tuple[str, ...] = ("input_path", "output_path", "quarantine_path", "schema_path")
OPTIONAL_ARGS: tuple[str, ...] = ("ingest_date", "code_version", "max_quarantine_fraction")
# Glue job arguments are conventionally snake_case; the CLI spelling is accepted too.
_BUDGET_SPELLINGS: tuple[str, ...] = ("max_quarantine_fraction", "max-quarantine-fraction")


def parse_args(argv: Sequence[str]) -> dict[str, str | None]:
    """Job arguments: ``awsglue.utils.getResolvedOptions`` on Glue, argparse elsewhere."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        parser = argparse.ArgumentParser(prog="glue_job", description="cdk-mlops ETL (local mode)")
        for name in REQUIRED_ARGS:
            parser.add_argument(f"--{name}", required=True)
        parser.add_argument("--ingest_date", default=None)
        parser.add_argument("--code_version", default=None)
        parser.add_argument(
            *(f"--{name}" for name in _BUDGET_SPELLINGS),
            dest="max_quarantine_fraction",
            default=None,
        )
        parser.add_argument("--JOB_NAME", default="local")
        args, _unknown = parser.parse_known_args(list(argv))  # Glue adds its own --arguments
        return vars(args)
    wanted = [*REQUIRED_ARGS, "JOB_NAME"]
    full = ["glue_job", *argv]
    # getResolvedOptions fails on absent names, so optional ones are asked for only when given.
    optional = [name for name in ("ingest_date", "code_version") if f"--{name}" in full]
    optional += [name for name in _BUDGET_SPELLINGS if f"--{name}" in full][:1]
    resolved: dict[str, Any] = getResolvedOptions(full, wanted + optional)
    budget = resolved.pop("max-quarantine-fraction", None)
    resolved.setdefault("max_quarantine_fraction", budget)
    for name in OPTIONAL_ARGS:
        resolved.setdefault(name, None)
    return resolved


def budget_arg(value: str | None) -> float:
    """The ``max_quarantine_fraction`` job argument as a float (the default when absent)."""
    if value is None or value == "":
        return DEFAULT_MAX_QUARANTINE_FRACTION
    try:
        return check_fraction(float(value), name="--max_quarantine_fraction")
    except ValueError:
        raise ValueError(
            f"--max_quarantine_fraction must be a fraction between 0 and 1, got {value!r}"
        ) from None


def load_schema(spark: SparkSession, schema_path: str) -> Schema:
    """Read the schema through Spark (works for ``s3://`` and local paths) or by built-in name."""
    if "/" not in schema_path and not schema_path.endswith(".json"):
        return Schema.builtin(schema_path)
    rows = spark.read.text(schema_path, wholetext=True).collect()
    if not rows:
        raise FileNotFoundError(
            f"schema_path {schema_path!r} is empty; point it at the schema JSON file"
        )
    return Schema.from_dict(json.loads(rows[0][0]), source=schema_path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job; prints the EtlResult as JSON (visible in the Glue job's output log).

    A blown quarantine budget prints the report too, then fails the job with the reasons.
    """
    args = parse_args(sys.argv[1:] if argv is None else argv)
    budget = budget_arg(args.get("max_quarantine_fraction"))
    glue_job: Any = None
    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from pyspark.context import SparkContext
    except ImportError:
        from .spark_local import local_spark_session

        spark = local_spark_session("cdk-mlops-glue-local")
    else:
        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        glue_job = Job(glue_context)
        glue_job.init(args["JOB_NAME"], args)

    from .common import EtlResult, QuarantineBudgetExceeded
    from .transform import run_etl

    def print_report(result: EtlResult) -> None:
        report = json.loads(result.to_json())
        report["code_version"] = args.get("code_version")
        print(json.dumps(report, indent=2))

    schema = load_schema(spark, str(args["schema_path"]))
    try:
        result = run_etl(
            spark,
            str(args["input_path"]),
            str(args["output_path"]),
            str(args["quarantine_path"]),
            schema,
            ingest_date=args.get("ingest_date"),
            max_quarantine_fraction=budget,
        )
    except QuarantineBudgetExceeded as exc:
        print_report(exc.result)
        raise
    print_report(result)
    if glue_job is not None:
        glue_job.commit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
