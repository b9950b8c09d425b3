"""`out/<month>/scorecards.xlsx`: the run's traceable data for people who use a spreadsheet.

One sheet each for metrics by vendor and program, the report month's leads (status, reasons and
evidence; emails masked), and claims with their state. Cells are typed (numbers are numbers,
dates are dates), headers are frozen, rates show as 0.0% and money as 1,234.00 beside its ISO
currency. Text is data: no string is ever turned into a formula or a link, and a text cell that a
spreadsheet would run as a formula starts with a single quote. The file is deterministic: rows are
sorted and the document's creation time is the run's as-of date.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import polars as pl
import polars.selectors as cs
import xlsxwriter

from scorecards.claims import LINE_KEY
from scorecards.documents.internal_claims import INTERNAL
from scorecards.formatting import inert_text, masked_email

# The leads and claims sheets hold at most this many rows each: a spreadsheet of more is not read
# by a person, and xlsxwriter writes ~7,000 rows of these a second here (two sheets of 50,000
# took 15 s of a million-lead month's run). Past it, the rows that matter come first (invalid
# leads; lines filed with the vendor) and an `about` sheet says how many were left out and where
# they all are (leads.parquet, claim_lines.parquet, the claims' CSVs).
LEAD_ROWS = 10_000
RATE_FORMAT = "0.0%"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"

METRIC_COLUMNS = (
    "grain", "vendor_id", "program_id", "month", "ordered", "delivered", "fill_rate",
    "invalid", "invalid_rate", "accepted", "billable", "over_cap", "sal", "sal_rate", "sql",
    "sql_rate", "opportunities", "spend_cents", "cost_per_sql", "pipeline_cents",
    "pipeline_per_dollar", "days_to_sql", "mature",
)  # fmt: skip
LEAD_COLUMNS = (
    "vendor_id", "program_id", "month", "vendor_lead_id", "delivered_at", "email", "company",
    "job_title", "country", "status", "primary_reason", "reasons", "evidence", "cpl_cents",
    "crm_status", "sql", "source_file", "source_line",
)  # fmt: skip
CLAIM_COLUMNS = (
    "state", "claim_id", "vendor_id", "program_id", "month", "vendor_lead_id", "delivered_at",
    "primary_reason", "cpl_cents", "currency", "claimed_on", "claim_deadline",
)  # fmt: skip
STATES = {"claim": "filed", "expired": "past the claim window", "over_cap": "over the cap"}
# the states of the lines kept from the vendor (the internal claims report's dispositions)
WITHHELD = tuple(STATES[disposition] for disposition in INTERNAL)


def _inert_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell that would start a formula gets a leading quote (it stays text)."""
    return frame.with_columns(inert_text(cs.string()))


def _money(frame: pl.DataFrame) -> pl.DataFrame:
    """`…_cents` integers as amounts in the currency's unit (`spend_cents` -> `spend`)."""
    cents = [c for c in frame.columns if c.endswith("_cents")]
    return frame.with_columns(
        (pl.col(c) / 100).alias(c.removesuffix("_cents")) for c in cents
    ).select([c.removesuffix("_cents") for c in frame.columns])


def _naive_times(frame: pl.DataFrame) -> pl.DataFrame:
    """Excel has no time zones: UTC datetimes are written as UTC wall time."""
    return frame.with_columns(cs.datetime(time_zone="*").dt.replace_time_zone(None))


