"""Progress by stage with counts (SPEC §8 "progress is visible on long work").

The steps and the flow say which stage they are in; whoever runs them (the CLI) listens. With no
listener a stage is a no-op, so the package stays free of any terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, int | None, int | None], None]
_listeners: list[Listener] = []


def stage(text: str, done: int | None = None, total: int | None = None) -> None:
    """Report a stage ("judging 11,244 leads"), optionally with how far it is (7 of 24)."""
    for listener in list(_listeners):
        listener(text, done, total)


def count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
