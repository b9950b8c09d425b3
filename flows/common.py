"""What every flow shares: parameter defaults and the summary artifact."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from scorecards.errors import UserError

RUNNERS = ("threads", "processes", "dask")


def previous_month(today: date) -> str:
    first = today.replace(day=1)
    year, month = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def month_and_as_of(month: str | None, as_of: date | None) -> tuple[str, date]:
    """SPEC §8 defaults: the previous calendar month, as of today (UTC)."""
    today = datetime.now(UTC).date()
    return month or previous_month(as_of or today), as_of or today


def publish_summary(summary: dict[str, Any]) -> None:
    """A table artifact per run (vendors, verdicts, ...) and a note of where the outputs are."""
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


def task_runner(kind: str = "threads", dask_address: str | None = None) -> TaskRunner[Any]:
    """Where documents render: threads (default), processes, or a Dask cluster — a running one
    at `dask_address`, else a local cluster of one worker per core."""
    workers = os.cpu_count() or 2
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise UserError(
                "the dask runner needs the optional extra: uv sync --locked --extra dask"
            ) from None
        if dask_address:
            return DaskTaskRunner(address=dask_address)  # type: ignore[no-any-return]
        return DaskTaskRunner(  # type: ignore[no-any-return]
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    raise UserError(f"--runner must be one of {', '.join(RUNNERS)} (got '{kind}')")
