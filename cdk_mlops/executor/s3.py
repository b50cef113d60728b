"""S3 for a local execution: moto in this process, seeded with the stack's buckets and assets.

Jobs never talk to S3 themselves (on SageMaker the platform moves their inputs and outputs);
the executor downloads each input to its local path and uploads each output, as SageMaker
does, so moto in-process is enough and nothing can reach AWS.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from cdk_mlops.executor.errors import ExecutorError
from cdk_mlops.executor.template import SynthesizedTemplate


def parse_s3_uri(uri: Any, *, step: str | None = None, field: str | None = None) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``."""
    if not isinstance(uri, str) or not uri.startswith("s3://") or len(uri) <= 5:
        raise ExecutorError(f"{uri!r} is not an s3:// URI", step=step, field=field)
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ExecutorError(f"{uri!r} has no bucket", step=step, field=field)
    return bucket, key


class LocalS3:
    """moto's S3 for the lifetime of a ``with`` block (no credentials, no network)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self.client: Any = None

    def __enter__(self) -> LocalS3:
        import boto3
        from moto import mock_aws

        # moto needs some credentials; none of a developer's may be used.
        for var, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_DEFAULT_REGION", self.region),
        ):
            self._saved_env[var] = os.environ.get(var)
            os.environ[var] = value
        self._mock = mock_aws()
        self._mock.start()
        self.client = boto3.client("s3", region_name=self.region)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._mock is not None:
            self._mock.stop()
        for var, value in self._saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value

    # ------------------------------------------------------------------ set-up
    def create_bucket(self, name: str) -> None:
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with contextlib.suppress(self.client.exceptions.BucketAlreadyOwnedByYou):
            self.client.create_bucket(**kwargs)

    def seed(self, template: SynthesizedTemplate) -> dict[str, str]:
        """Create the template's buckets and publish its file assets where the manifest says.

        Returns ``s3://bucket/key -> local source`` of every asset object.
        """
        for name in template.bucket_names().values():
            self.create_bucket(name)
        published: dict[str, str] = {}
        for asset in template.file_assets():
            if not asset.source.exists():
                raise ExecutorError(
                    f"{template.assets_manifest_path.name}: asset {asset.asset_id} source "
                    f"{str(asset.source)!r} is missing; synthesize with asset staging on "
                    "(not aws:cdk:disable-asset-staging)"
                )
            for bucket, key in asset.destinations:
                self.create_bucket(bucket)
                if asset.packaging == "zip" and asset.source.is_dir():
                    with tempfile.TemporaryDirectory(prefix="cdk-mlops-asset-") as tmp:
                        archive = shutil.make_archive(str(Path(tmp) / "asset"), "zip", asset.source)
                        self.client.upload_file(archive, bucket, key)
                else:
                    self.client.upload_file(str(asset.source), bucket, key)
                published[f"s3://{bucket}/{key}"] = str(asset.source)
        return published

    # ------------------------------------------------------------------ transfer
    def keys_under(self, bucket: str, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                keys.extend(o["Key"] for o in page.get("Contents", []))
        except self.client.exceptions.NoSuchBucket:
            raise ExecutorError(f"bucket {bucket!r} does not exist") from None
        return keys

    def download_prefix(
        self, uri: str, dest: Path, *, step: str, field: str, data_type: str = "S3Prefix"
    ) -> list[Path]:
        """Every object under ``uri`` into ``dest`` (paths relative to the prefix), as SageMaker
        fills an input's local path; no object is an error, as on SageMaker."""
        bucket, prefix = parse_s3_uri(uri, step=step, field=field)
        if data_type != "S3Prefix":
            raise ExecutorError(
                f"S3DataType {data_type!r} is not supported (only S3Prefix)", step=step, field=field
            )
        try:
            keys = [k for k in self.keys_under(bucket, prefix) if not k.endswith("/")]
        except ExecutorError as exc:
            raise ExecutorError(f"{uri}: {exc.detail}", step=step, field=field) from None
        if not keys:
            raise ExecutorError(
                f"no S3 objects under {uri} (SageMaker fails the job the same way)",
                step=step,
                field=field,
            )
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for key in keys:
            relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(bucket, key, str(target))
            written.append(target)
        return written

    def upload_dir(self, src: Path, uri: str, *, step: str, field: str) -> int:
        """Every file under ``src`` to ``uri/<relative path>``; returns the count."""
        bucket, prefix = parse_s3_uri(uri, step=step, field=field)
        prefix = prefix.rstrip("/")
        count = 0
        if not src.is_dir():
            return 0
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            key = f"{prefix}/{path.relative_to(src).as_posix()}" if prefix else path.name
            try:
                self.client.upload_file(str(path), bucket, key)
            except self.client.exceptions.NoSuchBucket:
                raise ExecutorError(
                    f"bucket {bucket!r} of {uri} does not exist", step=step, field=field
                ) from None
            count += 1
        return count

    def upload_file(self, src: Path, uri: str, *, step: str, field: str) -> None:
        bucket, key = parse_s3_uri(uri, step=step, field=field)
        self.client.upload_file(str(src), bucket, key)

    def read(self, uri: str, *, step: str, field: str) -> bytes:
        """One object's bytes; a missing object is an error naming the step and field."""
        bucket, key = parse_s3_uri(uri, step=step, field=field)
        try:
            body: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (self.client.exceptions.NoSuchKey, self.client.exceptions.NoSuchBucket):
            raise ExecutorError(f"no S3 object {uri}", step=step, field=field) from None
        return body
