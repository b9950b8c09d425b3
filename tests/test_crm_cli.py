"""CRM exports through the CLI as a user types it (SPEC §2.3, issue 9): `check` reports each
file's recognition and every unmapped value; a HubSpot export with no stage-date column makes
`run` exit 1 with one sentence, records it in run.json, and the scorecard says the SQL figures
are unknown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from scorecards.crm import read_crm, salesforce_csv, to_hubspot_export
from tests.conftest import ROOT, SAMPLE_AS_OF, SAMPLE_MONTH, pdf_text

runner = CliRunner()


def sample_with_crm(tmp_path: Path, files: dict[str, str]) -> Path:
    shutil.copytree(ROOT / "data" / "deliveries", tmp_path / "data" / "deliveries")
    shutil.copytree(ROOT / "data" / "suppression", tmp_path / "data" / "suppression")
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    (tmp_path / "data" / "crm").mkdir()
    for name, text in files.items():
        (tmp_path / "data" / "crm" / name).write_text(text)
    return tmp_path


def outcomes() -> pl.DataFrame:
    return read_crm(ROOT / "data" / "crm").crm


def test_check_reports_recognition_and_names_every_unmapped_value(tmp_path: Path) -> None:
    report = salesforce_csv(outcomes()).replace(",Unresponsive,", ",Attempted - No Response,")
    base = sample_with_crm(tmp_path, {"leads-report.csv": report})
    result = runner.invoke(
        app, ["check", "--data", str(base / "data"), "--contracts", str(base / "contracts")]
    )
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "crm/leads-report.csv: Salesforce Lead report, dates in UTC" in output
    assert "sql_at <- 'SQL Date'" in output and "5 footer line(s) not read" in output
    rows = outcomes().filter(pl.col("status") == "unresponsive").height
    assert (
        f"crm/leads-report.csv: {rows} row(s) have the lead status 'Attempted - No Response' in "
        "column 'Lead Status', which the CRM mapping does not map"
    ) in output
    assert "Traceback" not in result.output


def test_a_bad_mapping_file_stops_the_run_in_one_sentence(tmp_path: Path) -> None:
    base = sample_with_crm(tmp_path, {"outcomes.csv": (ROOT / "data/crm/outcomes.csv").read_text()})
    (base / "contracts" / "crm-mapping.yaml").write_text("hubspot:\n  timezone: UTC\n")
    result = runner.invoke(
        app,
        ["run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF, "--data", str(base / "data"),
         "--contracts", str(base / "contracts"), "--out", str(base / "out"),
         "--history", str(base / "history")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "crm-mapping.yaml, line 2, field 'hubspot.timezone': is not a known field" in (
        " ".join(result.output.split())
    )
    assert not (base / "out").exists()


@pytest.mark.usefixtures("prefect_server")
def test_a_hubspot_export_without_stage_dates_exits_1_and_the_scorecard_says_so(
    tmp_path: Path,
) -> None:
    # a HubSpot label export whose user left every lifecycle-stage date property out
    exported = to_hubspot_export(outcomes(), "labels").drop(
        "Date entered 'Sales Qualified Lead (Lifecycle Stage Pipeline)'",
        "Date entered 'Opportunity (Lifecycle Stage Pipeline)'",
        "Date entered 'Customer (Lifecycle Stage Pipeline)'",
    )
    base = sample_with_crm(tmp_path, {"contacts.csv": exported.write_csv()})
    result = runner.invoke(
        app,
        ["run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF, "--data", str(base / "data"),
         "--contracts", str(base / "contracts"), "--out", str(base / "out"),
         "--history", str(base / "history")],
    )  # fmt: skip
    output = " ".join(result.output.split())
    assert result.exit_code == 1, output
    assert "Traceback" not in result.output
    sentence = (
        "crm/contacts.csv: the CRM export has no SQL dates (none of its columns holds them), so "
        "SQL figures (SQLs, SQL rate, cost per SQL, days to SQL) are unknown, not zero"
    )
    assert sentence in output
    out = base / "out" / SAMPLE_MONTH
    run = json.loads((out / "run.json").read_text())
    assert [u["column"] for u in run["crm"]["unknown_columns"]] == ["sql_at"]
    assert run["crm"]["files"][0]["form"] == "HubSpot contacts export, property labels"
    assert run["crm"]["files"][0]["columns"]["email"] == "Email"
    # a line may wrap after the "/" of the file name
    scorecard = pdf_text(next((out / "scorecards").glob("*.pdf"))).replace("/ ", "/")
    assert "Figures the CRM left unknown" in scorecard
    assert (
        "SQL figures (SQLs, SQL rate, cost per SQL, days to SQL) are unknown, not zero: the CRM "
        "export crm/contacts.csv has no SQL dates."
    ) in scorecard
    assert "Figures the CRM left unknown" in pdf_text(out / "portfolio.pdf")
    # ... and no vendor is judged on the zeros: SQL rate and cost per SQL are unknown, not breached
    statuses = pl.read_parquet(out / "statuses.parquet").filter(
        pl.col("metric").is_in(["sql_rate", "cost_per_sql"])
    )
    assert statuses.height > 0
    assert set(statuses["status"]) == {"no_data"}
    assert statuses["unknown"].all()
    assert statuses["value"].is_null().all()
    verdicts = pl.read_parquet(out / "verdicts.parquet")
    assert "replace" not in set(verdicts["verdict"])
    assert not verdicts["reason"].str.contains("SQL rate").any()
    assert "SQL rate: unknown in" in scorecard
