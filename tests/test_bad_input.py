"""Bad input that used to get through (SPEC §2.1, §2.2, §9 "Nothing lost"): a YAML alias bomb in
a contract, a workbook with two sheets, a CSV line with an extra field, UTF-16 and `;` CSVs, and
absurdly wide files. Each case: the sentence (file, line, field), the quarantine entry by line,
and a reconciliation that counts every row.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from flows.cli import app
from scorecards.contracts import contract_problems
from scorecards.errors import UserError
from scorecards.ingest import _clashing_headers, canonical_headers
from scorecards.readers import (
    MAX_COLUMNS,
    _rewritten,
    _without_ragged_lines,
    read_table,
    read_tables,
)
from tests.conftest import ROOT
from tests.test_ingest import HEADER, counts, quarantined, run

runner = CliRunner()

# --- 1. a YAML alias bomb ("billion laughs") in a contract ------------------------------------

BOMB = """\
vendor: {id: acme-syndication, name: "Acme & Sons"}
contract_id: ACME-2026-H2
lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""
BOMB_SENTENCE = (
    "bomb.yaml, line 3: uses the YAML anchor &a; contracts may not use anchors or aliases: "
    "write each value out"
)


def _contracts_with(tmp_path: Path, name: str, text: str) -> Path:
    contracts = tmp_path / "contracts"
    shutil.copytree(ROOT / "tests" / "fixtures" / "contracts" / "spec-example", contracts)
    (contracts / name).write_text(text)
    (tmp_path / "data" / "deliveries").mkdir(parents=True)
    return contracts


def test_an_alias_bomb_is_refused_at_its_first_anchor(tmp_path: Path) -> None:
    contracts = _contracts_with(tmp_path, "bomb.yaml", BOMB)
    started = time.perf_counter()
    problems = contract_problems(contracts)
    elapsed = time.perf_counter() - started
    assert [p.sentence.removeprefix(f"{contracts}/") for p in problems] == [BOMB_SENTENCE]
    assert elapsed < 5, f"{elapsed:.1f} s"  # measured: a few milliseconds


def test_an_alias_without_its_anchor_and_a_merge_key_are_refused_too(tmp_path: Path) -> None:
    contracts = _contracts_with(
        tmp_path,
        "merge.yaml",
        "vendor: {id: x, name: X}\ncontract_id: X-1\nthresholds:\n  fill_rate: *limits\n",
    )
    (contracts / "merge2.yaml").write_text(
        "base: &base {min: 0.9}\nthresholds:\n  fill_rate:\n    <<: *base\n"
    )
    sentences = sorted(
        p.sentence.removeprefix(f"{contracts}/") for p in contract_problems(contracts)
    )
    assert sentences == [
        "merge.yaml, line 4: uses the YAML alias *limits; contracts may not use anchors or "
        "aliases: write each value out",
        "merge2.yaml, line 1: uses the YAML anchor &base; contracts may not use anchors or "
        "aliases: write each value out",
    ]


