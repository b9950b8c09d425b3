"""Where the pipeline and the DuckDB implementation disagree, cell by cell, in sentences."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from scorecards.metrics import COUNTS, MONEY

KEYS = ["vendor_id", "contract_id", "program_id", "month"]
# Counts and money must agree exactly; the derived rates follow from them.
PARITY_COLUMNS = [*COUNTS, "accounts", "accounts_with_sql", *MONEY]
HEADLINE_COLUMNS = ["delivered", "invalid", "accepted", "sql", "spend_cents"]


def _program_grain(frame: pl.DataFrame, months: pl.Series | None = None) -> pl.DataFrame:
    """Program rows only, of the given months (the pipeline also computes the trend months)."""
    if "grain" in frame.columns:
        frame = frame.filter(pl.col("grain") == "program")
    if months is not None:
        frame = frame.filter(pl.col("month").is_in(months.implode()))
    return frame


def disagreements(
    pipeline: pl.DataFrame, duckdb: pl.DataFrame, columns: list[str] | None = None
) -> list[str]:
    """One sentence per program-month or cell where the two engines differ; [] when they agree."""
    wanted = [c for c in (columns or PARITY_COLUMNS) if c in pipeline.columns]
    problems = [
        f"the pipeline has no column {c}" for c in (columns or PARITY_COLUMNS) if c not in wanted
    ]
    months = duckdb.get_column("month").unique()
    left = _program_grain(pipeline, months).select(*KEYS, *wanted, in_pipeline=pl.lit(True))
    right = _program_grain(duckdb).select(*KEYS, *wanted, in_duckdb=pl.lit(True))
    joined = left.join(right, on=KEYS, how="full", coalesce=True, suffix="_duckdb")
    for side, name in (("in_duckdb", "the pipeline"), ("in_pipeline", "DuckDB")):
        for row in joined.filter(pl.col(side).is_null()).select(KEYS).iter_rows():
            problems.append(f"only {name} has program-month {'/'.join(map(str, row))}")
    both = joined.filter(pl.col("in_pipeline") & pl.col("in_duckdb"))
    for column in wanted:
        differing = both.filter(pl.col(column).ne_missing(pl.col(f"{column}_duckdb")))
        for row in differing.select(*KEYS, column, f"{column}_duckdb").iter_rows():
            key = "/".join(map(str, row[:4]))
            problems.append(f"{key} {column}: pipeline {row[4]}, DuckDB {row[5]}")
    return problems


def totals(
    frame: pl.DataFrame, month: str, columns: list[str] = HEADLINE_COLUMNS
) -> dict[str, int]:
    """Program-grain sums of the month's headline counts, for the printed comparison."""
    present = [c for c in columns if c in frame.columns]
    rows = _program_grain(frame, pl.Series([month]))
    return rows.select(pl.col(present).sum()).row(0, named=True)


def default_month_and_as_of(
    deliveries_parquet: Path, sql_window_days: int = 90
) -> tuple[str, date]:
    """The month holding most deliveries, judged as of its last day plus the SQL window (mature)."""
    month = (
        pl.scan_parquet(deliveries_parquet)
        .group_by(month=pl.col("delivered_at").dt.strftime("%Y-%m"))
        .agg(pl.len())
        .sort("len", "month", descending=[True, False])
        .collect()
        .item(0, "month")
    )
    year, number = map(int, month.split("-"))
    last_day = date(year, number, monthrange(year, number)[1])
    return month, last_day + timedelta(days=sql_window_days)
