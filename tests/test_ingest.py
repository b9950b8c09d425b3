"""Reading deliveries (SPEC §2.2) and bad input (SPEC §9): nothing lost, every problem a sentence.

Each test writes a contract and a few delivery files into tmp_path and runs `read_inputs` then
`compute_month`; every test also checks the reconciliation: per file, rows read = quarantined +
invalid + accepted + delivered after the report month.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
import yaml

from scorecards.pipeline import MonthResult, compute_month, read_inputs

AS_OF = date(2026, 9, 30)
HEADER = "program_id,vendor_lead_id,delivered_at,email"


def contract(vendor: str = "acme", columns: dict[str, str] | None = None) -> dict[str, Any]:
    """A contract for 2026 with one program `<vendor>-cs` and no acceptance criteria."""
    return {
        "vendor": {"id": vendor, "name": vendor.title()},
        "contract_id": f"{vendor.upper()}-2026",
        "term": {"start": date(2026, 1, 1), "end": date(2026, 12, 31)},
        "programs": [
            {"id": f"{vendor}-cs", "lead_type": "webinar", "cpl": 50, "monthly_volume": 10}
        ],
        "acceptance": {"reject_free_email": False},
        "columns": columns or {},
    }


def write(tmp_path: Path, files: dict[str, str | bytes], contracts: list[dict[str, Any]]) -> None:
    """Contracts under tmp_path/contracts, files under tmp_path/data/deliveries."""
    (tmp_path / "contracts").mkdir()
    for c in contracts:
        (tmp_path / "contracts" / f"{c['vendor']['id']}.yaml").write_text(yaml.safe_dump(c))
    for name, content in files.items():
        path = tmp_path / "data" / "deliveries" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (tmp_path / "data" / "deliveries").mkdir(parents=True, exist_ok=True)


def run(
    tmp_path: Path,
    files: dict[str, str | bytes],
    contracts: list[dict[str, Any]] | None = None,
    month: str = "2026-07",
) -> MonthResult:
    write(tmp_path, files, contracts or [contract()])
    result = compute_month(read_inputs(tmp_path / "data", tmp_path / "contracts"), month, AS_OF)
    assert_reconciled(result)
    return result


def assert_reconciled(result: MonthResult) -> None:
    """SPEC §9 'Nothing lost': every delivery row read is in exactly one bucket, per file."""
    rec = result.reconciliation
    assert rec["balanced"].all(), rec
    deliveries = rec.filter(pl.col("kind") == "deliveries")
    accounted = pl.sum_horizontal("quarantined", "invalid", "accepted", "after_report_month")
    assert deliveries.select((pl.col("rows_read") == accounted).all()).item(), deliveries


def counts(result: MonthResult, file: str) -> dict[str, int]:
    row = result.reconciliation.filter(pl.col("file") == file)
    assert row.height == 1
    return row.select("rows_read", "quarantined", "invalid", "accepted", "after_report_month").row(
        0, named=True
    )


def quarantined(result: MonthResult) -> list[dict[str, Any]]:
    return result.quarantine.select(
        "source_file", "source_line", "vendor_id", "field", "error"
    ).to_dicts()


# --- bad rows are quarantined with file, line and field (SPEC §9) -----------------------------


def test_missing_column_quarantines_every_row_of_the_file(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "acme/no-program.csv": "vendor_lead_id,delivered_at,email\n"
            "L1,2026-07-01,a@corp.com\nL2,2026-07-02,b@corp.com\n",
            "acme/good.csv": f"{HEADER}\nacme-cs,L3,2026-07-03,c@corp.com\n",
        },
    )
    sentence = (
        "deliveries/acme/no-program.csv, line {}, field 'program_id': missing column "
        "'program_id' (the file has vendor_lead_id, delivered_at, email)"
    )
    assert quarantined(result) == [
        {
            "source_file": "deliveries/acme/no-program.csv",
            "source_line": line,
            "vendor_id": "acme",
            "field": "program_id",
            "error": sentence.format(line),
        }
        for line in (2, 3)
    ]
    assert json.loads(result.quarantine["raw"][0]) == {
        "vendor_lead_id": "L1",
        "delivered_at": "2026-07-01",
        "email": "a@corp.com",
    }
    assert counts(result, "deliveries/acme/no-program.csv")["quarantined"] == 2
    assert result.leads.collect()["vendor_lead_id"].to_list() == ["L3"]


def test_wrong_type_employees_is_quarantined_with_file_line_field(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "acme/jul.csv": f"{HEADER},employees\n"
            'acme-cs,L1,2026-07-01,a@corp.com,"1,200"\n'
            "acme-cs,L2,2026-07-01,b@corp.com,lots\n"
        },
    )
    assert quarantined(result) == [
        {
            "source_file": "deliveries/acme/jul.csv",
            "source_line": 3,
            "vendor_id": "acme",
            "field": "employees",
            "error": "deliveries/acme/jul.csv, line 3, field 'employees': 'lots' is not a whole number",
        }
    ]
    assert json.loads(result.quarantine["raw"][0])["employees"] == "lots"
    assert result.leads.collect()["employees"].to_list() == [1200]
    assert counts(result, "deliveries/acme/jul.csv") == {
        "rows_read": 2,
        "quarantined": 1,
        "invalid": 0,
        "accepted": 1,
        "after_report_month": 0,
    }


def test_negative_employees_is_quarantined(tmp_path: Path) -> None:
    result = run(
        tmp_path, {"acme/jul.csv": f"{HEADER},employees\nacme-cs,L1,2026-07-01,a@corp.com,-5\n"}
    )
    assert quarantined(result)[0]["field"] == "employees"
    assert quarantined(result)[0]["error"].startswith(
        "deliveries/acme/jul.csv, line 2, field 'employees': must not be negative"
    )


def test_garbage_delivered_at_is_quarantined(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "acme/jul.csv": f"{HEADER}\nacme-cs,L1,yesterday-ish,a@corp.com\nacme-cs,L2,,b@corp.com\n"
        },
    )
    assert [q["error"] for q in quarantined(result)] == [
        "deliveries/acme/jul.csv, line 2, field 'delivered_at': "
        "'yesterday-ish' is not an ISO 8601 date or time",
        "deliveries/acme/jul.csv, line 3, field 'delivered_at': is empty",
    ]
    assert result.leads.collect().is_empty()


def test_unknown_program_is_quarantined(tmp_path: Path) -> None:
    result = run(tmp_path, {"acme/jul.csv": f"{HEADER}\nacme-xx,L1,2026-07-01,a@corp.com\n"})
    assert quarantined(result) == [
        {
            "source_file": "deliveries/acme/jul.csv",
            "source_line": 2,
            "vendor_id": "acme",
            "field": "program_id",
            "error": "deliveries/acme/jul.csv, line 2, field 'program_id': "
            "'acme-xx' is not a program of vendor 'acme'",
        }
    ]


def test_unknown_vendor_is_quarantined_from_a_column_or_a_folder(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "all.csv": f"vendor_id,{HEADER}\nzeta,zeta-cs,L1,2026-07-01,a@corp.com\n",
            "omega/jul.csv": f"{HEADER}\nomega-cs,L2,2026-07-01,b@corp.com\n",
        },
    )
    assert [
        (q["source_file"], q["vendor_id"], q["field"], q["error"]) for q in quarantined(result)
    ] == [
        (
            "deliveries/all.csv",
            "zeta",
            "vendor_id",
            "deliveries/all.csv, line 2, field 'vendor_id': no contract names vendor 'zeta'",
        ),
        (
            "deliveries/omega/jul.csv",
            "omega",
            "vendor_id",
            "deliveries/omega/jul.csv, line 2, field 'vendor_id': no contract names vendor 'omega'",
        ),
    ]


def test_delivery_outside_every_contract_term_is_attributed_to_the_contract_listing_its_program(
    tmp_path: Path,
) -> None:
    # SPEC §3: judged like any other lead, under the contract that lists the program
    result = run(
        tmp_path, {"acme/old.csv": f"{HEADER}\nacme-cs,L1,2025-12-31T23:59:59Z,a@corp.com\n"}
    )
    assert quarantined(result) == []
    assert result.leads.collect().select("contract_id", "month").rows() == [
        ("ACME-2026", "2025-12")
    ]


def test_missing_vendor_lead_id_is_quarantined(tmp_path: Path) -> None:
    result = run(tmp_path, {"acme/jul.csv": f"{HEADER}\nacme-cs,  ,2026-07-01,a@corp.com\n"})
    assert quarantined(result)[0]["error"] == (
        "deliveries/acme/jul.csv, line 2, field 'vendor_lead_id': is empty"
    )


# --- bad files: reported, and the rest of the run goes on (SPEC §9) ---------------------------


def test_empty_file_reads_zero_rows_without_a_crash(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "acme/empty.csv": "",
            "acme/header-only.csv": f"{HEADER}\n",
            "acme/good.csv": f"{HEADER}\nacme-cs,L1,2026-07-01,a@corp.com\n",
        },
    )
    assert counts(result, "deliveries/acme/empty.csv")["rows_read"] == 0
    assert counts(result, "deliveries/acme/header-only.csv")["rows_read"] == 0
    assert result.quarantine.is_empty()
    assert result.leads.collect()["vendor_lead_id"].to_list() == ["L1"]


def test_broken_xlsx_is_one_file_quarantine_row_and_other_files_still_processed(
    tmp_path: Path,
) -> None:
    result = run(
        tmp_path,
        {
            "acme/broken.xlsx": b"PK\x03\x04 this is not really a workbook",
            "acme/good.csv": f"{HEADER}\nacme-cs,L1,2026-07-01,a@corp.com\n",
        },
    )
    [problem] = quarantined(result)
    assert problem["source_file"] == "deliveries/acme/broken.xlsx"
    assert problem["source_line"] is None
    assert problem["vendor_id"] == "acme"
    assert problem["error"].startswith("deliveries/acme/broken.xlsx: could not be read as XLSX (")
    assert "\n" not in problem["error"] and "Traceback" not in problem["error"]
    [broken] = [f for f in result.files if f.path == "deliveries/acme/broken.xlsx"]
    assert (broken.rows, broken.error) == (0, problem["error"])
    assert result.leads.collect()["vendor_lead_id"].to_list() == ["L1"]


def test_xlsx_rows_keep_their_sheet_row_numbers(tmp_path: Path) -> None:
    write(tmp_path, {}, [contract()])
    path = tmp_path / "data" / "deliveries" / "acme" / "jul.xlsx"
    path.parent.mkdir(parents=True)
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    for r, row in enumerate(
        [
            HEADER.split(","),
            ["acme-cs", "L1", "2026-07-01", "a@corp.com"],
            ["acme-cs", "L2", "soon", "b@corp.com"],
        ]
    ):
        sheet.write_row(r, 0, row)
    book.close()
    result = compute_month(read_inputs(tmp_path / "data", tmp_path / "contracts"), "2026-07", AS_OF)
    assert_reconciled(result)
    assert result.leads.collect().select("source_file", "source_line").row(0) == (
        "deliveries/acme/jul.xlsx",
        2,
    )
    assert quarantined(result)[0]["error"] == (
        "deliveries/acme/jul.xlsx, line 3, field 'delivered_at': 'soon' is not an ISO 8601 date or time"
    )


def test_parquet_rows_are_numbered_as_lines_across_row_groups(tmp_path: Path) -> None:
    """A Parquet file's rows are lines 2, 3, ... as in a CSV, across its row groups (the reader
    numbers them), and a column of the vendor's own named source_line does not replace them."""
    rows = 2_500
    frame = pl.DataFrame(
        {
            "program_id": ["acme-cs"] * rows,
            "vendor_lead_id": [f"L{i}" for i in range(rows)],
            "delivered_at": ["soon" if i == 2_100 else "2026-07-01" for i in range(rows)],
            "email": [f"p{i}@corp.com" for i in range(rows)],
            "source_line": [7] * rows,
        }
    )
    path = tmp_path / "data" / "deliveries" / "acme" / "jul.parquet"
    path.parent.mkdir(parents=True)
    frame.write_parquet(path, row_group_size=1_000)
    assert pl.read_parquet(path).n_chunks() == 3  # three row groups
    write(tmp_path, {}, [contract()])
    result = compute_month(read_inputs(tmp_path / "data", tmp_path / "contracts"), "2026-07", AS_OF)
    assert_reconciled(result)
    assert quarantined(result)[0]["error"] == (
        "deliveries/acme/jul.parquet, line 2102, field 'delivered_at': "
        "'soon' is not an ISO 8601 date or time"
    )
    lines = result.leads.collect().select("vendor_lead_id", "source_line")
    assert lines.height == rows - 1
    assert lines.filter(pl.col("vendor_lead_id") == "L2499")["source_line"].item() == 2_501
    assert lines["source_line"].sort().to_list() == [n for n in range(2, rows + 2) if n != 2_102]


