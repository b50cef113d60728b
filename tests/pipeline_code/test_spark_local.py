"""Spark's own console output stays out of run-local's progress lines (it goes to a file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_code.etl.spark_local import spark_unavailable_reason

SCRIPT = """
import sys
from pathlib import Path
from pipeline_code.etl.spark_local import local_spark_session
spark = local_spark_session("quiet", jvm_log=Path(sys.argv[1]))
assert spark.range(3).count() == 3
print("progress line", file=sys.stderr)
spark.stop()
"""


@pytest.mark.slow
def test_a_new_session_writes_the_jvm_console_to_the_log_file(tmp_path: Path) -> None:
    reason = spark_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    log = tmp_path / "spark-driver.log"
    # A fresh interpreter: the test run's shared session would hide the JVM start.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "progress line"  # nothing of Spark's in between
    assert "log level" in log.read_text()  # Spark's start-up banner, kept for whoever needs it
