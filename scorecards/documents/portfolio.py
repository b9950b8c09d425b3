"""The portfolio league table for leadership (SPEC §7): every vendor ranked by cost per SQL.

Each vendor is shown and ranked on the month its scorecard judges (its verdict's latest mature
month, named on its row), so the two documents never disagree; vendors without an SQL rank last.
Like for like: cost per SQL is also ranked within each lead type (an HQL lead and an intent lead
are different products), beside the portfolio-wide ranking. Spend share and SQL share are each
vendor's judged-month spend and SQLs over the sum of the judged months shown. The one spend total
on the page is the report month's.
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


def ranked_vendors(metrics: pl.DataFrame, verdicts: pl.DataFrame) -> pl.DataFrame:
    """One row per vendor of the report month's verdicts, ranked by cost per SQL (no SQL last),
    each on its own judged month (`latest_mature_month`), with spend_share and sql_share of the
    judged months shown."""
    judged_rows = metrics.filter(pl.col("grain") == "vendor").select(
        "vendor_id",
        pl.col("month").alias("latest_mature_month"),
        "spend_cents",
        "sql",
        "accepted",
        "sql_rate",
        "cost_per_sql",
    )
    joined = verdicts.join(judged_rows, on=["vendor_id", "latest_mature_month"], how="left")
    total_spend = joined["spend_cents"].sum()
    total_sql = joined["sql"].sum()
    return (
        joined.with_columns(
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


def ranked_within_lead_type(metrics: pl.DataFrame, verdicts: pl.DataFrame) -> pl.DataFrame:
    """Grain: lead type × vendor, on the vendor's judged month: spend, SQLs and cost per SQL from
    the program rows' counts and money (never averaged), ranked within the lead type."""
    programs = metrics.filter(pl.col("grain") == "program").join(
        verdicts.select("vendor_id", "vendor_name", "latest_mature_month"),
        left_on=["vendor_id", "month"],
        right_on=["vendor_id", "latest_mature_month"],
        how="inner",
    )
    by_type = programs.group_by("lead_type", "vendor_id", "vendor_name", "month").agg(
        pl.col("spend_cents").sum(), pl.col("sql").sum(), pl.col("accepted").sum()
    )
    return (
        by_type.with_columns(
            pl.when(pl.col("sql") > 0)
            .then(pl.col("spend_cents") / (pl.col("sql") * 100))
            .alias("cost_per_sql"),
            pl.when(pl.col("accepted") > 0)
            .then(pl.col("sql") / pl.col("accepted"))
            .alias("sql_rate"),
        )
        .sort(["lead_type", "cost_per_sql", "vendor_name", "vendor_id"], nulls_last=True)
        .with_columns(pl.int_range(1, pl.len() + 1).over("lead_type").cast(pl.Int64).alias("rank"))
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
    judged_months = sorted(set(month_verdicts["latest_mature_month"].drop_nulls().to_list()))
    report_label = fmt.month(month)
    judged_label = (
        " and ".join(fmt.month(m) for m in judged_months) if judged_months else "no mature month"
    )

    ranked = ranked_vendors(metrics, month_verdicts)
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
    report_total = one_row(portfolio_rows.filter(pl.col("month") == month))
    verdict_counts = {
        row["verdict"]: row["len"]
        for row in month_verdicts.group_by("verdict").len().to_dicts()  # three words at most
    }

    judged_spend = int(ranked["spend_cents"].sum() or 0)
    judged_sql = int(ranked["sql"].sum() or 0)
    by_lead_type = ranked_within_lead_type(metrics, month_verdicts)
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
        "crm_unknown": list(run.get("crm_unknown") or []),  # SPEC §2.3 "no silent zero"
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
                "value": fmt.money_units(
                    judged_spend / (100 * judged_sql) if judged_sql else None, currency
                ),
                "note": f"each vendor's judged month · {fmt.plural(judged_sql, 'SQL')}",
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
                "judged_month": fmt.month(row["latest_mature_month"])
                if row["latest_mature_month"]
                else "no mature month",
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
        "lead_types": [
            {
                "lead_type": fmt.lead_type_label(lead_type),
                "rows": [
                    {
                        "rank": fmt.count(row["rank"]),
                        "name": row["vendor_name"],
                        "judged_month": fmt.month(row["month"]),
                        "sql": fmt.count(row["sql"]),
                        "sql_rate": fmt.percent(row["sql_rate"]),
                        "cost_per_sql": fmt.money_units(row["cost_per_sql"], currency),
                    }
                    for row in group.to_dicts()  # a few vendors per lead type
                ],
            }
            for (lead_type,), group in by_lead_type.group_by("lead_type", maintain_order=True)
        ],
        "totals": {
            "sql": fmt.count(judged_sql),
            "cost_per_sql": fmt.money_units(
                judged_spend / (100 * judged_sql) if judged_sql else None, currency
            ),
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
