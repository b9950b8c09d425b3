"""One judged month per vendor everywhere (SPEC §5, §7): the CLI as a user types it on the sample,
then the scorecard, the portfolio and the review PDFs of one vendor read back with pypdf name the
same judged month and the same cost per SQL as metrics.parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from scorecards import formatting as fmt
from tests.conftest import SAMPLE_AS_OF, SAMPLE_MONTH, pdf_text

pytestmark = pytest.mark.usefixtures("prefect_server")
runner = CliRunner()
VENDOR = "bluepeak-demand"  # 60-day window: judged on Aug 2026 while most vendors judge Jul


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def outputs(sample_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("judged")
    common = [
        "--as-of",
        SAMPLE_AS_OF,
        "--data",
        str(sample_inputs / "data"),
        "--contracts",
        str(sample_inputs / "contracts"),
        "--out",
        str(base / "out"),
        "--history",
        str(base / "history"),
    ]
    ran = cli("run", "--month", SAMPLE_MONTH, *common)
    assert ran.exit_code == 0, ran.output
    reviewed = cli("review", VENDOR, "--from", "2026-05", "--to", SAMPLE_MONTH, *common)
    assert reviewed.exit_code == 0, reviewed.output
    reviews = sorted((base / "out").rglob(f"{VENDOR}-*.pdf"))
    assert len(reviews) == 1, reviews
    return {"month": base / "out" / SAMPLE_MONTH, "review": reviews[0]}


def test_scorecard_portfolio_and_review_name_the_same_judged_month_and_cost_per_sql(
    outputs: dict[str, Path],
) -> None:
    verdict = pl.read_parquet(outputs["month"] / "verdicts.parquet").filter(
        pl.col("vendor_id") == VENDOR
    )
    judged = verdict["latest_mature_month"].item()
    assert judged == "2026-08"
    metrics = pl.read_parquet(outputs["month"] / "metrics.parquet").filter(
        pl.col("grain") == "vendor", pl.col("vendor_id") == VENDOR, pl.col("month") == judged
    )
    cost = fmt.money_units(metrics["cost_per_sql"].item(), "USD")
    month = fmt.month(judged)
    assert (month, cost) == ("Aug 2026", "$2,736.00")

    scorecard = pdf_text(outputs["month"] / "scorecards" / f"{VENDOR}.pdf")
    assert f"downstream judged on {month}" in scorecard
    tile = scorecard[scorecard.index("COST PER SQL") :][:160]  # the tile: value, status, month
    assert tile.startswith(f"COST PER SQL {cost}") and month in tile, tile

    portfolio = pdf_text(outputs["month"] / "portfolio.pdf")
    league = portfolio[portfolio.index("League table") :]
    name = verdict["vendor_name"].item()
    row = league[league.index(name) :][:200]
    assert f"{month}" in row and cost in row, row
    assert f"{month} {metrics['sql'].item()}" in row  # the judged month, then its SQLs

    review = pdf_text(outputs["review"])
    assert month in review and cost in review


def test_a_not_conclusive_status_reads_as_words_on_the_scorecard(outputs: dict[str, Path]) -> None:
    scorecard = pdf_text(outputs["month"] / "scorecards" / f"{VENDOR}.pdf")
    assert (
        "SQL rate 6.6% (5 of 76 accepted) below the 10.0% minimum in Aug 2026 — below the limit "
        "on 76 leads: not conclusive"
    ) in scorecard
    assert "at risk" in scorecard
    # replace on the months pooled, with its figures and only what the CRM shows about follow-up
    assert (
        "SQL rate 5.2% (8 of 155 accepted) below the 10.0% minimum in Jul and Aug 2026; "
        "conclusive at 95% on the months pooled (at most 9.9%); sales worked 146 of 155 leads "
        "at least once."
    ) in scorecard
