"""Exit statuses and the errors behind them.

Every command of ``python -m pipeline_code.deployment`` ends with one of these statuses, so a
CodeBuild ``build`` phase (and CodePipeline above it) can tell the cases apart:

* :data:`EXIT_OK` (0): done; the version is resolved, the test passed, the endpoint serves it.
* :data:`EXIT_FAILED` (1): the deployment must stop (:class:`DeploymentError`): a refused
  version, no approved version, a failed test, an endpoint that rolled back.
* :data:`EXIT_USAGE` (2): bad flags or environment variables (:class:`UsageError`), as argparse.
* :data:`EXIT_NOTHING_TO_DO` (3): ``resolve`` found that production already runs the version
  (:class:`NothingToDo`; a duplicate approval event). With ``--on-duplicate succeed`` this is
  status 0 and ``DEPLOY_DECISION=nothing-to-do`` instead.

Each failure is one line on stderr that names the problem, the value and the fix.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOTHING_TO_DO = 3


class DeploymentError(Exception):
    """The deployment must stop; the message says why and what to do."""

    exit_status = EXIT_FAILED


class UsageError(DeploymentError):
    """A flag, an environment variable or an input file is wrong."""

    exit_status = EXIT_USAGE


class NothingToDo(DeploymentError):
    """Production already runs the resolved version (a duplicate approval event)."""

    exit_status = EXIT_NOTHING_TO_DO


def one_line(text: object) -> str:
    """``text`` with its whitespace (newlines included) folded into single spaces."""
    return " ".join(str(text).split())
