"""Errors raised while building a pipeline definition."""

from __future__ import annotations


class PipelineDefinitionError(ValueError):
    """A pipeline definition would be rejected by SageMaker (or is internally inconsistent).

    Raised at construction time, so the problem surfaces in ``cdk synth`` or a unit test
    rather than at ``CreatePipeline`` / ``StartPipelineExecution`` time.
    """
