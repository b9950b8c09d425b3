"""The benchmark's DuckDB implementation: hand-computed on a tiny fixture, then equal to the
project's pipeline on generated data (the latter turns on once `bench_metrics` exists)."""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from duckdb_metrics import (  # noqa: E402
    FLOOR_SQL_PATH,
    acceptance_frame,
    contract_tables,
    duckdb_metrics,
)
from parity import (  # noqa: E402
    HEADLINE_COLUMNS,
    PARITY_COLUMNS,
    default_month_and_as_of,
    disagreements,
)

MONTH = "2026-07"
AS_OF = date(2026, 9, 15)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


GOOD = {
    "vendor_id": "v1",
    "program_id": "p1",
    "company": "Acme",
    "company_domain": None,
    "country": "US",
    "employees": 500,
    "job_level": "director",
    "industry": "software",
    "consent": True,
    "q_timeline": "Q3",
}


def lead(vendor_lead_id: str, delivered: str, email: str, **changes: Any) -> dict[str, Any]:
    return {
        **GOOD,
        "vendor_lead_id": vendor_lead_id,
        "delivered_at": at(delivered),
        "email": email,
        **changes,
    }


DELIVERIES = [
    lead("L01", "2026-07-01T10:00", "a@acme.com"),
    lead("L02", "2026-07-01T11:00", "bad email@acme.com"),
    lead("L03", "2026-07-05T09:00", " A@Acme.com "),  # duplicate of L01
    lead("L04", "2026-07-02T09:00", "c@beta.com"),  # CRM knew it in June
    lead("L05", "2026-07-02T09:00", "d@gmail.com"),
    lead("L06", "2026-07-02T09:00", "f@iota.com", country="BR"),
    lead("L07", "2026-07-02T09:00", "g@kappa.com", employees=None),  # a criterion needs it
    lead("L08", "2026-07-02T09:00", "h@lambda.com", q_timeline="  "),
    lead("L09", "2026-07-02T09:00", "i@mu.com", consent=None),
    lead("L10", "2026-07-02T09:00", "j@nu.com"),  # bounced in the CRM
    lead("L11", "2026-07-02T09:00", "k@xi.com"),  # disqualified as a student
    lead("L12", "2026-07-02T09:00", "l@eta.com"),  # SQL one day past the window
    lead("L13", "2026-07-03T09:00", "m@theta.com"),  # SQL after as_of
    lead("L14", "2026-07-04T23:00", "e@acme.com", company_domain="ACME.com"),  # SQL same day
    lead("L15", "2026-07-10T09:00", "y@eps.com"),  # v2 delivered it in June
    lead("L16", "2026-07-01T09:00", "w@zeta.com"),  # v2 delivered it 122 days before
    lead("L17", "2026-07-01T09:00", "q@omicron.com", program_id="nope"),  # quarantined
    lead("L18", "2026-08-01T09:00", "r@pi.com"),  # next month
    lead("q-2", "2026-07-12T09:00", "z@delta.com", vendor_id="v2", program_id="q1"),
    lead("q-10", "2026-07-12T09:00", "z@delta.com", vendor_id="v2", program_id="q1"),
    lead("q-1", "2026-06-15T09:00", "y@eps.com", vendor_id="v2", program_id="q1"),
    lead("q-0", "2026-03-01T09:00", "w@zeta.com", vendor_id="v2", program_id="q1"),
]

CRM_NULLS = {
    "vendor_id": None,
    "vendor_lead_id": None,
    "sal_at": None,
    "sql_at": None,
    "opportunity_at": None,
    "opportunity_amount": None,
    "attempts": None,
    "email_bounced": False,
    "disqualified_reason": None,
}


def record(crm_id: str, email: str, created: str, **fields: Any) -> dict[str, Any]:
    timed = {k: at(v) if k.endswith("_at") and isinstance(v, str) else v for k, v in fields.items()}
    return {**CRM_NULLS, "crm_id": crm_id, "email": email, "created_at": at(created), **timed}


