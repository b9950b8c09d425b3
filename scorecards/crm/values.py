"""Picklist values through the mapping: statuses and disqualification reasons (SPEC §2.3)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from scorecards.crm.mapping import CrmMapping
from scorecards.crm.plan import WHOLE_WORDS, FileMapping, value_key, whole_number


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


def take_identity_and_attempts(
    m: FileMapping, header: Mapping[str, str | None], mapping: CrmMapping
) -> None:
    """The columns both export readers take the same way, from the headers the mapping found."""
    for name in ("crm_id", "vendor_id", "vendor_lead_id"):
        m.take(name, m.text(header.get(name)))
    m.take("email", m.text(header.get("email")).str.to_lowercase())
    m.take("attempts", m.parsed(header.get("attempts"), whole_number, WHOLE_WORDS))
    m.take(
        "disqualified_reason", disqualified_reason(m, header.get("disqualified_reason"), mapping)
    )
