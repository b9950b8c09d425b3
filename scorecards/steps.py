"""The monthly run's steps with their I/O: what the Prefect flow calls, one task each.

Steps hand each other a small `staged` dict of paths and values, never frames, so they can run
in threads, processes or on a cluster. Documents are rendered into the staging folder; only
`publish` makes them visible, and only then are claim lines recorded in the ledger.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards import formatting
from scorecards.claims import claim_lines, claims_by_vendor, replacement_terms
from scorecards.contracts import load_contracts
from scorecards.documents.claim import write_claim
from scorecards.documents.portfolio import write_portfolio
from scorecards.documents.review import write_review
from scorecards.documents.scorecard import write_scorecard
from scorecards.history import HistoryStore, file_claims
from scorecards.outputs import (
    Staging,
    run_record,
    staging_for,
    write_parquet,
    write_run_json,
)
from scorecards.outputs import (
    publish as publish_folder,
)
from scorecards.pipeline import compute_month, judged, read_inputs, run_id_for
from scorecards.readers import FileRead
from scorecards.review import vendor_review

# output file -> MonthResult attribute
FRAMES = {
    "leads": "leads",
    "metrics": "metrics",
    "quarantine": "quarantine",
    "statuses": "statuses",
    "verdicts": "verdicts",
    "threshold_history": "history",
    "reconciliation": "reconciliation",
}


class RunInfo:
    """What a document needs to know about its run."""

    def __init__(
        self, run_id: str, as_of: date, month: str, crm_unknown: list[str] | None = None
    ) -> None:
        self.run_id, self.as_of, self.month = run_id, as_of, month
        # SPEC §2.3 "no silent zero": the figures the CRM left unknown, one sentence each
        self.crm_unknown = crm_unknown or []

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of,
            "month": self.month,
            "crm_unknown": self.crm_unknown,
        }


def _run(staged: dict[str, Any]) -> RunInfo:
    unknown = [u["document"] for u in staged.get("crm", {}).get("unknown_columns", [])]
    return RunInfo(staged["run_id"], date.fromisoformat(staged["as_of"]), staged["month"], unknown)


def _frame(staged: dict[str, Any], name: str) -> pl.DataFrame:
    return pl.read_parquet(Path(staged["staging"]) / f"{name}.parquet")


def compute_and_stage(
    month: str, as_of: date, data: Path, contracts: Path, out: Path, history: str
) -> dict[str, Any]:
    """Read, judge, measure; write the data outputs into a fresh staging folder."""
    inputs = read_inputs(data, contracts)
    result = compute_month(inputs, month, as_of)
    staging = staging_for(out / month, result.run_id)
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
        "leads": result.leads.height,
        "quarantined": result.quarantine.height,
        "files": [f.__dict__ for f in result.files],
        "balanced": bool(result.reconciliation["balanced"].all()),
        "crm": inputs.crm_report,
    }


def render_scorecard(staged: dict[str, Any], vendor_id: str) -> Path:
    leads = pl.scan_parquet(Path(staged["staging"]) / "leads.parquet").filter(
        pl.col("vendor_id") == vendor_id
    )
    return write_scorecard(
        vendor_id,
        staged["month"],
        _frame(staged, "metrics"),
        _frame(staged, "statuses"),
        _frame(staged, "verdicts"),
        leads.collect(),
        _run(staged).as_dict(),
        Path(staged["staging"]) / "scorecards",
        currency=staged["currency"].get(vendor_id, "USD"),
    )


def render_portfolio(staged: dict[str, Any]) -> Path:
    currencies = sorted(set(staged["currency"].values())) or ["USD"]
    return write_portfolio(
        staged["month"],
        _frame(staged, "metrics"),
        _frame(staged, "verdicts"),
        _run(staged).as_dict(),
        Path(staged["staging"]),
        currency=currencies[0],
    )


def month_claim_lines(staged: dict[str, Any]) -> pl.DataFrame:
    """The report month's claim decisions against the ledger as it stands (pure but for reads)."""
    portfolio = load_contracts(Path(staged["contracts"]))
    return claim_lines(
        _frame(staged, "leads"),
        portfolio.program_frame(),
        replacement_terms(portfolio),
        date.fromisoformat(staged["as_of"]),
        HistoryStore(staged["history"]).ledger(),
        [staged["month"]],
    )