CRM = [
    record(
        "c01",
        "a@acme.com",
        "2026-07-01T08:00",  # same day as the delivery, earlier hour: not an existing contact
        vendor_id="v1",
        vendor_lead_id="L01",
        sal_at="2026-07-10T00:00",
        sql_at="2026-07-20T00:00",
        opportunity_at="2026-08-01T00:00",
        opportunity_amount=1000.50,
        attempts=4,
    ),
    record("c04", "c@beta.com", "2026-06-01T00:00"),
    record("c10", "j@nu.com", "2026-07-02T10:00", email_bounced=True),
    record("c11", "k@xi.com", "2026-07-02T10:00", disqualified_reason=" Student"),
    record("c12", "l@eta.com", "2026-07-02T10:00", sql_at="2026-10-01T00:00", attempts=1),
    record(
        "c13",
        "m@theta.com",
        "2026-07-03T10:00",
        sal_at="2026-09-20T00:00",
        sql_at="2026-09-20T00:00",
        attempts=2,
    ),
    record(
        "c14",
        "E@acme.com ",
        "2026-07-04T23:30",
        sal_at="2026-07-04T01:00",
        sql_at="2026-07-04T01:00",
        attempts=4,
    ),
]

PROGRAMS = pl.DataFrame(
    {
        "vendor_id": ["v1", "v1", "v2"],
        "contract_id": ["C1", "C1", "C2"],
        "program_id": ["p1", "p2", "q1"],
        "lead_type": ["content_syndication", "hql", "webinar"],
        "cpl_cents": [8500, 12000, 1000],
        "monthly_volume": [3, 5, 10],
        "term_start": [date(2026, 7, 1), date(2026, 7, 1), date(2026, 1, 1)],
        "term_end": [date(2026, 12, 31), date(2026, 12, 31), date(2026, 12, 31)],
        "sql_window_days": [90, 90, 60],
        "dedupe_days": [90, 90, 30],
    }
)

ACCEPTANCE = acceptance_frame(
    [
        {
            "contract_id": "C1",
            "countries": ["us", "CA"],
            "min_employees": 200,
            "max_employees": None,
            "job_levels": ["Director", "vp"],
            "industries": None,
            "required": ["email", "company", "q_timeline"],
            "reject_free_email": True,
            "require_consent": True,
        },
        {
            "contract_id": "C2",
            "countries": None,
            "min_employees": None,
            "max_employees": None,
            "job_levels": None,
            "industries": None,
            "required": [],
            "reject_free_email": False,
            "require_consent": False,
        },
    ]
)


@pytest.fixture
def metrics(tmp_path: Path) -> dict[str, dict[str, Any]]:
    deliveries = tmp_path / "deliveries.parquet"
    crm = tmp_path / "crm.parquet"
    pl.DataFrame(DELIVERIES).write_parquet(deliveries)
    pl.DataFrame(CRM).write_parquet(crm)
    frame = duckdb_metrics(deliveries, crm, PROGRAMS, ACCEPTANCE, MONTH, AS_OF)
    return {row["program_id"]: row for row in frame.iter_rows(named=True)}


def test_every_reason_invalidates_and_quarantined_rows_are_not_delivered(metrics):
    p1 = metrics["p1"]
    # 16 attributed July rows; L02-L11 fail one reason each, L03 and L15 are duplicates.
    assert (p1["delivered"], p1["invalid"], p1["accepted"]) == (16, 11, 5)


def test_duplicate_tie_goes_to_first_vendor_lead_id_in_string_order(metrics):
    q1 = metrics["q1"]
    assert (q1["delivered"], q1["invalid"], q1["accepted"]) == (2, 1, 1)


def test_billable_is_capped_at_ordered_and_spend_uses_billable(metrics):
    p1 = metrics["p1"]
    assert (p1["ordered"], p1["billable"], p1["over_cap"]) == (3, 3, 2)
    assert p1["spend_cents"] == 3 * 8500
    assert p1["invoiced_risk_cents"] == 11 * 8500
    assert metrics["q1"]["spend_cents"] == 1000


def test_sql_counts_inside_the_window_up_to_as_of(metrics):
    p1 = metrics["p1"]
    # L01 (day 19) and L14 (same day) count; L12 is a day late, L13 is after as_of.
    assert (p1["sql"], p1["sal"]) == (2, 2)
    assert p1["days_to_sql"] == pytest.approx(9.5)
    assert p1["cost_per_sql"] == pytest.approx(127.5)


def test_pipeline_accounts_and_attempt_buckets(metrics):
    p1 = metrics["p1"]
    assert (p1["opportunities"], p1["pipeline_cents"]) == (1, 100050)
    assert (p1["accounts"], p1["accounts_with_sql"]) == (4, 1)
    buckets = [p1[f"attempts_{b}"] for b in ("0", "1", "2_3", "4plus")]
    sql_buckets = [p1[f"sql_attempts_{b}"] for b in ("0", "1", "2_3", "4plus")]
    assert (buckets, sql_buckets) == ([1, 1, 1, 2], [0, 0, 0, 2])
    assert (p1["sql_rate_4plus"], p1["sql_deficit"]) == (1.0, 1.0)
    assert p1["execution_limited"] is False
    assert p1["mature"] is False


