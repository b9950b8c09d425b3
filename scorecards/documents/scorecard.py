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
from scorecards.contracts import Contract
from scorecards.documents import charts
from scorecards.documents.render import render_pdf, safe_output_path
from scorecards.errors import UserError
from scorecards.metrics import months_between
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
    contract: Contract | None = None,
) -> dict[str, Any]:
    """Everything scorecard.html shows, as formatted strings (plus the trend chart's data URI).
    `contract` (the verdict's contract) adds the contract context: term, programs, to date."""
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
            "preview": bool(run.get("preview")),
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
        "tiles": _tiles(
            vendor_rows, vendor_statuses, month, judged, report_row, mature_row, currency
        ),
        "contract": _contract_context(metrics, contract, month, currency),
        "kpis": _kpi_rows(vendor_statuses, currency),
        "trend_span": _trend_span(vendor_rows, month),
        "trend_chart": _trend_chart(vendor_rows, vendor_statuses, month, currency),
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


def previous_month(month: str) -> str:
    """ "2026-10" -> "2026-09"; "2026-01" -> "2025-12"."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def limit_labels(thresholds: pl.DataFrame, currency: str) -> pl.DataFrame:
    """metric, limit, label ("limit ≥ 95.0%"): each limit rule of a trend chart says what it is."""
    rows = thresholds.select("metric", "bound", "limit").unique().sort("metric", "bound")
    return pl.DataFrame(
        [
            {
                "metric": row["metric"],
                "bound": row["bound"],
                "limit": row["limit"],
                "label": "limit " + fmt.limit(row["metric"], row["bound"], row["limit"], currency),
            }
            for row in rows.to_dicts()  # one per contract threshold: a handful
        ],
        schema={"metric": pl.String, "bound": pl.String, "limit": pl.Float64, "label": pl.String},
    )


# tile: (label, metric, which row it reads: report month or judged month)
TILE_METRICS = (
    ("Fill rate", "fill_rate", "report"),
    ("Invalid rate", "invalid_rate", "report"),
    ("SQL rate", "sql_rate", "judged"),
    ("Cost per SQL", "cost_per_sql", "judged"),
)


def _tiles(
    vendor_rows: pl.DataFrame,
    statuses: pl.DataFrame,
    month: str,
    judged: str | None,
    report_row: Row,
    mature_row: Row,
    currency: str,
) -> list[Row]:
    """Page 1's tiles: each KPI coloured by its status AND named by it (never colour alone),
    its limit, the counts behind it and its change against the month before."""
    by_metric = {row["metric"]: row for row in statuses.to_dicts()}  # one per threshold
    months = {"report": month, "judged": judged}
    rows = {"report": report_row, "judged": mature_row}
    befores = {
        key: one_row(vendor_rows.filter(pl.col("month") == previous_month(m))) if m else {}
        for key, m in months.items()
    }
    behind = {
        "fill_rate": lambda r: (
            f"{fmt.count(r.get('accepted'))} of {fmt.count(r.get('ordered'))} ordered"
        ),
        "invalid_rate": lambda r: (
            f"{fmt.count(r.get('invalid'))} of {fmt.count(r.get('delivered'))} delivered"
        ),
        "sql_rate": lambda r: (
            f"{fmt.count(r.get('sql'))} of {fmt.count(r.get('accepted'))} accepted"
        ),
        "cost_per_sql": lambda r: (
            f"{fmt.money(r.get('spend_cents'), currency)} ÷ {fmt.plural(r.get('sql'), 'SQL')}"
        ),
    }
    tiles = []
    for label, metric, which in TILE_METRICS:
        row, before, when = rows[which], befores[which], months[which]
        status = by_metric.get(metric)
        state = status["status"] if status else None
        if metric == "cost_per_sql":
            change = fmt.units_change(row.get(metric), before.get(metric), currency)
        else:
            change = fmt.points_change(row.get(metric), before.get(metric))
        tiles.append(
            {
                "label": label,
                "value": fmt.metric_value(metric, row.get(metric), currency),
                "status": fmt.status_label(state) if status else "no limit",
                "status_css": fmt.status_class(state) if status else "no-data",
                "limit": fmt.limit(metric, status["bound"], status["limit"], currency)
                if status
                else "",
                "note": f"{fmt.month(when) if when else 'no mature month'} · {behind[metric](row)}",
                "change": f"{change} vs {fmt.month(previous_month(when))[:3]}" if when else "",
            }
        )
    tiles.append(
        {
            "label": "Spend",
            "value": fmt.money(report_row.get("spend_cents"), currency),
            "note": f"{fmt.month(month)} · {fmt.count(report_row.get('billable'))} billable leads",
            "change": f"{fmt.money_change(report_row.get('spend_cents'), befores['report'].get('spend_cents'), currency)}"
            f" vs {fmt.month(previous_month(month))[:3]}",
        }
    )
    return tiles


def _contract_context(
    metrics: pl.DataFrame, contract: Contract | None, month: str, currency: str
) -> Row | None:
    """The contract behind the figures: its term, each program's ordered volume and CPL, and
    the contract to date (ordered, delivered, accepted, spend) against its commitment."""
    if contract is None:
        return None
    term_months = months_between(
        contract.term.start.isoformat()[:7], contract.term.end.isoformat()[:7]
    )
    to_date = one_row(
        metrics.filter(
            pl.col("grain") == "program",
            pl.col("contract_id") == contract.contract_id,
            pl.col("month") <= month,
        ).select(pl.col("ordered", "delivered", "accepted", "billable", "spend_cents").sum())
    )
    committed_leads = sum(p.monthly_volume for p in contract.programs) * len(term_months)
    committed_cents = sum(p.monthly_volume * p.cpl_cents for p in contract.programs) * len(
        term_months
    )
    elapsed = len([m for m in term_months if m <= month])
    ordered = to_date.get("ordered")
    ordered_words = fmt.count(ordered)
    return {
        "contract_id": contract.contract_id,
        "term": f"{fmt.day(contract.term.start)} to {fmt.day(contract.term.end)}",
        "term_months": fmt.plural(len(term_months), "month"),
        "elapsed": f"{fmt.count(elapsed)} of {fmt.plural(len(term_months), 'month')}",
        "currency": currency,
        "programs": [
            {
                "program_id": p.id,
                "lead_type": fmt.lead_type_label(p.lead_type),
                "monthly_volume": fmt.count(p.monthly_volume),
                "cpl": fmt.money(p.cpl_cents, currency),
                "monthly_value": fmt.money(p.monthly_volume * p.cpl_cents, currency),
            }
            for p in contract.programs  # a few programs per contract
        ],
        "to_date": [
            _to_date(
                "Ordered", ordered, committed_leads, fmt.count(committed_leads) + " committed"
            ),
            _to_date("Delivered", to_date.get("delivered"), ordered, ordered_words),
            _to_date("Accepted", to_date.get("accepted"), ordered, ordered_words),
            {
                **_to_date(
                    "Spend to date",
                    to_date.get("spend_cents"),
                    committed_cents,
                    fmt.money(committed_cents, currency),
                ),
                "value": fmt.money(to_date.get("spend_cents"), currency),
            },
        ],
    }


def _to_date(label: str, value: int | None, whole: int | None, whole_words: str) -> Row:
    """One contract-to-date figure: its value and its share of what it is measured against."""
    return {
        "label": label,
        "value": fmt.count(value),
        "of": f"of {whole_words}",
        "share": fmt.percent((value or 0) / whole if whole else None),
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


def _trend_chart(
    vendor_rows: pl.DataFrame, statuses: pl.DataFrame, month: str, currency: str
) -> str:
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
    return charts.svg_data_uri(
        charts.trend_svg(long, limit_labels(statuses, currency), across=True)
    )


# the leads columns a scorecard reads (`_invalid_reasons`): the monthly run reads only these
SCORECARD_LEAD_COLUMNS = ("vendor_id", "month", "status", "primary_reason", "cpl_cents")


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
    contract: Contract | None = None,
    claims: dict[str, Any] | None = None,
) -> Path:
    """Render `<out_dir>/<vendor_id>.pdf` (name made safe) atomically; returns its path.
    `claims` is the vendor's `lifecycle.claims_summary` row (templates/_claims_summary.html)."""
    context = scorecard_context(
        vendor_id,
        month,
        metrics,
        statuses,
        verdicts,
        leads,
        run,
        currency=currency,
        contract=contract,
    )
    context["claims_summary"] = claims
    path = safe_output_path(out_dir, vendor_id, ".pdf")
    as_of: date = run["as_of"]
    render_pdf("scorecard.html", context, path, as_of=as_of)
    return path
