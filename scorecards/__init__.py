"""Vendor scorecards: judging B2B lead vendors against their contracts (SPEC.md)."""

import os

# Polars allocates through jemalloc, whose freed pages stay resident for 10 s by default, so a
# query's peak counts memory that earlier steps already freed. Handing them back after 0.5 s
# was measured on the benchmark's metrics path (bench/README.md, 2026-12-07): at 1 M leads a
# peak of 765-803 MB instead of 847-944 MB in the same time, at 10 M the same peak (5.7 GB) in
# 24.5-25.6 s instead of 26.1-26.2 s. jemalloc reads it once, when Polars is first imported:
# every entry point imports this package before Polars (flows/__init__.py, bench/). A value the
# environment already sets is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:500,muzzy_decay_ms:0")
