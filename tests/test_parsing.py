"""A text cell is trimmed and an empty one is null, whatever whitespace surrounds it; a value
with nothing to trim is kept as it is (parsing.blank_to_null)."""

from __future__ import annotations

import re
import unicodedata

import polars as pl
import pytest

from scorecards.parsing import blank_to_null

# Unicode White_Space (what `\s` and `str.strip_chars` both mean), and look-alikes that are not
WHITE_SPACE = [
    *"\t\n\x0b\x0c\r \x85\xa0\u1680",
    *[chr(c) for c in range(0x2000, 0x200B)],
    *"\u2028\u2029\u202f\u205f\u3000",
]
NOT_WHITE_SPACE = ["\u200b", "\ufeff", "\u180e", "x", "é", "@"]


def _trimmed(value: str | None) -> str | None:
    """The rule, by hand: strip Unicode White_Space from both ends, empty is null."""
    if value is None:
        return None
    kept = re.sub(r"^\s+|\s+$", "", value)
    return kept or None


@pytest.mark.parametrize("space", WHITE_SPACE, ids=lambda c: unicodedata.name(c, hex(ord(c))))
def test_every_white_space_character_is_trimmed(space: str) -> None:
    values = [f"{space}a", f"a{space}", f"{space}", f"{space}a b{space}{space}", "a b", "", None]
    got = pl.DataFrame({"v": values}).select(blank_to_null(pl.col("v")))["v"].to_list()
    assert got == [_trimmed(v) for v in values] == ["a", "a", None, "a b", "a b", None, None]


@pytest.mark.parametrize("other", NOT_WHITE_SPACE, ids=lambda c: hex(ord(c)))
def test_other_characters_are_kept(other: str) -> None:
    values = [f"{other}a", f"a{other}", other]
    got = pl.DataFrame({"v": values}).select(blank_to_null(pl.col("v")))["v"].to_list()
    assert got == values
