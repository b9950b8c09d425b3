"""A vendor's monthly scorecard (SPEC §7): select the vendor's rows from the frames, format them.

Nothing here decides a status or recomputes a metric; the metrics, statuses and verdicts frames
(docs/DESIGN.md) already hold them. The few figures a frame does not carry (the SQL rate of the
0 and 2-3 attempt buckets, the 4+ vs 1 multiple in the diagnostic sentence, the invalid-reason
breakdown) are read straight off its counts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards import formatting as fmt
from scorecards.documents import charts
from scorecards.documents.render import render_pdf, safe_output_path
from scorecards.errors import UserError
from scorecards.verdicts import DOWNSTREAM

METRIC_ORDER = ("fill_rate", "invalid_rate", "sql_rate", "cost_per_sql")
TREND_MONTHS = 6

ATTEMPT_BUCKETS = (
    ("0 (never worked)", "attempts_0", "sql_attempts_0", "bucket_0_sql_rate"),
    ("1", "attempts_1", "sql_attempts_1", "sql_rate_attempts_1"),
    ("2–3", "attempts_2_3", "sql_attempts_2_3", "bucket_2_3_sql_rate"),
    ("4+", "attempts_4plus", "sql_attempts_4plus", "sql_rate_4plus"),
)

Row = dict[str, Any]


def one_row(frame: pl.DataFrame) -> Row:
    """The frame's single row as a dict; an empty dict when the frame has none (shown as —)."""
    return frame.row(0, named=True) if frame.height else {}


def bucket_rate(row: Row, sql_column: str, leads_column: str, rate_column: str | None) -> str:
    """A bucket's SQL rate: the frame's own column when it has one, else SQLs over leads."""
    if rate_column is not None and rate_column in row:
        return fmt.percent(row[rate_column])
    leads, sql = row.get(leads_column), row.get(sql_column)
    return fmt.percent(sql / leads if leads and sql is not None else None)


def followup_sentence(row: Row, month_label: str) -> str:
    """The diagnostic in plain words, only what the CRM shows (SPEC §4): unknown when it has no
    attempts, under-worked, execution-limited, or worked — never "sales worked the leads" on
    leads nobody worked."""
    if not row or not row.get("accepted"):
        return f"No accepted leads in {month_label}: nothing to diagnose."
    if row.get("follow_up_unknown"):
        return (
            f"Follow-up unknown for {month_label}: the CRM export carries no sales attempts for "
            "these leads, so whether sales worked them cannot be told."
        )
    known = (row.get("accepted") or 0) - (row.get("attempts_unknown") or 0)
    worked = known - (row.get("attempts_0") or 0)
    rate_1, rate_4 = row.get("sql_rate_attempts_1"), row.get("sql_rate_4plus")
    if row.get("under_worked"):
        return (
            f"Under-worked: sales worked only {fmt.count(worked)} of {fmt.plural(known, 'lead')} "
            f"at all in {month_label}; the vendor is not blamed for leads sales did not work."
        )
    if row.get("execution_limited"):
        if rate_1:
            multiple = fmt.ratio(rate_4 / rate_1) if rate_4 is not None else fmt.NO_VALUE
            return (
                f"Leads worked 4+ times convert {multiple} better than leads worked once: "
                "the gap is follow-up, not lead quality."
            )
        return (
            f"Leads worked 4+ times convert at {fmt.percent(rate_4)} while leads worked once "
            "produced no SQL: the gap is follow-up, not lead quality."
        )
    return (
        f"Sales worked {fmt.count(worked)} of {fmt.plural(known, 'lead')} at least once; "
        f"follow-up does not explain the result: leads worked 4+ times convert at "
        f"{fmt.percent(rate_4)}, leads worked once at {fmt.percent(rate_1)}."
    )


