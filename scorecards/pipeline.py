"""One month's computation, from input folders to the frames every output is made of.

Each function is a step the Prefect flow wraps as a task; none of them writes anything but the
leads file `compute_month` is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards.contracts import Portfolio, load_contracts
from scorecards.crm import MAPPING_FILE, crm_plan, read_crm
from scorecards.engine import ENGINE
from scorecards.ingest import (
    Ingested,
    canonical_headers,
    contract_in_force,
    read_deliveries,
    read_suppression,
    typed_deliveries,
)
from scorecards.judge import (
    SLICE_ROWS,
    acceptance_frame,
    after_month,
    judged_leads,
    judging_plan,
    lead_ordered,
)
from scorecards.metrics import (
    invalid_reason_counts,
    months_between,
    program_month_metrics,
    vendor_month_metrics,
)
from scorecards.outputs import write_parquet_slices
from scorecards.readers import FileRead, scan_parquet_input
from scorecards.schemas import QUARANTINE_SCHEMA, Leads, failures_as_quarantine
from scorecards.verdicts import (
    UNKNOWN_WITHOUT,
    threshold_history,
    threshold_statuses,
    vendor_verdicts,
)


@dataclass
class Inputs:
    """Everything read for a run, before judging."""

    portfolio: Portfolio
    deliveries: pl.DataFrame
    crm: pl.DataFrame
    suppression: pl.DataFrame
    quarantine: pl.DataFrame
    files: list[FileRead] = field(default_factory=list)
    file_kinds: dict[str, str] = field(default_factory=dict)
    crm_report: dict[str, Any] = field(default_factory=dict)  # CrmInput.report(): run.json "crm"
    # read for a report month: `deliveries` are in `lead_ordered`'s order, the first `kept`
    # delivered up to `ordered_for`, so judging that month copies none of them
    ordered_for: str | None = None
    kept: int = 0
    released: bool = False  # `release`d: the deliveries and CRM were handed to a judging

    def release(self) -> None:
        """Let go of the deliveries and CRM (left as empty frames of their schema), so that the
        judging holding them frees them as it ends: at 10 M leads, 5.4 GB that the rest of the
        run does not read. Judging these inputs again is refused."""
        self.deliveries, self.crm = self.deliveries.clear(), self.crm.clear()
        self.released = True


@dataclass(frozen=True)
class MonthResult:
    """The frames of one month's run (docs/DESIGN.md)."""

    month: str
    as_of: date
    run_id: str
    portfolio: Portfolio
    leads: pl.LazyFrame  # in memory, or the leads file it was written to
    quarantine: pl.DataFrame
    metrics: pl.DataFrame
    history: pl.DataFrame
    statuses: pl.DataFrame
    verdicts: pl.DataFrame
    invalid_reasons: pl.DataFrame
    reconciliation: pl.DataFrame
    files: list[FileRead]


def read_inputs(data_dir: Path, contracts_dir: Path, month: str | None = None) -> Inputs:
    """Contracts first (a bad one stops everything), then deliveries, CRM and suppression. With
    the report `month`, the deliveries are put in lead order as they are read (`lead_ordered`),
    before the CRM is read beside them."""
    portfolio = load_contracts(contracts_dir)
    ingested: Ingested = read_deliveries(data_dir / "deliveries", portfolio)
    kept = 0
    if month is not None:  # the frame in file order is freed as the ordered one replaces it
        ordered, kept = lead_ordered(ingested.deliveries, month)
        ingested = replace(ingested, deliveries=ordered)
    crm_input = read_crm(data_dir / "crm", contracts_dir / MAPPING_FILE)
    suppression, suppression_files, suppression_problems = read_suppression(
        data_dir / "suppression"
    )
    kinds = {
        **{f.path: "deliveries" for f in ingested.files},
        **{f.path: "crm" for f in crm_input.files},
        **{f.path: "suppression" for f in suppression_files},
    }
    quarantine = pl.concat(
        [
            q.select(list(QUARANTINE_SCHEMA)).cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]
            for q in (ingested.quarantine, crm_input.quarantine, suppression_problems)
        ]
    ).sort("source_file", "source_line", "field", nulls_last=False)
    return Inputs(
        portfolio=portfolio,
        deliveries=ingested.deliveries,
        crm=crm_input.crm,
        suppression=suppression,
        quarantine=quarantine,
        files=[*ingested.files, *crm_input.files, *suppression_files],
        file_kinds=kinds,
        crm_report=crm_input.report(),
        ordered_for=month,
        kept=kept,
    )