def write_month_claims(staged: dict[str, Any]) -> dict[str, Any]:
    """Claim documents for the report month into staging; the lines to record after publishing."""
    lines = month_claim_lines(staged)
    folder = Path(staged["staging"]) / "claims"
    written = []
    for claim in claims_by_vendor(lines):
        pdf, csv = write_claim(claim, folder, _run(staged))
        written.append(
            {
                "claim_id": claim.claim_id,
                "vendor_id": claim.vendor_id,
                "pdf": pdf.name,
                "csv": csv.name,
            }
        )
    lines_path = Path(staged["staging"]) / "claim_lines.parquet"
    write_parquet(lines, lines_path)
    return {"claims": written, "lines": str(lines_path)}


def publish(staged: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    """run.json, the swap into `out/<month>`, then the history rows and the ledger lines."""
    staging = Staging(final=Path(staged["final"]), folder=Path(staged["staging"]))
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
    final = publish_folder(staging)
    store = HistoryStore(staged["history"])
    # history keeps each report month as its own run judged it (later runs refine older months)
    month_rows = pl.read_parquet(final / "metrics.parquet").filter(
        pl.col("month") == staged["month"]
    )
    store.replace_month(
        month_rows.with_columns(
            pl.lit(staged["as_of"]).alias("as_of"), pl.lit(staged["run_id"]).alias("run_id")
        ),
        staged["month"],
    )
    lines_path = final / "claim_lines.parquet"
    lines = pl.DataFrame(schema={"vendor_id": pl.String, "cpl_cents": pl.Int64})
    if lines_path.exists():
        filed = {c["claim_id"] for c in documents.get("claims", {}).get("claims", [])}
        lines = pl.read_parquet(lines_path).filter(
            pl.col("disposition") == "claim", pl.col("claim_id").is_in(sorted(filed))
        )
        store.record_claims(lines)
    verdicts = pl.read_parquet(final / "verdicts.parquet")
    return {
        "month": staged["month"],
        "as_of": staged["as_of"],
        "run_id": staged["run_id"],
        "out": str(final),
        "leads": staged["leads"],
        "quarantined": staged["quarantined"],
        "balanced": staged["balanced"],
        "crm_unknown": [u["sentence"] for u in staged.get("crm", {}).get("unknown_columns", [])],
        "crm_unmapped": [u["sentence"] for u in staged.get("crm", {}).get("unmapped_values", [])],
        "claim_lines": lines.height,
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
    inputs = read_inputs(data, contracts)
    month = f"{as_of:%Y-%m}"
    leads, _ = judged(inputs, month, as_of)
    portfolio = inputs.portfolio
    store = HistoryStore(history)
    lines = claim_lines(
        leads, portfolio.program_frame(), replacement_terms(portfolio), as_of, store.ledger(), None
    )
    run = RunInfo(run_id_for("sweep", as_of, inputs.files), as_of, month)
    written = file_claims(lines, out / "claims", run, store)
    claimed = lines.filter(pl.col("disposition") == "claim")
    return {
        "as_of": as_of.isoformat(),
        "run_id": run.run_id,
        "out": str(out / "claims"),
        "claims": sorted({p.stem for p in written}),
        "claim_lines": claimed.height,
        "credit_cents": int(claimed["cpl_cents"].sum() or 0),
        "expired_lines": lines.filter(pl.col("disposition") == "expired").height,
        "over_cap_lines": lines.filter(pl.col("disposition") == "over_cap").height,
    }


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
    result = compute_month(read_inputs(data, contracts), last, as_of)
    review = vendor_review(result, HistoryStore(history).ledger(), vendor, first, last)
    path = write_review(review, {"as_of": result.as_of, "run_id": result.run_id}, out / "reviews")
    return {
        "vendor": vendor,
        "from": first,
        "to": last,
        "recommendation": review.recommendation,
        "reasons": list(review.reasons),
        "pdf": str(path),
    }
