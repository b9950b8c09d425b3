"""Judging the vendor (SPEC §5): statuses at and around each limit, maturity, the follow-up gap
and the three verdicts, on hand-computed vendor-months built from leads."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from scorecards.contracts import Contract
from scorecards.metrics import months_between, vendor_month_metrics
from scorecards.verdicts import (
    latest_mature_month,
    status_expr,
    threshold_history,
    threshold_statuses,
    vendor_verdicts,
)
from tests.test_metrics import contract, follow_up, lead, leads_frame, many, program_frame

THRESHOLDS = {
    "fill_rate": {"min": 0.95},
    "invalid_rate": {"max": 0.08},
    "sql_rate": {"min": 0.12},
    "cost_per_sql": {"max": 900.0},
}
# SPEC §5's own example: a 90-day window, an October report on November 5th judges July.
REPORT_MONTH = "2026-10"
AS_OF = date(2026, 11, 5)


def acme(**overrides: Any) -> Contract:
    """Ordered 10 a month at $85.00, the SPEC's thresholds, a 90-day window, 2 breaches; the
    point value judged (`evidence.confidence: null`), so these ten-lead months test the rules
    themselves — the evidence rule has its own tests (tests/test_evidence.py)."""
    defaults: dict[str, Any] = {
        "programs": (("p1", "content_syndication", "85.00", 10),),
        "thresholds": THRESHOLDS,
        "evidence": {"confidence": None},
    }
    return contract(**{**defaults, **overrides})


def day(month: str) -> date:
    return date.fromisoformat(f"{month}-10")


def good(month: str) -> list[dict[str, Any]]:
    """10 accepted, 2 SQLs: fill 1.0, invalid 0, SQL rate 0.20, $425 per SQL — all pass."""
    return many(2, day(month), sql=True, days_to_sql=5) + many(8, day(month))


def sql_breach(month: str) -> list[dict[str, Any]]:
    """10 accepted, 1 SQL: SQL rate 0.10 breaches its min of 0.12; $850 per SQL is at risk."""
    return many(1, day(month), sql=True, days_to_sql=5) + many(9, day(month))


def follow_up_gap(month: str) -> list[dict[str, Any]]:
    """40 accepted, 1 SQL (a breach) — but from the 20 leads worked 4+ times, none from the 20
    tried once: execution-limited."""
    rows = follow_up(once=20, once_sql=0, worked=20, worked_sql=1)
    return [{**r, "month": month, "delivery_date": day(month)} for r in rows]


def judged(
    rows: list[dict[str, Any]],
    *contracts: Contract,
    report_month: str = REPORT_MONTH,
    as_of: date = AS_OF,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(history, statuses, verdicts) for the report month, from January on."""
    contracts = contracts or (acme(),)
    months = months_between("2026-01", report_month)
    metrics = vendor_month_metrics(leads_frame(rows), program_frame(*contracts), months, as_of)
    history = threshold_history(metrics, list(contracts), months)
    statuses = threshold_statuses(history, list(contracts), report_month, as_of)
    verdicts = vendor_verdicts(history, statuses, list(contracts), report_month, as_of)
    return history, statuses, verdicts


def status_of(statuses: pl.DataFrame, metric: str, column: str = "status") -> Any:
    found = statuses.filter(pl.col("metric") == metric)
    assert found.height == 1, found
    return found[column].item()


def history_status(history: pl.DataFrame, metric: str, month: str) -> str:
    found = history.filter(pl.col("metric") == metric, pl.col("month") == month)
    assert found.height == 1, found
    return str(found["status"].item())


def verdict_of(verdicts: pl.DataFrame, vendor: str = "acme") -> str:
    return str(verdicts.filter(pl.col("vendor_id") == vendor)["verdict"].item())


# --- statuses at and around the limit -----------------------------------------------------------


