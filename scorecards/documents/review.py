"""The ad-hoc vendor review PDF (SPEC §8 `review`): a `VendorReview` formatted for a reader.

Nothing here decides a status or recomputes a figure: `scorecards.review.vendor_review` did that.
This module selects, formats (scorecards/formatting.py) and lays out; the follow-up section and
the trend chart are the scorecard's own pieces, fed the range instead of one month.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards import formatting as fmt
from scorecards.documents import charts
from scorecards.documents.render import render_pdf, safe_output_path
from scorecards.documents.scorecard import followup_section, limit_labels
from scorecards.review import VendorReview, months_phrase
from scorecards.verdicts import DOWNSTREAM

# The recommendation's colour reuses the verdict banner's classes (print.css).
RECOMMENDATION_CLASSES = {"replace": "replace", "review": "review", "keep": "on-track"}
RECOMMENDATION_WORDS = {
    "replace": "Replace",
    "review": "Review",
    "keep": "Keep",
}
RECOMMENDATION_ACTIONS = {
    "replace": "Start replacing this vendor: a conversion threshold has failed for as many "
    "mature months in a row as the contract allows.",
    "review": "Raise the breach below with the vendor before the next delivery.",
    "follow-up": "Talk to sales before the vendor: the leads convert when they are worked, "
    "and too many were not.",
    "keep": "No action needed on the contract; keep an eye on the signals below.",
}
# Beyond this many months the chart's month labels are shortened so they never overlap.
LONG_LABEL_MONTHS = 8


def review_file_name(review: VendorReview) -> str:
    """`<vendor>-<from>-<to>`: the PDF's name before it is made safe."""
    return f"{review.vendor_id}-{review.first}-{review.last}"


def _span(first: Any, last: Any) -> str:
    """ "May – Aug 2026", or one month's label when first == last."""
    if first == last:
        return fmt.month(str(last))
    start, end = fmt.month(str(first)), fmt.month(str(last))
    if start[-4:] == end[-4:]:
        start = start[:-5]
    return f"{start} – {end}"


def review_context(review: VendorReview, run: dict[str, Any]) -> dict[str, Any]:
    """Everything review.html shows, as formatted strings (plus the trend chart's data URI)."""
    span = _span(review.first, review.last)
    currency = review.currency
    mature = review.mature_totals or {}
    open_months = review.monthly.filter(~pl.col("mature").fill_null(False))["month"].to_list()
    judged = fmt.month(review.judged_month) if review.judged_month else "no mature month yet"
    mature_months = review.monthly.filter(pl.col("mature").fill_null(False))["month"]
    judged_span = (
        _span(mature_months.min(), mature_months.max()) if mature_months.len() else "none yet"
    )
    return {
        "document": {
            "title": f"Vendor review — {review.vendor_name} — {span}",
            "header_left": review.vendor_name,
            "header_right": f"Vendor review · {span}",
            "created": fmt.day(run["as_of"]),
            "as_of": fmt.day(run["as_of"]),
            "run_id": str(run["run_id"]),
        },
        "vendor": {
            "id": review.vendor_id,
            "name": review.vendor_name,
            "contracts": ", ".join(review.contract_ids),
        },
        "span": span,
        "months_count": len(review.months),
        "judged_month": judged,
        "judged_span": judged_span,
        "last_month": fmt.month(review.last),
        "open_months": months_phrase(open_months),
        "recommendation": {
            "word": RECOMMENDATION_WORDS[review.recommendation],
            "css": RECOMMENDATION_CLASSES[review.recommendation],
            "action": RECOMMENDATION_ACTIONS[
                "follow-up" if review.follow_up_gap_only else review.recommendation
            ],
            "reasons": list(review.reasons),
        },
        "tiles": [
            {
                "label": "Spend",
                "value": fmt.money(review.totals.get("spend_cents"), currency),
                "note": f"{fmt.count(review.totals.get('billable'))} billable leads",
            },
            {
                "label": "Invalid rate",
                "value": fmt.percent(review.totals.get("invalid_rate")),
                "note": f"{fmt.count(review.totals.get('invalid'))} of "
                f"{fmt.count(review.totals.get('delivered'))} delivered",
            },
            {
                "label": "SQL rate",
                "value": fmt.percent(mature.get("sql_rate")),
                "note": f"{judged_span} · {fmt.count(mature.get('sql'))} SQLs",
            },
            {
                "label": "Cost per SQL",
                "value": fmt.money_units(mature.get("cost_per_sql"), currency),
                "note": judged_span,
            },
        ],
        "monthly": _monthly_rows(review),
        "total": _figures(review.totals, currency, provisional=bool(open_months)),
        "mature_total": _figures(mature, currency, provisional=False) if mature else None,
        "trend_chart": _trend_chart(review),
        "thresholds": _threshold_table(review),
        "runs": _run_rows(review),
        "claims": _claims(review),
        "followup": _followup_section(review, span),
    }


