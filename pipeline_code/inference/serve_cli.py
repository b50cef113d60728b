"""The arguments of the local model server, shared by ``cdk-mlops serve`` and
``python -m pipeline_code.inference.server``.

Light to import (no numpy, pandas or scikit-learn): ``cdk-mlops serve --help`` works without the
``ml`` extra; the server itself is imported only when the command runs.
"""

from __future__ import annotations

import argparse

DEFAULT_PORT = 8080

SERVE_HELP = "serve a trained model on 127.0.0.1 with SageMaker's serving contract"
SERVE_DESCRIPTION = """\
Serve a trained model on this machine with SageMaker's serving contract, for trying it before
(or without) deploying an endpoint. It listens on 127.0.0.1 only.

  GET  /ping          200 once the model is loaded
  POST /invocations   body as text/csv (feature values in schema order, optional header) or
                      application/json ({"instances": [{feature: value, ...}, ...]});
                      answers in application/json (default) or text/csv (Accept header)

--model is the model.tar.gz of a training run or registered model version, a folder holding
model.tar.gz, or an extracted model folder (model.joblib, schema.json, metadata.json). An
archive is unpacked into a temporary folder that is removed when the server stops (Ctrl-C or
SIGTERM). Requests are checked against the model's schema; a bad request gets a 4xx with a
JSON message naming the row, the value and the fix.

example:
  cdk-mlops serve --model run/model/model.tar.gz --port 8080
  curl -s -H 'Content-Type: application/json' -d @request.json http://127.0.0.1:8080/invocations
"""


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The server's options (``--model-dir`` is kept as another name for ``--model``)."""
    parser.add_argument(
        "--model",
        "--model-dir",
        dest="model",
        required=True,
        metavar="PATH",
        help="model.tar.gz, a folder holding model.tar.gz, or an extracted model folder",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port on 127.0.0.1; 0 picks a free one (default %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log every request")


def serve_command(args: argparse.Namespace) -> int:
    """Run the server for parsed arguments until Ctrl-C or SIGTERM; returns the exit status."""
    from .server import serve

    return serve(args.model, port=args.port, quiet=args.quiet)
