"""Vendor scorecards: judging B2B lead vendors against their contracts (SPEC.md)."""

import os

# Polars allocates through jemalloc, whose freed pages stay resident for 10 s by default, so a
# query's peak counts memory that earlier steps already freed. Handing them back after 0.1 s
# was measured on the benchmark's metrics path (bench/README.md, 2026-12-07): at 1 M leads a
# peak of 702-757 MB (five runs) against 746-797 MB after 0.5 s and 847-944 MB by default, in
# 2.0-2.2 s against 1.9-2.1 s; at 10 M 23.9-26.3 s and 5.4-5.7 GB either way. jemalloc reads it
# once, when Polars is first imported: every entry point imports this package before Polars
# (flows/__init__.py, bench/). A value the environment already sets is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:100,muzzy_decay_ms:0")
