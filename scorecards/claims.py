"""Replacement claims (SPEC §6): which invalid leads to claim back from each vendor, and why not.

`claim_lines` is pure, like cosmicpython's `determine_actions`: it decides every line's
disposition from the judged leads, the contracts' replacement terms and the ledger of lines
claimed before. Writing the documents and recording the ledger happen at the edge
(`scorecards.documents.claim`, `scorecards.history`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

if TYPE_CHECKING:
    from scorecards.contracts import Portfolio
    from scorecards.settings import Contact, PortfolioSettings

Disposition = Literal["claim", "over_cap", "expired", "already_claimed", "duplicate_line"]
DISPOSITIONS: tuple[Disposition, ...] = (
    "claim",
    "over_cap",
    "expired",
    "already_claimed",
    "duplicate_line",
)

# A lead is claimed at most once, ever: this is its identity in the ledger.
LINE_KEY = ("vendor_id", "vendor_lead_id", "delivered_at")

UTC_TIME = pl.Datetime("us", "UTC")

# the leads columns `claim_lines` reads: the monthly run reads only these of leads.parquet
LEAD_COLUMNS = (
    "source_file",
    "source_line",
    "contract_id",
    "cpl_cents",
    "delivery_date",
    "month",
    "vendor_id",
    "program_id",
    "vendor_lead_id",
    "delivered_at",
    "email",
    "status",
    "primary_reason",
    "reasons",
    "evidence",
    "vendor_evidence",
)

TERMS_SCHEMA: dict[str, Any] = {
    "contract_id": pl.String,
    "vendor_id": pl.String,
    "vendor_name": pl.String,
    "currency": pl.String,
    "window_days": pl.Int64,
    "eligible_reasons": pl.List(pl.String),
    "max_return_rate": pl.Float64,
    "remedy": pl.String,
    "response_days": pl.Int64,
    "vendor_contact": pl.String,
    "buyer_name": pl.String,
    "buyer_address": pl.List(pl.String),
    "buyer_contact": pl.String,
    "buyer_claims_email": pl.String,
}

LEDGER_SCHEMA: dict[str, Any] = {
    "claim_id": pl.String,
    "vendor_id": pl.String,
    "vendor_lead_id": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
    "delivered_at": UTC_TIME,
    "program_id": pl.String,
    "month": pl.String,
    "primary_reason": pl.String,
    "cpl_cents": pl.Int64,
    "claimed_on": pl.Date,
    # the claim lifecycle (scorecards.lifecycle): filed / accepted / disputed / resolved / overdue
    "state": pl.String,
    "state_on": pl.Date,
    "response_due": pl.Date,
    "vendor_reason": pl.String,
}

CLAIM_LINE_SCHEMA: dict[str, Any] = {
    "claim_id": pl.String,
    "disposition": pl.String,
    "contract_id": pl.String,
    "vendor_id": pl.String,
    "vendor_name": pl.String,
    "program_id": pl.String,
    "month": pl.String,
    "vendor_lead_id": pl.String,
    "delivered_at": UTC_TIME,
    "delivery_date": pl.Date,
    "claim_deadline": pl.Date,
    "email": pl.String,
    "primary_reason": pl.String,
    "evidence": pl.String,
    "vendor_evidence": pl.String,
    "cpl_cents": pl.Int64,
    "currency": pl.String,
    "remedy": pl.String,
    "window_days": pl.Int64,
    "max_return_rate": pl.Float64,
    "response_days": pl.Int64,
    "vendor_contact": pl.String,
    "buyer_name": pl.String,
    "buyer_address": pl.List(pl.String),
    "buyer_contact": pl.String,
    "buyer_claims_email": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
    "claimed_on": pl.Date,
}

# A product like 0.29 * 100 is 28.999999999999996 in binary floating point; the cap is a
# count of leads, so nudge before flooring rather than lose a claimable line to rounding.
_CAP_EPSILON = 1e-9


def _contact(contact: Contact | None) -> str | None:
    if contact is None:
        return None
    phone = f", {contact.phone}" if contact.phone else ""
    return f"{contact.name} <{contact.email}>{phone}"


def replacement_terms(
    portfolio: Portfolio, settings: PortfolioSettings | None = None
) -> pl.DataFrame:
    """One row per contract with its replacement terms, the frame `claim_lines` reads; the
    vendor's contact and the buyer block (`portfolio.yaml`, if any) ride along for the letter."""
    buyer = settings.buyer if settings is not None else None
    letter = {
        "buyer_name": buyer.legal_name if buyer else None,
        "buyer_address": list(buyer.address) if buyer else None,
        "buyer_contact": _contact(buyer.contact) if buyer else None,
        "buyer_claims_email": buyer.claims_email if buyer else None,
    }
    rows = [
        {
            "contract_id": c.contract_id,
            "vendor_id": c.vendor.id,
            "vendor_name": c.vendor.name,
            "currency": c.currency,
            "window_days": c.replacement.window_days,
            "eligible_reasons": [
                str(getattr(r, "value", r)) for r in c.replacement.eligible_reasons
            ],
            "max_return_rate": float(c.replacement.max_return_rate),
            "remedy": str(getattr(c.replacement.remedy, "value", c.replacement.remedy)),
            "response_days": c.replacement.response_days,
            "vendor_contact": _contact(c.vendor.contact),
            **letter,
        }
        for c in portfolio.contracts
    ]
    return pl.DataFrame(rows, schema=TERMS_SCHEMA).sort("contract_id")


