"""What every flow shares: parameter defaults and the summary artifact."""

from __future__ import annotations

import contextlib
import functools
import inspect
import multiprocessing
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.settings import get_current_settings
from prefect.task_runners import (
    ProcessPoolTaskRunner,
    TaskRunner,
    ThreadPoolTaskRunner,
    _initialize_process_pool_worker,
)

from scorecards.errors import UserError
from scorecards.lock import one_writer

F = TypeVar("F", bound=Callable[..., Any])

RUNNERS = ("threads", "processes", "dask")


def previous_month(today: date) -> str:
    first = today.replace(day=1)
    year, month = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    return f"{year:04d}-{month:02d}"


# tests pin "today" (as-of dates after it are refused); nothing else reads this variable
TODAY_VARIABLE = "SCORECARDS_TODAY"


def today() -> date:
    """Today in UTC, or the date in $SCORECARDS_TODAY (tests only)."""
    pinned = os.environ.get(TODAY_VARIABLE)
    return date.fromisoformat(pinned) if pinned else datetime.now(UTC).date()


def month_and_as_of(month: str | None, as_of: date | None) -> tuple[str, date]:
    """SPEC §8 defaults: the previous calendar month, as of today (UTC)."""
    now = today()
    return month or previous_month(as_of or now), as_of or now


def not_a_user_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a task on anything but a user's mistake (said once, in one sentence)."""
    try:
        state.result()
    except UserError:
        return False
    except Exception:
        return True
    return True


def publish_summary(summary: dict[str, Any]) -> None:
    """A table artifact per run (vendors, verdicts, ...) and a note of where the outputs are."""
    if summary.get("preview"):  # a preview never stands in for the month's own artifacts
        summary = summary | {"month": f"preview-{summary['month']}"}
    create_table_artifact(
        table=summary["table"],
        key=f"scorecards-{summary['month']}",
        description=f"Vendor verdicts for {summary['month']} as of {summary['as_of']}",
    )
    failed = summary.get("failed") or {}
    lines = [
        f"# Scorecards {summary['month']} (as of {summary['as_of']})",
        f"Outputs: `{summary['out']}`  ",
        f"Leads judged: {summary['leads']}, quarantined rows: {summary['quarantined']}, "
        f"reconciled: {'yes' if summary['balanced'] else 'NO'}  ",
        f"Claim lines filed: {summary['claim_lines']}",
    ]
    if summary.get("already_claimed"):
        lines[-1] += f"; {summary['already_claimed']}"
    if failed:
        lines.append("\n## Documents that failed\n")
        lines += [f"- {name}: {error}" for name, error in sorted(failed.items())]
    create_markdown_artifact(markdown="\n".join(lines), key=f"outputs-{summary['month']}")
    create_link_artifact(
        link=Path(summary["out"]).resolve().as_uri(),
        link_text=f"Scorecards {summary['month']}",
        key=f"outputs-link-{summary['month']}",
        description="The month's output folder",
    )


# What a worker needs before its first document: Prefect's task engine and the renderers (polars,
# WeasyPrint, altair, fontTools). The fork server imports them once; workers fork from it.
WORKER_PRELOAD = ["prefect.task_engine", "prefect.task_runners", "flows.monthly", "flows.review"]
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(WORKER_PRELOAD)


_IN_WORKER = False


def warm_up_worker() -> None:
    """Each worker's first chart would start vl-convert's JavaScript runtime (~0.6 s)."""
    from scorecards.documents import charts

    global _IN_WORKER
    _IN_WORKER = True
    charts.warm_up()


