"""The schema of every frame that crosses a boundary, declared once (docs/DESIGN.md).

Validation failures never raise at the user: `failures_as_quarantine` turns pandera's failure
cases into quarantine rows that name the file, line, field and value.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from scorecards.parsing import DATETIME

QUARANTINE_SCHEMA = {
    "source_file": pl.String,
    "source_line": pl.Int64,
    "vendor_id": pl.String,
    "field": pl.String,
    "error": pl.String,
    "raw": pl.String,
}


class Deliveries(pa.DataFrameModel):
    """One delivered row that could be attributed to a vendor, a program and a moment."""

    source_file: str = pa.Field(nullable=False)
    source_line: pl.Int64 = pa.Field(nullable=False, ge=1)
    vendor_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    program_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    vendor_lead_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    delivered_at: DATETIME = pa.Field(nullable=False)  # type: ignore[valid-type]
    email: str = pa.Field(nullable=True)
    employees: pl.Int64 = pa.Field(nullable=True, ge=0)
    consent: pl.Boolean = pa.Field(nullable=True)

    class Config:
        strict = False


class Crm(pa.DataFrameModel):
    """One CRM record, matched to leads by (vendor_id, vendor_lead_id) or by email."""

    email: str = pa.Field(nullable=True)
    created_at: DATETIME = pa.Field(nullable=True)  # type: ignore[valid-type]
    attempts: pl.Int64 = pa.Field(nullable=True, ge=0)
    opportunity_amount: pl.Float64 = pa.Field(nullable=True, ge=0)
    email_bounced: pl.Boolean = pa.Field(nullable=True)

    class Config:
        strict = False


class Leads(pa.DataFrameModel):
    """One judged lead: exactly one status, a primary reason exactly when invalid."""

    vendor_id: str = pa.Field(nullable=False)
    program_id: str = pa.Field(nullable=False)
    contract_id: str = pa.Field(nullable=False)
    month: str = pa.Field(nullable=False, str_matches=r"^\d{4}-\d{2}$")
    status: str = pa.Field(nullable=False, isin=["accepted", "invalid"])
    cpl_cents: pl.Int64 = pa.Field(nullable=False, ge=0)
    # null: the CRM has a record of the lead but no attempts (SPEC §4: follow-up unknown)
    attempts: pl.Int64 = pa.Field(nullable=True, ge=0)

    class Config:
        strict = False

    @pa.dataframe_check
    def primary_reason_exactly_when_invalid(cls, data: pa.PolarsData) -> pl.LazyFrame:  # type: ignore[misc]
        return data.lazyframe.select(
            (pl.col("status") == "invalid") == pl.col("primary_reason").is_not_null()
        )


_CHECK_WORDS = {
    "not_nullable": "is empty",
    "str_length(1, None)": "is empty",
    "greater_than_or_equal_to(0)": "must not be negative",
    "greater_than_or_equal_to(1)": "must be at least 1",
}


def failures_as_quarantine(
    frame: pl.DataFrame, schema: type[pa.DataFrameModel]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows that pass, quarantine rows for those that fail); `frame` needs source columns."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null())
        if cases.is_empty():  # a column-level failure is our bug, not the user's data
            raise
        cases = (
            cases.with_columns(pl.col("index").cast(pl.Int64))
            .sort("index", "column")
            .unique("index", keep="first", maintain_order=True)
        )
        bad = frame.with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
        bad = bad.join(cases, on="index", how="inner")
        words = pl.col("check").replace_strict(_CHECK_WORDS, default=None)
        value = pl.col("failure_case").fill_null("")
        message = pl.coalesce(
            pl.format("{} ({})", words, value),
            pl.format("'{}' fails {}", value, pl.col("check")),
        )
        quarantine = bad.select(
            "source_file",
            "source_line",
            pl.col("vendor_id").cast(pl.String)
            if "vendor_id" in bad.columns
            else pl.lit(None, pl.String).alias("vendor_id"),
            pl.col("column").alias("field"),
            pl.format(
                "{}, line {}, field '{}': {}",
                "source_file",
                "source_line",
                "column",
                message,
            ).alias("error"),
            pl.struct(
                pl.exclude(
                    "index", "failure_case", "schema_context", "column", "check", "check_number"
                )
            )
            .struct.json_encode()
            .alias("raw"),
        )
        kept = frame.with_row_index("index").join(cases.select("index"), on="index", how="anti")
        return kept.drop("index"), quarantine.cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]
    return frame, pl.DataFrame(schema=QUARANTINE_SCHEMA)
