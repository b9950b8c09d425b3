"""`scorecards.xlsx` read back with openpyxl: sheets, frozen headers, typed cells, masked emails,
no text a spreadsheet would run as a formula, same bytes for the same inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from scorecards.claims import LEDGER_SCHEMA
from scorecards.formatting import mask_email, masked_email
from scorecards.workbook import leads_sheet, write_workbook

MONTH = "2026-10"
AS_OF = date(2026, 11, 5)
EMAILS = ["Jane.Doe@Example.COM", "no-at-sign", "a@b@c.com", None, "  bob@corp.io "]


def _metrics() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "grain": ["vendor", "program", "portfolio"],
            "vendor_id": ["acme", "acme", None],
            "program_id": [None, "acme-hql", None],
            "month": [MONTH] * 3,
            "ordered": [100, 100, 100],
            "delivered": [80, 80, 80],
            "fill_rate": [0.8, 0.8, 0.8],
            "invalid_rate": [0.125, 0.125, 0.125],
            "spend_cents": [1_234_500, 1_234_500, 1_234_500],
        }
    )


def _leads() -> pl.DataFrame:
    n = len(EMAILS)
    return pl.DataFrame(
        {
            "vendor_id": ["acme"] * n,
            "program_id": ["acme-hql"] * n,
            "month": [MONTH] * (n - 1) + ["2026-09"],
            "vendor_lead_id": [f"A-{i}" for i in range(n)],
            "delivered_at": [datetime(2026, 10, 1 + i, 9, 30, tzinfo=UTC) for i in range(n)],
            "email": EMAILS,
            "company": ['=HYPERLINK("http://x","y")', "+1 Corp", "Plain Ltd", "@sum", "-x"],
            "status": ["invalid", "accepted", "accepted", "invalid", "accepted"],
            "primary_reason": ["duplicate", None, None, "bad_email", None],
            "reasons": [["duplicate"], [], [], ["bad_email", "suppressed"], []],
            "evidence": [["delivered before"], [], [], ["no MX"], []],
            "cpl_cents": [8500] * n,
        }
    )


def _lines() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "claim_id": ["AC-1", "AC-1"],
            "disposition": ["claim", "expired"],
            "vendor_id": ["acme", "acme"],
            "program_id": ["acme-hql", "acme-hql"],
            "month": [MONTH, MONTH],
            "vendor_lead_id": ["A-0", "A-3"],
            "delivered_at": [datetime(2026, 10, 1, 9, 30, tzinfo=UTC)] * 2,
            "primary_reason": ["duplicate", "bad_email"],
            "cpl_cents": [8500, 8500],
            "currency": ["USD", "USD"],
            "claimed_on": [AS_OF, AS_OF],
        }
    )


def _ledger() -> pl.DataFrame:
    """An earlier month's line, already filed."""
    return pl.DataFrame(
        {
            "claim_id": ["AC-0"],
            "vendor_id": ["acme"],
            "vendor_lead_id": ["A-old"],
            "source_file": ["deliveries/acme/2026-09.csv"],
            "source_line": [7],
            "delivered_at": [datetime(2026, 9, 20, 8, 0, tzinfo=UTC)],
            "program_id": ["acme-hql"],
            "month": ["2026-09"],
            "primary_reason": ["duplicate"],
            "cpl_cents": [8500],
            "claimed_on": [date(2026, 10, 5)],
            "state": ["filed"],
            "state_on": [date(2026, 10, 5)],
            "response_due": [date(2026, 10, 15)],
            "vendor_reason": [None],
        },
        schema=LEDGER_SCHEMA,
    )


def _write(path: Path, **overrides: Any) -> Path:
    given: dict[str, Any] = {
        "month": MONTH,
        "as_of": AS_OF,
        "metrics": _metrics(),
        "leads": _leads(),
        "lines": _lines(),
        "ledger": _ledger(),
        "currency": {"acme": "EUR"},
    }
    return write_workbook(path, **(given | overrides))


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    return openpyxl.load_workbook(_write(tmp_path_factory.mktemp("wb") / "scorecards.xlsx"))


def _rows(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[dict[str, object]]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(2, values_only=True)]


