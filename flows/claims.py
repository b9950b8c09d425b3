"""The claims sweep as a Prefect flow (SPEC §6): weekly by default, across every month still in
its claim window, so short windows do not lapse between monthly runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.common import month_and_as_of, one_writer_flow
from scorecards import steps


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def sweep(as_of: date, data: str, contracts: str, out: str, history: str) -> dict[str, Any]:
    return steps.sweep_claims(as_of, Path(data), Path(contracts), Path(out), history)


@flow(name="claims-sweep")
@one_writer_flow(lambda a: "claims sweep")
def claims_sweep(
    as_of: date | None = None,
    data: str = "data",
    contracts: str = "contracts",
    out: str = "out",
    history: str = "history",
) -> dict[str, Any]:
    """File a replacement claim for every claimable invalid lead still inside its window."""
    _, day = month_and_as_of(None, as_of)
    summary = sweep(day, data, contracts, out, history)
    create_table_artifact(
        table=[
            {
                "claims": len(summary["claims"]),
                "lines claimed": summary["claim_lines"],
                "credit asked (cents)": summary["credit_cents"],
                "lines past window": summary["expired_lines"],
                "lines over cap": summary["over_cap_lines"],
            }
        ],
        key="claims-sweep",
        description=f"Claims sweep as of {summary['as_of']}, written to {summary['out']}",
    )
    return summary
