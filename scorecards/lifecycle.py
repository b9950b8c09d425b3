"""The claim lifecycle (SPEC §6): each ledger line's state, the vendor's answers, the summary.

`filed` -> `accepted` (credited or replaced) or `disputed` (with the vendor's reason) ->
`resolved`; a `filed` line not answered by its response due date becomes `overdue` (the sweep
marks it). Vendors' answers come back as a response file — the claim CSV with `decision` and
`vendor_reason` added, or a `LeadID, DispositionCode, CustomReason` return-disposition file — and
are validated line by line like any input: a bad file is refused in one sentence naming the
file and the line, and nothing from it is recorded.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from scorecards.claims import LINE_KEY
from scorecards.errors import UserError

STATES = ("filed", "accepted", "disputed", "resolved", "overdue")
DEFAULT_RESPONSE_DAYS = 10

LIFECYCLE_SCHEMA: dict[str, Any] = {
    "state": pl.String,
    "state_on": pl.Date,
    "response_due": pl.Date,
    "vendor_reason": pl.String,
}

UPDATE_SCHEMA: dict[str, Any] = {
    "vendor_id": pl.String,
    "vendor_lead_id": pl.String,
    "delivered_at": pl.Datetime("us", "UTC"),
    "state": pl.String,
    "state_on": pl.Date,
    "vendor_reason": pl.String,
}

# what lead platforms write in a return-disposition file's DispositionCode
_DISPOSITIONS = {
    "accepted": "accepted",
    "accept": "accepted",
    "approved": "accepted",
    "credited": "accepted",
    "replaced": "accepted",
    "disputed": "disputed",
    "dispute": "disputed",
    "rejected": "disputed",
    "denied": "disputed",
}
# which answer each state may take
_ALLOWED: dict[str, tuple[str, ...]] = {
    "filed": ("accepted", "disputed"),
    "overdue": ("accepted", "disputed"),
    "disputed": ("resolved",),
}


def with_lifecycle(ledger: pl.DataFrame) -> pl.DataFrame:
    """The ledger with its lifecycle columns; a ledger kept before them reads as all `filed`,
    due `DEFAULT_RESPONSE_DAYS` after filing."""
    missing = [name for name in LIFECYCLE_SCHEMA if name not in ledger.columns]
    defaults = {
        "state": pl.lit("filed"),
        "state_on": pl.col("claimed_on"),
        "response_due": pl.col("claimed_on").dt.offset_by(f"{DEFAULT_RESPONSE_DAYS}d"),
        "vendor_reason": pl.lit(None, pl.String),
    }
    return ledger.with_columns(defaults[name].alias(name) for name in missing).with_columns(
        pl.col(name).cast(dtype) for name, dtype in LIFECYCLE_SCHEMA.items()
    )


def overdue_updates(ledger: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """`filed` lines whose response due date has passed by `as_of`: they become `overdue`."""
    return (
        with_lifecycle(ledger)
        .filter(pl.col("state") == "filed", pl.col("response_due") < as_of)
        .select(
            *LINE_KEY,
            state=pl.lit("overdue"),
            state_on=pl.lit(as_of, pl.Date),
            vendor_reason=pl.lit(None, pl.String),
        )
        .select([pl.col(n).cast(t) for n, t in UPDATE_SCHEMA.items()])
    )


def _bad(message: str, path: Path, line: int, *, field: str) -> UserError:
    return UserError(message, file=path, line=line, field=field)


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError("is not UTF-8 text", file=path) from None
    except OSError as error:
        raise UserError(f"cannot be read ({error.strerror})", file=path) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    return header, [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def read_responses(paths: list[Path], ledger: pl.DataFrame, today: date) -> pl.DataFrame:
    """Every answer in `paths` as ledger updates, or UserError for the first bad line (then
    nothing is recorded). Raises on an unknown claim or lead id, a line never claimed, a second
    answer for the same line (in the files or already in the ledger), or a bad decision."""
    book = with_lifecycle(ledger)
    by_claim = {(r["claim_id"], r["vendor_lead_id"]): r for r in book.iter_rows(named=True)}
    claim_ids = set(book["claim_id"])
    by_lead: dict[str, list[dict[str, Any]]] = {}
    for r in book.iter_rows(named=True):
        by_lead.setdefault(r["vendor_lead_id"], []).append(r)
    seen: dict[tuple[Any, ...], str] = {}
    updates = []
    for path in paths:
        header, rows = _rows(path)
        claim_csv = {"claim_id", "vendor_lead_id", "decision"} <= set(header)
        disposition = {"LeadID", "DispositionCode"} <= set(header)
        if not (claim_csv or disposition):
            raise UserError(
                "is not a response file: expected the claim CSV with `decision` and "
                "`vendor_reason` columns added, or LeadID, DispositionCode, CustomReason",
                file=path,
                line=1,
            )
        for number, row in enumerate(rows, start=2):
            if claim_csv:
                lead_id, decision = row.get("vendor_lead_id", ""), row.get("decision", "")
                reason, field = row.get("vendor_reason") or None, "decision"
                line = by_claim.get((row.get("claim_id", ""), lead_id))
                if line is None:
                    claim_id = row.get("claim_id", "")
                    if claim_id not in claim_ids:
                        raise _bad(f"unknown claim id '{claim_id}'", path, number, field="claim_id")
                    raise _bad(
                        f"lead '{lead_id}' is not a line of claim '{claim_id}'"
                        if lead_id in by_lead
                        else f"lead '{lead_id}' was never claimed: no claim holds it",
                        path,
                        number,
                        field="vendor_lead_id",
                    )
                decided = decision.lower()
            else:
                lead_id, code = row.get("LeadID", ""), row.get("DispositionCode", "")
                reason, field = row.get("CustomReason") or None, "DispositionCode"
                candidates = by_lead.get(lead_id, [])
                if not candidates:
                    raise _bad(
                        f"unknown lead id '{lead_id}': no claim ever held it",
                        path,
                        number,
                        field="LeadID",
                    )
                if len(candidates) > 1:
                    raise _bad(
                        f"lead id '{lead_id}' was claimed more than once; answer in the claim "
                        "CSV, which names the claim",
                        path,
                        number,
                        field="LeadID",
                    )
                line = candidates[0]
                decided = _DISPOSITIONS.get(code.lower(), code.lower())
            if decided not in ("accepted", "disputed", "resolved"):
                raise _bad(
                    f"'{decided}' is not a decision: write accepted or disputed",
                    path,
                    number,
                    field=field,
                )
            key = tuple(line[k] for k in LINE_KEY)
            if key in seen:
                raise _bad(
                    f"lead '{lead_id}' is answered a second time (first at {seen[key]})",
                    path,
                    number,
                    field=field,
                )
            if decided not in _ALLOWED.get(line["state"], ()):
                raise _bad(
                    f"lead '{lead_id}' was already answered: it is {line['state']} since "
                    f"{line['state_on']}",
                    path,
                    number,
                    field=field,
                )
            if decided == "disputed" and not reason:
                raise _bad(
                    f"lead '{lead_id}' is disputed without a reason",
                    path,
                    number,
                    field="vendor_reason" if claim_csv else "CustomReason",
                )
            seen[key] = f"{path.name}, line {number}"
            updates.append(
                dict(zip(LINE_KEY, key, strict=True))
                | {"state": decided, "state_on": today, "vendor_reason": reason}
            )
    return pl.DataFrame(updates, schema=UPDATE_SCHEMA)


SUMMARY_SCHEMA: dict[str, Any] = {
    "vendor_id": pl.String,
    "filed_lines": pl.Int64,
    "filed_cents": pl.Int64,
    "accepted_lines": pl.Int64,
    "credited_cents": pl.Int64,
    "disputed_lines": pl.Int64,
    "disputed_cents": pl.Int64,
    "overdue_lines": pl.Int64,
    "overdue_cents": pl.Int64,
    "expired_lines": pl.Int64,
    "expired_cents": pl.Int64,
}


def claims_summary(ledger: pl.DataFrame, lines: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per vendor: lines and value filed, accepted (the money credited), disputed, overdue, and
    (from a run's claim decisions, if given) the value lost past the window."""

    def counted(state: str | None, name: str) -> list[pl.Expr]:
        chosen = pl.col("state").is_not_null() if state is None else pl.col("state") == state
        return [
            chosen.sum().cast(pl.Int64).alias(f"{name}_lines"),
            pl.col("cpl_cents").filter(chosen).sum().cast(pl.Int64).alias(f"{name}_cents"),
        ]

    book = with_lifecycle(ledger).select("vendor_id", "cpl_cents", "state")
    if lines is not None:  # this run's claims, recorded in the ledger once published
        book = pl.concat(
            [
                book,
                lines.filter(pl.col("disposition") == "claim").select(
                    "vendor_id", "cpl_cents", state=pl.lit("filed")
                ),
            ]
        )
    filed = (
        book.with_columns(pl.col("state").replace({"resolved": "disputed"}))
        .group_by("vendor_id")
        .agg(
            *counted(None, "filed"),
            *counted("accepted", "accepted"),
            *counted("disputed", "disputed"),
            *counted("overdue", "overdue"),
        )
        .rename({"accepted_cents": "credited_cents"})
    )
    expired = pl.DataFrame(schema={"vendor_id": pl.String, "cpl_cents": pl.Int64})
    if lines is not None:
        expired = lines.filter(pl.col("disposition") == "expired").select("vendor_id", "cpl_cents")
    lost = expired.group_by("vendor_id").agg(
        pl.len().cast(pl.Int64).alias("expired_lines"),
        pl.col("cpl_cents").sum().cast(pl.Int64).alias("expired_cents"),
    )
    return (
        filed.join(lost, on="vendor_id", how="full", coalesce=True)
        .with_columns(pl.exclude("vendor_id").fill_null(0))
        .select([pl.col(n).cast(t) for n, t in SUMMARY_SCHEMA.items()])
        .sort("vendor_id")
    )
