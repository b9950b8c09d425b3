"""Metrics (SPEC §4): one tiny hand-computed fixture per rule.

Leads frames are built directly (DESIGN.md "leads", only the columns metrics read); the SQL
window and as-of rules, which are decided when a lead's outcome is read, run end to end from
CSV files. The helpers here are shared with test_verdicts.py and test_invariants.py.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from scorecards.contracts import Contract, ContractError, Portfolio, load_contracts
from scorecards.metrics import (
    COUNTS,
    MONEY,
    months_between,
    program_month_metrics,
    rolled_up_metrics,
    vendor_month_metrics,
)
from scorecards.pipeline import compute_month, read_inputs

AS_OF = date(2027, 6, 30)  # every month below is mature unless a test says otherwise

LEADS_SCHEMA: dict[str, Any] = {
    "vendor_id": pl.String,
    "contract_id": pl.String,
    "program_id": pl.String,
    "lead_type": pl.String,
    "month": pl.String,
    "delivery_date": pl.Date,
    "status": pl.String,
    "cpl_cents": pl.Int64,
    "company_domain": pl.String,
    "attempts": pl.Int64,
    "sal": pl.Boolean,
    "sql": pl.Boolean,
    "days_to_sql": pl.Int64,
    "opportunity": pl.Boolean,
    "opportunity_amount_cents": pl.Int64,
}


def contract(
    *,
    vendor: str = "acme",
    contract_id: str = "ACME-2026",
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
    programs: tuple[tuple[str, str, str, int], ...] = (
        ("p1", "content_syndication", "85.00", 400),
    ),
    thresholds: dict[str, dict[str, float]] | None = None,
    sql_window_days: int = 90,
    consecutive_breaches: int = 2,
    evidence: dict[str, float | None] | None = None,
    currency: str = "USD",
) -> Contract:
    """A contract with only what metrics and verdicts read; programs are (id, type, cpl, volume)."""
    return Contract.model_validate(
        {
            "vendor": {"id": vendor, "name": vendor.title()},
            "contract_id": contract_id,
            "currency": currency,
            "term": {"start": start, "end": end},
            "programs": [
                {"id": p, "lead_type": t, "cpl": Decimal(cpl), "monthly_volume": volume}
                for p, t, cpl, volume in programs
            ],
            "thresholds": thresholds or {},
            "sql_window_days": sql_window_days,
            "escalation": {"consecutive_breaches": consecutive_breaches},
            **({"evidence": evidence} if evidence is not None else {}),
        }
    )


def program_frame(*contracts: Contract) -> pl.DataFrame:
    return Portfolio(contracts=list(contracts)).program_frame()


def lead(
    day: date,
    *,
    status: str = "accepted",
    program: str = "p1",
    lead_type: str = "content_syndication",
    cpl_cents: int = 8500,
    vendor: str = "acme",
    contract_id: str = "ACME-2026",
    domain: str | None = None,
    attempts: int | None = 0,
    sal: bool = False,
    sql: bool = False,
    days_to_sql: int | None = None,
    opportunity: bool = False,
    amount_cents: int | None = None,
) -> dict[str, Any]:
    """One lead as the judge leaves it (only the columns metrics read)."""
    return {
        "vendor_id": vendor,
        "contract_id": contract_id,
        "program_id": program,
        "lead_type": lead_type,
        "month": day.strftime("%Y-%m"),
        "delivery_date": day,
        "status": status,
        "cpl_cents": cpl_cents,
        "company_domain": domain,
        "attempts": attempts,
        "sal": sal,
        "sql": sql,
        "days_to_sql": days_to_sql if sql else None,
        "opportunity": opportunity,
        "opportunity_amount_cents": amount_cents if opportunity else None,
    }


def leads_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LEADS_SCHEMA)


def many(n: int, day: date, **fields: Any) -> list[dict[str, Any]]:
    return [lead(day, **fields) for _ in range(n)]


def row(metrics: pl.DataFrame, grain: str, month: str, **keys: str) -> dict[str, Any]:
    """The one metrics row of `grain` and `month` matching `keys`."""
    found = metrics.filter(
        pl.col("grain") == grain,
        pl.col("month") == month,
        *[pl.col(k) == v for k, v in keys.items()],
    )
    assert found.height == 1, found
    return found.row(0, named=True)


def metrics_of(
    rows: list[dict[str, Any]],
    *contracts: Contract,
    months: tuple[str, str] = ("2026-07", "2026-07"),
    as_of: date = AS_OF,
) -> pl.DataFrame:
    programs = program_frame(*(contracts or (contract(),)))
    return vendor_month_metrics(leads_frame(rows), programs, months_between(*months), as_of)


JULY = date(2026, 7, 10)

# --- ordered, fill rate, billable, spend ---------------------------------------------------------


def test_ordered_is_monthly_volume_for_each_month_the_term_overlaps_including_a_mid_month_start() -> (
    None
):
    terms = contract(
        start=date(2026, 7, 15), end=date(2026, 9, 1), programs=(("p1", "cs", "85.00", 3),)
    )
    metrics = vendor_month_metrics(
        leads_frame([]), program_frame(terms), months_between("2026-06", "2026-10"), AS_OF
    )
    programs = metrics.filter(pl.col("grain") == "program")
    assert dict(zip(programs["month"], programs["ordered"], strict=True)) == {
        "2026-07": 3,  # the term starts on the 15th: July still counts
        "2026-08": 3,
        "2026-09": 3,  # the term ends on the 1st: September still counts
    }


def test_ordered_is_zero_outside_the_term_and_fill_rate_then_has_no_value() -> None:
    terms = contract(start=date(2026, 8, 1), programs=(("p1", "cs", "85.00", 3),))
    metrics = metrics_of(many(2, JULY, lead_type="cs"), terms, months=("2026-07", "2026-08"))
    july = row(metrics, "program", "2026-07", program_id="p1")
    assert (july["ordered"], july["accepted"], july["fill_rate"]) == (0, 2, None)
    assert (july["billable"], july["over_cap"], july["spend_cents"]) == (0, 2, 0)
    august = row(metrics, "program", "2026-08", program_id="p1")
    assert (august["ordered"], august["delivered"], august["fill_rate"]) == (3, 0, 0.0)


def test_fill_rate_has_no_value_when_ordered_is_zero() -> None:
    terms = contract(programs=(("p1", "cs", "85.00", 0),))
    metrics = metrics_of(many(2, JULY, lead_type="cs"), terms)
    for grain in ("program", "vendor", "lead_type", "portfolio"):
        assert row(metrics, grain, "2026-07")["fill_rate"] is None


def test_fill_rate_is_accepted_over_ordered() -> None:
    terms = contract(programs=(("p1", "cs", "85.00", 4),))
    rows = many(3, JULY, lead_type="cs") + many(2, JULY, lead_type="cs", status="invalid")
    assert row(metrics_of(rows, terms), "program", "2026-07")["fill_rate"] == 0.75


def test_billable_is_min_of_accepted_and_ordered_per_program_over_cap_the_rest_spend_in_cents() -> (
    None
):
    terms = contract(programs=(("p1", "cs", "85.00", 3), ("p2", "hql", "120.50", 4)))
    rows = [
        *many(5, JULY, program="p1", lead_type="cs"),
        lead(JULY, program="p1", lead_type="cs", status="invalid"),
        *many(2, JULY, program="p2", lead_type="hql", cpl_cents=12050),
    ]
    metrics = metrics_of(rows, terms)
    p1 = row(metrics, "program", "2026-07", program_id="p1")
    p2 = row(metrics, "program", "2026-07", program_id="p2")
    assert (p1["billable"], p1["over_cap"], p1["spend_cents"]) == (3, 2, 3 * 8500)
    assert (p2["billable"], p2["over_cap"], p2["spend_cents"]) == (2, 0, 2 * 12050)
    vendor = row(metrics, "vendor", "2026-07", vendor_id="acme")
    # per program, then summed: min(7 accepted, 7 ordered) at vendor level would bill 7
    assert (vendor["billable"], vendor["over_cap"]) == (5, 2)
    assert vendor["spend_cents"] == 25500 + 24100
    assert metrics.schema["spend_cents"] == pl.Int64


def test_invoiced_risk_is_invalid_times_cpl() -> None:
    terms = contract(programs=(("p1", "cs", "85.00", 3), ("p2", "hql", "120.50", 4)))
    rows = [
        *many(2, JULY, program="p1", lead_type="cs", status="invalid"),
        lead(JULY, program="p2", lead_type="hql", cpl_cents=12050, status="invalid"),
        *many(9, JULY, program="p1", lead_type="cs"),  # over the cap: not at risk, just unbilled
    ]
    metrics = metrics_of(rows, terms)
    assert row(metrics, "program", "2026-07", program_id="p1")["invoiced_risk_cents"] == 17000
    assert row(metrics, "vendor", "2026-07")["invoiced_risk_cents"] == 17000 + 12050


def test_delivered_counts_invalid_and_accepted_and_invalid_rate_is_over_delivered() -> None:
    rows = many(3, JULY) + many(1, JULY, status="invalid")
    july = row(metrics_of(rows), "program", "2026-07")
    assert (july["delivered"], july["invalid"], july["accepted"]) == (4, 1, 3)
    assert july["invalid_rate"] == 0.25


# --- zero SQLs ------------------------------------------------------------------------------------


def test_cost_per_sql_has_no_value_when_there_is_no_sql_even_with_spend() -> None:
    july = row(metrics_of(many(4, JULY)), "program", "2026-07")
    assert july["spend_cents"] == 4 * 8500
    assert july["sql"] == 0
    assert july["cost_per_sql"] is None  # not 0, not inf
    assert july["sql_rate"] == 0.0


def test_cost_per_sql_is_spend_over_sql_in_currency_units() -> None:
    rows = many(3, JULY, sql=True, days_to_sql=5) + many(7, JULY)
    july = row(metrics_of(rows), "program", "2026-07")
    assert july["cost_per_sql"] == 10 * 85.00 / 3
    assert july["sql_rate"] == 0.3


def test_cost_per_sql_exactly_a_whole_number_of_cents_has_no_float_residue() -> None:
    # $10.20 a lead, every lead an SQL: cost per SQL is exactly 10.20 (10.200000000000001 would
    # breach a max of 10.20 that it only meets)
    rows = many(3, JULY, cpl_cents=1020, sql=True, days_to_sql=1)
    terms = contract(programs=(("p1", "content_syndication", "10.20", 400),))
    assert row(metrics_of(rows, terms), "program", "2026-07")["cost_per_sql"] == 10.20


def test_pipeline_sums_opportunity_amounts_of_accepted_leads_and_per_dollar_of_spend() -> None:
    rows = [
        lead(JULY, opportunity=True, amount_cents=1_000_000),
        lead(JULY, opportunity=True, amount_cents=700_000),
        lead(JULY, status="invalid", opportunity=True, amount_cents=5_000_000),
        lead(JULY),
    ]
    july = row(metrics_of(rows), "program", "2026-07")
    assert (july["opportunities"], july["pipeline_cents"]) == (2, 1_700_000)
    assert july["pipeline_per_dollar"] == 1_700_000 / (3 * 8500)


def test_sal_rate_is_accepted_leads_with_a_sal_over_accepted() -> None:
    rows = many(1, JULY, sal=True) + many(3, JULY) + many(1, JULY, status="invalid", sal=True)
    july = row(metrics_of(rows), "program", "2026-07")
    assert (july["sal"], july["sal_rate"]) == (1, 0.25)


def test_sql_counts_only_accepted_leads() -> None:
    rows = many(1, JULY, sql=True, days_to_sql=3) + many(1, JULY, status="invalid", sql=True)
    assert row(metrics_of(rows), "program", "2026-07")["sql"] == 1


# --- rollups ------------------------------------------------------------------------------------


def rollup_fixture() -> pl.DataFrame:
    """acme: p1 (cs) 10 accepted, 1 SQL; p2 (hql) 2 accepted, 2 SQLs. bright: p9 (cs) 4, 1 SQL."""
    acme = contract(programs=(("p1", "cs", "85.00", 10), ("p2", "hql", "100.00", 2)))
    bright = contract(
        vendor="bright", contract_id="BRIGHT-2026", programs=(("p9", "cs", "50.00", 8),)
    )
    rows = [
        lead(JULY, program="p1", lead_type="cs", domain="a.example", sql=True, days_to_sql=10),
        *many(5, JULY, program="p1", lead_type="cs", domain="a.example"),
        *many(4, JULY, program="p1", lead_type="cs", domain="b.example"),
        lead(JULY, program="p1", lead_type="cs", status="invalid", domain="z.example"),
        *[
            lead(
                JULY,
                program="p2",
                lead_type="hql",
                cpl_cents=10000,
                domain=d,
                sql=True,
                days_to_sql=days,
            )
            for d, days in (("b.example", 20), ("c.example", 30))
        ],
        *[
            lead(
                JULY,
                vendor="bright",
                contract_id="BRIGHT-2026",
                program="p9",
                lead_type="cs",
                cpl_cents=5000,
                domain="a.example",
                sql=i == 0,
                days_to_sql=40,
            )
            for i in range(4)
        ],
    ]
    return metrics_of(rows, acme, bright)


def test_rollup_counts_and_money_are_sums_of_their_program_rows() -> None:
    metrics = rollup_fixture()
    programs = metrics.filter(pl.col("grain") == "program")
    additive = [c for c in [*COUNTS, *MONEY]]
    for grain, keys in (("vendor", ["vendor_id"]), ("lead_type", ["lead_type"]), ("portfolio", [])):
        expected = (
            programs.group_by([*keys, "month"]).agg(pl.col(additive).sum())
            if keys
            else programs.group_by("month").agg(pl.col(additive).sum())
        ).sort([*keys, "month"])
        got = metrics.filter(pl.col("grain") == grain).select(*keys, "month", *additive)
        assert got.sort([*keys, "month"]).equals(expected.select(*keys, "month", *additive))
    assert row(metrics, "portfolio", "2026-07")["spend_cents"] == 10 * 8500 + 2 * 10000 + 4 * 5000


def test_rollup_rates_are_recomputed_from_sums_never_averaged() -> None:
    metrics = rollup_fixture()
    assert row(metrics, "program", "2026-07", program_id="p1")["sql_rate"] == 0.1
    assert row(metrics, "program", "2026-07", program_id="p2")["sql_rate"] == 1.0
    acme = row(metrics, "vendor", "2026-07", vendor_id="acme")
    assert acme["sql_rate"] == 3 / 12  # the average of the programs' rates would be 0.55
    assert acme["fill_rate"] == 12 / 12
    assert acme["invalid_rate"] == 1 / 13
    assert acme["cost_per_sql"] == (85000 + 20000) / 100 / 3
    cs = row(metrics, "lead_type", "2026-07", lead_type="cs")
    assert cs["sql_rate"] == 2 / 14  # acme p1 1/10 and bright p9 1/4 pooled
    portfolio = row(metrics, "portfolio", "2026-07")
    assert portfolio["sql_rate"] == 4 / 16


def test_rollup_accounts_are_distinct_company_domains_at_each_grain_not_summed() -> None:
    metrics = rollup_fixture()
    p1 = row(metrics, "program", "2026-07", program_id="p1")
    p2 = row(metrics, "program", "2026-07", program_id="p2")
    assert (p1["accounts"], p1["accounts_with_sql"]) == (2, 1)  # the invalid z.example is out
    assert (p2["accounts"], p2["accounts_with_sql"]) == (2, 2)
    acme = row(metrics, "vendor", "2026-07", vendor_id="acme")
    assert (acme["accounts"], acme["accounts_with_sql"]) == (3, 3)  # a, b, c — not 2 + 2
    cs = row(metrics, "lead_type", "2026-07", lead_type="cs")
    assert (cs["accounts"], cs["accounts_with_sql"]) == (2, 1)  # a and b; bright's SQL is at a
    portfolio = row(metrics, "portfolio", "2026-07")
    assert (portfolio["accounts"], portfolio["accounts_with_sql"]) == (3, 3)


def test_rollup_days_to_sql_is_the_median_of_the_leads_not_of_the_programs() -> None:
    metrics = rollup_fixture()
    assert row(metrics, "program", "2026-07", program_id="p1")["days_to_sql"] == 10.0
    assert row(metrics, "program", "2026-07", program_id="p2")["days_to_sql"] == 25.0
    # leads 10, 20, 30 -> 20 (the mean of the program medians would be 17.5)
    assert row(metrics, "vendor", "2026-07", vendor_id="acme")["days_to_sql"] == 20.0
    assert row(metrics, "portfolio", "2026-07")["days_to_sql"] == 25.0  # 10, 20, 30, 40


def test_program_rows_can_be_rolled_up_separately() -> None:
    terms = contract()
    leads = leads_frame(many(2, JULY, sql=True, days_to_sql=1))
    programs = program_month_metrics(leads, program_frame(terms), ["2026-07"], AS_OF)
    assert programs["grain"].unique().to_list() == ["program"]
    rolled = rolled_up_metrics(programs, leads, AS_OF)
    assert sorted(rolled["grain"].unique().to_list()) == [
        "lead_type",
        "portfolio",
        "program",
        "vendor",
    ]


def test_money_is_never_summed_across_currencies_at_any_grain() -> None:
    """SPEC §4: a USD and a EUR vendor of one lead type give a lead-type and a portfolio row per
    currency, each carrying only its own spend."""
    usd = contract()
    eur = contract(
        vendor="datenwerk",
        contract_id="DW-2026",
        programs=(("d1", "content_syndication", "70.00", 400),),
        currency="EUR",
    )
    rows = many(3, JULY) + many(
        2, JULY, vendor="datenwerk", contract_id="DW-2026", program="d1", cpl_cents=7000
    )
    metrics = metrics_of(rows, usd, eur)
    for grain in ("lead_type", "portfolio"):
        by_currency = {
            r["currency"]: r["spend_cents"]
            for r in metrics.filter(pl.col("grain") == grain).iter_rows(named=True)
        }
        assert by_currency == {"USD": 3 * 8500, "EUR": 2 * 7000}, grain
    assert row(metrics, "vendor", "2026-07", vendor_id="datenwerk")["currency"] == "EUR"
    assert row(metrics, "program", "2026-07", program_id="p1")["currency"] == "USD"
    assert row(metrics, "portfolio", "2026-07", currency="EUR")["accepted"] == 2


def test_a_vendor_whose_contracts_differ_in_currency_is_refused_in_one_sentence(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "contracts"
    shutil.copytree(Path(__file__).parents[1] / "contracts", folder)
    text = (folder / "bluepeak-demand.yaml").read_text()
    renewal = (
        text.replace("contract_id: BP-2026", "contract_id: BP-2027")
        .replace("start: 2026-01-01, end: 2026-12-31", "start: 2027-01-01, end: 2027-12-31")
        .replace("bp-hql-2026", "bp-hql-2027")
        .replace("currency: USD", "currency: EUR")
    )
    (folder / "bluepeak-demand-2027.yaml").write_text(renewal)
    with pytest.raises(ContractError) as refused:
        load_contracts(folder)
    message = str(refused.value)
    # files are read by name: the 2027 renewal first, so the 2026 contract is the one named
    assert message.startswith(f"{folder / 'bluepeak-demand.yaml'}, line 6, field 'currency'")
    assert "is USD, but BP-2027" in message and "is in EUR" in message
    assert "share one currency" in message


# --- maturity -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "mature"),
    [
        (date(2026, 10, 28), False),  # July 31 + 90 days = October 29
        (date(2026, 10, 29), True),
        (date(2026, 10, 30), True),
    ],
)
def test_month_is_mature_iff_as_of_is_at_least_its_last_day_plus_the_sql_window(
    as_of: date, mature: bool
) -> None:
    metrics = metrics_of(many(2, JULY), contract(sql_window_days=90), as_of=as_of)
    for grain in ("program", "vendor", "lead_type", "portfolio"):
        assert row(metrics, grain, "2026-07")["mature"] is mature


# --- follow-up diagnostic -----------------------------------------------------------------------


def test_attempt_buckets_are_0_1_2_to_3_and_4_plus_and_null_attempts_are_unknown() -> None:
    # judge writes 0 attempts for a lead with no CRM record (SPEC §4: it counts as 0); a null
    # is a CRM record without attempts — in no bucket, counted as unknown
    rows = [
        lead(JULY, attempts=None),
        lead(JULY, attempts=0, sql=True, days_to_sql=1),
        lead(JULY, attempts=1),
        lead(JULY, attempts=2, sql=True, days_to_sql=1),
        lead(JULY, attempts=3),
        lead(JULY, attempts=4, sql=True, days_to_sql=1),
        lead(JULY, attempts=9),
        lead(JULY, attempts=9, status="invalid"),  # only accepted leads are bucketed
    ]
    july = row(metrics_of(rows), "program", "2026-07")
    buckets = ("0", "1", "2_3", "4plus")
    assert [july[f"attempts_{b}"] for b in buckets] == [1, 1, 2, 2]
    assert [july[f"sql_attempts_{b}"] for b in buckets] == [1, 0, 1, 1]
    assert july["attempts_unknown"] == 1
    assert july["follow_up_unknown"] is False  # other leads carry attempts
    assert july["share_worked"] == 5 / 6
    assert july["share_worked_4plus"] == 2 / 6
    assert july["sql_rate_4plus"] == 0.5
    assert july["sql_rate_attempts_1"] == 0.0


def follow_up(
    *, once: int, once_sql: int, worked: int, worked_sql: int, vendor: str = "acme"
) -> list[dict[str, Any]]:
    """`once` leads tried once (`once_sql` of them SQLs), `worked` leads tried 4+ times."""
    return [
        *[
            lead(JULY, vendor=vendor, attempts=1, sql=i < once_sql, days_to_sql=3)
            for i in range(once)
        ],
        *[
            lead(JULY, vendor=vendor, attempts=5, sql=i < worked_sql, days_to_sql=9)
            for i in range(worked)
        ],
    ]


@pytest.mark.parametrize(
    ("once", "once_sql", "worked", "worked_sql", "limited"),
    [
        (20, 1, 20, 2, True),  # 4+ rate 0.10 = exactly 2 × 0.05, both buckets hold 20
        (20, 1, 19, 2, False),  # 19 leads worked 4+ times: too few to tell
        (19, 1, 20, 3, False),  # 19 leads tried once: too few to tell
        (20, 2, 20, 3, False),  # 0.15 < 2 × 0.10
        (20, 0, 20, 0, False),  # 4+ rate must be above zero (0 ≥ 2 × 0 is not enough)
        (20, 0, 20, 1, True),  # any conversion at 4+ against none at 1
    ],
)
def test_execution_limited_when_4plus_rate_above_zero_at_least_twice_1_attempt_both_20_leads(
    once: int, once_sql: int, worked: int, worked_sql: int, limited: bool
) -> None:
    rows = follow_up(once=once, once_sql=once_sql, worked=worked, worked_sql=worked_sql)
    metrics = metrics_of(rows)
    assert row(metrics, "program", "2026-07")["execution_limited"] is limited
    assert row(metrics, "vendor", "2026-07")["execution_limited"] is limited


def test_execution_limited_is_judged_on_the_vendor_month_sums() -> None:
    # each program alone has too few leads; the vendor-month has 20 in each bucket
    terms = contract(programs=(("p1", "cs", "85.00", 400), ("p2", "cs", "85.00", 400)))
    rows = [
        {**r, "program_id": p, "lead_type": "cs"}
        for p in ("p1", "p2")
        for r in follow_up(once=10, once_sql=0, worked=10, worked_sql=1)
    ]
    metrics = metrics_of(rows, terms)
    assert row(metrics, "program", "2026-07", program_id="p1")["execution_limited"] is False
    assert row(metrics, "vendor", "2026-07")["execution_limited"] is True


def test_share_worked_4plus_rate_at_4plus_and_sql_deficit() -> None:
    rows = follow_up(once=20, once_sql=1, worked=20, worked_sql=2) + many(10, JULY, attempts=2)
    july = row(metrics_of(rows), "program", "2026-07")
    assert july["share_worked_4plus"] == 20 / 50
    assert july["sql_rate_4plus"] == 0.1
    assert july["sql_rate_attempts_1"] == 0.05
    assert july["sql_deficit"] == pytest.approx(20 * 0.1 - 1)  # n(1) × rate(4+) − sql(1)


def test_sql_deficit_and_4plus_rate_have_no_value_without_leads_worked_4plus() -> None:
    july = row(metrics_of(many(5, JULY, attempts=1)), "program", "2026-07")
    assert (july["sql_rate_4plus"], july["sql_deficit"], july["share_worked_4plus"]) == (
        None,
        None,
        0.0,
    )


# --- SQL window and as-of, end to end from files ------------------------------------------------

CONTRACT_YAML = """\
vendor: {id: acme, name: "Acme Ltd"}
contract_id: ACME-2026
term: {start: 2026-01-01, end: 2026-12-31}
programs:
  - {id: p1, lead_type: content_syndication, cpl: 85.00, monthly_volume: 100}