def run_id_for(label: str, as_of: date, files: list[FileRead]) -> str:
    """Stable for the same inputs and as-of date, so re-runs give identical documents."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    return f"{label}-{as_of:%Y%m%d}-{digest.hexdigest()[:8]}"


def judged_slices(
    inputs: Inputs, month: str, as_of: date, rows: int = SLICE_ROWS, release: bool = False
) -> tuple[Iterator[pl.DataFrame], pl.DataFrame]:
    """(leads up to the report month, `rows` at a time (`judge.judged_leads`); the source files
    of the leads after it). Later deliveries never change an earlier month's numbers (the
    earliest delivery keeps a lead), so they are left out, not judged. With `release`, the
    inputs let go of the deliveries and CRM: the slices hold them until the last is judged."""
    if inputs.released:
        raise ValueError("these inputs were released to a judging; read them again")
    if inputs.ordered_for == month:
        ordered, kept = inputs.deliveries, inputs.kept
    else:
        ordered, kept = lead_ordered(inputs.deliveries, month)
    crm = inputs.crm
    if release:
        inputs.release()
    slices = judged_leads(
        ordered.slice(0, kept),
        crm,
        inputs.suppression,
        inputs.portfolio.program_frame(),
        acceptance_frame(inputs.portfolio.contracts),
        as_of,
        rows,
    )
    return _checked(slices), ordered.slice(kept).select("source_file")


def _checked(slices: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Each slice checked against the leads' schema; none is held while the next is judged."""
    for leads in slices:
        checked, problems = failures_as_quarantine(leads, Leads)
        del leads
        if problems.height:  # a judged lead failing its schema is a bug in judging
            errors = problems["error"].to_list()[:3]
            raise AssertionError(f"judged leads broke their schema: {errors}")
        yield checked
        del checked