def test_sheets_and_frozen_header_rows(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["metrics", "leads", "claims"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
    assert [c.value for c in book["metrics"][1]][:4] == [
        "grain",
        "vendor_id",
        "program_id",
        "month",
    ]
    assert "email" in [c.value for c in book["leads"][1]]
    assert book["claims"]["A1"].value == "state"


def test_metrics_by_vendor_and_program_with_typed_rates_and_money(book: openpyxl.Workbook) -> None:
    sheet = book["metrics"]
    rows = _rows(sheet)
    assert [r["grain"] for r in rows] == ["vendor", "program"]  # the portfolio row is not here
    header = [c.value for c in sheet[1]]
    fill = sheet.cell(2, header.index("fill_rate") + 1)
    spend = sheet.cell(2, header.index("spend") + 1)
    assert fill.data_type == "n" and fill.value == pytest.approx(0.8)
    assert fill.number_format == "0.0%"
    assert spend.data_type == "n" and spend.value == pytest.approx(12_345.0)
    assert spend.number_format == "#,##0.00"
    assert rows[0]["currency"] == "EUR"
    assert isinstance(rows[0]["ordered"], int)


def test_leads_of_the_month_with_masked_emails_and_reasons(book: openpyxl.Workbook) -> None:
    rows = _rows(book["leads"])
    assert [r["vendor_lead_id"] for r in rows] == ["A-0", "A-1", "A-2", "A-3"]
    emails = [r["email"] for r in rows]
    assert emails == [mask_email(e) for e in EMAILS[:4]]
    assert emails[0] == "J***@example.com"
    assert not any("Jane" in str(v) or "Doe" in str(v) for r in rows for v in r.values())
    assert rows[3]["reasons"] == "bad_email; suppressed"
    assert isinstance(rows[0]["delivered_at"], datetime)
    assert rows[0]["cpl"] == pytest.approx(85.0)


def test_no_text_cell_starts_a_formula(book: openpyxl.Workbook) -> None:
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    companies = [r["company"] for r in _rows(book["leads"])]
    assert companies[0] == '\'=HYPERLINK("http://x","y")'
    assert companies[2] == "Plain Ltd"


def test_claims_with_their_states_each_line_once(book: openpyxl.Workbook) -> None:
    rows = _rows(book["claims"])
    states = {r["vendor_lead_id"]: r["state"] for r in rows}
    assert states == {"A-old": "filed", "A-0": "filed", "A-3": "past the claim window"}
    assert all(isinstance(r["cpl"], float | int) for r in rows)


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.xlsx").read_bytes()
    second = _write(tmp_path / "b.xlsx").read_bytes()
    assert first == second


def test_masked_email_expression_matches_the_documents() -> None:
    masked = pl.DataFrame({"email": EMAILS}).select(masked_email())["email"].to_list()
    assert masked == [mask_email(e) for e in EMAILS]


def test_a_month_past_the_sheet_limit_keeps_its_invalid_leads_and_says_so(tmp_path: Path) -> None:
    """Past `LEAD_ROWS`, the invalid leads are kept first and an `about` sheet says how many of
    the month's leads the sheet holds and where all of them are."""
    leads = pl.concat([_leads()] * 3).with_columns(
        pl.col("vendor_lead_id") + pl.int_range(pl.len()).cast(pl.String)
    )
    month_leads = leads.filter(pl.col("month") == MONTH)
    invalid = month_leads.filter(pl.col("status") == "invalid").height
    limit = invalid + 1
    shown, total = leads_sheet(leads, MONTH, limit)
    path = _write(tmp_path / "big.xlsx", leads=leads, lead_rows=limit)
    assert (shown.height, total) == (limit, month_leads.height)
    assert shown.filter(pl.col("status") == "invalid").height == invalid  # none left out
    assert shown["vendor_lead_id"].to_list() == sorted(shown["vendor_lead_id"].to_list())
    # the accepted lead kept is the first in line order, not any accepted lead
    first_accepted = month_leads.filter(pl.col("status") != "invalid").sort(
        "vendor_id", "vendor_lead_id", "delivered_at"
    )
    kept = shown.filter(pl.col("status") != "invalid")["vendor_lead_id"]
    assert kept.to_list() == first_accepted["vendor_lead_id"].head(1).to_list()
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["metrics", "leads", "claims", "about"]
    assert book["leads"].max_row == limit + 1  # and the header
    about = [row[0] for row in book["about"].iter_rows(2, values_only=True)]
    assert about[0] == (
        f"{MONTH} has {month_leads.height} delivered leads; the leads sheet holds {limit} of "
        f"them, at most {limit}: {invalid} invalid leads first, then accepted leads in line order."
    )
    assert "leads.parquet" in about[1]


def test_a_month_within_the_limit_has_no_about_sheet(book: openpyxl.Workbook) -> None:
    assert "about" not in book.sheetnames


def test_a_claims_sheet_past_the_limit_keeps_the_lines_claimed_first(tmp_path: Path) -> None:
    path = _write(tmp_path / "small.xlsx", lead_rows=2)
    book = openpyxl.load_workbook(path)
    states = [r["state"] for r in _rows(book["claims"])]
    assert states == ["filed", "filed"]  # the line past the window is the one left out
    about = [row[0] for row in book["about"].iter_rows(2, values_only=True)]
    assert about[2] == (
        "There are 3 claim lines; the claims sheet holds 2 of them, at most 2: 2 lines claimed "
        "from vendors first, then 0 withheld (past the window or over the cap)."
    )
    assert "claim_lines.parquet" in about[3]


def test_with_more_invalid_leads_than_the_limit_the_sheet_shows_the_first_invalid_ones() -> None:
    """Only invalid leads can be shown then (they come first), so only they are read: the
    sheet is the first `limit` of them in line order, the count still every lead's."""
    leads = pl.concat([_leads()] * 3).with_columns(
        pl.col("vendor_lead_id") + pl.int_range(pl.len()).cast(pl.String)
    )
    month_leads = leads.filter(pl.col("month") == MONTH)
    invalid = month_leads.filter(pl.col("status") == "invalid").sort(
        "vendor_id", "vendor_lead_id", "delivered_at"
    )
    assert invalid.height >= 3
    shown, total = leads_sheet(leads.lazy(), MONTH, invalid.height - 1)
    assert total == month_leads.height
    assert shown["vendor_lead_id"].to_list() == invalid["vendor_lead_id"].head(-1).to_list()
