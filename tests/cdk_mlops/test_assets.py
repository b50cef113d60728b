"""Deterministic ``pipeline_code`` bundles and the PipelineCode construct (assets, version, grants)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from cdk_mlops.assets import (
    INFERENCE_SHIM,
    PIPELINE_CODE_DIR,
    TRAIN_SHIM,
    CodeBundles,
    build_bundles,
)
from cdk_mlops.constructs import PipelineCode
from tests.cdk_mlops.construct_fixtures import as_list, fresh_stack, logical_id, role_statements
from tests.cdk_mlops.helpers import new_app
from tests.cdk_mlops.level2_fixtures import copy_pipeline_code, rendered

HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _package(root: Path, name: str = "mypkg") -> Path:
    """A small package with files that ship and files that must not."""
    pkg = root / name
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__pycache__").mkdir()
    (pkg / "__init__.py").write_text('"""test package for test_assets"""\n')
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "mod.py").write_text("VALUE = 41\n")
    (pkg / "schemas.json").write_text('{"a": 1}\n')
    (pkg / "data.csv").write_text("a,b\n1,2\n")
    (pkg / "requirements.txt").write_text("pandas\n")
    (pkg / "NOTES.md").write_text("not shipped\n")
    (pkg / "model.joblib").write_bytes(b"\x00binary")
    (pkg / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\x00pyc")
    return pkg


SHIPPED = [
    "mypkg/__init__.py",
    "mypkg/data.csv",
    "mypkg/requirements.txt",
    "mypkg/schemas.json",
    "mypkg/sub/__init__.py",
    "mypkg/sub/mod.py",
]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> CodeBundles:
    return build_bundles(_package(tmp_path_factory.mktemp("bundles")).resolve())


# ------------------------------------------------------------------------ bundles (pure Python)


def test_zip_holds_the_package_at_its_root_sorted(bundles: CodeBundles) -> None:
    with zipfile.ZipFile(bundles.zip_path) as zf:
        assert zf.namelist() == SHIPPED
        assert zf.read("mypkg/sub/mod.py") == b"VALUE = 41\n"


def test_zip_entries_have_fixed_times_and_permissions(bundles: CodeBundles) -> None:
    with zipfile.ZipFile(bundles.zip_path) as zf:
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
            assert info.external_attr >> 16 == 0o644, info.filename
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_sourcedir_has_the_inference_and_train_shims_and_the_package(
    bundles: CodeBundles,
) -> None:
    with tarfile.open(bundles.sourcedir_path, "r:gz") as tf:
        assert tf.getnames() == ["inference.py", "train.py", *SHIPPED]
        shim = tf.extractfile("inference.py")
        assert shim is not None and shim.read().decode() == INFERENCE_SHIM.format(package="mypkg")
        train = tf.extractfile("train.py")
        assert train is not None and train.read().decode() == TRAIN_SHIM.format(package="mypkg")


def test_train_shim_runs_the_named_module_with_the_toolkit_arguments(tmp_path: Path) -> None:
    """The training toolkit runs ``python train.py --name value``: the shim runs the module
    (the package's train, or CDK_MLOPS_TRAIN_MODULE) as __main__ with those arguments."""
    pkg = tmp_path / "mypkg" / "training"
    pkg.mkdir(parents=True)
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "train.py").write_text(
        "import sys\nif __name__ == '__main__':\n    print('default', sys.argv[1:])\n"
    )
    (pkg / "other.py").write_text(
        "import sys\nif __name__ == '__main__':\n    print('other', sys.argv[1:])\n"
    )
    (tmp_path / "train.py").write_text(TRAIN_SHIM.format(package="mypkg"))
    env = {k: v for k, v in os.environ.items() if k != "CDK_MLOPS_TRAIN_MODULE"}
    argv = [sys.executable, "train.py", "--max_iter", "50"]
    default = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert default.stdout.strip() == "default ['--max_iter', '50']", default.stderr
    env["CDK_MLOPS_TRAIN_MODULE"] = "mypkg.training.other"
    other = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert other.stdout.strip() == "other ['--max_iter', '50']", other.stderr


def test_sourcedir_entries_have_no_owner_time_or_odd_mode(bundles: CodeBundles) -> None:
    with tarfile.open(bundles.sourcedir_path, "r:gz") as tf:
        for member in tf.getmembers():
            assert (member.mtime, member.mode, member.uid, member.gid) == (0, 0o644, 0, 0)
            assert (member.uname, member.gname) == ("", "")
    raw = bundles.sourcedir_path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0", "the gzip header must not carry a timestamp"
    assert gzip.decompress(raw)  # a valid gzip stream


def test_excludes_pycache_and_files_that_do_not_ship(bundles: CodeBundles) -> None:
    with zipfile.ZipFile(bundles.zip_path) as zf:
        names = zf.namelist()
    assert not [n for n in names if "__pycache__" in n or n.endswith((".md", ".joblib", ".pyc"))]


