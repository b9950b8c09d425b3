"""The monthly run as a Prefect flow: reads, judges, measures, renders, publishes, records.

Orchestration only: every step is a function of `scorecards`. Tasks pass paths and small
values, never DataFrames (prefect hashes task inputs; see STACK_NOTES), so any task runner —
threads, processes or a Dask cluster — can run them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait

from flows.common import (
    WORKERS,
    month_and_as_of,
    not_a_user_error,
    one_writer_flow,
    publish_summary,
    take,
    today,
)
from scorecards import guards, progress, steps
from scorecards.documents.render import write_atomic
from scorecards.steps import Document


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
def stage_claim_lines(staged: dict[str, Any]) -> dict[str, Any]:
    return steps.stage_claim_lines(staged)


@task(cache_policy=NO_CACHE, task_run_name="render-{batch}")
def render_documents(
    staged: dict[str, Any], documents: list[Document], batch: str, taken: str
) -> int:
    """The documents no other task of the batch has taken, one at a time, until none is left;
    each one's result, or its error, goes to `taken/<n>.done` as it is done (one failing
    document stops no other, and a task lost midway loses only the document it held).
    Returns how many it rendered.

    A batch renders as one such task per worker, not one task per document: in a process
    worker, Prefect's own work for a task (its context and settings rebuilt, a client made) is
    about 0.1 s of CPU, a tenth of a scorecard, and taking documents from a shared list leaves
    no worker idle while another has documents waiting."""
    folder, rendered = Path(taken), 0
    for item, (_, kind, vendor_id) in enumerate(documents):
        if not take(folder, item):
            continue
        try:
            outcome = {"result": steps.render_document(staged, kind, vendor_id)}
        except Exception as exc:  # reported in the run's summary; the next document renders
            outcome = {"error": f"{type(exc).__name__}: {exc}"}
        write_atomic(folder / f"{item}.done", json.dumps(outcome).encode())
        rendered += 1
    return rendered


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
    scorecards = steps.scorecard_documents(staged["vendors"])
    batches = [
        submitted(staged, "scorecards", scorecards if claiming else [*scorecards, steps.PORTFOLIO])
    ]
    if claiming:  # the portfolio reads the claim lines it stages (a preview computes its own)
        claiming.wait()
        # a vendor whose claims fail files none (its lines stay for the next run), the others do
        claims = steps.claim_documents(claimed_vendors(claiming))
        batches.append(submitted(staged, "claims", claims))
    documents, failed = gathered(batches, claiming)
    for name, error in failed.items():
        logger.error("%s failed: %s", name, error)
    progress.stage("publishing")
    summary = publish(
        staged, {"files": documents, "claims": claims_filed(documents), "failed": failed}
    )
    summary["failed"] = failed
    publish_summary(summary)
    return summary


def claimed_vendors(claiming: Any) -> list[str] | None:
    """The vendors with a claim to file, once the claim lines are staged; None if staging them
    failed (reported with the documents that failed)."""
    try:
        return list(claiming.result()["vendors"])
    except Exception:
        return None


@dataclass
class Batch:
    """Documents and the tasks rendering them, taking each from `taken`."""

    documents: list[Document]
    futures: list[Any]
    taken: Path


def submitted(staged: dict[str, Any], name: str, documents: list[Document]) -> Batch:
    """One `render_documents` task per worker for the batch (fewer for a shorter one)."""
    taken = steps.taken_folder(staged, name)
    tasks = min(WORKERS, len(documents))
    futures = [render_documents.submit(staged, documents, name, str(taken)) for _ in range(tasks)]
    return Batch(documents, futures, taken)


def claims_filed(documents: dict[str, Any]) -> dict[str, Any]:
    """What `publish` records of the claims whose documents were written (`gathered` results)."""
    if "claims" not in documents:
        return {}
    claiming = documents["claims"]
    by_vendor = {v: documents.get(f"claims {v}", []) for v in claiming["vendors"]}
    return steps.claims_written(claiming, by_vendor, documents.get("claims report", []))


# the order run.json lists the documents in: by kind, each kind's vendors in their order
LISTED = {"scorecard": 0, "portfolio": 1, "claim lines": 2, "claims": 3, "claims report": 4}


def gathered(batches: list[Batch], claiming: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Each document's result, or its error (and the staged claim lines', as "claims"), as its
    task wrote it when the document was done; a task that failed as a whole (its worker lost)
    fails the one document it held. The progress counts documents as they are done."""
    total = sum(len(b.documents) for b in batches)
    rendering = f"rendering {progress.count(total, 'document')}"
    pending = [f for b in batches for f in b.futures]
    progress.stage(rendering, 0, total)
    while pending:
        pending = list(wait(pending, timeout=0.5).not_done)
        finished = sum(len(list(b.taken.glob("*.done"))) for b in batches)
        progress.stage(rendering, total if not pending else finished, total)
    outcomes: dict[str, dict[str, Any]] = {}
    documents = [d for b in batches for d in b.documents]
    for batch in batches:
        lost = {"error": "the task rendering it did not finish"}
        for future in batch.futures:
            try:
                future.result()
            except Exception as exc:  # its worker lost, say: the document it held is not done
                lost = {"error": f"{type(exc).__name__}: {exc}"}
        for item, (name, _, _) in enumerate(batch.documents):
            marker = batch.taken / f"{item}.done"
            outcomes[name] = json.loads(marker.read_text()) if marker.exists() else lost
    shutil.rmtree(batches[0].taken.parent, ignore_errors=True)
    if claiming:
        documents.append(("claims", "claim lines", ""))
        try:
            outcomes["claims"] = {"result": claiming.result()}
        except Exception as exc:  # nothing is claimed this run; the lines stay for the next
            outcomes["claims"] = {"error": f"{type(exc).__name__}: {exc}"}
    listed = [outcomes[name] | {"name": name} for name, kind, _ in
              sorted(documents, key=lambda d: LISTED[d[1]])]  # fmt: skip
    results = {o["name"]: o["result"] for o in listed if "result" in o}
    return results, {o["name"]: o["error"] for o in listed if "error" in o}