def test_ordered_program_without_deliveries_has_no_rates(metrics):
    p2 = metrics["p2"]
    assert (p2["ordered"], p2["delivered"], p2["fill_rate"]) == (5, 0, 0.0)
    assert (p2["invalid_rate"], p2["sql_rate"], p2["cost_per_sql"]) == (None, None, None)


def test_floor_query_judges_the_ten_reasons_like_the_full_implementation(tmp_path: Path):
    """The floor (headline counts only) gives the hand fixture's delivered, invalid, accepted,
    SQLs and spend exactly as the full DuckDB implementation does, and nothing else."""
    deliveries, crm = tmp_path / "d.parquet", tmp_path / "c.parquet"
    pl.DataFrame(DELIVERIES).write_parquet(deliveries)
    pl.DataFrame(CRM).write_parquet(crm)
    full = duckdb_metrics(deliveries, crm, PROGRAMS, ACCEPTANCE, MONTH, AS_OF)
    floor = duckdb_metrics(
        deliveries, crm, PROGRAMS, ACCEPTANCE, MONTH, AS_OF, sql_path=FLOOR_SQL_PATH
    )
    assert set(floor.columns) == {"grain", *KEYS_AND_MONTH, *HEADLINE_COLUMNS}
    assert floor.get_column("invalid").sum() == full.get_column("invalid").sum() > 5
    assert disagreements(full, floor, HEADLINE_COLUMNS) == []


KEYS_AND_MONTH = ("vendor_id", "contract_id", "program_id", "month")


def test_disagreements_name_each_differing_cell_and_missing_program_month():
    duck = pl.DataFrame(
        {"vendor_id": ["v1", "v1"], "contract_id": ["C1", "C1"], "program_id": ["p1", "p2"]}
    ).with_columns(pl.lit(1, pl.Int64).alias(c) for c in PARITY_COLUMNS)
    duck = duck.with_columns(month=pl.lit(MONTH))
    earlier_month = duck.with_columns(month=pl.lit("2026-06"), sql=pl.lit(9, pl.Int64))
    pipe = pl.concat([duck.head(1).with_columns(sql=pl.lit(2, pl.Int64)), earlier_month])
    assert disagreements(duck, duck) == []
    assert disagreements(pipe.with_columns(grain=pl.lit("program")), duck) == [
        "only DuckDB has program-month v1/C1/p2/2026-07",
        "v1/C1/p1/2026-07 sql: pipeline 2, DuckDB 1",
    ]


def _pipeline_ready() -> bool:
    """True once the colleague-owned pipeline entry point and benchmark generator exist."""
    try:
        pipeline = importlib.import_module("scorecards.pipeline")
        sample = importlib.import_module("scorecards.sample")
    except ImportError:
        return False
    return hasattr(pipeline, "bench_metrics") and hasattr(sample, "generate_benchmark")


@pytest.mark.skipif(
    not _pipeline_ready(),
    reason="the pipeline's bench_metrics or the sample generator is not written yet",
)
def test_duckdb_and_pipeline_agree_on_program_counts_and_money(tmp_path: Path):
    from scorecards.pipeline import bench_metrics  # type: ignore[import-not-found]
    from scorecards.sample import generate_benchmark  # type: ignore[import-not-found]

    generate_benchmark(tmp_path, 20_000, 7)
    deliveries = tmp_path / "deliveries.parquet"
    crm = tmp_path / "crm.parquet"
    contracts = tmp_path / "contracts"
    month, as_of = default_month_and_as_of(deliveries)
    programs, acceptance = contract_tables(contracts)
    ours = duckdb_metrics(deliveries, crm, programs, acceptance, month, as_of)
    theirs = bench_metrics(deliveries, crm, contracts, month, as_of)
    assert ours.get_column("delivered").sum() > 10_000
    assert disagreements(theirs, ours) == []
    floor = duckdb_metrics(
        deliveries, crm, programs, acceptance, month, as_of, sql_path=FLOOR_SQL_PATH
    )
    assert floor.get_column("invalid").sum() > 0
    assert floor.get_column("sql").sum() > 0
    assert disagreements(theirs, floor, HEADLINE_COLUMNS) == []


