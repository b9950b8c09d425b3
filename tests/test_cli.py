"""The CLI as a person types it, for the commands that need no Prefect server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import ROOT

runner = CliRunner()


@pytest.mark.parametrize("command", ["run", "claims", "review", "check", "serve"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_check_lists_every_row_a_run_would_quarantine_and_exits_1() -> None:
    result = runner.invoke(
        app, ["check", "--data", str(ROOT / "data"), "--contracts", str(ROOT / "contracts")]
    )
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "12 contracts for 12 vendors validate." in text
    assert "Deliveries for " in text and "per vendor in force:" in text
    assert "deliveries/tristate-data/2026-08.csv, line 2, field 'delivered_at'" in text
    assert "'mb-cs-2026-pilot' is not a program of vendor 'meridian-b2b'" in text


def test_check_warns_when_a_claim_window_is_shorter_than_the_sweep(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(ROOT / "tests" / "fixtures" / "contracts" / "spec-example", contracts)
    path = next(contracts.glob("*.yaml"))
    path.write_text(path.read_text().replace("window_days: 30", "window_days: 5"))
    (tmp_path / "data").mkdir()
    result = runner.invoke(
        app, ["check", "--data", str(tmp_path / "data"), "--contracts", str(contracts)]
    )
    text = " ".join(result.output.split())
    assert "allows claims for 5 days, shorter than the 7-day claims sweep" in text
    # the folder holds no input file: the warning is still given, and check fails on it
    assert f"no input files in {tmp_path / 'data'} (expected CSV, Parquet or XLSX" in text
    assert "; a run would refuse it" in text
    assert result.exit_code == 1


def test_check_names_the_file_line_and_field_of_a_broken_contract(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(ROOT / "tests" / "fixtures" / "contracts" / "spec-example", contracts)
    path = next(contracts.glob("*.yaml"))
    path.write_text(path.read_text().replace("monthly_volume: 400", "monthly_volume: -400"))
    (tmp_path / "data").mkdir()
    result = runner.invoke(
        app, ["check", "--data", str(tmp_path / "data"), "--contracts", str(contracts)]
    )
    text = " ".join(result.output.split())
    assert result.exit_code == 1
    assert f"{path.name}, line 9, field 'programs[0].monthly_volume'" in text
    assert "Traceback" not in text


def test_serve_without_a_prefect_server_says_how_to_start_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = runner.invoke(
        app, ["serve", "--data", str(ROOT / "data"), "--contracts", str(ROOT / "contracts")]
    )
    assert result.exit_code == 2
    assert "prefect server start" in " ".join(result.output.split())


def test_review_of_an_unknown_vendor_is_one_sentence() -> None:
    result = runner.invoke(
        app,
        ["review", "nobody", "--from", "2026-05", "--to", "2026-10",
         "--data", str(ROOT / "data"), "--contracts", str(ROOT / "contracts")],
    )  # fmt: skip
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "no contract names vendor 'nobody' (known vendors: bluepeak-demand," in text
    assert "Traceback" not in text
