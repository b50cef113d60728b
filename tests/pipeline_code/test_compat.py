"""pipeline_code.compat and the code that uses it give the same answers on pandas 2 and 3.

Run in ``.venv`` (pandas 3) and in the container environments: ``.venv-container`` (the
default SageMaker scikit-learn 1.9-0 image: Python 3.12, pandas 2.2.3, numpy 2.5.1,
scikit-learn 1.9.0) and ``.venv-container-1.4-2`` (Python 3.10, pandas 2.2, numpy 2.1,
scikit-learn 1.4.2). On pandas 2 the exact-parsing tests below fail without the shims
(pd.to_numeric is an ulp off for about one value in seven, and turns "1e999" into NaN).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code import compat
from pipeline_code.data.tables import coerce_clean
from pipeline_code.etl import reasons as R
from pipeline_code.etl.pandas_transform import transform_pandas
from pipeline_code.schema import Schema


@pytest.fixture(scope="module")
def number_strings() -> list[str]:
    """Decimal strings whose nearest double pandas 2's own parser often misses."""
    rng = np.random.default_rng(7)
    shortest = [repr(float(v)) for v in rng.normal(scale=1e3, size=3000)]
    # 17 to 20 significant digits: harder still than the shortest round-trip form
    digits = rng.integers(17, 21, 2000)
    long = [f"{v:.{d}g}" for v, d in zip(rng.uniform(-1e6, 1e6, 2000), digits, strict=True)]
    return [*shortest, *long, "0.1", "2.675", "1e-320", "5e-324", "1.7976931348623157e308"]


def test_utc_is_datetime_utc() -> None:
    assert compat.UTC.utcoffset(None) == dt.timedelta(0)
    assert dt.datetime.now(compat.UTC).tzname() == "UTC"
    assert dt.datetime(2024, 1, 1, tzinfo=compat.UTC).isoformat() == "2024-01-01T00:00:00+00:00"


def test_parse_floats_rounds_like_float(number_strings: list[str]) -> None:
    got = compat.parse_floats(pd.Series(number_strings, dtype=object)).to_numpy()
    expected = np.array([float(s) for s in number_strings])
    assert got.dtype == np.float64
    assert np.array_equal(got, expected)


def test_parse_floats_keeps_overflow_and_missing_apart() -> None:
    got = compat.parse_floats(
        pd.Series(["1e999", "-1e999", None, np.nan, pd.NA, "2"], dtype=object)
    )
    assert got.tolist()[:2] == [math.inf, -math.inf]  # pandas 2's to_numeric gives NaN here
    assert got.isna().tolist() == [False, False, True, True, True, False]
    with pytest.raises(ValueError, match="abc"):
        compat.parse_floats(pd.Series(["abc"], dtype=object))


def test_parse_floats_takes_pandas_string_dtypes(number_strings: list[str]) -> None:
    values = pd.Series([*number_strings[:50], None], dtype="string")
    got = compat.parse_floats(values)
    assert got.iloc[:50].tolist() == [float(s) for s in number_strings[:50]]
    assert math.isnan(got.iloc[50])


def test_read_csv_options_give_correctly_rounded_floats(number_strings: list[str]) -> None:
    text = "x\n" + "\n".join(number_strings) + "\n"
    got = pd.read_csv(io.StringIO(text), **compat.exact_float_csv_options())["x"].to_numpy()
    assert np.array_equal(got, np.array([float(s) for s in number_strings]))
    assert compat.exact_float_csv_options() == (
        {} if compat.pandas_major() >= 3 else {"float_precision": "round_trip"}
    )


TINY = Schema.from_dict(
    {
        "name": "tiny",
        "id_column": "id",
        "target": {"name": "label", "positive": 1, "negative": 0},
        "features": [{"name": "x", "type": "float", "nullable": True}],
    }
)


def test_pandas_etl_values_are_what_spark_would_cast(number_strings: list[str]) -> None:
    raw = pd.DataFrame(
        {
            "id": [str(i) for i in range(len(number_strings))],
            "x": number_strings,
            "label": "1",
        }
    )
    clean, quarantine = transform_pandas(raw, TINY)
    assert len(quarantine) == 0
    assert np.array_equal(clean["x"].to_numpy(), np.array([float(s) for s in number_strings]))