def judge_value(metric: str, bound: str, limit: float, value: float | None, **facts: Any) -> str:
    """The status of one value against one limit (a mature month, worked leads, money spent)."""
    frame = pl.DataFrame(
        [
            {
                "metric": metric,
                "bound": bound,
                "limit": limit,
                "kind": "downstream" if metric in ("sql_rate", "cost_per_sql") else "upstream",
                "value": value,
                "spend_cents": facts.get("spend_cents", 85_000),
                "mature": facts.get("mature", True),
                "execution_limited": facts.get("execution_limited", False),
                "under_worked": facts.get("under_worked", False),
                "accepted": facts.get("accepted", 100),
                "sql_rate_hi": facts.get("sql_rate_hi"),
                "evidence_z": facts.get("evidence_z"),
            }
        ],
        schema={
            "metric": pl.String,
            "bound": pl.String,
            "limit": pl.Float64,
            "kind": pl.String,
            "value": pl.Float64,
            "spend_cents": pl.Int64,
            "mature": pl.Boolean,
            "execution_limited": pl.Boolean,
            "under_worked": pl.Boolean,
            "accepted": pl.Int64,
            "sql_rate_hi": pl.Float64,
            "evidence_z": pl.Float64,
        },
    )
    return str(frame.select(status_expr()).item())


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (0.11, "breach"),
        (0.1199, "breach"),
        (0.12, "at_risk"),  # exactly at the min: on the passing side, within 10%
        (0.1319, "at_risk"),
        (0.132, "pass"),  # exactly 1.1 × min: not strictly below it
        (0.5, "pass"),
    ],
)
def test_at_risk_band_for_a_min_is_value_below_1_1_times_the_limit(
    value: float, status: str
) -> None:
    assert judge_value("sql_rate", "min", 0.12, value) == status


@pytest.mark.parametrize(
    ("limit", "value"),
    [(0.1, 0.11), (0.2, 0.22), (0.08, 0.088), (0.95, 1.045), (0.5, 0.55)],
)
def test_value_exactly_1_1_times_a_min_passes_whatever_the_float_rounding(
    limit: float, value: float
) -> None:
    assert judge_value("fill_rate", "min", limit, value) == "pass"


@pytest.mark.parametrize(
    ("metric", "limit", "value"),
    [("invalid_rate", 0.044, 0.0396), ("cost_per_sql", 3.3, 2.97), ("cost_per_sql", 900.0, 810.0)],
)
def test_value_exactly_0_9_times_a_max_passes_whatever_the_float_rounding(
    metric: str, limit: float, value: float
) -> None:
    assert judge_value(metric, "max", limit, value) == "pass"


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (900.01, "breach"),
        (900.0, "at_risk"),  # exactly at the max
        (810.01, "at_risk"),
        (810.0, "pass"),  # exactly 0.9 × max: not strictly above it
        (100.0, "pass"),
    ],
)
def test_at_risk_band_for_a_max_is_value_above_0_9_times_the_limit(
    value: float, status: str
) -> None:
    assert judge_value("cost_per_sql", "max", 900.0, value) == status


@pytest.mark.parametrize(
    ("value", "status"),
    [(0.0801, "breach"), (0.08, "at_risk"), (0.0721, "at_risk"), (0.072, "pass"), (0.0, "pass")],
)
def test_at_risk_band_for_an_upstream_max(value: float, status: str) -> None:
    assert judge_value("invalid_rate", "max", 0.08, value) == status


def test_no_value_is_no_data() -> None:
    assert judge_value("sql_rate", "min", 0.12, None) == "no_data"
    assert judge_value("fill_rate", "min", 0.95, None) == "no_data"


def test_cost_per_sql_without_sql_is_a_breach_of_its_max_when_money_was_spent() -> None:
    assert judge_value("cost_per_sql", "max", 900.0, None, spend_cents=1) == "breach"
    assert judge_value("cost_per_sql", "max", 900.0, None, spend_cents=0) == "no_data"


def test_downstream_status_of_an_immature_month_is_provisional_never_breach() -> None:
    assert judge_value("sql_rate", "min", 0.12, 0.0, mature=False) == "provisional"
    assert judge_value("cost_per_sql", "max", 900.0, None, mature=False) == "provisional"
    assert judge_value("invalid_rate", "max", 0.08, 0.5, mature=False) == "breach"  # upstream


def test_downstream_breach_in_an_execution_limited_month_is_a_follow_up_gap() -> None:
    assert (
        judge_value("sql_rate", "min", 0.12, 0.05, execution_limited=True)
        == "breach (follow-up gap)"
    )
    assert judge_value("sql_rate", "min", 0.12, 0.5, execution_limited=True) == "pass"
    assert judge_value("invalid_rate", "max", 0.08, 0.5, execution_limited=True) == "breach"


# --- zero SQLs, from leads ----------------------------------------------------------------------


