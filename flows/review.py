"""The on-demand review of one vendor over a range of months, as a Prefect flow."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.common import not_a_user_error, today
from scorecards import guards, steps


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=not_a_user_error)
def review(
    vendor: str,
    first: str,
    last: str,
    as_of: date,
    data: str,
    contracts: str,
    out: str,
    history: str,
) -> dict[str, Any]:
    return steps.review_vendor(
        vendor, first, last, as_of, Path(data), Path(contracts), Path(out), history
    )


@flow(name="vendor-review")
def vendor_review(
    vendor: str,
    from_month: str,
    to_month: str,
    as_of: date | None = None,
    data: str = "data",
    contracts: str = "contracts",
    out: str = "out",
    history: str = "history",
) -> dict[str, Any]:
    """Review one vendor month by month over [from_month, to_month]: thresholds, breaches,
    claims, follow-up, and a recommendation with its reasons."""
    day = review_as_of(to_month, as_of, Path(out))
    guards.check_as_of(to_month, day, today())
    summary = review(vendor, from_month, to_month, day, data, contracts, out, history)
    create_markdown_artifact(
        markdown=(
            f"# Review of {vendor}, {from_month} to {to_month}\n\n"
            f"Recommendation: **{summary['recommendation']}**\n\n"
            + "\n".join(f"- {reason}" for reason in summary["reasons"])
            + f"\n\nPDF: `{summary['pdf']}`"
        ),
        key=f"review-{vendor}".lower().replace("_", "-")[:60],
    )
    return summary


def review_as_of(to_month: str, as_of: date | None, out: Path) -> date:
    """Without --as-of a review is as of the published run of its last month, so its figures are
    the month's scorecard's; with no published run, as of today (`run`'s default)."""
    if as_of is not None:
        return as_of
    record = out / to_month / "run.json"
    try:
        return date.fromisoformat(json.loads(record.read_text(encoding="utf-8"))["as_of"])
    except (OSError, ValueError, KeyError, TypeError):
        return today()
