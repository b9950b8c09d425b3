"""Replacement claims (SPEC §6): one hand-computed fixture per rule, then the documents."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader

from scorecards.claims import (
    CLAIM_LINE_SCHEMA,
    LEDGER_SCHEMA,
    TERMS_SCHEMA,
    claim_lines,
    claims_by_vendor,
    empty_ledger,
    ledger_rows,
    replacement_terms,
)
from scorecards.documents.claim import CSV_COLUMNS, claim_csv, inert, write_claim

AS_OF = date(2026, 10, 31)
CPL = 8500  # $85.00


@dataclass(frozen=True)
class Run:
    run_id: str
    as_of: date


def lead(
    lead_id: str,
    day: date,
    *,
    status: str = "invalid",
    reason: str = "malformed_email",
    program: str = "p1",
    hour: int = 0,
    reasons: list[str] | None = None,
    evidence: list[str] | None = None,
    email: str | None = None,
) -> dict[str, object]:
    """One row of DESIGN.md's leads frame, with only what claims read."""
    invalid = status == "invalid"
    reasons = reasons if reasons is not None else ([reason] if invalid else [])
    return {
        "vendor_id": "acme",
        "contract_id": "ACME-2026-H2",
        "program_id": program,
        "vendor_lead_id": lead_id,
        "delivered_at": datetime(day.year, day.month, day.day, hour, tzinfo=UTC),
        "delivery_date": day,
        "month": day.strftime("%Y-%m"),
        "status": status,
        "primary_reason": reason if invalid else None,
        "reasons": reasons,
        "evidence": evidence if evidence is not None else [f"{r} of {lead_id}" for r in reasons],
        "email": email or f"{lead_id.lower()}@buyer.example",
        "source_file": "deliveries/acme/2026-10.csv",
        "source_line": 2,
        "cpl_cents": 1,  # deliberately wrong: the program frame's CPL is the one claimed
    }


LEADS_SCHEMA: dict[str, Any] = {
    "vendor_id": pl.String,
    "contract_id": pl.String,
    "program_id": pl.String,
    "vendor_lead_id": pl.String,
    "delivered_at": pl.Datetime("us", "UTC"),
    "delivery_date": pl.Date,
    "month": pl.String,
    "status": pl.String,
    "primary_reason": pl.String,
    "reasons": pl.List(pl.String),
    "evidence": pl.List(pl.String),
    "email": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
    "cpl_cents": pl.Int64,
}


def leads_frame(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=LEADS_SCHEMA)


def accepted(n: int, day: date, program: str = "p1") -> list[dict[str, object]]:
    return [lead(f"OK{i:03d}", day, status="accepted", program=program) for i in range(n)]


PROGRAMS = pl.DataFrame(
    {
        "vendor_id": ["acme", "acme"],
        "contract_id": ["ACME-2026-H2", "ACME-2026-H2"],
        "program_id": ["p1", "p2"],
        "cpl_cents": [CPL, 12000],
        "currency": ["USD", "USD"],
    }
)


def terms(
    *, window_days: int = 30, max_return_rate: float = 1.0, remedy: str = "credit"
) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "contract_id": "ACME-2026-H2",
                "vendor_id": "acme",
                "vendor_name": "Acme Syndication Ltd",
                "currency": "USD",
                "window_days": window_days,
                "eligible_reasons": ["malformed_email", "duplicate", "outside_icp", "free_email"],
                "max_return_rate": max_return_rate,
                "remedy": remedy,
            }
        ],
        schema=TERMS_SCHEMA,
    )


def dispositions(lines: pl.DataFrame) -> dict[str, str]:
    return dict(zip(lines["vendor_lead_id"], lines["disposition"], strict=True))


def ledger_of(lines: pl.DataFrame) -> pl.DataFrame:
    return ledger_rows(lines)


# --- window ---------------------------------------------------------------------------------


