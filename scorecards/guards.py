"""SPEC §9 "No official document from missing data": the refusals a run makes before it writes
anything. Pure: each takes what was read and returns nothing or raises one `UserError`."""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards.errors import UserError
from scorecards.metrics import months_between
from scorecards.readers import input_files

PREVIEW_HINT = "add --preview to look at an unfinished month without publishing it"


def month_end(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])


def check_not_future(as_of: date, today: date) -> None:
    if as_of > today:
        raise UserError(
            f"--as-of {as_of} is after today ({today}): outcomes of that day are unknown"
        )


def check_as_of(month: str, as_of: date, today: date, *, preview: bool = False) -> None:
    """An official month is judged only once it is over, and never as of a day still to come."""
    check_not_future(as_of, today)
    end = month_end(month)
    if as_of < end and not preview:
        raise UserError(
            f"--as-of {as_of} is before the end of the report month {month} ({end}): "
            f"the month is not over yet ({PREVIEW_HINT})"
        )
    if preview and as_of < date.fromisoformat(f"{month}-01"):
        raise UserError(f"--as-of {as_of} is before the report month {month} starts")


INPUT_KINDS = ("deliveries", "crm", "suppression")


def input_file_count(data: Path) -> int:
    """How many readable input files `data` holds (deliveries, CRM and suppression)."""
    return sum(len(input_files(data / kind)) for kind in INPUT_KINDS)


def check_inputs_present(files: int, data: str) -> None:
    """A data folder with no input file at all gives no document."""
    if not files:
        raise UserError(
            f"no input files in {data} (expected CSV, Parquet or XLSX files under "
            f"{data}/deliveries/, {data}/crm/ and {data}/suppression/)"
        )


def delivery_months(deliveries: pl.DataFrame) -> list[str]:
    if not deliveries.height:
        return []
    months = deliveries.select(pl.col("delivered_at").dt.strftime("%Y-%m").unique().sort())
    return [str(m) for m in months.to_series().to_list()]


def month_span(months: list[str]) -> str:
    """'2026-04 to 2026-10' (or the one month)."""
    if not months:
        return "none"
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def check_month_delivered(deliveries: pl.DataFrame, month: str, data: str) -> None:
    """A report month in which no vendor delivered anything gives no document."""
    months = delivery_months(deliveries)
    if month not in months:
        found = f"deliveries exist for {month_span(months)}" if months else "no deliveries at all"
        raise UserError(f"no deliveries for {month} in {data}/deliveries ({found})")


def check_range_delivered(
    deliveries: pl.DataFrame, first: str, last: str, data: str, vendor: str
) -> None:
    """A review over months without any delivery of the vendor gives no document: say where its
    data starts."""
    months = delivery_months(deliveries)
    if not any(first <= m <= last for m in months):
        found = f"its deliveries run from {month_span(months)}" if months else "it has none at all"
        if len(months) == 1:
            found = f"its deliveries are all in {months[0]}"
        raise UserError(
            f"no deliveries from {vendor} between {first} and {last} in {data}/deliveries ({found})"
        )


def check_contract_in_force(contracts: list[Any], first: str, last: str | None = None) -> None:
    """A month (or range) in which no contract is in force has no vendor to score."""
    from scorecards.verdicts import contracts_in_force

    last = last or first
    months = [m for m in months_between(first, last) if contracts_in_force(contracts, m)]
    if months:
        return
    span = first if first == last else f"{first} to {last}"
    terms = sorted(c.term.start for c in contracts)
    ends = sorted(c.term.end for c in contracts)
    covered = f" (contracts run from {terms[0]} to {ends[-1]})" if terms else ""
    raise UserError(f"no contract is in force in {span}{covered}")