def scorecard_context(
    vendor_id: str,
    month: str,
    metrics: pl.DataFrame,
    statuses: pl.DataFrame,
    verdicts: pl.DataFrame,
    leads: pl.DataFrame,
    run: dict[str, Any],
    *,
    currency: str = "USD",
) -> dict[str, Any]:
    """Everything scorecard.html shows, as formatted strings (plus the trend chart's data URI)."""
    verdict = one_row(verdicts.filter(pl.col("vendor_id") == vendor_id, pl.col("month") == month))
    if not verdict:
        raise UserError(f"no verdict for vendor '{vendor_id}' in {month}", field="vendor_id")

    judged = verdict.get("latest_mature_month")
    report_label = fmt.month(month)
    judged_label = fmt.month(judged) if judged else "no mature month yet"

    vendor_rows = metrics.filter(pl.col("grain") == "vendor", pl.col("vendor_id") == vendor_id)
    report_row = one_row(vendor_rows.filter(pl.col("month") == month))
    mature_row = one_row(vendor_rows.filter(pl.col("month") == judged)) if judged else {}

    vendor_statuses = statuses.filter(
        pl.col("vendor_id") == vendor_id, pl.col("report_month") == month
    ).sort(
        pl.col("metric").replace_strict(
            {m: i for i, m in enumerate(METRIC_ORDER)}, default=len(METRIC_ORDER)
        ),
        "metric",
    )

    window = report_row.get("sql_window_days") or mature_row.get("sql_window_days")
    money = fmt.money
    symbol = fmt.CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")

    return {
        "document": {
            "title": f"Vendor scorecard — {verdict['vendor_name']} — {report_label}",
            "header_left": verdict["vendor_name"],
            "header_right": f"Vendor scorecard · {report_label}",
            "created": fmt.day(run["as_of"]),
            "as_of": fmt.day(run["as_of"]),
            "run_id": str(run["run_id"]),
        },
        "crm_unknown": list(run.get("crm_unknown") or []),  # SPEC §2.3 "no silent zero"
        "vendor": {
            "id": vendor_id,
            "name": verdict["vendor_name"],
            "contract_id": verdict["contract_id"],
        },
        "report_month": report_label,
        "judged_month": judged_label,
        # SPEC §5: a mature report month is simply judged, never an "early signal"
        "report_is_judged": judged == month,
        "sql_window_days": fmt.count(window),
        "verdict": {
            "word": verdict["verdict"],
            "css": fmt.verdict_class(verdict["verdict"]),
            "reason": verdict["reason"],
        },
        "tiles": [
            {
                "label": "Spend",
                "value": money(report_row.get("spend_cents"), currency),
                "note": f"{report_label} · {fmt.count(report_row.get('billable'))} billable leads",
            },
            {
                "label": "Invalid rate",
                "value": fmt.percent(report_row.get("invalid_rate")),
                "note": f"{report_label} · {money(report_row.get('invoiced_risk_cents'), currency)}"
                " invoiced risk",
            },
            {
                "label": "SQL rate",
                "value": fmt.percent(mature_row.get("sql_rate")),
                "note": f"{judged_label} · {fmt.plural(mature_row.get('sql'), 'SQL')} of "
                f"{fmt.count(mature_row.get('accepted'))} accepted",
            },
            {
                "label": "Cost per SQL",
                "value": fmt.money_units(mature_row.get("cost_per_sql"), currency),
                "note": f"{judged_label}",
            },
        ],
        "kpis": _kpi_rows(vendor_statuses, currency),
        "trend_span": _trend_span(vendor_rows, month),
        "trend_chart": _trend_chart(vendor_rows, vendor_statuses, month),
        "invalid_reasons": _invalid_reasons(leads, vendor_id, month, report_row, currency),
        "programs": _program_rows(metrics, vendor_id, month, judged, currency),
        "followup": followup_section(
            mature_row or report_row, judged_label if mature_row else report_label
        ),
        "money": {
            "columns": [f"{report_label} (report)", f"{judged_label} (mature)"],
            "rows": [
                {"label": label, "cells": [show(report_row), show(mature_row)]}
                for label, show in (
                    ("Delivered leads", lambda r: fmt.count(r.get("delivered"))),
                    ("Accepted leads", lambda r: fmt.count(r.get("accepted"))),
                    ("Billable leads", lambda r: fmt.count(r.get("billable"))),
                    ("Over cap (not billable)", lambda r: fmt.count(r.get("over_cap"))),
                    ("Spend", lambda r: money(r.get("spend_cents"), currency)),
                    ("Invoiced risk", lambda r: money(r.get("invoiced_risk_cents"), currency)),
                    ("SQLs", lambda r: fmt.count(r.get("sql"))),
                    ("Opportunities", lambda r: fmt.count(r.get("opportunities"))),
                    ("Pipeline", lambda r: money(r.get("pipeline_cents"), currency)),
                    (
                        f"Pipeline per {symbol}1 spent",
                        lambda r: fmt.money_units(r.get("pipeline_per_dollar"), currency),
                    ),
                    ("Accounts", lambda r: fmt.count(r.get("accounts"))),
                    ("Accounts with an SQL", lambda r: fmt.count(r.get("accounts_with_sql"))),
                    ("Median days to SQL", lambda r: fmt.decimal(r.get("days_to_sql"))),
                )
            ],
        },
    }


