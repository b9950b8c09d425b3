"""One writer at a time (SPEC §9): a run, a sweep or anything else that writes outputs, history
or the ledger holds an exclusive lock on the output folder and on a local history folder.

The lock is `fcntl.flock` on `.scorecards.lock` in each folder: the kernel releases it when the
holder exits, so a killed run never leaves a stale lock behind. A second writer waits
(`SCORECARDS_LOCK_WAIT_SECONDS`, 120 s by default), saying who holds the lock, then refuses in
one sentence.

An object-store history (`s3://…`) cannot be flock-ed: there the lock is the local output folder,
and the history's own safety is Delta's commit protocol (every change one commit, written with the
store's put-if-absent, so two writers never overwrite each other's commit; the ledger's MERGE on
the line key never records a line twice). Writers on different machines must therefore share
neither the history URI nor the output folder unless one scheduler (`scorecards serve`) runs them.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from scorecards.errors import UserError

LOCK_FILE = ".scorecards.lock"
WAIT_ENV = "SCORECARDS_LOCK_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 120.0
POLL_SECONDS = 0.2


def is_object_store(location: str | Path) -> bool:
    """`s3://…`, `az://…`, `gs://…` and the like; a plain path or `file://` is a local folder."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def wait_seconds() -> float:
    raw = os.environ.get(WAIT_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_WAIT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"{WAIT_ENV} must be a number of seconds (got '{raw}')") from None
    if value < 0:
        raise UserError(f"{WAIT_ENV} must not be negative (got '{raw}')")
    return value


def lock_folders(out: Path, history: str | Path) -> list[Path]:
    """The folders a writer locks, in one fixed order so two writers cannot deadlock."""
    folders = {Path(out).resolve()}
    if not is_object_store(history):
        local = str(history).removeprefix("file://")
        folders.add(Path(local).resolve())
    return sorted(folders)


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    return f"another {handle.read().strip() or 'run'}"


# folders this process holds: the CLI takes the lock before the flow starts (so a refusal is
# one sentence before any Prefect machinery), and the flow takes it again for scheduled runs
_HELD: set[Path] = set()


@contextmanager
def _locked(folder: Path, doing: str, wait: float, say: Callable[[str], None]) -> Iterator[None]:
    if folder in _HELD:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    # "a+" never truncates: the holder's note stays readable until we own the lock
    with path.open("a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(handle)
                if time.monotonic() >= deadline:
                    raise UserError(
                        f"{holder} is still writing {folder} after {wait:g} s, so this {doing} "
                        f"did not start; try again when it has finished (or raise {WAIT_ENV})"
                    ) from None
                if not told:
                    say(f"{holder} is writing {folder}; waiting up to {wait:g} s")
                    told = True
                time.sleep(POLL_SECONDS)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{doing} (pid {os.getpid()})")
            handle.flush()
            _HELD.add(folder)
            yield
        finally:
            _HELD.discard(folder)
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextmanager
def one_writer(
    out: Path | str,
    history: str | Path,
    doing: str,
    say: Callable[[str], None] = _stderr,
) -> Iterator[None]:
    """Hold the output folder's (and a local history's) lock for the block; `doing` names this
    writer to the others ("run of 2026-10")."""
    wait = wait_seconds()
    with ExitStack() as stack:
        for folder in lock_folders(Path(out), history):
            stack.enter_context(_locked(folder, doing, wait, say))
        yield
