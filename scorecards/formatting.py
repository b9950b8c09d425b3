"""The one place numbers become text.

Frames hold exact values (integer cents, unrounded Float64 rates); every document shows them
through these functions, so a figure is rounded once, the same way, everywhere. Null (and NaN)
means "no value" and is shown as an em dash, never as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

NO_VALUE = "—"

# Symbol placed before the amount; other currencies are written "1,234.00 CHF".
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Status words of docs/DESIGN.md -> (label shown, CSS class carrying the colour).
STATUS_LABELS = {
    "pass": ("pass", "pass"),
    "at_risk": ("at risk", "at-risk"),
    "breach": ("breach", "breach"),
    "breach (follow-up gap)": ("breach (follow-up gap)", "breach-gap"),
    "provisional": ("provisional", "provisional"),
    "no_data": ("no data", "no-data"),
}

VERDICT_CLASSES = {
    "on track": "on-track",
    "review": "review",
    "replace": "replace",
    "no deliveries received": "no-data",
}

METRIC_LABELS = {
    "fill_rate": "Fill rate",
    "invalid_rate": "Invalid rate",
    "sql_rate": "SQL rate",
    "sal_rate": "SAL rate",
    "cost_per_sql": "Cost per SQL",
    "pipeline_per_dollar": "Pipeline per $1",
}

# Metrics shown as money (currency units, Float64); every other threshold metric is a rate.
MONEY_METRICS = frozenset({"cost_per_sql"})


def is_missing(value: object) -> bool:
    """Null or NaN: the frame has no value here."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _round(value: float | int | Decimal, places: int) -> Decimal:
    """Half-up rounding on the decimal text of the value, so 0.1235 shows as 12.4%, not 12.3%."""
    exponent = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP)


def _group(digits: Decimal, places: int) -> str:
    return f"{digits:,.{places}f}"


