"""Quarantined rows said by file, so a person knows which file to open (SPEC §9 "Nothing lost").

Both the run's terminal and `check` group the quarantine by file: how many rows each file lost,
and for each reason (the field at fault) the first line as an example. Every row stays in
`quarantine.parquet`; these are the sentences a person reads.
"""

from __future__ import annotations

import polars as pl

SHOWN_FILES = 10


def by_file(quarantine: pl.DataFrame) -> pl.DataFrame:
    """One row per file and reason: rows, the first line and what was wrong with it."""
    return (
        quarantine.with_columns(
            reason=pl.col("field").fill_null("row"),
            # "line 12, field 'email': …": the sentence without the file it is grouped under
            local=pl.col("error").str.strip_prefix(pl.col("source_file") + ", "),
        )
        .sort("source_file", "source_line", nulls_last=True)
        .group_by("source_file", "reason", maintain_order=True)
        .agg(
            rows=pl.len(),
            first_error=pl.col("error").first(),
            first_local=pl.col("local").first(),
        )
        .with_columns(file_rows=pl.col("rows").sum().over("source_file"))
        .sort(["file_rows", "source_file", "rows"], descending=[True, False, True])
    )


def run_sentence(quarantine: pl.DataFrame, prefix: str = "") -> str | None:
    """`73 rows quarantined: 41 in data/deliveries/x.csv (line 12: …), 32 in …`; None when
    nothing was quarantined."""
    if quarantine.is_empty():
        return None
    files = by_file(quarantine).group_by("source_file", maintain_order=True).first()
    parts = [
        f"{row['file_rows']:,} in {prefix}{row['source_file']} ({row['first_local']})"
        for row in files.head(SHOWN_FILES).iter_rows(named=True)
    ]
    if files.height > SHOWN_FILES:
        parts.append(f"{files.height - SHOWN_FILES} more files (every row in quarantine.parquet)")
    rows = quarantine.height
    return f"{rows:,} {'row' if rows == 1 else 'rows'} quarantined: {', '.join(parts)}"


def check_sentences(quarantine: pl.DataFrame) -> list[str]:
    """Per file, how many rows a run would quarantine and the first example of each reason."""
    grouped = by_file(quarantine)
    sentences = []
    for (source_file,), reasons in grouped.group_by("source_file", maintain_order=True):
        examples = "; ".join(
            f"{row['rows']:,} × {row['reason']}, the first: {row['first_error']}"
            for row in reasons.iter_rows(named=True)
        )
        total = reasons["rows"].sum()
        noun = "row" if total == 1 else "rows"
        sentences.append(f"{source_file}: {total:,} {noun} a run would quarantine — {examples}")
    return sentences
