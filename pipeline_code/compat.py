"""The few places where the SageMaker scikit-learn image and a current setup behave differently.

``pipeline_code`` runs in the SageMaker scikit-learn container "1.4-2" (Python 3.10, numpy
2.1.0, scikit-learn 1.4.2, pyarrow 17.0.0, pandas 2.x) and locally on Python 3.11+ with
pandas 3. Differences in behaviour, not only in speed, go through this module:

- ``datetime.UTC`` only exists from Python 3.11: use :data:`UTC`.
- pandas 2 parses numbers from strings (``pd.to_numeric``, and ``read_csv``'s default C
  converter) without correct rounding: about one value in seven comes out one ulp away from
  what ``float()``, Spark and pandas 3 give. :func:`parse_floats` and
  :func:`exact_float_csv_options` give the correctly rounded value on both lines.
- ``pd.to_numeric("1e999")`` is NaN on pandas 2 but inf on pandas 3; :func:`parse_floats`
  gives inf on both, so an overflow is never mistaken for a missing value.
- ``TarFile.extractall(filter=...)`` exists from Python 3.10.12 (a security backport);
  :func:`extract_tar` applies the same "data" rules on older 3.10 builds.

The minimum Python of this package is checked by ``tests/pipeline_code/test_python_compat.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

# pandas is imported inside the functions: the Glue ETL job imports this module for UTC only.

#: UTC, as ``datetime.UTC`` (Python 3.11+) would give it.
UTC: Final = dt.timezone.utc


def pandas_major() -> int:
    """The installed pandas major version (2 in the SageMaker image, 3 locally)."""
    import pandas as pd

    return int(pd.__version__.split(".", 1)[0])


def exact_float_csv_options() -> dict[str, Any]:
    """``read_csv`` keyword arguments for correctly rounded floats.

    pandas 3 always rounds correctly and deprecates ``float_precision``: there it is empty.
    """
    return {} if pandas_major() >= 3 else {"float_precision": "round_trip"}


def parse_floats(text: pd.Series) -> pd.Series:
    """Strings already known to be numbers (or missing) as float64, rounded like ``float()``.

    Missing values (None, NaN, ``pd.NA``) become NaN; a value too large for a double becomes
    ±inf, as Spark's cast gives it. Anything ``float()`` cannot read raises ``ValueError``,
    so validate the text first.
    """
    obj = text.astype(object)
    obj = obj.where(obj.notna(), None)
    # object -> float64 goes through Python's float(): correctly rounded on every pandas.
    return obj.astype("float64")


class UnsafeArchiveError(tarfile.TarError):
    """An archive member would land outside the target folder or is not a plain file/folder.

    A ``TarError`` like the data filter's own errors, so callers catch both the same way.
    """


def extract_tar(tar: tarfile.TarFile, dest: str | Path) -> None:
    """Extract ``tar`` into ``dest`` refusing what could escape it (``filter="data"``).

    Where ``tarfile`` has the data filter (Python 3.10.12+, 3.11.4+) it is used as is; it
    raises ``tarfile.FilterError`` for absolute names, names leaving ``dest``, links out of
    it and special files. Older 3.10 builds get those refusals from the checks here (stricter:
    no links at all, since model archives have none) as :class:`UnsafeArchiveError`.
    """
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
        return
    root = os.path.realpath(dest)
    members = tar.getmembers()
    for m in members:
        if not (m.isfile() or m.isdir()):
            raise UnsafeArchiveError(
                f"archive member {m.name!r} is a link or special file; model archives may hold "
                "only plain files and folders"
            )
        target = os.path.realpath(os.path.join(root, m.name))
        if os.path.isabs(m.name) or os.path.commonpath([root, target]) != root:
            raise UnsafeArchiveError(
                f"archive member {m.name!r} would be written outside {str(dest)!r}; "
                "rebuild the archive with relative paths"
            )
    tar.extractall(dest, members=members)  # every member was checked above