def _present(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    return frame.select([c for c in columns if c in frame.columns])


def metrics_sheet(metrics: pl.DataFrame, currency: dict[str, str]) -> pl.DataFrame:
    rows = metrics.filter(pl.col("grain").is_in(["vendor", "program"]))
    rows = _present(rows, METRIC_COLUMNS).with_columns(
        pl.col("vendor_id").replace_strict(currency, default="USD").alias("currency")
    )
    return _money(rows).sort("vendor_id", "program_id", "month", nulls_last=False)


def _first(rows: pl.DataFrame, limit: int, first: pl.Expr) -> pl.DataFrame:
    """At most `limit` rows: those where `first` holds before the others, each in line order."""
    if rows.height <= limit:
        return rows
    # the first `limit` in that order, without sorting every row (millions at 10 M leads)
    return rows.bottom_k(limit, by=[~first, *LINE_KEY]).sort(~first, *LINE_KEY, nulls_last=False)


def leads_sheet(
    leads: pl.DataFrame | pl.LazyFrame, month: str, limit: int = LEAD_ROWS
) -> tuple[pl.DataFrame, int]:
    """The month's leads in line order; past `limit`, the invalid ones first, then the rest.
    With the month's count of leads. Only the leads that can be shown are read: with `limit`
    invalid leads or more, the invalid ones (at 10 M leads, 0.9 s, where reading every lead of
    the month and choosing among them took 15 s)."""
    invalid = pl.col("status") == "invalid"
    month_leads = leads.lazy().filter(pl.col("month") == month)
    total, invalid_count = month_leads.select(pl.len(), invalid.sum()).collect().row(0)
    if total > limit and invalid_count >= limit:  # no accepted lead is shown
        month_leads = month_leads.filter(invalid)
    rows = _first(_present(month_leads.collect(), LEAD_COLUMNS), limit, invalid)
    rows = rows.with_columns(
        masked_email(),
        *(pl.col(c).list.join("; ") for c in ("reasons", "evidence") if c in rows.columns),
    )
    return _money(rows).sort(list(LINE_KEY), nulls_last=False), total


def claims_sheet(
    lines: pl.DataFrame, ledger: pl.DataFrame, limit: int = LEAD_ROWS
) -> tuple[pl.DataFrame, int]:
    """This run's decisions (filed, past the window, over the cap) and every line the ledger
    already holds, each line once; a line in the ledger keeps the ledger's state. Past `limit`,
    the lines claimed from vendors first, then those withheld. Also: how many lines there are."""
    if "state" in ledger.columns:
        ledger = ledger.with_columns(pl.col("state").cast(pl.String))
    else:
        ledger = ledger.with_columns(pl.lit("filed").alias("state"))
    now = lines.with_columns(
        pl.col("disposition").replace_strict(STATES, default=pl.col("disposition")).alias("state")
    )
    rows = pl.concat(
        [_present(ledger, CLAIM_COLUMNS), _present(now, CLAIM_COLUMNS)], how="diagonal_relaxed"
    ).unique(subset=list(LINE_KEY), keep="first", maintain_order=True)
    shown = _first(rows, limit, ~pl.col("state").is_in(WITHHELD))
    ordered = _money(_present(shown, CLAIM_COLUMNS)).sort(
        "vendor_id", "month", "delivered_at", "vendor_lead_id", nulls_last=False
    )
    return ordered, rows.height


def _write_sheet(book: Any, name: str, frame: pl.DataFrame) -> None:
    frame = _inert_text(_naive_times(frame))
    formats: dict[str, str] = {}
    for column, dtype in frame.schema.items():
        if column.endswith("_rate") or column.startswith("share_"):
            formats[column] = RATE_FORMAT
        elif dtype == pl.Float64 and column in {"spend", "cpl", "pipeline", "cost_per_sql"}:
            formats[column] = MONEY_FORMAT
    frame.write_excel(
        book,
        worksheet=name,
        column_formats=formats or None,  # type: ignore[arg-type]
        dtype_formats={pl.Date: DATE_FORMAT, pl.Datetime: TIME_FORMAT},  # type: ignore[dict-item]
        float_precision=2,
        freeze_panes=(1, 0),
        autofit=frame.height <= 10_000,
        table_style=None,
        autofilter=True,
    )


def _about_sheet(book: Any, sentences: list[str]) -> None:
    _write_sheet(book, "about", pl.DataFrame({"about": sentences}, schema={"about": pl.String}))


def _left_out(
    month: str, leads: pl.DataFrame, total: int, lines: pl.DataFrame, all_lines: int, limit: int
) -> list[str]:
    """What the `about` sheet says when a sheet could not hold every row (nothing otherwise)."""
    said = []
    if leads.height < total:
        invalid = leads.filter(pl.col("status") == "invalid").height
        said += [
            f"{month} has {total:,} delivered leads; the leads sheet holds {leads.height:,} of "
            f"them, at most {limit:,}: {invalid:,} invalid leads first, then accepted leads in "
            "line order.",
            "Every lead, with its status, reasons and evidence, is in leads.parquet beside this "
            "workbook.",
        ]
    if lines.height < all_lines:
        withheld = lines.filter(pl.col("state").is_in(WITHHELD)).height
        said += [
            f"There are {all_lines:,} claim lines; the claims sheet holds {lines.height:,} of "
            f"them, at most {limit:,}: {lines.height - withheld:,} lines claimed from vendors "
            f"first, then {withheld:,} withheld (past the window or over the cap).",
            "Every claim line of this month is in claim_lines.parquet beside this workbook, and "
            "each claim's lines in its CSV under claims/.",
        ]
    return said


def write_workbook(
    path: Path,
    *,
    month: str,
    as_of: date,
    metrics: pl.DataFrame,
    leads: pl.DataFrame | pl.LazyFrame,
    lines: pl.DataFrame,
    ledger: pl.DataFrame,
    currency: dict[str, str],
    lead_rows: int = LEAD_ROWS,
) -> Path:
    """Write the workbook at `path` (a staging folder: publishing makes it visible)."""
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    book.set_properties(
        {"title": f"Vendor scorecards {month}", "created": datetime.combine(as_of, time())}
    )
    shown, month_leads = leads_sheet(leads, month, lead_rows)
    claimed, all_lines = claims_sheet(lines, ledger, lead_rows)
    _write_sheet(book, "metrics", metrics_sheet(metrics, currency))
    _write_sheet(book, "leads", shown)
    _write_sheet(book, "claims", claimed)
    said = _left_out(month, shown, month_leads, claimed, all_lines, lead_rows)
    if said:
        _about_sheet(book, said)
    book.close()
    return path
