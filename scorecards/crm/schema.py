"""The canonical CRM frame every reader produces (SPEC §2.3, DESIGN.md "crm") and what
`read_crm` returns beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import polars as pl

from scorecards.readers import FileRead

UTC = "UTC"

CRM_SCHEMA: dict[str, pl.DataType] = {
    "email": pl.String(),
    "crm_id": pl.String(),
    "vendor_id": pl.String(),
    "vendor_lead_id": pl.String(),
    "created_at": pl.Datetime("us", UTC),
    "status": pl.String(),
    "sal_at": pl.Datetime("us", UTC),
    "sql_at": pl.Datetime("us", UTC),
    "opportunity_at": pl.Datetime("us", UTC),
    "won_at": pl.Datetime("us", UTC),
    "opportunity_amount": pl.Float64(),
    "attempts": pl.Int64(),
    "email_bounced": pl.Boolean(),
    "disqualified_reason": pl.String(),
}
"""The canonical CRM columns and dtypes, in order (DESIGN.md "crm")."""

Status = Literal[
    "open",
    "working",
    "nurture",
    "unresponsive",
    "disqualified",
    "sql",
    "opportunity",
    "won",
    "lost",
]
STATUSES: tuple[str, ...] = get_args(Status)

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    "vendor_id": pl.String(),
    "field": pl.String(),
    "error": pl.String(),
    "raw": pl.String(),
}
"""DESIGN.md "quarantine"."""

# SPEC §2.3 "no silent zero": the outcome columns a file must fill on at least one row, and the
# figures that are unknown when it does not
REQUIRED_OUTCOMES: dict[str, tuple[str, str]] = {
    "sql_at": ("SQL dates", "SQL figures (SQLs, SQL rate, cost per SQL, days to SQL)"),
    "attempts": ("outreach attempts", "follow-up figures (attempt buckets, worked shares)"),
    "created_at": ("creation dates", "existing-contact checks"),
}


@dataclass(frozen=True)
class CrmInput:
    """What `read_crm` returns: the canonical frame, the rows it could not take, the files read,
    and what a person must be told about them (all plain data, for run.json and `check`)."""

    crm: pl.DataFrame
    quarantine: pl.DataFrame
    files: list[FileRead] = field(default_factory=list)
    # per file: form recognised, canonical column -> header, headers ignored, footer lines
    recognition: list[dict[str, Any]] = field(default_factory=list)
    # per file and outcome column left empty on every row: file, column, figures, sentence
    unknown_columns: list[dict[str, Any]] = field(default_factory=list)
    # per file, column and value no mapping line covers: file, header, value, rows, sentence
    unmapped_values: list[dict[str, Any]] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        """The `crm` section of run.json."""
        return {
            "files": self.recognition,
            "unknown_columns": self.unknown_columns,
            "unmapped_values": self.unmapped_values,
        }
