"""The monthly run's steps with their I/O: what the Prefect flow calls, one task each.

Steps hand each other a small `staged` dict of paths and values, never frames, so they can run
in threads, processes or on a cluster. Documents are rendered into the staging folder; only
`publish` makes them visible. Claims are filed in two recorded steps around that: `pending`
(documents and ledger lines) before the documents are published, `filed` after; every start
settles what a killed run left pending, so no lead is ever claimed twice or lost.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards import formatting, guards, progress, quarantined, workbook
from scorecards.claims import (
    CLAIM_LINE_SCHEMA,
    LEAD_COLUMNS,
    Claim,
    claim_lines,
    claimable,
    claims_by_vendor,
    replacement_terms,
)
from scorecards.contracts import Contract, load_contracts
from scorecards.documents.claim import write_claim
from scorecards.documents.exchange import checked_exchange_rates
from scorecards.documents.internal_claims import write_internal_claims
from scorecards.documents.portfolio import write_portfolio
from scorecards.documents.render import write_atomic
from scorecards.documents.review import write_review
from scorecards.documents.scorecard import SCORECARD_LEAD_COLUMNS, write_scorecard
from scorecards.errors import UserError
from scorecards.faults import crash_point
from scorecards.history import DOCUMENTS_SCHEMA, FILED, PENDING, HistoryStore
from scorecards.lifecycle import claims_summary, overdue_updates, read_responses
from scorecards.outputs import (
    Staging,
    restore_previous,
    run_record,
    staging_for,
    write_parquet,
    write_run_json,
)
from scorecards.outputs import (
    publish as publish_folder,
)
from scorecards.pipeline import compute_month, judged, read_inputs, run_id_for
from scorecards.readers import FileRead, sha256_of
from scorecards.review import vendor_review
from scorecards.runinfo import RunInfo
from scorecards.settings import load_settings
from scorecards.workbook import write_workbook

# output file -> MonthResult attribute
FRAMES = {
    "metrics": "metrics",
    "quarantine": "quarantine",
    "statuses": "statuses",
    "verdicts": "verdicts",
    "threshold_history": "history",
    "reconciliation": "reconciliation",
}


def _document_run(staged: dict[str, Any]) -> dict[str, Any]:
    """What a scorecard or the portfolio prints about its run; a preview says so on every page."""
    return _run(staged).as_dict() | {"preview": bool(staged.get("preview"))}


def _run(staged: dict[str, Any]) -> RunInfo:
    unknown = [u["document"] for u in staged.get("crm", {}).get("unknown_columns", [])]
    return RunInfo(staged["run_id"], date.fromisoformat(staged["as_of"]), staged["month"], unknown)


def _frame(staged: dict[str, Any], name: str) -> pl.DataFrame:
    return pl.read_parquet(Path(staged["staging"]) / f"{name}.parquet")


def compute_and_stage(
    month: str,
    as_of: date,
    data: Path,
    contracts: Path,
    out: Path,
    history: str,
    preview: bool = False,
) -> dict[str, Any]:
    """Read, judge, measure; write the data outputs into a fresh staging folder (a preview's
    under `out/previews/`). Refuses missing data (SPEC §9) before anything is written.

    First, what a killed run left is put right: the month's previous results back in place,
    pending claims settled (before anything reads the ledger); a preview touches neither."""
    files = guards.input_file_count(data)
    guards.check_inputs_present(files, str(data))
    if not preview:
        restore_previous(out / month)
        settle_pending_claims(HistoryStore(history))
    progress.stage(f"reading {progress.count(files, 'file')}")
    inputs = read_inputs(data, contracts, month)
    guards.check_month_delivered(inputs.deliveries, month, str(data))
    root = out / PREVIEWS if preview else out
    staging = staging_for(root / month, run_id_for(month, as_of, inputs.files))
    progress.stage(f"judging {progress.count(inputs.deliveries.height, 'lead')}")
    # the leads go to their file a slice at a time as they are judged (compute_month), and
    # the deliveries and CRM are freed once judged
    result = compute_month(inputs, month, as_of, staging.path("leads.parquet"), release=True)
    for name, attribute in FRAMES.items():
        write_parquet(getattr(result, attribute), staging.path(f"{name}.parquet"))
    currency = {c.vendor.id: c.currency for c in result.portfolio.contracts}
    return {
        "month": month,
        "as_of": as_of.isoformat(),
        "run_id": result.run_id,
        "staging": str(staging.folder),
        "final": str(staging.final),
        "data": str(data),
        "contracts": str(contracts),
        "history": history,
        "vendors": result.verdicts["vendor_id"].to_list(),
        "currency": currency,
        "leads": result.leads.select(pl.len()).collect().item(),
        "quarantined": result.quarantine.height,
        "files": [f.__dict__ for f in result.files],
        "balanced": bool(result.reconciliation["balanced"].all()),
        "crm": inputs.crm_report,
        "preview": preview,
    }


PREVIEWS = "previews"


def vendor_claims_summary(
    staged: dict[str, Any], vendor_id: str, vendor_leads: pl.DataFrame | pl.LazyFrame
) -> dict[str, Any]:
    """The vendor's claims to date (ledger states, this run's claims, the month's expired value)."""
    ledger = HistoryStore(staged["history"]).ledger().filter(pl.col("vendor_id") == vendor_id)
    rows = claims_summary(ledger, _claim_lines(staged, vendor_leads, ledger)).to_dicts()
    return rows[0] if rows else {}