# --- encodings --------------------------------------------------------------------------------


def test_latin1_cp1252_file_is_decoded_and_accents_survive(tmp_path: Path) -> None:
    text = f"{HEADER},first_name,company\nacme-cs,L1,2026-07-01,jose@corp.com,José,Müller – Søn €\n"
    result = run(tmp_path, {"acme/latin1.csv": text.encode("cp1252")})
    assert result.leads.collect().select("first_name", "company").row(0) == (
        "José",
        "Müller – Søn €",
    )


def test_utf8_bom_file_still_recognises_its_first_header(tmp_path: Path) -> None:
    text = f"vendor_id,{HEADER},first_name\nacme,acme-cs,L1,2026-07-01,a@corp.com,Zoë\n"
    result = run(tmp_path, {"bom.csv": text.encode("utf-8-sig")})
    assert result.leads.collect().select("vendor_id", "first_name").row(0) == ("acme", "Zoë")


# --- layout and mapping (SPEC §2.2) -----------------------------------------------------------


def test_vendor_headers_are_mapped_through_the_contracts_columns(tmp_path: Path) -> None:
    columns = {"Email Address": "email", "Lead ID": "vendor_lead_id", "Campaign": "program_id"}
    result = run(
        tmp_path,
        {
            "acme/own-headers.csv": "Campaign,Lead ID,Delivered At,Email Address,Job Level,Q Timeline\n"
            "acme-cs,A-1,2026-07-01,a@corp.com,VP,This quarter\n"
        },
        contracts=[contract(columns=columns)],
    )
    assert result.quarantine.is_empty()
    assert result.leads.collect().select(
        "vendor_id", "program_id", "vendor_lead_id", "email", "job_level", "q_timeline"
    ).row(0) == ("acme", "acme-cs", "A-1", "a@corp.com", "VP", "This quarter")


