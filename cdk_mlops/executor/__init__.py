"""Run a synthesized ``AWS::SageMaker::Pipeline`` on this machine (DESIGN.md §3 "Run what we ship").

``run_pipeline(template, work_dir=..., data=...)`` reads the pipeline definition from a
template ``cdk synth`` wrote, seeds moto's S3 with the stack's buckets and assets, and runs the
steps as local processes under the SageMaker container contracts; see ``docs/executor.md``.
Importing this package imports no AWS SDK, moto or pandas (they load when a run starts).
"""

from cdk_mlops.executor.errors import ExecutorError, PipelineFailed, StepFailed
from cdk_mlops.executor.runner import RunResult, StepRun, run_pipeline
from cdk_mlops.executor.template import SynthesizedTemplate

__all__ = [
    "ExecutorError",
    "PipelineFailed",
    "RunResult",
    "StepFailed",
    "StepRun",
    "SynthesizedTemplate",
    "run_pipeline",
]
