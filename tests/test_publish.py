"""Publishing a month (SPEC §9 "Nothing lost"): `out/<month>` is swapped in whole, and the
previous results are never deleted while they are the only copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorecards import outputs
from scorecards.outputs import previous_of, publish, restore_previous, staging_for


def staged(final: Path, run_id: str, text: str) -> outputs.Staging:
    staging = staging_for(final, run_id)
    staging.path("run.json").write_text(text)
    return staging


def test_publish_swaps_in_the_new_folder_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    final = tmp_path / "out" / "2026-10"
    publish(staged(final, "a", "first"))
    publish(staged(final, "b", "second"))
    assert (final / "run.json").read_text() == "second"
    assert sorted(p.name for p in final.parent.iterdir()) == ["2026-10"]


def test_the_exchange_is_atomic_where_the_system_has_it(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "f").write_text("1")
    (two / "f").write_text("2")
    if not outputs._exchange(one, two):
        pytest.skip("no renameat2 exchange on this system or filesystem")
    assert (one / "f").read_text() == "2" and (two / "f").read_text() == "1"


def test_without_the_exchange_publish_renames_aside_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outputs, "_exchange", lambda first, second: False)
    final = tmp_path / "out" / "2026-10"
    publish(staged(final, "a", "first"))
    publish(staged(final, "b", "second"))
    assert (final / "run.json").read_text() == "second"
    assert not previous_of(final).exists()


def test_a_previous_left_as_the_only_copy_is_put_back_not_deleted(tmp_path: Path) -> None:
    final = tmp_path / "out" / "2026-10"
    previous = previous_of(final)
    previous.mkdir(parents=True)
    (previous / "run.json").write_text("the only copy")
    staging_for(final, "next")  # what the next run does first
    assert (final / "run.json").read_text() == "the only copy"
    assert not previous.exists()


def test_a_previous_beside_the_new_folder_is_a_left_over_and_goes(tmp_path: Path) -> None:
    final = tmp_path / "out" / "2026-10"
    final.mkdir(parents=True)
    (final / "run.json").write_text("new")
    previous_of(final).mkdir()
    restore_previous(final)
    assert (final / "run.json").read_text() == "new"
    assert not previous_of(final).exists()


def test_slices_written_one_after_another_read_back_as_their_concatenation(tmp_path: Path) -> None:
    """Several slices stream into one file (Polars' sink): the rows, their order and types as
    the slices hold them, an empty slice included; one slice is `write_parquet`'s bytes."""
    import polars as pl
    from polars.testing import assert_frame_equal

    frame = pl.DataFrame(
        {
            "lead": [f"L{i}" for i in range(7)],
            "reasons": [["a"], [], None, ["b", "c"], ["a"], [], ["c"]],
            "cents": [100, 200, None, 400, 500, 600, 700],
        }
    )
    slices = [frame.slice(0, 3), frame.slice(3, 0), frame.slice(3, 4)]
    outputs.write_parquet_slices(iter(slices), tmp_path / "many.parquet")
    assert_frame_equal(pl.read_parquet(tmp_path / "many.parquet"), frame)
    outputs.write_parquet_slices([frame], tmp_path / "one.parquet")
    outputs.write_parquet(frame, tmp_path / "whole.parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