SPEC_CONTRACT = """\
vendor: {id: acme-syndication, name: "Acme Syndication Ltd"}
contract_id: ACME-2026-H2
term: {start: 2026-07-01, end: 2026-12-31}
currency: USD
programs:
  - id: acme-cs-q3
    lead_type: content_syndication
    cpl: 85.00
    monthly_volume: 400
acceptance:
  countries: [US, CA, GB]
  min_employees: 200
  job_levels: [director, vp, c_level]
  industries: null
  required_fields: [email, company, job_title]
  required_answers: [q_timeline]
  reject_free_email: true
  require_consent: true
  dedupe_days: 90
replacement:
  window_days: 30
  eligible_reasons: [malformed_email, duplicate]
  max_return_rate: 0.15
  remedy: credit
thresholds:
  fill_rate: {min: 0.95}
sql_window_days: 90
escalation: {consecutive_breaches: 2}
"""


def test_contract_tables_carry_every_acceptance_criterion(tmp_path: Path):
    (tmp_path / "acme.yaml").write_text(SPEC_CONTRACT)
    programs, acceptance = contract_tables(tmp_path)
    assert programs.select("program_id", "cpl_cents", "monthly_volume").row(0) == (
        "acme-cs-q3",
        8500,
        400,
    )
    assert acceptance.to_dicts() == [
        {
            "contract_id": "ACME-2026-H2",
            "countries": ["US", "CA", "GB"],
            "min_employees": 200,
            "max_employees": None,
            "job_levels": ["director", "vp", "c_level"],
            "industries": None,
            "required": ["email", "company", "job_title", "q_timeline"],
            "reject_free_email": True,
            "require_consent": True,
        }
    ]


FIXTURE_CONTRACTS = {
    "c1.yaml": """\
vendor: {id: v1, name: "V One"}
contract_id: C1
term: {start: 2026-07-01, end: 2026-12-31}
currency: USD
programs:
  - {id: p1, lead_type: content_syndication, cpl: 85.00, monthly_volume: 3}
  - {id: p2, lead_type: hql, cpl: 120.00, monthly_volume: 5}
acceptance:
  countries: [US, CA]
  min_employees: 200
  job_levels: [director, vp]
  required_fields: [email, company]
  required_answers: [q_timeline]
  reject_free_email: true
  require_consent: true
  dedupe_days: 90
replacement: {window_days: 30, eligible_reasons: [duplicate], max_return_rate: 0.15, remedy: credit}
thresholds: {fill_rate: {min: 0.95}}
sql_window_days: 90
escalation: {consecutive_breaches: 2}
""",
    "c2.yaml": """\
vendor: {id: v2, name: "V Two"}
contract_id: C2
term: {start: 2026-01-01, end: 2026-12-31}
currency: USD
programs:
  - {id: q1, lead_type: webinar, cpl: 10.00, monthly_volume: 10}
acceptance: {reject_free_email: false, require_consent: false, dedupe_days: 30}
replacement: {window_days: 30, eligible_reasons: [duplicate], max_return_rate: 0.15, remedy: credit}
thresholds: {fill_rate: {min: 0.95}}
sql_window_days: 60
escalation: {consecutive_breaches: 2}
""",
}


def _bench_metrics_ready() -> bool:
    try:
        pipeline = importlib.import_module("scorecards.pipeline")
    except ImportError:
        return False
    return hasattr(pipeline, "bench_metrics")


@pytest.mark.skipif(not _bench_metrics_ready(), reason="scorecards.pipeline.bench_metrics missing")
def test_duckdb_and_pipeline_agree_on_the_hand_fixture(tmp_path: Path):
    from scorecards.pipeline import bench_metrics

    contracts = tmp_path / "contracts"
    contracts.mkdir()
    for name, text in FIXTURE_CONTRACTS.items():
        (contracts / name).write_text(text)
    deliveries, crm = tmp_path / "deliveries.parquet", tmp_path / "crm.parquet"
    pl.DataFrame(DELIVERIES).write_parquet(deliveries)
    pl.DataFrame(CRM).write_parquet(crm)
    programs, acceptance = contract_tables(contracts)
    ours = duckdb_metrics(deliveries, crm, programs, acceptance, MONTH, AS_OF)
    theirs = bench_metrics(deliveries, crm, contracts, MONTH, AS_OF)
    assert ours.get_column("delivered").sum() == 18
    assert disagreements(theirs, ours) == []
