"""The instance types the training pipeline's jobs may use (and why only those)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# Every job gets a volume KMS key. Instance types with local NVMe storage encrypt it with a
# hardware module, and SageMaker refuses a VolumeKmsKeyId for them ("You can't request a
# VolumeKmsKeyId when using an instance type with local storage", ProcessingClusterConfig and
# ResourceConfig in the SageMaker API reference), so a job on one fails at run time. The
# instance types (defaults and per-execution values) therefore come from a vetted list: CPU types (the scikit-learn
# image is cpu-py3) whose families have EBS storage only (no "d" in the family name, not a GPU or
# Trainium family), with the sizes botocore 1.44's ProcessingInstanceType/TrainingInstanceType
# enums list for them (tests check the list against botocore).
_EBS_CPU_SIZES: Mapping[str, str] = {
    "t3": "medium large xlarge 2xlarge",
    "m4": "xlarge 2xlarge 4xlarge 10xlarge 16xlarge",
    "m5": "large xlarge 2xlarge 4xlarge 12xlarge 24xlarge",
    "m6i": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge",
    "m7i": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge",
    "m7i-flex": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
    "m8i": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge",
    "m8i-flex": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
    "c4": "xlarge 2xlarge 4xlarge 8xlarge",
    "c5": "xlarge 2xlarge 4xlarge 9xlarge 18xlarge",
    "c6i": "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge",
    "c7i": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge",
    "c7i-flex": "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
    "c8i": "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge",
    "c8i-flex": "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
    "r5": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge",
    "r6i": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge",
    "r7i": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge",
    "r8i": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge",
    "r8i-flex": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge",
}
_TRAINING_ONLY_SIZES: Mapping[str, str] = {"c5n": "xlarge 2xlarge 4xlarge 9xlarge 18xlarge"}


def _types(sizes: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(f"ml.{family}.{size}" for family, line in sizes.items() for size in line.split())


#: Allowed values of the ``ProcessingInstanceType`` parameter.
PROCESSING_INSTANCE_TYPES: tuple[str, ...] = _types(_EBS_CPU_SIZES)
#: Allowed values of the ``TrainingInstanceType`` parameter.
TRAINING_INSTANCE_TYPES: tuple[str, ...] = _types({**_EBS_CPU_SIZES, **_TRAINING_ONLY_SIZES})

#: What the ``ProcessingInstanceType`` / ``TrainingInstanceType`` parameters offer per execution
#: (``EnumValues``): common sizes from the vetted lists, plus the default when it is another
#: vetted type. Kept to at most 16 values: longer enum lists were reported to make pipeline
#: creation fail (aws/sagemaker-python-sdk issue 2314), a limit we cannot check offline.
PARAMETER_INSTANCE_TYPES: tuple[str, ...] = (
    "ml.t3.medium",
    "ml.t3.large",
    "ml.t3.xlarge",
    "ml.m5.large",
    "ml.m5.xlarge",
    "ml.m5.2xlarge",
    "ml.m5.4xlarge",
    "ml.m6i.large",
    "ml.m6i.xlarge",
    "ml.m6i.2xlarge",
    "ml.c5.xlarge",
    "ml.c5.2xlarge",
    "ml.c5.4xlarge",
    "ml.r5.large",
    "ml.r5.xlarge",
)


def parameter_instance_types(default: str) -> tuple[str, ...]:
    """The allowed values of an instance-type parameter whose default is ``default``."""
    if default in PARAMETER_INSTANCE_TYPES:
        return PARAMETER_INSTANCE_TYPES
    return (*PARAMETER_INSTANCE_TYPES, default)


# Families with instance storage that EC2's naming does not mark with a "d" (GPU and Trainium).
_NVME_FAMILIES = frozenset({"g5", "g6", "g6e", "gr6", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"})
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$")
_D_FAMILY = re.compile(r"^[a-z]+\d[a-z]*d")  # m5d, r5dn, g4dn, p3dn, p4d, p4de, m6id, c6gd


def has_instance_storage(instance_type: str) -> bool:
    """True for SageMaker instance types with local NVMe storage (they reject a volume KMS key)."""
    parts = instance_type.split(".")
    if len(parts) != 3:
        return False
    family = parts[1]
    return (
        bool(_D_FAMILY.match(family.split("-")[0]))
        or family in _NVME_FAMILIES
        or family.split("-")[0] in ("p6", "p6e")
    )


def instance_type_problem(instance_type: str, allowed: Sequence[str]) -> str | None:
    """Why ``instance_type`` cannot run our jobs, or None when it is in ``allowed``."""
    if instance_type in allowed:
        return None
    if has_instance_storage(instance_type):
        return (
            f"{instance_type} has local NVMe instance storage: SageMaker encrypts it with a "
            "hardware module and refuses the VolumeKmsKeyId every job here sets, so the job "
            "would fail when the pipeline runs. Use an EBS-backed type of the same size class, "
            "e.g. ml.m5.large instead of ml.m5d.large (allowed: ml.t3, ml.m4/m5/m6i/m7i/m8i, "
            "ml.c4/c5/c6i/c7i/c8i, ml.r5/r6i/r7i/r8i and their -flex variants)"
        )
    return (
        f"{instance_type} is not in the vetted list of CPU instance types with EBS storage only "
        "(a volume KMS key must be accepted and the scikit-learn image is CPU-only); use e.g. "
        "ml.m5.large, ml.c5.xlarge or ml.r5.large"
    )
