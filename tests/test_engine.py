"""A frame in pieces is the same frame: the same rows in the same order, sharing its memory."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from scorecards.engine import in_pieces


def test_pieces_hold_the_same_rows_in_order() -> None:
    frame = pl.DataFrame({"n": range(10), "text": [f"lead {i}" for i in range(10)]})
    pieces = in_pieces(frame, rows=3)
    assert pieces.n_chunks() == 4  # 3 + 3 + 3 + 1
    assert_frame_equal(pieces, frame)


def test_a_small_frame_is_left_as_it_is() -> None:
    frame = pl.DataFrame({"n": range(3)})
    assert in_pieces(frame, rows=3) is frame