def test_pandas_etl_quarantines_an_overflow_in_a_nullable_column() -> None:
    raw = pd.DataFrame({"id": ["a", "b", "c"], "x": ["1e999", "", "-1e400"], "label": "0"})
    clean, quarantine = transform_pandas(raw, TINY)
    assert clean["id"].tolist() == ["b"]  # empty is missing, which a nullable column allows
    assert quarantine["id"].tolist() == ["a", "c"]
    assert set(quarantine[R.REASON_COLUMN]) == {"invalid_type:x"}
    assert quarantine["x"].tolist() == ["1e999", "-1e400"]  # raw values kept


def test_reading_a_csv_split_gives_exact_floats(number_strings: list[str], tmp_path: Path) -> None:
    path = tmp_path / "split.csv"
    n = len(number_strings)
    path.write_text(
        "id,x,label\n" + "".join(f"{i},{s},{i % 2}\n" for i, s in enumerate(number_strings)),
        encoding="utf-8",
    )
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    clean = coerce_clean(frame, TINY, source=str(path))
    assert np.array_equal(clean["x"].to_numpy(), np.array([float(s) for s in number_strings]))
    assert clean["label"].tolist() == [i % 2 for i in range(n)]


def _tar_with(tmp_path: Path, *members: tarfile.TarInfo) -> Path:
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for info in members:
            data = b"payload"
            if info.isfile():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return archive


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


@pytest.fixture(params=["data_filter", "fallback"])
def tar_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of extract_tar: the stdlib data filter, and the checks for older 3.10 builds."""
    if request.param == "fallback":
        monkeypatch.delattr(tarfile, "data_filter")
    return str(request.param)


@pytest.mark.usefixtures("tar_path")
def test_extract_tar_unpacks_plain_files_and_folders(tmp_path: Path) -> None:
    folder = tarfile.TarInfo("sub")
    folder.type = tarfile.DIRTYPE
    archive = _tar_with(tmp_path, tarfile.TarInfo("model.joblib"), folder, tarfile.TarInfo("sub/a"))
    dest = tmp_path / "out"
    dest.mkdir()
    with tarfile.open(archive) as tar:
        compat.extract_tar(tar, dest)
    assert (dest / "model.joblib").read_bytes() == b"payload"
    assert (dest / "sub" / "a").read_bytes() == b"payload"


@pytest.mark.parametrize(
    "member",
    [
        tarfile.TarInfo("../escape.txt"),
        _link("evil", "/etc/passwd"),
        _link("up", "../../outside"),
    ],
    ids=["dotdot", "link-absolute", "link-outside"],
)
def test_extract_tar_refuses_members_that_leave_the_folder(
    tmp_path: Path, tar_path: str, member: tarfile.TarInfo
) -> None:
    archive = _tar_with(tmp_path, tarfile.TarInfo("ok.txt"), member)
    dest = tmp_path / "out"
    dest.mkdir()
    with tarfile.open(archive) as tar, pytest.raises(tarfile.TarError) as info:
        compat.extract_tar(tar, dest)
    assert member.name.lstrip("/") in str(info.value)
    if tar_path == "fallback":
        assert isinstance(info.value, compat.UnsafeArchiveError)
        assert not (dest / "ok.txt").exists()  # checked before anything is written
    assert not (tmp_path / "escape.txt").exists()


def test_extract_tar_never_writes_an_absolute_name_outside(tmp_path: Path, tar_path: str) -> None:
    """The data filter strips the leading "/" (the file lands inside); the fallback refuses."""
    archive = _tar_with(tmp_path, tarfile.TarInfo("/abs/escape.txt"))
    dest = tmp_path / "out"
    dest.mkdir()
    with tarfile.open(archive) as tar:
        if tar_path == "fallback":
            with pytest.raises(compat.UnsafeArchiveError, match=r"/abs/escape\.txt"):
                compat.extract_tar(tar, dest)
        else:
            compat.extract_tar(tar, dest)
            assert (dest / "abs" / "escape.txt").read_bytes() == b"payload"
    assert not Path("/abs/escape.txt").exists()
