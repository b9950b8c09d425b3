"""Picklist values through the mapping: statuses and disqualification reasons (SPEC §2.3)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from scorecards.crm.mapping import CrmMapping
from scorecards.crm.plan import FileMapping, value_key


def mapped_status(keys: pl.Expr, values: Mapping[str, str | None]) -> pl.Expr:
    """A code column's keys through a value map; an unmapped or unset value is null."""
    known = {k: v for k, v in values.items() if v is not None}
    if not known:
        return pl.lit(None, dtype=pl.String)
    return keys.replace_strict(known, default=None, return_dtype=pl.String)


def disqualified_reason(m: FileMapping, header: str | None, mapping: CrmMapping) -> pl.Expr:
    """A disqualification label as the reason judging reads: a mapped label takes its reason,
    any other is normalised ("No Such Person" is no_such_person)."""
    if header is None:
        return pl.lit(None, dtype=pl.String)
    labels = mapping.disqualified_reasons

    def normalised(text: pl.Expr) -> pl.Expr:
        snake = text.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "_").str.strip_chars("_")
        named = value_key(text).replace_strict(labels, default=None, return_dtype=pl.String)
        return pl.coalesce(named, snake) if labels else snake

    return m.word(header, normalised).replace("", None)
