"""Judging each lead (SPEC §3): one test per reason, its evidence, precedence and the edge cases.

Every test writes a tiny portfolio into tmp_path (a contract YAML, a few delivery rows, CRM and
suppression files when the rule needs them) and runs the real composition, `read_inputs` then
`compute_month`, so the rule is checked the way a run applies it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from scorecards.contracts import REASONS
from scorecards.judge import FREE_EMAIL_DOMAINS
from scorecards.pipeline import MonthResult, compute_month, read_inputs

MONTH = "2026-07"
AS_OF = date(2026, 8, 15)
CRM_HEADER = (
    "email,crm_id,vendor_id,vendor_lead_id,created_at,status,email_bounced,disqualified_reason"
)


def contract(vendor: str = "acme", **acceptance: Any) -> dict[str, Any]:
    """A contract with one program `<vendor>-cs` and no criteria beyond those given."""
    return {
        "vendor": {"id": vendor, "name": vendor.title()},
        "contract_id": f"{vendor.upper()}-2026",
        "term": {"start": date(2026, 1, 1), "end": date(2026, 12, 31)},
        "programs": [
            {
                "id": f"{vendor}-cs",
                "lead_type": "content_syndication",
                "cpl": 85,
                "monthly_volume": 10,
            }
        ],
        "acceptance": {"reject_free_email": False, **acceptance},
    }


def csv_text(rows: list[dict[str, str]]) -> str:
    """CSV with the union of the rows' keys as header (first-seen order); absent keys are empty."""
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    lines = [",".join(header), *(",".join(row.get(k, "") for k in header) for row in rows)]
    return "\n".join(lines) + "\n"


def lead(vendor: str = "acme", **fields: str) -> dict[str, str]:
    """A delivery row that passes every criterion a test does not set."""
    return {
        "vendor_id": vendor,
        "program_id": f"{vendor}-cs",
        "vendor_lead_id": "L1",
        "delivered_at": "2026-07-10T08:00:00Z",
        "email": "pat@corp.com",
        **fields,
    }


def run(
    tmp_path: Path,
    leads: list[dict[str, str]],
    contracts: list[dict[str, Any]] | None = None,
    crm: list[str] | None = None,
    suppression: dict[str, str] | None = None,
) -> MonthResult:
    """Write the inputs, read them and compute July 2026."""
    contracts_dir = tmp_path / "contracts"
    contracts_dir.mkdir()
    for c in contracts or [contract()]:
        (contracts_dir / f"{c['vendor']['id']}.yaml").write_text(yaml.safe_dump(c))
    data = tmp_path / "data"
    (data / "deliveries").mkdir(parents=True)
    (data / "deliveries" / "leads.csv").write_text(csv_text(leads))
    if crm is not None:
        (data / "crm").mkdir()
        (data / "crm" / "crm.csv").write_text("\n".join([CRM_HEADER, *crm]) + "\n")
    for name, text in (suppression or {}).items():
        (data / "suppression").mkdir(exist_ok=True)
        (data / "suppression" / f"{name}.csv").write_text(text)
    result = compute_month(read_inputs(data, contracts_dir), MONTH, AS_OF)
    assert result.quarantine.is_empty(), result.quarantine["error"].to_list()
    assert result.reconciliation["balanced"].all()
    return result


def judged(result: MonthResult, vendor_lead_id: str = "L1") -> dict[str, Any]:
    """One lead's verdict: status, primary reason, reasons and evidence."""
    row = result.leads.collect().filter(pl.col("vendor_lead_id") == vendor_lead_id)
    assert row.height == 1
    return row.select("status", "primary_reason", "reasons", "evidence").row(0, named=True)


def invalid(reason: str, evidence: str) -> dict[str, Any]:
    return {
        "status": "invalid",
        "primary_reason": reason,
        "reasons": [reason],
        "evidence": [evidence],
    }


ACCEPTED: dict[str, Any] = {
    "status": "accepted",
    "primary_reason": None,
    "reasons": [],
    "evidence": [],
}


# --- 1. malformed_email ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "evidence"),
    [
        ("pat@@corp.com", "email has 2 '@' signs"),
        ("pat.corp.com", "email has 0 '@' signs"),
        ("@corp.com", "email has nothing before '@'"),
        ("pat@localhost", "email domain has no dot"),
        ("pat smith@corp.com", "email contains a space"),
        ("", "email is empty"),
    ],
)
def test_reason_malformed_email(tmp_path: Path, email: str, evidence: str) -> None:
    result = run(tmp_path, [lead(email=email)])
    assert judged(result) == invalid("malformed_email", evidence)


