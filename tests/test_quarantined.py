"""Quarantined rows said by file (SPEC §9): the run's terminal names each file with its count and
first line; `check` groups by file with counts and the first example of each reason."""

from __future__ import annotations

import polars as pl

from scorecards.quarantined import check_sentences, run_sentence
from scorecards.schemas import QUARANTINE_SCHEMA


def row(file: str, line: int, field: str, what: str) -> dict[str, object]:
    return {
        "source_file": file,
        "source_line": line,
        "vendor_id": "acme",
        "field": field,
        "error": f"{file}, line {line}, field '{field}': {what}",
        "raw": "{}",
    }


def quarantine() -> pl.DataFrame:
    rows = [row("deliveries/a.csv", 50 - i, "email", f"'x{i}' is not an email") for i in range(41)]
    rows += [row("deliveries/a.csv", 99, "delivered_at", "'2026-13-01' is not a date")]
    rows += [row("deliveries/b.csv", 12, "program_id", "'p9' is not a program")]
    return pl.DataFrame(rows, schema=QUARANTINE_SCHEMA)


def test_run_sentence_names_each_file_with_its_count_and_first_line_largest_first() -> None:
    assert run_sentence(quarantine(), "data/") == (
        "43 rows quarantined: "
        "42 in data/deliveries/a.csv (line 10, field 'email': 'x40' is not an email), "
        "1 in data/deliveries/b.csv (line 12, field 'program_id': 'p9' is not a program)"
    )


def test_run_sentence_is_none_when_nothing_was_quarantined() -> None:
    assert run_sentence(pl.DataFrame(schema=QUARANTINE_SCHEMA)) is None


def test_check_groups_by_file_with_every_reason_counted_and_nothing_hidden() -> None:
    sentences = check_sentences(quarantine())
    assert sentences == [
        "deliveries/a.csv: 42 rows a run would quarantine — "
        "41 × email, the first: deliveries/a.csv, line 10, field 'email': 'x40' is not an email; "
        "1 × delivered_at, the first: deliveries/a.csv, line 99, field 'delivered_at': "
        "'2026-13-01' is not a date",
        "deliveries/b.csv: 1 row a run would quarantine — 1 × program_id, the first: "
        "deliveries/b.csv, line 12, field 'program_id': 'p9' is not a program",
    ]
    assert not any("more rows" in s for s in sentences)
