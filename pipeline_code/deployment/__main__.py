"""``python -m pipeline_code.deployment``: see :mod:`pipeline_code.deployment` for the commands."""

from pipeline_code.deployment.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
