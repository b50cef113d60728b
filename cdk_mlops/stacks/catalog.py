"""Templates for new projects: a Service Catalog portfolio with one product per maturity level.

Each product's template is the level's constructs synthesized in a ``ProductStack``
(:func:`~cdk_mlops.stacks.compose.compose_level`, the same function the level stacks use), so a
team that launches "level 2" from Service Catalog, or from SageMaker Studio's Projects, gets what
``MlopsLevel2`` deploys. See ``docs/catalog.md``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Unpack, cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from cdk_mlops.compliance import (
    S3_READ_GRANT_FINDINGS,
    S3_WRITE_GRANT_FINDINGS,
    acknowledge,
    acknowledge_inline_policy,
    bucket_objects_finding,
    checkov_skip,
)
from cdk_mlops.constructs._util import check_prop, launch_scoped_names, prop_error
from cdk_mlops.levels import InitialSettings, ReliableSettings, RepeatableSettings
from cdk_mlops.stacks._catalog_launch_role import new_launch_role
from cdk_mlops.stacks._props import StackProps
from cdk_mlops.stacks.compose import (
    COMPOSABLE_LEVELS,
    ComposedLevel,
    ScalableSettings,
    compose_level,
)

#: The tag that lists a Service Catalog product among SageMaker Studio's project templates.
STUDIO_VISIBILITY_TAG = ("sagemaker:studio-visibility", "true")
#: The parameters SageMaker Projects passes to every template it launches.
SAGEMAKER_PROJECT_PARAMETERS = ("SageMakerProjectName", "SageMakerProjectId")

LEVEL_NAMES: Mapping[int, str] = {1: "Initial", 2: "Repeatable", 3: "Reliable", 4: "Scalable"}
LEVEL_SUMMARIES: Mapping[int, str] = {
    1: "data lake, private network, SageMaker Studio, budget",
    2: "level 1 + Glue ETL, SageMaker training pipeline, model registry, CI",
    3: "level 2 + deployment pipeline to staging and prod endpoints, dashboard, audit trail",
    4: "level 3 with a permissions boundary on every role and mandatory tags",
}


_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")


class LevelProduct(servicecatalog.ProductStack):
    """The template of one maturity level as a Service Catalog product (``ProductStack``).

    Composes the level with :func:`compose_level` (construct ids ``Initial``, ``Repeatable``,
    ``Reliable``, ``Governance``, as in the level stacks). Resource names that the level stacks
    derive from the stack name are derived here from ``mlops-l<level>`` and the deployed stack's
    id instead, so a product launched twice in one account and region does not collide. The
    template declares ``SageMakerProjectName`` and ``SageMakerProjectId``, which SageMaker Studio
    passes to project templates (a plain Service Catalog launch leaves them ``none``).

    Subclasses fix the level: :class:`InitialProduct`, :class:`RepeatableProduct`,
    :class:`ReliableProduct`, :class:`ScalableProduct`.
    """

    LEVEL: int = 0

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        asset_bucket: s3.IBucket,
        initial: InitialSettings | None = None,
        repeatable: RepeatableSettings | None = None,
        reliable: ReliableSettings | None = None,
        scalable: ScalableSettings | None = None,
    ) -> None:
        level = self.LEVEL
        super().__init__(
            scope,
            construct_id,
            asset_bucket=asset_bucket,
            description=f"cdk-mlops level {level} ({LEVEL_NAMES[level]}): {LEVEL_SUMMARIES[level]}",
        )
        launch_scoped_names(self, f"mlops-l{level}")
        name = cdk.CfnParameter(
            self,
            SAGEMAKER_PROJECT_PARAMETERS[0],
            type="String",
            default="none",
            max_length=32,
            allowed_pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*",
            description="The SageMaker project launching this template (SageMaker sets it).",
        )
        project_id = cdk.CfnParameter(
            self,
            SAGEMAKER_PROJECT_PARAMETERS[1],
            type="String",
            default="none",
            max_length=20,
            allowed_pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*",
            description="The id of that SageMaker project (SageMaker sets it).",
        )
        cdk.CfnOutput(
            self,
            "SageMakerProject",
            value=cdk.Fn.join("/", [name.value_as_string, project_id.value_as_string]),
            description="The SageMaker project (name/id) this launch belongs to; none/none "
            "when launched from Service Catalog directly.",
        )
        self.composed: ComposedLevel = compose_level(
            self,
            level,
            initial=initial,
            repeatable=repeatable,
            reliable=reliable,
            scalable=scalable,
        )


class InitialProduct(LevelProduct):
    """Level 1 (Initial) as a product: :class:`~cdk_mlops.levels.InitialLevel`."""

    LEVEL = 1


class RepeatableProduct(LevelProduct):
    """Level 2 (Repeatable) as a product: level 1 plus
    :class:`~cdk_mlops.levels.RepeatableLevel`."""

    LEVEL = 2


class ReliableProduct(LevelProduct):
    """Level 3 (Reliable) as a product: level 2 plus :class:`~cdk_mlops.levels.ReliableLevel`."""

    LEVEL = 3


class ScalableProduct(LevelProduct):
    """Level 4 (Scalable) as a product: level 3 under :class:`~cdk_mlops.governance.Governance`."""

    LEVEL = 4


PRODUCT_CLASSES: Mapping[int, type[LevelProduct]] = {
    1: InitialProduct,
    2: RepeatableProduct,
    3: ReliableProduct,
    4: ScalableProduct,
}


class CatalogStack(cdk.Stack):
    """A Service Catalog portfolio with a product per maturity level, ready for SageMaker Projects.

    Creates: the portfolio (``Portfolio``), one ``CloudFormationProduct`` per level in
    ``levels`` (``Level<n>``, template: the ``Level<n>Template`` product stack), each tagged
    ``sagemaker:studio-visibility=true`` and constrained to launch with ``launch_role``; the
    principal associations of ``principals`` and ``principal_arns``; and, unless given, the
    launch role (``LaunchRole``) and the bucket the products' file assets are copied to
    (``AssetBucket``, with its access-log bucket ``AssetAccessLogs``).

    :param levels: the maturity levels to offer, each once. Default all four.
    :param portfolio_name: the portfolio's display name. Default ``cdk-mlops maturity levels``.
    :param provider_name: who provides the products (shown to users). Default ``ML platform team``.
    :param product_owner: the products' owner. Default: ``provider_name``.
    :param principals: IAM roles, users or groups that may launch the products (for SageMaker
        Projects: the Studio execution role).
    :param principal_arns: role ARNs that may launch, for roles outside this app. ``principals``
        and ``principal_arns`` together name at least one.
    :param launch_role: the role Service Catalog launches every product with. Default: a new
        role that Service Catalog in this account may assume, allowed exactly the services of the
        products' resource types (see ``docs/catalog.md``: it creates IAM roles, so it is as
        powerful as a deployment role).
    :param asset_bucket: where the products' file assets (code bundles, scripts, Lambda
        handlers) are copied; it needs a physical name. Default: a new SSE-S3 encrypted,
        versioned, SSL-only, access-logged bucket named after the stack, account and region.
    :param version_name: the product version name. Default ``v1``.
    :param initial: level 1's settings for every product. Default: the defaults.
    :param repeatable: level 2's settings for products 2-4 (no ``model_consumer_accounts``:
        a product cannot name its own bucket in advance). Default: the defaults.
    :param reliable: level 3's settings for products 3-4. Default: the defaults.
    :param scalable: level 4's settings; its ``tags`` must carry the mandatory tags (synthesis
        fails naming each untagged resource otherwise). Default: the defaults.

    Attributes: ``portfolio``, ``products`` (level -> product), ``product_stacks`` (level ->
    :class:`LevelProduct`), ``launch_role``, ``asset_bucket``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        levels: Sequence[int] = COMPOSABLE_LEVELS,
        portfolio_name: str = "cdk-mlops maturity levels",
        provider_name: str = "ML platform team",
        product_owner: str | None = None,
        principals: Sequence[iam.IRole | iam.IUser | iam.IGroup] = (),
        principal_arns: Sequence[str] = (),
        launch_role: iam.IRole | None = None,
        asset_bucket: s3.IBucket | None = None,
        version_name: str = "v1",
        initial: InitialSettings | None = None,
        repeatable: RepeatableSettings | None = None,
        reliable: ReliableSettings | None = None,
        scalable: ScalableSettings | None = None,
        **stack_props: Unpack[StackProps],
    ) -> None:
        stack_props.setdefault(
            "description", "cdk-mlops project templates: a Service Catalog product per level"
        )
        super().__init__(scope, construct_id, **stack_props)
        self._validate(levels, portfolio_name, provider_name, principals, principal_arns)
        check_prop(
            self,
            "version_name",
            version_name,
            lambda v: isinstance(v, str) and 0 < len(v) <= 100,
            "Give a version name of 1-100 characters, e.g. 'v1'.",
        )
        check_prop(
            self,
            "product_owner",
            product_owner,
            product_owner is None or 0 < len(product_owner.strip()) <= 8191,
            "Name who owns the products, e.g. 'ML platform team', or leave it out.",
        )
        if repeatable is not None and repeatable.model_consumer_accounts:
            raise prop_error(
                self,
                "repeatable.model_consumer_accounts",
                list(repeatable.model_consumer_accounts),
                "A product's artifacts bucket is named at launch, so consumer accounts cannot be "
                "given its name in advance; share models from a level stack deployed with env= "
                "instead, and leave model_consumer_accounts empty here.",
            )
        self._created_asset_bucket: s3.Bucket | None = None
        if asset_bucket is not None:
            self._check_asset_bucket(asset_bucket)
        #: The asset bucket as the products see it: imported by name into this stack, so CDK's
        #: asset copy lands here and the product templates name it literally.
        self.asset_bucket: s3.IBucket = (
            self._new_asset_bucket() if asset_bucket is None else self._import(asset_bucket)
        )
        self.portfolio = servicecatalog.Portfolio(
            self,
            "Portfolio",
            display_name=portfolio_name,
            provider_name=provider_name,
            description="cdk-mlops: one product per MLOps maturity level (1 Initial, 2 Repeatable, "
            "3 Reliable, 4 Scalable)",
        )
        for principal in principals:
            kind = _principal_kind(principal)
            if kind == "role":
                self.portfolio.give_access_to_role(cast(iam.IRole, principal))
            elif kind == "user":
                self.portfolio.give_access_to_user(cast(iam.IUser, principal))
            else:
                self.portfolio.give_access_to_group(cast(iam.IGroup, principal))
        for i, arn in enumerate(principal_arns):
            self.portfolio.give_access_to_role(
                iam.Role.from_role_arn(self, f"Principal{i}", arn, mutable=False)
            )

        self.product_stacks: dict[int, LevelProduct] = {}
        self.products: dict[int, servicecatalog.CloudFormationProduct] = {}
        for level in levels:
            template = PRODUCT_CLASSES[level](
                self,
                f"Level{level}Template",
                asset_bucket=self.asset_bucket,
                initial=initial,
                repeatable=repeatable,
                reliable=reliable,
                scalable=scalable,
            )
            self.product_stacks[level] = template
            product = servicecatalog.CloudFormationProduct(
                self,
                f"Level{level}",
                product_name=f"MLOps level {level} ({LEVEL_NAMES[level]})",
                owner=product_owner or provider_name,
                description=LEVEL_SUMMARIES[level],
                distributor=provider_name,
                product_versions=[
                    servicecatalog.CloudFormationProductVersion(
                        product_version_name=version_name,
                        cloud_formation_template=servicecatalog.CloudFormationTemplate.from_product_stack(
                            template
                        ),
                        description=f"cdk-mlops level {level} as synthesized by this app",
                    )
                ],
            )
            cdk.Tags.of(product).add(*STUDIO_VISIBILITY_TAG)
            self.portfolio.add_product(product)
            self.products[level] = product
        self._copy_assets_after_the_bucket()

        self.launch_role: iam.IRole = launch_role or new_launch_role(
            self, self.product_stacks.values(), self.asset_bucket
        )
        for level, product in self.products.items():
            self.portfolio.set_launch_role(
                product,
                self.launch_role,
                description=f"Level {level} launches with the catalog's launch role, not the "
                "user's permissions.",
            )

    # -- validation ------------------------------------------------------------------------

    def _validate(
        self,
        levels: Sequence[int],
        portfolio_name: str,
        provider_name: str,
        principals: Sequence[object],
        principal_arns: Sequence[str],
    ) -> None:
        chosen = list(levels) if not isinstance(levels, (str, int)) else None
        check_prop(
            self,
            "levels",
            levels,
            chosen is not None
            and bool(chosen)
            and all(isinstance(n, int) and n in COMPOSABLE_LEVELS for n in chosen)
            and len(set(chosen)) == len(chosen),
            f"Give one or more of {COMPOSABLE_LEVELS}, each once, e.g. levels=(1, 2).",
        )
        for prop, value, limit in (
            ("portfolio_name", portfolio_name, 100),
            ("provider_name", provider_name, 50),
        ):
            check_prop(
                self,
                prop,
                value,
                isinstance(value, str) and 0 < len(value.strip()) <= limit,
                f"Give a non-empty name of at most {limit} characters (Service Catalog's limit).",
            )
        if isinstance(principal_arns, str):
            raise prop_error(
                self,
                "principal_arns",
                principal_arns,
                "Pass a list of role ARNs, e.g. principal_arns=[arn], not a single string.",
            )
        if not principals and not principal_arns:
            raise prop_error(
                self,
                "principals",
                list(principals),
                "Nobody could launch the products: give the roles (for SageMaker Projects, the "
                "Studio execution role) in principals=[role] or their ARNs in principal_arns=.",
            )
        for principal in principals:
            if _principal_kind(principal) is None:
                raise prop_error(
                    self,
                    "principals",
                    principal,
                    "Each principal is an iam.IRole, iam.IUser or iam.IGroup (e.g. "
                    "iam.Role.from_role_arn(...)); pass role ARNs in principal_arns=.",
                )
        for arn in principal_arns:
            check_prop(
                self,
                "principal_arns",
                arn,
                lambda a: isinstance(a, str) and _ROLE_ARN.fullmatch(a),
                "Give IAM role ARNs, e.g. 'arn:aws:iam::111111111111:role/StudioExecution'; "
                "users and groups go in principals= as iam.IUser / iam.IGroup.",
            )
        if len(set(principal_arns)) != len(principal_arns):
            raise prop_error(
                self, "principal_arns", list(principal_arns), "Name each role ARN once."
            )

    def _check_asset_bucket(self, bucket: s3.IBucket) -> None:
        if cdk.Resource.is_owned_resource(bucket):
            cfn = bucket.node.default_child
            if (
                isinstance(cfn, s3.CfnBucket)
                and cdk.Stack.of(bucket).resolve(cfn.bucket_name) is None
            ):
                raise prop_error(
                    self,
                    "asset_bucket",
                    bucket.node.path,
                    "Product templates name their asset bucket literally, so a bucket created in "
                    "the app needs bucket_name=; or import one with s3.Bucket.from_bucket_name.",
                )

    def _import(self, bucket: s3.IBucket) -> s3.IBucket:
        name = bucket.bucket_name
        if cdk.Resource.is_owned_resource(bucket):
            cfn = bucket.node.default_child
            assert isinstance(cfn, s3.CfnBucket) and cfn.bucket_name is not None
            name = cfn.bucket_name
            owner = cdk.Stack.of(bucket)
            if owner is not self:
                self.add_stack_dependency(owner, "the product assets are copied into its bucket")
        return s3.Bucket.from_bucket_name(self, "AssetBucketByName", name)

    # -- defaults --------------------------------------------------------------------------

    def _new_asset_bucket(self) -> s3.IBucket:
        """The asset bucket, created here, and an import of it by name for the product stacks.

        ProductStack writes the bucket's name into the product templates; a created bucket's
        name would reach them as an object, an imported one as a string with pseudo-parameters
        that resolve the same in the launched stack (same account and region).
        """
        logs_bucket = s3.Bucket(
            self,
            "AssetAccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=cdk.Duration.days(365),
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
        )
        log_reason = "This is the server-access-log bucket itself; logging it to itself would loop."
        acknowledge(
            logs_bucket,
            [
                "AwsSolutions-S1",
                "HIPAA.Security-S3BucketLoggingEnabled",
                "NIST.800.53.R5-S3BucketLoggingEnabled",
                "PCI.DSS.321-S3BucketLoggingEnabled",
            ],
            log_reason,
        )
        checkov_skip(logs_bucket, "CKV_AWS_18", log_reason)
        acknowledge(
            logs_bucket,
            [
                "HIPAA.Security-S3DefaultEncryptionKMS",
                "NIST.800.53.R5-S3DefaultEncryptionKMS",
                "PCI.DSS.321-S3DefaultEncryptionKMS",
            ],
            "S3 server access log delivery only writes to SSE-S3 buckets; SSE-KMS would drop "
            "the logs.",
        )
        digest = hashlib.sha256(self.node.path.encode()).hexdigest()[:8]
        name = f"cdk-mlops-catalog-{digest}-{cdk.Aws.ACCOUNT_ID}-{cdk.Aws.REGION}"
        bucket = s3.Bucket(
            self,
            "AssetBucket",
            bucket_name=name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="assets/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-asset-versions",
                    noncurrent_version_expiration=cdk.Duration.days(90),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
        )
        acknowledge(
            bucket,
            [
                "HIPAA.Security-S3DefaultEncryptionKMS",
                "NIST.800.53.R5-S3DefaultEncryptionKMS",
                "PCI.DSS.321-S3DefaultEncryptionKMS",
            ],
            "The product assets (code bundles, scripts, handlers) are read by roles each launch "
            "creates, which a key of this stack cannot name in advance; they hold code, no data.",
        )
        acknowledge(
            bucket,
            [
                "HIPAA.Security-S3BucketReplicationEnabled",
                "NIST.800.53.R5-S3BucketReplicationEnabled",
                "PCI.DSS.321-S3BucketReplicationEnabled",
            ],
            "The assets are rebuilt from source by every synth and copied here on every deploy; "
            "a replica would hold nothing the app cannot recreate.",
        )
        acknowledge(
            logs_bucket,
            [
                "HIPAA.Security-S3BucketReplicationEnabled",
                "NIST.800.53.R5-S3BucketReplicationEnabled",
                "PCI.DSS.321-S3BucketReplicationEnabled",
            ],
            "Server access logs are an audit trail kept in the region they describe; replicating "
            "them is left to the account's log archive, if it has one.",
        )
        self._created_asset_bucket = bucket
        return s3.Bucket.from_bucket_name(self, "AssetBucketByName", name)

    def _copy_assets_after_the_bucket(self) -> None:
        """Order CDK's asset copy (a BucketDeployment the product stacks add) after the bucket
        and document its handler for the gates."""
        deployment = self.asset_bucket.node.try_find_child("ProductAssetsDeployment")
        if deployment is None:
            return
        created = self._created_asset_bucket
        if created is not None:
            deployment.node.add_dependency(created)
        _document_bucket_deployment(self, self.asset_bucket)
        if created is None:
            return  # a bucket of the user's: CDK's warning to grant access stands (see docs)
        cdk.Validations.of(self).acknowledge(
            cdk.Acknowledgment(
                id="Annotation::@aws-cdk/aws-servicecatalog:assetsManuallyAddBucketPermissions",
                reason="The asset bucket is this stack's own, imported by name only so that "
                "product templates name it literally; its policy is set where it is created.",
            )
        )


