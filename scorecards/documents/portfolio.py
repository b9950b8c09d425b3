"""The portfolio league table for leadership (SPEC §7): every vendor ranked by cost per SQL.

Each vendor is shown and ranked on the month its scorecard judges (its verdict's latest mature
month, named on its row), so the two documents never disagree; vendors without an SQL rank last.
Like for like: cost per SQL is also ranked within each lead type (an HQL lead and an intent lead
are different products), beside the portfolio-wide ranking. Spend share and SQL share are each
vendor's judged-month spend and SQLs over the sum of the judged months shown. The one spend total
on the page is the report month's.

Money is never summed across currencies (SPEC §4): a portfolio in several currencies is one
group per currency (ranking, shares, subtotals and tiles each in its own ISO code), unless the
user gives exchange rates (`documents/exchange.py`), which the page states.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards import formatting as fmt
from scorecards.documents import charts
from scorecards.documents.exchange import ExchangeRates, converted_cents
from scorecards.documents.render import render_pdf, safe_output_path
from scorecards.errors import UserError

PORTFOLIO_FILE = "portfolio"


def vendor_rows(
    month: str,
    metrics: pl.DataFrame,
    verdicts: pl.DataFrame,
    exchange: ExchangeRates | None = None,
) -> pl.DataFrame:
    """Grain: vendor (one per verdict of `month`, which carries a `currency` column). Each vendor
    on its judged month (`latest_mature_month`): spend, SQLs, accepted, SQL rate and cost per
    SQL; beside them the report month's spend and invoiced risk. With `exchange`, every amount
    is converted to its base currency (`native_currency` keeps the contract's) and cost per SQL
    is derived again from the converted spend."""
    judged_rows = metrics.filter(pl.col("grain") == "vendor").select(
        "vendor_id",
        pl.col("month").alias("latest_mature_month"),
        "spend_cents",
        "sql",
        "accepted",
        "sql_rate",
        "cost_per_sql",
    )
    report_rows = metrics.filter(pl.col("grain") == "vendor", pl.col("month") == month).select(
        "vendor_id",
        pl.col("spend_cents").alias("report_spend_cents"),
        pl.col("invoiced_risk_cents").alias("report_invoiced_risk_cents"),
    )
    rows = (
        verdicts.join(judged_rows, on=["vendor_id", "latest_mature_month"], how="left")
        .join(report_rows, on="vendor_id", how="left")
        .with_columns(pl.col("currency").alias("native_currency"))
    )
    if exchange is None:
        return rows
    micro = exchange.micro_rate_expr(pl.col("currency"))
    return rows.with_columns(
        *(converted_cents(pl.col(c), micro).alias(c) for c in MONEY_COLUMNS),
        pl.lit(exchange.base).alias("currency"),
    ).with_columns(_cost_per_sql())


MONEY_COLUMNS = ("spend_cents", "report_spend_cents", "report_invoiced_risk_cents")


def _cost_per_sql() -> pl.Expr:
    return (
        pl.when(pl.col("sql") > 0)
        .then(pl.col("spend_cents") / (pl.col("sql") * 100))
        .alias("cost_per_sql")
    )


def _share(column: str) -> pl.Expr:
    total = pl.col(column).sum().over("currency")
    return pl.when(total > 0).then(pl.col(column) / total).cast(pl.Float64)


def ranked_vendors(rows: pl.DataFrame) -> pl.DataFrame:
    """`vendor_rows` ranked by cost per SQL within each currency (no SQL last), with spend_share
    and sql_share of the judged months shown in that currency (SPEC §4: money is never summed
    across currencies, so neither are the shares or the ranking)."""
    return (
        rows.with_columns(
            _share("spend_cents").alias("spend_share"), _share("sql").alias("sql_share")
        )
        .sort(["currency", "cost_per_sql", "vendor_name", "vendor_id"], nulls_last=True)
        .with_columns(pl.int_range(1, pl.len() + 1).over("currency").cast(pl.Int64).alias("rank"))
    )


def ranked_within_lead_type(
    metrics: pl.DataFrame,
    verdicts: pl.DataFrame,
    contract_currency: Mapping[str, str],
    default_currency: str,
    exchange: ExchangeRates | None = None,
) -> pl.DataFrame:
    """Grain: currency × lead type × vendor, on the vendor's judged month: spend, SQLs and cost
    per SQL from the program rows' counts and money (never averaged), ranked within the lead
    type and currency; each program row in its contract's currency (or converted)."""
    programs = (
        metrics.filter(pl.col("grain") == "program")
        .join(
            verdicts.select("vendor_id", "vendor_name", "latest_mature_month"),
            left_on=["vendor_id", "month"],
            right_on=["vendor_id", "latest_mature_month"],
            how="inner",
        )
        .with_columns(_currency_of("contract_id", contract_currency, default_currency))
    )
    if exchange is not None:
        micro = exchange.micro_rate_expr(pl.col("currency"))
        programs = programs.with_columns(
            converted_cents(pl.col("spend_cents"), micro), pl.lit(exchange.base).alias("currency")
        )
    by_type = programs.group_by("currency", "lead_type", "vendor_id", "vendor_name", "month").agg(
        pl.col("spend_cents").sum(), pl.col("sql").sum(), pl.col("accepted").sum()
    )
    return (
        by_type.with_columns(
            _cost_per_sql(),
            pl.when(pl.col("accepted") > 0)
            .then(pl.col("sql") / pl.col("accepted"))
            .alias("sql_rate"),
        )
        .sort(
            ["currency", "lead_type", "cost_per_sql", "vendor_name", "vendor_id"], nulls_last=True
        )
        .with_columns(
            pl.int_range(1, pl.len() + 1).over("currency", "lead_type").cast(pl.Int64).alias("rank")
        )
    )


def _currency_of(column: str, contract_currency: Mapping[str, str], default: str) -> pl.Expr:
    return (
        pl.col(column)
        .replace_strict(dict(contract_currency), default=default, return_dtype=pl.String)
        .alias("currency")
    )


def _group_totals(group: pl.DataFrame) -> dict[str, int]:
    return {
        "sql": int(group["sql"].sum() or 0),
        "spend_cents": int(group["spend_cents"].sum() or 0),
        "report_spend_cents": int(group["report_spend_cents"].sum() or 0),
        "report_invoiced_risk_cents": int(group["report_invoiced_risk_cents"].sum() or 0),
    }


def _cost(totals: dict[str, int]) -> float | None:
    return totals["spend_cents"] / (100 * totals["sql"]) if totals["sql"] else None


def _vendor_line(row: dict[str, Any], currency: str, converted: bool) -> dict[str, Any]:
    money = fmt.money
    native = row["native_currency"]
    return {
        "rank": fmt.count(row["rank"]),
        "name": row["vendor_name"],
        "converted_from": native if converted and native != currency else None,
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


def portfolio_context(
    month: str,
    metrics: pl.DataFrame,
    verdicts: pl.DataFrame,
    run: dict[str, Any],
    *,
    currency: str = "USD",
    contract_currency: Mapping[str, str] | None = None,
    exchange: ExchangeRates | None = None,
) -> dict[str, Any]:
    """Everything portfolio.html shows, as formatted strings (plus the share charts).

    `contract_currency` maps contract_id to its ISO code (contracts not in it are in `currency`).
    Without `exchange` the page holds one currency group per currency, each ranked, shared and
    totalled on its own; with it, one group in the base currency, the rates stated."""
    month_verdicts = verdicts.filter(pl.col("month") == month)
    if month_verdicts.is_empty():
        raise UserError(f"no vendor verdicts for {month}", field="month")
    currencies = dict(contract_currency or {})
    month_verdicts = month_verdicts.with_columns(_currency_of("contract_id", currencies, currency))
    native_currencies = sorted(set(month_verdicts["currency"].to_list()))
    if exchange is not None:
        missing = exchange.missing(native_currencies)
        if missing:
            raise UserError(
                f"has no rate for {', '.join(missing)}, a currency of the portfolio's contracts",
                file=exchange.source,
                field="exchange_rates.rates",
            )
        if native_currencies == [exchange.base]:
            exchange = None  # nothing to convert: no rates to state
    judged_months = sorted(set(month_verdicts["latest_mature_month"].drop_nulls().to_list()))
    report_label = fmt.month(month)
    judged_label = (
        " and ".join(fmt.month(m) for m in judged_months) if judged_months else "no mature month"
    )

    table = ranked_vendors(vendor_rows(month, metrics, month_verdicts, exchange))
    by_lead_type = ranked_within_lead_type(metrics, month_verdicts, currencies, currency, exchange)
    verdict_counts = {
        row["verdict"]: row["len"]
        for row in month_verdicts.group_by("verdict").len().to_dicts()  # three words at most
    }
    converted = exchange is not None
    groups = []
    for (code,), group in table.group_by("currency", maintain_order=True):  # one per currency
        totals = _group_totals(group)
        groups.append(
            {
                "currency": code,
                "totals": totals,
                "vendors": [_vendor_line(row, code, converted) for row in group.to_dicts()],
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
                                "cost_per_sql": fmt.money_units(row["cost_per_sql"], code),
                            }
                            for row in rows.to_dicts()  # a few vendors per lead type
                        ],
                    }
                    for (lead_type,), rows in by_lead_type.filter(
                        pl.col("currency") == code
                    ).group_by("lead_type", maintain_order=True)
                ],
                "formatted_totals": {
                    "sql": fmt.count(totals["sql"]),
                    "spend_share": fmt.percent(1.0 if totals["spend_cents"] else None),
                    "sql_share": fmt.percent(1.0 if totals["sql"] else None),
                    "cost_per_sql": fmt.money_units(_cost(totals), code),
                    "report_spend": fmt.money(totals["report_spend_cents"], code),
                    "invoiced_risk": fmt.money(totals["report_invoiced_risk_cents"], code),
                },
                "share_chart": charts.svg_data_uri(
                    charts.share_svg(
                        group.select("vendor_name", "rank", "spend_share", "sql_share")
                    )
                ),
            }
        )
    multiple = len(groups) > 1

    def per_currency(show: Any) -> list[str]:
        return [f"{show(g['totals'], g['currency'])} {g['currency']}" for g in groups]

    judged_sql = sum(g["totals"]["sql"] for g in groups)
    return {
        "document": {
            "title": f"Vendor portfolio — {report_label}",
            "header_left": "Vendor portfolio",
            "header_right": f"League table · {report_label}",
            "created": fmt.day(run["as_of"]),
            "as_of": fmt.day(run["as_of"]),
            "run_id": str(run["run_id"]),
            "preview": bool(run.get("preview")),
        },
        "crm_unknown": list(run.get("crm_unknown") or []),  # SPEC §2.3 "no silent zero"
        "report_month": report_label,
        "judged_month": judged_label,
        "multiple_currencies": multiple,
        "currencies": [g["currency"] for g in groups],
        "native_currencies": native_currencies,
        "exchange": {
            "base": exchange.base,
            "rates": exchange.statements(native_currencies),
            "note": exchange.note,
            "source": exchange.source,
        }
        if exchange is not None
        else None,
        "tiles": [
            {
                "label": "Spend",
                "values": per_currency(lambda t, c: fmt.money(t["report_spend_cents"], c)),
                "note": report_label,
            },
            {
                "label": "Invoiced risk",
                "values": per_currency(lambda t, c: fmt.money(t["report_invoiced_risk_cents"], c)),
                "note": f"{report_label} · invalid leads × CPL",
            },
            {
                "label": "Cost per SQL",
                "values": per_currency(lambda t, c: fmt.money_units(_cost(t), c)),
                "note": f"each vendor's judged month · {fmt.plural(judged_sql, 'SQL')}",
            },
            {
                "label": "Vendors",
                "values": [fmt.count(month_verdicts.height)],
                "note": " · ".join(
                    f"{fmt.count(verdict_counts.get(word, 0))} {word}"
                    for word in fmt.VERDICT_CLASSES
                ),
            },
        ],
        "groups": groups,
        "vendors": [v for g in groups for v in g["vendors"]],
    }


def write_portfolio(
    month: str,
    metrics: pl.DataFrame,
    verdicts: pl.DataFrame,
    run: dict[str, Any],
    out_dir: Path,
    *,
    currency: str = "USD",
    contract_currency: Mapping[str, str] | None = None,
    exchange: ExchangeRates | None = None,
    claims: list[dict[str, Any]] | None = None,
) -> Path:
    """Render `<out_dir>/portfolio.pdf` atomically; returns its path. `claims` are the
    `lifecycle.claims_summary` rows, each with its vendor's name and currency."""
    context = portfolio_context(
        month,
        metrics,
        verdicts,
        run,
        currency=currency,
        contract_currency=contract_currency,
        exchange=exchange,
    )
    context["claims_rows"] = claims or []
    path = safe_output_path(out_dir, PORTFOLIO_FILE, ".pdf")
    as_of: date = run["as_of"]
    render_pdf("portfolio.html", context, path, as_of=as_of)
    return path
