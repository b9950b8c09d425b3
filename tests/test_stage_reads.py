"""The documents read only the columns of leads.parquet they use: the same claim lines, the same
scorecard and workbook bytes as from the whole leads frame."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from scorecards import steps, workbook
from scorecards.claims import LEAD_COLUMNS
from scorecards.documents.scorecard import SCORECARD_LEAD_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
MONTH, AS_OF = "2026-10", date(2026, 11, 5)


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("stage-reads")
    return steps.compute_and_stage(
        MONTH, AS_OF, ROOT / "data", ROOT / "contracts", work / "out", str(work / "h")
    )


def _leads(staged: dict[str, Any]) -> pl.DataFrame:
    return pl.read_parquet(Path(staged["staging"]) / "leads.parquet")


def test_claim_lines_from_the_claim_columns_equal_those_from_every_column(
    staged: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert set(LEAD_COLUMNS) < set(_leads(staged).columns)  # a real projection
    projected = steps.month_claim_lines(staged)
    assert (projected["disposition"] == "claim").sum() > 0  # the sample files claims
    assert projected["evidence"].null_count() < projected.height
    monkeypatch.setattr(steps, "LEAD_COLUMNS", _every_column(staged))
    assert_frame_equal(projected, steps.month_claim_lines(staged))


def _every_column(staged: dict[str, Any]) -> tuple[str, ...]:
    return tuple(_leads(staged).columns)


def test_a_scorecard_from_the_columns_it_reads_is_the_same_pdf(
    staged: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    leads = _leads(staged)
    invalid = leads.filter(pl.col("month") == MONTH, pl.col("status") == "invalid")
    vendor = invalid.group_by("vendor_id").len().sort("len", "vendor_id").item(-1, "vendor_id")
    assert invalid.filter(pl.col("vendor_id") == vendor)["primary_reason"].n_unique() > 1
    read = set(SCORECARD_LEAD_COLUMNS) | set(LEAD_COLUMNS)
    assert read < set(leads.columns)
    projected = steps.render_scorecard(staged, vendor).read_bytes()
    monkeypatch.setattr(steps, "SCORECARD_LEAD_COLUMNS", _every_column(staged))
    whole = steps.render_scorecard(staged, vendor).read_bytes()
    assert projected == whole


def test_the_workbook_from_the_columns_it_reads_is_the_same_file(
    staged: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    read = steps._leads_scan(staged, workbook.LEAD_COLUMNS).collect()
    assert read.width < _leads(staged).width
    assert read.filter(pl.col("month") == MONTH).height > 0
    steps.write_month_claims(staged)  # the workbook's claims sheet reads the claim lines
    projected = steps.stage_workbook(staged).read_bytes()
    monkeypatch.setattr(steps, "_leads_scan", lambda staged, columns: _leads(staged).lazy())
    whole = steps.stage_workbook(staged).read_bytes()
    assert projected == whole


def test_the_portfolio_reads_the_staged_claim_lines_and_a_preview_computes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged = steps.compute_and_stage(
        MONTH, AS_OF, ROOT / "data", ROOT / "contracts", tmp_path / "out", str(tmp_path / "h")
    )
    computed = steps.staged_or_month_claim_lines(staged)  # nothing staged yet: computed
    steps.stage_claim_lines(staged)

    def not_again(staged: dict[str, Any]) -> pl.DataFrame:
        raise AssertionError("the claim lines were computed again")

    monkeypatch.setattr(steps, "month_claim_lines", not_again)
    assert_frame_equal(steps.staged_or_month_claim_lines(staged), computed)
