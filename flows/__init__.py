"""Orchestration of the `scorecards` steps with Prefect.

Every entry point imports this package first — the CLI, `scorecards serve`, and the processes
Prefect's runner starts for each served flow run (they import `flows.monthly` and never the
CLI) — so the settings that keep a terminal or a service log free of noise nobody can act on
live here.
"""

from __future__ import annotations

import logging
import os

import scorecards  # noqa: F401  (before Polars: it configures Polars' allocator)

# Offline, the Prefect server logs a telemetry error every start: analytics off.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# the temporary server takes ~15 s to start on a 2-core machine, longer when it is busy
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# WeasyPrint warns on every PDF that it subsets fonts with fontTools (no libharfbuzz-subset on
# a fresh machine): harmless, and the bytes stay deterministic through SOURCE_DATE_EPOCH.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)