def _with_currency(amount: Decimal, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    text = _group(abs(amount), 2)
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    if symbol is None:
        return f"{sign}{text} {currency.upper()}"
    return f"{sign}{symbol}{text}"


def money(cents: int | None, currency: str = "USD") -> str:
    """Integer cents as money: 1234500 -> "$12,345.00"; no float ever touches the amount."""
    if is_missing(cents):
        return NO_VALUE
    assert cents is not None
    return _with_currency(Decimal(int(cents)).scaleb(-2), currency)


def money_iso(cents: int | None, currency: str = "USD") -> str:
    """Integer cents with the ISO code in front, for letters that cross borders:
    1234500, "USD" -> "USD 12,345.00" (the code is never left to a symbol alone)."""
    if is_missing(cents):
        return NO_VALUE
    assert cents is not None
    amount = Decimal(int(cents)).scaleb(-2)
    sign = "-" if amount < 0 else ""
    return f"{currency.upper()}\u00a0{sign}{_group(abs(amount), 2)}"


def money_units(value: float | None, currency: str = "USD") -> str:
    """A Float64 in currency units (cost_per_sql, limits), to the cent: 812.345 -> $812.35."""
    if is_missing(value):
        return NO_VALUE
    assert value is not None
    return _with_currency(_round(value, 2), currency)


def percent(rate: float | None, places: int = 1) -> str:
    """A rate in [0, 1] as a percent with one decimal: 0.1234 -> "12.3%"."""
    if is_missing(rate):
        return NO_VALUE
    assert rate is not None
    return f"{_round(Decimal(str(rate)) * 100, places)}%"


def ratio(value: float | None, places: int = 1) -> str:
    """A multiple: 2.6 -> "2.6×"."""
    if is_missing(value):
        return NO_VALUE
    assert value is not None
    return f"{_group(_round(value, places), places)}×"


def points_change(now: float | None, before: float | None) -> str:
    """The change of a rate in percentage points: 0.204 after 0.189 -> "+1.5 pts"."""
    if is_missing(now) or is_missing(before):
        return NO_VALUE
    assert now is not None and before is not None
    delta = _round(Decimal(str(now)) * 100 - Decimal(str(before)) * 100, 1)
    if delta == 0:
        return "no change"
    return f"{'+' if delta > 0 else '−'}{abs(delta)} pts"


def money_change(now: int | None, before: int | None, currency: str = "USD") -> str:
    """The change of an amount in cents: "+$1,200.00", "−$85.00"."""
    if is_missing(now) or is_missing(before):
        return NO_VALUE
    assert now is not None and before is not None
    return _signed(Decimal(int(now) - int(before)).scaleb(-2), currency)


def units_change(now: float | None, before: float | None, currency: str = "USD") -> str:
    """The change of an amount in currency units (cost per SQL): "−$120.40"."""
    if is_missing(now) or is_missing(before):
        return NO_VALUE
    assert now is not None and before is not None
    return _signed(_round(Decimal(str(now)) - Decimal(str(before)), 2), currency)


def _signed(delta: Decimal, currency: str) -> str:
    if delta == 0:
        return "no change"
    return f"{'+' if delta > 0 else '−'}{_with_currency(abs(delta), currency)}"


def count(value: int | float | None) -> str:
    """A count with thousands separators: 12345 -> "12,345" (a fractional count is rounded)."""
    if is_missing(value):
        return NO_VALUE
    assert value is not None
    return _group(_round(value, 0), 0)


def plural(number: int | None, word: str, many: str | None = None) -> str:
    """ "1 SQL", "2 SQLs", "0 leads": the count formatted, the word in the right number."""
    if number is None:
        return f"{NO_VALUE} {many or word + 's'}"
    return f"{count(number)} {word if number == 1 else (many or word + 's')}"


def decimal(value: float | None, places: int = 1) -> str:
    """A plain number with a fixed number of decimals (days to SQL: 23.5)."""
    if is_missing(value):
        return NO_VALUE
    assert value is not None
    return _group(_round(value, places), places)


def month(value: str | date | None) -> str:
    """A month key "2026-10" (or a date) as "Oct 2026"."""
    if value is None:
        return NO_VALUE
    if isinstance(value, date):
        year, number = value.year, value.month
    else:
        year_text, _, month_text = str(value).partition("-")
        year, number = int(year_text), int(month_text[:2])
    return f"{MONTH_NAMES[number - 1]} {year}"


def month_label_expr(column: str) -> pl.Expr:
    """The same "Oct 2026" as `month`, as a Polars expression over a "YYYY-MM" column."""
    return (
        pl.concat_str(pl.col(column), pl.lit("-01"))
        .str.to_date("%Y-%m-%d", strict=False)
        .dt.strftime("%b %Y")
    )


def day(value: date | datetime | None) -> str:
    """A date in ISO form (2026-11-05): unambiguous for every reader."""
    if value is None:
        return NO_VALUE
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def mask_email(email: str | None) -> str:
    """j***@example.com: enough to recognise a lead, not enough to contact the person.

    A malformed value never leaks: without exactly one "@" only its first character is kept.
    """
    if email is None:
        return NO_VALUE
    text = str(email).strip()
    if not text:
        return NO_VALUE
    local, at, domain = text.partition("@")
    if not at or not local or not domain or "@" in domain:
        return f"{text[0]}***"
    return f"{local[0]}***@{domain.lower()}"


def masked_email(column: str = "email") -> pl.Expr:
    """j***@example.com, as `mask_email` does for one value, as an expression."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    local = text.str.split_exact("@", 1).struct.field("field_0")
    domain = text.str.split_exact("@", 1).struct.field("field_1")
    well_formed = (
        (text.str.count_matches("@") == 1)
        & (local.str.len_chars() > 0)
        & (domain.str.len_chars() > 0)
    )
    return (
        pl.when(text.is_null() | (text == ""))
        .then(pl.lit("—"))
        .when(well_formed)
        .then(pl.concat_str(text.str.slice(0, 1), pl.lit("***@"), domain.str.to_lowercase()))
        .otherwise(pl.concat_str(text.str.slice(0, 1), pl.lit("***")))
        .alias(column)
    )


# A text cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets
# (OWASP "CSV injection"); a leading single quote makes it text.
FORMULA_STARTS = "=+-@\t\r"


def inert_text(text: pl.Expr) -> pl.Expr:
    """Text a spreadsheet will show, never evaluate: a leading quote before a formula start."""
    starts = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_STARTS) + "]"
    return pl.when(text.str.contains(starts)).then(pl.lit("'") + text).otherwise(text).name.keep()


def amount_text(cents_column: str) -> pl.Expr:
    """Cents as a plain decimal for machines, as an expression: 8500 -> "85.00"."""
    cents = pl.col(cents_column)
    units = (cents.abs() // 100).cast(pl.String)
    hundredths = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(sign, units, pl.lit("."), hundredths)


def status_label(status: str | None) -> str:
    """The word shown for a threshold status (never colour alone)."""
    if status is None:
        return STATUS_LABELS["no_data"][0]
    return STATUS_LABELS.get(status, (status, ""))[0]


def status_class(status: str | None) -> str:
    """The CSS class that colours a status."""
    if status is None:
        return STATUS_LABELS["no_data"][1]
    return STATUS_LABELS.get(status, (status, "no-data"))[1]


def verdict_class(verdict: str | None) -> str:
    return VERDICT_CLASSES.get(verdict or "", "no-data")


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())


def metric_value(metric: str, value: float | None, currency: str = "USD") -> str:
    """A threshold metric's value: money for cost_per_sql, a percent for rates."""
    if metric in MONEY_METRICS:
        return money_units(value, currency)
    return percent(value)


def limit(metric: str, bound: str, value: float | None, currency: str = "USD") -> str:
    """A contract limit with its direction: "≥ 95.0%", "≤ $900.00"."""
    sign = "≥" if bound == "min" else "≤"
    return f"{sign} {metric_value(metric, value, currency)}"


def reason_label(reason: str | None) -> str:
    """An invalid reason code as words: "outside_icp" -> "Outside ICP"."""
    if reason is None:
        return NO_VALUE
    words = reason.replace("_", " ").capitalize()
    return words.replace("icp", "ICP").replace("Icp", "ICP")


def lead_type_label(lead_type: str | None) -> str:
    """content_syndication -> "Content syndication", hql -> "HQL"."""
    if lead_type is None:
        return NO_VALUE
    if lead_type.lower() in {"hql", "bant", "mql", "sql"}:
        return lead_type.upper()
    return lead_type.replace("_", " ").capitalize()


#: Registered as Jinja filters by `scorecards.documents.render`.
FILTERS: dict[str, Callable[..., Any]] = {
    "money": money,
    "money_units": money_units,
    "money_iso": money_iso,
    "percent": percent,
    "ratio": ratio,
    "count": count,
    "plural": plural,
    "decimal": decimal,
    "month": month,
    "day": day,
    "mask_email": mask_email,
    "status_label": status_label,
    "status_class": status_class,
    "verdict_class": verdict_class,
    "metric_label": metric_label,
    "reason_label": reason_label,
    "lead_type_label": lead_type_label,
}


# What a document prints of any one value (SPEC §9, "Untrusted text stays text"). WeasyPrint's
# line breaking is quadratic in an unbroken token (0.2 s for 300 characters, 13 s for 10,000 and
# minutes for a 200,000-character company name), so one hostile field could stop the month.
# The whole value stays in leads.parquet; a document shows its start and an ellipsis.
PRINTED_CHARS = 300


def clipped(text: str, limit: int = PRINTED_CHARS) -> str:
    """`text` if it has at most `limit` characters, else its first ones and "…" (`limit` in all)."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