def _figures(row: dict[str, Any], currency: str, *, provisional: bool) -> dict[str, Any]:
    """One row of the month-by-month table: every figure formatted once."""
    return {
        "ordered": fmt.count(row.get("ordered")),
        "delivered": fmt.count(row.get("delivered")),
        "accepted": fmt.count(row.get("accepted")),
        "invalid_rate": fmt.percent(row.get("invalid_rate")),
        "fill_rate": fmt.percent(row.get("fill_rate")),
        "sql": fmt.count(row.get("sql")),
        "sql_rate": fmt.percent(row.get("sql_rate")),
        "cost_per_sql": fmt.money_units(row.get("cost_per_sql"), currency),
        "spend": fmt.money(row.get("spend_cents"), currency),
        "pipeline": fmt.money(row.get("pipeline_cents"), currency),
        "provisional": provisional,
    }


def _monthly_rows(review: VendorReview) -> list[dict[str, Any]]:
    return [
        {
            "month": fmt.month(row["month"]),
            "window": "closed" if row["mature"] else "open",
            **_figures(row, review.currency, provisional=not row["mature"]),
        }
        for row in review.monthly.to_dicts()  # one row per month of the range
    ]


def _trend_chart(review: VendorReview) -> str:
    """The scorecard's trend chart over the range; long ranges get short month labels."""
    label = (
        fmt.month_label_expr("month")
        if len(review.months) <= LONG_LABEL_MONTHS
        else pl.concat_str(pl.col("month"), pl.lit("-01"))
        .str.to_date("%Y-%m-%d")
        .dt.strftime("%b ’%y")
    )
    long = (
        review.monthly.select("month", "mature", "fill_rate", "invalid_rate", "sql_rate")
        .unpivot(index=["month", "mature"], variable_name="metric", value_name="value")
        .with_columns(
            label.alias("month_label"),
            (pl.col("metric").is_in(DOWNSTREAM) & ~pl.col("mature").fill_null(False)).alias(
                "provisional"
            ),
        )
        .drop_nulls("value")
    )
    limits = limit_labels(review.thresholds, review.currency)
    return charts.svg_data_uri(charts.trend_svg(long, limits))


def _threshold_table(review: VendorReview) -> dict[str, Any]:
    """Rows = months, columns = thresholds: scales to any range length."""
    grid = review.thresholds
    heads = grid.unique("metric", keep="last", maintain_order=True)
    columns = [
        {
            "metric": fmt.metric_label(row["metric"]),
            "limit": fmt.limit(row["metric"], row["bound"], row["limit"], review.currency),
            "judged": "judged on mature months"
            if row["kind"] == "downstream"
            else "judged every month",
        }
        for row in heads.to_dicts()  # one per contract threshold
    ]
    cells: dict[str, list[dict[str, str]]] = {}
    for row in grid.to_dicts():  # thresholds × months: a few dozen cells
        early = row["early_status"]
        cells.setdefault(row["month"], []).append(
            {
                "value": fmt.metric_value(row["metric"], row["value"], review.currency),
                "status": fmt.status_label(row["status"]),
                "css": fmt.status_class(row["status"]),
                "early": f"early signal: {fmt.status_label(early)}"
                if early not in (None, "pass", "no_data")
                else "",
                "early_css": fmt.status_class(early),
            }
        )
    return {
        "columns": columns,
        "rows": [
            {"month": fmt.month(month), "cells": cells.get(month, [])} for month in review.months
        ],
    }


