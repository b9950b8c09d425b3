"""Shared helpers of the exporters (the mapping's inverse, used by the sample generator and the
tests): a canonical frame's values as the text CRM exports write."""

from __future__ import annotations

import polars as pl

from scorecards.crm.schema import CRM_SCHEMA, UTC


def canonical(crm: pl.DataFrame) -> pl.DataFrame:
    """The frame with every canonical column, nulls where absent, so exporters need no ifs."""
    return crm.select(
        [
            (pl.col(name) if name in crm.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in CRM_SCHEMA.items()
        ]
    )


def text(expr: pl.Expr) -> pl.Expr:
    """A value as export text: empty when null, as the systems write blanks."""
    return expr.cast(pl.String).fill_null("")


def amount_text(expr: pl.Expr) -> pl.Expr:
    """Money with two decimals, the way both systems show a currency field."""
    cents = (expr * 100).round(0).cast(pl.Int64)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (cents.abs() // 100).cast(pl.String)
    frac = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    return pl.when(expr.is_null()).then(pl.lit("")).otherwise(sign + whole + "." + frac)


def utc_text(expr: pl.Expr, fmt: str) -> pl.Expr:
    return expr.dt.convert_time_zone(UTC).dt.strftime(fmt).fill_null("")
