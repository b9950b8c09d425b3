"""Named instants at which a test can kill a run, to prove a kill anywhere loses nothing.

`SCORECARDS_TEST_CRASH_AT=<point>` makes the process exit at once (code 137, as after SIGKILL:
no `finally`, no atexit, no flush) when it reaches that point. Unset, a point does nothing.
"""

from __future__ import annotations

import os

ENV = "SCORECARDS_TEST_CRASH_AT"
POINTS = ("before-publish", "mid-publish", "after-publish-before-ledger", "after-ledger")


def crash_point(name: str) -> None:
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}")
    if os.environ.get(ENV) == name:
        os._exit(137)