def render_scorecard(staged: dict[str, Any], vendor_id: str) -> Path:
    reads = [*SCORECARD_LEAD_COLUMNS, *LEAD_COLUMNS]  # its own tables and its claims summary
    leads = _leads_scan(staged, reads).filter(pl.col("vendor_id") == vendor_id)
    # its tables read only invalid leads, and so do its claims but for a count: at 10 M leads,
    # a vendor's 0.8 M leads are never collected (13 documents rendered in 13.0 s, from 17.1)
    invalid = leads.filter(pl.col("status") == "invalid").collect()
    currency = staged["currency"].get(vendor_id, "USD")
    summary = vendor_claims_summary(staged, vendor_id, leads)
    claims = summary | {"currency": currency} if summary else None  # nothing claimed, ever
    return write_scorecard(
        vendor_id,
        staged["month"],
        _frame(staged, "metrics"),
        _frame(staged, "statuses"),
        _frame(staged, "verdicts"),
        invalid,
        _document_run(staged),
        Path(staged["staging"]) / "scorecards",
        currency=currency,
        contract=_contract_of(staged, vendor_id),
        claims=claims,
    )


# a document of the month: its name in run.json, its kind (`render_document`) and its vendor
Document = tuple[str, str, str]
PORTFOLIO: Document = ("portfolio", "portfolio", "")
REPORT: Document = ("claims report", "claims report", "")


def scorecard_documents(vendors: list[str]) -> list[Document]:
    """Every vendor's scorecard, in the vendors' order."""
    return [(f"scorecard {v}", "scorecard", v) for v in vendors]


def claim_documents(vendors: list[str] | None) -> list[Document]:
    """What renders once the claim lines are staged, the longest first so that the batch ends
    on short documents: the internal report (at 10 M leads 16 pages and a 115 MB CSV, 3.5 s),
    the portfolio, then the claims of each vendor with a claim to file. Without staged lines
    (`vendors` None), the portfolio alone."""
    if vendors is None:
        return [PORTFOLIO]
    return [REPORT, PORTFOLIO, *[(f"claims {v}", "claims", v) for v in vendors]]


def render_document(staged: dict[str, Any], kind: str, vendor_id: str = "") -> Any:
    """One of the month's documents by its kind, and what run.json records of it: a
    scorecard's or the portfolio's path, a vendor's claims (`write_vendor_claims`), the
    internal report's file names."""
    if kind == "scorecard":
        return str(render_scorecard(staged, vendor_id))
    if kind == "portfolio":
        return str(render_portfolio(staged))
    if kind == "claims":
        return write_vendor_claims(staged, vendor_id)
    if kind == "claims report":
        return write_internal_report(staged)
    raise ValueError(f"no document of kind {kind!r}")


def taken_folder(staged: dict[str, Any], batch: str) -> Path:
    """Where the tasks rendering `batch` of the month's documents mark what they took: beside
    the staging folder, not in it (run.json lists the staging folder's files), and removed
    with left-over staging by the next run if this one is killed."""
    folder = Path(f"{staged['staging']}.taken") / batch
    folder.mkdir(parents=True)
    return folder