def test_reason_malformed_email_is_judged_after_trimming(tmp_path: Path) -> None:
    result = run(tmp_path, [lead(email="  Pat@Corp.COM  ")])
    assert judged(result) == ACCEPTED
    assert result.leads.collect()["email"].to_list() == ["pat@corp.com"]


# --- 2. duplicate ---------------------------------------------------------------------------


def test_reason_duplicate_across_two_vendors(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            lead("acme", vendor_lead_id="A1", delivered_at="2026-07-01T09:00:00Z"),
            lead("beta", vendor_lead_id="B1", delivered_at="2026-07-05T09:00:00Z"),
        ],
        contracts=[contract("acme"), contract("beta")],
    )
    assert judged(result, "A1") == ACCEPTED
    assert judged(result, "B1") == invalid(
        "duplicate", "delivered before on 2026-07-01 by acme (lead A1)"
    )


@pytest.mark.parametrize(
    ("first", "second", "duplicate"),
    [
        # exactly dedupe_days (10) calendar days before, though only 9 days and 1 minute apart
        ("2026-07-01T23:59:00Z", "2026-07-11T00:00:00Z", True),
        # still 10 calendar days, though nearly 11 x 24 hours apart
        ("2026-07-01T00:00:00Z", "2026-07-11T23:59:00Z", True),
        # dedupe_days + 1 calendar days, though only 10 days and 1 minute apart
        ("2026-07-01T23:59:00Z", "2026-07-12T00:00:00Z", False),
    ],
)
def test_reason_duplicate_window_is_dedupe_days_calendar_days(
    tmp_path: Path, first: str, second: str, duplicate: bool
) -> None:
    result = run(
        tmp_path,
        [
            lead(vendor_lead_id="L1", delivered_at=first),
            lead(vendor_lead_id="L2", delivered_at=second),
        ],
        contracts=[contract(dedupe_days=10)],
    )
    assert judged(result, "L1") == ACCEPTED
    expected = invalid("duplicate", "delivered before on 2026-07-01 by acme (lead L1)")
    assert judged(result, "L2") == (expected if duplicate else ACCEPTED)


def test_reason_duplicate_window_is_the_judged_leads_contract(tmp_path: Path) -> None:
    """20 days apart: a duplicate for beta (30-day window), not for acme (10-day window)."""
    result = run(
        tmp_path,
        [
            lead("acme", vendor_lead_id="A1", email="one@corp.com", delivered_at="2026-07-01"),
            lead("beta", vendor_lead_id="B1", email="one@corp.com", delivered_at="2026-07-21"),
            lead("beta", vendor_lead_id="B2", email="two@corp.com", delivered_at="2026-07-01"),
            lead("acme", vendor_lead_id="A2", email="two@corp.com", delivered_at="2026-07-21"),
        ],
        contracts=[contract("acme", dedupe_days=10), contract("beta", dedupe_days=30)],
    )
    assert judged(result, "B1")["primary_reason"] == "duplicate"
    assert judged(result, "A2") == ACCEPTED


def test_reason_duplicate_earliest_delivery_keeps_the_lead(tmp_path: Path) -> None:
    """The later delivery comes first in the file; the earlier one still keeps the lead."""
    result = run(
        tmp_path,
        [
            lead(vendor_lead_id="LATE", delivered_at="2026-07-03T10:00:00Z"),
            lead(vendor_lead_id="EARLY", delivered_at="2026-07-03T09:59:59Z"),
        ],
    )
    assert judged(result, "EARLY") == ACCEPTED
    assert judged(result, "LATE") == invalid(
        "duplicate", "delivered before on 2026-07-03 by acme (lead EARLY)"
    )


def test_reason_duplicate_same_instant_tie_goes_to_first_vendor_lead_id_in_string_order(
    tmp_path: Path,
) -> None:
    """'L10' < 'L9' as strings (not as numbers); the file lists L9 first."""
    at = "2026-07-03T10:00:00Z"
    result = run(
        tmp_path,
        [lead(vendor_lead_id="L9", delivered_at=at), lead(vendor_lead_id="L10", delivered_at=at)],
    )
    assert judged(result, "L10") == ACCEPTED
    assert judged(result, "L9") == invalid(
        "duplicate", "delivered before on 2026-07-03 by acme (lead L10)"
    )