def test_code_version_is_16_hex_digits_and_names_the_output_folder(bundles: CodeBundles) -> None:
    assert HEX16.match(bundles.code_version)
    # <code version>-<bundle layout>: a cached folder of an older layout is never reused
    version, layout = bundles.zip_path.parent.name.rsplit("-", 1)
    assert version == bundles.code_version and layout.isdigit()
    assert bundles.zip_path.name == "pipeline_code.zip"
    assert bundles.sourcedir_path.name == "sourcedir.tar.gz"


def test_identical_sources_in_another_folder_give_identical_bytes(
    bundles: CodeBundles, tmp_path: Path
) -> None:
    first_zip, first_tar = bundles.zip_path.read_bytes(), bundles.sourcedir_path.read_bytes()
    # Remove the shared output so the second build really writes the files again.
    shutil.rmtree(bundles.zip_path.parent)
    again = build_bundles(_package(tmp_path).resolve())
    assert again.code_version == bundles.code_version
    assert again.zip_path.read_bytes() == first_zip
    assert again.sourcedir_path.read_bytes() == first_tar


def test_touching_a_file_without_changing_it_keeps_the_version(tmp_path: Path) -> None:
    pkg = _package(tmp_path / "a")
    before = build_bundles(pkg.resolve()).code_version
    other = shutil.copytree(pkg, tmp_path / "b" / "mypkg")  # new mtimes, same content
    (other / "sub" / "mod.py").touch()
    assert build_bundles(other.resolve()).code_version == before


@pytest.mark.parametrize(
    "change",
    ["edit", "add", "rename"],
)
def test_version_changes_when_a_shipped_file_changes(tmp_path: Path, change: str) -> None:
    base = build_bundles(_package(tmp_path / "base").resolve()).code_version
    pkg = _package(tmp_path / change)
    if change == "edit":
        (pkg / "sub" / "mod.py").write_text("VALUE = 42\n")
    elif change == "add":
        (pkg / "sub" / "extra.py").write_text("")
    else:
        (pkg / "sub" / "mod.py").rename(pkg / "sub" / "module.py")
    assert build_bundles(pkg.resolve()).code_version != base


def test_files_that_do_not_ship_do_not_change_the_version(tmp_path: Path) -> None:
    base = build_bundles(_package(tmp_path / "base").resolve()).code_version
    pkg = _package(tmp_path / "noise")
    (pkg / "NOTES.md").write_text("edited notes\n")
    (pkg / "__pycache__" / "other.cpython-311.pyc").write_bytes(b"\x01")
    assert build_bundles(pkg.resolve()).code_version == base