def _contract_of(staged: dict[str, Any], vendor_id: str) -> Contract | None:
    """The contract the vendor's verdict names (term, programs) for the scorecard's context."""
    verdicts = _frame(staged, "verdicts").filter(pl.col("vendor_id") == vendor_id)
    named = set(verdicts["contract_id"].to_list())
    portfolio = load_contracts(Path(staged["contracts"]))
    return next((c for c in portfolio.contracts if c.contract_id in named), None)


def render_portfolio(staged: dict[str, Any]) -> Path:
    contracts = Path(staged["contracts"])
    contract_currency = {c.contract_id: c.currency for c in load_contracts(contracts).contracts}
    verdicts = _frame(staged, "verdicts")
    names = dict(zip(verdicts["vendor_id"], verdicts["vendor_name"], strict=True))
    claims = [
        row | {"vendor_name": names.get(row["vendor_id"], row["vendor_id"]),
               "currency": staged["currency"].get(row["vendor_id"], "USD")}
        for row in claims_summary(
            HistoryStore(staged["history"]).ledger(), staged_or_month_claim_lines(staged)
        ).to_dicts()
    ]  # fmt: skip
    return write_portfolio(
        staged["month"],
        _frame(staged, "metrics"),
        verdicts,
        _document_run(staged),
        Path(staged["staging"]),
        contract_currency=contract_currency,
        exchange=checked_exchange_rates(contract_currency.values(), contracts),
        claims=claims,
    )


def staged_or_month_claim_lines(staged: dict[str, Any]) -> pl.DataFrame:
    """The claim lines `stage_claim_lines` staged for this run, else (a preview stages none)
    computed again: at 10 M leads that is 5 s and gigabytes the portfolio need not spend."""
    path = claim_lines_path(staged)
    return pl.read_parquet(path) if path.exists() else month_claim_lines(staged)


def month_claim_lines(staged: dict[str, Any]) -> pl.DataFrame:
    """The report month's claim decisions against the ledger as it stands (pure but for reads).
    Only the month's leads are read: its lines and the cap's count of its deliveries need no
    other month."""
    leads = _leads_scan(staged, LEAD_COLUMNS).filter(pl.col("month") == staged["month"])
    return _claim_lines(staged, leads, HistoryStore(staged["history"]).ledger())


def _claim_lines(
    staged: dict[str, Any], leads: pl.DataFrame | pl.LazyFrame, ledger: pl.DataFrame
) -> pl.DataFrame:
    """`leads`' claim decisions for the report month under the contracts' replacement terms."""
    contracts = Path(staged["contracts"])
    portfolio = load_contracts(contracts)
    return claim_lines(
        leads,
        portfolio.program_frame(),
        replacement_terms(portfolio, load_settings(contracts)),
        date.fromisoformat(staged["as_of"]),
        ledger,
        [staged["month"]],
    )


def write_month_claims(staged: dict[str, Any]) -> dict[str, Any]:
    """New claim documents for the report month into staging; the lines to record on
    publishing (the claims filed before are put back by `publish`). The flow runs the same
    three steps as tasks, so that claim documents render beside the scorecards."""
    claiming = stage_claim_lines(staged)
    by_vendor = {v: write_vendor_claims(staged, v) for v in claiming["vendors"]}
    return claims_written(claiming, by_vendor, write_internal_report(staged))


def claims_written(
    claiming: dict[str, Any], by_vendor: dict[str, list[dict[str, str]]], internal: list[str]
) -> dict[str, Any]:
    """What `publish` records of the month's claims: every vendor's claim documents in the order
    `claims_by_vendor` files them, the internal report's files and the staged lines."""
    written = [entry for v in claiming["vendors"] for entry in by_vendor[v]]
    return {"claims": written, "internal": internal, "lines": claiming["lines"]}


def claim_lines_path(staged: dict[str, Any]) -> Path:
    """Where `stage_claim_lines` stages the month's claim lines."""
    return Path(staged["staging"]) / "claim_lines.parquet"


def stage_claim_lines(staged: dict[str, Any]) -> dict[str, Any]:
    """The report month's claim lines into staging (`claim_lines.parquet`), and the vendors
    with a claim to file, in the order `claims_by_vendor` files them."""
    lines, path = month_claim_lines(staged), claim_lines_path(staged)
    write_parquet(lines, path)
    vendors = claimable(lines)["vendor_id"].unique().sort().to_list()
    return {"lines": str(path), "vendors": vendors}


