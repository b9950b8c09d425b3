"""The Polars engine every query of the project is collected on, and the shape of its frames.

In-memory, not Polars' default streaming engine. Measured here (bench/README.md): on the judging
plan at 10 million leads it was faster (53 s against 62 s) and leaner (5.4 GB against 9.5 GB
and more); on the small per-file queries of a monthly run it saves the streaming engine's
start-up on every collect (reading the sample's deliveries took 2.2 s on it, 1.0 s here).
"""

from typing import Final

import polars as pl

ENGINE: Final = "in-memory"

# The in-memory engine evaluates an expression on a frame a chunk at a time, in parallel: on a
# frame of one 10-million-row chunk (what a gather, a sort or a concatenation leaves) it runs on
# one thread, through intermediates too large for the CPU's caches. Measured on this 2-core
# machine, 10 M rows: fourteen comparisons of a datetime 0.38 s in one chunk, 0.11 s in chunks
# of 250,000 rows; a lower-case and a regex on the email 0.96 s against 0.43 s; attributing
# the deliveries to contracts (ingest.contract_in_force) 4.5 s against 0.7 s. A gather goes the
# other way (2.7 s from 40 pieces, 0.9 s from one chunk): only expressions are given pieces.
PIECE_ROWS: Final = 250_000


def in_pieces(frame: pl.DataFrame, rows: int = PIECE_ROWS) -> pl.DataFrame:
    """The same frame as chunks of `rows` rows: slices that share its memory, copying nothing."""
    if frame.height <= rows:
        return frame
    pieces = [frame.slice(start, rows) for start in range(0, frame.height, rows)]
    return pl.concat(pieces, rechunk=False)