def test_zero_sqls_cost_per_sql_has_no_value_yet_its_max_is_breached_when_spend_above_zero() -> (
    None
):
    history, _, _ = judged(many(10, day("2026-07")))
    july = history.filter(pl.col("metric") == "cost_per_sql", pl.col("month") == "2026-07")
    assert july["value"].item() is None
    assert july["status"].item() == "breach"


def test_zero_sqls_and_zero_spend_cost_per_sql_is_no_data() -> None:
    history, _, _ = judged(many(3, day("2026-07"), status="invalid"))
    assert history_status(history, "cost_per_sql", "2026-07") == "no_data"
    assert history_status(history, "sql_rate", "2026-07") == "no_data"  # nothing accepted


# --- maturity and the judged months --------------------------------------------------------------


@pytest.mark.parametrize(
    ("report_month", "as_of", "expected"),
    [
        ("2026-10", date(2026, 11, 5), "2026-07"),  # SPEC §5: October's report judges July
        ("2026-10", date(2026, 10, 28), "2026-06"),  # July 31 + 90 = October 29
        ("2026-10", date(2026, 10, 29), "2026-07"),
        ("2026-07", date(2027, 3, 1), "2026-07"),  # never later than the report month
    ],
)
def test_latest_mature_month_is_the_last_whose_end_plus_window_is_on_or_before_as_of(
    report_month: str, as_of: date, expected: str
) -> None:
    assert latest_mature_month(report_month, 90, as_of) == expected


def test_downstream_judged_on_latest_mature_month_upstream_on_report_month() -> None:
    # July breaches SQL rate; October has no SQL yet (provisional) and fills only 5 of 10
    rows = [*sql_breach("2026-07"), *many(5, day("2026-10"))]
    _, statuses, _ = judged(rows)
    judged_months = dict(zip(statuses["metric"], statuses["judged_month"], strict=True))
    assert judged_months == {
        "cost_per_sql": "2026-07",
        "sql_rate": "2026-07",
        "fill_rate": "2026-10",
        "invalid_rate": "2026-10",
    }
    assert (status_of(statuses, "sql_rate"), status_of(statuses, "sql_rate", "value")) == (
        "breach",
        0.1,
    )
    assert status_of(statuses, "fill_rate") == "breach"  # 0.5 against 0.95
    # the report month's own downstream figures: an early signal, never a verdict
    assert status_of(statuses, "sql_rate", "report_value") == 0.0
    assert status_of(statuses, "sql_rate", "report_status") == "provisional"
    assert status_of(statuses, "cost_per_sql", "report_status") == "provisional"


def test_immature_months_never_breach_downstream_in_history() -> None:
    rows = [r for m in ("2026-08", "2026-09", "2026-10") for r in many(10, day(m))]
    history, _, verdicts = judged(rows)
    for month in ("2026-08", "2026-09", "2026-10"):
        assert history_status(history, "sql_rate", month) == "provisional"
        assert history_status(history, "cost_per_sql", month) == "provisional"
    assert verdict_of(verdicts) == "on track"  # July (judged) had no deliveries: no_data


# --- verdicts -----------------------------------------------------------------------------------


def test_verdict_on_track_when_nothing_is_breached() -> None:
    rows = [*good("2026-06"), *good("2026-07"), *good("2026-10")]
    _, statuses, verdicts = judged(rows)
    # a fill rate of exactly 1.0 is within 10% of its 0.95 min: at risk, not a breach
    assert dict(zip(statuses["metric"], statuses["status"], strict=True)) == {
        "cost_per_sql": "pass",
        "fill_rate": "at_risk",
        "invalid_rate": "pass",
        "sql_rate": "pass",
    }
    assert verdict_of(verdicts) == "on track"


def test_verdict_review_on_an_upstream_breach_in_the_report_month() -> None:
    rows = [*good("2026-07"), *good("2026-10"), lead(day("2026-10"), status="invalid")]
    _, statuses, verdicts = judged(rows)
    assert status_of(statuses, "invalid_rate") == "breach"  # 1 of 11
    assert verdict_of(verdicts) == "review"


def test_verdict_review_on_one_downstream_breach() -> None:
    rows = [*good("2026-06"), *sql_breach("2026-07"), *good("2026-10")]
    _, _, verdicts = judged(rows)
    assert verdict_of(verdicts) == "review"