def judged(inputs: Inputs, month: str, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`judged_slices`, the leads as one frame."""
    slices, after = judged_slices(inputs, month, as_of)
    return pl.concat(slices), after


def reconciliation(
    files: list[FileRead],
    kinds: dict[str, str],
    leads: pl.LazyFrame,
    after: pl.DataFrame,
    quarantine: pl.DataFrame,
) -> pl.DataFrame:
    """Per input file: rows read = quarantined + invalid + accepted (+ later than the report
    month, for deliveries; + records kept, for CRM and suppression files)."""
    per_file = pl.DataFrame(
        {
            "file": [f.path for f in files],
            "kind": [kinds.get(f.path, "") for f in files],
            "rows_read": [f.rows for f in files],
        },
        schema={"file": pl.String, "kind": pl.String, "rows_read": pl.Int64},
    )
    status = (
        leads.group_by(pl.col("source_file").alias("file"))
        .agg(
            (pl.col("status") == "invalid").sum().cast(pl.Int64).alias("invalid"),
            (pl.col("status") == "accepted").sum().cast(pl.Int64).alias("accepted"),
        )
        .collect(engine=ENGINE)
    )
    later = after.group_by(pl.col("source_file").alias("file")).agg(
        pl.len().cast(pl.Int64).alias("after_report_month")
    )
    held = (
        quarantine.filter(pl.col("source_line").is_not_null())
        .group_by(pl.col("source_file").alias("file"))
        .agg(pl.len().cast(pl.Int64).alias("quarantined"))
    )
    counts = ["quarantined", "invalid", "accepted", "after_report_month"]
    table = (
        per_file.join(held, on="file", how="left")
        .join(status, on="file", how="left")
        .join(later, on="file", how="left")
        .with_columns(pl.col(counts).fill_null(0))
        .with_columns(
            pl.when(pl.col("kind") == "deliveries")
            .then(0)
            .otherwise(pl.col("rows_read") - pl.col("quarantined"))
            .cast(pl.Int64)
            .alias("records_kept")
        )
    )
    return table.with_columns(
        (pl.sum_horizontal(*counts, "records_kept") == pl.col("rows_read")).alias("balanced")
    ).sort("file")


def compute_month(
    inputs: Inputs,
    month: str,
    as_of: date,
    leads_file: Path | None = None,
    rows: int = SLICE_ROWS,
    release: bool = False,
) -> MonthResult:
    """Judge, measure and verdict one report month from what was read. With `leads_file`, the
    leads are written there a slice of `rows` at a time, never all held at once, and measured
    from it (the monthly run at 10 M leads, bench/); without, they are kept in memory. With
    `release`, `inputs` let go of the deliveries and CRM as they are judged (`judged_slices`),
    so the metrics are measured without them in memory."""
    slices, after = judged_slices(inputs, month, as_of, rows, release)
    if leads_file is None:
        leads = pl.concat(slices).lazy()
    else:
        write_parquet_slices(slices, leads_file)
        leads = pl.scan_parquet(leads_file)
    first = leads.select(pl.col("month").min()).collect(engine=ENGINE).item() or month
    months = months_between(str(first), month)
    contracts = inputs.portfolio.contracts
    metrics = vendor_month_metrics(leads, inputs.portfolio.program_frame(), months, as_of)
    missing = {u["column"] for u in inputs.crm_report.get("unknown_columns", [])}
    unknown = frozenset(m for column in missing for m in UNKNOWN_WITHOUT.get(column, ()))
    history = threshold_history(metrics, contracts, months, unknown)
    statuses = threshold_statuses(history, contracts, month, as_of)
    verdicts = vendor_verdicts(history, statuses, contracts, month, as_of)
    return MonthResult(
        month=month,
        as_of=as_of,
        run_id=run_id_for(month, as_of, inputs.files),
        portfolio=inputs.portfolio,
        leads=leads,
        quarantine=inputs.quarantine,
        metrics=metrics,
        history=history,
        statuses=statuses,
        verdicts=verdicts,
        invalid_reasons=invalid_reason_counts(leads),
        reconciliation=reconciliation(
            inputs.files, inputs.file_kinds, leads, after, inputs.quarantine
        ),
        files=inputs.files,
    )


def bench_metrics(
    deliveries_parquet: Path, crm_parquet: Path, contracts_dir: Path, month: str, as_of: date
) -> pl.DataFrame:
    """The metrics path on benchmark Parquet files, as one query: parsing with the ingest checks,
    attribution, judging and the program-grain metrics (what bench/ times against an independent
    DuckDB implementation). It is the monthly run's own judging plan; collected for the metrics
    alone, Polars reads only the columns they need and never writes the evidence."""
    portfolio = load_contracts(contracts_dir)
    programs = portfolio.program_frame()
    crm, _ = crm_plan(scan_parquet_input(crm_parquet, crm_parquet.parent), "canonical")
    suppression = pl.DataFrame(schema={"kind": pl.String, "value": pl.String, "list": pl.String})
    leads = judging_plan(
        _bench_deliveries(deliveries_parquet, programs, month),
        crm,
        suppression,
        programs,
        acceptance_frame(portfolio.contracts),
        as_of,
    )
    # the calendar starts at the file's earliest delivery (the monthly run: its earliest lead)
    first = pl.scan_parquet(deliveries_parquet).select(pl.col("delivered_at").min())
    months = months_between(f"{first.collect(engine=ENGINE).item():%Y-%m}", month)
    return program_month_metrics(leads, programs, months, as_of)


def _bench_deliveries(path: Path, programs: pl.DataFrame, month: str) -> pl.LazyFrame:
    """Benchmark deliveries parsed, checked and attributed, up to the report month (as `judged`
    keeps them); rows failing a check are left out, as ingest quarantines them."""
    raw = scan_parquet_input(path, path.parent)
    raw = raw.rename(canonical_headers(raw.collect_schema().names(), {}))
    kept = (
        ~pl.col("_problem")
        & pl.col("contract_id").is_not_null()
        & (pl.col("delivered_at") < after_month(month))
    )
    return (
        typed_deliveries(raw, implied_vendor=None)
        .with_columns(contract_in_force(programs).alias("contract_id"))
        .filter(kept)  # one filter: the frame is copied once
        .drop("_problem")
    )


__all__ = [
    "Inputs",
    "MonthResult",
    "bench_metrics",
    "compute_month",
    "months_between",
    "read_inputs",
    "run_id_for",
]