acceptance: {reject_free_email: false}
thresholds:
  sql_rate: {min: 0.12}
sql_window_days: 90
"""

CRM_HEADER = (
    "email,crm_id,created_at,status,sal_at,sql_at,opportunity_at,won_at,opportunity_amount,attempts"
)


def run_files(
    tmp_path: Path, leads: list[tuple[str, str]], crm: list[str], as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Deliveries (lead id, delivered_at) and canonical CRM lines through the whole month's run;
    the judged leads (by vendor_lead_id) and the metrics."""
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "acme.yaml").write_text(CONTRACT_YAML)
    deliveries = tmp_path / "data" / "deliveries" / "acme"
    deliveries.mkdir(parents=True)
    body = "".join(f"p1,{lid},{at},{lid.lower()}@{lid.lower()}.example\n" for lid, at in leads)
    (deliveries / "2026-07.csv").write_text("program_id,vendor_lead_id,delivered_at,email\n" + body)
    (tmp_path / "data" / "crm").mkdir()
    (tmp_path / "data" / "crm" / "crm.csv").write_text(CRM_HEADER + "\n" + "\n".join(crm) + "\n")
    inputs = read_inputs(tmp_path / "data", tmp_path / "contracts")
    result = compute_month(inputs, "2026-07", as_of)
    assert result.quarantine.height == 0, result.quarantine
    return result.leads.collect().sort("vendor_lead_id"), result.metrics