def _kpi_rows(statuses: pl.DataFrame, currency: str) -> list[Row]:
    rows = []
    for status in statuses.to_dicts():  # one row per contract threshold: a handful
        metric = status["metric"]
        downstream = status["kind"] == "downstream"
        rows.append(
            {
                "metric": fmt.metric_label(metric),
                "limit": fmt.limit(metric, status["bound"], status["limit"], currency),
                "judged_month": fmt.month(status["judged_month"]),
                "value": fmt.metric_value(metric, status["value"], currency),
                "status": fmt.status_label(status["status"]),
                "reason": status.get("reason") or "",
                "status_css": fmt.status_class(status["status"]),
                "report_value": (
                    fmt.metric_value(metric, status["report_value"], currency) if downstream else ""
                ),
                "report_status": fmt.status_label(status["report_status"]) if downstream else "",
                "report_css": fmt.status_class(status["report_status"]) if downstream else "",
            }
        )
    return rows


def _trend_window(vendor_rows: pl.DataFrame, month: str) -> pl.DataFrame:
    return vendor_rows.filter(pl.col("month") <= month).sort("month").tail(TREND_MONTHS)


def _trend_span(vendor_rows: pl.DataFrame, month: str) -> str:
    window = _trend_window(vendor_rows, month)
    if window.is_empty():
        return ""
    return f"{fmt.month(window['month'][0])} – {fmt.month(window['month'][-1])}"


def _trend_chart(vendor_rows: pl.DataFrame, statuses: pl.DataFrame, month: str) -> str:
    long = (
        _trend_window(vendor_rows, month)
        .select("month", "mature", "fill_rate", "invalid_rate", "sql_rate")
        .unpivot(index=["month", "mature"], variable_name="metric", value_name="value")
        .with_columns(
            fmt.month_label_expr("month").alias("month_label"),
            (pl.col("metric").is_in(DOWNSTREAM) & ~pl.col("mature").fill_null(False)).alias(
                "provisional"
            ),
        )
        .drop_nulls("value")
    )
    thresholds = statuses.select("metric", "limit")
    return charts.svg_data_uri(charts.trend_svg(long, thresholds))


def _invalid_reasons(
    leads: pl.DataFrame, vendor_id: str, month: str, report_row: Row, currency: str
) -> dict[str, Any]:
    """Invalid leads of the month by primary reason; the total row is the metrics frame's."""
    by_reason = (
        leads.filter(
            pl.col("vendor_id") == vendor_id,
            pl.col("month") == month,
            pl.col("status") == "invalid",
        )
        .group_by("primary_reason")
        .agg(pl.len().alias("leads"), pl.col("cpl_cents").sum().alias("value_cents"))
        .sort(["leads", "primary_reason"], descending=[True, False])
    )
    return {
        "rows": [
            {
                "reason": fmt.reason_label(row["primary_reason"]),
                "leads": fmt.count(row["leads"]),
                "value": fmt.money(row["value_cents"], currency),
            }
            for row in by_reason.to_dicts()  # at most the ten reasons of SPEC §3
        ],
        "total_leads": fmt.count(report_row.get("invalid")),
        "total_value": fmt.money(report_row.get("invoiced_risk_cents"), currency),
    }


