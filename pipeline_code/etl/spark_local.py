"""A small local SparkSession for tests and ``cdk-mlops run-local`` (Glue provides its own)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def local_spark_session(
    app_name: str = "cdk-mlops-etl", *, cores: int = 2, jvm_log: Path | None = None
) -> SparkSession:
    """Return the active SparkSession, or start ``local[cores]`` tuned for small data.

    Small shuffle partitions, no UI, UTC, driver bound to localhost, and Spark's own logging
    lowered to errors. Starting the JVM takes about 5 to 10 seconds. With ``jvm_log``, what the
    JVM writes to its console (Spark's start-up banner, its error log) goes to that file instead
    of this process's stderr, where it would land in the middle of a progress display; errors
    still reach Python as exceptions.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # Executors would use this interpreter if a Python UDF ever ran; the transform has none.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    log4j = Path(tempfile.gettempdir()) / "cdk-mlops-log4j2.properties"
    if not log4j.exists():
        log4j.write_text(_LOG4J, encoding="utf-8")
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        .config(
            "spark.driver.extraJavaOptions",
            # C1-only JIT: half the warm-up on small data, where peak JIT speed never pays off.
            f"-Dlog4j2.configurationFile=file:{log4j} -XX:TieredStopAtLevel=1",
        )
    )
    if jvm_log is None:
        spark = builder.getOrCreate()
    else:
        spark = _with_stderr_to(jvm_log, builder.getOrCreate)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _with_stderr_to(path: Path, start: Callable[[], SparkSession]) -> SparkSession:
    """Run ``start`` with file descriptor 2 pointing at ``path``: the JVM it launches inherits
    that descriptor for good, while this process gets its own stderr back right after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
            return start()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def spark_unavailable_reason() -> str | None:
    """Why local Spark cannot run here (``None`` when it can): no pyspark, or no Java runtime."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return (
            "pyspark is not installed in this environment (the SageMaker container "
            "environments have no Spark by design: the Spark path runs on Glue)"
        )
    import shutil

    if os.environ.get("JAVA_HOME") or shutil.which("java") is not None:
        return None
    return "no Java runtime on PATH or in JAVA_HOME (local Spark needs Java 17)"


def is_spark_available() -> bool:
    """True when pyspark is importable and a Java runtime is on PATH or JAVA_HOME."""
    return spark_unavailable_reason() is None
