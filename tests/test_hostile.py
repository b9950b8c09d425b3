"""Untrusted text stays text (SPEC §9), through a whole month's run: vendor fields that look
like markup, formulas or paths reach the documents as inert text, and nothing is fetched or
written outside the output folder."""

from __future__ import annotations

import csv
import io
import shutil
import socket
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from scorecards import steps
from tests.conftest import ROOT

IMG = '<img src="http://127.0.0.1:9/x.png">'
FORMULA = '=HYPERLINK("http://x","y")'
AS_OF = date(2026, 7, 20)


def _pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


@pytest.fixture
def hostile_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    contracts = tmp_path / "contracts"
    shutil.copytree(ROOT / "tests" / "fixtures" / "contracts" / "spec-example", contracts)
    deliveries = tmp_path / "data" / "deliveries" / "acme-syndication"
    deliveries.mkdir(parents=True)
    header = "program_id,vendor_lead_id,delivered_at,email,company,job_title,country,employees,job_level,consent,q_timeline"
    rows = [
        f'acme-cs-q3,"{FORMULA.replace(chr(34), chr(34) * 2)}",2026-07-10,ann@big.com,"{IMG.replace(chr(34), chr(34) * 2)}",CTO,US,500,"{IMG.replace(chr(34), chr(34) * 2)}",true,3m',
        *[
            f"acme-cs-q3,L{i},2026-07-1{i % 9},p{i}@big.com,Big,CTO,US,500,vp,true,3m"
            for i in range(10)
        ],
    ]
    (deliveries / "2026-07.csv").write_text("\n".join([header, *rows]) + "\n")
    (tmp_path / "data" / "deliveries" / "escape.csv").write_text(
        "vendor_id,program_id,vendor_lead_id,delivered_at,email\n"
        "../../escape,acme-cs-q3,X1,2026-07-10,x@big.com\n"
    )
    connections: list[object] = []
    connect = socket.socket.connect

    def refuse(self: socket.socket, address: object) -> None:
        # Prefect's own client may talk to the session's local test server meanwhile; any
        # other address, and the markup's 127.0.0.1:9, would be a fetch from a document.
        local = isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1", "localhost")
        if local and address[1] != 9:  # type: ignore[index]
            return connect(self, address)  # type: ignore[arg-type]
        connections.append(address)
        raise OSError("network refused in test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    out = tmp_path / "out"
    staged = steps.compute_and_stage(
        "2026-07", AS_OF, tmp_path / "data", contracts, out, str(tmp_path / "history")
    )
    claims = steps.write_month_claims(staged)
    documents = {
        "scorecard": str(steps.render_scorecard(staged, "acme-syndication")),
        "portfolio": str(steps.render_portfolio(staged)),
        "claims": claims,
    }
    steps.publish(staged, {"files": documents, "claims": claims})
    return {"tmp": tmp_path, "out": out / "2026-07", "connections": connections, "claims": claims}


def test_formula_in_a_vendor_field_is_inert_in_the_claim_csv(
    hostile_run: dict[str, object],
) -> None:
    out = hostile_run["out"]
    assert isinstance(out, Path)
    files = sorted((out / "claims").glob("*.csv"))
    assert files, "the hostile lead is invalid (outside ICP) and claimable"
    cells = [cell for row in csv.reader(io.StringIO(files[0].read_text())) for cell in row]
    assert f"'{FORMULA}" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_markup_in_a_vendor_field_prints_literally_and_nothing_is_fetched(
    hostile_run: dict[str, object],
) -> None:
    out = hostile_run["out"]
    assert isinstance(out, Path)
    text = _pdf_text(sorted((out / "claims").glob("*.pdf"))[0])
    assert "job_level=<img src=" in text and "x.png" in text
    assert hostile_run["connections"] == []


def test_a_path_like_vendor_id_writes_nothing_outside_the_output_folder(
    hostile_run: dict[str, object],
) -> None:
    tmp = hostile_run["tmp"]
    out = hostile_run["out"]
    assert isinstance(tmp, Path) and isinstance(out, Path)
    quarantine = pl.read_parquet(out / "quarantine.parquet")
    assert quarantine.filter(pl.col("vendor_id") == "../../escape").height == 1
    written = {p.relative_to(tmp).parts[0] for p in tmp.rglob("*") if p.is_file()}
    assert written <= {"contracts", "data", "out", "history"}
    assert not (tmp.parent / "escape").exists()
