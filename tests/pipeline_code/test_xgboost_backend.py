"""The distributed XGBoost backend's code: the encoded shards, the algorithm's booster packaged as
the workload's model, and that model evaluated and served by the same handler."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline_code.data.tables import read_table
from pipeline_code.schema import Schema
from pipeline_code.training.train import features_and_target, load_model_dir

xgboost = pytest.importorskip("xgboost", reason="the xgboost extra is not installed")

from pipeline_code.processing.xgboost_input import (  # noqa: E402
    FEATURES_FILE,
    PREPROCESSOR_FILE,
    encode_splits,
)
from pipeline_code.processing.xgboost_input import main as encode_main  # noqa: E402
from pipeline_code.training.xgboost_model import BoosterClassifier  # noqa: E402
from pipeline_code.training.xgboost_package import main as package_main  # noqa: E402
from pipeline_code.training.xgboost_package import package  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _load_shards(folder: Path) -> np.ndarray:
    return np.vstack([np.loadtxt(p, delimiter=",", ndmin=2) for p in sorted(folder.glob("*.csv"))])


@pytest.fixture(scope="module")
def encoded(churn: Schema, churn_splits: dict[str, Path], tmp_path_factory: Any) -> Path:
    out = tmp_path_factory.mktemp("xgb-encoded")
    encode_splits(churn_splits["train"], churn_splits["validation"], churn, out, shards=3)
    return out


@pytest.fixture(scope="module")
def trained_booster(encoded: Path, tmp_path_factory: Any) -> Path:
    """What SageMaker's XGBoost algorithm leaves: model.tar.gz holding xgboost-model (trained
    here with the library, as the executor's emulation does)."""
    train = _load_shards(encoded / "train")
    booster = xgboost.train(
        {"objective": "binary:logistic", "eval_metric": "auc", "max_depth": 4, "seed": 0},
        xgboost.DMatrix(train[:, 1:], label=train[:, 0]),
        num_boost_round=40,
    )
    folder = tmp_path_factory.mktemp("xgb-model")
    booster.save_model(str(folder / "xgboost-model"))
    with tarfile.open(folder / "model.tar.gz", "w:gz") as tar:
        tar.add(folder / "xgboost-model", arcname="xgboost-model")
    (folder / "xgboost-model").unlink()
    return folder


@pytest.fixture(scope="module")
def packaged(
    encoded: Path, trained_booster: Path, churn_splits: dict[str, Path], tmp_path_factory: Any
) -> Path:
    out = tmp_path_factory.mktemp("xgb-packaged")
    return package(
        trained_booster,
        encoded / "encoder",
        churn_splits["train"],
        churn_splits["validation"],
        out,
        hyperparameters={"num_round": "40"},
        code_version="abc",
    )


def test_shards_are_whole_label_first_rows_of_the_fitted_encoding(
    encoded: Path, churn: Schema, churn_splits: dict[str, Path]
) -> None:
    import joblib

    features = json.loads((encoded / "encoder" / FEATURES_FILE).read_text())
    pre = joblib.load(encoded / "encoder" / PREPROCESSOR_FILE)
    for split in ("train", "validation"):
        files = sorted((encoded / split).glob("part-*.csv"))
        assert len(files) == 3
        matrix = _load_shards(encoded / split)
        x, y = features_and_target(read_table(churn_splits[split], churn), churn)
        assert matrix.shape == (len(y), 1 + features["num_features"])
        np.testing.assert_array_equal(matrix[:, 0], y)
        # exactly what the kept encoder computes: the booster sees the serving-time encoding
        np.testing.assert_allclose(matrix[:, 1:], pre.transform(x), rtol=0, atol=0)
        assert not any(f.read_text().startswith(("churn", "customer")) for f in files)


