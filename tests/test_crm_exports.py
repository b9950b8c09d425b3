"""Real CRM export forms (SPEC §2.3, issue 9): recognition by headers, the user-editable mapping,
time zones, Salesforce footers, picklist labels, unmapped values and "no silent zero".

Every fixture's header source is cited in tests/fixtures/crm/SOURCES.md and beside its test.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from scorecards.crm import (
    MAPPING_FILE,
    load_crm_mapping,
    read_crm,
    recognised_format,
    recognition,
    to_hubspot_export,
)
from scorecards.errors import UserError

FIXTURES = Path(__file__).parent / "fixtures" / "crm"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def crm_folder(tmp_path: Path, *fixtures: str) -> Path:
    folder = tmp_path / "data" / "crm"
    folder.mkdir(parents=True)
    for name in fixtures:
        shutil.copy(FIXTURES / name, folder / name)
    return folder


def header_of(name: str) -> list[str]:
    return pl.read_csv(FIXTURES / name, n_rows=0).columns


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contracts" / MAPPING_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- recognition ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "system", "form_words"),
    [
        # HubSpot Export button, labels (SOURCES.md: default contact properties, "Date entered")
        ("hubspot_label_export.csv", "hubspot", "property labels"),
        # HubSpot labels of an older portal ("Became a … Date")
        ("hubspot_label_export_older.csv", "hubspot", "older 'Became a"),
        # HubSpot internal names, current portal (hs_v2_date_entered_*)
        ("hubspot_v2_internal_export.csv", "hubspot", "current portal"),
        # HubSpot internal names, older portal (hs_lifecyclestage_*_date)
        ("hubspot_contacts_export.csv", "hubspot", "older portal"),
        # Salesforce Lead report (Salesforce Help "Lead Fields")
        ("salesforce_lead_report.csv", "salesforce", "Salesforce Lead report"),
        ("salesforce_lead_report_footer.csv", "salesforce", "Salesforce Lead report"),
    ],
)
def test_every_real_form_is_recognised_by_its_headers(
    fixture: str, system: str, form_words: str
) -> None:
    found, form = recognition(header_of(fixture))
    assert found == system
    assert form_words in form


def test_a_hubspot_label_export_is_never_taken_for_a_salesforce_report() -> None:
    # "Email" + "Lead Status" + "Create Date" are words both systems use: they decide nothing
    assert recognised_format(["Record ID", "Email", "Lead Status", "Create Date"]) == "hubspot"
    assert recognised_format(["Email", "Lifecycle Stage", "Lead Status"]) == "hubspot"
    assert recognised_format(["Lead ID", "Email", "Lead Status"]) == "salesforce"
    assert recognised_format(["Email", "Lead Status", "Create Date"]) == "salesforce"
    assert recognised_format(["email", "status", "sql_at"]) == "canonical"


def test_a_header_with_two_systems_marks_is_refused_not_guessed() -> None:
    system, why = recognition(["Record ID", "Lead ID", "Email", "Lead Status"])
    assert system is None
    assert "mixes HubSpot columns" in why and "Salesforce" in why


def test_an_unrecognised_file_is_one_sentence_naming_what_was_expected(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "crm"
    folder.mkdir(parents=True)
    (folder / "pipeline.csv").write_text("Name,Stage Reached\nAda,SQL\n")
    result = read_crm(folder)
    assert result.crm.height == 0
    (error,) = result.quarantine["error"].to_list()
    assert error == (
        "crm/pipeline.csv: the header matches no CRM export: expected a HubSpot contacts export "
        "(Record ID, Email, Lifecycle Stage, … or hs_object_id, email, lifecyclestage, …), a "
        "Salesforce Lead report (Lead ID, Email, Lead Status, Converted, …) or the canonical "
        "columns (email, status, sql_at, attempts, …), so its 1 row(s) were not read"
    )


# --- reading each form ---------------------------------------------------------------------


def test_hubspot_label_export_reads_stages_statuses_dates_and_reasons(tmp_path: Path) -> None:
    # tests/fixtures/crm/SOURCES.md: HubSpot Export button, current portal
    result = read_crm(crm_folder(tmp_path, "hubspot_label_export.csv"))
    rows = {r["crm_id"]: r for r in result.crm.to_dicts()}
    assert rows["51"]["email"] == "ada.byron@example.com"
    assert rows["51"]["status"] == "sql"
    assert rows["51"]["sql_at"] == utc(2026, 7, 20, 16, 45)
    assert rows["51"]["attempts"] == 5
    assert rows["52"]["status"] == "unresponsive"
    assert rows["52"]["email_bounced"] is True
    assert rows["53"]["status"] == "disqualified"
    assert rows["53"]["disqualified_reason"] == "no_such_person"  # "No Such Person", normalised
    assert rows["54"]["status"] == "won"
    assert rows["54"]["won_at"] == utc(2026, 8, 30, 17, 20)
    assert rows["54"]["opportunity_amount"] == 12500.0
    (report,) = result.recognition
    assert report["columns"]["sql_at"] == (
        "Date entered 'Sales Qualified Lead (Lifecycle Stage Pipeline)'"
    )
    assert report["columns"]["attempts"] == "Number of Sales Activities"
    assert "Phone Number" in report["ignored"] and "Contact owner" in report["ignored"]
    assert result.quarantine.height == 0 and result.unknown_columns == []
    assert result.unmapped_values == []


def test_older_hubspot_labels_and_current_internal_names_give_the_same_sql_dates(
    tmp_path: Path,
) -> None:
    # SOURCES.md: "Became a … Date" labels (older) and hs_v2_date_entered_* (current internal)
    older = read_crm(crm_folder(tmp_path / "a", "hubspot_label_export_older.csv")).crm
    current = read_crm(crm_folder(tmp_path / "b", "hubspot_v2_internal_export.csv")).crm
    assert (
        older["sql_at"].to_list()
        == current["sql_at"].to_list()
        == [
            utc(2026, 7, 20, 16, 45),
            None,
        ]
    )
    assert older["status"].to_list() == ["sql", "nurture"]
    assert current["status"].to_list() == ["sql", "unresponsive"]
    assert current["attempts"].to_list() == [5, 1]  # num_contacted_notes before num_notes


def test_salesforce_footer_lines_are_not_rows_and_ampm_dates_read(tmp_path: Path) -> None:
    # SOURCES.md: Lightning CSV "Details Only" export with its footer and an org's own status
    result = read_crm(crm_folder(tmp_path, "salesforce_lead_report_footer.csv"))
    assert result.files[0].rows == 3  # the 5 footer lines (blank ones included) are not rows
    assert result.recognition[0]["footer_lines"] == 5
    assert result.quarantine.height == 0
    rows = {r["crm_id"]: r for r in result.crm.to_dicts()}
    assert rows["00Q5g00000AbCdE"]["created_at"] == utc(2026, 9, 14, 10, 31)
    won = rows["00Q5g00000AbCdF"]
    assert (won["status"], won["sql_at"], won["won_at"]) == (
        "won",
        utc(2026, 9, 20, 16, 45),
        utc(2026, 10, 30),
    )
    assert won["opportunity_amount"] == 25000.0
    # an org-specific status with no mapping line keeps the row's other outcomes
    liskov = rows["00Q5g00000AbCdG"]
    assert (liskov["status"], liskov["attempts"], liskov["created_at"]) == (
        None,
        4,
        utc(2026, 9, 15),
    )
    (unmapped,) = result.unmapped_values
    assert (unmapped["column"], unmapped["value"], unmapped["rows"]) == (
        "Lead Status",
        "Attempted - No Response",
        1,
    )
    assert unmapped["sentence"].startswith(
        "crm/salesforce_lead_report_footer.csv: 1 row(s) have the lead status "
        "'Attempted - No Response' in column 'Lead Status', which the CRM mapping does not map"
    )


def test_a_mapping_line_maps_an_org_specific_status(tmp_path: Path) -> None:
    folder = crm_folder(tmp_path, "salesforce_lead_report_footer.csv")
    mapping = mapping_file(
        tmp_path, "salesforce:\n  lead_statuses:\n    Attempted - No Response: unresponsive\n"
    )
    result = read_crm(folder, mapping)
    status = result.crm.filter(pl.col("crm_id") == "00Q5g00000AbCdG")["status"].item()
    assert status == "unresponsive"
    assert result.unmapped_values == []
    assert result.recognition[0]["mapping"] == mapping.as_posix()


def test_a_custom_hubspot_lifecycle_stage_and_its_date_column_are_mappable(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "crm"
    folder.mkdir(parents=True)
    # a custom stage (HubSpot changelog, 2022: customised lifecycle stages) has a numeric id
    (folder / "hs.csv").write_text(
        "hs_object_id,email,createdate,lifecyclestage,hs_lead_status,"
        "hs_v2_date_entered_1234567,num_contacted_notes\n"
        "1,a@x.com,2026-07-01 10:00,1234567,,2026-07-09 10:00,2\n"
    )
    without = read_crm(folder)
    assert without.crm["status"].to_list() == [None]
    assert without.crm["sql_at"].to_list() == [None]
    assert [u["value"] for u in without.unmapped_values] == ["1234567"]
    mapping = mapping_file(
        tmp_path,
        'hubspot:\n  lifecycle_stages: {"1234567": sql}\n'
        "  columns:\n    sql_at: [hs_v2_date_entered_1234567]\n",
    )
    mapped = read_crm(folder, mapping)
    assert mapped.crm["status"].to_list() == ["sql"]
    assert mapped.crm["sql_at"].to_list() == [utc(2026, 7, 9, 10)]
    assert mapped.unmapped_values == [] and mapped.unknown_columns == []


def test_the_exports_time_zone_is_converted_to_utc(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "crm"
    folder.mkdir(parents=True)
    # 23:30 in New York on 20 July (EDT, UTC-4) is 03:30 UTC on the 21st: the SQL's day moves
    (folder / "hs.csv").write_text(
        "hs_object_id,email,createdate,lifecyclestage,hs_lead_status,"
        "hs_v2_date_entered_salesqualifiedlead,num_contacted_notes\n"
        "1,a@x.com,2026-01-15 08:00,salesqualifiedlead,,2026-07-20 23:30,2\n"
        "2,b@x.com,2026-07-01T10:00:00Z,lead,NEW,,0\n"
    )
    mapping = mapping_file(tmp_path, "hubspot:\n  time_zone: America/New_York\n")
    crm = read_crm(folder, mapping).crm.sort("crm_id")
    assert crm["sql_at"].to_list() == [utc(2026, 7, 21, 3, 30), None]
    # EST (UTC-5) in January; a value with its own offset is already absolute
    assert crm["created_at"].to_list() == [utc(2026, 1, 15, 13, 0), utc(2026, 7, 1, 10, 0)]


def test_a_label_export_in_a_time_zone_reads_back_to_the_utc_outcomes(tmp_path: Path) -> None:
    outcomes = pl.DataFrame(
        {
            "email": ["a@x.com", "b@x.com"],
            "crm_id": ["1", "2"],
            "created_at": [utc(2026, 3, 8, 6, 30), utc(2026, 11, 1, 5, 30)],
            "status": ["sql", "open"],
            "sql_at": [utc(2026, 7, 21, 3, 30), None],
            "attempts": [3, 0],
        }
    )
    berlin = outcomes.with_columns(
        pl.col("created_at", "sql_at").dt.convert_time_zone("Europe/Berlin")
    )
    folder = tmp_path / "data" / "crm"
    folder.mkdir(parents=True)
    exported = to_hubspot_export(berlin, "labels")
    local = exported.with_columns(  # written as Berlin wall-clock time, as HubSpot would
        *[
            berlin[c].dt.strftime("%Y-%m-%d %H:%M").fill_null("").alias(label)
            for c, label in (
                ("created_at", "Create Date"),
                ("sql_at", "Date entered 'Sales Qualified Lead (Lifecycle Stage Pipeline)'"),
            )
        ]
    )
    local.write_csv(folder / "labels.csv")
    crm = read_crm(folder, mapping_file(tmp_path, "hubspot: {time_zone: Europe/Berlin}\n")).crm
    assert_frame_equal(
        crm.select("crm_id", "created_at", "sql_at", "status", "attempts").sort("crm_id"),
        outcomes.select("crm_id", "created_at", "sql_at", "status", "attempts").cast(
            {"attempts": pl.Int64}
        ),
    )


# --- the mapping file is validated like a contract ------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "hubspot:\n  time_zone: UTC\n  lead_status: {NEW: open}\n",
            "crm-mapping.yaml, line 3, field 'hubspot.lead_status': is not a known field "
            "(known here: time_zone, columns, lifecycle_stages, lead_statuses)",
        ),
        (
            "salesforce:\n  lead_statuses:\n    Attempted - No Response: silent\n",
            "crm-mapping.yaml, line 3, field 'salesforce.lead_statuses[\"Attempted - No "
            "Response\"]': must be 'open', 'working', 'nurture', 'unresponsive', 'disqualified', "
            "'sql', 'opportunity', 'won' or 'lost' (got silent)",
        ),
        (
            "hubspot:\n  time_zone: Mars/Olympus\n",
            "crm-mapping.yaml, line 2, field 'hubspot.time_zone': must be an IANA time zone such "
            "as UTC, Europe/Berlin or America/New_York (got Mars/Olympus)",
        ),
        (
            "hubspot:\n  columns:\n    attempts: num_contacted_notes\n",
            "crm-mapping.yaml, line 3, field 'hubspot.columns.attempts': must be a list, like "
            "[US, CA] (got num_contacted_notes)",
        ),
        (
            "disqualified_reasons:\n  Not Real: Not Real\n",
            "crm-mapping.yaml, line 2, field 'disqualified_reasons[\"Not Real\"]': must be a "
            "reason in lower case with underscores, like no_such_person (got Not Real)",
        ),
    ],
)
def test_a_bad_mapping_is_one_sentence_with_file_line_and_field(
    tmp_path: Path, text: str, sentence: str
) -> None:
    path = mapping_file(tmp_path, text)
    with pytest.raises(UserError) as error:
        load_crm_mapping(path)
    assert error.value.sentence == sentence.replace("crm-mapping.yaml", path.as_posix())


def test_a_mapping_adds_to_the_defaults_and_a_missing_file_changes_nothing(
    tmp_path: Path,
) -> None:
    defaults = load_crm_mapping(tmp_path / "absent.yaml")
    assert defaults.salesforce.lead_statuses["workingcontacted"] == "working"
    changed = load_crm_mapping(
        mapping_file(tmp_path, "salesforce:\n  lead_statuses: {Working - Contacted: nurture}\n")
    )
    assert changed.salesforce.lead_statuses["workingcontacted"] == "nurture"
    assert changed.salesforce.lead_statuses["new"] == "open"  # the rest stays
    assert changed.hubspot == defaults.hubspot


# --- no silent zero --------------------------------------------------------------------------


def test_an_export_without_stage_dates_attempts_or_creation_dates_names_each_column(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data" / "crm"
    folder.mkdir(parents=True)
    # a HubSpot label export with no stage-date, no activity and no create-date column
    (folder / "contacts.csv").write_text(
        "Record ID,Email,Lifecycle Stage,Lead Status\n"
        "1,a@x.com,Sales Qualified Lead,\n2,b@x.com,Lead,New\n"
    )
    result = read_crm(folder)
    assert result.crm.height == 2  # the rows are read: only the figures are unknown
    assert [u["column"] for u in result.unknown_columns] == ["sql_at", "attempts", "created_at"]
    assert result.unknown_columns[0]["sentence"] == (
        "crm/contacts.csv: the CRM export has no SQL dates (none of its columns holds them), so "
        "SQL figures (SQLs, SQL rate, cost per SQL, days to SQL) are unknown, not zero; export "
        "them (docs/CRM.md) or name their column in contracts/crm-mapping.yaml"
    )
    assert result.crm["attempts"].to_list() == [None, None]  # null, never 0
    assert result.report()["unknown_columns"] == result.unknown_columns


def test_a_stage_date_column_empty_on_every_row_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "crm"
    folder.mkdir(parents=True)
    (folder / "hs.csv").write_text(
        "hs_object_id,email,createdate,hs_v2_date_entered_salesqualifiedlead,num_contacted_notes\n"
        "1,a@x.com,2026-07-01 10:00,,3\n"
    )
    (only,) = read_crm(folder).unknown_columns
    assert only["column"] == "sql_at"
    assert (
        "its column 'hs_v2_date_entered_salesqualifiedlead' is empty on every row"
        in (only["sentence"])
    )


def test_a_lead_status_is_unmapped_only_where_it_decides_the_status(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "crm"
    folder.mkdir(parents=True)
    # "Meeting Booked" behind an SQL stage decides nothing; behind a Lead stage it does
    (folder / "hs.csv").write_text(
        "Record ID,Email,Create Date,Lifecycle Stage,Lead Status,Number of Sales Activities,"
        "Date entered 'Sales Qualified Lead (Lifecycle Stage Pipeline)'\n"
        "1,a@x.com,2026-07-01 10:00,Sales Qualified Lead,Meeting Booked,3,2026-07-05 10:00\n"
        "2,b@x.com,2026-07-01 10:00,Lead,Meeting Booked,1,\n"
        "3,c@x.com,2026-07-01 10:00,Lead,Meeting Booked,2,\n"
    )
    result = read_crm(folder)
    assert result.crm.sort("crm_id")["status"].to_list() == ["sql", None, None]
    assert [(u["value"], u["rows"]) for u in result.unmapped_values] == [("Meeting Booked", 2)]