def empty_ledger() -> pl.DataFrame:
    """The ledger before anything was ever claimed."""
    return pl.DataFrame(schema=LEDGER_SCHEMA)


def claim_lines(
    leads: pl.DataFrame | pl.LazyFrame,
    programs: pl.DataFrame,
    terms: pl.DataFrame,
    as_of: date,
    ledger: pl.DataFrame,
    months: list[str] | None,
) -> pl.DataFrame:
    """Every invalid lead with an eligible primary reason, and what to do about it.

    `disposition` is `already_claimed` (in the ledger), else `duplicate_line` (a second row
    with the same vendor, lead id and delivery time: one line, billed once), else `expired` (delivered more than
    `window_days` calendar days before `as_of`), else `claim` or `over_cap` (the program-month's
    claimed lines, earlier claims included, would exceed floor(max_return_rate x delivered);
    the earliest delivered are claimed first). `months` restricts to those delivery months;
    None means every month that still has a day in its contract's window (the sweep).
    Leads delivered after `as_of` are not known yet and left out. Given as a query (a scan of
    leads.parquet), only the invalid leads are read whole: at 10 M leads, the claims stage
    took 2.3 s at a 1.5 GB peak, where collecting the month's leads took it to 4.6 s and 5.5 GB.
    """
    leads = leads.lazy()
    # the cap's denominator, as known on the as-of date (a re-run of an old as-of date on a
    # later export must not count leads delivered after it)
    delivered = (
        leads.filter(pl.col("delivery_date") <= as_of)
        .group_by("vendor_id", "program_id", "month")
        .agg(delivered=pl.len().cast(pl.Int64))
        .collect()
    )
    prior = ledger.group_by("vendor_id", "program_id", "month").agg(
        prior_claimed=pl.len().cast(pl.Int64)
    )
    claimed_before = ledger.select(*LINE_KEY, pl.col("claim_id").alias("ledger_claim_id")).unique(
        subset=list(LINE_KEY), keep="first", maintain_order=True
    )
    prices = programs.select("contract_id", "program_id", pl.col("cpl_cents").alias("program_cpl"))

    age_days = (pl.lit(as_of, dtype=pl.Date) - pl.col("delivery_date")).dt.total_days()
    in_scope = (
        pl.col("month").is_in(months)
        if months is not None
        # the sweep: a month is still open while its last day is inside the window
        else pl.col("delivery_date")
        .dt.month_end()
        .dt.offset_by(pl.format("{}d", pl.col("window_days")))
        >= pl.lit(as_of, dtype=pl.Date)
    )

    eligible = (
        leads.filter(pl.col("status") == "invalid")
        .join(terms.lazy(), on="contract_id", how="inner", suffix="_terms")
        .filter(
            pl.col("eligible_reasons").list.contains(pl.col("primary_reason")),
            pl.col("delivery_date") <= as_of,
            in_scope,
        )
        .collect()
        .join(prices, on=["contract_id", "program_id"], how="left")
        .join(delivered, on=["vendor_id", "program_id", "month"], how="left")
        .join(prior, on=["vendor_id", "program_id", "month"], how="left")
        .join(claimed_before, on=list(LINE_KEY), how="left")
        .pipe(_with_primary_evidence)
        .with_columns(
            cpl_cents=pl.coalesce("program_cpl", "cpl_cents"),
            prior_claimed=pl.col("prior_claimed").fill_null(0),
            cap=(pl.col("max_return_rate") * pl.col("delivered") + _CAP_EPSILON)
            .floor()
            .cast(pl.Int64),
            already=pl.col("ledger_claim_id").is_not_null(),
            expired=age_days > pl.col("window_days"),
        )
        .sort(
            "vendor_id",
            "program_id",
            "month",
            "delivered_at",
            "vendor_lead_id",
            "source_file",
            "source_line",
        )
        # a second row with a line's key (same lead, same delivery time) is the same line:
        # billed once, the copies after the first in source order are `duplicate_line`
        .with_columns(duplicate=pl.int_range(pl.len()).over(list(LINE_KEY)) > 0)
    )

    candidate = ~pl.col("already") & ~pl.col("duplicate") & ~pl.col("expired")
    # earliest delivered first: position among this program-month's candidates
    rank = candidate.cast(pl.Int64).cum_sum().over("vendor_id", "program_id", "month")
    decided = eligible.with_columns(
        disposition=pl.when(pl.col("already"))
        .then(pl.lit("already_claimed"))
        .when(pl.col("duplicate"))
        .then(pl.lit("duplicate_line"))
        .when(pl.col("expired"))
        .then(pl.lit("expired"))
        .when(pl.col("prior_claimed") + rank <= pl.col("cap"))
        .then(pl.lit("claim"))
        .otherwise(pl.lit("over_cap")),
        claim_deadline=pl.col("delivery_date").dt.offset_by(
            pl.format("{}d", pl.col("window_days"))
        ),
        claimed_on=pl.lit(as_of, dtype=pl.Date),
    )

    ids = _claim_ids(decided.filter(pl.col("disposition") == "claim"), as_of)
    return (
        decided.join(ids, on="contract_id", how="left")
        .with_columns(
            claim_id=pl.when(pl.col("already"))
            .then(pl.col("ledger_claim_id"))
            .otherwise(pl.col("claim_id"))
        )
        .select([pl.col(name).cast(dtype) for name, dtype in CLAIM_LINE_SCHEMA.items()])
        .sort(
            "vendor_id",
            "contract_id",
            "delivered_at",
            "vendor_lead_id",
            "source_file",
            "source_line",
        )
    )