def test_vendor_id_is_implied_by_the_first_folder_at_any_depth(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "acme/2026/07/week-1/leads.csv": f"{HEADER}\nacme-cs,L1,2026-07-01,a@corp.com\n",
            "beta/jul.csv": f"{HEADER}\nbeta-cs,B1,2026-07-01,b@corp.com\n",
        },
        contracts=[contract("acme"), contract("beta")],
    )
    assert result.leads.collect().select("vendor_id", "source_file").rows() == [
        ("acme", "deliveries/acme/2026/07/week-1/leads.csv"),
        ("beta", "deliveries/beta/jul.csv"),
    ]


# --- times (SPEC §2.2, §4: UTC; a bare date is 00:00 UTC) --------------------------------------


def test_bare_date_means_midnight_utc(tmp_path: Path) -> None:
    result = run(tmp_path, {"acme/jul.csv": f"{HEADER}\nacme-cs,L1,2026-07-31,a@corp.com\n"})
    assert result.leads.collect().select("delivered_at", "delivery_date", "month").row(0) == (
        datetime(2026, 7, 31, tzinfo=UTC),
        date(2026, 7, 31),
        "2026-07",
    )


def test_offset_is_converted_to_utc_and_moves_the_delivery_day_and_month(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "acme/jul.csv": f"{HEADER}\n"
        "acme-cs,LATE,2026-07-31T23:30:00-02:00,a@corp.com\n"  # 2026-08-01 01:30 UTC
        "acme-cs,EARLY,2026-08-01T01:00:00+02:00,b@corp.com\n"  # 2026-07-31 23:00 UTC
        "acme-cs,ZULU,2026-07-15 10:00:00Z,c@corp.com\n"
    }
    july = run(tmp_path, files)
    assert july.leads.collect().select(
        "vendor_lead_id", "delivered_at", "delivery_date"
    ).rows() == [
        ("ZULU", datetime(2026, 7, 15, 10, tzinfo=UTC), date(2026, 7, 15)),
        ("EARLY", datetime(2026, 7, 31, 23, tzinfo=UTC), date(2026, 7, 31)),
    ]
    assert counts(july, "deliveries/acme/jul.csv")["after_report_month"] == 1
    august = compute_month(read_inputs(tmp_path / "data", tmp_path / "contracts"), "2026-08", AS_OF)
    assert_reconciled(august)
    late = august.leads.collect().filter(pl.col("vendor_lead_id") == "LATE")
    assert late.select("delivered_at", "delivery_date", "month").row(0) == (
        datetime(2026, 8, 1, 1, 30, tzinfo=UTC),
        date(2026, 8, 1),
        "2026-08",
    )