def test_reason_duplicate_emails_compared_trimmed_and_lower_cased(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            lead(vendor_lead_id="L1", email=" Pat@Corp.COM", delivered_at="2026-07-01"),
            lead(vendor_lead_id="L2", email="pat@corp.com ", delivered_at="2026-07-02"),
        ],
    )
    assert judged(result, "L2") == invalid(
        "duplicate", "delivered before on 2026-07-01 by acme (lead L1)"
    )


# --- 3. existing_contact ----------------------------------------------------------------------


def test_reason_existing_contact_crm_created_2359_the_day_before(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [lead(delivered_at="2026-07-10T00:30:00Z")],
        crm=["PAT@corp.com,C1,,,2026-07-09T23:59:00Z,open,false,"],
    )
    assert judged(result) == invalid("existing_contact", "in CRM since 2026-07-09")


def test_reason_existing_contact_not_when_crm_created_0000_the_same_day(tmp_path: Path) -> None:
    """Created at 00:00 on the delivery day, hours before the 08:00 delivery: not existing."""
    result = run(
        tmp_path,
        [lead(delivered_at="2026-07-10T08:00:00Z")],
        crm=["pat@corp.com,C1,,,2026-07-10T00:00:00Z,open,false,"],
    )
    assert judged(result) == ACCEPTED


# --- 4. suppressed ----------------------------------------------------------------------------


def test_reason_suppressed_by_email(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [lead(email="Pat@Corp.com")],
        suppression={"do-not-contact": "email\n PAT@corp.com\n"},
    )
    assert judged(result) == invalid("suppressed", "email on suppression list do-not-contact")


def test_reason_suppressed_by_the_emails_domain(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [lead(email="pat@rival.com"), lead(vendor_lead_id="L2", email="pat@corp.com")],
        suppression={"competitors": "domain\nRival.com\n"},
    )
    assert judged(result) == invalid(
        "suppressed", "domain rival.com on suppression list competitors"
    )
    assert judged(result, "L2") == ACCEPTED


# --- 5. free_email ----------------------------------------------------------------------------


def test_reason_free_email_when_the_contract_rejects_it(tmp_path: Path) -> None:
    result = run(
        tmp_path, [lead(email="pat@Gmail.com")], contracts=[contract(reject_free_email=True)]
    )
    assert judged(result) == invalid("free_email", "free-mail domain gmail.com")


def test_reason_free_email_accepted_when_the_contract_allows_it(tmp_path: Path) -> None:
    result = run(tmp_path, [lead(email="pat@gmail.com")], contracts=[contract()])
    assert judged(result) == ACCEPTED