def crm_line(lead_id: str, **at: str) -> str:
    """A canonical CRM line for the lead `lead_id` (its email), with the given event times."""
    values = {
        "sal_at": "",
        "sql_at": "",
        "opportunity_at": "",
        "won_at": "",
        "opportunity_amount": "",
        "attempts": "1",
        **at,
    }
    email = f"{lead_id.lower()}@{lead_id.lower()}.example"
    return (
        f"{email},crm-{lead_id},2026-07-10T00:00:00Z,working,{values['sal_at']},"
        f"{values['sql_at']},{values['opportunity_at']},{values['won_at']},"
        f"{values['opportunity_amount']},{values['attempts']}"
    )


def test_sql_window_day_boundaries_delivery_day_and_day_plus_window_both_included(
    tmp_path: Path,
) -> None:
    delivered = "2026-07-10T15:00:00Z"  # day + 90 = 2026-10-08
    leads, metrics = run_files(
        tmp_path,
        [(lid, delivered) for lid in ("SAMEDAY", "LASTDAY", "DAYAFTER", "DAYBEFORE")],
        [
            crm_line("SAMEDAY", sql_at="2026-07-10T01:00:00Z"),  # earlier hour, same day
            crm_line("LASTDAY", sql_at="2026-10-08T23:59:59Z"),
            crm_line("DAYAFTER", sql_at="2026-10-09T00:00:00Z"),
            crm_line("DAYBEFORE", sql_at="2026-07-09T23:59:59Z"),
        ],
        as_of=date(2026, 12, 31),
    )
    assert dict(zip(leads["vendor_lead_id"], leads["sql"], strict=True)) == {
        "DAYAFTER": False,
        "DAYBEFORE": False,
        "LASTDAY": True,
        "SAMEDAY": True,
    }
    july = row(metrics, "program", "2026-07")
    assert (july["accepted"], july["sql"], july["days_to_sql"]) == (4, 2, 45.0)  # median of 0, 90


