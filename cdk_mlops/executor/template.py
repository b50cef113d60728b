"""A synthesized template and its asset manifest, with the CloudFormation values resolved locally.

CloudFormation fills in ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::FindInMap``
and ``Fn::Select`` at deploy time. Here they resolve to the values a deployment in one account
and region would give, where the executor uses them (bucket names, asset locations, the region),
and to stable stand-ins where it does not (subnet and security group ids, key ARNs). Anything
else (``Fn::If``, ``Fn::ImportValue``, a ``Ref`` to nothing in the template) is refused with the
place it occurs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk_mlops.executor.errors import ExecutorError

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
PIPELINE_TYPE = "AWS::SageMaker::Pipeline"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class FileAsset:
    """One file asset of the manifest: a local source and the S3 objects it is published to."""

    asset_id: str
    source: Path
    packaging: str  # "file" (upload as is) or "zip" (a folder zipped on upload)
    destinations: tuple[tuple[str, str], ...]  # (bucket, key), pseudo parameters resolved


@dataclass(frozen=True)
class PipelineResource:
    """An ``AWS::SageMaker::Pipeline`` of the template, its definition parsed."""

    logical_id: str
    name: str
    definition: dict[str, Any]


@dataclass
class SynthesizedTemplate:
    """A template written by ``cdk synth`` (and the ``<stack>.assets.json`` beside it)."""

    path: Path
    body: dict[str, Any]
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    parameters: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        account: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        parameters: Mapping[str, str] | None = None,
    ) -> SynthesizedTemplate:
        """Read ``path`` (e.g. ``cdk.out/MlopsLevel2.template.json``)."""
        p = Path(path)
        if not p.is_file():
            raise ExecutorError(
                f"template {str(p)!r} does not exist; run 'cdk synth' and pass "
                "cdk.out/<stack>.template.json"
            )
        try:
            body = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ExecutorError(f"template {str(p)!r} is not JSON ({exc})") from None
        if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
            raise ExecutorError(f"template {str(p)!r} has no Resources section")
        return cls(p, body, account=account, region=region, parameters=dict(parameters or {}))

    # ------------------------------------------------------------------ names
    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.body["Resources"])

    @property
    def stack_name(self) -> str:
        return self.path.name.removesuffix(".template.json")

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def url_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    def pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/"
                f"{self.stack_name}/{_short_hash(self.stack_name)}"
            ),
        }

    def bucket_names(self) -> dict[str, str]:
        """Logical id -> bucket name of every ``AWS::S3::Bucket`` in the template."""
        return {
            lid: self._physical_id(lid)
            for lid, res in self.resources.items()
            if res.get("Type") == "AWS::S3::Bucket"
        }

    def _resource(self, lid: str, where: str) -> dict[str, Any]:
        res = self.resources.get(lid)
        if not isinstance(res, dict):
            raise ExecutorError(
                f"{where}: {lid!r} is neither a resource, a parameter nor a pseudo parameter of "
                f"{self.path.name}"
            )
        return res

    def _physical_id(self, lid: str, where: str = "Ref") -> str:
        """What ``Ref`` gives: the name the resource has (or CloudFormation would generate)."""
        res = self._resource(lid, where)
        kind = str(res.get("Type", ""))
        props = res.get("Properties") or {}
        name_prop = {
            "AWS::S3::Bucket": "BucketName",
            "AWS::IAM::Role": "RoleName",
            "AWS::SageMaker::Pipeline": "PipelineName",
            "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
        }.get(kind)
        if name_prop and name_prop in props:
            return str(self.resolve(props[name_prop], f"{lid}.Properties.{name_prop}"))
        if kind == "AWS::S3::Bucket":
            # CloudFormation's form: <stack>-<logical id>-<random>, lower case, at most 63.
            stem = re.sub(r"[^a-z0-9-]", "", f"{self.stack_name}-{lid}".lower())[:48].strip("-")
            return f"{stem}-{_short_hash(self.account, self.region, lid)}"
        if kind == "AWS::SageMaker::ModelPackageGroup":
            return self._arn(lid, kind)
        return f"{lid.lower()}-{_short_hash(lid)}"

    def _arn(self, lid: str, kind: str) -> str:
        p, r, a = self.partition, self.region, self.account
        name = self._physical_id(lid) if kind != "AWS::SageMaker::ModelPackageGroup" else lid
        if kind == "AWS::S3::Bucket":
            return f"arn:{p}:s3:::{name}"
        if kind == "AWS::IAM::Role":
            return f"arn:{p}:iam::{a}:role/{name}"
        if kind == "AWS::KMS::Key":
            return f"arn:{p}:kms:{r}:{a}:key/{name}"
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
        return f"arn:{p}:{service}:{r}:{a}:{name}"

    def _get_att(self, lid: str, attribute: str, where: str) -> str:
        res = self._resource(lid, f"{where} (Fn::GetAtt)")
        kind = str(res.get("Type", ""))
        if attribute == "Arn" or attribute.endswith("Arn"):
            return self._arn(lid, kind)
        if kind == "AWS::S3::Bucket" and attribute in ("DomainName", "RegionalDomainName"):
            name = self._physical_id(lid)
            return (
                f"{name}.s3.amazonaws.com"
                if attribute == "DomainName"
                else f"{name}.s3.{self.region}.{self.url_suffix}"
            )
        # Ids the executor passes on but never uses (security groups, key ids, ...).
        return f"{lid.lower()}-{attribute.lower()}-{_short_hash(lid, attribute)}"

    # ------------------------------------------------------------------ intrinsics
    def resolve(self, value: Any, where: str) -> Any:
        """``value`` with every CloudFormation intrinsic function replaced by its value."""
        if isinstance(value, list):
            return [self.resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(str(arg), where)
            if key == "Fn::GetAtt":
                lid, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self._get_att(str(lid), str(attribute), where)
            if key == "Fn::Join":
                delimiter, parts = arg
                resolved = self.resolve(parts, where)
                return str(delimiter).join(str(p) for p in resolved)
            if key == "Fn::Sub":
                return self._sub(arg, where)
            if key == "Fn::FindInMap":
                return self._find_in_map(arg, where)
            if key == "Fn::Select":
                index, items = arg
                items = self.resolve(items, where)
                return items[int(self.resolve(index, where))]
            if key.startswith("Fn::") or key == "Condition":
                raise ExecutorError(
                    f"{where}: the executor does not resolve {key} (it resolves Ref, Fn::GetAtt, "
                    "Fn::Join, Fn::Sub, Fn::FindInMap and Fn::Select)"
                )
        return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}

    def _ref(self, name: str, where: str) -> str:
        pseudo = self.pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        if name.startswith("AWS::"):
            raise ExecutorError(f"{where}: pseudo parameter {name} is not supported")
        declared = (self.body.get("Parameters") or {}).get(name)
        if declared is not None:
            if name in self.parameters:
                return self.parameters[name]
            if str(declared.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
                raise ExecutorError(
                    f"{where}: template parameter {name} is read from SSM at deploy time; pass "
                    f"its value (template parameter {name}=...)"
                )
            if "Default" not in declared:
                raise ExecutorError(
                    f"{where}: template parameter {name} has no default; pass its value"
                )
            return str(declared["Default"])
        return self._physical_id(name, where)

    def _sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, raw = arg
            variables = {k: str(self.resolve(v, f"{where}.{k}")) for k, v in raw.items()}

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return variables[name]
            if "." in name and not name.startswith("AWS::"):
                lid, attribute = name.split(".", 1)
                return self._get_att(lid, attribute, where)
            return self._ref(name, where)

        return _SUB_VARIABLE.sub(value, text).replace("${!", "${")

    def _find_in_map(self, arg: Any, where: str) -> str:
        name, top, second = (self.resolve(a, where) for a in arg)
        mapping = (self.body.get("Mappings") or {}).get(name)
        try:
            return str(mapping[top][second])  # type: ignore[index]
        except (KeyError, TypeError):
            raise ExecutorError(
                f"{where}: Fn::FindInMap [{name}, {top}, {second}] has no value in the "
                f"template's Mappings (region {self.region}?)"
            ) from None

    def substitute_pseudo(self, text: str) -> str:
        """``${AWS::AccountId}``-style placeholders of the asset manifest replaced."""
        for key, val in self.pseudo_parameters().items():
            text = text.replace("${" + key + "}", val)
        return text

    # ------------------------------------------------------------------ pipelines
    def pipelines(self) -> list[PipelineResource]:
        """Every ``AWS::SageMaker::Pipeline`` with its definition resolved and parsed."""
        out = []
        for lid, res in self.resources.items():
            if res.get("Type") != PIPELINE_TYPE:
                continue
            props = res.get("Properties") or {}
            where = f"{lid}.Properties.PipelineDefinition"
            definition = props.get("PipelineDefinition") or {}
            if "PipelineDefinitionBody" not in definition:
                raise ExecutorError(
                    f"{where}: only PipelineDefinitionBody is supported (the definition is "
                    "inline in the template), not PipelineDefinitionS3Location"
                )
            text = self._definition_text(definition["PipelineDefinitionBody"], where)
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ExecutorError(
                    f"{where}: the resolved definition is not JSON ({exc})"
                ) from None
            name = self.resolve(props.get("PipelineName", lid), f"{lid}.Properties.PipelineName")
            out.append(PipelineResource(lid, str(name), parsed))
        return out

    def _definition_text(self, body: Any, where: str) -> str:
        if isinstance(body, str):
            return body
        if isinstance(body, dict) and set(body) == {"Fn::Join"}:
            delimiter, parts = body["Fn::Join"]
            # Tokens sit inside JSON string literals: their values are escaped as such.
            return str(delimiter).join(
                p
                if isinstance(p, str)
                else json.dumps(str(self.resolve(p, f"{where}.PipelineDefinitionBody")))[1:-1]
                for p in parts
            )
        return str(self.resolve(body, f"{where}.PipelineDefinitionBody"))

    def pipeline(self, name: str | None = None) -> PipelineResource:
        """The pipeline called ``name`` (or by logical id), or the only one."""
        found = self.pipelines()
        if not found:
            raise ExecutorError(f"{self.path.name} has no {PIPELINE_TYPE} resource")
        if name is None:
            if len(found) > 1:
                raise ExecutorError(
                    f"{self.path.name} has {len(found)} pipelines "
                    f"({', '.join(p.name for p in found)}); choose one with --pipeline"
                )
            return found[0]
        for p in found:
            if name in (p.name, p.logical_id):
                return p
        raise ExecutorError(
            f"no pipeline {name!r} in {self.path.name}; it has {[p.name for p in found]}"
        )

    # ------------------------------------------------------------------ assets
    @property
    def assets_manifest_path(self) -> Path:
        return self.path.with_name(f"{self.stack_name}.assets.json")

    def file_assets(self) -> list[FileAsset]:
        """The file assets of ``<stack>.assets.json`` (none when there is no manifest)."""
        manifest_path = self.assets_manifest_path
        if not manifest_path.is_file():
            return []
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        out = []
        for asset_id, entry in (manifest.get("files") or {}).items():
            source = entry.get("source") or {}
            if "path" not in source:
                raise ExecutorError(
                    f"{manifest_path.name}: asset {asset_id} is built by a command "
                    "(executable), which the executor does not run"
                )
            destinations = tuple(
                (self.substitute_pseudo(d["bucketName"]), self.substitute_pseudo(d["objectKey"]))
                for d in (entry.get("destinations") or {}).values()
            )
            out.append(
                FileAsset(
                    asset_id=asset_id,
                    source=manifest_path.parent / source["path"],
                    packaging=str(source.get("packaging", "file")),
                    destinations=destinations,
                )
            )
        return out
