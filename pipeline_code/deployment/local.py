"""``deploy-local``: the deployment pipeline rehearsed on this machine.

The same decisions and tests as in CodeBuild, against the local registry
(:mod:`pipeline_code.registry.local`) and the local model server
(:mod:`pipeline_code.inference.server`) instead of SageMaker:

1. resolve: the newest Approved version of the group (or ``--model-package-version``, an
   explicit start that may roll back), compared with what the local "production" serves
   (recorded in ``<registry>/<group>/local-endpoint.json``): an older version is refused, the
   same one is "nothing to do" (exit 3), exactly as :func:`pipeline_code.deployment.resolve.decide`
   rules for AWS;
2. serve: the version's ``model.tar.gz`` (checked against the ``model_sha256`` recorded at
   registration) on the local server, on 127.0.0.1;
3. smoke test and 4. latency test: :mod:`~pipeline_code.deployment.smoke` and
   :mod:`~pipeline_code.deployment.latency` over HTTP, the code CodeBuild runs;
5. verify: the server answers ``/ping`` and its predictions for the sample rows are those of the
   resolved version loaded in process, so it serves what was resolved;
6. record the version as the local production in ``local-endpoint.json``.

Without ``--sample-file`` the sample rows are generated from the model's own schema.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .endpoint import EndpointView, PackageRef, VariantModel
from .errors import (
    EXIT_OK,
    DeploymentError,
    UsageError,
)
from .invoke import CSV, JSON, HttpInvoker
from .samples import SampleRow, csv_body, load_sample_rows

if TYPE_CHECKING:
    from ..registry.local import LocalModelRegistry, ModelPackage
    from .resolve import Resolution

STATE_FILE = "local-endpoint.json"
LOCAL_ENDPOINT = "local"
DEFAULT_P99_MS = 250.0
DEFAULT_SAMPLE_ROWS = 50
PROBABILITY_TOLERANCE = 1e-9

DEPLOY_LOCAL_HELP = "rehearse the deployment pipeline on this machine (local registry and server)"
DEPLOY_LOCAL_DESCRIPTION = """\
Rehearse the level-3 deployment pipeline on this machine, with the code CodeBuild runs:

  1 resolve   the newest Approved version of the group in the local registry (or
              --model-package-version N, an explicit start that may roll back), compared with
              the local production in <registry>/<group>/local-endpoint.json: an older version
              is refused, the same one is "nothing to do" (exit status 3)
  2 serve     its model.tar.gz (checked against the hash recorded at registration) on the
              local model server, 127.0.0.1
  3 smoke     every sample row, answers checked (one prediction per row, probability in [0, 1])
  4 latency   1-row and --batch-rows-row requests, p99 against --p99-ms
  5 verify    the server's predictions are those of the resolved version loaded in process
  6 record    the version becomes the local production

Exit status 0 done, 1 stopped (one line says why), 2 bad flags, 3 nothing to do.

example:
  cdk-mlops run-local --output run
  cdk-mlops deploy-local --registry run/registry --approve 1
"""


def add_deploy_local_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``deploy-local`` (``cdk-mlops deploy-local`` uses the same)."""
    from .cli import _count, _positive_float

    parser.add_argument(
        "--registry",
        required=True,
        metavar="DIR",
        help="local registry folder (run-local's <output>/registry)",
    )
    parser.add_argument(
        "--group", default=None, help="model package group (default: the registry's only group)"
    )
    parser.add_argument(
        "--model-package-version",
        type=_count(1),
        default=None,
        metavar="N",
        help="explicit version; may be older than the local production (a rollback on purpose)",
    )
    parser.add_argument(
        "--approve",
        type=_count(1),
        default=None,
        metavar="N",
        help="approve version N first, as a reviewer would",
    )
    parser.add_argument(
        "--sample-file",
        default=None,
        help="CSV of feature rows without header (default: generated)",
    )
    parser.add_argument(
        "--sample-rows", type=_count(1), default=DEFAULT_SAMPLE_ROWS, help="rows to generate"
    )
    parser.add_argument(
        "--batch-size", type=_count(1), default=10, help="smoke test rows per request"
    )
    parser.add_argument(
        "--requests", type=_count(1), default=100, help="latency test requests per case"
    )
    parser.add_argument("--batch-rows", type=_count(0), default=100, help="rows per batch request")
    parser.add_argument(
        "--p99-ms",
        type=_positive_float,
        default=DEFAULT_P99_MS,
        help="p99 limit (default %(default)s)",
    )
    parser.add_argument("--warmup", type=_count(0), default=5)
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument(
        "--state",
        default=None,
        help=f"local production record (default <registry>/<group>/{STATE_FILE})",
    )
    parser.add_argument(
        "--keep-serving", action="store_true", help="after a pass, serve until Ctrl-C"
    )


@dataclass(frozen=True)
class LocalDeployResult:
    """What the rehearsal did."""

    package: PackageRef
    decision: str
    reason: str
    smoke: str
    latency: str
    verify: str
    state_file: Path


def _now() -> str:
    from ..compat import UTC

    return dt.datetime.now(UTC).isoformat(timespec="seconds")


