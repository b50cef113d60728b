"""One local SparkSession shared by the end-to-end runs (``run-local`` keeps a session it did
not start, so the JVM starts once for the whole module)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from pipeline_code.etl.spark_local import local_spark_session, spark_unavailable_reason

    reason = spark_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    session = local_spark_session("cdk-mlops-integration")
    yield session
    session.stop()
