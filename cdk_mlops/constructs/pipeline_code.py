"""The ``pipeline_code`` package (or your own) as hashed S3 assets."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_mlops.assets import PIPELINE_CODE_DIR, build_bundles
from cdk_mlops.constructs._util import prop_error


class PipelineCode(Construct):
    """Uploads a code package as two deterministic assets: a zip and a SageMaker source dir.

    The asset hash changes exactly when a source file does; ``code_version`` (a short sha256 of
    the sources) is what the training pipeline records on every model package.

    :param code_dir: a Python package directory (with ``__init__.py``). Default: this library's
        ``pipeline_code``. Your own package must keep the same module layout (see the docs).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, code_dir: Path | str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        path = Path(code_dir) if code_dir is not None else PIPELINE_CODE_DIR
        if not (path / "__init__.py").is_file():
            # Not a token check: the folder is read when the app is synthesized.
            raise prop_error(
                self,
                "code_dir",
                str(path),
                "It is not a Python package directory; pass the folder that holds __init__.py "
                "(e.g. Path(__file__).parent / 'my_pipeline_code').",
            )
        bundles = build_bundles(path.resolve())
        self.code_version = bundles.code_version
        self.code_dir = path.resolve()
        self.package_name = self.code_dir.name
        #: The Glue entry script for this package (a local file; ``GlueEtl`` uploads it).
        self.glue_entry_path = bundles.glue_entry_path
        self.zip_asset = s3_assets.Asset(self, "Zip", path=str(bundles.zip_path))
        self.sourcedir_asset = s3_assets.Asset(self, "SourceDir", path=str(bundles.sourcedir_path))

    @property
    def zip_s3_uri(self) -> str:
        return self.zip_asset.s3_object_url

    @property
    def sourcedir_s3_uri(self) -> str:
        return self.sourcedir_asset.s3_object_url

    @property
    def sourcedir_channel_uri(self) -> str:
        """The source-dir bundle's S3 URI with its object key (``<hash>.gz``) written out: a
        tuning job's code channel needs the file's name at synth time, which
        ``sourcedir_s3_uri`` (one token) hides."""
        asset = self.sourcedir_asset
        return f"s3://{asset.s3_bucket_name}/{asset.s3_object_key}"

    def grant_read(self, grantee: iam.IGrantable) -> None:
        """Read exactly the two bundle objects (not the whole CDK asset bucket)."""
        grant_asset_read(self.zip_asset, grantee)
        grant_asset_read(self.sourcedir_asset, grantee)


def grant_asset_read(asset: s3_assets.Asset, grantee: iam.IGrantable) -> iam.Grant:
    """Read one asset object. ``Asset.grant_read`` would grant every object of the asset bucket."""
    return asset.bucket.grant_read(grantee, asset.s3_object_key)
