"""Shared fixtures for the pipeline_code tests: one local SparkSession, small data, one model.

Spark starts once per test session (about 5 to 10 s); tests keep their Spark actions few.
scikit-learn runs single-threaded: on a shared 2-core machine OpenMP threads spinning against
other processes made HistGradientBoosting 10x slower, and the data here is tiny anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sklearn.ensemble  # noqa: F401  (load OpenMP before limiting it)
from threadpoolctl import threadpool_limits

from pipeline_code.data.generate import GeneratedData, generate
from pipeline_code.schema import Schema

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session", autouse=True)
def _single_threaded_sklearn() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The one local SparkSession of the test run."""
    from pipeline_code.etl.spark_local import local_spark_session, spark_unavailable_reason

    reason = spark_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    session = local_spark_session("cdk-mlops-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def churn() -> Schema:
    return Schema.builtin("churn")


@pytest.fixture(scope="session")
def loan() -> Schema:
    return Schema.builtin("loan_default")


@pytest.fixture(scope="session")
def churn_bad(churn: Schema) -> GeneratedData:
    """2,000 churn rows, 10 % of them bad (every kind of problem appears)."""
    return generate(churn, 2000, seed=11, bad_fraction=0.1)


@pytest.fixture(scope="session")
def churn_bad_csv(churn_bad: GeneratedData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return churn_bad.to_csv(tmp_path_factory.mktemp("raw") / "churn.csv")


@pytest.fixture(scope="session")
def churn_splits(churn: Schema, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clean churn data (pandas ETL) split into train/validation/test CSV folders."""
    from pipeline_code.etl.pandas_transform import run_etl_pandas
    from pipeline_code.processing.preprocess import SPLITS, preprocess

    base = tmp_path_factory.mktemp("churn_splits")
    raw = generate(churn, 3000, seed=3).to_csv(base / "raw.csv")
    run_etl_pandas(raw, base / "curated", base / "quarantine", churn, ingest_date="2024-01-01")
    dirs = {name: base / name for name in SPLITS}
    preprocess(base / "curated", churn, dirs, seed=0)
    return dirs


@pytest.fixture(scope="session")
def churn_model(
    churn: Schema, churn_splits: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A small trained churn model; returns the path of its model.tar.gz."""
    from pipeline_code.training.train import Hyperparameters, train

    base = tmp_path_factory.mktemp("churn_model")
    result = train(
        churn_splits["train"],
        base / "model",
        churn,
        Hyperparameters(max_iter=60),
        validation_path=churn_splits["validation"],
        tarball=base / "model.tar.gz",
    )
    assert result.tarball is not None
    return result.tarball