@pytest.mark.parametrize(("shards", "message"), [(0, "must be 1 to 1000"), (10**6, "must be")])
def test_a_bad_shard_count_is_refused(
    shards: int, message: str, churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        encode_splits(
            churn_splits["train"], churn_splits["validation"], churn, tmp_path, shards=shards
        )


def test_more_shards_than_rows_is_refused_naming_the_split(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    rows = len(read_table(churn_splits["validation"], churn))
    with pytest.raises(ValueError, match=f"the validation split has {rows} rows, fewer than"):
        encode_splits(
            churn_splits["train"], churn_splits["validation"], churn, tmp_path, shards=rows + 1
        )


def test_the_package_scores_like_the_booster_on_the_encoded_rows(
    packaged: Path,
    encoded: Path,
    trained_booster: Path,
    churn: Schema,
    churn_splits: dict[str, Path],
) -> None:
    pipeline, schema, metadata = load_model_dir(packaged)
    assert schema.name == churn.name
    assert metadata["model_type"] == "xgboost" and metadata["code_version"] == "abc"
    assert metadata["library_versions"]["xgboost"] == xgboost.__version__
    assert 0.6 < metadata["metrics"]["validation"]["auc"] <= 1.0
    with tarfile.open(trained_booster / "model.tar.gz") as tar:
        tar.extractall(trained_booster / "raw", filter="data")
    booster = xgboost.Booster()
    booster.load_model(str(trained_booster / "raw" / "xgboost-model"))
    x, _ = features_and_target(read_table(churn_splits["test"], churn), churn)
    encoded_rows = pipeline.named_steps["preprocess"].transform(x)
    expected = booster.predict(xgboost.DMatrix(encoded_rows))
    np.testing.assert_allclose(pipeline.predict_proba(x)[:, 1], expected, rtol=1e-6)
    with tarfile.open(packaged) as tar:
        names = set(tar.getnames())
    # the pickle's class travels with the serving code
    assert "code/pipeline_code/training/xgboost_model.py" in names


def test_evaluate_scores_the_packaged_model(
    packaged: Path, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    from pipeline_code.evaluation.evaluate import evaluate

    report = evaluate(packaged, churn_splits["test"], tmp_path, seed=0)
    assert 0.6 < report["binary_classification_metrics"]["auc"]["value"] <= 1.0


def test_the_handler_serves_the_packaged_model_from_its_own_code(
    packaged: Path, tmp_path: Path
) -> None:
    """As the XGBoost image serves it: SAGEMAKER_PROGRAM=inference.py from /opt/ml/model/code,
    the model's own copy of the code (not this repository's) on the path."""
    with tarfile.open(packaged) as tar:
        tar.extractall(tmp_path / "model", filter="data")
    script = (
        "import sys, json\n"
        "import inference\n"
        "assert inference.__file__.startswith(sys.argv[1]), inference.__file__\n"
        "import pipeline_code\n"
        "assert pipeline_code.__file__.startswith(sys.argv[1]), pipeline_code.__file__\n"
        "model = inference.model_fn(sys.argv[2])\n"
        "rows = inference.input_fn(sys.argv[3], 'text/csv')\n"
        "out = inference.output_fn(inference.predict_fn(rows, model), 'application/json')\n"
        "print(out[0] if isinstance(out, tuple) else out)\n"
    )
    code = tmp_path / "model" / "code"
    header, row = _sample_row(tmp_path / "model")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(code), str(tmp_path / "model"), f"{header}\n{row}\n"],
        cwd=code, env={**env, "PYTHONPATH": str(code), "PYTHONSAFEPATH": "1"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    body = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0.0 <= body["predictions"][0]["probability"] <= 1.0


def _sample_row(model_dir: Path) -> tuple[str, str]:
    from pipeline_code.deployment.samples import schema_sample_text

    text = schema_sample_text(Schema.from_file(model_dir / "schema.json"))
    lines = text.strip().splitlines()
    return lines[0], lines[1]


def test_a_booster_over_other_features_is_refused(
    encoded: Path, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    booster = xgboost.train(
        {"objective": "binary:logistic"},
        xgboost.DMatrix(np.random.default_rng(0).random((20, 3)), label=np.arange(20) % 2),
        num_boost_round=2,
    )
    booster.save_model(str(tmp_path / "xgboost-model"))
    with pytest.raises(ValueError, match="trained on 3 features but the encoder makes"):
        package(tmp_path, encoded / "encoder", churn_splits["train"],
                churn_splits["validation"], tmp_path / "out")  # fmt: skip


def test_package_without_a_booster_names_what_it_needs(
    encoded: Path, churn_splits: dict[str, Path], tmp_path: Path, capsys: Any
) -> None:
    (tmp_path / "empty").mkdir()
    code = package_main(
        ["--model", str(tmp_path / "empty"), "--encoder", str(encoded / "encoder"),
         "--train", str(churn_splits["train"]), "--validation", str(churn_splits["validation"]),
         "--output-dir", str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 1
    assert "holds no xgboost-model" in capsys.readouterr().err


def test_encode_main_reports_a_bad_shard_count(
    churn_splits: dict[str, Path], tmp_path: Path, capsys: Any
) -> None:
    code = encode_main(
        ["--train", str(churn_splits["train"]), "--validation", str(churn_splits["validation"]),
         "--shards", "0", "--output-dir", str(tmp_path)]
    )  # fmt: skip
    assert code == 1 and "--shards 0 must be 1 to 1000" in capsys.readouterr().err


def test_the_classifier_pickles_the_booster_bytes_not_the_loaded_booster(packaged: Path) -> None:
    pipeline, _, _ = load_model_dir(packaged)
    classifier = pipeline.named_steps["model"]
    assert isinstance(classifier, BoosterClassifier)
    classifier.predict_proba(np.zeros((1, classifier.num_features)))  # loads the booster
    assert classifier._booster is not None
    clone = pickle.loads(pickle.dumps(classifier))
    assert clone._booster is None and clone.booster_raw == classifier.booster_raw
    with pytest.raises(ValueError, match=f"expected {classifier.num_features} encoded features"):
        classifier.predict_proba(np.zeros((1, 2)))
    with pytest.raises(NotImplementedError, match="retrain with the pipeline"):
        classifier.fit(np.zeros((1, 2)), [0])
