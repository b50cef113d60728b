"""Training under the SageMaker contract: env vars, hyperparameters, artifacts, failure file."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code.compat import extract_tar
from pipeline_code.data.tables import read_table
from pipeline_code.schema import Schema
from pipeline_code.training.inference_code import copy_inference_code, inference_modules
from pipeline_code.training.train import (
    HyperparameterError,
    Hyperparameters,
    build_parser,
    load_model_dir,
    main,
    package_model,
    resolve_hyperparameters,
    train,
)


def test_model_tarball_holds_the_model_files_and_predicts(
    churn: Schema, churn_model: Path, churn_splits: dict[str, Path]
) -> None:
    with tarfile.open(churn_model) as tar:
        names = tar.getnames()
    assert {"metadata.json", "model.joblib", "schema.json"} <= set(names)
    assert all(
        n in ("metadata.json", "model.joblib", "schema.json") or n.startswith("code/")
        for n in names
    )
    pipeline, schema, metadata = load_model_dir(churn_model)
    assert schema == churn
    test = read_table(churn_splits["test"], churn)
    proba = pipeline.predict_proba(test[churn.feature_names])
    assert proba.shape == (len(test), 2)
    assert metadata["training_rows"] > 1000
    assert metadata["hyperparameters"]["max_iter"] == 60
    assert set(metadata["library_versions"]) >= {"scikit-learn", "pandas", "numpy"}
    assert metadata["metrics"]["validation"]["auc"] > 0.7
    # the data version preprocess wrote beside the training split
    version = json.loads((churn_splits["train"] / "data_version.json").read_text())
    assert metadata["data_version"] == version["data_version"]


def test_model_ignores_sensitive_attributes_and_unknown_categories(
    churn: Schema, churn_model: Path, churn_splits: dict[str, Path]
) -> None:
    pipeline, _schema, _meta = load_model_dir(churn_model)
    x = read_table(churn_splits["test"], churn)[churn.feature_names].head(5).copy()
    assert "gender" not in x.columns
    base = pipeline.predict_proba(x)
    x.loc[:, "region"] = "mars"  # rejecting unknown categories is the inference handler's job
    x.loc[:, "total_charges"] = np.nan  # nullable: imputed
    assert np.isfinite(pipeline.predict_proba(x)).all()
    assert base.shape == (5, 2)


def test_logistic_model_type_trains(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    result = train(
        churn_splits["train"], tmp_path, churn, Hyperparameters(model_type="logistic", C=0.5)
    )
    pipeline, _s, meta = load_model_dir(tmp_path)
    assert type(pipeline.named_steps["model"]).__name__ == "LogisticRegression"
    assert meta["hyperparameters"]["model_type"] == "logistic"
    assert result.tarball is None


def test_sagemaker_environment_drives_paths(
    churn_splits: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(churn_splits["train"]))
    monkeypatch.setenv("SM_CHANNEL_VALIDATION", str(churn_splits["validation"]))
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    hp_file = tmp_path / "hyperparameters.json"
    # SageMaker stores every value as a string, JSON-encoded by the SDK
    hp_file.write_text(
        json.dumps(
            {
                "model_type": '"hgb"',
                "max_iter": "30",
                "learning_rate": "0.2",
                "sagemaker_program": '"train.py"',
            }
        )
    )
    rc = main(
        ["--hyperparameters-file", str(hp_file), "--max_iter", "25", "--code-version", "abc123"]
    )
    assert rc == 0
    meta = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert meta["hyperparameters"]["max_iter"] == 25  # the command line wins over the file
    assert meta["hyperparameters"]["learning_rate"] == 0.2
    assert meta["code_version"] == "abc123"
    assert meta["validation_rows"] > 0
    assert "validation:auc=" in capsys.readouterr().err


def test_failure_is_written_to_the_failure_file(
    churn_splits: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failure = tmp_path / "output" / "failure"
    failure.parent.mkdir()
    rc = main(
        [
            "--train", str(churn_splits["train"]),
            "--model-dir", str(tmp_path / "m"),
            "--hyperparameters-file", str(tmp_path / "none.json"),
            "--failure-file", str(failure),
            "--model_type", "forest",
        ]
    )  # fmt: skip
    assert rc == 1
    assert "model_type is 'forest'" in failure.read_text()
    assert "training failed" in capsys.readouterr().err


def test_missing_train_channel_fails_cleanly(tmp_path: Path) -> None:
    rc = main(["--train", str(tmp_path / "absent"), "--model-dir", str(tmp_path / "m"), "--schema", "churn",
               "--hyperparameters-file", str(tmp_path / "none.json"), "--failure-file", str(tmp_path / "no" / "f")])  # fmt: skip
    assert rc == 1
    assert not (tmp_path / "no").exists()  # no failure folder outside SageMaker


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"model_type": "forest"}, "use one of"),
        ({"max_iter": "many"}, "max_iter='many' must be an integer"),
        ({"max_iter": "2.5"}, "must be an integer"),
        ({"learning_rate": "0"}, "learning_rate=0.0 must be between"),
        ({"C": "-1"}, "C=-1.0 must be greater than 0"),
        ({"max_depth": "0"}, "max_depth=0"),
        ({"depth": "3"}, "unknown hyperparameters \\['depth'\\]"),
        ({"max_iter": None}, "needs a value"),
    ],
)
def test_fails_on_bad_hyperparameters(raw: dict[str, object], message: str) -> None:
    with pytest.raises(HyperparameterError, match=message):
        Hyperparameters.from_mapping(raw)


def test_hyperparameters_accept_sagemaker_spellings() -> None:
    hp = Hyperparameters.from_mapping(
        {"max_iter": "200.0", "max_depth": "null", "model_type": '"logistic"', "C": 2}
    )
    assert (hp.max_iter, hp.max_depth, hp.model_type, hp.C) == (200, None, "logistic", 2.0)


def test_hyperparameters_file_must_be_a_json_object(tmp_path: Path) -> None:
    bad = tmp_path / "hp.json"
    bad.write_text("[1, 2]")
    args = build_parser().parse_args(["--hyperparameters-file", str(bad)])
    with pytest.raises(HyperparameterError, match="JSON object"):
        resolve_hyperparameters(args)
    bad.write_text("{not json")
    with pytest.raises(HyperparameterError, match="not valid JSON"):
        resolve_hyperparameters(args)


def test_single_class_training_data_is_refused(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    df = read_table(churn_splits["train"], churn)
    df[df["churned"] == 0].to_csv(tmp_path / "train.csv", index=False)
    with pytest.raises(ValueError, match="only churned=0 rows \\(no churned=1\\)"):
        train(tmp_path / "train.csv", tmp_path / "m", churn, Hyperparameters(max_iter=5))


# ------------------------------------------------------- labels as the user wrote them (item 5)
def test_single_class_message_names_the_users_labels_not_the_encoding(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    """The file wrote the positive class as ``0``: encoded 1 rows are the user's ``0``."""
    flipped = Schema.from_dict(
        {**churn.to_dict(), "target": {"name": "churned", "positive": 0, "negative": 1}}
    )
    df = read_table(churn_splits["train"], churn)
    df[df["churned"] == 1].to_csv(tmp_path / "train.csv", index=False)  # positives only
    with pytest.raises(ValueError) as caught:
        train(tmp_path / "train.csv", tmp_path / "m", flipped, Hyperparameters(max_iter=5))
    assert "only churned=0 rows (no churned=1)" in str(caught.value)