def test_verdict_replace_when_the_same_downstream_threshold_breached_in_each_of_the_last_n_mature_months() -> (
    None
):
    rows = [*sql_breach("2026-06"), *sql_breach("2026-07"), *good("2026-10")]
    history, _, verdicts = judged(rows)
    assert history_status(history, "sql_rate", "2026-06") == "breach"
    assert verdict_of(verdicts) == "replace"
    reason = verdicts["reason"].item()
    assert "June 2026" in reason or "2026-06" in reason or "Jun" in reason


def test_replace_looks_at_the_last_n_mature_months_not_older_ones() -> None:
    # May and June breached; July (the latest mature month) passed
    rows = [*sql_breach("2026-05"), *sql_breach("2026-06"), *good("2026-07"), *good("2026-10")]
    _, _, verdicts = judged(rows)
    assert verdict_of(verdicts) == "on track"


def test_replace_counts_consecutive_breaches_from_the_contract() -> None:
    rows = [*sql_breach("2026-06"), *sql_breach("2026-07"), *good("2026-10")]
    _, _, verdicts = judged(rows, acme(consecutive_breaches=3))
    assert verdict_of(verdicts) == "review"
    rows = [r for m in ("2026-05", "2026-06", "2026-07") for r in sql_breach(m)] + good("2026-10")
    _, _, verdicts = judged(rows, acme(consecutive_breaches=3))
    assert verdict_of(verdicts) == "replace"


def test_replace_run_is_broken_by_a_gap_month() -> None:
    # May breached, June had no deliveries (no_data), July breached
    rows = [*sql_breach("2026-05"), *sql_breach("2026-07"), *good("2026-10")]
    history, _, verdicts = judged(rows)
    assert history_status(history, "sql_rate", "2026-06") == "no_data"
    assert verdict_of(verdicts) == "review"


def test_replace_needs_the_same_threshold_breached_each_month() -> None:
    # June: SQL rate 0.10 breaches, $850 per SQL does not. July: the $250 program — SQL rate 0.20
    # passes, $1,250 per SQL breaches.
    terms = acme(programs=(("p1", "content_syndication", "85.00", 10), ("p2", "hql", "250.00", 10)))
    july = day("2026-07")
    rows = [
        *sql_breach("2026-06"),
        *many(2, july, program="p2", lead_type="hql", cpl_cents=25000, sql=True, days_to_sql=3),
        *many(8, july, program="p2", lead_type="hql", cpl_cents=25000),
        *good("2026-10"),
    ]
    history, _, verdicts = judged(rows, terms)
    assert history_status(history, "sql_rate", "2026-06") == "breach"
    assert history_status(history, "cost_per_sql", "2026-06") == "at_risk"
    assert history_status(history, "sql_rate", "2026-07") == "pass"
    assert history_status(history, "cost_per_sql", "2026-07") == "breach"
    assert verdict_of(verdicts) == "review"


def test_follow_up_gap_breach_means_review_and_does_not_count_toward_replace() -> None:
    rows = [*sql_breach("2026-06"), *follow_up_gap("2026-07"), *good("2026-10")]
    history, statuses, verdicts = judged(rows)
    assert history_status(history, "sql_rate", "2026-07") == "breach (follow-up gap)"
    assert status_of(statuses, "sql_rate") == "breach (follow-up gap)"
    assert verdict_of(verdicts) == "review"
    assert "follow-up gap" in verdicts["reason"].item()


def test_follow_up_gap_month_breaks_a_replace_run() -> None:
    rows = [*follow_up_gap("2026-06"), *sql_breach("2026-07"), *good("2026-10")]
    history, _, verdicts = judged(rows)
    assert history_status(history, "sql_rate", "2026-06") == "breach (follow-up gap)"
    assert verdict_of(verdicts) == "review"


def test_immature_breaches_never_lead_to_replace() -> None:
    # August to October would breach SQL rate, but none is mature by November 5th
    rows = [
        *good("2026-07"),
        *[r for m in ("2026-08", "2026-09", "2026-10") for r in sql_breach(m)],
    ]
    _, statuses, verdicts = judged(rows)
    assert status_of(statuses, "sql_rate", "report_status") == "provisional"
    assert verdict_of(verdicts) == "on track"