def _principal_kind(principal: object) -> str | None:
    """``role``, ``user`` or ``group`` for an IAM role, user or group (created or imported)."""
    for kind in ("role", "user", "group"):
        if isinstance(getattr(principal, f"{kind}_arn", None), str):
            return kind
    return None


#: The construct id CDK gives the singleton handler of every ``BucketDeployment`` in a stack.
_BUCKET_DEPLOYMENT_HANDLER = "Custom::CDKBucketDeployment"


def _document_bucket_deployment(stack: cdk.Stack, asset_bucket: s3.IBucket) -> None:
    """Acknowledge and document CDK's asset-copy handler (CDK's own code) in ``stack``."""
    # the CDK assets bucket, as ProductStack imports it in each product stack
    sources = {
        bucket_objects_finding(cast(s3.IBucket, found))
        for product in stack.node.children
        if isinstance(product, servicecatalog.ProductStack)
        and (found := product.node.try_find_child("ParentAssetBucket")) is not None
    }
    for child in stack.node.children:
        if not child.node.id.startswith(_BUCKET_DEPLOYMENT_HANDLER):
            continue
        acknowledge(
            child,
            ["AwsSolutions-L1"],
            "CDK's BucketDeployment handler: CDK chooses and updates its runtime with aws-cdk-lib.",
        )
        role = child.node.find_child("ServiceRole")
        acknowledge(
            role,
            [
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]"
            ],
            "CDK's asset-copy handler writes its own logs with the AWS managed basic execution "
            "policy, which grants log writing only.",
        )
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            [
                *S3_READ_GRANT_FINDINGS,
                *S3_WRITE_GRANT_FINDINGS,
                *sorted(sources),
                bucket_objects_finding(asset_bucket),
            ],
            "CDK's asset-copy handler reads this stack's file assets from the CDK assets bucket "
            "and writes them, unpruned, to the catalog's asset bucket: objects of those two only.",
        )
        acknowledge_inline_policy(role.node.find_child("DefaultPolicy"), "CDK asset-copy handler")
        acknowledge(
            child,
            [
                "HIPAA.Security-LambdaConcurrency",
                "NIST.800.53.R5-LambdaConcurrency",
                "HIPAA.Security-LambdaDLQ",
                "NIST.800.53.R5-LambdaDLQ",
            ],
            "CDK's asset-copy handler runs only while CloudFormation deploys the catalog; "
            "CloudFormation reports and retries its failures, so it needs neither reserved "
            "concurrency nor a dead-letter queue.",
        )
        acknowledge(
            child,
            [
                "HIPAA.Security-LambdaInsideVPC",
                "NIST.800.53.R5-LambdaInsideVPC",
                "PCI.DSS.321-LambdaInsideVPC",
            ],
            "CDK's asset-copy handler only copies between two S3 buckets during deployment; the "
            "catalog has no VPC, and one would only add endpoints to reach S3.",
        )
        log_group = child.node.try_find_child("LogGroup")
        if log_group is not None:
            checkov_skip(
                log_group,
                "CKV_AWS_158",
                "CDK's asset-copy handler logs only the object keys it copies (no data); CDK "
                "creates this log group without a key option, and CloudWatch encrypts it at rest.",
            )
            acknowledge(
                log_group,
                [
                    "HIPAA.Security-CloudWatchLogGroupEncrypted",
                    "NIST.800.53.R5-CloudWatchLogGroupEncrypted",
                    "PCI.DSS.321-CloudWatchLogGroupEncrypted",
                ],
                "CDK's asset-copy handler logs only object keys it copies (no data); CDK creates "
                "this log group without a key option, and CloudWatch encrypts it at rest.",
            )
        for cfn in child.node.find_all():
            if (
                isinstance(cfn, cdk.CfnResource)
                and cfn.cfn_resource_type == "AWS::Lambda::Function"
            ):
                for check_id, comment in (
                    (
                        "CKV_AWS_115",
                        "CDK's deploy-time handler that copies the product assets; it runs only "
                        "during deployments and needs no reserved concurrency.",
                    ),
                    (
                        "CKV_AWS_116",
                        "Deploy-time CloudFormation handler: CloudFormation reports and retries "
                        "failures itself, so a dead-letter queue would stay empty.",
                    ),
                    (
                        "CKV_AWS_117",
                        "The handler copies between S3 buckets while the catalog deploys; it has "
                        "no VPC of its own to run in.",
                    ),
                    (
                        "CKV_AWS_173",
                        "The handler's environment holds no secrets, only CDK's settings.",
                    ),
                ):
                    checkov_skip(cfn, check_id, comment)
                # cfn-lint W3005: CDK adds a DependsOn on the role that the GetAtt already implies.
                cfn.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