def test_lead_delivered_exactly_window_days_before_as_of_is_claimable() -> None:
    # 2026-10-31 - 2026-10-01 = 30 days; late in the day still counts by calendar day
    leads = leads_frame(lead("EDGE", date(2026, 10, 1), hour=23))
    lines = claim_lines(leads, PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    assert dispositions(lines) == {"EDGE": "claim"}
    assert lines["claim_deadline"].to_list() == [date(2026, 10, 31)]


def test_lead_delivered_one_day_past_the_window_is_expired() -> None:
    leads = leads_frame(lead("LATE", date(2026, 9, 30)), lead("EDGE", date(2026, 10, 1)))
    lines = claim_lines(leads, PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-09", "2026-10"])
    assert dispositions(lines) == {"LATE": "expired", "EDGE": "claim"}


def test_lead_delivered_after_as_of_is_not_known_yet() -> None:
    leads = leads_frame(lead("FUTURE", date(2026, 11, 1)), lead("NOW", AS_OF))
    lines = claim_lines(leads, PROGRAMS, terms(), AS_OF, empty_ledger(), None)
    assert dispositions(lines) == {"NOW": "claim"}


# --- cap ------------------------------------------------------------------------------------


def test_cap_is_floor_of_return_rate_times_delivered_invalid_included() -> None:
    # delivered = 3 invalid + 4 accepted = 7; floor(0.3 x 7) = floor(2.1) = 2
    leads = leads_frame(
        lead("A", date(2026, 10, 10)),
        lead("B", date(2026, 10, 11)),
        lead("C", date(2026, 10, 12)),
        *accepted(4, date(2026, 10, 5)),
    )
    lines = claim_lines(
        leads, PROGRAMS, terms(max_return_rate=0.3), AS_OF, empty_ledger(), ["2026-10"]
    )
    assert dispositions(lines) == {"A": "claim", "B": "claim", "C": "over_cap"}


def test_cap_counts_only_leads_delivered_by_as_of() -> None:
    # on 2026-10-31: 2 invalid + 2 accepted -> cap floor(0.5 x 4) = 2; the 4 accepted
    # delivered later in a re-run's export must not raise it to floor(0.5 x 8) = 4
    leads = leads_frame(
        lead("A", date(2026, 10, 10)),
        lead("B", date(2026, 10, 11)),
        lead("C", date(2026, 10, 12)),
        *accepted(1, date(2026, 10, 5)),
        *[lead(f"LATER{i}", date(2026, 11, 3), status="accepted") for i in range(4)],
    )
    lines = claim_lines(
        leads.with_columns(month=pl.lit("2026-10")),
        PROGRAMS,
        terms(max_return_rate=0.5),
        AS_OF,
        empty_ledger(),
        ["2026-10"],
    )
    assert dispositions(lines) == {"A": "claim", "B": "claim", "C": "over_cap"}


def test_cap_survives_binary_rounding_of_the_rate() -> None:
    # 0.29 x 100 is 28.999999999999996 in floating point; the cap is still 29
    invalid = [lead(f"I{i:03d}", date(2026, 10, 10)) for i in range(30)]
    leads = leads_frame(*invalid, *accepted(70, date(2026, 10, 5)))
    lines = claim_lines(
        leads, PROGRAMS, terms(max_return_rate=0.29), AS_OF, empty_ledger(), ["2026-10"]
    )
    assert lines["disposition"].value_counts().sort("disposition").rows() == [
        ("claim", 29),
        ("over_cap", 1),
    ]


def test_earliest_delivered_claimed_first_ties_by_vendor_lead_id() -> None:
    # cap = floor(0.5 x 4) = 2; L9 is earliest; L10 and L2 tie on time, "L10" < "L2"
    leads = leads_frame(
        lead("L2", date(2026, 10, 20), hour=9),
        lead("L10", date(2026, 10, 20), hour=9),
        lead("L9", date(2026, 10, 20), hour=8),
        *accepted(1, date(2026, 10, 5)),
    )
    lines = claim_lines(
        leads, PROGRAMS, terms(max_return_rate=0.5), AS_OF, empty_ledger(), ["2026-10"]
    )
    assert dispositions(lines) == {"L9": "claim", "L10": "claim", "L2": "over_cap"}


def test_earlier_claims_count_toward_the_cap() -> None:
    # cap = floor(0.5 x 4) = 2, one line of this program-month already claimed -> one more
    leads = leads_frame(
        lead("OLD", date(2026, 10, 2)),
        lead("N1", date(2026, 10, 20)),
        lead("N2", date(2026, 10, 21)),
        *accepted(1, date(2026, 10, 5)),
    )
    first = claim_lines(
        leads.filter(pl.col("vendor_lead_id") == "OLD"),
        PROGRAMS,
        terms(max_return_rate=1.0),
        date(2026, 10, 3),
        empty_ledger(),
        ["2026-10"],
    )
    lines = claim_lines(
        leads, PROGRAMS, terms(max_return_rate=0.5), AS_OF, ledger_of(first), ["2026-10"]
    )
    assert dispositions(lines) == {"OLD": "already_claimed", "N1": "claim", "N2": "over_cap"}


def test_cap_is_per_program_and_month() -> None:
    # each program-month: 2 invalid + 2 accepted -> cap floor(0.5 x 4) = 2 -> both claimed
    leads = leads_frame(
        lead("P1A", date(2026, 10, 20)),
        lead("P1B", date(2026, 10, 21)),
        lead("P2A", date(2026, 10, 20), program="p2"),
        lead("P2B", date(2026, 10, 21), program="p2"),
        lead("SEP", date(2026, 9, 30)),
        *accepted(2, date(2026, 10, 5)),
        *accepted(2, date(2026, 10, 5), program="p2"),
    )
    lines = claim_lines(
        leads, PROGRAMS, terms(max_return_rate=0.5), AS_OF, empty_ledger(), ["2026-09", "2026-10"]
    )
    # September p1: delivered 1 -> cap floor(0.5) = 0; it is expired anyway, which wins
    assert dispositions(lines) == {
        "P1A": "claim",
        "P1B": "claim",
        "P2A": "claim",
        "P2B": "claim",
        "SEP": "expired",
    }
    assert lines.filter(pl.col("program_id") == "p2")["cpl_cents"].to_list() == [12000, 12000]


# --- ledger, eligibility, scope -------------------------------------------------------------


def test_already_claimed_line_is_not_claimed_again_and_keeps_its_claim_id() -> None:
    leads = leads_frame(lead("X", date(2026, 10, 20)), lead("Y", date(2026, 10, 21)))
    first = claim_lines(
        leads.filter(pl.col("vendor_lead_id") == "X"),
        PROGRAMS,
        terms(),
        date(2026, 10, 25),
        empty_ledger(),
        ["2026-10"],
    )
    again = claim_lines(leads, PROGRAMS, terms(), AS_OF, ledger_of(first), ["2026-10"])
    assert dispositions(again) == {"X": "already_claimed", "Y": "claim"}
    old_id = first["claim_id"].item()
    assert again.filter(pl.col("vendor_lead_id") == "X")["claim_id"].item() == old_id
    assert ledger_of(again)["vendor_lead_id"].to_list() == ["Y"]


def test_ineligible_primary_reason_and_accepted_leads_are_not_claim_lines() -> None:
    leads = leads_frame(
        lead("JUNK", date(2026, 10, 20), reason="junk"),
        # an eligible secondary reason does not make an ineligible primary one claimable
        lead(
            "BOUNCE",
            date(2026, 10, 20),
            reason="bounced_email",
            reasons=["bounced_email", "free_email"],
        ),
        lead("OK", date(2026, 10, 20), status="accepted"),
        lead("DUP", date(2026, 10, 20), reason="duplicate"),
    )
    lines = claim_lines(leads, PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    assert dispositions(lines) == {"DUP": "claim"}


def test_evidence_is_the_one_aligned_with_the_primary_reason() -> None:
    leads = leads_frame(
        lead(
            "ICP",
            date(2026, 10, 20),
            reason="outside_icp",
            reasons=["free_email", "outside_icp"],
            evidence=["gmail.com is free mail", "country=BR not in [US, CA, GB]"],
        )
    )
    lines = claim_lines(leads, PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    assert lines["evidence"].to_list() == ["country=BR not in [US, CA, GB]"]


def test_months_restricts_to_those_delivery_months() -> None:
    leads = leads_frame(lead("SEP", date(2026, 9, 28)), lead("OCT", date(2026, 10, 28)))
    lines = claim_lines(leads, PROGRAMS, terms(window_days=45), AS_OF, empty_ledger(), ["2026-10"])
    assert dispositions(lines) == {"OCT": "claim"}


def test_sweep_covers_every_month_still_in_window_and_no_closed_one() -> None:
    # as_of 2026-10-31, window 45: August closed (Aug 31 + 45 = Oct 15), September still open
    leads = leads_frame(
        lead("AUG", date(2026, 8, 31)),
        lead("SEP_OLD", date(2026, 9, 10)),
        lead("SEP", date(2026, 9, 20)),
        lead("OCT", date(2026, 10, 28)),
    )
    lines = claim_lines(leads, PROGRAMS, terms(window_days=45), AS_OF, empty_ledger(), None)
    assert dispositions(lines) == {"SEP_OLD": "expired", "SEP": "claim", "OCT": "claim"}


# --- claim ids ------------------------------------------------------------------------------


def _october() -> pl.DataFrame:
    return leads_frame(lead("A", date(2026, 10, 20)), lead("B", date(2026, 10, 21)))


def test_claim_id_is_stable_across_runs_and_input_order() -> None:
    one = claim_lines(_october(), PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    two = claim_lines(_october().reverse(), PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    assert one.equals(two)
    (claim_id,) = one["claim_id"].unique().to_list()
    assert re.fullmatch(r"ACME-2026-H2-20261031-[0-9a-f]{8}", claim_id)


def test_claim_id_differs_for_different_lines_or_as_of() -> None:
    base = claim_lines(_october(), PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    fewer = claim_lines(_october().head(1), PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    later = claim_lines(
        _october(), PROGRAMS, terms(), date(2026, 11, 1), empty_ledger(), ["2026-10"]
    )
    ids = {base["claim_id"][0], fewer["claim_id"][0], later["claim_id"][0]}
    assert len(ids) == 3


def test_claim_lines_have_the_documented_schema_even_when_empty() -> None:
    lines = claim_lines(leads_frame(), PROGRAMS, terms(), AS_OF, empty_ledger(), None)
    assert dict(lines.schema) == CLAIM_LINE_SCHEMA
    assert dict(ledger_rows(lines).schema) == LEDGER_SCHEMA
    assert claims_by_vendor(lines) == []


# --- the typed claim ------------------------------------------------------------------------


def _claim_with_everything(remedy: str = "credit") -> pl.DataFrame:
    """Cap floor(0.5 x 6) = 3: three claimed, one over the cap, two past the window."""
    leads = leads_frame(
        lead("OLD1", date(2026, 10, 1)),
        lead("OLD2", date(2026, 10, 2)),
        lead("C1", date(2026, 10, 20), email="jane.doe@buyer.example"),
        lead("C2", date(2026, 10, 21), email="raj@buyer.example"),
        lead("C3", date(2026, 10, 22), email="li@buyer.example"),
        lead("OVER", date(2026, 10, 23)),
    )
    return claim_lines(
        leads,
        PROGRAMS,
        terms(max_return_rate=0.5, remedy=remedy),
        date(2026, 11, 2),
        empty_ledger(),
        ["2026-10"],
    )


def test_claim_total_is_lines_times_cpl_and_lists_over_cap_and_expired() -> None:
    (claim,) = claims_by_vendor(_claim_with_everything())
    assert [line.vendor_lead_id for line in claim.lines] == ["C1", "C2", "C3"]
    assert claim.total_cents == 3 * CPL
    assert claim.replacement_count == 3
    assert [line.vendor_lead_id for line in claim.over_cap] == ["OVER"]
    assert claim.over_cap_cents == CPL
    assert [line.vendor_lead_id for line in claim.expired] == ["OLD1", "OLD2"]
    assert claim.expired_cents == 2 * CPL


# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_start_a_formula_are_neutralised(start: str) -> None:
    assert inert(f"{start}1+1") == f"'{start}1+1"
    assert inert("plain") == "plain"


def test_csv_hyperlink_injection_comes_out_inert() -> None:
    payload = '=HYPERLINK("http://x","y")'
    leads = leads_frame(
        lead(payload, date(2026, 10, 20), evidence=[payload], email="=cmd@evil.example"),
        lead("@SUM(A1)", date(2026, 10, 21), evidence=["-2+3"]),
    )
    lines = claim_lines(leads, PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    (claim,) = claims_by_vendor(lines)
    rows = list(csv.reader(io.StringIO(claim_csv(claim).decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["vendor_lead_id"] == "'" + payload
    assert first["evidence"] == "'" + payload
    assert first["email"] == "'=***@evil.example"


def test_csv_masks_emails_and_is_deterministic() -> None:
    (claim,) = claims_by_vendor(_claim_with_everything())
    data = claim_csv(claim)
    assert data == claim_csv(claim)
    text = data.decode("utf-8")
    assert "jane.doe@buyer.example" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["email"] for r in rows] == [
        "j***@buyer.example",
        "r***@buyer.example",
        "l***@buyer.example",
    ]
    assert [r["value"] for r in rows] == ["85.00"] * 3
    assert rows[0]["delivered_at"] == "2026-10-20T00:00:00Z"


# --- PDF ------------------------------------------------------------------------------------


def _pdf_text(path: object) -> str:
    reader = PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def test_claim_pdf_masks_emails_and_states_total_as_lines_times_cpl(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (claim,) = claims_by_vendor(_claim_with_everything())
    pdf_path, csv_path = write_claim(claim, folder, Run("run-42", date(2026, 11, 2)))
    assert pdf_path.name == f"{claim.claim_id}.pdf"
    assert csv_path.name == f"{claim.claim_id}.csv"
    text = _pdf_text(pdf_path)
    assert "j***@buyer.example" in text
    assert "jane.doe@buyer.example" not in text
    assert "jane.doe" not in text
    # 3 lines x USD 85.00 = USD 255.00, read back from the document
    total = re.search(r"Total claimed \(3 leads\)\s*USD\s([\d,.]+)", text)
    assert total is not None and total.group(1) == "255.00"
    assert re.search(r"Credit of USD\s255\.00", text)
    assert claim.claim_id in text and "ACME-2026-H2" in text
    assert "run-42" in text
    # over the cap and past the window are for the internal report, never the vendor's claim
    for withheld in ("OVER", "OLD1", "OLD2"):
        assert withheld not in text
    assert "Over the cap" not in text and "Past the window" not in text
    # the response is due response_days (default 10) after filing
    assert "Response due 2026-11-12 (10 days)" in text


def test_replace_remedy_asks_for_a_replacement_count(tmp_path: object) -> None:
    from pathlib import Path

    (claim,) = claims_by_vendor(_claim_with_everything(remedy="replace"))
    pdf_path, _ = write_claim(claim, Path(str(tmp_path)), Run("run-42", date(2026, 11, 2)))
    assert "Replacement of 3 leads" in _pdf_text(pdf_path)


def _eur_contract(replacement: dict[str, Any], contact: dict[str, str] | None = None) -> Any:
    from scorecards.contracts import Contract

    vendor: dict[str, Any] = {"id": "acme", "name": "Acme Syndication Ltd"}
    if contact:
        vendor["contact"] = contact
    return Contract.model_validate(
        {
            "vendor": vendor,
            "contract_id": "ACME-2026-H2",
            "term": {"start": date(2026, 7, 1), "end": date(2026, 12, 31)},
            "currency": "EUR",
            "programs": [
                {"id": "p1", "lead_type": "hql", "cpl": Decimal("85.00"), "monthly_volume": 400}
            ],
            "replacement": replacement,
        }
    )


def test_replacement_terms_reads_each_contracts_replacement_section() -> None:
    from scorecards.contracts import Portfolio

    contract = _eur_contract(
        {
            "window_days": 7,
            "eligible_reasons": ["duplicate", "junk"],
            "max_return_rate": 0.1,
            "remedy": "replace",
        }
    )
    frame = replacement_terms(Portfolio(contracts=[contract]))
    assert dict(frame.schema) == TERMS_SCHEMA
    assert frame.row(0, named=True) == {
        "contract_id": "ACME-2026-H2",
        "vendor_id": "acme",
        "vendor_name": "Acme Syndication Ltd",
        "currency": "EUR",
        "window_days": 7,
        "eligible_reasons": ["duplicate", "junk"],
        "max_return_rate": 0.1,
        "remedy": "replace",
        "response_days": 10,
        "vendor_contact": None,
        "buyer_name": None,
        "buyer_address": None,
        "buyer_contact": None,
        "buyer_claims_email": None,
    }


def test_claim_documents_are_identical_bytes_on_a_rerun(tmp_path: object) -> None:
    from pathlib import Path

    (claim,) = claims_by_vendor(_claim_with_everything())
    run = Run("run-42", date(2026, 11, 2))
    first = write_claim(claim, Path(str(tmp_path)) / "one", run)
    second = write_claim(claim, Path(str(tmp_path)) / "two", run)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_two_rows_of_the_same_lead_and_time_are_billed_once_and_recorded_once() -> None:
    first = lead("TWICE", date(2026, 10, 20), hour=9)
    copy = {**first, "source_line": 7}  # the vendor sent the same lead twice in one file
    leads = leads_frame(first, copy, lead("OTHER", date(2026, 10, 21)))
    lines = claim_lines(leads, PROGRAMS, terms(), AS_OF, empty_ledger(), ["2026-10"])
    twice = lines.filter(pl.col("vendor_lead_id") == "TWICE").sort("source_line")
    assert twice["disposition"].to_list() == ["claim", "duplicate_line"]
    assert twice["source_line"].to_list() == [2, 7]
    (claim,) = claims_by_vendor(lines)
    assert [line.vendor_lead_id for line in claim.lines] == ["TWICE", "OTHER"]
    assert claim.total_cents == 2 * CPL
    rows = claim_csv(claim).decode().splitlines()[1:]
    assert [row.split(",")[3] for row in rows] == ["TWICE", "OTHER"]
    assert ledger_of(lines)["vendor_lead_id"].to_list() == ["TWICE", "OTHER"]


def test_a_duplicate_row_does_not_take_a_place_under_the_cap() -> None:
    first = lead("A", date(2026, 10, 20), hour=9)
    leads = leads_frame(first, {**first, "source_line": 3}, lead("B", date(2026, 10, 21)))
    leads = pl.concat([leads, leads_frame(*accepted(1, date(2026, 10, 22)))])
    # 4 rows delivered, cap floor(0.5 x 4) = 2: A and B, the copy of A takes no place
    lines = claim_lines(leads, PROGRAMS, terms(max_return_rate=0.5), AS_OF, empty_ledger(), None)
    assert sorted(lines["disposition"].to_list()) == ["claim", "claim", "duplicate_line"]


def test_claim_letter_names_buyer_vendor_contact_and_contract_response_days(
    tmp_path: object,
) -> None:
    from pathlib import Path

    from scorecards.contracts import Portfolio
    from scorecards.settings import PortfolioSettings

    contract = _eur_contract(
        {"response_days": 5, "eligible_reasons": ["malformed_email"], "max_return_rate": 1.0},
        contact={"name": "Vic Vendor", "email": "ar@acme.example"},
    )
    settings = PortfolioSettings.model_validate(
        {
            "buyer": {
                "legal_name": "Buyer Holdings plc",
                "address": ["1 Quay Street", "Dublin"],
                "contact": {"name": "Pat Buyer", "email": "pat@buyer.example"},
                "claims_email": "claims@buyer.example",
            }
        }
    )
    frame = replacement_terms(Portfolio(contracts=[contract]), settings)
    leads = leads_frame(lead("C1", date(2026, 10, 20)), lead("C2", date(2026, 10, 21)))
    lines = claim_lines(leads, PROGRAMS, frame, date(2026, 11, 2), empty_ledger(), ["2026-10"])
    (claim,) = claims_by_vendor(lines)
    assert claim.response_due == date(2026, 11, 7)
    pdf_path, csv_path = write_claim(claim, Path(str(tmp_path)), Run("run-7", date(2026, 11, 2)))
    text = " ".join(_pdf_text(pdf_path).split())
    assert "Buyer Holdings plc" in text and "1 Quay Street" in text
    assert "claims@buyer.example" in text
    assert "Attn: Vic Vendor <ar@acme.example>" in text
    assert "Response due 2026-11-07 (5 days)" in text
    assert "Credit of EUR 170.00" in text and "€" not in text
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text("utf-8"))))
    assert {r["respond_by"] for r in rows} == {"2026-11-07"}
    assert {r["currency"] for r in rows} == {"EUR"}