def test_crm_events_after_as_of_are_ignored_and_sal_and_opportunity_count_at_any_date_up_to_it(
    tmp_path: Path,
) -> None:
    as_of = date(2026, 11, 30)
    delivered = "2026-07-10T15:00:00Z"
    leads, metrics = run_files(
        tmp_path,
        [(lid, delivered) for lid in ("ONASOF", "AFTER", "LATESAL")],
        [
            # every event on the as-of day counts (dated after it = the next day or later)
            crm_line(
                "ONASOF",
                sal_at="2026-11-30T23:00:00Z",
                sql_at="2026-07-20T00:00:00Z",
                opportunity_at="2026-11-30T23:59:59Z",
                won_at="2026-11-30T12:00:00Z",
                opportunity_amount="12000.50",
            ),
            crm_line(
                "AFTER",
                sal_at="2026-12-01T00:00:00Z",
                opportunity_at="2026-12-01T00:00:00Z",
                won_at="2026-12-02T00:00:00Z",
                opportunity_amount="99000",
            ),
            # SAL and opportunity have no window: 130 days after delivery still count
            crm_line(
                "LATESAL",
                sal_at="2026-11-17T00:00:00Z",
                opportunity_at="2026-11-17T00:00:00Z",
                opportunity_amount="1000",
            ),
        ],
        as_of=as_of,
    )
    outcome = leads.select("vendor_lead_id", "sal", "sql", "opportunity", "won").rows()
    assert outcome == [
        ("AFTER", False, False, False, False),
        ("LATESAL", True, False, True, False),
        ("ONASOF", True, True, True, True),
    ]
    july = row(metrics, "program", "2026-07")
    assert (july["sal"], july["opportunities"], july["pipeline_cents"]) == (2, 2, 1_300_050)


def test_sql_after_as_of_is_ignored_so_an_old_as_of_reproduces_its_numbers(tmp_path: Path) -> None:
    leads, metrics = run_files(
        tmp_path,
        [("LATER", "2026-07-10T15:00:00Z")],
        [crm_line("LATER", sql_at="2026-08-02T09:00:00Z")],
        as_of=date(2026, 8, 1),
    )
    assert leads["sql"].to_list() == [False]
    assert leads["sql_at"].to_list() == [None]
    assert row(metrics, "program", "2026-07")["sql"] == 0


def test_sql_on_the_as_of_day_counts(tmp_path: Path) -> None:
    leads, _ = run_files(
        tmp_path,
        [("ONDAY", "2026-07-10T15:00:00Z")],
        [crm_line("ONDAY", sql_at="2026-08-01T23:59:59Z")],
        as_of=date(2026, 8, 1),
    )
    assert leads["sql"].to_list() == [True]
    assert leads["sql_at"].to_list() == [datetime(2026, 8, 1, 23, 59, 59, tzinfo=UTC)]
