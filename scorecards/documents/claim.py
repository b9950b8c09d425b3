"""A replacement claim as procurement sends it (SPEC §6): a PDF for people, a CSV for portals.

Both read only the `Claim` result (evidently's metric/renderer split): no recomputation here.
Emails are masked in both; CSV cells that a spreadsheet would run as a formula are neutralised.
Both hold only what the vendor may see: its own claimed lines with the vendor-safe evidence;
lines over the cap or past the window go to the internal report (`documents.internal_claims`).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC
from decimal import Decimal
from pathlib import Path

from scorecards.claims import Claim, ClaimLine
from scorecards.documents.render import render_pdf, safe_output_path, write_atomic
from scorecards.formatting import FORMULA_STARTS, day, mask_email
from scorecards.runinfo import RunInfo

CSV_COLUMNS = (
    "claim_id",
    "contract_id",
    "vendor_id",
    "vendor_lead_id",
    "program_id",
    "delivered_at",
    "email",
    "reason",
    "evidence",
    "value",
    "currency",
    "respond_by",
)


def inert(cell: str) -> str:
    """The cell as text a spreadsheet will show, never evaluate."""
    return f"'{cell}" if cell.startswith(tuple(FORMULA_STARTS)) else cell


def amount(cents: int) -> str:
    """Cents as a plain decimal for machines: 8500 -> "85.00" (no symbol, no grouping)."""
    return f"{Decimal(cents).scaleb(-2):.2f}"


def _csv_row(claim: Claim, line: ClaimLine) -> list[str]:
    delivered = line.delivered_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cells = [
        claim.claim_id,
        claim.contract_id,
        claim.vendor_id,
        line.vendor_lead_id,
        line.program_id,
        delivered,
        mask_email(line.email),
        line.reason,
        line.vendor_evidence,
        amount(line.value_cents),
        claim.currency,
        claim.response_due.isoformat(),
    ]
    return [inert(cell) for cell in cells]


def claim_csv(claim: Claim) -> bytes:
    """The claimed lines for a vendor portal: UTF-8, fixed columns, CRLF, same bytes every run."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(claim, line) for line in claim.lines)
    return buffer.getvalue().encode("utf-8")


def claim_context(claim: Claim, run: RunInfo) -> dict[str, object]:
    """What claim.html shows: base.html's `document` strings and the `claim` itself (its
    numbers are formatted in the template by the formatting filters)."""
    return {
        "document": {
            "title": f"Replacement claim {claim.claim_id} — {claim.vendor_name}",
            "header_left": claim.vendor_name,
            "header_right": "Replacement claim",
            "created": day(run.as_of),
            "as_of": day(run.as_of),
            "run_id": run.run_id,
        },
        "claim": claim,
    }


def write_claim(claim: Claim, folder: Path, run: RunInfo) -> tuple[Path, Path]:
    """Write `<claim_id>.pdf` and `<claim_id>.csv` into `folder`, each atomically.

    The CSV bytes are made first and the PDF rendered before either file is written, so a
    rendering failure leaves nothing behind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    pdf_path = safe_output_path(folder, claim.claim_id, ".pdf")
    csv_path = safe_output_path(folder, claim.claim_id, ".csv")
    csv_bytes = claim_csv(claim)
    render_pdf("claim.html", claim_context(claim, run), pdf_path, as_of=run.as_of)
    write_atomic(csv_path, csv_bytes)
    return pdf_path, csv_path