def test_reason_free_email_list_names_the_spec_providers() -> None:
    assert {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com"} <= set(FREE_EMAIL_DOMAINS)


# --- 6. outside_icp ---------------------------------------------------------------------------

ICP: dict[str, Any] = {
    "countries": ["US", "CA", "GB"],
    "min_employees": 200,
    "job_levels": ["director", "vp", "c_level"],
    "industries": ["software"],
}
IN_ICP = {"country": "US", "employees": "500", "job_level": "director", "industry": "Software"}


@pytest.mark.parametrize(
    ("change", "evidence"),
    [
        ({"country": "BR"}, "country=BR not in [CA, GB, US]"),
        ({"country": ""}, "country missing"),
        ({"employees": "50"}, "employees=50 below 200"),
        ({"employees": ""}, "employees missing"),
        ({"job_level": "manager"}, "job_level=manager not in [c_level, director, vp]"),
        ({"industry": "retail"}, "industry=retail not in [software]"),
    ],
)
def test_reason_outside_icp_evidence_names_field_and_value(
    tmp_path: Path, change: dict[str, str], evidence: str
) -> None:
    result = run(tmp_path, [lead(**{**IN_ICP, **change})], contracts=[contract(**ICP)])
    assert judged(result) == invalid("outside_icp", evidence)


def test_reason_outside_icp_matches_case_insensitively(tmp_path: Path) -> None:
    row = lead(country="us", employees="200", job_level="Director", industry="SOFTWARE")
    assert judged(run(tmp_path, [row], contracts=[contract(**ICP)])) == ACCEPTED


def test_reason_outside_icp_each_lead_is_held_to_its_own_contracts_list(tmp_path: Path) -> None:
    """Contracts listing different values, or none: a value allowed by one contract fails
    another's list, and a contract without a list takes any value or none."""
    contracts = [
        contract("acme", countries=["US", "CA"], industries=["software"]),
        contract("beta", countries=["DE"], industries=["retail", "software"]),
        contract("gamma"),
    ]
    rows = [
        lead("acme", vendor_lead_id="A1", country="DE", industry="software"),
        lead("acme", vendor_lead_id="A2", country="ca", industry="Software"),
        lead("beta", vendor_lead_id="B1", country="US", industry="retail"),
        lead("beta", vendor_lead_id="B2", country="de", industry="Retail"),
        lead("beta", vendor_lead_id="B3", country="DE", industry="mining"),
        lead("gamma", vendor_lead_id="G1", country="BR", industry="mining"),
        lead("gamma", vendor_lead_id="G2", country="", industry=""),
    ]
    for i, row in enumerate(rows):
        row["email"] = f"pat{i}@corp.com"
    result = run(tmp_path, rows, contracts=contracts)
    assert judged(result, "A1") == invalid("outside_icp", "country=DE not in [CA, US]")
    assert judged(result, "A2") == ACCEPTED
    assert judged(result, "B1") == invalid("outside_icp", "country=US not in [DE]")
    assert judged(result, "B2") == ACCEPTED
    assert judged(result, "B3") == invalid(
        "outside_icp", "industry=mining not in [retail, software]"
    )
    assert judged(result, "G1") == ACCEPTED
    assert judged(result, "G2") == ACCEPTED


def test_reason_outside_icp_missing_optional_field_without_a_criterion_is_accepted(
    tmp_path: Path,
) -> None:
    """No criteria: a lead with no country, employees, job_level, industry or consent passes."""
    row = lead(country="", employees="", job_level="", industry="", consent="")
    assert judged(run(tmp_path, [row])) == ACCEPTED


# --- 7. missing_required ----------------------------------------------------------------------


def test_reason_missing_required_field_and_answer(tmp_path: Path) -> None:
    c = contract(required_fields=["email", "company"], required_answers=["q_timeline"])
    result = run(
        tmp_path,
        [
            lead(vendor_lead_id="L1", email="a@corp.com", company="", q_timeline="Q3"),
            lead(vendor_lead_id="L2", email="b@corp.com", company="Corp", q_timeline="  "),
            lead(vendor_lead_id="L3", email="c@corp.com", company="Corp", q_timeline="Q3"),
        ],
        contracts=[c],
    )
    assert judged(result, "L1") == invalid("missing_required", "company missing")
    assert judged(result, "L2") == invalid("missing_required", "q_timeline missing")
    assert judged(result, "L3") == ACCEPTED


def test_reason_missing_required_answer_whose_column_is_absent(tmp_path: Path) -> None:
    result = run(tmp_path, [lead()], contracts=[contract(required_answers=["q_budget"])])
    assert judged(result) == invalid("missing_required", "q_budget missing")


# --- 8. no_consent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consent", "required", "expected"),
    [
        ("no", True, invalid("no_consent", "consent not given")),
        ("false", True, invalid("no_consent", "consent not given")),
        ("", True, invalid("no_consent", "consent missing")),
        ("yes", True, ACCEPTED),
        ("no", False, ACCEPTED),
        ("", False, ACCEPTED),
    ],
)
def test_reason_no_consent_when_required_and_not_given(
    tmp_path: Path, consent: str, required: bool, expected: dict[str, Any]
) -> None:
    result = run(tmp_path, [lead(consent=consent)], contracts=[contract(require_consent=required)])
    assert judged(result) == expected


# --- 9. bounced_email -------------------------------------------------------------------------


def test_reason_bounced_email_matched_by_email(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [lead(email="Pat@corp.com")],
        crm=["pat@corp.com,C1,,,2026-07-10T09:00:00Z,unresponsive,true,"],
    )
    assert judged(result) == invalid("bounced_email", "CRM marks the email bounced")


def test_reason_bounced_email_matched_by_vendor_id_and_vendor_lead_id(tmp_path: Path) -> None:
    """The CRM record carries the delivery's keys but the address sales corrected it to."""
    result = run(
        tmp_path,
        [lead(email="pat@corp.com")],
        crm=["p.smith@corp.com,C1,acme,L1,2026-07-10T09:00:00Z,unresponsive,true,"],
    )
    assert judged(result) == invalid("bounced_email", "CRM marks the email bounced")


# --- 10. junk ---------------------------------------------------------------------------------


@pytest.mark.parametrize("why", ["junk", "fake", "student", "competitor", "no_such_person"])
def test_reason_junk_matched_by_email(tmp_path: Path, why: str) -> None:
    result = run(
        tmp_path,
        [lead()],
        crm=[f"pat@corp.com,C1,,,2026-07-10T09:00:00Z,disqualified,false,{why}"],
    )
    assert judged(result) == invalid("junk", f"CRM disqualified it as {why}")


