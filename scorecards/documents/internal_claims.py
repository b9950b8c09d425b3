"""The internal claims report (SPEC §6): what the vendor must not see, kept for the buyer.

Lines over the return cap and lines past the claim window, with their value and the full
internal evidence, go to `claims/internal-<month>.pdf` and `.csv` (the sweep: `internal-<as-of
date>` in its own `claims/` folder), never into a claim. Totals are per vendor and currency
(money is never summed across currencies).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from scorecards.documents.render import render_pdf, safe_output_path, write_atomic
from scorecards.formatting import amount_text, day, inert_text, masked_email
from scorecards.runinfo import RunInfo

INTERNAL = ("over_cap", "expired")
# The PDF lists at most this many lines per vendor and kind (the earliest delivered first); the
# totals count every line, and the CSV beside it holds them all. A month of a million leads past
# its window would otherwise be a PDF of thousands of pages (over ten minutes to render).
LISTED_LINES = 25

INTERNAL_CSV_COLUMNS = (
    "vendor_id",
    "contract_id",
    "disposition",
    "vendor_lead_id",
    "program_id",
    "month",
    "delivered_at",
    "claim_deadline",
    "email",
    "reason",
    "evidence",
    "value",
    "currency",
)


def internal_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """The claim decisions the vendor is not sent: over the cap, past the window."""
    return lines.filter(pl.col("disposition").is_in(INTERNAL)).sort(
        "vendor_id", "disposition", "delivered_at", "vendor_lead_id"
    )


def internal_totals(internal: pl.DataFrame) -> pl.DataFrame:
    """Per vendor and currency of `internal_lines`: lines and value over the cap and past the
    window."""
    return (
        internal.group_by("vendor_id", "vendor_name", "currency")
        .agg(
            over_cap_lines=(pl.col("disposition") == "over_cap").sum().cast(pl.Int64),
            over_cap_cents=pl.col("cpl_cents")
            .filter(pl.col("disposition") == "over_cap")
            .sum()
            .cast(pl.Int64),
            expired_lines=(pl.col("disposition") == "expired").sum().cast(pl.Int64),
            expired_cents=pl.col("cpl_cents")
            .filter(pl.col("disposition") == "expired")
            .sum()
            .cast(pl.Int64),
        )
        .sort("vendor_id", "currency")
    )


def internal_csv(internal: pl.DataFrame) -> bytes:
    """`internal_lines`, one per row, emails masked, formula starts neutralised."""
    rows = internal.select(
        *INTERNAL_CSV_COLUMNS[:6],  # vendor_id … month, as they are
        pl.col("delivered_at")
        .dt.convert_time_zone("UTC")
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        .alias("delivered_at"),
        pl.col("claim_deadline").dt.strftime("%Y-%m-%d"),
        masked_email("email"),
        pl.col("primary_reason").alias("reason"),
        "evidence",
        amount_text("cpl_cents").alias("value"),
        "currency",
    )
    text = inert_text(pl.col(INTERNAL_CSV_COLUMNS).cast(pl.String))
    # Polars quotes an empty string ("") to tell it from null; Python's csv writes neither
    rows = rows.select(pl.when(text != "").then(text).name.keep())
    return rows.write_csv(line_terminator="\r\n", quote_style="necessary").encode("utf-8")


def _vendor_sections(internal: pl.DataFrame) -> list[dict[str, Any]]:
    """Each vendor and currency's totals and its first `LISTED_LINES` lines of each kind."""
    keys = ("vendor_id", "currency", "disposition")
    listed = internal.group_by(keys, maintain_order=True).head(LISTED_LINES)
    groups = listed.partition_by(keys, as_dict=True)
    # counted by these keys, not the totals' (which carry vendor_name): as the lines are listed
    counts = {tuple(row[:-1]): row[-1] for row in internal.group_by(keys).len().iter_rows()}
    sections = []
    for total in internal_totals(internal).iter_rows(named=True):
        section = dict(total)
        for kind in INTERNAL:
            key = (total["vendor_id"], total["currency"], kind)
            section[kind] = groups[key].to_dicts() if key in groups else []
            section[f"{kind}_unlisted"] = max(counts.get(key, 0) - LISTED_LINES, 0)
        sections.append(section)
    return sections


def write_internal_claims(
    lines: pl.DataFrame, folder: Path, label: str, run: RunInfo
) -> tuple[Path, Path]:
    """`internal-<label>.pdf` and `.csv` into `folder`, each atomically (PDF rendered first)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"internal-{label}"
    pdf_path = safe_output_path(folder, stem, ".pdf")
    csv_path = safe_output_path(folder, stem, ".csv")
    internal = internal_lines(lines)  # sorted and filtered once: 0.7 M lines at 10 M leads
    csv_bytes = internal_csv(internal)
    context = {
        "document": {
            "title": f"Internal claims report {label}",
            "header_left": f"Claims not sent · {label}",
            "header_right": "Internal claims report — not for vendors",
            "created": day(run.as_of),
            "as_of": day(run.as_of),
            "run_id": run.run_id,
        },
        "sections": _vendor_sections(internal),
        "label": label,
        "csv_name": csv_path.name,
    }
    render_pdf("claims_internal.html", context, pdf_path, as_of=run.as_of)
    write_atomic(csv_path, csv_bytes)
    return pdf_path, csv_path
