"""Multi-account delivery: a CDK Pipelines pipeline in a tooling account deploys one maturity
level to dev, staging and prod accounts, with the compliance gates in its synth step and a
manual approval before prod. The registry environment's models are shared with the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Unpack, cast

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from cdk_mlops.compliance import (
    acknowledge,
    acknowledge_inline_policy,
    checkov_skip,
    nag_text,
)
from cdk_mlops.constructs import SharedModelSource
from cdk_mlops.environments import LEVELS, EnvironmentConfig
from cdk_mlops.stacks._props import StackProps
from cdk_mlops.stacks.consumer import ModelConsumerStack
from cdk_mlops.stacks.factory import level_stack


def default_synth_commands(level: int) -> tuple[str, ...]:
    """What the synth step runs: the project's main job (every level synthesized with every nag
    pack, then cfn-lint and checkov), then this pipeline's own cloud assembly (``-c
    delivery=<level>``: the pipeline and its stages, again through every nag pack) into
    ``cdk.out``, and cfn-lint and checkov on the pipeline's template."""
    return (
        "make synth",
        f"npx cdk synth -c delivery={level} --no-notices --quiet",
        ".venv/bin/cdk-mlops check cdk.out --checkov .venv-checkov/bin/checkov",
    )


#: The source object of the default source bucket (a zip of the repository).
SOURCE_OBJECT_KEY = "source.zip"


