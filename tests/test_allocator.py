"""Polars' allocator is configured before Polars loads, from every entry point (scorecards/__init__.py).

jemalloc reads `_RJEM_MALLOC_CONF` once, when the Polars library is loaded: a value set after
`import polars` does nothing. Each entry point is imported in a fresh interpreter with a finder
that records the variable at the moment Polars is first imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, os, sys
seen = []
class Probe:
    def find_spec(self, name, path=None, target=None):
        if name == "polars" and not seen:
            seen.append(os.environ.get("_RJEM_MALLOC_CONF"))
        return None
sys.meta_path.insert(0, Probe())
sys.path.insert(0, sys.argv[2])
__import__(sys.argv[1])
import polars
print(json.dumps(seen))
"""


def _seen(module: str, env: dict[str, str]) -> list[str | None]:
    """The allocator setting at the moment `module`'s import first imported Polars."""
    shown = subprocess.run(
        [sys.executable, "-c", PROBE, module, str(ROOT / "bench")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    seen: list[str | None] = json.loads(shown.stdout.splitlines()[-1])
    return seen


@pytest.mark.parametrize(
    "module",
    ["flows.cli", "flows.monthly", "flows.review", "run"],  # `run`: bench/run.py's engines
)
def test_polars_loads_with_the_allocator_setting(module: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    assert _seen(module, env) == ["dirty_decay_ms:100,muzzy_decay_ms:0"]


def test_a_setting_the_environment_chose_is_kept() -> None:
    assert _seen("flows.cli", {**os.environ, "_RJEM_MALLOC_CONF": "dirty_decay_ms:0"}) == [
        "dirty_decay_ms:0"
    ]
