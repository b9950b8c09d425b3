"""The served deployments (SPEC §8): the monthly run at 06:00 UTC on the 2nd, the claims sweep
every Monday at 06:00 UTC, and the on-demand review; their parameters show in the Prefect UI.

`serve_until_stopped` runs them the way Prefect recommends for static infrastructure (a
long-lived `serve` process, see docs/OPERATIONS.md) and stops cleanly on SIGTERM, which is what
a service manager sends."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, cast

import httpx
from prefect.deployments.runner import RunnerDeployment
from prefect.runner import Runner
from prefect.schedules import Cron

from flows.claims import claims_sweep
from flows.monthly import monthly_scorecards
from flows.review import vendor_review

MONTHLY_CRON = "0 6 2 * *"  # 06:00 UTC on the 2nd: last month's CRM export is in by then
SWEEP_CRON = "0 6 * * 1"  # Mondays 06:00 UTC: claim windows of a week or more never lapse
TIMEZONE = "UTC"


def deployments(
    *, data: str, contracts: str, out: str, history: str, sweep_cron: str = SWEEP_CRON
) -> list[RunnerDeployment]:
    folders: dict[str, Any] = {"data": data, "contracts": contracts, "out": out, "history": history}
    # to_deployment is sync here (it returns a coroutine only inside a running event loop)
    return [
        cast(RunnerDeployment, d)
        for d in (
            monthly_scorecards.to_deployment(
                name="monthly",
                schedules=[Cron(MONTHLY_CRON, timezone=TIMEZONE)],
                parameters=folders,
                description="Last month's scorecards, portfolio and claims (06:00 UTC on the 2nd).",
                tags=["scorecards"],
            ),
            claims_sweep.to_deployment(
                name="weekly-sweep",
                schedules=[Cron(sweep_cron, timezone=TIMEZONE)],
                parameters=folders,
                description="Replacement claims across every month still in its window.",
                tags=["scorecards", "claims"],
            ),
            vendor_review.to_deployment(
                name="on-demand",
                parameters=folders,
                description="Review one vendor over a range of months (give vendor, from_month, to_month).",
                tags=["scorecards", "review"],
            ),
        )
    ]


class _StoppableRunner(Runner):
    """Prefect's runner, stopped from its own event loop on SIGTERM.

    Prefect 3.8's handler calls `stop()` from inside the loop, where it only creates a coroutine
    nobody awaits (`RuntimeWarning: coroutine 'Runner.astop' was never awaited`), then raises
    SystemExit through the loop. Here the signal schedules `astop()` on the loop: the poller stops,
    a flow run still in flight is cancelled (its state says so on the server) and `serve` returns.
    """

    stop_requested: Callable[[], object] | None = None

    def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
        if self.stop_requested is not None:
            self.stop_requested()


def serve_until_stopped(served: list[RunnerDeployment], say: Callable[[str], None]) -> None:
    """Serve the deployments until SIGTERM or Ctrl-C; both end the process with exit code 0.

    Schedules stay active on the server (`pause_on_shutdown=False`): runs that fall due while
    nothing serves wait as Late and start when `serve` is back (docs/OPERATIONS.md)."""
    runner = _StoppableRunner(pause_on_shutdown=False)
    for deployment in served:
        runner.add_deployment(deployment)

    async def until_stopped() -> None:
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        pending: set[asyncio.Task[None]] = set()

        def stop() -> None:
            say("SIGTERM received: stopping (schedules stay active on the server).")
            if runner.started:
                task = loop.create_task(runner.astop())
                pending.add(task)  # keep a reference until it is done
                task.add_done_callback(pending.discard)
            elif main is not None:  # still registering: nothing runs yet
                main.cancel()

        runner.stop_requested = lambda: loop.call_soon_threadsafe(stop)
        with contextlib.suppress(asyncio.CancelledError):
            await runner.start()

    try:
        asyncio.run(until_stopped())
    except KeyboardInterrupt:
        say("Interrupted: stopped (schedules stay active on the server).")


def server_answers(api_url: str, wait_seconds: float) -> bool:
    """Whether the Prefect API at `api_url` answers within `wait_seconds` (after a reboot the
    server may still be migrating its database when `serve` starts)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            if httpx.get(f"{api_url.rstrip('/')}/health", timeout=5).is_success:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(2)
