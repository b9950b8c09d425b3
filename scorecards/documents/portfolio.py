"""The portfolio league table for leadership (SPEC §7): every vendor ranked by cost per SQL.

Ranked on the latest month that is mature for every vendor (so the rows compare like with
like and the totals row is the portfolio's own row for that month); vendors without an SQL
rank last. Spend share and SQL share are each vendor's spend and SQLs over the portfolio row's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards import formatting as fmt
from scorecards.documents import charts
from scorecards.documents.render import render_pdf, safe_output_path
from scorecards.documents.scorecard import one_row
from scorecards.errors import UserError

PORTFOLIO_FILE = "portfolio"


def ranked_vendors(
    metrics: pl.DataFrame, verdicts: pl.DataFrame, judged: str | None
) -> pl.DataFrame:
    """One row per vendor of the report month's verdicts, ranked by cost per SQL (no SQL last).

    Adds the judged month's vendor metrics, spend_share and sql_share against the portfolio row
    of that month (falling back to the vendors' sum when the frame has no portfolio row).
    """
    judged_rows = metrics.filter(pl.col("grain") == "vendor", pl.col("month") == judged).select(
        "vendor_id", "spend_cents", "sql", "accepted", "sql_rate", "cost_per_sql"
    )
    portfolio = metrics.filter(pl.col("grain") == "portfolio", pl.col("month") == judged)
    total_spend = (
        portfolio["spend_cents"].sum() if portfolio.height else judged_rows["spend_cents"].sum()
    )
    total_sql = portfolio["sql"].sum() if portfolio.height else judged_rows["sql"].sum()
    return (
        verdicts.join(judged_rows, on="vendor_id", how="left")
        .with_columns(
            (pl.col("spend_cents") / pl.lit(total_spend) if total_spend else pl.lit(None))
            .cast(pl.Float64)
            .alias("spend_share"),
            (pl.col("sql") / pl.lit(total_sql) if total_sql else pl.lit(None))
            .cast(pl.Float64)
            .alias("sql_share"),
        )
        .sort(["cost_per_sql", "vendor_name", "vendor_id"], nulls_last=True)
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )


def portfolio_context(
    month: str,
    metrics: pl.DataFrame,
    verdicts: pl.DataFrame,
    run: dict[str, Any],
    *,
    currency: str = "USD",
) -> dict[str, Any]:
    """Everything portfolio.html shows, as formatted strings (plus the share chart)."""
    month_verdicts = verdicts.filter(pl.col("month") == month)
    if month_verdicts.is_empty():
        raise UserError(f"no vendor verdicts for {month}", field="month")
    judged: str | None = month_verdicts["latest_mature_month"].min()  # type: ignore[assignment]
    report_label = fmt.month(month)
    judged_label = fmt.month(judged) if judged else "no mature month yet"

    ranked = ranked_vendors(metrics, month_verdicts, judged)
    report_vendor_rows = metrics.filter(pl.col("grain") == "vendor", pl.col("month") == month)
    table = ranked.join(
        report_vendor_rows.select(
            "vendor_id",
            pl.col("spend_cents").alias("report_spend_cents"),
            pl.col("invoiced_risk_cents").alias("report_invoiced_risk_cents"),
        ),
        on="vendor_id",
        how="left",
    ).sort("rank")
    portfolio_rows = metrics.filter(pl.col("grain") == "portfolio")
    judged_total = one_row(portfolio_rows.filter(pl.col("month") == judged))
    report_total = one_row(portfolio_rows.filter(pl.col("month") == month))
    verdict_counts = {
        row["verdict"]: row["len"]
        for row in month_verdicts.group_by("verdict").len().to_dicts()  # three words at most
    }

    money = fmt.money
    return {
        "document": {
            "title": f"Vendor portfolio — {report_label}",
            "header_left": "Vendor portfolio",
            "header_right": f"League table · {report_label}",
            "created": fmt.day(run["as_of"]),
            "as_of": fmt.day(run["as_of"]),
            "run_id": str(run["run_id"]),
        },
        "report_month": report_label,
        "judged_month": judged_label,
        "tiles": [
            {
                "label": "Spend",
                "value": money(report_total.get("spend_cents"), currency),
                "note": report_label,
            },
            {
                "label": "Invoiced risk",
                "value": money(report_total.get("invoiced_risk_cents"), currency),
                "note": f"{report_label} · invalid leads × CPL",
            },
            {
                "label": "Cost per SQL",
                "value": fmt.money_units(judged_total.get("cost_per_sql"), currency),
                "note": f"{judged_label} · {fmt.count(judged_total.get('sql'))} SQLs",
            },
            {
                "label": "Vendors",
                "value": fmt.count(month_verdicts.height),
                "note": " · ".join(
                    f"{fmt.count(verdict_counts.get(word, 0))} {word}"
                    for word in fmt.VERDICT_CLASSES
                ),
            },
        ],
        "vendors": [
            {
                "rank": fmt.count(row["rank"]),
                "name": row["vendor_name"],
                "verdict": row["verdict"],
                "verdict_css": fmt.verdict_class(row["verdict"]),
                "reason": row["reason"],
                "spend": money(row["spend_cents"], currency),
                "sql": fmt.count(row["sql"]),
                "sql_rate": fmt.percent(row["sql_rate"]),
                "cost_per_sql": fmt.money_units(row["cost_per_sql"], currency),
                "spend_share": fmt.percent(row["spend_share"]),
                "sql_share": fmt.percent(row["sql_share"]),
                "report_spend": money(row["report_spend_cents"], currency),
                "invoiced_risk": money(row["report_invoiced_risk_cents"], currency),
            }
            for row in table.to_dicts()  # one row per vendor: a dozen
        ],
        "totals": {
            "spend": money(judged_total.get("spend_cents"), currency),
            "sql": fmt.count(judged_total.get("sql")),
            "sql_rate": fmt.percent(judged_total.get("sql_rate")),
            "cost_per_sql": fmt.money_units(judged_total.get("cost_per_sql"), currency),
            "report_spend": money(report_total.get("spend_cents"), currency),
            "invoiced_risk": money(report_total.get("invoiced_risk_cents"), currency),
        },
        "share_chart": charts.svg_data_uri(
            charts.share_svg(table.select("vendor_name", "rank", "spend_share", "sql_share"))
        ),
    }


def write_portfolio(
    month: str,
    metrics: pl.DataFrame,
    verdicts: pl.DataFrame,
    run: dict[str, Any],
    out_dir: Path,
    *,
    currency: str = "USD",
) -> Path:
    """Render `<out_dir>/portfolio.pdf` atomically; returns its path."""
    context = portfolio_context(month, metrics, verdicts, run, currency=currency)
    path = safe_output_path(out_dir, PORTFOLIO_FILE, ".pdf")
    as_of: date = run["as_of"]
    render_pdf("portfolio.html", context, path, as_of=as_of)
    return path