def test_verdicts_one_row_per_vendor_with_its_latest_mature_month() -> None:
    bright = contract(
        vendor="bright",
        contract_id="BRIGHT-2026",
        programs=(("b1", "intent", "85.00", 10),),
        thresholds=THRESHOLDS,
        sql_window_days=30,
        evidence={"confidence": None},
    )
    rows = [
        *good("2026-07"),
        *good("2026-10"),
        *[
            {
                **r,
                "vendor_id": "bright",
                "contract_id": "BRIGHT-2026",
                "program_id": "b1",
                "lead_type": "intent",
            }
            for r in sql_breach("2026-09") + good("2026-10")
        ],
    ]
    _, statuses, verdicts = judged(rows, acme(), bright)
    assert verdicts.select("vendor_id", "latest_mature_month", "verdict").rows() == [
        ("acme", "2026-07", "on track"),
        ("bright", "2026-09", "review"),  # September 30 + 30 days = October 30 ≤ November 5
    ]
    assert set(statuses["vendor_id"]) == {"acme", "bright"}


def test_replace_is_only_for_sql_rate_or_cost_per_sql() -> None:
    # SAL rate breached in June and July (SQL rate passes): review, never replace
    thresholds = {**THRESHOLDS, "sal_rate": {"min": 0.5}}
    rows = [*good("2026-06"), *good("2026-07"), *good("2026-10")]
    history, statuses, verdicts = judged(rows, acme(thresholds=thresholds))
    assert history_status(history, "sal_rate", "2026-06") == "breach"
    assert status_of(statuses, "sal_rate") == "breach"
    assert verdict_of(verdicts) == "review"


def test_replace_counts_months_not_contracts_when_a_contract_changes_mid_month() -> None:
    # H1 runs to July 15th, H2 from July 16th: July is judged under both, June passed
    h1 = acme(contract_id="ACME-H1", end=date(2026, 7, 15))
    h2 = acme(
        contract_id="ACME-H2",
        start=date(2026, 7, 16),
        programs=(("p2", "content_syndication", "85.00", 10),),
    )
    h2_leads = {"contract_id": "ACME-H2", "program_id": "p2"}
    july = [{**r, **h2_leads} for r in sql_breach("2026-07")]
    october = [{**r, **h2_leads} for r in good("2026-10")]
    rows = [*good("2026-06"), *july, *october]
    history, _, verdicts = judged(rows, h1, h2)
    assert history_status(history, "sql_rate", "2026-06") == "pass"
    assert verdict_of(verdicts) == "review"


def test_a_month_split_between_two_contracts_is_judged_once_under_the_later_contract() -> None:
    # H1 runs to July 15th, H2 (a lower SQL-rate min) from July 16th; July is the report month
    h1 = acme(contract_id="ACME-H1", end=date(2026, 7, 15))
    h2 = acme(
        contract_id="ACME-H2",
        start=date(2026, 7, 16),
        programs=(("p2", "content_syndication", "85.00", 10),),
        thresholds={**THRESHOLDS, "sql_rate": {"min": 0.05}},
    )
    h2_leads = {"contract_id": "ACME-H2", "program_id": "p2"}
    rows = [*good("2026-06"), *[{**r, **h2_leads} for r in sql_breach("2026-07")]]
    _, statuses, verdicts = judged(rows, h1, h2, report_month="2026-07", as_of=date(2027, 1, 1))
    assert statuses.select("vendor_id", "metric").is_unique().all()
    assert set(statuses["contract_id"]) == {"ACME-H2"}
    assert status_of(statuses, "sql_rate") == "pass"  # 0.10 against H2's 0.05
    assert verdicts.select("vendor_id", "contract_id").rows() == [("acme", "ACME-H2")]


def test_a_judged_month_before_the_contract_began_keeps_its_status_under_the_earlier_one() -> None:
    h1 = acme(contract_id="ACME-H1", end=date(2026, 6, 30))
    h2 = acme(
        contract_id="ACME-H2",
        start=date(2026, 7, 1),
        programs=(("p2", "content_syndication", "85.00", 10),),
    )
    h2_leads = {"contract_id": "ACME-H2", "program_id": "p2"}
    rows = [*sql_breach("2026-06"), *[{**r, **h2_leads} for r in good("2026-08")]]
    # June 30 + 90 = September 28: an August report on October 15th judges June, under H1
    _, statuses, verdicts = judged(rows, h1, h2, report_month="2026-08", as_of=date(2026, 10, 15))
    assert status_of(statuses, "sql_rate", "judged_month") == "2026-06"
    assert status_of(statuses, "sql_rate") == "breach"
    assert verdicts.select("contract_id", "verdict").rows() == [("ACME-H2", "review")]
