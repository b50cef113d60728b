"""``python -m cdk_mlops.executor``: the same as ``cdk-mlops run-pipeline``."""

from cdk_mlops.executor.cli import main

raise SystemExit(main())