def write_vendor_claims(staged: dict[str, Any], vendor_id: str) -> list[dict[str, str]]:
    """One vendor's new claim documents (PDF and CSV) into staging, from the staged lines."""
    lines = pl.scan_parquet(claim_lines_path(staged))
    mine = lines.filter(pl.col("vendor_id") == vendor_id).collect()
    folder = Path(staged["staging"]) / "claims"
    return [_claim_entry(c, *write_claim(c, folder, _run(staged))) for c in claims_by_vendor(mine)]


def write_internal_report(staged: dict[str, Any]) -> list[str]:
    """What the vendor must not see (over the cap, past the window) goes beside, never in, a
    claim: the internal report of the month's staged claim lines."""
    folder = Path(staged["staging"]) / "claims"
    lines = pl.read_parquet(claim_lines_path(staged))
    return [p.name for p in write_internal_claims(lines, folder, staged["month"], _run(staged))]


def _claim_entry(claim: Claim, pdf: Path, csv: Path) -> dict[str, str]:
    return {
        "claim_id": claim.claim_id,
        "vendor_id": claim.vendor_id,
        "contract_id": claim.contract_id,
        "pdf": pdf.name,
        "csv": csv.name,
    }


def restore_filed_claims(store: HistoryStore, month: str, folder: Path) -> list[str]:
    """The claims earlier runs of `month` filed, written into `folder` byte for byte from the
    ledger, so a re-run leaves `out/<month>/claims/` as it was (SPEC §6: a claim, once filed,
    is never deleted by a re-run), even when this run's claims step failed."""
    kept = store.claim_documents(FILED).filter(pl.col("place") == "run", pl.col("month") == month)
    for row in kept.iter_rows(named=True):
        write_atomic(folder / row["pdf_name"], row["pdf"])
        write_atomic(folder / row["csv_name"], row["csv"])
    return kept["claim_id"].to_list()


def drop_unfiled_claim_files(folder: Path, claims: dict[str, Any]) -> None:
    """Whatever a claims task wrote before it failed (a vendor's first claim, its second
    failing; a task lost before it reported) is removed from staging before the claims filed
    earlier are put back: a claim document is published only when its claim is filed."""
    if not folder.is_dir():
        return
    listed = {name for c in claims.get("claims", []) for name in (c["pdf"], c["csv"])}
    listed |= set(claims.get("internal", []))
    for path in folder.iterdir():
        if path.name not in listed:
            path.unlink()


def documents_rows(
    claims: list[dict[str, Any]],
    staged_in: Path,
    published_in: Path,
    *,
    place: str,
    month: str | None,
    run: RunInfo,
) -> pl.DataFrame:
    """The `claim_documents` rows of claims rendered into `staged_in`, to be published in
    `published_in`: their names, sha256 and exact bytes."""
    rows = []
    for claim in claims:
        pdf, csv = (staged_in / claim["pdf"]).read_bytes(), (staged_in / claim["csv"]).read_bytes()
        rows.append(
            {
                "claim_id": claim["claim_id"],
                "vendor_id": claim["vendor_id"],
                "contract_id": claim["contract_id"],
                "place": place,
                "month": month,
                "folder": str(published_in.resolve()),
                "filed_on": run.as_of,
                "run_id": run.run_id,
                "status": PENDING,
                "pdf_name": claim["pdf"],
                "csv_name": claim["csv"],
                "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
                "csv_sha256": hashlib.sha256(csv).hexdigest(),
                "pdf": pdf,
                "csv": csv,
            }
        )
    return pl.DataFrame(rows, schema=DOCUMENTS_SCHEMA)


def settle_pending_claims(store: HistoryStore) -> dict[str, list[str]]:
    """Claims a killed run left `pending`: filed when both documents reached their folder
    (the run died after publishing), else dropped with their ledger lines, to be filed again
    under the same ids (the run died before). Either way no lead is claimed twice."""
    filed, dropped = [], []
    for row in store.claim_documents(PENDING).iter_rows(named=True):
        folder = Path(row["folder"])
        files = [(folder / row["pdf_name"], row["pdf_sha256"])]
        files.append((folder / row["csv_name"], row["csv_sha256"]))
        present = [path for path, sha in files if path.is_file() and sha256_of(path) == sha]
        if len(present) == len(files):
            filed.append(row["claim_id"])
            continue
        dropped.append(row["claim_id"])
        for path in present:  # half a sweep's move: the lines are filed again under this id
            path.unlink()
    store.mark_filed(filed)
    store.drop_claims(dropped)
    return {"filed": filed, "dropped": dropped}