class WarmProcessPoolTaskRunner(ProcessPoolTaskRunner):
    """Prefect's process pool, with workers forked from a fork server that has already imported
    everything a document needs, instead of spawned interpreters that each import it again
    (about 4.5 s of imports per worker on this machine).

    Prefect's runner uses the 'spawn' start method; this one uses 'forkserver' (Python's
    documented way to start workers from a clean, preloaded process: the fork server holds no
    threads, so forking it is safe, unlike forking the flow process with its Polars and Prefect
    threads). The fork server is started once per process, in the background, when the runner
    is made (see `start_fork_server`), so its imports overlap the reading and judging.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers=max_workers, initializer=warm_up_worker)

    def duplicate(self) -> Any:
        """The runner a flow run enters; in a worker, where Prefect enters it again for every
        task it runs, threads: a task there never starts a pool of processes of its own (each
        would fork a fork server and workers, inside a worker)."""
        if _IN_WORKER:
            return ThreadPoolTaskRunner(max_workers=self._max_workers)
        return super().duplicate()

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        if self._cached_context is None:  # what Prefect's submit caches, plus the server's URL
            from prefect.context import serialize_context

            self._cached_context = serialize_context()
            self._cached_env = (
                get_current_settings().to_environment_variables(exclude_unset=True)
                | os.environ
                | _temporary_server_env()
            )
        return super().submit(*args, **kwargs)

    def __enter__(self) -> WarmProcessPoolTaskRunner:
        TaskRunner.__enter__(self)  # what ProcessPoolTaskRunner.__enter__ does, on a fork server
        self._subprocess_message_queue = _FORKSERVER.Queue()
        self._message_forwarding_thread = threading.Thread(
            target=self._forward_subprocess_messages,
            name="ProcessPoolTaskRunnerMessageForwarder",
            daemon=True,
        )
        self._message_forwarding_thread.start()
        try:
            self._executor = ProcessPoolExecutor(
                max_workers=self._max_workers,
                mp_context=_FORKSERVER,
                initializer=_initialize_process_pool_worker,
                initargs=(self._subprocess_message_queue, self._initializer, self._initargs),
            )
            self._resolver_executor = ThreadPoolExecutor(max_workers=self._max_workers)
            # the pool forks its workers on demand: ask for all of them now, so that their
            # warm-up overlaps the reading and judging instead of delaying the first document
            # (from a thread: the first fork waits for the fork server's imports)
            threading.Thread(target=self._fork_workers, daemon=True).start()
        except Exception:
            if self._executor is not None:
                self._executor.shutdown(cancel_futures=True, wait=True)
                self._executor = None
            self._stop_message_forwarding()
            raise
        return self

    def _fork_workers(self) -> None:
        executor = self._executor
        if executor is None:
            return
        with contextlib.suppress(RuntimeError):  # the flow ended first: the pool is shut down
            for _ in range(self._max_workers):
                executor.submit(os.getpid)


def _temporary_server_env() -> dict[str, str]:
    """PREFECT_API_URL of the temporary server this process started, if it runs on one: without
    it each worker starts a temporary server of its own (seconds each, and never shared)."""
    if get_current_settings().api.url:
        return {}
    from prefect.server.api.server import SubprocessASGIServer

    running = [s for s in SubprocessASGIServer._instances.values() if s.running]
    return {"PREFECT_API_URL": running[0].api_url} if running else {}


def start_fork_server() -> threading.Thread:
    """Start the fork server (and its imports) now, in the background; idempotent."""
    from multiprocessing import forkserver

    started = threading.Thread(target=forkserver.ensure_running, daemon=True)
    started.start()
    return started


WORKERS = os.cpu_count() or 2  # each runner's workers (a local Dask cluster's too)


def take(folder: Path, item: int) -> bool:
    """Whether the caller is the first to take `item` of a list several tasks work through:
    an exclusive create of `folder/<item>` (atomic, on a local disk as on NFS), so each item is
    taken by one task, on any runner, threads, processes or Dask workers sharing the disk."""
    try:
        (folder / str(item)).open("x").close()
    except FileExistsError:
        return False
    return True


def task_runner(kind: str = "threads", dask_address: str | None = None) -> TaskRunner[Any]:
    """Where documents render: threads (default), processes, or a Dask cluster — a running one
    at `dask_address`, else a local cluster of one worker per core."""
    workers = WORKERS
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "processes":
        start_fork_server()
        return WarmProcessPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise UserError(
                "the dask runner needs the optional extra: uv sync --locked --extra dask"
            ) from None
        if dask_address:
            dask_answers(dask_address)
            return DaskTaskRunner(address=dask_address)  # type: ignore[no-any-return]
        return DaskTaskRunner(  # type: ignore[no-any-return]
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    raise UserError(f"--runner must be one of {', '.join(RUNNERS)} (got '{kind}')")


DASK_PROBE_SECONDS = 3.0


def dask_answers(address: str, timeout: float = DASK_PROBE_SECONDS) -> None:
    """Fail fast on a Dask scheduler that does not answer: Dask itself waits for a long timeout
    and then raises a traceback."""
    parsed = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parsed.hostname, parsed.port or 8786
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise UserError(f"--dask-address must look like tcp://host:8786 (got '{address}')")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        reason = exc.strerror or "no answer"
        raise UserError(
            f"no Dask scheduler answers at --dask-address {address} ({reason.lower()} within "
            f"{timeout:g} s): start one with 'dask scheduler' or drop --dask-address for a local "
            "cluster"
        ) from None


def one_writer_flow(doing: Callable[[dict[str, Any]], str]) -> Callable[[F], F]:
    """Run the decorated flow function holding the writer lock on its `out` and `history`
    (SPEC §9); `doing` names the run from its bound arguments ("run of 2026-10")."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def locked(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
            with one_writer(arguments["out"], arguments["history"], doing(arguments)):
                return fn(*args, **kwargs)

        return locked  # type: ignore[return-value]

    return decorate
