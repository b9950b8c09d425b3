"""SPEC §8-§9 "No official document from missing data": refusals in one sentence before anything
is written, `no deliveries received` for a vendor that delivered nothing, `--preview`, and
progress by stage. CLI cases run the real `scorecards` command and look for a traceback."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from flows.cli import app
from flows.common import dask_answers
from scorecards import formatting as fmt
from scorecards import progress
from scorecards.checks import delivered_in_month
from scorecards.contracts import load_contracts
from scorecards.errors import UserError
from scorecards.guards import (
    check_as_of,
    check_contract_in_force,
    check_month_delivered,
    check_range_delivered,
)
from tests.conftest import ROOT, SAMPLE_AS_OF, SAMPLE_MONTH

runner = CliRunner()
TODAY = "2026-12-02"
SPINNER = set("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")


def pdf_pages(path: Path) -> list[str]:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- the rules, by hand --------------------------------------------------------------------------


def test_as_of_after_today_is_refused() -> None:
    with pytest.raises(UserError, match=r"--as-of 2027-03-01 is after today \(2026-12-02\)"):
        check_as_of("2026-10", date(2027, 3, 1), date(2026, 12, 2))


def test_as_of_before_the_months_last_day_is_refused_unless_previewed() -> None:
    with pytest.raises(
        UserError, match=r"before the end of the report month 2026-10 \(2026-10-31\)"
    ):
        check_as_of("2026-10", date(2026, 10, 30), date(2026, 12, 2))
    check_as_of("2026-10", date(2026, 10, 31), date(2026, 12, 2))  # the last day closes it
    check_as_of("2026-10", date(2026, 10, 30), date(2026, 12, 2), preview=True)
    with pytest.raises(UserError, match="before the report month 2026-10 starts"):
        check_as_of("2026-10", date(2026, 9, 30), date(2026, 12, 2), preview=True)
    # February of a leap year ends on the 29th
    with pytest.raises(UserError, match=r"\(2028-02-29\)"):
        check_as_of("2028-02", date(2028, 2, 28), date(2028, 3, 5))


def deliveries(*days: str, vendor: str = "acme") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "vendor_id": [vendor] * len(days),
            "source_file": [f"deliveries/{vendor}/{d[:7]}.csv" for d in days],
            "delivered_at": [date.fromisoformat(d) for d in days],
        }
    ).with_columns(pl.col("delivered_at").cast(pl.Datetime("us", "UTC")))


def test_a_month_without_deliveries_names_the_months_that_have_some() -> None:
    frame = deliveries("2026-04-03", "2026-06-09", "2026-10-30")
    check_month_delivered(frame, "2026-10", "data")
    with pytest.raises(UserError) as refused:
        check_month_delivered(frame, "2026-11", "data")
    assert refused.value.sentence == (
        "no deliveries for 2026-11 in data/deliveries (deliveries exist for 2026-04 to 2026-10)"
    )
    with pytest.raises(UserError, match=r"\(no deliveries at all\)"):
        check_month_delivered(frame.clear(), "2026-11", "data")


def test_a_review_range_without_deliveries_says_where_the_data_starts() -> None:
    frame = deliveries("2026-04-03", "2026-10-30")
    check_range_delivered(frame, "2026-05", "2026-10", "data", "acme")
    with pytest.raises(UserError) as refused:
        check_range_delivered(frame, "2025-01", "2025-03", "data", "acme")
    assert refused.value.sentence == (
        "no deliveries from acme between 2025-01 and 2025-03 in data/deliveries "
        "(its deliveries run from 2026-04 to 2026-10)"
    )


def test_a_month_no_contract_covers_is_refused_naming_the_contract_span() -> None:
    contracts = load_contracts(ROOT / "contracts").contracts
    check_contract_in_force(contracts, SAMPLE_MONTH)
    with pytest.raises(UserError) as refused:
        check_contract_in_force(contracts, "2024-01", "2024-06")
    starts = min(c.term.start for c in contracts)
    assert refused.value.sentence.startswith("no contract is in force in 2024-01 to 2024-06")
    assert f"contracts run from {starts}" in refused.value.sentence


def test_check_counts_each_vendor_in_forces_rows_by_file_and_flags_the_silent_one() -> None:
    contracts = load_contracts(ROOT / "contracts").contracts
    frame = pl.concat(
        [
            deliveries("2026-10-01", "2026-10-02", "2026-09-30", vendor="bluepeak-demand"),
            deliveries("2026-10-05", vendor="lumen-hql"),
        ]
    )
    lines, problems = delivered_in_month(frame, contracts, SAMPLE_MONTH)
    assert "  bluepeak-demand: 2 rows (deliveries/bluepeak-demand/2026-10.csv 2)" in lines
    assert "  lumen-hql: 1 rows (deliveries/lumen-hql/2026-10.csv 1)" in lines
    assert "  harbor-intent: 0 rows" in lines
    assert any(p.startswith("harbor-intent: no delivery rows for 2026-10") for p in problems)
    assert not any(p.startswith(("bluepeak-demand", "lumen-hql")) for p in problems)


def test_a_dask_address_that_does_not_answer_fails_within_seconds() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(
        UserError, match=f"no Dask scheduler answers at --dask-address tcp://127.0.0.1:{port}"
    ):
        dask_answers(f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - started < 5
    with pytest.raises(UserError, match="must look like tcp://host:8786"):
        dask_answers("tcp://:x")


def test_progress_reaches_every_listener_and_nothing_without_one() -> None:
    heard: list[tuple[str, int | None, int | None]] = []
    progress.stage("nobody listens")
    with progress.listening(lambda *said: heard.append(said)):
        progress.stage("rendering 24 documents", 7, 24)
    progress.stage("after")
    assert heard == [("rendering 24 documents", 7, 24)]
    assert progress.count(11244, "lead") == "11,244 leads"
    assert progress.count(1, "file") == "1 file"


# --- the real command: one sentence, exit 2, nothing written -------------------------------------


def scorecards(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCORECARDS_TODAY": TODAY, "PREFECT_HOME": str(cwd / ".prefect")}
    command = [sys.executable, "-c", "from flows.cli import main; main()", *args]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def sample_args(folder: Path) -> list[str]:
    return [
        "--data", str(ROOT / "data"), "--contracts", str(ROOT / "contracts"),
        "--out", str(folder / "out"), "--history", str(folder / "history"),
    ]  # fmt: skip


CASES = {
    "as-of in the future": (
        ["run", "--month", SAMPLE_MONTH, "--as-of", "2027-03-01"],
        "error: --as-of 2027-03-01 is after today (2026-12-02)",
    ),
    "as-of before the month's end": (
        ["run", "--month", SAMPLE_MONTH, "--as-of", "2026-10-20"],
        "error: --as-of 2026-10-20 is before the end of the report month 2026-10 (2026-10-31)",
    ),
    "a month before any contract": (
        ["run", "--month", "2024-03", "--as-of", "2024-04-05"],
        "error: no contract is in force in 2024-03 (contracts run from",
    ),
    "a review before any contract": (
        ["review", "bluepeak-demand", "--from", "2024-01", "--to", "2024-03"],
        "error: no contract is in force in 2024-01 to 2024-03",
    ),
    "a review as of a day to come": (
        ["review", "bluepeak-demand", "--from", "2026-05", "--to", "2026-10", "--as-of", "2027-01-01"],
        "error: --as-of 2027-01-01 is after today",
    ),
    "a claims sweep as of a day to come": (
        ["claims", "--as-of", "2027-01-04"],
        "error: --as-of 2027-01-04 is after today (2026-12-02)",
    ),
    "a Dask scheduler that does not answer": (
        ["run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF, "--runner", "dask",
         "--dask-address", "tcp://127.0.0.1:9"],
        "error: no Dask scheduler answers at --dask-address tcp://127.0.0.1:9",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_users_mistake_is_one_sentence_exit_2_and_writes_nothing(
    case: str, tmp_path: Path
) -> None:
    args, sentence = CASES[case]
    started = time.monotonic()
    result = scorecards(*args, *sample_args(tmp_path), cwd=ROOT)
    said = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, said
    if "dask" not in said or "optional extra" not in said:  # the dask extra may be absent
        assert sentence in said
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr  # one sentence, wrapped
    assert not (tmp_path / "out").exists() and not (tmp_path / "history").exists()
    assert time.monotonic() - started < 120


def test_an_empty_data_folder_is_refused_by_run_and_failed_by_check(tmp_path: Path) -> None:
    empty = tmp_path / "data"
    for kind in ("deliveries", "crm", "suppression"):
        (empty / kind).mkdir(parents=True)
    folders = ["--data", str(empty), "--contracts", str(ROOT / "contracts")]
    ran = scorecards(
        "run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF, *folders,
        "--out", str(tmp_path / "out"), "--history", str(tmp_path / "history"), cwd=ROOT,
    )  # fmt: skip
    assert ran.returncode == 2
    assert f"error: no input files in {empty}" in " ".join(ran.stderr.split())
    assert "Traceback" not in ran.stdout + ran.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "history").exists()

    checked = runner.invoke(app, ["check", "--month", SAMPLE_MONTH, *folders])
    text = " ".join(checked.output.split())
    assert checked.exit_code == 1
    assert f"no input files in {empty}" in text
    assert "All contracts and inputs check out" not in text


def test_check_lists_the_months_rows_per_vendor_in_force_by_file() -> None:
    result = runner.invoke(
        app,
        ["check", "--month", SAMPLE_MONTH, "--data", str(ROOT / "data"),
         "--contracts", str(ROOT / "contracts")],
    )  # fmt: skip
    text = " ".join(result.output.split())
    frame = pl.read_csv(ROOT / "data" / "deliveries" / "bluepeak-demand" / "2026-10.csv")
    assert "Deliveries for 2026-10, per vendor in force:" in text
    assert (
        f"bluepeak-demand: {frame.height:,} rows (deliveries/bluepeak-demand/2026-10.csv "
        f"{frame.height:,})"
    ) in text


# --- whole runs: preview, review as-of, no deliveries received -----------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> dict[str, Any]:
    """The sample month published, then a preview of it as of the 20th, then a review without
    --as-of; the published month and history are fingerprinted in between."""
    base = tmp_path_factory.mktemp("guard")
    args = sample_args(base)
    os.environ["SCORECARDS_TODAY"] = TODAY
    try:
        published = runner.invoke(
            app, ["run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF, *args]
        )
        assert published.exit_code in (0, 1), published.output
        before = tree_digest(base / "out" / SAMPLE_MONTH), tree_digest(base / "history")
        heard: list[tuple[str, int | None, int | None]] = []
        with progress.listening(lambda *said: heard.append(said)):
            preview = runner.invoke(
                app, ["run", "--month", SAMPLE_MONTH, "--as-of", "2026-10-20", "--preview", *args]
            )
        after = tree_digest(base / "out" / SAMPLE_MONTH), tree_digest(base / "history")
        review = runner.invoke(
            app, ["review", "bluepeak-demand", "--from", "2026-05", "--to", SAMPLE_MONTH, *args]
        )
    finally:
        os.environ.pop("SCORECARDS_TODAY", None)
    return {
        "base": base, "preview": preview, "review": review, "heard": heard,
        "before": before, "after": after,
    }  # fmt: skip


def test_a_preview_writes_only_under_previews_every_page_marked(runs: dict[str, Any]) -> None:
    result = runs["preview"]
    assert result.exit_code in (0, 1), result.output
    assert "PREVIEW" in result.output and "Traceback" not in result.output
    assert runs["before"] == runs["after"]  # the published month and history untouched
    folder = runs["base"] / "out" / "previews" / SAMPLE_MONTH
    assert not (folder / "claims").exists() and not (folder / "claim_lines.parquet").exists()
    documents = [folder / "portfolio.pdf", *sorted((folder / "scorecards").glob("*.pdf"))]
    assert len(documents) == 13
    for pdf in documents:
        pages = pdf_pages(pdf)
        assert all("PREVIEW" in page for page in pages), pdf.name
        assert all("as of 2026-10-20" in page for page in pages), pdf.name
    official = pdf_pages(runs["base"] / "out" / SAMPLE_MONTH / "portfolio.pdf")
    assert not any("PREVIEW" in page for page in official)


def test_a_run_reports_its_stages_with_counts(runs: dict[str, Any]) -> None:
    stages = [text for text, _, _ in runs["heard"]]
    assert stages[0] == "reading 17 files" or stages[0].startswith("reading ")
    assert stages[1] == "judging 11,244 leads" or stages[1].startswith("judging ")
    rendering = [(d, t) for text, d, t in runs["heard"] if text.startswith("rendering")]
    assert rendering[0] == (0, 13) and rendering[-1] == (13, 13)  # 12 scorecards + portfolio
    assert stages[-1] == "publishing"
    assert not SPINNER & set(runs["preview"].output)  # quiet off a terminal


def test_a_review_without_as_of_is_as_of_the_published_month(runs: dict[str, Any]) -> None:
    result = runs["review"]
    assert result.exit_code == 0, result.output
    review = next((runs["base"] / "out" / "reviews").glob("bluepeak-demand-*.pdf"))
    pages = pdf_pages(review)
    assert all(f"as of {SAMPLE_AS_OF}" in page for page in pages)
    metrics = pl.read_parquet(runs["base"] / "out" / SAMPLE_MONTH / "metrics.parquet").filter(
        pl.col("grain") == "vendor", pl.col("vendor_id") == "bluepeak-demand",
        pl.col("month") == "2026-08",
    )  # fmt: skip
    cost = fmt.money_units(metrics["cost_per_sql"].item(), "USD")
    scorecard = " ".join(
        pdf_pages(runs["base"] / "out" / SAMPLE_MONTH / "scorecards" / "bluepeak-demand.pdf")
    )
    assert cost in scorecard and cost in " ".join(pages)


@pytest.mark.usefixtures("prefect_server")
def test_a_misspelled_vendor_folder_gives_no_deliveries_received_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    deliveries_dir = tmp_path / "data" / "deliveries"
    (deliveries_dir / "harbor-intent").rename(deliveries_dir / "harbour-intent")
    monkeypatch.setenv("SCORECARDS_TODAY", TODAY)
    result = runner.invoke(
        app,
        ["run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF, "--data", str(tmp_path / "data"),
         "--contracts", str(ROOT / "contracts"), "--out", str(tmp_path / "out"),
         "--history", str(tmp_path / "history")],
    )  # fmt: skip
    text = " ".join(result.output.split())
    assert result.exit_code == 1, text
    assert (
        "no deliveries received in 2026-10 from harbor-intent although its contract is in force"
        in text
    )
    verdicts = pl.read_parquet(tmp_path / "out" / SAMPLE_MONTH / "verdicts.parquet")
    silent = verdicts.filter(pl.col("verdict") == "no deliveries received")["vendor_id"].to_list()
    assert silent == ["harbor-intent"]
    page = pdf_pages(tmp_path / "out" / SAMPLE_MONTH / "scorecards" / "harbor-intent.pdf")[0]
    assert "NO DELIVERIES RECEIVED" in page.upper()
    assert "No deliveries received in Oct 2026 although contract" in page