# -------------------------------------------------------------------- early stopping (item 4)
def test_early_stopping_is_on_by_default_and_recorded(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    """A model that would overfit (many fast iterations) stops early; metadata says where."""
    hp = Hyperparameters(max_iter=400, learning_rate=0.5, max_leaf_nodes=63)
    assert hp.early_stopping and hp.validation_fraction == 0.1 and hp.n_iter_no_change == 10
    result = train(churn_splits["train"], tmp_path / "es", churn, hp)
    stop = result.metadata["early_stopping"]
    assert stop["enabled"] is True and stop["stopped_early"] is True
    assert stop["best_iteration"] < stop["iterations"] < 400
    assert stop["iterations"] == stop["best_iteration"] + hp.n_iter_no_change
    pipeline, _s, meta = load_model_dir(tmp_path / "es")
    assert pipeline.named_steps["model"].n_iter_ == stop["iterations"]
    assert meta["early_stopping"] == stop
    assert meta["hyperparameters"]["early_stopping"] is True
    # Turned off, the same settings run every iteration.
    off = train(
        churn_splits["train"],
        tmp_path / "off",
        churn,
        Hyperparameters(max_iter=40, learning_rate=0.5, early_stopping=False),
    ).metadata["early_stopping"]
    assert off == {"enabled": False, "stopped_early": False, "iterations": 40, "max_iter": 40}


def test_early_stopping_hyperparameters_parse_and_validate() -> None:
    hp = Hyperparameters.from_mapping(
        {"early_stopping": "false", "validation_fraction": "0.2", "n_iter_no_change": "5"}
    )
    assert (hp.early_stopping, hp.validation_fraction, hp.n_iter_no_change) == (False, 0.2, 5)
    assert Hyperparameters.from_mapping({"early_stopping": "True"}).early_stopping is True
    with pytest.raises(HyperparameterError, match="early_stopping='maybe' must be true or false"):
        Hyperparameters.from_mapping({"early_stopping": "maybe"})
    with pytest.raises(HyperparameterError, match=r"validation_fraction=1\.0 must be between"):
        Hyperparameters.from_mapping({"validation_fraction": 1})
    with pytest.raises(HyperparameterError, match="n_iter_no_change=0 must be at least 1"):
        Hyperparameters.from_mapping({"n_iter_no_change": 0})


def test_early_stopping_is_skipped_with_too_few_rows_and_says_why(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    df = read_table(churn_splits["train"], churn)
    small = pd.concat([df[df["churned"] == 1].head(20), df[df["churned"] == 0].head(60)])
    small.to_csv(tmp_path / "train.csv", index=False)
    meta = train(
        tmp_path / "train.csv", tmp_path / "m", churn, Hyperparameters(max_iter=15)
    ).metadata
    stop = meta["early_stopping"]
    assert stop["enabled"] is False and stop["iterations"] == 15
    assert "smaller class has 20 rows" in stop["reason"]


def test_packaging_and_loading_fail_clearly_without_a_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"model\.joblib is missing"):
        package_model(tmp_path, tmp_path / "model.tar.gz")
    with pytest.raises(FileNotFoundError, match=r"holds no model\.joblib"):
        load_model_dir(tmp_path)


def test_training_is_deterministic(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    test = read_table(churn_splits["test"], churn)[churn.feature_names]
    probs = []
    for run in ("a", "b"):
        train(
            churn_splits["train"],
            tmp_path / run,
            churn,
            Hyperparameters(max_iter=20, random_state=3),
        )
        pipeline, _s, _m = load_model_dir(tmp_path / run)
        probs.append(pipeline.predict_proba(test)[:, 1])
    np.testing.assert_array_equal(probs[0], probs[1])
    assert isinstance(test, pd.DataFrame)


# ------------------------------------------------ the model carries its serving code (item 8)

SERVE_FROM_UNPACKED_MODEL = """
import json, sys
model_dir = sys.argv[1]
# Only the model's own code: drop the editable install of this repository.
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
sys.path.insert(0, model_dir + "/code")  # SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code
import inference
import pipeline_code
assert pipeline_code.__file__.startswith(model_dir + "/code/"), pipeline_code.__file__
model = inference.model_fn(model_dir)
data = inference.input_fn(sys.stdin.read(), "text/csv")
body = inference.output_fn(inference.predict_fn(data, model), "application/json")
body = body[0] if isinstance(body, tuple) else body
print(json.dumps(json.loads(body)))
"""


def test_model_tarball_carries_the_serving_code_and_no_requirements(churn_model: Path) -> None:
    with tarfile.open(churn_model) as tar:
        names = set(tar.getnames())
    assert "code/inference.py" in names
    assert {f"code/pipeline_code/{m}" for m in inference_modules()} <= names
    # the serving container pip-installs a requirements.txt it finds: none may be there
    assert not [n for n in names if n.endswith("requirements.txt")]
    # only what the handler imports: no training, ETL or monitoring code, no tests
    code = {n for n in names if n.startswith("code/pipeline_code/")}
    assert not [n for n in code if "/training/" in n or "/etl/" in n or "test" in n], code


def test_the_handler_serves_from_the_unpacked_model(
    churn: Schema, churn_model: Path, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    import subprocess
    import sys

    model_dir = tmp_path / "opt" / "ml" / "model"
    model_dir.mkdir(parents=True)
    with tarfile.open(churn_model) as tar:
        extract_tar(tar, model_dir)
    rows = read_table(churn_splits["test"], churn).head(5)[churn.feature_names]
    done = subprocess.run(
        [sys.executable, "-c", SERVE_FROM_UNPACKED_MODEL, str(model_dir)],
        input=rows.to_csv(header=False, index=False),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    predictions = json.loads(done.stdout)["predictions"]
    assert len(predictions) == 5
    assert all(0.0 <= p["probability"] <= 1.0 for p in predictions)


def test_inference_code_is_the_handler_import_closure(tmp_path: Path) -> None:
    modules = inference_modules()
    assert {
        "__init__.py",
        "compat.py",
        "inference/__init__.py",
        "inference/handler.py",
        "schema.py",
    } <= set(modules)
    # the handler's imports, followed: nothing the serving container does not run
    unused = ("training/", "etl/", "monitoring/", "processing/", "evaluation/", "registry/")
    assert not [m for m in modules if m.startswith(unused) or m == "inference/server.py"]
    code = copy_inference_code(tmp_path / "model")
    assert (code / "inference.py").read_text().startswith('"""Entry point')
    assert not list(code.rglob("requirements.txt"))
