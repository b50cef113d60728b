"""AWS Glue 5.0 entry script: read job arguments and run the ETL transform.

Job arguments (Glue passes them as ``--name value``)::

    --input_path       s3://bucket/raw/          CSV file or prefix
    --output_path      s3://bucket/curated/      clean Parquet, partitioned by ingest_date
    --quarantine_path  s3://bucket/quarantine/   bad rows with quarantine_reason
    --schema_path      s3://bucket/schema.json   the dataset contract (or a built-in name)
    --ingest_date      2024-05-01                optional, default: today (UTC)
    --code_version     1a2b3c                    optional, echoed in the job's result log

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

from pipeline_code.schema import Schema

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REQUIRED_ARGS: tuple[str, ...] = ("input_path", "output_path", "quarantine_path", "schema_path")


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
        parser.add_argument("--JOB_NAME", default="local")
        args, _unknown = parser.parse_known_args(list(argv))  # Glue adds its own --arguments
        return vars(args)
    wanted = [*REQUIRED_ARGS, "JOB_NAME"]
    full = ["glue_job", *argv]
    # getResolvedOptions fails on absent names, so optional ones are asked for only when given.
    optional = [name for name in ("ingest_date", "code_version") if f"--{name}" in full]
    resolved: dict[str, Any] = getResolvedOptions(full, wanted + optional)
    for name in ("ingest_date", "code_version"):
        resolved.setdefault(name, None)
    return resolved


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
    """Run the job; prints the EtlResult as JSON (visible in the Glue job's output log)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    glue_job: Any = None
    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from pyspark.context import SparkContext
    except ImportError:
        from pipeline_code.etl.spark_local import local_spark_session

        spark = local_spark_session("cdk-mlops-glue-local")
    else:
        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        glue_job = Job(glue_context)
        glue_job.init(args["JOB_NAME"], args)

    from pipeline_code.etl.transform import run_etl

    schema = load_schema(spark, str(args["schema_path"]))
    result = run_etl(
        spark,
        str(args["input_path"]),
        str(args["output_path"]),
        str(args["quarantine_path"]),
        schema,
        ingest_date=args.get("ingest_date"),
    )
    report = json.loads(result.to_json())
    report["code_version"] = args.get("code_version")
    print(json.dumps(report, indent=2))
    if glue_job is not None:
        glue_job.commit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
