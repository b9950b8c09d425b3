"""SPEC §5 evidence: a downstream breach must be conclusive on the month's leads (the Wilson
interval), `replace` is judged on the months pooled, and `confidence: null` judges the point
value. Every expected number below is worked out by hand from the SPEC's formula (z = 1.959964):

    lo, hi = (p + z²/2n ∓ z·√(p(1 − p)/n + z²/4n²)) / (1 + z²/n)

    k = 0,  n = 18:  hi = z²/(n + z²) = 3.841459 / 21.841459 = 0.175879; lo = 0
    k = n = 10:      lo = n/(n + z²)  = 10 / 13.841459        = 0.722467; hi = 1
    k = 1,  n = 18:  hi = 0.257573        k = 9, n = 290: lo = 0.016412, hi = 0.057919
    k = 3,  n = 100: hi = 0.084519        k = 6, n = 200: hi = 0.063894
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scorecards.contracts import Evidence
from scorecards.metrics import wilson_bounds
from scorecards.verdicts import pooled_conclusive, pooled_evidence, status_expr
from tests.test_metrics import contract, many, metrics_of, row
from tests.test_verdicts import judged, status_of, verdict_of

Z = 1.959964


def reference_hi(k: int, n: int, z: float = Z) -> float:
    """The SPEC's formula, written out in plain Python (independent of the Polars expression)."""
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + spread) / (1 + z * z / n)


def bounds(k: int, n: int, z: float | None = Z) -> tuple[float, float]:
    frame = pl.DataFrame(
        {"k": [float(k)], "n": [float(n)], "z": [z]}, schema_overrides={"z": pl.Float64}
    )
    lo, hi = wilson_bounds(pl.col("k"), pl.col("n"), pl.col("z"))
    return frame.select(lo.alias("lo"), hi.alias("hi")).row(0)


def test_default_confidence_is_95_percent_with_z_1_959964() -> None:
    assert Evidence().confidence == 0.95
    assert Evidence().z == pytest.approx(1.959964, abs=1e-6)
    assert Evidence(confidence=None).z is None
    assert Evidence(confidence=0.9).z == pytest.approx(1.644854, abs=1e-6)


def test_wilson_k_0_has_lo_0_and_hi_z2_over_n_plus_z2() -> None:
    lo, hi = bounds(0, 18)
    assert lo == 0.0
    assert hi == pytest.approx(0.175879, abs=1e-6)


def test_wilson_k_n_has_hi_1_and_lo_n_over_n_plus_z2() -> None:
    lo, hi = bounds(10, 10)
    assert hi == 1.0
    assert lo == pytest.approx(0.722467, abs=1e-6)


def test_wilson_of_9_in_290_is_the_spec_example() -> None:
    lo, hi = bounds(9, 290)
    assert (lo, hi) == (pytest.approx(0.016412, abs=1e-6), pytest.approx(0.057919, abs=1e-6))


def test_confidence_null_makes_both_bounds_the_point_value() -> None:
    assert bounds(1, 18, None) == (1 / 18, 1 / 18)


def test_metrics_carry_the_interval_beside_the_sql_rate() -> None:
    july = date(2026, 7, 10)
    rows = many(1, july, sql=True, days_to_sql=3) + many(17, july)
    vendor = row(metrics_of(rows), "vendor", "2026-07")
    assert vendor["sql_rate"] == 1 / 18
    assert vendor["sql_rate_lo"] == pytest.approx(0.009875, abs=1e-6)
    assert vendor["sql_rate_hi"] == pytest.approx(0.257573, abs=1e-6)


# --- the status of one value, with its evidence ------------------------------------------------


def status(metric: str, bound: str, limit: float, value: float | None, **facts: Any) -> str:
    frame = pl.DataFrame(
        [
            {
                "metric": metric,
                "bound": bound,
                "limit": limit,
                "kind": "downstream",
                "value": value,
                "spend_cents": facts.get("spend_cents", 153_000),
                "accepted": facts["accepted"],
                "sql_rate_hi": facts["hi"],
                "evidence_z": facts.get("z", Z),
                "mature": True,
                "execution_limited": False,
                "under_worked": facts.get("under_worked", False),
            }
        ],
        schema_overrides={"value": pl.Float64, "sql_rate_hi": pl.Float64, "evidence_z": pl.Float64},
    )
    return str(frame.select(status_expr()).item())