def _run_text(length: int, first: str | None, last: str | None) -> str:
    if not length or first is None or last is None:
        return "none"
    if first == last:
        return f"1 month ({fmt.month(last)})"
    return f"{length} months ({fmt.month(first)} – {fmt.month(last)})"


def _run_rows(review: VendorReview) -> list[dict[str, Any]]:
    rows = []
    for row in review.runs.to_dicts():  # one per contract threshold
        escalates = row["escalation_at"]
        rows.append(
            {
                "metric": fmt.metric_label(row["metric"]),
                "limit": fmt.limit(row["metric"], row["bound"], row["limit"], review.currency),
                "breaches": months_phrase(row["breach_months"]) or "none",
                "gaps": months_phrase(row["gap_months"]) or "none",
                "longest": _run_text(row["longest_run"], row["longest_from"], row["longest_to"]),
                "current": _run_text(row["current_run"], row["current_from"], row["last_judged"]),
                "current_to": fmt.month(row["last_judged"]),
                "escalation": (
                    f"{escalates} in a row" if row["kind"] == "downstream" and escalates else "—"
                ),
                "escalating": bool(
                    row["kind"] == "downstream"
                    and escalates
                    and row["last_judged"] == review.judged_month
                    and row["current_run"] >= escalates
                ),
            }
        )
    return rows


def _plural(n: int, noun: str) -> str:
    return f"{fmt.count(n)} {noun}{'' if n == 1 else 's'}"


def _claims(review: VendorReview) -> dict[str, Any]:
    claims = review.claims
    currency = review.currency
    return {
        "count": fmt.count(claims.claims),
        "lines": fmt.count(claims.lines),
        "value": fmt.money(claims.value_cents, currency),
        "invalid_leads": fmt.count(claims.invalid_leads),
        "invalid_value": fmt.money(claims.invalid_value_cents, currency),
        "any": claims.claims > 0,
        "summary": (
            f"{_plural(claims.claims, 'claim')} filed for {_plural(claims.lines, 'invalid lead')}, "
            f"worth {fmt.money(claims.value_cents, currency)}."
        ),
        "rows": [
            {
                "claim_id": row["claim_id"],
                "claimed_on": fmt.day(row["claimed_on"]),
                "months": months_phrase(sorted({row["first_month"], row["last_month"]})),
                "lines": fmt.count(row["lines"]),
                "value": fmt.money(row["value_cents"], currency),
            }
            for row in claims.by_claim.to_dicts()  # one per claim filed
        ],
    }


def _followup_section(review: VendorReview, span: str) -> dict[str, Any]:
    """The scorecard's diagnostic on the range's summed buckets, and the months it flags."""
    section = followup_section(review.totals, span)
    section["limited_months"] = months_phrase(list(review.execution_limited_months))
    return section


def write_review(
    review: VendorReview,
    run: dict[str, Any],
    out_dir: Path,
    claims: dict[str, Any] | None = None,
) -> Path:
    """Render `<out_dir>/<vendor>-<from>-<to>.pdf` (name made safe) atomically; its path.
    `claims` is the vendor's `lifecycle.claims_summary` row (templates/_claims_summary.html)."""
    path = safe_output_path(out_dir, review_file_name(review), ".pdf")
    as_of: date = run["as_of"]
    context = review_context(review, run) | {"claims_summary": claims}
    render_pdf("review.html", context, path, as_of=as_of)
    return path


__all__ = ["review_context", "review_file_name", "write_review"]
