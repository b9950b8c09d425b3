"""The served deployments (SPEC §8): the monthly run at 06:00 UTC on the 2nd, the claims sweep
every Monday at 06:00 UTC, and the on-demand review; their parameters show in the Prefect UI."""

from __future__ import annotations

from typing import Any, cast

from prefect.deployments.runner import RunnerDeployment
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