def test_version_follows_an_edit_in_place_within_one_process(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    before = build_bundles(pkg.resolve()).code_version
    (pkg / "sub" / "mod.py").write_text("VALUE = 43\n")
    assert build_bundles(pkg.resolve()).code_version != before


def test_fails_when_the_folder_is_not_a_package(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"not a Python package \(no __init__.py\)"):
        build_bundles(tmp_path.resolve())


# --------------------------------------------------------------------------- PipelineCode


@dataclass
class Built:
    template: Template
    code: PipelineCode
    role_lid: str

    @property
    def statements(self) -> list[dict[str, Any]]:
        return role_statements(self.template, self.role_lid)


@pytest.fixture(scope="module")
def built() -> Built:
    stack = cdk.Stack(new_app(), "Code")
    code = PipelineCode(stack, "PipelineCode")
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    code.grant_read(role)
    template = Template.from_stack(stack)
    return Built(template, code, logical_id(template, "AWS::IAM::Role", "Reader"))


def test_defaults_to_this_librarys_pipeline_code(built: Built) -> None:
    assert built.code.code_dir == PIPELINE_CODE_DIR
    assert built.code.package_name == "pipeline_code"
    assert HEX16.match(built.code.code_version)
    assert built.code.code_version == build_bundles(PIPELINE_CODE_DIR).code_version


def test_the_bundles_ship_the_etl_script_schemas_and_inference_handler(built: Built) -> None:
    bundles = build_bundles(PIPELINE_CODE_DIR)
    with zipfile.ZipFile(bundles.zip_path) as zf:
        names = set(zf.namelist())
    for required in (
        "pipeline_code/__init__.py",
        "pipeline_code/schema.py",
        "pipeline_code/schemas/churn.json",
        "pipeline_code/etl/glue_job.py",
        "pipeline_code/inference/handler.py",
    ):
        assert required in names
    with tarfile.open(bundles.sourcedir_path, "r:gz") as tf:
        assert {"inference.py", "pipeline_code/inference/handler.py"} <= set(tf.getnames())


def test_uploads_the_two_bundles_as_file_assets(built: Built) -> None:
    code = built.code
    assert code.zip_asset.is_file and code.sourcedir_asset.is_file
    assert code.zip_asset.s3_object_key == f"{code.zip_asset.asset_hash}.zip"
    assert code.sourcedir_asset.s3_object_key == f"{code.sourcedir_asset.asset_hash}.gz"
    resolve = cdk.Stack.of(code).resolve
    assert resolve(code.zip_s3_uri) == {
        "Fn::Sub": "s3://cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}/"
        + code.zip_asset.s3_object_key
    }
    assert rendered(resolve(code.sourcedir_s3_uri)).endswith(
        f'/{code.sourcedir_asset.s3_object_key}"}}'
    )


def _object_key(resource: Any) -> str | None:
    """The key of an object ARN ``Fn::Join [arn:..:s3:::<bucket>, /key]``; None for the bucket."""
    last = resource["Fn::Join"][1][-1]
    return last.removeprefix("/") if isinstance(last, str) and last.startswith("/") else None


def test_grant_read_covers_exactly_the_two_objects(built: Built) -> None:
    (statement,) = built.statements
    assert set(as_list(statement["Action"])) == {"s3:GetObject*", "s3:GetBucket*", "s3:List*"}
    keys = [_object_key(r) for r in as_list(statement["Resource"])]
    # The bucket itself (for List/GetBucket) and the two objects; no "<bucket>/*".
    assert sorted(keys, key=str) == sorted(
        [None, built.code.zip_asset.s3_object_key, built.code.sourcedir_asset.s3_object_key],
        key=str,
    )


def test_a_copy_of_the_code_has_the_same_version(tmp_path: Path, built: Built) -> None:
    copy = copy_pipeline_code(tmp_path / "pipeline_code")
    code = PipelineCode(fresh_stack(), "Copy", code_dir=copy)
    assert code.code_dir == copy.resolve()
    assert code.code_version == built.code.code_version
    assert code.zip_asset.asset_hash == built.code.zip_asset.asset_hash


def test_asset_hashes_and_version_change_when_a_copied_file_changes(
    tmp_path: Path, built: Built
) -> None:
    copy = copy_pipeline_code(tmp_path / "changed" / "pipeline_code")
    schema = copy / "schema.py"
    schema.write_text(schema.read_text() + "\n# a change in the user's copy\n")
    code = PipelineCode(fresh_stack(), "Changed", code_dir=copy)
    assert code.code_version != built.code.code_version
    assert code.zip_asset.asset_hash != built.code.zip_asset.asset_hash
    assert code.sourcedir_asset.asset_hash != built.code.sourcedir_asset.asset_hash


def test_a_renamed_package_ships_under_its_own_name(tmp_path: Path) -> None:
    copy = copy_pipeline_code(tmp_path / "my_code")
    code = PipelineCode(fresh_stack(), "Mine", code_dir=str(copy))
    assert code.package_name == "my_code"
    with zipfile.ZipFile(build_bundles(copy.resolve()).zip_path) as zf:
        assert "my_code/__init__.py" in zf.namelist()
        assert not [n for n in zf.namelist() if not n.startswith("my_code/")]


def test_fails_when_code_dir_is_not_a_package(tmp_path: Path) -> None:
    (tmp_path / "module.py").write_text("")
    with pytest.raises(
        ValueError, match=r"^PipelineCode at Test/Code: code_dir=.* holds __init__.py"
    ):
        PipelineCode(fresh_stack(), "Code", code_dir=tmp_path)


def test_fails_when_code_dir_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ValueError, match=re.escape(str(missing))):
        PipelineCode(fresh_stack(), "Code", code_dir=missing)


def test_the_glue_entry_script_runs_a_renamed_package_without_pipeline_code(
    tmp_path: Path,
) -> None:
    # Glue runs the script file itself with the code zip on the path (--extra-py-files); the
    # package's own etl/glue_job.py imports relatively, so the script is a shim naming it.
    code = copy_pipeline_code(tmp_path / "fraud_ml")
    bundles = build_bundles(code)
    shim = bundles.glue_entry_path.read_text()
    assert "from fraud_ml.etl.glue_job import main" in shim
    runner = (
        "import runpy, sys\n"
        "sys.modules['pipeline_code'] = None\n"  # only the team's package is shipped
        "sys.argv = ['glue_entry.py', '--help']\n"
        f"runpy.run_path({str(bundles.glue_entry_path)!r}, run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", runner],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--input_path" in result.stdout


def test_glue_etl_uploads_the_entry_shim(tmp_path: Path) -> None:
    from cdk_mlops.constructs import GlueEtl

    stack = cdk.Stack(new_app(), "Glue")
    code = PipelineCode(stack, "Code", code_dir=copy_pipeline_code(tmp_path / "fraud_ml"))
    key = cdk.aws_kms.Key(stack, "Key")
    etl = GlueEtl(
        stack,
        "Etl",
        raw_bucket=cdk.aws_s3.Bucket(stack, "Raw"),
        curated_bucket=cdk.aws_s3.Bucket(stack, "Curated"),
        encryption_key=key,
        logs_key=key,
        code=code,
    )
    script = etl.node.find_child("Script")
    assert isinstance(script, cdk.aws_s3_assets.Asset)
    # asset staging is off in tests: the asset is the shim file itself
    assert Path(script.asset_path) == code.glue_entry_path
