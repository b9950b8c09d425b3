"""One writer at a time (SPEC §9): a second writer waits with a message, then refuses in one
sentence; two real `scorecards run` processes never record a ledger line twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from scorecards.claims import LINE_KEY
from scorecards.errors import UserError
from scorecards.history import HistoryStore
from scorecards.lock import LOCK_FILE, lock_folders, one_writer, wait_seconds
from tests.conftest import ROOT, SAMPLE_AS_OF, SAMPLE_MONTH

TRY_LOCK = """
import sys
from scorecards.lock import one_writer
from scorecards.errors import UserError
try:
    with one_writer(sys.argv[1], sys.argv[2], "claims sweep"):
        print("acquired")
except UserError as exc:
    print(exc.sentence)
    sys.exit(2)
"""


def _try(out: Path, history: str, wait: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCORECARDS_LOCK_WAIT_SECONDS": wait}
    return subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(out), history],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_a_second_writer_refuses_in_one_sentence_after_its_wait(tmp_path: Path) -> None:
    out, history = tmp_path / "out", tmp_path / "history"
    with one_writer(out, str(history), "run of 2026-10"):
        started = time.monotonic()
        done = _try(out, str(history), "1")
        waited = time.monotonic() - started
    assert done.returncode == 2
    assert "another run of 2026-10" in done.stderr and "waiting up to 1 s" in done.stderr
    assert "is still writing" in done.stdout and "did not start" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert waited >= 1
    # released: the next writer gets it at once
    again = _try(out, str(history), "0")
    assert again.returncode == 0 and again.stdout.strip() == "acquired"


def test_a_waiting_writer_goes_on_once_the_first_has_finished(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "SCORECARDS_LOCK_WAIT_SECONDS": "60"}
    with one_writer(out, str(tmp_path / "h"), "run of 2026-10"):
        second = subprocess.Popen(
            [sys.executable, "-c", TRY_LOCK, str(out), str(tmp_path / "h")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while not (out / LOCK_FILE).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # the second writer is waiting now
        assert second.poll() is None
    stdout, stderr = second.communicate(timeout=60)
    assert second.returncode == 0 and stdout.strip() == "acquired"
    assert "is writing" in stderr and "waiting up to 60 s" in stderr


def test_an_object_store_history_locks_the_output_folder_only(tmp_path: Path) -> None:
    assert lock_folders(tmp_path / "out", "s3://bucket/history") == [(tmp_path / "out").resolve()]
    both = lock_folders(tmp_path / "out", str(tmp_path / "history"))
    assert both == sorted([(tmp_path / "out").resolve(), (tmp_path / "history").resolve()])


def test_the_wait_is_configurable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARDS_LOCK_WAIT_SECONDS", "7.5")
    assert wait_seconds() == 7.5
    monkeypatch.setenv("SCORECARDS_LOCK_WAIT_SECONDS", "soon")
    with pytest.raises(UserError, match="SCORECARDS_LOCK_WAIT_SECONDS must be a number"):
        wait_seconds()


def test_two_real_runs_started_together_never_record_a_line_twice(
    sample_inputs: Path, tmp_path: Path
) -> None:
    out, history = tmp_path / "out", tmp_path / "history"

    def start(name: str, wait: str) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "SCORECARDS_LOCK_WAIT_SECONDS": wait,
            "PREFECT_HOME": str(tmp_path / f"prefect-{name}"),
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
        }
        env.pop("PREFECT_API_URL", None)
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "run",
                "--month",
                SAMPLE_MONTH,
                "--as-of",
                SAMPLE_AS_OF,
                "--data",
                str(sample_inputs / "data"),
                "--contracts",
                str(sample_inputs / "contracts"),
                "--out",
                str(out),
                "--history",
                str(history),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )

    first = start("a", "2")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the first holds the lock (its note is in the file)
        lock = out / LOCK_FILE
        if lock.exists() and lock.read_text(encoding="utf-8").strip():
            break
        time.sleep(0.1)
    second = start("b", "2")
    results = [p.communicate(timeout=1200) for p in (first, second)]
    codes = [first.returncode, second.returncode]
    for stdout, stderr in results:
        assert "Traceback" not in stdout + stderr
    assert codes[0] in (0, 1), results[0][1]
    assert codes[1] == 2, results[1]
    refused = results[1][1]
    assert f"another run of {SAMPLE_MONTH}" in refused and "waiting up to 2 s" in refused
    assert "did not start" in refused
    ledger = HistoryStore(history).ledger()
    assert ledger.height > 0
    assert ledger.select(LINE_KEY).unique().height == ledger.height
    assert pl.read_parquet(out / SAMPLE_MONTH / "claim_lines.parquet").height > 0
