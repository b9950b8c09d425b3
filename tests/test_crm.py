"""CRM outcomes (SPEC §2.3): canonical, HubSpot and Salesforce forms read to one canonical frame."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from scorecards.crm import (
    CRM_SCHEMA,
    QUARANTINE_SCHEMA,
    read_crm,
    recognised_format,
    to_hubspot_export,
    to_salesforce_export,
)

FIXTURES = Path(__file__).parent / "fixtures" / "crm"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def outcomes() -> pl.DataFrame:
    """One record per status; minutes only and midnight for opportunity/won, as exports keep."""
    rows = [
        # email, crm_id, vendor, lead, created, status, sal, sql, opp, won, amount, att, bounce, dq
        ("open@a.com", "101", "acme", "A-1", utc(2026, 7, 1, 9, 0), "open",
         None, None, None, None, None, 0, False, None),
        ("working@a.com", "102", "acme", "A-2", utc(2026, 7, 1, 9, 5), "working",
         utc(2026, 7, 2, 10, 0), None, None, None, None, 2, False, None),
        ("nurture@a.com", "103", "acme", "A-3", utc(2026, 7, 2, 23, 59), "nurture",
         None, None, None, None, None, 3, False, None),
        ("silent@b.com", "104", "beta", "B-1", utc(2026, 7, 3, 0, 0), "unresponsive",
         None, None, None, None, None, 6, False, None),
        ("junk@b.com", "105", "beta", "B-2", utc(2026, 7, 3, 14, 30), "disqualified",
         None, None, None, None, None, None, True, "junk"),
        ("sql@b.com", "106", "beta", "B-3", utc(2026, 7, 4, 8, 0), "sql",
         utc(2026, 7, 5, 8, 0), utc(2026, 7, 20, 16, 45), None, None, None, 4, False, None),
        ("opp@c.com", "107", None, None, utc(2026, 7, 4, 8, 1), "opportunity",
         utc(2026, 7, 5, 8, 0), utc(2026, 7, 21, 9, 0), utc(2026, 8, 1), None, 25000.5, 5,
         False, None),
        ("won@c.com", "108", None, None, utc(2026, 7, 5, 17, 0), "won",
         utc(2026, 7, 6, 8, 0), utc(2026, 7, 22, 9, 0), utc(2026, 8, 2), utc(2026, 9, 30),
         120000.0, 8, False, None),
        ("lost@c.com", "109", "acme", "A-4", utc(2026, 7, 6, 11, 11), "lost",
         utc(2026, 7, 7, 8, 0), utc(2026, 7, 23, 9, 0), utc(2026, 8, 3), None, 9900.0, 4,
         False, None),
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=CRM_SCHEMA, orient="row")


def write_folder(tmp_path: Path, files: dict[str, pl.DataFrame]) -> Path:
    folder = tmp_path / "crm"
    folder.mkdir(exist_ok=True)
    for name, frame in files.items():
        if name.endswith(".parquet"):
            frame.write_parquet(folder / name)
        else:
            frame.write_csv(folder / name)
    return folder


def write_text(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "crm"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("canonical.csv", lambda f: f),
        ("canonical.parquet", lambda f: f),
        ("hubspot.csv", to_hubspot_export),
        ("salesforce.csv", to_salesforce_export),
    ],
)
def test_each_form_of_the_same_outcomes_reads_back_to_the_canonical_frame(
    tmp_path: Path, name: str, form: object
) -> None:
    expected = outcomes()
    exported = form(expected)  # type: ignore[operator]
    result = read_crm(write_folder(tmp_path, {name: exported}))
    assert result.quarantine.height == 0
    assert_frame_equal(result.crm, expected)  # in the file's order
    assert result.files[0].path == f"crm/{name}"
    assert result.files[0].rows == expected.height


def test_three_forms_in_one_folder_concatenate_in_a_stable_order(tmp_path: Path) -> None:
    expected = outcomes()
    folder = write_folder(
        tmp_path,
        {
            "a.csv": expected,
            "b_hubspot.csv": to_hubspot_export(expected),
            "c_salesforce.csv": to_salesforce_export(expected),
        },
    )
    first = read_crm(folder).crm
    assert first.height == 3 * expected.height
    assert first.schema == pl.Schema(CRM_SCHEMA)
    # in reading order: the files by name, each in its own order
    assert_frame_equal(first.unique(maintain_order=True), expected)
    assert_frame_equal(read_crm(folder).crm, first)


def test_hubspot_export_header_is_recognised_and_mapped(tmp_path: Path) -> None:
    header = (FIXTURES / "hubspot_contacts_export.csv").read_text().splitlines()[0].split(",")
    assert recognised_format(header) == "hubspot"
    folder = tmp_path / "crm"
    folder.mkdir()
    shutil.copy(FIXTURES / "hubspot_contacts_export.csv", folder)
    result = read_crm(folder)
    assert result.quarantine.height == 0
    ada, alan = result.crm.sort("crm_id").to_dicts()
    assert ada["email"] == "ada.byron@example.com"
    assert ada["status"] == "sql"
    assert ada["created_at"] == utc(2026, 7, 2, 9, 30)
    assert ada["sal_at"] == utc(2026, 7, 6, 8, 15)
    assert ada["sql_at"] == utc(2026, 7, 20, 16, 45)
    assert ada["attempts"] == 5
    assert ada["email_bounced"] is False
    assert ada["vendor_lead_id"] is None  # the custom property is not in this export
    assert alan["status"] == "unresponsive"
    assert alan["email_bounced"] is True


def test_salesforce_lead_report_header_is_recognised_and_mapped(tmp_path: Path) -> None:
    line = (FIXTURES / "salesforce_lead_report.csv").read_text().splitlines()[0]
    assert recognised_format(line.replace('"', "").split(",")) == "salesforce"
    folder = tmp_path / "crm"
    folder.mkdir()
    shutil.copy(FIXTURES / "salesforce_lead_report.csv", folder)
    result = read_crm(folder)
    assert result.quarantine.height == 0
    grace, edsger = result.crm.sort("crm_id").to_dicts()
    assert grace["email"] == "grace.hopper@navy.example"
    assert grace["status"] == "working"
    assert grace["created_at"] == utc(2026, 7, 2, 9, 30)
    assert grace["opportunity_at"] is None
    assert edsger["status"] == "opportunity"
    assert edsger["created_at"] == utc(2026, 7, 3, 14, 5)
    # no custom "SQL Date" column: conversion is when the lead was qualified
    assert edsger["sql_at"] == utc(2026, 8, 14)
    assert edsger["opportunity_at"] == utc(2026, 8, 14)
    assert edsger["email_bounced"] is False


def test_canonical_header_is_recognised_and_others_are_not() -> None:
    assert recognised_format(list(CRM_SCHEMA)) == "canonical"
    assert recognised_format(["email", "first_name"]) is None
    assert recognised_format(["Email Address", "Lead ID (vendor)"]) is None


def test_bad_date_goes_to_quarantine_with_file_line_and_field(tmp_path: Path) -> None:
    folder = write_text(
        tmp_path,
        "outcomes.csv",
        "email,crm_id,vendor_id,status,sql_at\n"
        "a@x.com,1,acme,sql,2026-07-20\n"
        "b@x.com,2,acme,sql,31/13/2026\n"
        "c@x.com,3,beta,open,\n",
    )
    result = read_crm(folder)
    assert result.crm["email"].to_list() == ["a@x.com", "c@x.com"]
    assert result.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)
    row = result.quarantine.row(0, named=True)
    assert result.quarantine.height == 1
    assert row["source_file"] == "crm/outcomes.csv"
    assert row["source_line"] == 3
    assert row["field"] == "sql_at"
    assert row["vendor_id"] == "acme"
    assert row["error"].startswith("crm/outcomes.csv, line 3, field 'sql_at': '31/13/2026'")
    assert json.loads(row["raw"])["crm_id"] == "2"


def test_bad_value_in_an_export_is_quarantined_under_its_own_header(tmp_path: Path) -> None:
    exported = to_hubspot_export(outcomes()).with_columns(
        pl.when(pl.col("hs_object_id") == "106")
        .then(pl.lit("soon"))
        .otherwise(pl.col("hs_lifecyclestage_salesqualifiedlead_date"))
        .alias("hs_lifecyclestage_salesqualifiedlead_date"),
        pl.when(pl.col("hs_object_id") == "101")
        .then(pl.lit("banana"))
        .otherwise(pl.col("lifecyclestage"))
        .alias("lifecyclestage"),
    )
    result = read_crm(write_folder(tmp_path, {"hubspot.csv": exported}))
    # an unreadable date quarantines its row; an unmapped stage keeps the row (its lead status,
    # NEW, still gives it a status) and is reported
    assert result.crm.height == outcomes().height - 1
    bad = result.quarantine.select("source_line", "field").rows()
    assert bad == [(7, "hs_lifecyclestage_salesqualifiedlead_date")]
    banana = result.crm.filter(pl.col("crm_id") == "101").row(0, named=True)
    assert banana["status"] == "open" and banana["attempts"] == 0
    assert [(u["column"], u["value"], u["rows"]) for u in result.unmapped_values] == [
        ("lifecyclestage", "banana", 1)
    ]


def test_unknown_header_is_one_quarantine_row_and_the_rest_goes_on(tmp_path: Path) -> None:
    folder = write_text(tmp_path, "mystery.csv", "Name,Stage Reached\nAda,SQL\nAlan,MQL\n")
    write_text(tmp_path, "good.csv", "email,status\na@x.com,open\n")
    result = read_crm(folder)
    assert result.crm["email"].to_list() == ["a@x.com"]
    assert result.quarantine.height == 1
    row = result.quarantine.row(0, named=True)
    assert row["source_file"] == "crm/mystery.csv"
    assert row["source_line"] is None
    assert row["error"].startswith("crm/mystery.csv: the header matches no CRM export: expected")
    assert json.loads(row["raw"]) == {"header": ["Name", "Stage Reached"]}
    mystery = next(f for f in result.files if f.path == "crm/mystery.csv")
    assert mystery.rows == 2


def test_email_is_trimmed_and_lower_cased_and_offsets_become_utc(tmp_path: Path) -> None:
    folder = write_text(
        tmp_path,
        "o.csv",
        "email,status,created_at,email_bounced,attempts\n"
        "  Ada@Example.COM ,Open,2026-07-01T10:00:00+02:00,yes,\n"
        "bob@example.com,SQL,2026-07-01,0,3\n",
    )
    crm = read_crm(folder).crm
    assert crm["email"].to_list() == ["ada@example.com", "bob@example.com"]
    assert crm["status"].to_list() == ["open", "sql"]
    assert crm["created_at"].to_list() == [utc(2026, 7, 1, 8, 0), utc(2026, 7, 1)]
    assert crm["email_bounced"].to_list() == [True, False]
    assert crm["attempts"].to_list() == [None, 3]


def test_unknown_status_keeps_the_row_and_negative_attempts_are_quarantined(
    tmp_path: Path,
) -> None:
    folder = write_text(
        tmp_path,
        "o.csv",
        "email,status,attempts\na@x.com,maybe,1\nb@x.com,open,-2\nc@x.com,won,4\n",
    )
    result = read_crm(folder)
    assert result.crm.select("email", "status", "attempts").rows() == [
        ("a@x.com", None, 1),
        ("c@x.com", "won", 4),
    ]
    assert result.quarantine.select("source_line", "field").rows() == [(3, "attempts")]
    assert [(u["value"], u["rows"]) for u in result.unmapped_values] == [("maybe", 1)]


def test_empty_folder_gives_empty_typed_frames(tmp_path: Path) -> None:
    (tmp_path / "crm").mkdir()
    result = read_crm(tmp_path / "crm")
    assert result.crm.schema == pl.Schema(CRM_SCHEMA)
    assert result.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)
    assert result.files == []


def test_salesforce_won_opportunity_with_currency_amount_and_lightning_dates(
    tmp_path: Path,
) -> None:
    folder = write_text(
        tmp_path,
        "sf.csv",
        '"Lead ID","Email","Create Date","Lead Status","Converted","Converted Date",'
        '"Opportunity Name","Stage","Amount","Close Date"\n'
        '"00Q1","w@x.com","7/1/2026, 2:05 PM","Qualified","1","8/3/2026","Deal","Closed Won",'
        '"USD 25,000.50","9/30/2026"\n'
        '"00Q2","n@x.com","7/2/2026 9:00 AM","Qualified","1","8/4/2026","","","",""\n',
    )
    won, converted_without_opportunity = read_crm(folder).crm.sort("crm_id").to_dicts()
    assert won["status"] == "won"
    assert won["created_at"] == utc(2026, 7, 1, 14, 5)
    assert won["opportunity_amount"] == 25000.5
    assert won["won_at"] == utc(2026, 9, 30)
    assert won["opportunity_at"] == utc(2026, 8, 3)
    assert converted_without_opportunity["opportunity_at"] is None
    assert converted_without_opportunity["status"] == "sql"
    assert converted_without_opportunity["sql_at"] == utc(2026, 8, 4)