def test_sql_rate_below_its_min_on_18_leads_is_at_risk_not_breach() -> None:
    # 1 of 18 = 5.6% < 8%, but hi = 25.8% reaches the limit: not conclusive
    assert status("sql_rate", "min", 0.08, 1 / 18, accepted=18, hi=reference_hi(1, 18)) == "at_risk"


def test_sql_rate_with_hi_exactly_at_the_limit_is_not_conclusive() -> None:
    hi = reference_hi(9, 290)
    assert status("sql_rate", "min", hi, 9 / 290, accepted=290, hi=hi) == "at_risk"
    assert status("sql_rate", "min", hi + 1e-9, 9 / 290, accepted=290, hi=hi) == "breach"


def test_sql_rate_9_of_290_below_8_percent_is_conclusive() -> None:
    assert (
        status("sql_rate", "min", 0.08, 9 / 290, accepted=290, hi=reference_hi(9, 290)) == "breach"
    )


def test_k_equal_n_never_breaches_a_min() -> None:
    assert status("sql_rate", "min", 0.99, 1.0, accepted=10, hi=1.0) == "at_risk"  # in the band
    assert status("sql_rate", "min", 0.5, 1.0, accepted=10, hi=1.0) == "pass"


def test_cost_per_sql_with_no_sql_breaches_only_when_even_the_optimistic_count_costs_too_much() -> (
    None
):
    # 18 leads, $1,530 spent, no SQL: the optimistic SQL count is 18 × 0.175879 = 3.17,
    # so the optimistic cost per SQL is $1,530 / 3.17 = $483.29
    hi = reference_hi(0, 18)
    assert 1530 / (18 * hi) == pytest.approx(483.29, abs=0.01)
    assert status("cost_per_sql", "max", 400.0, None, accepted=18, hi=hi) == "breach"
    assert status("cost_per_sql", "max", 900.0, None, accepted=18, hi=hi) == "at_risk"


def test_confidence_null_judges_the_point_value() -> None:
    assert status("sql_rate", "min", 0.08, 1 / 18, accepted=18, hi=1 / 18, z=None) == "breach"
    assert status("cost_per_sql", "max", 900.0, None, accepted=18, hi=0.0, z=None) == "breach"


# --- verdicts and reasons ---------------------------------------------------------------------


def small_contract(**overrides: Any) -> Any:
    defaults: dict[str, Any] = {
        "programs": (("p1", "content_syndication", "85.00", 100),),
        "thresholds": {"sql_rate": {"min": 0.08}},
    }
    return contract(**{**defaults, **overrides})


def cohort(month: str, accepted: int, sqls: int) -> list[dict[str, Any]]:
    day = date.fromisoformat(f"{month}-10")
    # every lead worked 2–3 times: follow-up is not to blame
    return many(sqls, day, sql=True, days_to_sql=5, attempts=2) + many(
        accepted - sqls, day, attempts=2
    )


def test_not_conclusive_status_says_why_in_words() -> None:
    rows = cohort("2026-07", 18, 1) + cohort("2026-10", 18, 2)
    _, statuses, verdicts = judged(rows, small_contract())
    assert status_of(statuses, "sql_rate") == "at_risk"
    reason = status_of(statuses, "sql_rate", "reason")
    assert reason.startswith("SQL rate 5.6% (1 of 18 accepted) below the 8.0% minimum in Jul 2026")
    assert "below the limit on 18 leads: not conclusive" in reason
    assert "25.8%" in reason and "95% confidence" in reason
    assert verdict_of(verdicts) == "on track"


