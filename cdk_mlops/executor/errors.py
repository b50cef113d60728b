"""The one error the executor raises: what it refused or what failed, and where."""

from __future__ import annotations


class ExecutorError(Exception):
    """A definition the executor cannot run as written, or a step that failed.

    The message starts with the step and the field (``step Train, field
    InputDataConfig[0].DataSource.S3DataSource.S3Uri: ...``) so a broken wiring points at the
    place in the definition to fix.
    """

    def __init__(self, message: str, *, step: str | None = None, field: str | None = None) -> None:
        self.step = step
        self.field = field
        self.detail = message
        where = []
        if step is not None:
            where.append(f"step {step}")
        if field:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class StepFailed(ExecutorError):
    """A job of the pipeline exited with an error (its log tail is in the message)."""


class PipelineFailed(Exception):
    """The execution reached a ``Fail`` step; the message is the step's ``ErrorMessage``."""

    def __init__(self, step: str, error_message: str) -> None:
        self.step = step
        self.error_message = error_message
        super().__init__(f"step {step} (Fail): {error_message}")
