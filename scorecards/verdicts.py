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


def _failing_and_conclusive() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(no value to judge, on the failing side of the limit, conclusive) for `value` against
    `bound` and `limit` — the one place SPEC §5's evidence rule is written.

    SPEC §4: cost per SQL has no value when there is no SQL, yet a `max` on it is then on the
    failing side whenever money was spent. SPEC §5: a downstream value on the failing side is
    conclusive only when the whole Wilson interval is: sql_rate with hi < min, cost_per_sql with
    spend / (n × hi) > max (this covers k = 0); `evidence_z` null judges the point value."""
    value, limit = pl.col("value"), pl.col("limit")
    is_min = pl.col("bound") == "min"
    spend = pl.col("spend_cents").fill_null(0)
    cost = (pl.col("metric") == "cost_per_sql") & ~is_min
    spent_without_sql = cost & value.is_null() & (spend > 0)
    failing = spent_without_sql | (is_min & (value < limit)) | (~is_min & (value > limit))
    hi = pl.col("sql_rate_hi")
    point = pl.col("evidence_z").is_null()
    optimistic_cost = spend / (100 * pl.col("accepted") * hi)
    conclusive = (
        pl.when(~failing)
        .then(pl.lit(False))
        .when(point)
        .then(pl.lit(True))
        .when((pl.col("metric") == "sql_rate") & is_min)
        .then(hi < limit)
        .when(cost)
        .then(pl.when(hi > 0).then(optimistic_cost > limit).otherwise(spend > 0))
        .otherwise(pl.lit(True))
        .fill_null(False)
    )
    return value.is_null() & ~spent_without_sql, failing.fill_null(False), conclusive


def status_expr() -> pl.Expr:
    """pass / at_risk / breach / breach (follow-up gap) / provisional / no_data for `value`
    against `bound` and `limit`, with the month's evidence (`accepted`, `sql_rate_hi`,
    `spend_cents`, `evidence_z`) and follow-up facts (`execution_limited`, `under_worked`)."""
    limit = pl.col("limit")
    # The band's edges as the contract's decimals give them: 1.1 × 0.1 is 0.11, not the float
    # 0.11000000000000001 that would put a value of exactly 0.11 inside the band.
    min_edge = ((1 + AT_RISK_BAND) * limit).round_sig_figs(12)
    max_edge = ((1 - AT_RISK_BAND) * limit).round_sig_figs(12)
    is_min = pl.col("bound") == "min"
    value = pl.col("value")
    no_value, failing, conclusive = _failing_and_conclusive()
    judged = (
        pl.when(no_value)
        .then(pl.lit("no_data"))
        .when(failing & conclusive)
        .then(pl.lit("breach"))
        .when(failing)  # SPEC §5: on the failing side but not conclusive
        .then(pl.lit("at_risk"))
        .when(is_min & (value < min_edge))
        .then(pl.lit("at_risk"))
        .when(~is_min & (value > max_edge))
        .then(pl.lit("at_risk"))
        .otherwise(pl.lit("pass"))
    )
    downstream = pl.col("kind") == "downstream"
    follow_up_gap = pl.col("execution_limited").fill_null(False) | pl.col("under_worked").fill_null(
        False
    )
    return (
        pl.when(downstream & ~pl.col("mature").fill_null(False))
        .then(pl.lit("provisional"))
        .when(downstream & (judged == "breach") & follow_up_gap)
        .then(pl.lit("breach (follow-up gap)"))
        .otherwise(judged)
    )


# The vendor-month figures every status and reason reads (metrics frame, vendor grain).
FACTS = [
    "ordered",
    "delivered",
    "invalid",
    "accepted",
    "sal",
    "sql",
    "attempts_1",
    "attempts_2_3",
    "attempts_4plus",
    "attempts_unknown",
    "spend_cents",
    "pipeline_cents",
    "sql_rate_lo",
    "sql_rate_hi",
    "evidence_z",
    "mature",
    "follow_up_unknown",
    "under_worked",
    "execution_limited",
]


# SPEC §2.3 "no silent zero": the thresholds a CRM outcome column decides; when the CRM export
# leaves that column empty on every row, their figures are unknown and never judged.
UNKNOWN_WITHOUT = {"sql_at": ("sql_rate", "cost_per_sql")}


def threshold_history(
    metrics: pl.DataFrame,
    contracts: list[Any],
    months: list[str],
    unknown_metrics: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Grain: vendor × threshold × month: each month in `months` the contract's term covers, and
    each month with deliveries attributed to the contract outside its term (SPEC §3: judged like
    any other). A metric in `unknown_metrics` (its CRM outcome column is missing) has no value and
    status `no_data` with `unknown` set, never a breach on zeros."""
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
    attributed = (
        metrics.filter(pl.col("grain") == "program", pl.col("delivered") > 0)
        .select("vendor_id", "contract_id", "month", pl.lit(True).alias("_attributed"))
        .unique()
    )
    facts = vendor_rows.select("vendor_id", "month", *FACTS)
    in_term = (pl.col("term_start") <= pl.col("_start").dt.month_end()) & (
        pl.col("term_end") >= pl.col("_start")
    )
    return (
        threshold_frame(contracts)
        .join(calendar, how="cross")
        .join(attributed, on=["vendor_id", "contract_id", "month"], how="left")
        .filter(in_term | pl.col("_attributed").fill_null(False))
        .join(values, on=["vendor_id", "month", "metric"], how="left")
        .join(facts, on=["vendor_id", "month"], how="left")
        .with_columns(pl.col("metric").is_in(sorted(unknown_metrics)).alias("unknown"))
        .with_columns(
            pl.when("unknown").then(None).otherwise("value").alias("value"),
            pl.when("unknown").then(pl.lit("no_data")).otherwise(status_expr()).alias("status"),
            (~pl.col("unknown") & _failing_and_conclusive()[1]).alias("failing"),
            (~pl.col("unknown") & _failing_and_conclusive()[2]).alias("conclusive"),
        )
        .select(
            "vendor_id",
            "contract_id",
            "metric",
            "bound",
            "limit",
            "kind",
            "month",
            "value",
            *[f for f in FACTS if f != "mature"],
            "mature",
            "failing",
            "conclusive",
            "unknown",
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


NO_DELIVERIES = "no deliveries received"


def confidence_words(contract: Any) -> str:
    """ "95%" for `evidence.confidence: 0.95`; "" when the point value is judged."""
    confidence = contract.evidence.confidence
    return "" if confidence is None else f"{confidence * 100:g}%"


def delivered_nothing(history: pl.DataFrame, vendor_id: str, month: str) -> bool:
    """SPEC §9: the vendor's contract is in force in `month` and it delivered nothing then."""
    rows = history.filter(pl.col("vendor_id") == vendor_id, pl.col("month") == month)
    return not rows.height or not (rows["delivered"].fill_null(0) > 0).any()


def threshold_statuses(
    history: pl.DataFrame, contracts: list[Any], report_month: str, as_of: date
) -> pl.DataFrame:
    """Grain: vendor × threshold for the report: the judged month and status with its reason in
    words, and the report month's own (provisional) figure beside each downstream one. A vendor
    that delivered nothing in the report month is not judged: every status is `no_data`."""
    in_force = contracts_in_force(contracts, report_month)
    judged_months = pl.DataFrame(
        [
            {
                "contract_id": c.contract_id,
                "latest_mature_month": latest_mature_month(report_month, c.sql_window_days, as_of),
                "_silent": delivered_nothing(history, c.vendor.id, report_month),
            }
            for c in in_force
        ],
        schema={"contract_id": pl.String, "latest_mature_month": pl.String, "_silent": pl.Boolean},
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
                *[f for f in FACTS if f != "mature"],
                "mature",
                "failing",
                "conclusive",
                "unknown",
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
        .with_columns(
            pl.when(pl.col("_silent")).then(pl.lit("no_data")).otherwise("status").alias("status"),
            pl.when(pl.col("_silent"))
            .then(pl.lit("no_data"))
            .otherwise("report_status")
            .alias("report_status"),
        )
    )
    frame = judged.select(
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
        *[f for f in FACTS if f != "mature"],
        "mature",
        "failing",
        "conclusive",
        pl.col("unknown").fill_null(False),
        "_silent",
    ).sort("vendor_id", "kind", "metric", descending=[False, True, False])
    by_id = {c.contract_id: c for c in in_force}
    reasons = [
        NO_DELIVERIES.capitalize() + f" in {formatting.month(report_month)}: not judged."
        if row["_silent"]
        else status_reason(row, by_id[row["contract_id"]])
        for row in frame.to_dicts()  # a handful of thresholds per vendor
    ]
    return frame.drop("_silent").with_columns(pl.Series("reason", reasons, dtype=pl.String))


def _counts_behind(row: dict[str, Any], currency: str) -> str:
    """The count a value is computed from, in words: "(9 of 290 accepted)"."""
    metric = row["metric"]
    if metric == "fill_rate":
        return f"({formatting.count(row['accepted'])} accepted of {formatting.count(row['ordered'])} ordered)"
    if metric == "invalid_rate":
        return f"({formatting.count(row['invalid'])} of {formatting.plural(row['delivered'], 'lead')} delivered)"
    if metric == "sql_rate":
        return f"({formatting.count(row['sql'])} of {formatting.count(row['accepted'])} accepted)"
    if metric == "sal_rate":
        return f"({formatting.count(row['sal'])} of {formatting.count(row['accepted'])} accepted)"
    if metric == "cost_per_sql":
        return (
            f"({formatting.money(row['spend_cents'], currency)} for "
            f"{formatting.plural(row['sql'], 'SQL')} from "
            f"{formatting.count(row['accepted'])} accepted)"
        )
    if metric == "pipeline_per_dollar":
        return (
            f"({formatting.money(row['pipeline_cents'], currency)} pipeline on "
            f"{formatting.money(row['spend_cents'], currency)} spend)"
        )
    return ""


def _limit_words(row: dict[str, Any], currency: str) -> str:
    limit = formatting.metric_value(row["metric"], row["limit"], currency)
    return f"the {limit} {'minimum' if row['bound'] == 'min' else 'maximum'}"


def _evidence_words(row: dict[str, Any], contract: Any, currency: str) -> str:
    """Why a failing value is, or is not, conclusive — in a procurement manager's words."""
    confidence = confidence_words(contract)
    if not confidence or row["metric"] not in REPLACE_METRICS:
        return ""
    leads = formatting.plural(row["accepted"], "lead")
    side = "below" if row["bound"] == "min" else "above"
    if row["metric"] == "sql_rate":
        bound = (
            f"the SQL rate could plausibly be as high as {formatting.percent(row['sql_rate_hi'])}"
        )
    else:
        hi = row["sql_rate_hi"] or 0.0
        best = (
            row["spend_cents"] / (100 * row["accepted"] * hi)
            if hi > 0 and row["accepted"]
            else None
        )
        bound = (
            f"at the best SQL rate these leads plausibly have, the cost per SQL would be "
            f"{formatting.money_units(best, currency)}"
        )
    if row["conclusive"]:
        return f"; conclusive at {confidence} (even {bound.replace('could plausibly be as high as', 'is at most')})"
    return (
        f" — {side} the limit on {leads}: not conclusive ({bound} at {confidence} confidence), "
        "so not a breach"
    )


def _follow_up_words(row: dict[str, Any]) -> str:
    """Only what the CRM shows about sales' follow-up (SPEC §4)."""
    if row.get("follow_up_unknown"):
        return "sales follow-up unknown (the CRM has no attempts for these leads)"
    known = (row.get("accepted") or 0) - (row.get("attempts_unknown") or 0)
    worked = sum(row.get(c) or 0 for c in ("attempts_1", "attempts_2_3", "attempts_4plus"))
    if row.get("under_worked"):
        return (
            f"under-worked: sales worked only {formatting.count(worked)} of "
            f"{formatting.plural(known, 'lead')} at all"
        )
    if row.get("execution_limited"):
        return "execution-limited: leads worked 4+ times converted at least twice as well as leads worked once"
    return f"sales worked {formatting.count(worked)} of {formatting.plural(known, 'lead')} at least once"


def status_reason(row: dict[str, Any], contract: Any) -> str:
    """One sentence behind a status: value, the count behind it, the limit and the month."""
    currency = contract.currency
    metric, status = row["metric"], row["status"]
    label = formatting.metric_label(metric)
    month = row["judged_month"]
    if month is None:
        return f"{label}: no mature month yet, not judged."
    when = formatting.month(month)
    if row.get("unknown"):
        return (
            f"{label}: unknown in {when}, not judged: the CRM export has no SQL dates, so SQLs "
            "cannot be counted (docs/CRM.md)."
        )
    if status == "no_data" or (row["value"] is None and not row["failing"]):
        why = (
            "nothing ordered"
            if metric == "fill_rate" and row.get("delivered")
            else "no accepted leads"
            if row.get("delivered")
            else "no deliveries"
        )
        return f"{label}: no value in {when} ({why})."
    value = (
        "no value (spend without any SQL)"
        if row["value"] is None
        else formatting.metric_value(metric, row["value"], currency)
    )
    subject = f"{label} {value} {_counts_behind(row, currency)}".replace("  ", " ").strip()
    limit = _limit_words(row, currency)
    if status == "provisional":
        return (
            f"{subject} in {when} is provisional: its {row.get('sql_window_days', '') or ''}SQL "
            "window is still open, so it is not judged."
        ).replace("its SQL", "its SQL")
    if row["failing"]:
        side = "below" if row["bound"] == "min" else "above"
        sentence = f"{subject} {side} {limit} in {when}{_evidence_words(row, contract, currency)}"
        if status == "breach (follow-up gap)":
            sentence += (
                f" — a follow-up gap ({_follow_up_words(row)}), not counted toward escalation"
            )
        return sentence + "."
    if status == "at_risk":
        return f"{subject} within 10% of {limit} in {when}."
    return f"{subject} meets {limit} in {when}."


def contract_of(contracts: list[Any], contract_id: str) -> Any:
    return next(c for c in contracts if c.contract_id == contract_id)


def pooled_evidence(rows: pl.DataFrame, z: float | None) -> dict[str, Any]:
    """Months pooled (SPEC §5): Σk over Σn and Σspend over Σn, with the Wilson bounds of Σk/Σn."""
    from scorecards.metrics import wilson_bounds

    pooled = rows.select(
        pl.col("sql").sum().cast(pl.Float64).alias("k"),
        pl.col("accepted").sum().cast(pl.Float64).alias("n"),
        pl.col("spend_cents").sum().cast(pl.Int64).alias("spend_cents"),
        *[
            pl.col(c).fill_null(0).sum().alias(c)
            for c in ("attempts_1", "attempts_2_3", "attempts_4plus", "attempts_unknown")
        ],
        pl.col("follow_up_unknown").fill_null(False).any().alias("follow_up_unknown"),
    )
    lo, hi = wilson_bounds(pl.col("k"), pl.col("n"), pl.lit(z, pl.Float64))
    return pooled.with_columns(lo.alias("lo"), hi.alias("hi")).row(0, named=True)


def pooled_conclusive(metric: str, limit: float, pooled: dict[str, Any]) -> bool:
    """The months pooled are conclusively on the failing side of `limit`."""
    k, n, hi, spend = pooled["k"], pooled["n"], pooled["hi"], pooled["spend_cents"]
    if not n:
        return False
    if metric == "sql_rate":
        return bool(hi is not None and hi < limit)
    if hi is None or hi == 0:
        return bool(spend > 0)
    return bool(spend / (100 * n * hi) > limit) if k or hi else False


def replace_runs(
    history: pl.DataFrame, statuses: pl.DataFrame, contracts: list[Any]
) -> pl.DataFrame:
    """SPEC §5 `replace`: the same sql_rate or cost_per_sql threshold on the failing side, neither
    execution-limited nor under-worked, in each of the last N mature months up to the judged
    month, and conclusive on those months pooled. Grain: vendor × metric, with the pooled figures."""
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
        # months, not rows: a month split between two contracts is judged under each of them;
        # its vendor figures are the same under both
        seen = (
            history.filter(
                pl.col("vendor_id") == row["vendor_id"],
                pl.col("metric") == row["metric"],
                pl.col("month").is_in(months),
                pl.col("mature").fill_null(False),
                pl.col("failing"),
                ~pl.col("execution_limited").fill_null(False),
                ~pl.col("under_worked").fill_null(False),
            )
            .sort("month")
            .unique("month", keep="first", maintain_order=True)
        )
        if seen.height != n:
            continue
        contract = contract_of(contracts, row["contract_id"])
        pooled = pooled_evidence(seen, contract.evidence.z)
        if not pooled_conclusive(row["metric"], row["limit"], pooled):
            continue
        rows.append(
            {
                "vendor_id": row["vendor_id"],
                "metric": row["metric"],
                "months": months,
                **{key: pooled[key] for key in ("k", "n", "spend_cents", "lo", "hi")},
                "follow_up": _follow_up_words(
                    {
                        "accepted": int(pooled["n"]),
                        **{
                            c: pooled[c]
                            for c in (
                                "attempts_1",
                                "attempts_2_3",
                                "attempts_4plus",
                                "attempts_unknown",
                                "follow_up_unknown",
                            )
                        },
                    }
                ),
                "limit": row["limit"],
                "bound": row["bound"],
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "vendor_id": pl.String,
            "metric": pl.String,
            "months": pl.List(pl.String),
            "k": pl.Float64,
            "n": pl.Float64,
            "spend_cents": pl.Int64,
            "lo": pl.Float64,
            "hi": pl.Float64,
            "follow_up": pl.String,
            "limit": pl.Float64,
            "bound": pl.String,
        },
    )


def months_phrase(months: list[str]) -> str:
    """["2026-06", "2026-07", "2026-08"] -> "Jun, Jul and Aug 2026" (years kept when mixed)."""
    if not months:
        return ""
    labels = [formatting.month(m) for m in months]
    if len({m[:4] for m in months}) == 1:
        labels = [label.split()[0] for label in labels[:-1]] + [labels[-1]]
    if len(labels) == 1:
        return labels[0]
    return f"{', '.join(labels[:-1])} and {labels[-1]}"


def replace_reason(run: dict[str, Any], contract: Any) -> str:
    """ "SQL rate 3.1% (9 of 290 accepted) below the 8.0% minimum in Jun and Jul 2026; conclusive
    at 95% on the months pooled (at most 5.9%); sales worked 270 of 290 leads at least once." """
    currency = contract.currency
    k, n, spend = int(run["k"]), int(run["n"]), run["spend_cents"]
    when = months_phrase(run["months"])
    limit = _limit_words(run, currency)
    confidence = confidence_words(contract)
    if run["metric"] == "sql_rate":
        head = (
            f"SQL rate {formatting.percent(k / n)} ({formatting.count(k)} of "
            f"{formatting.count(n)} accepted) below {limit} in {when}"
        )
        bound = f"at most {formatting.percent(run['hi'])}"
    else:
        value = formatting.money_units(spend / (100 * k), currency) if k else "no value"
        head = (
            f"Cost per SQL {value} ({formatting.money(spend, currency)} for "
            f"{formatting.plural(k, 'SQL')} from {formatting.count(n)} accepted) above {limit} in {when}"
        )
        best = spend / (100 * n * run["hi"]) if run["hi"] else None
        bound = f"at least {formatting.money_units(best, currency)}"
    proof = (
        f"; conclusive at {confidence} on the months pooled ({bound})"
        if confidence
        else "; judged on the point value"
    )
    return f"{head}{proof}; {run['follow_up']}."


def vendor_verdicts(
    history: pl.DataFrame,
    statuses: pl.DataFrame,
    contracts: list[Any],
    report_month: str,
    as_of: date,
) -> pl.DataFrame:
    """Grain: vendor. no deliveries received (SPEC §9: not judged on zeros) / on track (no breach)
    / review (any breach) / replace (SPEC §5, `replace_runs`)."""
    replace = replace_runs(history, statuses, contracts)
    rows = []
    for contract in contracts_in_force(contracts, report_month):
        mine = statuses.filter(pl.col("vendor_id") == contract.vendor.id)
        breaches = mine.filter(pl.col("status").is_in(BREACHES)).to_dicts()
        at_risk = mine.filter(pl.col("status") == "at_risk").to_dicts()
        runs = replace.filter(pl.col("vendor_id") == contract.vendor.id).to_dicts()
        mature = latest_mature_month(report_month, contract.sql_window_days, as_of)
        if delivered_nothing(history, contract.vendor.id, report_month):
            verdict = NO_DELIVERIES
            reason = (
                f"No deliveries received in {formatting.month(report_month)} although contract "
                f"{contract.contract_id} is in force: the vendor is not judged on zeros."
            )
        elif runs:
            verdict = "replace"
            reason = replace_reason(runs[0], contract)
            if len(runs) > 1:
                reason += " " + replace_reason(runs[1], contract)
        elif breaches:
            verdict = "review"
            more = len(breaches) - 1
            reason = breaches[0]["reason"].rstrip(".") + (
                f"; and {more} more {'breach' if more == 1 else 'breaches'}." if more else "."
            )
        else:
            verdict = "on track"
            reason = (
                f"No threshold breached: delivery judged on {formatting.month(report_month)}, "
                f"conversion on {formatting.month(mature) if mature else 'no mature month yet'}"
            )
            reason += (
                f"; {formatting.plural(len(at_risk), 'threshold')} at risk." if at_risk else "."
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