class MlopsStage(cdk.Stage):
    """One environment of the delivery: the level's stack (and level 3's endpoint template) and,
    in an account that serves another account's models, the ``ModelConsumerStack``.

    Attributes: ``config``, ``level_stack``, ``consumer_stack`` (None where nothing is shared).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        level: int,
        model_source: SharedModelSource | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=config.stack_env())
        self.config = config
        self.level_stack = level_stack(self, config, level)
        self.consumer_stack: ModelConsumerStack | None = None
        if model_source is not None and model_source.account != config.account:
            self.consumer_stack = ModelConsumerStack(
                self,
                "SharedModels",
                source=model_source,
                stack_name=f"MlopsSharedModels-{config.name}",
                tags=dict(config.tags),
                env=config.stack_env() or cdk.Environment(),
            )


class DeliveryStack(cdk.Stack):
    """The delivery pipeline (CDK Pipelines) of one maturity level across accounts.

    Stages run in the order of ``environments``; each is an :class:`MlopsStage` in its own
    account and region. The ``registry_environment`` (default the first) shares its models with
    the accounts of the others (``model_consumer_accounts``), which get a
    ``ModelConsumerStack``. A manual approval precedes each stage named in
    ``approval_before`` (default ``prod``). The synth step runs the project's compliance gates.

    Bootstrap each target account to trust the tooling account
    (``cdk bootstrap --trust <tooling account> aws://<account>/<region>``).

    :param level: the maturity level to deliver (1 to 4).
    :param environments: the environments, each with an account and region, distinct names.
    :param registry_environment: whose registry the others serve from. Default: the first.
    :param approval_before: environments that wait for a person's approval. Default ``prod``.
    :param source: the repository (``pipelines.CodePipelineSource.connection(...)`` for
        GitHub/GitLab/Bitbucket, ``.code_commit(...)``, ``.s3(...)``). Default: a new encrypted,
        versioned bucket in this stack; upload the repository zipped as ``source.zip``.
    :param synth_commands: the synth step's commands; ``cdk.out`` is its output. Default
        :func:`default_synth_commands` (the gates, then the pipeline's own assembly, which
        ``app.py`` builds with ``-c delivery=<level>``).

    Attributes: ``pipeline`` (``pipelines.CodePipeline``), ``stages`` (name -> ``MlopsStage``),
    ``source_bucket`` (None with your own source).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        level: int,
        environments: Sequence[EnvironmentConfig],
        registry_environment: str | None = None,
        approval_before: Sequence[str] = ("prod",),
        source: pipelines.IFileSetProducer | None = None,
        synth_commands: Sequence[str] | None = None,
        **stack_props: Unpack[StackProps],
    ) -> None:
        stack_props.setdefault(
            "description", f"cdk-mlops delivery of level {level} to {len(environments)} accounts"
        )
        super().__init__(scope, construct_id, **stack_props)
        envs = self._validate(level, environments, registry_environment, approval_before)
        registry_name = registry_environment or envs[0].name
        registry = next(e for e in envs if e.name == registry_name)
        consumers = sorted(
            {e.account for e in envs if e.account is not None and e.account != registry.account}
        )
        if consumers and level >= 2:
            registry = replace(
                registry,
                model_consumer_accounts=tuple(
                    sorted({*registry.model_consumer_accounts, *consumers})
                ),
            )
        model_source = (
            SharedModelSource.for_stack(
                registry.stack_name(level),
                account=str(registry.account),
                region=str(registry.region),
            )
            if consumers and level >= 2
            else None
        )

        self.source_bucket: s3.Bucket | None = None
        self._access_logs = self._access_log_bucket()
        if source is None:
            source = self._default_source()
        self.artifacts_bucket = self._bucket(
            "Artifacts", log_prefix="artifacts/",
            what="pipeline artifacts (the key is shared with the target accounts)",
            why="pipeline artifacts are rebuilt from the source on every run",
        )  # fmt: skip
        synth = pipelines.ShellStep(
            "Synth",
            input=source,
            install_commands=["make deps-synth"],
            commands=list(synth_commands or default_synth_commands(level)),
            primary_output_directory="cdk.out",
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=synth,
            artifact_bucket=self.artifacts_bucket,  # its key is shared with the target accounts
            docker_enabled_for_synth=False,
            self_mutation=True,
        )
        self.stages: dict[str, MlopsStage] = {}
        for config in envs:
            stage_config = registry if config.name == registry.name else config
            stage = MlopsStage(
                self,
                f"Stage-{config.name}",
                config=stage_config,
                level=level,
                model_source=None if config.name == registry.name else model_source,
            )
            self.stages[config.name] = stage
            pre = (
                [pipelines.ManualApprovalStep(f"Approve-{config.name}",
                                              comment=f"Deploy level {level} to {config.name}?")]
                if config.name in approval_before
                else []
            )  # fmt: skip
            self.pipeline.add_stage(stage, pre=pre)
        self.pipeline.build_pipeline()
        # CDK adds DependsOn on the role that the RoleArn GetAtt already implies (cfn-lint W3005).
        cast(cdk.CfnResource, self.pipeline.pipeline.node.default_child).add_metadata(
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        self._acknowledge()

    @staticmethod
    def _validate(
        level: int,
        environments: Sequence[EnvironmentConfig],
        registry_environment: str | None,
        approval_before: Sequence[str],
    ) -> list[EnvironmentConfig]:
        where = "DeliveryStack"
        if level not in LEVELS:
            raise ValueError(f"{where}: level={level!r} is not allowed. Use one of {LEVELS}.")
        envs = list(environments)
        if not envs:
            raise ValueError(f"{where}: environments=[] is not allowed. Give dev, staging, prod.")
        names = [e.name for e in envs]
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: environments={names!r} repeat a name; name each once.")
        for config in envs:
            if config.account is None:
                raise ValueError(
                    f"{where}: environment {config.name!r} has account=None. Delivery deploys "
                    "to named accounts: set account, region and availability_zones for it "
                    "(cdk.json, cdk-mlops:environments)."
                )
        if registry_environment is not None and registry_environment not in names:
            raise ValueError(
                f"{where}: registry_environment={registry_environment!r} is not allowed. Use "
                f"one of {names}."
            )
        unknown = [n for n in approval_before if n not in names]
        if isinstance(approval_before, str) or unknown:
            raise ValueError(
                f"{where}: approval_before={approval_before!r} is not allowed. Give a list of "
                f"environment names among {names}."
            )
        return envs

    def _access_log_bucket(self) -> s3.Bucket:
        logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # server access logs need SSE-S3
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365))],
        )
        acknowledge(
            logs,
            ["AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled",
             "HIPAA.Security-S3BucketLoggingEnabled", "PCI.DSS.321-S3BucketLoggingEnabled",
             "NIST.800.53.R5-S3BucketReplicationEnabled",
             "HIPAA.Security-S3BucketReplicationEnabled", "PCI.DSS.321-S3BucketReplicationEnabled",
             "NIST.800.53.R5-S3DefaultEncryptionKMS", "HIPAA.Security-S3DefaultEncryptionKMS",
             "PCI.DSS.321-S3DefaultEncryptionKMS"],
            "The access-log bucket of the delivery pipeline's buckets: S3 server access logging "
            "delivers only to SSE-S3 buckets, a log bucket does not log itself, and its logs "
            "expire after a year rather than being replicated.",
        )  # fmt: skip
        checkov_skip(logs, "CKV_AWS_18", "The access-log bucket of the delivery pipeline's "
                     "buckets does not log itself.")  # fmt: skip
        return logs

    def _bucket(self, construct_id: str, *, log_prefix: str, what: str, why: str) -> s3.Bucket:
        """A KMS-encrypted (own key, rotated), versioned, access-logged, TLS-only bucket."""
        key = kms.Key(
            self,
            f"{construct_id}Key",
            enable_key_rotation=True,
            description=f"cdk-mlops delivery: {what}",
        )
        bucket = s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self._access_logs,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(90))],
        )
        acknowledge(
            bucket,
            ["NIST.800.53.R5-S3BucketReplicationEnabled",
             "HIPAA.Security-S3BucketReplicationEnabled", "PCI.DSS.321-S3BucketReplicationEnabled"],
            f"Not replicated: {why}; the repository is the source of truth.",
        )  # fmt: skip
        return bucket

    def _default_source(self) -> pipelines.IFileSetProducer:
        self.source_bucket = self._bucket(
            "Source", log_prefix="source/", what="source bucket",
            why="it holds uploaded copies of the repository",
        )  # fmt: skip
        return pipelines.CodePipelineSource.s3(self.source_bucket, SOURCE_OBJECT_KEY)

    def _acknowledge(self) -> None:
        """Acknowledgments for what CDK Pipelines generates: each role's own policy, finding by
        finding (computed from the policy itself), and the CodeBuild projects' sources."""
        for construct in self.pipeline.node.find_all():
            if isinstance(construct, iam.Policy):
                role = construct.node.scope
                owner = role.node.path.removeprefix(self.pipeline.node.path + "/") if role else ""
                acknowledge_inline_policy(construct, f"delivery pipeline {owner}")
                if owner == "Assets/FileRole":
                    checkov_skip(
                        construct,
                        "CKV_AWS_111",
                        "CDK Pipelines' asset publishing role: it writes only through the CDK "
                        "bootstrap file-publishing roles (cdk-*) it assumes in each target "
                        "account, and its CodeBuild logs and reports.",
                    )
                findings = wildcard_findings(construct)
                if findings:
                    acknowledge(
                        construct,
                        findings,
                        f"CDK Pipelines' own grants for {owner}: the pipeline's artifact bucket "
                        "and its key (object wildcards, KMS data-key actions), CodeBuild log "
                        "groups and report groups named after its projects, and the CDK "
                        "bootstrap roles (cdk-*) it assumes to publish assets and deploy.",
                    )
            elif isinstance(construct, codebuild.CfnProject):
                acknowledge(
                    construct,
                    ["HIPAA.Security-CodeBuildProjectSourceRepoUrl",
                     "PCI.DSS.321-CodeBuildProjectSourceRepoUrl"],
                    "The project's source is the pipeline (type CODEPIPELINE): there is no "
                    "repository URL and no credential in it.",
                )  # fmt: skip


def wildcard_findings(policy: iam.Policy) -> list[str]:
    """The AwsSolutions-IAM5 finding ids of ``policy``'s wildcard actions and resources."""
    document = cdk.Stack.of(policy).resolve(policy.document)
    findings: list[str] = []
    for statement in document.get("Statement", []) if document else []:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if "*" in action:
                findings.append(f"AwsSolutions-IAM5[Action::{action}]")
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, (str, dict)) else resources:
            text = nag_text(policy, resource)
            if "*" in text:
                findings.append(f"AwsSolutions-IAM5[Resource::{text}]")
    return sorted(set(findings))
