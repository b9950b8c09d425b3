"""The ad-hoc vendor review: figures read back from the PDF equal the metrics formatted once,
range totals are sums (rates from the sums), runs of consecutive breaches and the recommendation
follow SPEC §5, and a wrong request is one sentence.

The portfolio is hand-made: vendor `acme` delivers 10 leads a month, Feb–Jul 2026, at $100 a
lead against 10 ordered, with SQLs 3, 2, 2, 1, 1, 0 — so its SQL rate (min 12%) and cost per SQL
(max $900) breach in May and Jun, twice in a row, the contract's escalation point. A 30-day SQL
window and an as-of of 2026-08-20 leave Jul's SQL window open. One extra malformed lead in Jun is
invalid. Vendor `beta` delivers two leads in Jun.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader

from scorecards import formatting as fmt
from scorecards.claims import LEDGER_SCHEMA
from scorecards.documents.review import _trend_chart, write_review
from scorecards.errors import UserError
from scorecards.pipeline import MonthResult, compute_month, read_inputs
from scorecards.review import (
    _breach_runs,
    _recommendation,
    _threshold_grid,
    months_phrase,
    vendor_review,
)
from scorecards.verdicts import threshold_frame

AS_OF = date(2026, 8, 20)
MONTHS = ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]
SQLS = dict(zip(MONTHS, [3, 2, 2, 1, 1, 0], strict=True))

CONTRACT = """\
vendor: {{id: {vendor}, name: "{name}"}}
contract_id: {contract}
term: {{start: 2026-01-01, end: 2026-12-31}}
programs:
  - {{id: {vendor}-p1, lead_type: content_syndication, cpl: 100.00, monthly_volume: 10}}
acceptance: {{reject_free_email: false}}
thresholds:
  fill_rate: {{min: 0.9}}
  invalid_rate: {{max: 0.2}}
  sql_rate: {{min: 0.12}}
  cost_per_sql: {{max: 900}}