def _program_rows(
    metrics: pl.DataFrame, vendor_id: str, month: str, judged: str | None, currency: str
) -> list[Row]:
    programs = metrics.filter(pl.col("grain") == "program", pl.col("vendor_id") == vendor_id)
    judged_rows = programs.filter(pl.col("month") == judged)
    report_rates = programs.filter(pl.col("month") == month).select(
        "program_id", pl.col("sql_rate").alias("report_sql_rate")
    )
    table = (
        judged_rows.join(report_rates, on="program_id", how="full", coalesce=True)
        .join(
            programs.select("program_id", pl.col("lead_type").alias("known_type")).unique(
                "program_id", keep="last"
            ),
            on="program_id",
            how="left",
        )
        .with_columns(pl.coalesce("lead_type", "known_type").alias("lead_type"))
        .sort("lead_type", "program_id", nulls_last=True)
    )
    return [
        {
            "program_id": row["program_id"],
            "lead_type": fmt.lead_type_label(row["lead_type"]),
            "accepted": fmt.count(row["accepted"]),
            "sql": fmt.count(row["sql"]),
            "sql_rate": fmt.percent(row["sql_rate"]),
            "cost_per_sql": fmt.money_units(row["cost_per_sql"], currency),
            "report_sql_rate": fmt.percent(row["report_sql_rate"]),
        }
        for row in table.to_dicts()  # one row per program of the contract
    ]


def followup_section(row: Row, month_label: str) -> dict[str, Any]:
    return {
        "month": month_label,
        "execution_limited": bool(row.get("execution_limited")),
        "sentence": followup_sentence(row, month_label),
        "buckets": [
            {
                "label": label,
                "leads": fmt.count(row.get(leads)),
                "sql": fmt.count(row.get(sql)),
                "sql_rate": bucket_rate(row, sql, leads, rate),
            }
            for label, leads, sql, rate in ATTEMPT_BUCKETS
        ]
        + (
            [
                {
                    "label": "unknown (no attempts in the CRM)",
                    "leads": fmt.count(row.get("attempts_unknown")),
                    "sql": fmt.NO_VALUE,
                    "sql_rate": fmt.NO_VALUE,
                }
            ]
            if row.get("attempts_unknown")
            else []
        ),
        "facts": [
            {
                "label": "Worked at all",
                "value": _unknown_or(row, fmt.percent(row.get("share_worked"))),
            },
            {
                "label": "Worked 4+ times",
                "value": _unknown_or(row, fmt.percent(row.get("share_worked_4plus"))),
            },
            {
                "label": "Under-worked",
                "value": _unknown_or(row, "yes" if row.get("under_worked") else "no")
                if row
                else fmt.NO_VALUE,
            },
            {"label": "SQL rate at 4+ attempts", "value": fmt.percent(row.get("sql_rate_4plus"))},
            {
                "label": "SQL deficit",
                "value": _unknown_or(row, fmt.decimal(row.get("sql_deficit"))),
            },
        ],
    }


def _unknown_or(row: Row, shown: str) -> str:
    """A follow-up figure, or "unknown" when the CRM carries no attempts (SPEC §4)."""
    return "unknown" if row.get("follow_up_unknown") else shown


def write_scorecard(
    vendor_id: str,
    month: str,
    metrics: pl.DataFrame,
    statuses: pl.DataFrame,
    verdicts: pl.DataFrame,
    leads: pl.DataFrame,
    run: dict[str, Any],
    out_dir: Path,
    *,
    currency: str = "USD",
) -> Path:
    """Render `<out_dir>/<vendor_id>.pdf` (name made safe) atomically; returns its path."""
    context = scorecard_context(
        vendor_id, month, metrics, statuses, verdicts, leads, run, currency=currency
    )
    path = safe_output_path(out_dir, vendor_id, ".pdf")
    as_of: date = run["as_of"]
    render_pdf("scorecard.html", context, path, as_of=as_of)
    return path
