"""``python -m pipeline_code.deployment``: see :mod:`pipeline_code.deployment` for the commands."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