def _local_arn(group: str, version: int) -> str:
    return f"local://{group}/{version}"


def read_state(path: Path) -> PackageRef | None:
    """The local production's package, or None before the first local deployment."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return PackageRef(
            str(doc["ModelPackageArn"]),
            str(doc["ModelPackageGroupName"]),
            int(doc["ModelPackageVersion"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"local production record {str(path)!r} is damaged ({exc!r}); delete it to start over"
        ) from None


def write_state(path: Path, package: PackageRef, decision: str) -> None:
    history: list[Any] = []
    if path.is_file():
        try:
            history = list(json.loads(path.read_text(encoding="utf-8")).get("History", []))
        except ValueError:
            history = []
    entry = {
        "ModelPackageArn": package.arn,
        "ModelPackageGroupName": package.group,
        "ModelPackageVersion": package.version,
        "Decision": decision,
        "DeployedAt": _now(),
    }
    doc = {**entry, "History": [*history, entry]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _group(registry_root: Path, group: str | None) -> str:
    if group:
        return group
    groups = (
        sorted(
            p.name for p in registry_root.iterdir() if (p / "model-package-group.json").is_file()
        )
        if registry_root.is_dir()
        else []
    )
    if len(groups) == 1:
        return groups[0]
    if not groups:
        raise UsageError(
            f"registry {str(registry_root)!r} has no model package group; run cdk-mlops run-local "
            "first and pass its <output>/registry"
        )
    raise UsageError(f"registry {str(registry_root)!r} has groups {groups}; pick one with --group")


def resolve_local(
    registry: LocalModelRegistry, group: str, state: Path, *, version: int | None
) -> tuple[Resolution, ModelPackage]:
    """Resolve against the local registry with the same rules as on AWS (see resolve.decide)."""
    from ..registry.local import RegistryError
    from .resolve import decide

    if version is not None:
        try:
            package = registry.get(group, version)
        except RegistryError as exc:
            raise UsageError(f"--model-package-version {version}: {exc}") from None
        if package.approval_status != "Approved":
            raise DeploymentError(
                f"refused: {group} version {version} is {package.approval_status}, not Approved; "
                f"approve it first (--approve {version})"
            )
        explicit = True
    else:
        latest = registry.latest(group, status="Approved")
        if latest is None:
            known = [f"{p.version}: {p.approval_status}" for p in registry.list_versions(group)]
            raise DeploymentError(
                f"model package group {group!r} has no Approved version (versions {known}); approve "
                "one as a reviewer would, e.g. --approve N"
            )
        package, explicit = latest, False
    candidate = PackageRef(
        _local_arn(group, package.version), group, package.version, "Approved", "Completed"
    )
    prod = read_state(state)
    resolution = decide(
        candidate,
        [prod] if prod else [],
        explicit=explicit,
        prod_endpoint_name=LOCAL_ENDPOINT,
    )
    return resolution, package


def _check_artifact(package: ModelPackage) -> None:
    from ..registry.local import hash_paths

    recorded = (package.description.get("CustomerMetadataProperties") or {}).get("model_sha256")
    if recorded and hash_paths([package.model_tarball]) != recorded:
        raise DeploymentError(
            f"{package.group} version {package.version}: {package.model_tarball} changed since it was "
            "registered (model_sha256 differs); register the model again"
        )


def generated_sample(schema: Any, rows: int, *, seed: int = 7) -> list[SampleRow]:
    """Clean feature rows for ``schema`` as CSV lines (no header), numbered from 1."""
    from ..data.generate import generate

    frame = generate(schema, rows, seed=seed).frame[schema.feature_names]
    text = frame.to_csv(header=False, index=False, lineterminator="\n")
    return [SampleRow(i, line) for i, line in enumerate(text.splitlines(), start=1) if line]


def _probabilities(body: bytes) -> list[float]:
    doc = json.loads(body)
    return [float(p["probability"]) for p in doc["predictions"]]


def verify_local(
    invoker: HttpInvoker, model_dir: Path, rows: list[SampleRow], resolved: PackageRef, group: str
) -> EndpointView:
    """What the local endpoint serves: the resolved package when its answers match it in process."""
    import http.client

    from ..inference import handler

    conn = http.client.HTTPConnection(invoker.host, invoker.port, timeout=10)
    try:
        conn.request("GET", "/ping")
        ping = conn.getresponse()
        ping.read()
        status = "InService" if ping.status == 200 else "OutOfService"
    except OSError as exc:
        return EndpointView(
            LOCAL_ENDPOINT, "OutOfService", "", failure_reason=f"/ping failed: {exc}"
        )
    finally:
        conn.close()
    body = csv_body(rows)
    model = handler.model_fn(model_dir)
    parsed = handler.input_fn(body, CSV)
    expected = handler.predict_fn(parsed, model)
    assert isinstance(expected, handler.Prediction)
    answer = invoker.invoke(body, CSV, JSON)
    served: tuple[str, ...] = ()
    reason = ""
    if answer.ok:
        got = _probabilities(answer.body)
        want = [float(p) for p in expected.probabilities]
        if len(got) == len(want) and all(
            math.isclose(a, b, rel_tol=0, abs_tol=PROBABILITY_TOLERANCE)
            for a, b in zip(got, want, strict=True)
        ):
            served = (resolved.arn,)
        else:
            reason = "the server's predictions differ from the resolved version's"
    else:
        reason = f"HTTP {answer.status}: {answer.error}"
    config = f"local-{group}-v{resolved.version}"
    return EndpointView(
        LOCAL_ENDPOINT,
        status,
        config,
        failure_reason=reason,
        variants=(VariantModel("AllTraffic", config, served),),
    )


def deploy_local(
    registry_root: str | Path,
    *,
    group: str | None = None,
    version: int | None = None,
    approve: int | None = None,
    sample_file: str | None = None,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    batch_size: int = 10,
    requests: int = 100,
    batch_rows: int = 100,
    p99_ms: float = DEFAULT_P99_MS,
    warmup: int = 5,
    port: int = 0,
    state_file: str | Path | None = None,
    out: Callable[[str], None] = print,
    on_serving: Callable[[Any], None] | None = None,
) -> LocalDeployResult:
    """Run the rehearsal; raises :class:`DeploymentError` (or :class:`NothingToDo`) to stop."""
    from ..inference import handler
    from ..inference.server import ModelServer, resolve_model_dir, start_in_thread
    from ..registry.local import LocalModelRegistry, RegistryError
    from .latency import require_pass as latency_pass
    from .latency import run_latency_test
    from .resolve import NOTHING_TO_DO
    from .smoke import require_pass as smoke_pass
    from .smoke import run_smoke_test
    from .verify import check_view, require_verified

    root = Path(registry_root)
    name = _group(root, group)
    registry = LocalModelRegistry(root)
    try:
        registry.validate_group_name(name)
    except RegistryError as exc:
        raise UsageError(str(exc)) from None
    state = Path(state_file) if state_file else root / name / STATE_FILE
    if approve is not None:
        try:
            registry.update_approval(
                name, approve, "Approved", comment="approved by deploy-local --approve"
            )
        except RegistryError as exc:
            raise UsageError(f"--approve {approve}: {exc}") from None
        out(f"[0/6] approve: {name} version {approve} is Approved")
    resolution, package = resolve_local(registry, name, state, version=version)
    candidate: PackageRef = resolution.candidate
    out(f"[1/6] resolve: {resolution.decision}: {resolution.reason}")
    assert resolution.decision != NOTHING_TO_DO
    _check_artifact(package)
    with tempfile.TemporaryDirectory(prefix="deploy-local-") as scratch:
        model_dir = resolve_model_dir(package.model_tarball, Path(scratch))
        model = handler.model_fn(model_dir)
        try:
            server = ModelServer(port, model, quiet=True)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on 127.0.0.1:{port}: {exc}; pick another --port"
            ) from None
        thread = start_in_thread(server)
        invoker = HttpInvoker(server.url)
        try:
            out(f"[2/6] serve: {candidate.label} on {server.url}")
            if sample_file:
                rows = load_sample_rows(sample_file)
            else:
                rows = generated_sample(model.schema, sample_rows)
            smoke = run_smoke_test(invoker, rows, batch_size=batch_size)
            smoke_pass(smoke)
            out(f"[3/6] smoke test: {smoke.summary()}")
            latency = run_latency_test(
                invoker,
                rows,
                requests=requests,
                batch_rows=batch_rows,
                p99_ms=p99_ms,
                warmup=warmup,
            )
            for line in latency.table().splitlines():
                out(f"      {line}")
            latency_pass(latency)
            out(f"[4/6] latency test: {latency.summary()}")
            view = verify_local(invoker, model_dir, rows, candidate, name)
            outcome = check_view(view, LOCAL_ENDPOINT, candidate.arn)
            require_verified(outcome)
            out(f"[5/6] verify: {outcome.message}")
            write_state(state, candidate, resolution.decision)
            out(f"[6/6] record: {candidate.label} is the local production ({state})")
            if on_serving is not None:
                on_serving(server)
        finally:
            invoker.close()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
    return LocalDeployResult(
        candidate,
        resolution.decision,
        resolution.reason,
        smoke.summary(),
        latency.summary(),
        outcome.message,
        state,
    )


def _serve_until_interrupted(server: Any) -> None:
    import threading

    print(f"serving on {server.url} until Ctrl-C", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopped (Ctrl-C)", flush=True)


def deploy_local_command(args: argparse.Namespace) -> int:
    """Run ``deploy-local`` for parsed arguments; returns the exit status (message on stderr)."""
    from .cli import run_reporting_errors

    def run() -> int:
        deploy_local(
            args.registry,
            group=args.group,
            version=args.model_package_version,
            approve=args.approve,
            sample_file=args.sample_file,
            sample_rows=args.sample_rows,
            batch_size=args.batch_size,
            requests=args.requests,
            batch_rows=args.batch_rows,
            p99_ms=args.p99_ms,
            warmup=args.warmup,
            port=args.port,
            state_file=args.state,
            on_serving=_serve_until_interrupted if args.keep_serving else None,
        )
        return EXIT_OK

    return run_reporting_errors("deploy-local", run)