sql_window_days: 30
escalation: {{consecutive_breaches: 2}}
evidence: {{confidence: null}}  # ten-lead months: these tests are about the rules, not evidence
"""
CRM_HEADER = (
    "email,crm_id,created_at,status,sal_at,sql_at,opportunity_at,won_at,opportunity_amount,attempts"
)


def _portfolio(root: Path) -> None:
    contracts = root / "contracts"
    contracts.mkdir()
    for vendor, name, contract in (("acme", "Acme Ltd", "ACME-2026"), ("beta", "Beta", "B-26")):
        (contracts / f"{vendor}.yaml").write_text(
            CONTRACT.format(vendor=vendor, name=name, contract=contract)
        )
    deliveries: list[str] = []
    crm: list[str] = []
    for month, sqls in SQLS.items():
        day = f"{month}-10"
        for n in range(10):
            lead = f"A{month[-2:]}{n:02d}"
            email = f"{lead.lower()}@{lead.lower()}.example"
            deliveries.append(f"acme,acme-p1,{lead},{day}T09:00:00Z,{email}")
            if n < sqls:
                crm.append(f"{email},crm-{lead},{day}T10:00:00Z,sql,,{month}-15T00:00:00Z,,,,1")
    deliveries.append("acme,acme-p1,BAD1,2026-06-11T09:00:00Z,not-an-email")
    deliveries += [f"beta,beta-p1,B{n},2026-06-10T09:00:00Z,b{n}@b{n}.example" for n in (1, 2)]
    folder = root / "data" / "deliveries"
    folder.mkdir(parents=True)
    (folder / "leads.csv").write_text(
        "vendor_id,program_id,vendor_lead_id,delivered_at,email\n" + "\n".join(deliveries) + "\n"
    )
    (root / "data" / "crm").mkdir()
    (root / "data" / "crm" / "crm.csv").write_text("\n".join([CRM_HEADER, *crm]) + "\n")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> MonthResult:
    root = tmp_path_factory.mktemp("review")
    _portfolio(root)
    outcome = compute_month(read_inputs(root / "data", root / "contracts"), "2026-07", AS_OF)
    assert outcome.quarantine.height == 0, outcome.quarantine
    return outcome


def _ledger_line(claim: str, vendor: str, lead: str, month: str, cents: int) -> dict[str, Any]:
    return {
        "claim_id": claim,
        "vendor_id": vendor,
        "vendor_lead_id": lead,
        "source_file": "deliveries/leads.csv",
        "source_line": 2,
        "delivered_at": datetime(int(month[:4]), int(month[5:]), 11, tzinfo=UTC),
        "program_id": f"{vendor}-p1",
        "month": month,
        "primary_reason": "malformed_email",
        "cpl_cents": cents,
        "claimed_on": date(int(month[:4]), int(month[5:]), 20),
    }


LEDGER = pl.DataFrame(
    [
        _ledger_line("CLM-ACME-JUN", "acme", "BAD1", "2026-06", 10000),
        _ledger_line("CLM-ACME-JUN", "acme", "X2", "2026-06", 10000),
        _ledger_line("CLM-ACME-JAN", "acme", "X0", "2026-01", 10000),  # before the range
        _ledger_line("CLM-BETA-JUN", "beta", "B9", "2026-06", 10000),  # another vendor
    ],
    schema=LEDGER_SCHEMA,
)
EMPTY_LEDGER = pl.DataFrame(schema=LEDGER_SCHEMA)


def _pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


# --- figures ------------------------------------------------------------------------------------


def test_monthly_rows_are_the_vendor_grain_metrics_of_each_month_in_range(
    result: MonthResult,
) -> None:
    review = vendor_review(result, EMPTY_LEDGER, "acme", "2026-03", "2026-06")
    expected = result.metrics.filter(
        pl.col("grain") == "vendor",
        pl.col("vendor_id") == "acme",
        pl.col("month").is_between(pl.lit("2026-03"), pl.lit("2026-06")),
    ).sort("month")
    assert review.monthly["month"].to_list() == ["2026-03", "2026-04", "2026-05", "2026-06"]
    for column in ("delivered", "accepted", "sql", "spend_cents", "sql_rate", "cost_per_sql"):
        assert review.monthly[column].to_list() == expected[column].to_list(), column
    assert review.monthly["sql"].to_list() == [2, 2, 1, 1]
    assert review.monthly["delivered"].to_list() == [10, 10, 10, 11]


def test_range_totals_sum_counts_and_money_and_derive_rates_from_the_sums(
    result: MonthResult,
) -> None:
    review = vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-07")
    totals = review.totals
    assert (totals["delivered"], totals["invalid"], totals["accepted"], totals["sql"]) == (
        61,
        1,
        60,
        9,
    )
    assert totals["delivered"] == review.monthly["delivered"].sum()
    assert totals["spend_cents"] == 60 * 10000 == review.monthly["spend_cents"].sum()
    assert totals["sql_rate"] == 9 / 60  # not the mean of the monthly rates
    assert totals["cost_per_sql"] == pytest.approx(6000 / 9)
    assert totals["invalid_rate"] == 1 / 61
    mature = review.mature_totals
    assert mature is not None  # Feb–Jun: Jul's window is open
    assert (mature["accepted"], mature["sql"], mature["sql_rate"]) == (50, 9, 9 / 50)
    assert review.judged_month == "2026-06"


def test_follow_up_diagnostic_sums_the_attempt_buckets_over_the_range(result: MonthResult) -> None:
    totals = vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-07").totals
    # every SQL lead was worked once; the rest have no CRM record (0 attempts)
    assert (totals["attempts_0"], totals["attempts_1"], totals["sql_attempts_1"]) == (51, 9, 9)
    assert totals["sql_rate_attempts_1"] == 1.0
    assert totals["sql_rate_4plus"] is None
    assert totals["execution_limited"] is False


def test_claims_filed_count_only_this_vendors_lines_delivered_in_the_range(
    result: MonthResult,
) -> None:
    claims = vendor_review(result, LEDGER, "acme", "2026-02", "2026-07").claims
    assert (claims.claims, claims.lines, claims.value_cents) == (1, 2, 20000)
    assert claims.by_claim["claim_id"].to_list() == ["CLM-ACME-JUN"]
    assert (claims.invalid_leads, claims.invalid_value_cents) == (1, 10000)


# --- runs and recommendation --------------------------------------------------------------------


def test_two_consecutive_mature_breaches_of_sql_rate_recommend_replace(
    result: MonthResult,
) -> None:
    review = vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-07")
    runs = {row["metric"]: row for row in review.runs.to_dicts()}
    assert runs["sql_rate"]["breach_months"] == ["2026-05", "2026-06"]
    assert (runs["sql_rate"]["current_run"], runs["sql_rate"]["longest_run"]) == (2, 2)
    assert (runs["sql_rate"]["current_from"], runs["sql_rate"]["last_judged"]) == (
        "2026-05",
        "2026-06",
    )
    assert runs["fill_rate"]["current_run"] == 0 and runs["fill_rate"]["last_judged"] == "2026-07"
    assert review.recommendation == "replace"
    # the figures behind it, and only what the CRM shows about follow-up (SPEC §4, §5)
    assert review.reasons[0].startswith(
        "SQL rate 10.0% (2 of 20 accepted) below the 12.0% minimum in May and Jun 2026; "
        "judged on the point value; sales worked 2 of 20 leads at least once."
    )
    # the monthly run's own verdict for the range's last month agrees (SPEC §5)
    verdict = result.verdicts.filter(pl.col("vendor_id") == "acme")["verdict"].item()
    assert verdict == "replace"


def test_provisional_month_is_not_judged_but_shown_as_an_early_signal(result: MonthResult) -> None:
    review = vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-07")
    july = review.thresholds.filter(pl.col("metric") == "sql_rate", pl.col("month") == "2026-07")
    assert july["status"].item() == "provisional"
    assert july["early_status"].item() == "breach"  # 0 SQLs so far
    assert any(r.startswith("Early signal: SQL rate") for r in review.reasons)


def test_a_single_mature_breach_recommends_review(result: MonthResult) -> None:
    review = vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-05")
    assert review.judged_month == "2026-05"
    assert review.recommendation == "review"
    assert any("SQL rate below its 12.0% minimum in May 2026 (10.0%)" in r for r in review.reasons)


def test_no_breach_at_the_judged_months_recommends_keep(result: MonthResult) -> None:
    review = vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-04")
    assert review.recommendation == "keep"
    assert review.runs["breach_months"].to_list() == [[], [], [], []]


def _grid(statuses: list[str]) -> pl.DataFrame:
    months = MONTHS[: len(statuses)]
    return pl.DataFrame(
        {
            "metric": "sql_rate",
            "bound": "min",
            "limit": 0.12,
            "kind": "downstream",
            "contract_id": "ACME-2026",
            "month": months,
            "value": 0.05,
            "status": statuses,
            "early_status": [None] * len(statuses),
        },
        schema_overrides={"early_status": pl.String},
    )


def test_follow_up_gap_breaks_a_run_and_never_counts_toward_replace(result: MonthResult) -> None:
    contracts = threshold_frame(result.portfolio.contracts)
    grid = _grid(["breach", "breach (follow-up gap)", "breach"])
    runs = _breach_runs(grid, contracts).row(0, named=True)
    assert (runs["longest_run"], runs["current_run"]) == (1, 1)
    assert runs["gap_months"] == ["2026-03"]
    verdict, reasons, gap_only = _recommendation(
        _breach_runs(grid, contracts), grid, "2026-04", "2026-04", "USD"
    )
    assert (verdict, gap_only) == ("review", False)
    gap_at_judged = _grid(["breach", "breach", "breach (follow-up gap)"])
    verdict, reasons, gap_only = _recommendation(
        _breach_runs(gap_at_judged, contracts), gap_at_judged, "2026-04", "2026-04", "USD"
    )
    assert (verdict, gap_only) == ("review", True)
    assert "follow-up gap" in reasons[0]


def test_longest_run_is_kept_when_the_current_run_is_shorter(result: MonthResult) -> None:
    grid = _grid(["breach", "breach", "breach", "pass", "breach"])
    runs = _breach_runs(grid, threshold_frame(result.portfolio.contracts)).row(0, named=True)
    assert (runs["longest_run"], runs["longest_from"], runs["longest_to"]) == (
        3,
        "2026-02",
        "2026-04",
    )
    assert (runs["current_run"], runs["current_from"]) == (1, "2026-06")


def test_a_month_two_contracts_share_is_judged_under_the_later_one() -> None:
    history = pl.DataFrame(
        {
            "vendor_id": "acme",
            "contract_id": ["H1", "H2", "H2"],
            "metric": "sql_rate",
            "bound": "min",
            "limit": [0.10, 0.12, 0.12],
            "kind": "downstream",
            "month": ["2026-06", "2026-06", "2026-07"],
            "value": [0.11, 0.11, 0.20],
            "mature": True,
            "execution_limited": False,
            "status": ["at_risk", "breach", "pass"],
        }
    )
    starts = pl.DataFrame(
        {"contract_id": ["H1", "H2"], "term_start": [date(2026, 1, 1), date(2026, 6, 15)]}
    )
    vendor_rows = pl.DataFrame({"month": ["2026-06", "2026-07"], "spend_cents": [100, 100]})
    grid = _threshold_grid(history, vendor_rows, starts, "acme", ["2026-06", "2026-07"])
    assert grid.select("contract_id", "limit", "status").rows() == [
        ("H2", 0.12, "breach"),
        ("H2", 0.12, "pass"),
    ]


def test_months_phrase_names_the_year_once_when_shared() -> None:
    assert months_phrase(["2026-06", "2026-07", "2026-08"]) == "Jun, Jul and Aug 2026"
    assert months_phrase(["2025-12", "2026-01"]) == "Dec 2025 and Jan 2026"
    assert months_phrase(["2026-06"]) == "Jun 2026"


# --- requests a user can get wrong --------------------------------------------------------------


def test_unknown_vendor_is_one_sentence_naming_the_known_vendors(result: MonthResult) -> None:
    with pytest.raises(UserError) as caught:
        vendor_review(result, EMPTY_LEDGER, "acme-typo", "2026-02", "2026-07")
    sentence = str(caught.value)
    assert "unknown vendor 'acme-typo'" in sentence and "acme, beta" in sentence
    assert "\n" not in sentence and sentence.endswith(".")


def test_contracts_in_two_currencies_in_the_range_are_refused_not_summed(
    result: MonthResult,
) -> None:
    """SPEC §4: a range over a USD and a EUR contract would sum money across currencies."""
    acme = next(c for c in result.portfolio.contracts if c.vendor.id == "acme")
    in_euros = acme.model_copy(update={"contract_id": f"{acme.contract_id}-EUR", "currency": "EUR"})
    mixed = replace(
        result,
        portfolio=result.portfolio.model_copy(
            update={"contracts": [*result.portfolio.contracts, in_euros]}
        ),
    )
    with pytest.raises(UserError) as caught:
        vendor_review(mixed, EMPTY_LEDGER, "acme", "2026-02", "2026-07")
    sentence = str(caught.value)
    assert "contracts in EUR and USD" in sentence and "never summed across currencies" in sentence
    assert "\n" not in sentence


def test_range_starting_after_it_ends_is_refused(result: MonthResult) -> None:
    with pytest.raises(UserError, match="--from 2026-07 is later than --to 2026-02"):
        vendor_review(result, EMPTY_LEDGER, "acme", "2026-07", "2026-02")


def test_range_outside_the_data_names_the_span_there_is(result: MonthResult) -> None:
    with pytest.raises(UserError, match="which runs from 2026-02 to 2026-07"):
        vendor_review(result, EMPTY_LEDGER, "acme", "2026-01", "2026-07")
    with pytest.raises(UserError, match="outside the data"):
        vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-08")


def test_month_not_written_yyyy_mm_is_refused(result: MonthResult) -> None:
    with pytest.raises(UserError, match=r"--to must be a month written YYYY-MM \(got '2026-7'\)"):
        vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-7")


# --- the PDF ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def review_pdf(result: MonthResult, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    review = vendor_review(result, LEDGER, "acme", "2026-02", "2026-07")
    out = tmp_path_factory.mktemp("reviews")
    path = write_review(review, {"as_of": result.as_of, "run_id": result.run_id}, out)
    assert path == out / "acme-2026-02-2026-07.pdf"
    return path, _pdf_text(path)


def _row_pattern(*cells: str) -> re.Pattern[str]:
    """The cells in order on one table row (anything but a line break between them)."""
    return re.compile(r"[^\S\n]+".join(re.escape(c) for c in cells))


def test_pdf_shows_each_months_figures_as_the_metrics_formatted_once(
    result: MonthResult, review_pdf: tuple[Path, str]
) -> None:
    text = review_pdf[1].replace("\nSQL window open\n", " ")  # the note under an open month
    rows = result.metrics.filter(pl.col("grain") == "vendor", pl.col("vendor_id") == "acme")
    for row in rows.sort("month").to_dicts():
        cells = (
            fmt.month(row["month"]),
            fmt.count(row["delivered"]),
            fmt.count(row["accepted"]),
            fmt.percent(row["invalid_rate"]),
            fmt.percent(row["fill_rate"]),
            fmt.count(row["sql"]),
            fmt.percent(row["sql_rate"]),
            fmt.money_units(row["cost_per_sql"]),
            fmt.money(row["spend_cents"]),
            fmt.money(row["pipeline_cents"]),
        )
        assert _row_pattern(*cells).search(text), cells


def test_pdf_total_row_is_the_sum_of_the_months(review_pdf: tuple[Path, str]) -> None:
    _, text = review_pdf
    total = ("Total", "61", "60", fmt.percent(1 / 61), fmt.percent(60 / 60), "9")
    assert _row_pattern(*total, fmt.percent(9 / 60), fmt.money_units(6000 / 9)).search(text)
    assert fmt.money(600000) in text


def test_pdf_leads_with_the_recommendation_and_names_runs_claims_and_footer(
    result: MonthResult, review_pdf: tuple[Path, str]
) -> None:
    path, text = review_pdf
    first_page = PdfReader(io.BytesIO(path.read_bytes())).pages[0].extract_text() or ""
    assert "REPLACE" in first_page.upper()
    assert "below the 12.0% minimum in May and Jun 2026" in " ".join(first_page.split())
    flat = " ".join(text.split())
    assert "2 months (May 2026 – Jun 2026)" in flat  # the consecutive-breach run
    assert "1 claim filed for 2 invalid leads, worth $200.00." in flat
    assert "CLM-ACME-JAN" not in flat and "CLM-BETA-JUN" not in flat
    pages = len(PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert f"Page {pages} of {pages}" in text
    assert f"as of {AS_OF.isoformat()} · run {result.run_id}" in text
    assert "breach" in flat and "provisional" in flat  # every status by word


def test_review_file_name_cannot_leave_the_output_folder(
    result: MonthResult, tmp_path: Path
) -> None:
    review = vendor_review(result, EMPTY_LEDGER, "acme", "2026-06", "2026-07")
    hostile = type(review)(**{**review.__dict__, "vendor_id": "../../escape"})
    path = write_review(hostile, {"as_of": AS_OF, "run_id": "r"}, tmp_path / "reviews")
    assert path.parent == tmp_path / "reviews" and path.is_file()


def test_trend_chart_of_a_long_range_labels_every_month_briefly(result: MonthResult) -> None:
    review = vendor_review(result, EMPTY_LEDGER, "acme", "2026-02", "2026-07")
    months = [f"2025-{m:02d}" for m in range(8, 13)] + list(MONTHS)
    long = replace(
        review,
        months=tuple(months),
        monthly=pl.concat(
            [review.monthly.head(1).with_columns(pl.lit(m).alias("month")) for m in months[:5]]
            + [review.monthly]
        ),
    )
    svg = base64.b64decode(_trend_chart(long).split(",", 1)[1]).decode()
    assert "Aug ’25" in svg and "Jul ’26" in svg


# --- the bundled sample, when it is there -------------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    not any((SAMPLE / "contracts").glob("*.yaml")), reason="the sample portfolio is not generated"
)
def test_sample_recommendations_agree_with_the_monthly_verdicts() -> None:
    from tests.conftest import SAMPLE_AS_OF, SAMPLE_MONTH

    outcome = compute_month(
        read_inputs(SAMPLE / "data", SAMPLE / "contracts"),
        SAMPLE_MONTH,
        date.fromisoformat(SAMPLE_AS_OF),
    )
    words = {"on track": "keep", "review": "review", "replace": "replace"}
    for row in outcome.verdicts.to_dicts():
        vendor = row["vendor_id"]
        span = outcome.metrics.filter(pl.col("grain") == "vendor", pl.col("vendor_id") == vendor)
        first = str(span["month"].min())
        review = vendor_review(outcome, EMPTY_LEDGER, vendor, first, SAMPLE_MONTH)
        assert review.recommendation == words[row["verdict"]], vendor
