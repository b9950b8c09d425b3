"""The monthly run as a Prefect flow: reads, judges, measures, renders, publishes, records.

Orchestration only: every step is a function of `scorecards`. Tasks pass paths and small
values, never DataFrames (prefect hashes task inputs; see STACK_NOTES), so any task runner —
threads, processes or a Dask cluster — can run them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE

from flows.common import month_and_as_of, not_a_user_error, one_writer_flow, publish_summary, today
from scorecards import guards, progress, steps


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=not_a_user_error)
def compute_and_stage(
    month: str, as_of: date, data: str, contracts: str, out: str, history: str, preview: bool
) -> dict[str, Any]:
    """Read every input (retried: files on shared storage come and go), judge and measure, and
    write the month's data outputs into a staging folder."""
    return steps.compute_and_stage(
        month, as_of, Path(data), Path(contracts), Path(out), history, preview
    )


@task(cache_policy=NO_CACHE)
def render_scorecard(staged: dict[str, Any], vendor_id: str) -> str:
    return str(steps.render_scorecard(staged, vendor_id))


@task(cache_policy=NO_CACHE)
def render_portfolio(staged: dict[str, Any]) -> str:
    return str(steps.render_portfolio(staged))


@task(cache_policy=NO_CACHE)
def stage_claim_lines(staged: dict[str, Any]) -> dict[str, Any]:
    return steps.stage_claim_lines(staged)


@task(cache_policy=NO_CACHE)
def write_vendor_claims(staged: dict[str, Any], vendor_id: str) -> list[dict[str, str]]:
    return steps.write_vendor_claims(staged, vendor_id)


@task(cache_policy=NO_CACHE)
def write_internal_report(staged: dict[str, Any]) -> list[str]:
    return steps.write_internal_report(staged)


@task(cache_policy=NO_CACHE)
def publish(staged: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    return steps.publish(staged, documents)


@flow(name="monthly-scorecards", log_prints=True)
@one_writer_flow(lambda a: f"run of {month_and_as_of(a['month'], a['as_of'])[0]}")
def monthly_scorecards(
    month: str | None = None,
    as_of: date | None = None,
    data: str = "data",
    contracts: str = "contracts",
    out: str = "out",
    history: str = "history",
    preview: bool = False,
) -> dict[str, Any]:
    """Judge every lead delivered up to `month` (default: last month), score every vendor against
    its contract, write the scorecards, the portfolio and the month's replacement claims.

    `preview` runs an unfinished month into `out/previews/<month>/`, every page marked PREVIEW,
    and files no claim, records no history (SPEC §9)."""
    logger = get_run_logger()
    month, as_of = month_and_as_of(month, as_of)
    guards.check_as_of(month, as_of, today(), preview=preview)
    staged = compute_and_stage(month, as_of, data, contracts, out, history, preview)
    logger.info("%s: %s leads judged, %s vendors", month, staged["leads"], len(staged["vendors"]))
    claiming = None if preview else stage_claim_lines.submit(staged)  # a preview files no claim
    scorecards = render_scorecard.map(unmapped(staged), staged["vendors"])  # type: ignore[arg-type]
    futures: dict[str, Any] = {
        f"scorecard {v}": f for v, f in zip(staged["vendors"], scorecards, strict=True)
    }
    if claiming:  # the portfolio reads the claim lines it stages (a preview computes its own)
        claiming.wait()
    claims = claim_futures(staged, claiming) if claiming else {}  # submitted before the portfolio
    futures["portfolio"] = render_portfolio.submit(staged)
    documents, failed = gathered(futures | claims)
    for name, error in failed.items():
        logger.error("%s failed: %s", name, error)
    progress.stage("publishing")
    summary = publish(
        staged, {"files": documents, "claims": claims_filed(documents), "failed": failed}
    )
    summary["failed"] = failed
    publish_summary(summary)
    return summary


def claim_futures(staged: dict[str, Any], claiming: Any) -> dict[str, Any]:
    """The month's claims as tasks: the staged lines, then one task per vendor with a claim to
    file and one for the internal report, so that claim documents render on every worker beside
    the scorecards. A vendor whose documents fail files no claim (its lines stay unclaimed for
    the next run); the others are filed."""
    try:
        vendors = claiming.result()["vendors"]
    except Exception:  # reported with the documents that failed
        return {"claims": claiming}
    # the longest document first: at 10 M leads the report (16 pages, a 115 MB CSV) takes 3.5 s,
    # and submitted last it rendered alone on one worker while the others idled
    report = write_internal_report.submit(staged)
    per_vendor = write_vendor_claims.map(unmapped(staged), vendors)  # type: ignore[arg-type]
    return {
        "claims": claiming,
        **{f"claims {v}": f for v, f in zip(vendors, per_vendor, strict=True)},
        "claims report": report,
    }


def claims_filed(documents: dict[str, Any]) -> dict[str, Any]:
    """What `publish` records of the claims whose documents were written (`gathered` results)."""
    if "claims" not in documents:
        return {}
    claiming = documents["claims"]
    by_vendor = {v: documents.get(f"claims {v}", []) for v in claiming["vendors"]}
    return steps.claims_written(claiming, by_vendor, documents.get("claims report", []))


def gathered(futures: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each future's result, or its error: one vendor's failing document stops no other."""
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    total = len(futures)
    progress.stage(f"rendering {progress.count(total, 'document')}", 0, total)
    for done, (name, future) in enumerate(futures.items(), start=1):
        try:
            results[name] = future.result()
        except Exception as exc:  # reported in the run's summary, the others still publish
            failed[name] = f"{type(exc).__name__}: {exc}"
        progress.stage(f"rendering {progress.count(total, 'document')}", done, total)
    return results, failed