def test_two_headers_giving_the_same_column_quarantine_the_file_without_a_crash(
    tmp_path: Path,
) -> None:
    """'Email Address' is mapped to email by the contract and the file also has 'email'."""
    result = run(
        tmp_path,
        {
            "acme/both.csv": "program_id,vendor_lead_id,delivered_at,Email Address,email\n"
            "acme-cs,L1,2026-07-01,a@corp.com,b@corp.com\n",
            "acme/good.csv": f"{HEADER}\nacme-cs,L2,2026-07-01,c@corp.com\n",
        },
        contracts=[contract(columns={"Email Address": "email"})],
    )
    assert quarantined(result) == [
        {
            "source_file": "deliveries/acme/both.csv",
            "source_line": 2,
            "vendor_id": "acme",
            "field": "email",
            "error": "deliveries/acme/both.csv, line 2, field 'email': "
            "columns 'Email Address' and 'email' both give column 'email'",
        }
    ]
    assert result.leads.collect()["vendor_lead_id"].to_list() == ["L2"]


def test_a_file_of_an_unsupported_kind_is_reported_not_skipped(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "acme/old-excel.xls": b"\xd0\xcf\x11\xe0 legacy workbook",
            "acme/.hidden.xls": b"editor lock file",
            "acme/good.csv": f"{HEADER}\nacme-cs,L1,2026-07-01,a@corp.com\n",
        },
    )
    assert quarantined(result) == [
        {
            "source_file": "deliveries/acme/old-excel.xls",
            "source_line": None,
            "vendor_id": "acme",
            "field": None,
            "error": "deliveries/acme/old-excel.xls: is not a CSV, Parquet or XLSX file (.xls)",
        }
    ]
    assert [f.path for f in result.files] == [
        "deliveries/acme/good.csv",
        "deliveries/acme/old-excel.xls",
    ]
    assert result.leads.collect()["vendor_lead_id"].to_list() == ["L1"]


def test_iso_8601_offsets_in_every_extended_form_are_converted_to_utc(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "acme/jul.csv": f"{HEADER}\n"
            "acme-cs,L1,2026-07-01T10:00:00+02:00,a@corp.com\n"
            "acme-cs,L2,2026-07-01T10:00:00+0200,b@corp.com\n"
            "acme-cs,L3,2026-07-01T10:00:00+02,c@corp.com\n"
            "acme-cs,L4,2026-07-01T10:00+02,d@corp.com\n"
            "acme-cs,L5,2026-07-01T13:30:00.000+05:30,e@corp.com\n"
            "acme-cs,L6,2026-07-01T08:00Z,f@corp.com\n"
        },
    )
    assert result.quarantine.is_empty()
    assert set(result.leads.collect()["delivered_at"].to_list()) == {
        datetime(2026, 7, 1, 8, tzinfo=UTC)
    }