def test_an_ampersand_or_asterisk_inside_text_is_not_an_anchor(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(ROOT / "tests" / "fixtures" / "contracts" / "spec-example", contracts)
    path = next(contracts.glob("*.yaml"))
    path.write_text(path.read_text().replace('"Acme Syndication Ltd"', '"Acme & *Co* Ltd"'))
    assert contract_problems(contracts) == []


@pytest.mark.parametrize("command", ["check", "run"])
def test_check_and_run_refuse_an_alias_bomb_in_one_sentence_fast(
    tmp_path: Path, command: str
) -> None:
    contracts = _contracts_with(tmp_path, "bomb.yaml", BOMB)
    args = [command, "--data", str(tmp_path / "data"), "--contracts", str(contracts)]
    if command == "run":
        args += ["--month", "2026-07", "--as-of", "2026-08-05", "--out", str(tmp_path / "out")]
        args += ["--history", str(tmp_path / "history")]
    started = time.perf_counter()
    result = runner.invoke(app, args)
    elapsed = time.perf_counter() - started
    text = " ".join(result.output.split())
    assert result.exit_code == (2 if command == "run" else 1), text
    assert BOMB_SENTENCE in text
    assert "Traceback" not in text and "validation error" not in text
    assert not (tmp_path / "out").exists()
    assert elapsed < 10, f"{elapsed:.1f} s"  # measured: well under a second


# --- 2. a workbook with two sheets -------------------------------------------------------------


def _workbook(path: Path, sheets: dict[str, list[list[str]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            sheet.write_row(r, 0, row)
    book.close()


def test_every_sheet_of_a_workbook_is_read_and_named_in_source_file(tmp_path: Path) -> None:
    header = HEADER.split(",")
    _workbook(
        tmp_path / "data" / "deliveries" / "acme" / "jul.xlsx",
        {
            "July": [header, ["acme-cs", "L1", "2026-07-01", "a@corp.com"]],
            "Late adds": [
                header,
                ["acme-cs", "L2", "2026-07-02", "b@corp.com"],
                ["acme-cs", "L3", "soon", "c@corp.com"],
            ],
            "Notes": [],  # an empty sheet holds nothing to lose
        },
    )
    result = run(tmp_path, {})
    first, second = "deliveries/acme/jul.xlsx#July", "deliveries/acme/jul.xlsx#Late adds"
    assert [f.path for f in result.files if f.path.startswith("deliveries/")] == [first, second]
    assert counts(result, first) == {
        "rows_read": 1,
        "quarantined": 0,
        "invalid": 0,
        "accepted": 1,
        "after_report_month": 0,
    }
    assert counts(result, second)["rows_read"] == 2
    assert counts(result, second)["accepted"] == 1
    assert quarantined(result) == [
        {
            "source_file": second,
            "source_line": 3,
            "vendor_id": "acme",
            "field": "delivered_at",
            "error": f"{second}, line 3, field 'delivered_at': "
            "'soon' is not an ISO 8601 date or time",
        }
    ]
    assert sorted(result.leads.collect()["source_file"].to_list()) == [first, second]


def test_a_one_sheet_workbook_keeps_its_plain_file_name(tmp_path: Path) -> None:
    _workbook(
        tmp_path / "data" / "deliveries" / "acme" / "jul.xlsx",
        {"Sheet1": [HEADER.split(","), ["acme-cs", "L1", "2026-07-01", "a@corp.com"]]},
    )
    result = run(tmp_path, {})
    assert result.leads.collect()["source_file"].to_list() == ["deliveries/acme/jul.xlsx"]


def test_a_reader_of_whole_files_refuses_a_workbook_with_two_sheets_of_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm" / "export.xlsx"
    _workbook(path, {"A": [["email"], ["a@x.com"]], "B": [["email"], ["b@x.com"]]})
    with pytest.raises(UserError) as caught:
        read_table(path, tmp_path)
    assert caught.value.sentence == (
        "crm/export.xlsx: holds 2 sheets with data (A, B): save each sheet as its own file"
    )


# --- 3. a CSV line with an extra field ---------------------------------------------------------


def test_a_line_with_an_extra_field_is_quarantined_by_line_and_the_rest_judged(
    tmp_path: Path,
) -> None:
    name = "deliveries/acme/jul.csv"
    result = run(
        tmp_path,
        {
            "acme/jul.csv": f"{HEADER}\n"
            "acme-cs,L1,2026-07-01,a@corp.com\n"
            "acme-cs,L2,2026-07-01,b@corp.com,oops\n"
            'acme-cs,"L3, quoted",2026-07-02,c@corp.com\n'
            "acme-cs,L4,2026-07-02\n"  # a short row: its missing cells are empty
            "acme-cs,L5,later,e@corp.com\n"
        },
    )
    assert quarantined(result) == [
        {
            "source_file": name,
            "source_line": 3,
            "vendor_id": "acme",
            "field": None,
            "error": f"{name}, line 3: has 5 fields, the header has 4",
        },
        {
            "source_file": name,
            "source_line": 6,
            "vendor_id": "acme",
            "field": "delivered_at",
            "error": f"{name}, line 6, field 'delivered_at': 'later' is not an ISO 8601 date or time",
        },
    ]
    raw = result.quarantine.filter(pl.col("source_line") == 3)["raw"].item()
    assert json.loads(raw) == ["acme-cs", "L2", "2026-07-01", "b@corp.com", "oops"]
    assert counts(result, name) == {
        "rows_read": 5,
        "quarantined": 2,
        "invalid": 1,  # L4 has no email
        "accepted": 2,
        "after_report_month": 0,
    }
    lines = dict(
        zip(
            result.leads.collect()["vendor_lead_id"],
            result.leads.collect()["source_line"],
            strict=True,
        )
    )
    assert lines == {"L1": 2, "L3, quoted": 4, "L4": 5}


def test_both_ways_of_setting_ragged_lines_aside_agree() -> None:
    """The quick way (polars cuts, the stdlib reader says which lines) and the sure way (kept
    records written out again), used when the two readers count records differently."""
    text = 'a,b\n1,2\n3,4,5\n\n"6\n7",8\n9,10,11,12\n13\n'
    quick = _without_ragged_lines(text, text.encode(), ",")
    sure = _rewritten(text, ",", 2, quick[2])
    assert quick[0].equals(sure[0]) and quick[1].to_list() == sure[1].to_list() == [2, 4, 5, 7]
    assert quick[2]["source_line"].to_list() == [3, 6]
    assert quick[0]["a"].to_list() == ["1", None, "6\n7", "13"]


def test_a_reader_of_whole_files_names_the_ragged_line(tmp_path: Path) -> None:
    path = tmp_path / "crm" / "outcomes.csv"
    path.parent.mkdir()
    path.write_text("email,status\na@x.com,sql\nb@x.com,sql,extra\n")
    with pytest.raises(UserError) as caught:
        read_table(path, tmp_path)
    assert caught.value.sentence == "crm/outcomes.csv, line 3: has 3 fields, the header has 2"


# --- 4. UTF-16 (Excel's "Unicode text") and `;` (European Excel) -------------------------------

ROWS = [
    ["program_id", "vendor_lead_id", "delivered_at", "email", "last_name"],
    ["acme-cs", "L1", "2026-07-01", "a@corp.com", "Müller"],
    ["acme-cs", "L2", "bald", "b@corp.com", "Øster"],
]


def _delimited(delimiter: str) -> str:
    return "".join(delimiter.join(row) + "\r\n" for row in ROWS)


@pytest.mark.parametrize(
    ("file", "content"),
    [
        ("unicode.txt", b"\xff\xfe" + _delimited("\t").encode("utf-16-le")),
        ("unicode.csv", b"\xfe\xff" + _delimited("\t").encode("utf-16-be")),
        ("no-bom.csv", _delimited("\t").encode("utf-16-le")),
        ("europe.csv", _delimited(";").encode("cp1252")),
        ("latin1.csv", _delimited(";").encode("latin-1").replace(b"ster", b"ster\x81")),
        ("tabs.tsv", _delimited("\t").encode("utf-8-sig")),
    ],
)
def test_utf16_and_semicolon_files_are_read_with_their_headers(
    tmp_path: Path, file: str, content: bytes
) -> None:
    name = f"deliveries/acme/{file}"
    result = run(tmp_path, {f"acme/{file}": content})
    assert result.leads.collect().select("vendor_lead_id", "last_name").rows() == [("L1", "Müller")]
    assert quarantined(result) == [
        {
            "source_file": name,
            "source_line": 3,
            "vendor_id": "acme",
            "field": "delivered_at",
            "error": f"{name}, line 3, field 'delivered_at': 'bald' is not an ISO 8601 date or time",
        }
    ]
    assert counts(result, name)["rows_read"] == 2


# --- 6. wide files: linear header checks, absurd widths refused --------------------------------


def test_header_checks_are_linear_in_the_number_of_columns() -> None:
    headers = [*HEADER.split(","), *(f"extra {i}" for i in range(200_000))]
    started = time.perf_counter()
    renames = canonical_headers(headers, {})
    clash = _clashing_headers(headers, renames)
    elapsed = time.perf_counter() - started
    assert clash is None and len(renames) == 4
    assert elapsed < 5, f"{elapsed:.1f} s"  # measured: ~0.5 s; quadratic was hours


def test_a_20000_column_file_is_refused_in_one_sentence_fast(tmp_path: Path) -> None:
    extra = ",".join(f"x{i}" for i in range(20_000))
    started = time.perf_counter()
    result = run(
        tmp_path,
        {
            "acme/wide.csv": f"{HEADER},{extra}\nacme-cs,L1,2026-07-01,a@corp.com\n",
            "acme/good.csv": f"{HEADER}\nacme-cs,L2,2026-07-01,b@corp.com\n",
        },
    )
    elapsed = time.perf_counter() - started
    assert quarantined(result) == [
        {
            "source_file": "deliveries/acme/wide.csv",
            "source_line": None,
            "vendor_id": "acme",
            "field": None,
            "error": "deliveries/acme/wide.csv: has 20,004 columns, more than the 5,000 any "
            "delivery or CRM export has: check that it was saved as a table with one header row",
        }
    ]
    assert result.leads.collect()["vendor_lead_id"].to_list() == ["L2"]
    assert elapsed < 10, f"{elapsed:.1f} s"  # measured: ~0.3 s (it was 23 s in header checks)


def test_a_wide_file_below_the_limit_is_read_fast_and_its_sentence_stays_short(
    tmp_path: Path,
) -> None:
    width = MAX_COLUMNS - 10
    extra = ",".join(f"x{i}" for i in range(width))
    started = time.perf_counter()
    result = run(
        tmp_path,
        {
            "acme/wide.csv": f"{HEADER},{extra}\nacme-cs,L1,2026-07-01,a@corp.com\n",
            "acme/no-email.csv": f"program_id,vendor_lead_id,delivered_at,{extra}\n"
            "acme-cs,L2,2026-07-01\n",
        },
    )
    elapsed = time.perf_counter() - started
    assert result.leads.collect()["vendor_lead_id"].to_list() == ["L1"]
    (error,) = result.quarantine["error"].to_list()
    assert error.endswith(f"x8 and {width + 3 - 12:,} more)")
    assert len(error) < 300
    assert elapsed < 20, f"{elapsed:.1f} s"  # measured: ~1 s


def test_a_wide_parquet_file_is_refused_from_its_schema(tmp_path: Path) -> None:
    frame = pl.DataFrame({f"c{i}": ["v"] for i in range(MAX_COLUMNS + 1)})
    frame.write_parquet(tmp_path / "wide.parquet")
    with pytest.raises(UserError) as caught:
        read_tables(tmp_path / "wide.parquet", tmp_path)
    assert caught.value.sentence.startswith("wide.parquet: has 5,001 columns, more than the 5,000")


# --- all of it through the CLI, as a user runs the month ---------------------------------------

NW = "northwind-syndication"
NW_HEADER = ["program_id", "vendor_lead_id", "delivered_at", "email", "job_level", "country"]


def _bad_month(folder: Path) -> Path:
    """One sample vendor (contract, deliveries, CRM, suppression) plus four awkward files."""
    (folder / "contracts").mkdir(parents=True)
    shutil.copy(ROOT / "contracts" / f"{NW}.yaml", folder / "contracts")
    for part in ("crm", "suppression", f"deliveries/{NW}"):
        shutil.copytree(ROOT / "data" / part, folder / "data" / part)
    vendor = folder / "data" / "deliveries" / NW

    def row(lead: str, day: str = "2026-10-20") -> list[str]:
        return ["nw-cs-2026", lead, day, f"{lead.lower()}@bigcorp.com", "vp", "US"]

    _workbook(
        vendor / "extra.xlsx",
        {"First": [NW_HEADER, row("X1")], "Second": [NW_HEADER, row("X2"), row("X3", "soon")]},
    )
    lines = [NW_HEADER, row("R1"), [*row("R2"), "stray"], row("R3")]
    (vendor / "ragged.csv").write_text("".join(",".join(r) + "\n" for r in lines))
    unicode = [NW_HEADER, row("U1"), row("U2")]
    (vendor / "unicode.txt").write_bytes(
        b"\xff\xfe" + "".join("\t".join(r) + "\r\n" for r in unicode).encode("utf-16-le")
    )
    europe = [NW_HEADER, row("E1")]
    (vendor / "europe.csv").write_bytes("".join(";".join(r) + "\r\n" for r in europe).encode())
    (folder / "contracts" / "bomb.yaml").write_text(BOMB)
    return folder


@pytest.mark.usefixtures("prefect_server")
def test_a_month_with_awkward_files_reconciles_every_row_in_run_json(tmp_path: Path) -> None:
    folder = _bad_month(tmp_path)
    args = ["--data", str(folder / "data"), "--contracts", str(folder / "contracts")]
    refused = runner.invoke(app, ["check", *args])
    assert refused.exit_code == 1 and "uses the YAML anchor &a" in refused.output
    (folder / "contracts" / "bomb.yaml").unlink()

    checked = runner.invoke(app, ["check", *args])
    text = " ".join(checked.output.split())
    base = f"deliveries/{NW}"
    assert f"{base}/ragged.csv, line 3: has 7 fields, the header has 6" in text
    assert f"{base}/extra.xlsx#Second, line 3, field 'delivered_at'" in text

    out, history = tmp_path / "out", tmp_path / "history"
    month = ["--month", "2026-10", "--as-of", "2026-11-05", "--out", str(out)]
    result = runner.invoke(app, ["run", *month, *args, "--history", str(history)])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    record = json.loads((out / "2026-10" / "run.json").read_text())
    assert record["reconciliation"]["balanced"] is True
    files = {f["file"]: f for f in record["reconciliation"]["files"]}
    expected_rows = {
        f"{base}/extra.xlsx#First": 1,
        f"{base}/extra.xlsx#Second": 2,
        f"{base}/ragged.csv": 3,
        f"{base}/unicode.txt": 2,
        f"{base}/europe.csv": 1,
    }
    assert {name: files[name]["rows_read"] for name in expected_rows} == expected_rows
    assert files[f"{base}/ragged.csv"]["quarantined"] == 1
    assert files[f"{base}/extra.xlsx#Second"]["quarantined"] == 1
    assert {i["path"] for i in record["inputs"]} >= set(expected_rows)
    quarantine = pl.read_parquet(out / "2026-10" / "quarantine.parquet")
    held = quarantine.filter(pl.col("source_file").is_in(list(expected_rows)))
    assert held.select("source_file", "source_line").sort("source_file").rows() == [
        (f"{base}/extra.xlsx#Second", 3),
        (f"{base}/ragged.csv", 3),
    ]
    leads = pl.read_parquet(out / "2026-10" / "leads.parquet")
    judged = set(leads.filter(pl.col("source_file").is_in(list(expected_rows)))["vendor_lead_id"])
    assert judged == {"X1", "X2", "R1", "R3", "U1", "U2", "E1"}
