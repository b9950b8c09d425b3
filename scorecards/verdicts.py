"""Judging each vendor against its contract's thresholds (SPEC §5).

`threshold_history` gives every threshold's status in every vendor-month — the one place a
status is decided. The report's statuses and the verdict are read from it: upstream thresholds
on the report month, downstream ones on the latest mature month.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from scorecards import formatting
from scorecards.metrics import months_between

DOWNSTREAM = ("sql_rate", "cost_per_sql", "sal_rate", "pipeline_per_dollar")
BREACHES = ("breach", "breach (follow-up gap)")
# SPEC §5: only these downstream thresholds, breached month after month, call for a replacement.
REPLACE_METRICS = ("sql_rate", "cost_per_sql")
AT_RISK_BAND = 0.10  # SPEC §5: within 10% of the limit, on the passing side

_THRESHOLD_SCHEMA = {
    "vendor_id": pl.String,
    "vendor_name": pl.String,
    "contract_id": pl.String,
    "metric": pl.String,
    "bound": pl.String,
    "limit": pl.Float64,
    "kind": pl.String,
    "consecutive_breaches": pl.Int64,
    "term_start": pl.Date,
    "term_end": pl.Date,
}


def threshold_frame(contracts: list[Any]) -> pl.DataFrame:
    """One row per contract × threshold."""
    rows = [
        {
            "vendor_id": c.vendor.id,
            "vendor_name": c.vendor.name,
            "contract_id": c.contract_id,
            "metric": metric,
            "bound": bound.kind,
            "limit": float(bound.limit),
            "kind": "downstream" if metric in DOWNSTREAM else "upstream",
            "consecutive_breaches": c.escalation.consecutive_breaches,
            "term_start": c.term.start,
            "term_end": c.term.end,
        }
        for c in contracts
        for metric, bound in sorted(c.thresholds.items())
    ]
    return pl.DataFrame(rows, schema=_THRESHOLD_SCHEMA)


def status_expr() -> pl.Expr:
    """pass / at_risk / breach / provisional / no_data for `value` against `bound` and `limit`.

    SPEC §4: cost per SQL has no value when there is no SQL, yet a `max` on it is then a breach
    whenever money was spent."""
    value, limit = pl.col("value"), pl.col("limit")
    # The band's edges as the contract's decimals give them: 1.1 × 0.1 is 0.11, not the float
    # 0.11000000000000001 that would put a value of exactly 0.11 inside the band.
    min_edge = ((1 + AT_RISK_BAND) * limit).round_sig_figs(12)
    max_edge = ((1 - AT_RISK_BAND) * limit).round_sig_figs(12)
    is_min = pl.col("bound") == "min"
    spent_without_sql = (
        (pl.col("metric") == "cost_per_sql") & ~is_min & (pl.col("spend_cents").fill_null(0) > 0)
    )
    judged = (
        pl.when(value.is_null() & spent_without_sql)
        .then(pl.lit("breach"))
        .when(value.is_null())
        .then(pl.lit("no_data"))
        .when(is_min & (value < limit))
        .then(pl.lit("breach"))
        .when(~is_min & (value > limit))
        .then(pl.lit("breach"))
        .when(is_min & (value < min_edge))
        .then(pl.lit("at_risk"))
        .when(~is_min & (value > max_edge))
        .then(pl.lit("at_risk"))
        .otherwise(pl.lit("pass"))
    )
    downstream = pl.col("kind") == "downstream"
    return (
        pl.when(downstream & ~pl.col("mature").fill_null(False))
        .then(pl.lit("provisional"))
        .when(downstream & (judged == "breach") & pl.col("execution_limited").fill_null(False))
        .then(pl.lit("breach (follow-up gap)"))
        .otherwise(judged)
    )


def threshold_history(
    metrics: pl.DataFrame, contracts: list[Any], months: list[str]
) -> pl.DataFrame:
    """Grain: vendor × threshold × month (each month in `months` the vendor's contract covers)."""
    calendar = pl.DataFrame({"month": months}, schema={"month": pl.String}).with_columns(
        pl.col("month").str.to_date("%Y-%m").alias("_start")
    )
    vendor_rows = metrics.filter(pl.col("grain") == "vendor")
    values = vendor_rows.unpivot(
        index=["vendor_id", "month"],
        on=sorted({m for c in contracts for m in c.thresholds}) or ["sql_rate"],
        variable_name="metric",
        value_name="value",
    )
    facts = vendor_rows.select("vendor_id", "month", "spend_cents", "mature", "execution_limited")
    return (
        threshold_frame(contracts)
        .join(calendar, how="cross")
        .filter(
            (pl.col("term_start") <= pl.col("_start").dt.month_end())
            & (pl.col("term_end") >= pl.col("_start"))
        )
        .join(values, on=["vendor_id", "month", "metric"], how="left")
        .join(facts, on=["vendor_id", "month"], how="left")
        .with_columns(status_expr().alias("status"))
        .select(
            "vendor_id",
            "contract_id",
            "metric",
            "bound",
            "limit",
            "kind",
            "month",
            "value",
            "mature",
            "execution_limited",
            "status",
        )
        .sort("vendor_id", "metric", "month")
    )


def latest_mature_month(report_month: str, window_days: int, as_of: date) -> str | None:
    """The latest month up to the report month whose SQL window has closed by `as_of`."""
    for month in reversed(months_between("2000-01", report_month)):
        month_end = pl.Series([f"{month}-01"]).str.to_date().dt.month_end().item()
        if (as_of - month_end).days >= window_days:
            return month
    return None


def contracts_in_force(contracts: list[Any], report_month: str) -> list[Any]:
    """Per vendor, the contract its report month is judged under: the one whose term covers
    the month — when one contract ends and the next starts within it, the later one."""
    chosen: dict[str, Any] = {}
    for c in sorted(contracts, key=lambda c: c.term.start):
        if c.term.start.strftime("%Y-%m") <= report_month <= c.term.end.strftime("%Y-%m"):
            chosen[c.vendor.id] = c
    return [chosen[vendor] for vendor in sorted(chosen)]


def threshold_statuses(
    history: pl.DataFrame, contracts: list[Any], report_month: str, as_of: date
) -> pl.DataFrame:
    """Grain: vendor × threshold for the report: the judged month and status, and the report
    month's own (provisional) figure beside each downstream one."""
    in_force = contracts_in_force(contracts, report_month)
    judged_months = pl.DataFrame(
        [
            {
                "contract_id": c.contract_id,
                "latest_mature_month": latest_mature_month(report_month, c.sql_window_days, as_of),
            }
            for c in in_force
        ],
        schema={"contract_id": pl.String, "latest_mature_month": pl.String},
    )
    thresholds = threshold_frame(in_force)
    keys = ["vendor_id", "metric"]
    at_report = history.filter(pl.col("month") == report_month).select(
        *keys,
        "contract_id",
        pl.col("value").alias("report_value"),
        pl.col("status").alias("report_status"),
    )
    judged = (
        thresholds.join(judged_months, on="contract_id", how="left")
        .with_columns(
            pl.when(pl.col("kind") == "downstream")
            .then(pl.col("latest_mature_month"))
            .otherwise(pl.lit(report_month))
            .alias("judged_month")
        )
        .join(
            history.select(
                *keys,
                pl.col("contract_id").alias("_judged_under"),
                pl.col("month").alias("judged_month"),
                "value",
                "status",
            ),
            on=[*keys, "judged_month"],
            how="left",
        )
        # a judged month split between two contracts: its status under this one; a month
        # before this contract began: under the contract it was delivered under
        .sort(pl.col("_judged_under") != pl.col("contract_id"), nulls_last=True)
        .unique(keys, keep="first", maintain_order=True)
        .join(at_report, on=[*keys, "contract_id"], how="left")
    )
    return judged.select(
        "vendor_id",
        "contract_id",
        "metric",
        "bound",
        "limit",
        "kind",
        "judged_month",
        "value",
        pl.col("status").fill_null("no_data"),
        pl.lit(report_month).alias("report_month"),
        "report_value",
        pl.col("report_status").fill_null("no_data"),
        "consecutive_breaches",
    ).sort("vendor_id", "kind", "metric", descending=[False, True, False])


def _replace_runs(history: pl.DataFrame, statuses: pl.DataFrame) -> pl.DataFrame:
    """Downstream thresholds breached (not execution-limited) in each of the last N mature months
    up to the latest mature month: vendor_id, metric, the months."""
    windows = statuses.filter(
        pl.col("metric").is_in(REPLACE_METRICS), pl.col("judged_month").is_not_null()
    )
    rows = []
    for row in windows.iter_rows(named=True):  # a dozen vendors × two thresholds: not row data
        n = int(row["consecutive_breaches"])
        last = row["judged_month"]
        first = (
            pl.Series([f"{last}-01"])
            .str.to_date()
            .dt.offset_by(f"-{n - 1}mo")
            .dt.strftime("%Y-%m")
            .item()
        )
        months = months_between(first, last)
        seen = history.filter(
            pl.col("vendor_id") == row["vendor_id"],
            pl.col("metric") == row["metric"],
            pl.col("month").is_in(months),
            pl.col("status") == "breach",
        )
        # months, not rows: a month split between two contracts is judged under each of them
        if seen["month"].n_unique() == n:
            rows.append({"vendor_id": row["vendor_id"], "metric": row["metric"], "months": months})
    return pl.DataFrame(
        rows, schema={"vendor_id": pl.String, "metric": pl.String, "months": pl.List(pl.String)}
    )


def _describe(row: dict[str, Any], currency: str) -> str:
    value = formatting.metric_value(row["metric"], row["value"], currency)
    limit = formatting.metric_value(row["metric"], row["limit"], currency)
    bound = "minimum" if row["bound"] == "min" else "maximum"
    label = formatting.metric_label(row["metric"])
    if row["value"] is None:
        value = "no value (spend without any SQL)"
    gap = " — a follow-up gap, not counted toward escalation" if row["status"] != "breach" else ""
    when = formatting.month(row["judged_month"])
    return f"{label} {value} against a {bound} of {limit} in {when}{gap}"


def vendor_verdicts(
    history: pl.DataFrame,
    statuses: pl.DataFrame,
    contracts: list[Any],
    report_month: str,
    as_of: date,
) -> pl.DataFrame:
    """Grain: vendor. on track (no breach) / review (any breach) / replace (the same downstream
    threshold breached, not execution-limited, in each of the last N mature months)."""
    replace = _replace_runs(history, statuses)
    rows = []
    for contract in contracts_in_force(contracts, report_month):
        mine = statuses.filter(pl.col("vendor_id") == contract.vendor.id)
        breaches = mine.filter(pl.col("status").is_in(BREACHES)).to_dicts()
        runs = replace.filter(pl.col("vendor_id") == contract.vendor.id).to_dicts()
        mature = latest_mature_month(report_month, contract.sql_window_days, as_of)
        if runs:
            run = runs[0]
            label = formatting.metric_label(run["metric"])
            verdict = "replace"
            months = ", ".join(formatting.month(m) for m in run["months"])
            reason = (
                f"{label} breached its limit in each of the last {len(run['months'])} mature "
                f"months ({months}), and sales did work the leads."
            )
        elif breaches:
            verdict = "review"
            first = _describe(breaches[0], contract.currency)
            more = (
                f"; and {len(breaches) - 1} more breach" + ("es" if len(breaches) > 2 else "")
                if len(breaches) > 1
                else ""
            )
            reason = f"{first}{more}."
        else:
            verdict = "on track"
            reason = (
                f"No threshold breached: delivery judged on {formatting.month(report_month)}, "
                f"conversion on {formatting.month(mature) if mature else 'no mature month yet'}."
            )
        rows.append(
            {
                "vendor_id": contract.vendor.id,
                "vendor_name": contract.vendor.name,
                "contract_id": contract.contract_id,
                "month": report_month,
                "latest_mature_month": mature,
                "verdict": verdict,
                "reason": reason,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "vendor_id": pl.String,
            "vendor_name": pl.String,
            "contract_id": pl.String,
            "month": pl.String,
            "latest_mature_month": pl.String,
            "verdict": pl.String,
            "reason": pl.String,
        },
    )