def already_claimed_sentence(lines: pl.DataFrame, ledger: pl.DataFrame) -> str | None:
    """ "56 lines already claimed on 2026-11-05 in claims BP-…": what a re-run found filed."""
    already = lines.filter(pl.col("disposition") == "already_claimed")
    if already.is_empty():
        return None
    ids = sorted(set(already["claim_id"].drop_nulls().to_list()))
    days = (
        ledger.filter(pl.col("claim_id").is_in(ids))
        .select(pl.col("claimed_on").unique().sort().dt.to_string("%Y-%m-%d"))
        .to_series()
        .to_list()
    )
    on = f" on {' and '.join(days)}" if days else ""
    noun = "claim" if len(ids) == 1 else "claims"
    return f"{already.height:,} lines already claimed{on} in {noun} {', '.join(ids)}"


def _leads_scan(staged: dict[str, Any], columns: tuple[str, ...] | list[str]) -> pl.LazyFrame:
    """leads.parquet, only those of `columns` it has: a document never reads it whole."""
    scan = pl.scan_parquet(Path(staged["staging"]) / "leads.parquet")
    return scan.select([c for c in scan.collect_schema().names() if c in columns])


def stage_workbook(staged: dict[str, Any]) -> Path:
    """`scorecards.xlsx` into staging: metrics, the month's leads, claims and their states."""
    folder = Path(staged["staging"])
    lines_path = claim_lines_path(staged)
    return write_workbook(
        folder / "scorecards.xlsx",
        month=staged["month"],
        as_of=date.fromisoformat(staged["as_of"]),
        metrics=_frame(staged, "metrics"),
        leads=_leads_scan(staged, workbook.LEAD_COLUMNS),
        lines=pl.read_parquet(lines_path)
        if lines_path.exists()
        else pl.DataFrame(schema=CLAIM_LINE_SCHEMA),  # a preview files no claim
        ledger=HistoryStore(staged["history"]).ledger(),
        currency=staged["currency"],
    )