def test_pooled_months_are_conclusive_while_each_month_alone_is_not() -> None:
    # 3 of 100 in July and in August: each hi = 8.45% ≥ 8% (at risk); pooled 6 of 200:
    # hi = 6.39% < 8% — replace (SPEC §5: conclusive on the months pooled)
    rows = cohort("2026-07", 100, 3) + cohort("2026-08", 100, 3) + cohort("2026-10", 100, 9)
    history, _, verdicts = judged(rows, small_contract(), as_of=date(2026, 11, 30))
    sql = history.filter(
        pl.col("metric") == "sql_rate", pl.col("month").is_in(["2026-07", "2026-08"])
    )
    assert sql["status"].to_list() == ["at_risk", "at_risk"]
    assert sql["sql_rate_hi"].to_list() == [pytest.approx(0.084519, abs=1e-6)] * 2
    assert verdict_of(verdicts) == "replace"
    reason = verdicts["reason"].item()
    assert reason == (
        "SQL rate 3.0% (6 of 200 accepted) below the 8.0% minimum in Jul and Aug 2026; "
        "conclusive at 95% on the months pooled (at most 6.4%); "
        "sales worked 200 of 200 leads at least once."
    )


def test_pooled_months_not_conclusive_are_not_replace() -> None:
    # 1 of 18 twice: pooled 2 of 36, hi = 18.1% — still not conclusive against 8%
    rows = cohort("2026-07", 18, 1) + cohort("2026-08", 18, 1) + cohort("2026-10", 18, 1)
    _, _, verdicts = judged(rows, small_contract(), as_of=date(2026, 11, 30))
    assert verdict_of(verdicts) == "on track"


def test_confidence_null_contract_judges_small_months_on_the_point_value() -> None:
    rows = cohort("2026-07", 18, 1) + cohort("2026-08", 18, 1) + cohort("2026-10", 18, 1)
    evidence: dict[str, float | None] = {"confidence": None}
    _, statuses, verdicts = judged(
        rows, small_contract(evidence=evidence), as_of=date(2026, 11, 30)
    )
    assert status_of(statuses, "sql_rate") == "breach"
    assert verdict_of(verdicts) == "replace"
    assert "judged on the point value" in verdicts["reason"].item()


def test_reasons_say_1_sql_not_1_sqls() -> None:
    rows = cohort("2026-07", 100, 1) + cohort("2026-10", 100, 1)
    thresholds = {"cost_per_sql": {"max": 900.0}}
    _, statuses, _ = judged(rows, small_contract(thresholds=thresholds))
    reason = status_of(statuses, "cost_per_sql", "reason")
    assert "($8,500.00 for 1 SQL from 100 accepted)" in reason
    assert "SQLs" not in reason


# --- properties --------------------------------------------------------------------------------

cohorts = st.tuples(st.integers(1, 400), st.floats(0, 1)).map(lambda t: (round(t[0] * t[1]), t[0]))
limits = st.floats(0.001, 0.999)


@settings(max_examples=300, deadline=None)
@given(cohorts, limits)
def test_a_breach_is_never_declared_when_the_interval_reaches_the_limit(
    cohort_: tuple[int, int], limit: float
) -> None:
    k, n = cohort_
    _, hi = bounds(k, n)
    result = status("sql_rate", "min", limit, k / n, accepted=n, hi=hi)
    if hi >= limit:
        assert result != "breach"
    else:
        assert result == "breach"


@settings(max_examples=300, deadline=None)
@given(cohorts, cohorts, limits)
def test_adding_conclusive_evidence_never_turns_a_breach_into_a_pass(
    first: tuple[int, int], second: tuple[int, int], limit: float
) -> None:
    """A month conclusively below the limit, pooled with another month conclusively below it,
    stays conclusively below it."""
    months = pl.DataFrame(
        {
            "sql": [first[0], second[0]],
            "accepted": [first[1], second[1]],
            "spend_cents": [0, 0],
            "attempts_1": [0, 0],
            "attempts_2_3": [0, 0],
            "attempts_4plus": [0, 0],
            "attempts_unknown": [0, 0],
            "follow_up_unknown": [False, False],
        }
    )
    alone = [
        pooled_conclusive("sql_rate", limit, pooled_evidence(months[i : i + 1], Z)) for i in (0, 1)
    ]
    if all(alone):
        assert pooled_conclusive("sql_rate", limit, pooled_evidence(months, Z))