def test_reason_junk_matched_by_vendor_id_and_vendor_lead_id(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [lead(email="pat@corp.com")],
        crm=["p.smith@corp.com,C1,acme,L1,2026-07-10T09:00:00Z,disqualified,false,fake"],
    )
    assert judged(result) == invalid("junk", "CRM disqualified it as fake")


@pytest.mark.parametrize("why", ["Student", "JUNK", " No_Such_Person "])
def test_reason_junk_compares_the_crm_reason_trimmed_and_lower_cased(
    tmp_path: Path, why: str
) -> None:
    """Salesforce writes its picklist labels ("Student"); people type stray spaces."""
    result = run(
        tmp_path,
        [lead()],
        crm=[f"pat@corp.com,C1,,,2026-07-10T09:00:00Z,disqualified,false,{why}"],
    )
    verdict = judged(result)
    assert (verdict["status"], verdict["reasons"]) == ("invalid", ["junk"])
    assert verdict["evidence"][0].lower() == f"crm disqualified it as {why.strip().lower()}"


def test_reason_junk_not_for_other_disqualifications(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [lead()],
        crm=["pat@corp.com,C1,,,2026-07-10T09:00:00Z,disqualified,false,no_budget"],
    )
    assert judged(result) == ACCEPTED


# --- precedence -------------------------------------------------------------------------------


def test_precedence_every_reason_listed_in_spec_order_and_the_first_is_primary(
    tmp_path: Path,
) -> None:
    """One lead failing all ten rules: each reason once, in SPEC §3 order, evidence aligned."""
    bad = "pat smith@gmail.com"
    c = contract(
        countries=["US"], required_fields=["company"], reject_free_email=True, require_consent=True
    )
    common = {"email": bad, "country": "BR", "company": "", "consent": "no"}
    result = run(
        tmp_path,
        [
            lead(vendor_lead_id="L0", delivered_at="2026-07-01", **common),
            lead(vendor_lead_id="L1", delivered_at="2026-07-02", **common),
        ],
        contracts=[c],
        crm=[f"{bad},C1,,,2026-06-01T00:00:00Z,disqualified,true,student"],
        suppression={"dnc": f"email\n{bad}\n"},
    )
    assert judged(result, "L1") == {
        "status": "invalid",
        "primary_reason": "malformed_email",
        "reasons": list(REASONS),
        "evidence": [
            "email contains a space",
            "delivered before on 2026-07-01 by acme (lead L0)",
            "in CRM since 2026-06-01",
            "email on suppression list dnc",
            "free-mail domain gmail.com",
            "country=BR not in [US]",
            "company missing",
            "consent not given",
            "CRM marks the email bounced",
            "CRM disqualified it as student",
        ],
    }


def test_precedence_a_later_reason_never_outranks_an_earlier_one(tmp_path: Path) -> None:
    c = contract(countries=["US"], reject_free_email=True, require_consent=True)
    result = run(tmp_path, [lead(email="pat@yahoo.com", country="FR", consent="")], contracts=[c])
    assert judged(result) == {
        "status": "invalid",
        "primary_reason": "free_email",
        "reasons": ["free_email", "outside_icp", "no_consent"],
        "evidence": ["free-mail domain yahoo.com", "country=FR not in [US]", "consent missing"],
    }


def test_reason_junk_matched_by_vendor_keys_on_a_crm_record_without_crm_id(tmp_path: Path) -> None:
    """crm_id is optional: the keys alone make the match (SPEC §2.3)."""
    result = run(
        tmp_path,
        [lead(email="pat@corp.com")],
        crm=["p.smith@corp.com,,acme,L1,2026-07-10T09:00:00Z,disqualified,false,fake"],
    )
    assert judged(result) == invalid("junk", "CRM disqualified it as fake")


@pytest.mark.parametrize("junk_first", [True, False])
def test_two_crm_records_alike_in_all_but_outcome_the_one_read_first_decides(
    tmp_path: Path, junk_first: bool
) -> None:
    """The same record exported twice (same email, crm_id and created_at), its outcome changed
    between the exports: the line read first is the lead's record, whatever the CRM's order."""
    junk = "pat@corp.com,C1,,,2026-07-10T09:00:00Z,disqualified,false,junk"
    open_ = "pat@corp.com,C1,,,2026-07-10T09:00:00Z,open,false,"
    result = run(tmp_path, [lead()], crm=[junk, open_] if junk_first else [open_, junk])
    if junk_first:
        assert judged(result) == invalid("junk", "CRM disqualified it as junk")
    else:
        assert judged(result)["status"] == "accepted"