def publish(staged: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    """run.json; the new claims recorded pending; the swap into `out/<month>`; the history
    rows; the claims marked filed. A kill between any two leaves a state the next start
    settles (`settle_pending_claims`, `restore_previous`)."""
    staging = Staging(final=Path(staged["final"]), folder=Path(staged["staging"]))
    store = HistoryStore(staged["history"])
    preview = bool(staged.get("preview"))  # touches neither history nor the ledger (SPEC §9)
    if not preview:  # only this run's claims are in staging yet
        drop_unfiled_claim_files(staging.folder / "claims", documents.get("claims", {}))
    kept = (
        [] if preview else restore_filed_claims(store, staged["month"], staging.folder / "claims")
    )
    documents = {**documents, "kept_claims": kept}
    stage_workbook(staged)  # before run.json, which lists it among the outputs
    reconciliation = pl.read_parquet(staging.folder / "reconciliation.parquet")
    files = [FileRead(**f) for f in staged["files"]]
    record = run_record(
        run_id=staged["run_id"],
        month=staged["month"],
        as_of=date.fromisoformat(staged["as_of"]),
        files=files,
        reconciliation=reconciliation,
        folder=staging.folder,
        extra={"documents": documents, "crm": staged.get("crm", {})},
    )
    write_run_json(record, staging.folder / "run.json")
    new_claims = documents.get("claims", {}).get("claims", [])
    filed = sorted(c["claim_id"] for c in new_claims)
    lines_path = claim_lines_path(staged)
    month_lines = pl.read_parquet(lines_path) if lines_path.exists() else None
    lines = pl.DataFrame(schema={"vendor_id": pl.String, "cpl_cents": pl.Int64})
    if month_lines is not None:
        lines = month_lines.filter(
            pl.col("disposition") == "claim", pl.col("claim_id").is_in(filed)
        )
    rows = documents_rows(
        new_claims,
        staging.folder / "claims",
        staging.final / "claims",
        place="run",
        month=staged["month"],
        run=_run(staged),
    )
    if not preview:
        store.record_pending(rows, lines)
    final = publish_folder(staging)
    crash_point("after-publish-before-ledger")
    # history keeps each report month as its own run judged it (later runs refine older months)
    month_rows = pl.read_parquet(final / "metrics.parquet").filter(
        pl.col("month") == staged["month"]
    )
    if not preview:
        store.replace_month(
            month_rows.with_columns(
                pl.lit(staged["as_of"]).alias("as_of"), pl.lit(staged["run_id"]).alias("run_id")
            ),
            staged["month"],
        )
        store.mark_filed(filed)
    crash_point("after-ledger")
    verdicts = pl.read_parquet(final / "verdicts.parquet")
    already = (
        already_claimed_sentence(month_lines, store.ledger()) if month_lines is not None else None
    )
    return {
        "preview": preview,
        "month": staged["month"],
        "as_of": staged["as_of"],
        "run_id": staged["run_id"],
        "out": str(final),
        "leads": staged["leads"],
        "quarantined": staged["quarantined"],
        "quarantined_files": quarantined.run_sentence(
            pl.read_parquet(final / "quarantine.parquet"), f"{staged['data']}/"
        ),
        "balanced": staged["balanced"],
        "crm_unknown": [u["sentence"] for u in staged.get("crm", {}).get("unknown_columns", [])],
        "crm_unmapped": [u["sentence"] for u in staged.get("crm", {}).get("unmapped_values", [])],
        "claim_lines": lines.height,
        "already_claimed": already,
        "documents": documents,
        "verdicts": verdicts.select("vendor_id", "verdict", "reason").to_dicts(),
        "table": summary_table(
            verdicts, pl.read_parquet(final / "statuses.parquet"), lines, staged["currency"]
        ),
    }


def summary_table(
    verdicts: pl.DataFrame, statuses: pl.DataFrame, claimed: pl.DataFrame, currency: dict[str, str]
) -> list[dict[str, Any]]:
    """One row per vendor for the run's artifact: verdict, judged cost per SQL, claims filed."""
    cost = statuses.filter(pl.col("metric") == "cost_per_sql").select(
        "vendor_id", pl.col("value").alias("cost_per_sql"), "judged_month"
    )
    claims = claimed.group_by("vendor_id").agg(
        pl.len().alias("claim_lines"), pl.col("cpl_cents").sum().alias("claim_cents")
    )
    rows = (
        verdicts.join(cost, on="vendor_id", how="left")
        .join(claims, on="vendor_id", how="left")
        .sort("vendor_id")
        .to_dicts()
    )
    return [
        {
            "vendor": row["vendor_id"],
            "verdict": row["verdict"],
            "cost per SQL": formatting.metric_value(
                "cost_per_sql", row["cost_per_sql"], currency.get(row["vendor_id"], "USD")
            ),
            "judged on": formatting.month(row["judged_month"]),
            "claim lines": row["claim_lines"] or 0,
            "claimed": formatting.money(
                row["claim_cents"] or 0, currency.get(row["vendor_id"], "USD")
            ),
        }
        for row in rows
    ]


def sweep_claims(
    as_of: date, data: Path, contracts: Path, out: Path, history: str
) -> dict[str, Any]:
    """SPEC §6 sweep: every claimable line of every month still in its window, filed as of
    `as_of` into `out/claims/`; each claim's lines are recorded once its documents exist."""
    store = HistoryStore(history)
    settle_pending_claims(store)
    month = f"{as_of:%Y-%m}"
    inputs = read_inputs(data, contracts, month)
    leads, _ = judged(inputs, month, as_of)
    portfolio = inputs.portfolio
    terms = replacement_terms(portfolio, load_settings(contracts))
    lines = claim_lines(leads, portfolio.program_frame(), terms, as_of, store.ledger(), None)
    run = RunInfo(run_id_for("sweep", as_of, inputs.files), as_of, month)
    written = file_claims(lines, out / "claims", run, store)
    already = already_claimed_sentence(lines, store.ledger())
    internal = write_internal_claims(lines, out / "claims", as_of.isoformat(), run)
    overdue = store.update_states(overdue_updates(store.ledger(), as_of))
    claimed = lines.filter(pl.col("disposition") == "claim")
    return {
        "as_of": as_of.isoformat(),
        "run_id": run.run_id,
        "out": str(out / "claims"),
        "claims": sorted({p.stem for p in written}),
        "internal": [str(p) for p in internal],
        "overdue_lines": overdue,
        "claim_lines": claimed.height,
        "credit_cents": int(claimed["cpl_cents"].sum() or 0),
        "expired_lines": lines.filter(pl.col("disposition") == "expired").height,
        "over_cap_lines": lines.filter(pl.col("disposition") == "over_cap").height,
        "already_claimed": already,
    }


def file_claims(lines: pl.DataFrame, folder: Path, run: RunInfo, store: HistoryStore) -> list[Path]:
    """The sweep's filing into `folder`: render every claim into a hidden staging folder,
    record them pending, move the documents into place, mark them filed.

    A claim that fails to render records nothing and leaves no file; a kill at any instant
    leaves pending claims the next start settles (`settle_pending_claims`)."""
    claims = claims_by_vendor(lines)
    if not claims:
        return []
    staging = folder / f".staging-{run.run_id}"
    for stale in folder.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    try:
        written = [_claim_entry(c, *write_claim(c, staging, run)) for c in claims]
        ids = sorted(c["claim_id"] for c in written)
        rows = documents_rows(written, staging, folder, place="sweep", month=None, run=run)
        store.record_pending(
            rows, lines.filter(pl.col("disposition") == "claim", pl.col("claim_id").is_in(ids))
        )
        crash_point("before-publish")
        paths = []
        for entry in written:
            for name in (entry["pdf"], entry["csv"]):
                os.replace(staging / name, folder / name)
                paths.append(folder / name)
                crash_point("mid-publish")
        crash_point("after-publish-before-ledger")
        store.mark_filed(ids)
        crash_point("after-ledger")
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def reprint_claim(claim_id: str, history: str, out: Path) -> list[Path]:
    """A filed claim's PDF and CSV again, byte for byte from the ledger, into `out/reprints/`."""
    store = HistoryStore(history)
    found = store.claim_documents(FILED).filter(pl.col("claim_id") == claim_id)
    if found.is_empty():
        known = store.claim_documents(FILED).height
        raise UserError(
            f"no filed claim '{claim_id}' in the ledger at {history} "
            f"({known} filed claims there; the ids are in out/<month>/claims/ and out/claims/)"
        )
    row = found.row(0, named=True)
    folder = out / "reprints"
    paths = [folder / row["pdf_name"], folder / row["csv_name"]]
    write_atomic(paths[0], row["pdf"])
    write_atomic(paths[1], row["csv"])
    return paths


def review_vendor(
    vendor: str,
    first: str,
    last: str,
    as_of: date,
    data: Path,
    contracts: Path,
    out: Path,
    history: str,
) -> dict[str, Any]:
    """The ad-hoc review of one vendor over [first, last]: `out/reviews/<vendor>-<first>-<last>.pdf`."""
    guards.check_inputs_present(guards.input_file_count(data), str(data))
    inputs = read_inputs(data, contracts, last)
    guards.check_range_delivered(
        inputs.deliveries.filter(pl.col("vendor_id") == vendor), first, last, str(data), vendor
    )
    result = compute_month(inputs, last, as_of)
    ledger = HistoryStore(history).ledger()
    review = vendor_review(result, ledger, vendor, first, last)
    currency = {c.vendor.id: c.currency for c in result.portfolio.contracts}.get(vendor, "USD")
    summary = claims_summary(ledger.filter(pl.col("vendor_id") == vendor)).to_dicts()
    # the review reads the ledger, not one month's claim decisions: no expired line here
    claims = summary[0] | {"currency": currency, "expired_lines": None} if summary else None
    path = write_review(
        review, {"as_of": result.as_of, "run_id": result.run_id}, out / "reviews", claims
    )
    return {
        "vendor": vendor,
        "from": first,
        "to": last,
        "recommendation": review.recommendation,
        "reasons": list(review.reasons),
        "pdf": str(path),
    }


def record_responses(files: list[Path], history: str, today: date) -> dict[str, Any]:
    """Vendors' answers to claims into the ledger: every file validated first, then one commit
    (a bad line refuses everything, in one sentence)."""
    store = HistoryStore(history)
    updates = read_responses(files, store.ledger(), today)
    store.update_states(updates)
    counts = updates.group_by("state").len().sort("state")
    return {"lines": updates.height, "states": dict(counts.iter_rows())}
