"""The cdk-nag pack names (kept free of aws_cdk imports so template checks start fast)."""

#: The names cdk-nag gives the packs we run; finding ids start with ``<pack>-``.
PACK_NAMES: frozenset[str] = frozenset(
    {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"}
)
