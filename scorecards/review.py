"""The ad-hoc review of one vendor over a range of months (SPEC §8 `review`).

A demand-gen lead asks "what is going on with this vendor since May?". Everything here is read
from one month's frames (`MonthResult`: metrics, threshold history) and the claims ledger; the
range's totals and follow-up diagnostic are the vendor rows' counts and money summed over the
months and passed through `metrics.with_rates`, never averaged rates. Statuses are the threshold
history's (one source of truth, `verdicts.status_expr`), and the recommendation applies SPEC §5's
verdict rules to the range's last month: upstream thresholds on that month, downstream ones on
the latest mature month of the range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import polars as pl

from scorecards import formatting as fmt
from scorecards.errors import UserError
from scorecards.metrics import COUNTS, MONEY, months_between, with_rates
from scorecards.pipeline import MonthResult
from scorecards.verdicts import (
    REPLACE_METRICS,
    months_phrase,
    replace_reason,
    replace_runs,
    status_expr,
    threshold_frame,
)

Recommendation = Literal["replace", "review", "keep"]

# The vendor-grain figures shown month by month (docs/DESIGN.md metrics columns).
MONTHLY_COLUMNS = [
    "month",
    "ordered",
    "delivered",
    "invalid",
    "accepted",
    "billable",
    "sql",
    "opportunities",
    "spend_cents",
    "invoiced_risk_cents",
    "pipeline_cents",
    "fill_rate",
    "invalid_rate",
    "sql_rate",
    "cost_per_sql",
    "pipeline_per_dollar",
    "sql_window_days",
    "mature",
    "execution_limited",
]
THRESHOLD_ORDER = ("fill_rate", "invalid_rate", "sql_rate", "cost_per_sql")

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class ClaimsFiled:
    """Replacement claims filed for leads delivered in the range (from the ledger)."""

    claims: int
    lines: int
    value_cents: int
    # grain: claim — claim_id, claimed_on, first_month, last_month, lines, value_cents
    by_claim: pl.DataFrame
    # what the range's invalid leads were worth at their CPL (the metrics' invoiced risk)
    invalid_leads: int
    invalid_value_cents: int


@dataclass(frozen=True)
class VendorReview:
    """Everything the review document shows, unformatted (evidently's metric/renderer split)."""

    vendor_id: str
    vendor_name: str
    contract_ids: tuple[str, ...]
    currency: str
    first: str
    last: str
    months: tuple[str, ...]
    as_of: date
    run_id: str
    # the latest month of the range whose SQL window has closed: downstream thresholds' month
    judged_month: str | None
    # grain: month — MONTHLY_COLUMNS, vendor grain, every month of the range
    monthly: pl.DataFrame
    # the range's counts and money summed, rates derived from the sums (with_rates)
    totals: dict[str, Any]
    # the same over the mature months only (None when no month of the range is mature)
    mature_totals: dict[str, Any] | None
    # grain: threshold × month — metric, bound, limit, kind, month, value, status, early_status
    thresholds: pl.DataFrame
    # grain: threshold — months by status, longest and current run of consecutive breaches
    runs: pl.DataFrame
    claims: ClaimsFiled
    # execution-limited months of the range (the diagnostic's figures are in `totals`)
    execution_limited_months: tuple[str, ...]
    recommendation: Recommendation
    reasons: tuple[str, ...]
    # "review" only because of follow-up gaps: the conversation is with sales, not the vendor
    follow_up_gap_only: bool


def vendor_review(
    result: MonthResult, ledger: pl.DataFrame, vendor_id: str, first: str, last: str
) -> VendorReview:
    """The review of `vendor_id` over the months `first`..`last` (both "YYYY-MM", inclusive)."""
    contracts = [c for c in result.portfolio.contracts if c.vendor.id == vendor_id]
    _check_request(result, vendor_id, first, last, bool(contracts))
    months = months_between(first, last)
    in_range = sorted(
        (c for c in contracts if _overlaps(c.term.start, c.term.end, first, last)),
        key=lambda c: c.term.start,
    ) or sorted(contracts, key=lambda c: c.term.start)
    latest = in_range[-1]
    currencies = sorted({c.currency for c in in_range})
    if len(currencies) > 1:  # SPEC §4: the range's totals would sum money across currencies
        raise UserError(
            f"vendor '{vendor_id}' has contracts in {' and '.join(currencies)} between {first} "
            f"and {last}: money is never summed across currencies, so review the months of one "
            "contract at a time.",
            field="--from",
        )

    vendor_rows = result.metrics.filter(
        pl.col("grain") == "vendor", pl.col("vendor_id") == vendor_id
    )
    monthly = _monthly(vendor_rows, months)
    totals = _totals(vendor_rows.filter(pl.col("month").is_in(months)), result.as_of)
    mature_rows = vendor_rows.filter(pl.col("month").is_in(months), pl.col("mature"))
    judged_month = mature_rows["month"].max() if mature_rows.height else None
    contract_thresholds = threshold_frame(contracts)
    thresholds = _threshold_grid(
        result.history, vendor_rows, contract_thresholds, vendor_id, months
    )
    runs = _breach_runs(thresholds, contract_thresholds)
    replacing = _replace_reasons(result.history, contract_thresholds, judged_month, contracts)
    recommendation, reasons, follow_up_gap_only = _recommendation(
        runs,
        thresholds,
        last,
        str(judged_month) if judged_month else None,
        latest.currency,
        replacing,
    )
    return VendorReview(
        vendor_id=vendor_id,
        vendor_name=latest.vendor.name,
        contract_ids=tuple(c.contract_id for c in in_range),
        currency=latest.currency,
        first=first,
        last=last,
        months=tuple(months),
        as_of=result.as_of,
        run_id=result.run_id,
        judged_month=str(judged_month) if judged_month else None,
        monthly=monthly,
        totals=totals,
        mature_totals=_totals(mature_rows, result.as_of) if mature_rows.height else None,
        thresholds=thresholds,
        runs=runs,
        claims=_claims_filed(ledger, vendor_id, months, totals),
        execution_limited_months=tuple(
            monthly.filter(pl.col("execution_limited").fill_null(False))["month"].to_list()
        ),
        recommendation=recommendation,
        reasons=tuple(reasons),
        follow_up_gap_only=follow_up_gap_only,
    )


# --- the request ------------------------------------------------------------------------------


def _overlaps(start: date, end: date, first: str, last: str) -> bool:
    return start.strftime("%Y-%m") <= last and end.strftime("%Y-%m") >= first


def _check_request(result: MonthResult, vendor_id: str, first: str, last: str, known: bool) -> None:
    """One sentence a demand-gen lead can act on, for each way the request can be wrong."""
    for name, value in (("--from", first), ("--to", last)):
        if not _MONTH.fullmatch(value):
            raise UserError(f"{name} must be a month written YYYY-MM (got '{value}').", field=name)
    if not known:
        names = ", ".join(result.portfolio.vendor_ids) or "none"
        raise UserError(
            f"unknown vendor '{vendor_id}'; the contracts name these vendors: {names}.",
            field="vendor",
        )
    if first > last:
        raise UserError(
            f"the range starts after it ends: --from {first} is later than --to {last}.",
            field="--from",
        )
    span = result.metrics.filter(pl.col("grain") == "vendor", pl.col("vendor_id") == vendor_id)
    if span.is_empty():
        raise UserError(
            f"vendor '{vendor_id}' has no data up to {fmt.month(result.month)}.", field="vendor"
        )
    data_first, data_last = str(span["month"].min()), str(span["month"].max())
    if first < data_first or last > data_last:
        raise UserError(
            f"the range {first} to {last} is outside the data for '{vendor_id}', which runs "
            f"from {data_first} to {data_last}.",
            field="--from" if first < data_first else "--to",
        )


# --- figures ----------------------------------------------------------------------------------


def _monthly(vendor_rows: pl.DataFrame, months: list[str]) -> pl.DataFrame:
    """Every month of the range, a month without a vendor row shown as no value."""
    calendar = pl.DataFrame({"month": months}, schema={"month": pl.String})
    return calendar.join(vendor_rows, on="month", how="left").select(MONTHLY_COLUMNS).sort("month")


def _totals(rows: pl.DataFrame, as_of: date) -> dict[str, Any]:
    """Counts and money summed over `rows`, every rate derived from the sums (SPEC §4)."""
    summed = rows.select(
        *[pl.col(c).sum() for c in [*COUNTS, *MONEY]],
        pl.col("sql_window_days").max(),
        pl.len().cast(pl.Int64).alias("months"),
    )
    mature = pl.lit(bool(rows["mature"].all()) if rows.height else False)
    return with_rates(summed, as_of, mature=mature).row(0, named=True)


def _threshold_grid(
    history: pl.DataFrame,
    vendor_rows: pl.DataFrame,
    contract_thresholds: pl.DataFrame,
    vendor_id: str,
    months: list[str],
) -> pl.DataFrame:
    """Threshold × month over the range. A month outside every contract term is `no_data`; a
    month two contracts share is judged under the later one (as the monthly verdict does).

    `early_status` is what a provisional month's figure would be judged if its window had
    closed (the same `status_expr`): an early signal, never counted."""
    starts = contract_thresholds.select("contract_id", "term_start").unique()
    mine = (
        history.filter(pl.col("vendor_id") == vendor_id, pl.col("month").is_in(months))
        .join(starts, on="contract_id", how="left")
        .sort("metric", "month", "term_start")
        .unique(["metric", "month"], keep="last", maintain_order=True)
        .drop("term_start")
    )
    limits = (
        mine.sort("month")
        .group_by("metric")
        .agg(pl.col("bound").last(), pl.col("limit").last(), pl.col("kind").last())
    )
    calendar = pl.DataFrame({"month": months}, schema={"month": pl.String})
    grid = (
        limits.join(calendar, how="cross")
        .join(
            mine.drop("bound", "kind").rename({"limit": "month_limit"}),
            on=["metric", "month"],
            how="left",
        )
        .with_columns(
            pl.coalesce("month_limit", "limit").alias("limit"),
            pl.col("status").fill_null("no_data"),
        )
        .drop("month_limit")
    )
    # the evidence `status_expr` reads; a history written before it was kept judges the point value
    evidence = {
        "spend_cents": pl.Int64,
        "accepted": pl.Int64,
        "sql_rate_hi": pl.Float64,
        "evidence_z": pl.Float64,
        "under_worked": pl.Boolean,
        "failing": pl.Boolean,
    }
    grid = grid.with_columns(
        pl.lit(None, dtype).alias(column)
        for column, dtype in evidence.items()
        if column not in grid.columns
    )
    early = grid.with_columns(pl.lit(True).alias("mature")).select(status_expr()).to_series()
    order = {metric: i for i, metric in enumerate(THRESHOLD_ORDER)}
    return (
        grid.with_columns(
            pl.when(pl.col("status") == "provisional").then(early).alias("early_status")
        )
        .select(
            "metric",
            "bound",
            "limit",
            "kind",
            "contract_id",
            "month",
            "value",
            "mature",
            "execution_limited",
            "accepted",
            "failing",
            "status",
            "early_status",
        )
        .sort(
            pl.col("metric").replace_strict(order, default=len(order), return_dtype=pl.Int64),
            "metric",
            "month",
        )
    )


def _months_with(status: pl.Expr) -> pl.Expr:
    return pl.col("month").filter(status).sort()


def _breach_runs(grid: pl.DataFrame, contract_thresholds: pl.DataFrame) -> pl.DataFrame:
    """Grain: threshold. Consecutive breaches count only `breach` in judged months (a follow-up
    gap does not count toward escalation, SPEC §5); provisional months are not judged yet, so
    the current run is the one ending at the threshold's latest judged month."""
    judged = grid.filter(pl.col("status") != "provisional").sort("metric", "month")
    breach = pl.col("status") == "breach"
    runs = (
        judged.with_columns(
            breach.alias("_breach"),
            (breach != breach.shift(1)).fill_null(True).cum_sum().over("metric").alias("_run"),
        )
        .group_by("metric", "_run")
        .agg(
            pl.col("_breach").first(),
            pl.len().cast(pl.Int64).alias("length"),
            pl.col("month").first().alias("run_from"),
            pl.col("month").last().alias("run_to"),
        )
    )
    breach_runs = runs.filter(pl.col("_breach"))
    longest = (
        breach_runs.sort("length", "run_to", descending=True)
        .group_by("metric", maintain_order=True)
        .first()
        .select(
            "metric",
            pl.col("length").alias("longest_run"),
            pl.col("run_from").alias("longest_from"),
            pl.col("run_to").alias("longest_to"),
        )
    )
    last_judged = judged.group_by("metric").agg(
        pl.col("month").max().alias("last_judged"),
        pl.col("contract_id").sort_by("month").drop_nulls().last().alias("contract_id"),
    )
    current = breach_runs.select(
        "metric",
        pl.col("run_to").alias("last_judged"),
        pl.col("length").alias("current_run"),
        pl.col("run_from").alias("current_from"),
    )
    escalation = contract_thresholds.select(
        "contract_id", "metric", pl.col("consecutive_breaches").alias("escalation_at")
    ).unique()
    months = grid.group_by("metric", maintain_order=True).agg(
        pl.col("bound").first(),
        pl.col("limit").last(),
        pl.col("kind").first(),
        _months_with(pl.col("status") == "breach").alias("breach_months"),
        _months_with(pl.col("status") == "breach (follow-up gap)").alias("gap_months"),
        _months_with(pl.col("status") == "at_risk").alias("at_risk_months"),
        _months_with(pl.col("early_status") == "breach").alias("early_breach_months"),
        _months_with(pl.col("early_status") == "breach (follow-up gap)").alias("early_gap_months"),
    )
    return (
        months.join(last_judged, on="metric", how="left")
        .join(longest, on="metric", how="left")
        .join(current, on=["metric", "last_judged"], how="left")
        .join(escalation, on=["contract_id", "metric"], how="left")
        .with_columns(pl.col("longest_run", "current_run").fill_null(0))
        .select(
            "metric",
            "bound",
            "limit",
            "kind",
            "breach_months",
            "gap_months",
            "at_risk_months",
            "early_breach_months",
            "early_gap_months",
            "longest_run",
            "longest_from",
            "longest_to",
            "current_run",
            "current_from",
            "last_judged",
            "escalation_at",
        )
    )


def _claims_filed(
    ledger: pl.DataFrame, vendor_id: str, months: list[str], totals: dict[str, Any]
) -> ClaimsFiled:
    """Ledger lines for leads delivered in the range, by claim."""
    lines = ledger.filter(pl.col("vendor_id") == vendor_id, pl.col("month").is_in(months))
    by_claim = (
        lines.group_by("claim_id")
        .agg(
            pl.col("claimed_on").min(),
            pl.col("month").min().alias("first_month"),
            pl.col("month").max().alias("last_month"),
            pl.len().cast(pl.Int64).alias("lines"),
            pl.col("cpl_cents").sum().cast(pl.Int64).alias("value_cents"),
        )
        .sort("claimed_on", "claim_id")
    )
    return ClaimsFiled(
        claims=by_claim.height,
        lines=lines.height,
        value_cents=int(lines["cpl_cents"].sum() or 0),
        by_claim=by_claim,
        invalid_leads=int(totals.get("invalid") or 0),
        invalid_value_cents=int(totals.get("invoiced_risk_cents") or 0),
    )


# --- recommendation ---------------------------------------------------------------------------


def _against(row: dict[str, Any], currency: str) -> str:
    """ "below its 12.0% minimum" / "above its $900.00 maximum"."""
    limit = fmt.metric_value(row["metric"], row["limit"], currency)
    return f"below its {limit} minimum" if row["bound"] == "min" else f"above its {limit} maximum"


def _value_in(grid: pl.DataFrame, metric: str, month: str, currency: str) -> str:
    value = grid.filter(pl.col("metric") == metric, pl.col("month") == month)["value"].item()
    if value is None and metric == "cost_per_sql":
        return "spend without any SQL"
    return fmt.metric_value(metric, value, currency)


def _replace_reasons(
    history: pl.DataFrame,
    contract_thresholds: pl.DataFrame,
    judged_month: object,
    contracts: list[Any],
) -> dict[str, str]:
    """metric -> the `replace` reason, by the monthly verdict's own rule (`verdicts.replace_runs`:
    failing side in each of the last N mature months, follow-up not to blame, conclusive pooled),
    judged on the range's latest mature month."""
    if judged_month is None:
        return {}
    judged = str(judged_month)
    in_force = (
        contract_thresholds.filter(
            pl.col("metric").is_in(REPLACE_METRICS),
            pl.col("term_start").dt.strftime("%Y-%m") <= judged,
        )
        .sort("term_start")
        .unique("metric", keep="last", maintain_order=True)
        .with_columns(pl.lit(judged).alias("judged_month"))
    )
    found = replace_runs(history, in_force, contracts)
    by_id = {c.contract_id: c for c in contracts}
    contract_ids = dict(zip(in_force["metric"], in_force["contract_id"], strict=True))
    return {
        run["metric"]: replace_reason(run, by_id[contract_ids[run["metric"]]])
        for run in found.to_dicts()  # two thresholds at most
    }


def _recommendation(
    runs: pl.DataFrame,
    grid: pl.DataFrame,
    last: str,
    judged_month: str | None,
    currency: str,
    replacing: dict[str, str] | None = None,
) -> tuple[Recommendation, list[str], bool]:
    """SPEC §5 on the range's last month, and the reasons in plain words, worst first."""
    replacing = replacing or {}
    replace: list[str] = []
    blamed: list[str] = []
    gaps: list[str] = []
    earlier: list[str] = []
    signals: list[str] = []
    cautions: list[str] = []
    for row in runs.to_dicts():  # one row per contract threshold: a handful
        label = fmt.metric_label(row["metric"])
        against = _against(row, currency)
        judged_at = judged_month if row["kind"] == "downstream" else last
        status_then = grid.filter(pl.col("metric") == row["metric"], pl.col("month") == judged_at)
        status = status_then["status"].item() if status_then.height else None
        escalation = row["escalation_at"]
        escalating = row["metric"] in replacing
        run_months = (
            months_between(row["current_from"], row["last_judged"])
            if escalating and row["current_from"] and row["last_judged"]
            else []
        )
        if escalating:
            replace.append(
                f"{replacing[row['metric']]} The contract escalates after {escalation} such months."
            )
        elif status == "breach":
            blamed.append(
                f"{label} {against} in {fmt.month(judged_at)} "
                f"({_value_in(grid, row['metric'], str(judged_at), currency)})."
            )
        elif status == "breach (follow-up gap)":
            gaps.append(
                f"{label} {against} in {fmt.month(judged_at)}, but leads worked 4+ times "
                "converted at least twice as well as leads worked once: a follow-up gap in "
                "sales, not counted against the vendor."
            )
        counted = set(run_months) | {judged_at}
        past_breaches = sorted(set(row["breach_months"]) - counted)
        past_gaps = sorted(set(row["gap_months"]) - counted)
        since = " and within it since" if status in ("pass", "at_risk") else ""
        if past_breaches:
            earlier.append(f"{label} was {against} in {months_phrase(past_breaches)}{since}.")
        if past_gaps:
            earlier.append(
                f"{label} was {against} in {months_phrase(past_gaps)}: a follow-up gap in "
                "sales, not counted against the vendor."
            )
        early = sorted(row["early_breach_months"] + row["early_gap_months"])
        if early:
            gap_note = (
                f" ({months_phrase(row['early_gap_months'])} so far a follow-up gap in sales)"
                if row["early_gap_months"] and row["early_breach_months"]
                else ", so far a follow-up gap in sales"
                if row["early_gap_months"]
                else ""
            )
            signals.append(
                f"Early signal: {label} is {against} in {months_phrase(early)}{gap_note}; "
                "not judged until the SQL window of those months closes."
            )
        failing = grid.filter(pl.col("metric") == row["metric"], pl.col("month") == judged_at)
        if status == "at_risk" and failing.height and failing["failing"].fill_null(False).item():
            leads = failing["accepted"].item()
            cautions.append(
                f"{label} at risk in {fmt.month(judged_at)}: "
                f"{_value_in(grid, row['metric'], str(judged_at), currency)} is {against} "
                f"on {fmt.plural(leads, 'lead')}: not conclusive, so not a breach."
            )
        elif status == "at_risk":
            cautions.append(
                f"{label} at risk in {fmt.month(judged_at)}: "
                f"{_value_in(grid, row['metric'], str(judged_at), currency)} is within 10% of "
                f"its {fmt.metric_value(row['metric'], row['limit'], currency)} "
                f"{'minimum' if row['bound'] == 'min' else 'maximum'}."
            )
    verdict: Recommendation = "replace" if replace else "review" if blamed or gaps else "keep"
    reasons = [*replace, *blamed, *gaps, *earlier, *cautions, *signals]
    if not reasons:
        reasons = ["Every threshold passed in every judged month of the range."]
    if judged_month is None:
        reasons.append(
            "No month of the range is mature yet: SQL rate and cost per SQL are not judged."
        )
    return verdict, reasons, verdict == "review" and not blamed


__all__ = ["ClaimsFiled", "Recommendation", "VendorReview", "months_phrase", "vendor_review"]
