"""The monthly run as a user runs it: the CLI on the bundled sample, under one Prefect server.

What is checked is content, read back: the parquet numbers, run.json's reconciliation, and the
PDFs' text against metrics.parquet.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from scorecards import formatting as fmt
from scorecards.history import HistoryStore
from tests.conftest import SAMPLE_AS_OF, SAMPLE_MONTH, pdf_text

pytestmark = pytest.mark.usefixtures("prefect_server")
runner = CliRunner()


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result


def run_month(
    sample: Path, out: Path, history: Path, month: str = SAMPLE_MONTH, as_of: str = SAMPLE_AS_OF
) -> Any:
    return cli(
        "run",
        "--month",
        month,
        "--as-of",
        as_of,
        "--data",
        str(sample / "data"),
        "--contracts",
        str(sample / "contracts"),
        "--out",
        str(out),
        "--history",
        str(history),
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_run(sample_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("run")
    result = run_month(sample_inputs, base / "out", base / "history")
    assert result.exit_code == 0, result.output
    return {
        "out": base / "out" / SAMPLE_MONTH,
        "base": base,
        "history": base / "history",
        "output": result.output,
    }  # type: ignore[dict-item]


def test_run_writes_every_output(first_run: dict[str, Path]) -> None:
    out = first_run["out"]
    for name in (
        "metrics.parquet",
        "leads.parquet",
        "quarantine.parquet",
        "run.json",
        "portfolio.pdf",
        "scorecards.xlsx",
    ):
        assert (out / name).is_file(), name
    listed = {o["path"] for o in json.loads((out / "run.json").read_text())["outputs"]}
    assert "scorecards.xlsx" in listed
    verdicts = pl.read_parquet(out / "verdicts.parquet")
    scorecards = sorted(p.stem for p in (out / "scorecards").glob("*.pdf"))
    assert scorecards == sorted(verdicts["vendor_id"].to_list())
    assert len(scorecards) >= 10


def test_run_json_reconciles_every_input_row(first_run: dict[str, Path]) -> None:
    record = json.loads((first_run["out"] / "run.json").read_text())
    assert record["month"] == SAMPLE_MONTH and record["as_of"] == SAMPLE_AS_OF
    assert record["reconciliation"]["balanced"] is True
    leads = pl.read_parquet(first_run["out"] / "leads.parquet")
    quarantine = pl.read_parquet(first_run["out"] / "quarantine.parquet")
    files = {f["file"]: f for f in record["reconciliation"]["files"]}
    for path, row in files.items():
        assert row["rows_read"] == (
            row["quarantined"]
            + row["invalid"]
            + row["accepted"]
            + row["after_report_month"]
            + row["records_kept"]
        ), path
        if row["kind"] == "deliveries":
            assert (
                row["invalid"] + row["accepted"]
                == leads.filter(pl.col("source_file") == path).height
            )
    assert (
        quarantine.height
        == sum(r["quarantined"] for r in files.values())
        + quarantine.filter(pl.col("source_line").is_null()).height
    )
    inputs = {i["path"]: i for i in record["inputs"]}
    for path, item in inputs.items():
        assert re.fullmatch(r"[0-9a-f]{64}", item["sha256"]), path
    outputs = {o["path"]: o["sha256"] for o in record["outputs"]}
    assert outputs["metrics.parquet"] == sha(first_run["out"] / "metrics.parquet")


def test_scorecard_figures_equal_metrics(first_run: dict[str, Path]) -> None:
    metrics = pl.read_parquet(first_run["out"] / "metrics.parquet")
    verdicts = pl.read_parquet(first_run["out"] / "verdicts.parquet")
    for verdict in verdicts.iter_rows(named=True):
        vendor = verdict["vendor_id"]
        text = pdf_text(first_run["out"] / "scorecards" / f"{vendor}.pdf")
        row = metrics.filter(
            pl.col("grain") == "vendor",
            pl.col("vendor_id") == vendor,
            pl.col("month") == SAMPLE_MONTH,
        ).row(0, named=True)
        assert verdict["vendor_name"] in text
        assert verdict["verdict"].upper() in text.upper()
        assert fmt.money(row["spend_cents"]) in text, vendor
        assert fmt.percent(row["invalid_rate"]) in text, vendor
        assert f"as of {SAMPLE_AS_OF}" in text
        assert re.search(r"Page 1 of \d", text)


def test_portfolio_lists_every_vendor_with_its_verdict(first_run: dict[str, Path]) -> None:
    text = pdf_text(first_run["out"] / "portfolio.pdf")
    verdicts = pl.read_parquet(first_run["out"] / "verdicts.parquet")
    for row in verdicts.iter_rows(named=True):
        assert row["vendor_name"] in text


def test_claims_total_equals_lines_times_cpl(first_run: dict[str, Path]) -> None:
    lines = pl.read_parquet(first_run["out"] / "claim_lines.parquet").filter(
        pl.col("disposition") == "claim"
    )
    assert lines.height > 0, "the sample must have claimable lines in the report month"
    for claim_id, group in lines.group_by("claim_id"):
        csv = pl.read_csv(first_run["out"] / "claims" / f"{claim_id[0]}.csv", infer_schema=False)
        assert csv.height == group.height
        text = pdf_text(first_run["out"] / "claims" / f"{claim_id[0]}.pdf")
        assert fmt.money_iso(int(group["cpl_cents"].sum())).replace("\xa0", " ") in text
        assert "@" not in "".join(csv["email"].to_list()).replace("***@", "")  # every email masked


def test_rerun_same_inputs_gives_identical_files_and_no_second_claim(
    first_run: dict[str, Path], sample_inputs: Path, tmp_path: Path
) -> None:
    before = {name: sha(first_run["out"] / name) for name in ("metrics.parquet", "leads.parquet")}
    claims_before = {p.name: sha(p) for p in sorted((first_run["out"] / "claims").iterdir())}
    ledger_before = HistoryStore(str(first_run["history"])).ledger()
    again = run_month(sample_inputs, first_run["base"] / "out", first_run["history"])
    assert again.exit_code == 0, again.output
    after = {name: sha(first_run["out"] / name) for name in before}
    assert after == before
    # the filed claims stay where they were written, byte for byte (SPEC §6)
    assert {
        p.name: sha(p) for p in sorted((first_run["out"] / "claims").iterdir())
    } == claims_before
    text = " ".join(again.output.split())
    assert f"{ledger_before.height} lines already claimed on {SAMPLE_AS_OF} in claims" in text
    assert "0 claim lines filed" not in text
    ledger = HistoryStore(str(first_run["history"])).ledger()
    assert ledger.height == ledger_before.height
    assert ledger.select("vendor_id", "vendor_lead_id", "delivered_at").is_unique().all()


def test_bad_contract_stops_the_run_before_anything_is_written(
    sample_inputs: Path, tmp_path: Path
) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    first = sorted((sample_inputs / "contracts").glob("*.yaml"))[0]
    text = first.read_text().replace("cpl: ", "cpl: -", 1)
    (contracts / first.name).write_text(text)
    result = cli(
        "run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF,
        "--data", str(sample_inputs / "data"), "--contracts", str(contracts), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert first.name in result.output and "line" in result.output and "cpl" in result.output
    assert not (tmp_path / "out").exists()


def test_bad_month_is_one_sentence(tmp_path: Path) -> None:
    result = cli("run", "--month", "2026-13")
    assert result.exit_code == 2
    assert "--month must be a month written YYYY-MM (got '2026-13')" in result.output
    assert "Traceback" not in result.output


def test_run_names_the_files_with_quarantined_rows(first_run: dict[str, Path]) -> None:
    text = " ".join(str(first_run["output"]).split())
    assert "3 rows quarantined: 1 in " in text
    assert "deliveries/tristate-data/2026-08.csv (line 2, field 'delivered_at'" in text


def test_run_publishes_a_summary_table_artifact(first_run: dict[str, Path]) -> None:
    from prefect.artifacts import Artifact

    artifact = Artifact.get(f"scorecards-{SAMPLE_MONTH}")
    assert artifact is not None and artifact.type == "table"
    rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    verdicts = pl.read_parquet(first_run["out"] / "verdicts.parquet")
    assert [r["vendor"] for r in rows] == sorted(verdicts["vendor_id"].to_list())
    assert set(rows[0]) == {
        "vendor",
        "verdict",
        "cost per SQL",
        "judged on",
        "claim lines",
        "claimed",
    }
    claimed = pl.read_parquet(first_run["out"] / "claim_lines.parquet").filter(
        pl.col("disposition") == "claim"
    )
    assert sum(r["claim lines"] for r in rows) == claimed.height