def _with_primary_evidence(frame: pl.DataFrame) -> pl.DataFrame:
    """Replace the `evidence` list with the one string aligned with the primary reason.

    Polars cannot compare list elements with another column inside `list.eval`, so the
    parallel `reasons`/`evidence` lists are exploded together and matched as rows. The same
    for `vendor_evidence`, the vendor-safe wording the claim shows (SPEC §6)."""
    if "vendor_evidence" not in frame.columns:  # leads judged before it was kept
        frame = frame.with_columns(vendor_evidence=pl.col("evidence"))
    lists = ["evidence", "vendor_evidence"]
    numbered = frame.with_row_index("_row")
    aligned = (
        numbered.select("_row", "primary_reason", "reasons", *lists)
        .explode(["reasons", *lists])
        .filter(pl.col("reasons") == pl.col("primary_reason"))
        .group_by("_row")
        .agg(pl.col(name).first() for name in lists)
    )
    return numbered.drop(lists).join(aligned, on="_row", how="left").sort("_row").drop("_row")


def _claim_ids(claimable: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """`<contract_id>-<YYYYMMDD>-<8 hex>`: the hash is over the sorted line keys, so the same
    lines on the same as-of date always give the same id, and different lines a different one.
    The Python loop runs once per contract, not per lead."""
    keys = (
        claimable.select(
            "contract_id",
            key=pl.concat_str(
                "vendor_id",
                "vendor_lead_id",
                pl.col("delivered_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
                separator="|",
            ),
        )
        .group_by("contract_id")
        .agg(pl.col("key").sort().str.join("\n"))
        .sort("contract_id")
    )
    stamp = as_of.strftime("%Y%m%d")
    ids = [
        f"{contract_id}-{stamp}-{hashlib.sha256(joined.encode()).hexdigest()[:8]}"
        for contract_id, joined in keys.iter_rows()
    ]
    return pl.DataFrame(
        {"contract_id": keys["contract_id"], "claim_id": ids},
        schema={"contract_id": pl.String, "claim_id": pl.String},
    )


@dataclass(frozen=True)
class ClaimLine:
    """One lead as a claim document shows it."""

    vendor_lead_id: str
    program_id: str
    delivered_at: datetime
    delivery_date: date
    claim_deadline: date
    email: str
    reason: str
    evidence: str  # the internal sentence (leads.parquet, internal report)
    vendor_evidence: str  # the vendor-safe sentence the claim shows (SPEC §6)
    value_cents: int


@dataclass(frozen=True)
class BuyerBlock:
    """Who claims (portfolio.yaml's `buyer`), as the letter prints it."""

    legal_name: str
    address: tuple[str, ...]
    contact: str
    claims_email: str


@dataclass(frozen=True)
class Claim:
    """One claim to one vendor under one contract: all the claim renderer reads."""

    claim_id: str
    contract_id: str
    vendor_id: str
    vendor_name: str
    currency: str
    remedy: str
    window_days: int
    max_return_rate: float
    as_of: date
    lines: tuple[ClaimLine, ...]
    over_cap: tuple[ClaimLine, ...]
    expired: tuple[ClaimLine, ...]
    response_days: int = 10
    vendor_contact: str | None = None
    buyer: BuyerBlock | None = None

    @property
    def response_due(self) -> date:
        """The day the vendor's answer is due: filed on + the contract's `response_days`."""
        return self.as_of + timedelta(days=self.response_days)

    @property
    def months_credited(self) -> tuple[str, ...]:
        """The delivery months (YYYY-MM) whose invoices the claim credits."""
        return tuple(sorted({f"{line.delivery_date:%Y-%m}" for line in self.lines}))

    @property
    def total_cents(self) -> int:
        """The credit asked for: lines x CPL."""
        return sum(line.value_cents for line in self.lines)

    @property
    def replacement_count(self) -> int:
        return len(self.lines)

    @property
    def over_cap_cents(self) -> int:
        return sum(line.value_cents for line in self.over_cap)

    @property
    def expired_cents(self) -> int:
        """Money the monthly rhythm alone would have lost."""
        return sum(line.value_cents for line in self.expired)

    @property
    def period_start(self) -> date:
        return min(line.delivery_date for line in self.lines)

    @property
    def period_end(self) -> date:
        return max(line.delivery_date for line in self.lines)


def claimable(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines of a claim still to be filed: those with a claim id not claimed before."""
    return lines.filter(
        pl.col("claim_id").is_not_null() & (pl.col("disposition") != "already_claimed")
    )


def claims_by_vendor(lines: pl.DataFrame) -> list[Claim]:
    """One `Claim` per claim id with at least one line to claim, its over-cap and expired lines
    (same contract) listed beside it. Ordered by vendor, then claim id."""
    claims = []
    for (claim_id,), group in (
        claimable(lines).sort("vendor_id", "claim_id").group_by("claim_id", maintain_order=True)
    ):
        first = group.row(0, named=True)
        by_disposition = {
            d: tuple(_claim_line(row) for row in rows.iter_rows(named=True))
            for (d,), rows in group.sort("delivered_at", "vendor_lead_id").group_by(
                "disposition", maintain_order=True
            )
        }
        claims.append(
            Claim(
                claim_id=str(claim_id),
                contract_id=first["contract_id"],
                vendor_id=first["vendor_id"],
                vendor_name=first["vendor_name"],
                currency=first["currency"],
                remedy=first["remedy"],
                window_days=first["window_days"],
                max_return_rate=first["max_return_rate"],
                as_of=first["claimed_on"],
                lines=by_disposition.get("claim", ()),
                over_cap=by_disposition.get("over_cap", ()),
                expired=by_disposition.get("expired", ()),
                response_days=first["response_days"] or 10,
                vendor_contact=first["vendor_contact"],
                buyer=_buyer(first),
            )
        )
    return claims


def _buyer(row: dict[str, Any]) -> BuyerBlock | None:
    if row["buyer_name"] is None:
        return None
    return BuyerBlock(
        legal_name=row["buyer_name"],
        address=tuple(row["buyer_address"] or ()),
        contact=row["buyer_contact"],
        claims_email=row["buyer_claims_email"],
    )


def _claim_line(row: dict[str, Any]) -> ClaimLine:
    return ClaimLine(
        vendor_lead_id=row["vendor_lead_id"],
        program_id=row["program_id"],
        delivered_at=row["delivered_at"],
        delivery_date=row["delivery_date"],
        claim_deadline=row["claim_deadline"],
        email=row["email"],
        reason=row["primary_reason"],
        evidence=row["evidence"] or "",
        vendor_evidence=row["vendor_evidence"] or "",
        value_cents=row["cpl_cents"],
    )


def ledger_rows(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines to record in the ledger: the ones claimed now, in the ledger's shape."""
    return (
        lines.filter(pl.col("disposition") == "claim")
        .with_columns(
            state=pl.lit("filed"),
            state_on=pl.col("claimed_on"),
            response_due=pl.col("claimed_on").dt.offset_by(
                pl.format("{}d", pl.col("response_days").fill_null(10))
            ),
            vendor_reason=pl.lit(None, pl.String),
        )
        .select([pl.col(name).cast(dtype) for name, dtype in LEDGER_SCHEMA.items()])
        .unique(subset=list(LINE_KEY), keep="first", maintain_order=True)
    )
