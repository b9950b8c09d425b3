"""Golden numbers for the bundled sample portfolio, and the properties every run must keep.

`make golden` (UPDATE_GOLDEN=1) re-pins the files in tests/golden/; the diff is reviewed like code.
"""

from __future__ import annotations

import ast
import hashlib
import os
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from scorecards import steps
from scorecards.outputs import PARQUET_OPTIONS
from scorecards.pipeline import compute_month, read_inputs
from tests.conftest import ROOT, SAMPLE_AS_OF, SAMPLE_MONTH

GOLDEN = ROOT / "tests" / "golden"
AS_OF = date.fromisoformat(SAMPLE_AS_OF)
PINNED = [
    "grain", "vendor_id", "program_id", "lead_type", "month", "ordered", "delivered", "invalid",
    "accepted", "billable", "over_cap", "sal", "sql", "opportunities", "accounts",
    "accounts_with_sql", "spend_cents", "invoiced_risk_cents", "pipeline_cents", "mature",
    "execution_limited", "attempts_unknown", "sql_rate_lo", "sql_rate_hi", "follow_up_unknown",
    "under_worked",
]  # fmt: skip


@pytest.fixture(scope="module")
def sample_result():  # type: ignore[no-untyped-def]
    return compute_month(read_inputs(ROOT / "data", ROOT / "contracts"), SAMPLE_MONTH, AS_OF)


def _check(frame: pl.DataFrame, name: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        frame.write_csv(path)
    expected = pl.read_csv(path, schema=frame.schema)
    assert_frame_equal(frame, expected)


def test_golden_metrics_of_the_sample_portfolio(sample_result) -> None:  # type: ignore[no-untyped-def]
    _check(sample_result.metrics.select(PINNED), "sample_metrics.csv")


def test_golden_verdicts_of_the_sample_portfolio(sample_result) -> None:  # type: ignore[no-untyped-def]
    _check(
        sample_result.verdicts.select("vendor_id", "latest_mature_month", "verdict"),
        "sample_verdicts.csv",
    )


def test_golden_reasons_of_the_sample_portfolio(sample_result) -> None:  # type: ignore[no-untyped-def]
    reasons = (
        sample_result.leads.collect()
        .group_by("vendor_id", "status", "primary_reason")
        .agg(pl.len().cast(pl.Int64).alias("leads"))
        .sort("vendor_id", "status", "primary_reason", nulls_last=False)
    )
    _check(reasons, "sample_reasons.csv")


def test_sample_reconciles_every_row(sample_result) -> None:  # type: ignore[no-untyped-def]
    table = sample_result.reconciliation
    assert table["balanced"].all(), table.filter(~pl.col("balanced"))
    assert table["rows_read"].sum() > 0


def test_sample_exercises_every_reason_and_verdict(sample_result) -> None:  # type: ignore[no-untyped-def]
    from scorecards.contracts import REASONS

    reasons = set(sample_result.leads.collect()["primary_reason"].drop_nulls().unique().to_list())
    assert reasons == set(REASONS)
    verdicts = set(sample_result.verdicts["verdict"].to_list())
    assert {"on track", "review", "replace"} <= verdicts
    assert sample_result.metrics.filter(pl.col("grain") == "vendor")["execution_limited"].any()
    assert set(sample_result.leads.collect()["lead_type"].unique().to_list()) >= {
        "content_syndication", "hql", "bant", "webinar", "intent",
    }  # fmt: skip


def test_same_inputs_give_byte_identical_parquet(tmp_path: Path) -> None:
    hashes = []
    for attempt in ("a", "b"):
        staged = steps.compute_and_stage(
            SAMPLE_MONTH,
            AS_OF,
            ROOT / "data",
            ROOT / "contracts",
            tmp_path / attempt,
            str(tmp_path / "h"),
        )
        folder = Path(staged["staging"])
        hashes.append(
            {
                n: hashlib.sha256((folder / n).read_bytes()).hexdigest()
                for n in ("metrics.parquet", "leads.parquet")
            }
        )
    assert hashes[0] == hashes[1]


def test_the_package_never_imports_prefect() -> None:
    """scorecards/ is pure computation; only flows/ knows the orchestrator."""
    for path in (ROOT / "scorecards").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            assert not any(n.split(".")[0] == "prefect" for n in names), path


def test_deliveries_read_for_the_report_month_judge_exactly_as_those_read_in_file_order() -> None:
    """`read_inputs(..., month)` puts the deliveries in lead order as it reads them, the later
    months last, so that judging copies none of them; August has two later months behind it."""
    month = "2026-08"
    ordered = read_inputs(ROOT / "data", ROOT / "contracts", month)
    in_file_order = read_inputs(ROOT / "data", ROOT / "contracts")
    later = ordered.deliveries.slice(ordered.kept)
    assert ordered.ordered_for == month and 0 < later.height < ordered.deliveries.height
    assert later["delivered_at"].min() >= datetime(2026, 9, 1, tzinfo=UTC)
    assert (
        ordered.deliveries.slice(0, ordered.kept)["delivered_at"].max()
        < later["delivered_at"].min()
    )
    assert_frame_equal(
        ordered.deliveries.sort(pl.all()), in_file_order.deliveries.sort(pl.all())
    )  # the same rows, none lost
    first, second = compute_month(ordered, month, AS_OF), compute_month(in_file_order, month, AS_OF)
    assert first.leads.collect().height == ordered.kept
    for frame in ("leads", "metrics", "verdicts", "reconciliation"):
        assert_frame_equal(getattr(first, frame), getattr(second, frame))


def test_leads_judged_a_slice_at_a_time_are_the_leads_judged_whole(tmp_path: Path) -> None:
    """The monthly run judges the leads a slice at a time and writes each to leads.parquet as it
    goes. A lead's previous delivery and its CRM record are found across the slices (the sample
    has repeats by other vendors, so in other slices), and the file, the metrics and verdicts
    read from it are those of the whole frame. One slice is written as the frame is, byte for
    byte."""
    inputs = read_inputs(ROOT / "data", ROOT / "contracts", SAMPLE_MONTH)
    whole = compute_month(inputs, SAMPLE_MONTH, AS_OF)
    leads = whole.leads.collect()
    assert leads.height > 10_000 and leads.filter(pl.col("primary_reason") == "duplicate").height
    sliced = compute_month(inputs, SAMPLE_MONTH, AS_OF, tmp_path / "sliced.parquet", rows=1_000)
    in_memory = compute_month(inputs, SAMPLE_MONTH, AS_OF, rows=1_000)
    assert_frame_equal(in_memory.leads.collect(), leads)
    assert_frame_equal(pl.read_parquet(tmp_path / "sliced.parquet"), leads)
    for frame in (
        "metrics",
        "history",
        "statuses",
        "verdicts",
        "invalid_reasons",
        "reconciliation",
    ):
        assert_frame_equal(getattr(sliced, frame), getattr(whole, frame))
    compute_month(inputs, SAMPLE_MONTH, AS_OF, tmp_path / "one.parquet")
    leads.write_parquet(tmp_path / "frame.parquet", **PARQUET_OPTIONS)
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "frame.parquet").read_bytes()
