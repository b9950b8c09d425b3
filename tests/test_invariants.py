"""Invariants of the metrics and statuses (SPEC §4, §5) on random small lead sets.

About fill_rate: SPEC §4 defines it as accepted / ordered, so a vendor that delivers more than
was ordered has a fill rate above 1 (the extra leads are over_cap and not billed). The invariant
is therefore fill_rate ≥ 0, equal to accepted / ordered, and — per program — above 1 exactly
when some leads are over the cap. Every other rate is a share of its denominator, in [0, 1].
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from scorecards.metrics import COUNTS, MONEY, months_between, vendor_month_metrics
from scorecards.verdicts import threshold_history, threshold_statuses, vendor_verdicts
from tests.test_metrics import contract, lead, leads_frame, program_frame

THRESHOLDS = {
    "fill_rate": {"min": 0.95},
    "invalid_rate": {"max": 0.08},
    "sql_rate": {"min": 0.12},
    "cost_per_sql": {"max": 900.0},
}
CONTRACTS = (
    contract(
        programs=(("p1", "cs", "85.00", 3), ("p2", "hql", "120.50", 2)),
        thresholds=THRESHOLDS,
        sql_window_days=90,
    ),
    contract(
        vendor="bright",
        contract_id="BRIGHT-2026",
        programs=(("b1", "cs", "50.00", 4),),
        thresholds=THRESHOLDS,
        sql_window_days=30,
    ),
)
# program -> (vendor, contract, lead type, cpl cents)
PROGRAMS = {
    "p1": ("acme", "ACME-2026", "cs", 8500),
    "p2": ("acme", "ACME-2026", "hql", 12050),
    "b1": ("bright", "BRIGHT-2026", "cs", 5000),
}
MONTHS = months_between("2026-05", "2026-08")
SHARES = [
    "invalid_rate",
    "sql_rate",
    "sal_rate",
    "share_worked_4plus",
    "sql_rate_attempts_1",
    "sql_rate_4plus",
]
ROLLUPS = {"vendor": ["vendor_id"], "lead_type": ["lead_type"], "portfolio": []}
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def random_lead(draw: st.DrawFn) -> dict[str, Any]:
    program = draw(st.sampled_from(sorted(PROGRAMS)))
    vendor, contract_id, lead_type, cpl = PROGRAMS[program]
    month = draw(st.sampled_from(MONTHS))
    sql = draw(st.booleans())
    opportunity = draw(st.booleans())
    return lead(
        date.fromisoformat(f"{month}-{draw(st.integers(1, 28)):02d}"),
        status=draw(st.sampled_from(["accepted", "accepted", "invalid"])),
        program=program,
        lead_type=lead_type,
        cpl_cents=cpl,
        vendor=vendor,
        contract_id=contract_id,
        domain=draw(st.sampled_from([None, "a.example", "b.example", "c.example"])),
        attempts=draw(st.integers(0, 6)),
        sal=draw(st.booleans()),
        sql=sql,
        days_to_sql=draw(st.integers(0, 90)) if sql else None,
        opportunity=opportunity,
        amount_cents=draw(st.integers(0, 10_000_000)) if opportunity else None,
    )


lead_sets = st.lists(random_lead(), max_size=40)
as_of_dates = st.dates(date(2026, 8, 1), date(2027, 2, 1))


def metrics_for(rows: list[dict[str, Any]], as_of: date) -> pl.DataFrame:
    return vendor_month_metrics(leads_frame(rows), program_frame(*CONTRACTS), MONTHS, as_of)


def judged(metrics: pl.DataFrame, as_of: date) -> tuple[pl.DataFrame, ...]:
    contracts = list(CONTRACTS)
    history = threshold_history(metrics, contracts, MONTHS)
    statuses = threshold_statuses(history, contracts, MONTHS[-1], as_of)
    verdicts = vendor_verdicts(history, statuses, contracts, MONTHS[-1], as_of)
    return history, statuses, verdicts


@FAST
@given(lead_sets, as_of_dates)
def test_shares_lie_in_0_1_and_fill_rate_is_accepted_over_ordered(
    rows: list[dict[str, Any]], as_of: date
) -> None:
    metrics = metrics_for(rows, as_of)
    for column in SHARES:
        values = metrics[column].drop_nulls()
        assert values.is_between(0.0, 1.0).all(), column
    fill = metrics.filter(pl.col("ordered") > 0)
    assert (fill["fill_rate"] == fill["accepted"] / fill["ordered"]).all()
    assert (
        metrics.filter(pl.col("ordered") == 0)["fill_rate"].null_count()
        == metrics.filter(pl.col("ordered") == 0).height
    )
    programs = metrics.filter(pl.col("grain") == "program", pl.col("ordered") > 0)
    assert ((programs["fill_rate"] > 1) == (programs["over_cap"] > 0)).all()


@FAST
@given(lead_sets, as_of_dates)
def test_counts_reconcile_at_every_grain(rows: list[dict[str, Any]], as_of: date) -> None:
    m = metrics_for(rows, as_of)
    assert (m["delivered"] == m["invalid"] + m["accepted"]).all()
    assert (m["accepted"] == m["billable"] + m["over_cap"]).all()
    assert (m["billable"] <= m["ordered"]).all()
    assert (m["sql"] <= m["accepted"]).all() and (m["sal"] <= m["accepted"]).all()
    buckets = ["attempts_0", "attempts_1", "attempts_2_3", "attempts_4plus"]
    assert (m.select(pl.sum_horizontal(buckets))["attempts_0"] == m["accepted"]).all()
    sql_buckets = [f"sql_{b}" for b in buckets]
    assert (m.select(pl.sum_horizontal(sql_buckets))["sql_attempts_0"] == m["sql"]).all()
    assert (m["accounts_with_sql"] <= m["accounts"]).all()
    assert (m["cost_per_sql"].is_null() == (m["sql"] == 0)).all()
    # nothing lost: the portfolio holds every lead delivered in the months measured
    portfolio = m.filter(pl.col("grain") == "portfolio")
    assert portfolio["delivered"].sum() == len(rows)
    assert portfolio["accepted"].sum() == sum(r["status"] == "accepted" for r in rows)


@FAST
@given(lead_sets, as_of_dates)
def test_rollups_equal_the_sums_of_their_program_rows(
    rows: list[dict[str, Any]], as_of: date
) -> None:
    m = metrics_for(rows, as_of)
    programs = m.filter(pl.col("grain") == "program")
    additive = [*COUNTS, *MONEY]
    for grain, keys in ROLLUPS.items():
        expected = (
            programs.group_by([*keys, "month"])
            .agg(pl.col(additive).sum())
            .sort([*keys, "month"])
            .select(*keys, "month", *additive)
        )
        got = m.filter(pl.col("grain") == grain).sort([*keys, "month"])
        assert_frame_equal(got.select(*keys, "month", *additive), expected)
        # rates from the sums, never averaged
        assert_frame_equal(
            got.select("sql_rate"),
            got.select(
                pl.when(pl.col("accepted") > 0)
                .then(pl.col("sql") / pl.col("accepted"))
                .alias("sql_rate")
            ),
        )


@FAST
@given(lead_sets, as_of_dates)
def test_accounts_are_distinct_domains_of_accepted_leads_at_each_grain(
    rows: list[dict[str, Any]], as_of: date
) -> None:
    m = metrics_for(rows, as_of)
    leads = leads_frame(rows).filter(pl.col("status") == "accepted")
    for grain, keys in {"program": ["program_id"], **ROLLUPS}.items():
        expected = (
            leads.group_by([*keys, "month"])
            .agg(pl.col("company_domain").drop_nulls().n_unique().cast(pl.Int64).alias("n"))
            .sort([*keys, "month"])
        )
        got = (
            m.filter(pl.col("grain") == grain, pl.col("accepted") > 0)
            .sort([*keys, "month"])
            .select(*keys, "month", pl.col("accounts").alias("n"))
        )
        assert_frame_equal(got, expected, check_row_order=False)


@FAST
@given(lead_sets, as_of_dates, st.integers(0, 2**16))
def test_rerunning_gives_identical_frames_whatever_the_row_order(
    rows: list[dict[str, Any]], as_of: date, seed: int
) -> None:
    first = metrics_for(rows, as_of)
    shuffled = leads_frame(rows).sample(fraction=1.0, shuffle=True, seed=seed)
    again = vendor_month_metrics(shuffled, program_frame(*CONTRACTS), MONTHS, as_of)
    assert_frame_equal(first, again)
    for a, b in zip(judged(first, as_of), judged(again, as_of), strict=True):
        assert_frame_equal(a, b)


@FAST
@given(lead_sets, as_of_dates)
def test_downstream_never_breaches_in_an_immature_month(
    rows: list[dict[str, Any]], as_of: date
) -> None:
    history, statuses, verdicts = judged(metrics_for(rows, as_of), as_of)
    immature = history.filter(pl.col("kind") == "downstream", ~pl.col("mature").fill_null(False))
    assert set(immature["status"].to_list()) <= {"provisional"}
    assert set(statuses["status"].to_list()) <= {
        "pass",
        "at_risk",
        "breach",
        "breach (follow-up gap)",
        "provisional",
        "no_data",
    }
    assert verdicts["vendor_id"].is_unique().all()
    assert set(verdicts["verdict"].to_list()) <= {
        "on track",
        "review",
        "replace",
        "no deliveries received",
    }
