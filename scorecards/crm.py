"""CRM outcomes (SPEC §2.3): the canonical file, a HubSpot contacts export or a Salesforce Lead
report export, recognised by their headers and mapped to the canonical `crm` frame (DESIGN.md).

The mapping is documented for people in docs/CRM.md; the exporters below are its inverse, so the
sample-data generator writes files shaped like the real exports and the tests can prove that the
three forms of the same outcomes read back to the same frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from scorecards import parsing
from scorecards.engine import ENGINE
from scorecards.errors import UserError
from scorecards.readers import FileRead, input_files, read_table, relative_name, sha256_of

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

STATUSES = (
    "open",
    "working",
    "nurture",
    "unresponsive",
    "disqualified",
    "sql",
    "opportunity",
    "won",
    "lost",
)

# --- HubSpot -------------------------------------------------------------------------------------
# Contact property internal names (what an export "with internal names" carries as headers).
# vendor_id, vendor_lead_id and disqualified_reason are custom contact properties: HubSpot has no
# standard property for them (docs/CRM.md says how to create them).
HUBSPOT_COLUMNS: dict[str, str] = {
    "hs_object_id": "crm_id",
    "email": "email",
    "createdate": "created_at",
    "lifecyclestage": "status",
    "hs_lead_status": "status",
    "hs_sa_first_engagement_date": "sal_at",
    "hs_lifecyclestage_salesqualifiedlead_date": "sql_at",
    "hs_lifecyclestage_opportunity_date": "opportunity_at",
    "hs_lifecyclestage_customer_date": "won_at",
    "recent_deal_amount": "opportunity_amount",
    "num_contacted_notes": "attempts",
    "hs_email_bounce": "email_bounced",
    "hs_email_hard_bounce_reason_enum": "email_bounced",
    "disqualified_reason": "disqualified_reason",
    "vendor_id": "vendor_id",
    "vendor_lead_id": "vendor_lead_id",
}
HUBSPOT_DATETIME_FORMAT = "%Y-%m-%d %H:%M"
"""HubSpot writes datetimes as `2026-07-01 14:05` (minutes), in the exporting account's time zone:
we read them as UTC, so the account (or the exporting user) must be set to UTC (docs/CRM.md)."""

# canonical status -> (lifecyclestage, hs_lead_status) written by the exporter
HUBSPOT_STATUS_OUT: dict[str, tuple[str, str]] = {
    "open": ("lead", "NEW"),
    "working": ("lead", "IN_PROGRESS"),
    "nurture": ("lead", "BAD_TIMING"),
    "unresponsive": ("lead", "ATTEMPTED_TO_CONTACT"),
    "disqualified": ("lead", "UNQUALIFIED"),
    "sql": ("salesqualifiedlead", "CONNECTED"),
    "opportunity": ("opportunity", "OPEN_DEAL"),
    "won": ("customer", ""),
    "lost": ("opportunity", "UNQUALIFIED"),
}
HUBSPOT_BOUNCE_REASON = "UNKNOWN_USER"

# --- Salesforce ----------------------------------------------------------------------------------
# Column labels of a "Leads with converted lead information" report exported as CSV (Details
# Only). Lead ID, Email, Create Date, Lead Status, Converted, Converted Date and Email Bounced
# Reason are standard Lead fields; Opportunity Name, Stage, Amount and Close Date come from the
# converted opportunity; the last six are custom Lead fields (docs/CRM.md).
SALESFORCE_COLUMNS: dict[str, str] = {
    "Lead ID": "crm_id",
    "Email": "email",
    "Create Date": "created_at",
    "Lead Status": "status",
    "Converted": "status",
    "Converted Date": "opportunity_at",
    "Opportunity Name": "opportunity_at",
    "Stage": "status",
    "Amount": "opportunity_amount",
    "Close Date": "won_at",
    "Email Bounced Reason": "email_bounced",
    "SAL Date": "sal_at",
    "SQL Date": "sql_at",
    "Contact Attempts": "attempts",
    "Disqualified Reason": "disqualified_reason",
    "Vendor ID": "vendor_id",
    "Vendor Lead ID": "vendor_lead_id",
}
SALESFORCE_DATETIME_FORMAT = "%-m/%-d/%Y %-I:%M %p"
"""Salesforce report exports format by the user's locale; en_US gives `7/1/2026 2:05 PM` for a
date/time and `7/1/2026` for a date, in the user's time zone (set it to UTC: docs/CRM.md)."""
SALESFORCE_DATE_FORMAT = "%-m/%-d/%Y"

# canonical status -> Lead Status written by the exporter (converted leads carry "Qualified")
SALESFORCE_STATUS_OUT: dict[str, str] = {
    "open": "New",
    "working": "Working",
    "nurture": "Nurturing",
    "unresponsive": "Unresponsive",
    "disqualified": "Unqualified",
    "sql": "Qualified",
    "opportunity": "Qualified",
    "won": "Qualified",
    "lost": "Qualified",
}
SALESFORCE_STAGE_OUT: dict[str, str] = {
    "opportunity": "Prospecting",
    "won": "Closed Won",
    "lost": "Closed Lost",
}
SALESFORCE_BOUNCE_REASON = "550 5.1.1 The email account that you tried to reach does not exist"


def _canonical(crm: pl.DataFrame) -> pl.DataFrame:
    """The frame with every canonical column, nulls where absent, so exporters need no ifs."""
    return crm.select(
        [
            (pl.col(name) if name in crm.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in CRM_SCHEMA.items()
        ]
    )


def _text(expr: pl.Expr) -> pl.Expr:
    """A value as export text: empty when null, as the systems write blanks."""
    return expr.cast(pl.String).fill_null("")


def _amount_text(expr: pl.Expr) -> pl.Expr:
    """Money with two decimals, the way both systems show a currency field."""
    cents = (expr * 100).round(0).cast(pl.Int64)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (cents.abs() // 100).cast(pl.String)
    frac = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    return pl.when(expr.is_null()).then(pl.lit("")).otherwise(sign + whole + "." + frac)


def _utc_text(expr: pl.Expr, fmt: str) -> pl.Expr:
    return expr.dt.convert_time_zone(UTC).dt.strftime(fmt).fill_null("")


def to_hubspot_export(crm: pl.DataFrame) -> pl.DataFrame:
    """A HubSpot contacts export (internal property names as headers, all values text)."""
    c = _canonical(crm)
    lifecycle = pl.col("status").replace_strict(
        {k: v[0] for k, v in HUBSPOT_STATUS_OUT.items()}, default="", return_dtype=pl.String
    )
    lead_status = pl.col("status").replace_strict(
        {k: v[1] for k, v in HUBSPOT_STATUS_OUT.items()}, default="", return_dtype=pl.String
    )
    bounced = pl.col("email_bounced")
    return c.select(
        _text(pl.col("crm_id")).alias("hs_object_id"),
        _text(pl.col("email")).alias("email"),
        _utc_text(pl.col("created_at"), HUBSPOT_DATETIME_FORMAT).alias("createdate"),
        lifecycle.alias("lifecyclestage"),
        lead_status.alias("hs_lead_status"),
        _utc_text(pl.col("sal_at"), HUBSPOT_DATETIME_FORMAT).alias("hs_sa_first_engagement_date"),
        _utc_text(pl.col("sql_at"), HUBSPOT_DATETIME_FORMAT).alias(
            "hs_lifecyclestage_salesqualifiedlead_date"
        ),
        _utc_text(pl.col("opportunity_at"), HUBSPOT_DATETIME_FORMAT).alias(
            "hs_lifecyclestage_opportunity_date"
        ),
        _utc_text(pl.col("won_at"), HUBSPOT_DATETIME_FORMAT).alias(
            "hs_lifecyclestage_customer_date"
        ),
        _amount_text(pl.col("opportunity_amount")).alias("recent_deal_amount"),
        _text(pl.col("attempts")).alias("num_contacted_notes"),
        pl.when(bounced.is_null())
        .then(pl.lit(""))
        .when(bounced)
        .then(pl.lit("1"))
        .otherwise(pl.lit("0"))
        .alias("hs_email_bounce"),
        pl.when(bounced)
        .then(pl.lit(HUBSPOT_BOUNCE_REASON))
        .otherwise(pl.lit(""))
        .alias("hs_email_hard_bounce_reason_enum"),
        _text(pl.col("disqualified_reason")).alias("disqualified_reason"),
        _text(pl.col("vendor_id")).alias("vendor_id"),
        _text(pl.col("vendor_lead_id")).alias("vendor_lead_id"),
    )


def to_salesforce_export(crm: pl.DataFrame) -> pl.DataFrame:
    """A Salesforce "Leads with converted lead information" report export (labels as headers).

    Converted Date and Close Date are date fields, so opportunity_at and won_at keep only their
    day; the date/time fields keep minutes.
    """
    c = _canonical(crm)
    converted = pl.col("opportunity_at").is_not_null() | pl.col("status").is_in(
        list(SALESFORCE_STAGE_OUT)
    )
    stage = pl.col("status").replace_strict(
        SALESFORCE_STAGE_OUT, default="Prospecting", return_dtype=pl.String
    )
    return c.select(
        _text(pl.col("crm_id")).alias("Lead ID"),
        _text(pl.col("email")).alias("Email"),
        _utc_text(pl.col("created_at"), SALESFORCE_DATETIME_FORMAT).alias("Create Date"),
        pl.col("status")
        .replace_strict(SALESFORCE_STATUS_OUT, default="", return_dtype=pl.String)
        .alias("Lead Status"),
        pl.when(converted).then(pl.lit("1")).otherwise(pl.lit("0")).alias("Converted"),
        _utc_text(pl.col("opportunity_at"), SALESFORCE_DATE_FORMAT).alias("Converted Date"),
        pl.when(converted)
        .then(pl.lit("Opportunity from lead ") + pl.col("crm_id").fill_null(""))
        .otherwise(pl.lit(""))
        .alias("Opportunity Name"),
        pl.when(converted).then(stage).otherwise(pl.lit("")).alias("Stage"),
        _amount_text(pl.col("opportunity_amount")).alias("Amount"),
        _utc_text(pl.col("won_at"), SALESFORCE_DATE_FORMAT).alias("Close Date"),
        pl.when(pl.col("email_bounced"))
        .then(pl.lit(SALESFORCE_BOUNCE_REASON))
        .otherwise(pl.lit(""))
        .alias("Email Bounced Reason"),
        _utc_text(pl.col("sal_at"), SALESFORCE_DATETIME_FORMAT).alias("SAL Date"),
        _utc_text(pl.col("sql_at"), SALESFORCE_DATETIME_FORMAT).alias("SQL Date"),
        _text(pl.col("attempts")).alias("Contact Attempts"),
        _text(pl.col("disqualified_reason")).alias("Disqualified Reason"),
        _text(pl.col("vendor_id")).alias("Vendor ID"),
        _text(pl.col("vendor_lead_id")).alias("Vendor Lead ID"),
    )


# --- Reading -------------------------------------------------------------------------------------

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    "vendor_id": pl.String(),
    "field": pl.String(),
    "error": pl.String(),
    "raw": pl.String(),
}
"""DESIGN.md "quarantine"."""

FORMATS = ("canonical", "hubspot", "salesforce")

_DATETIME = "a date/time (ISO 8601 such as 2026-07-01 or 2026-07-01T14:05:00Z)"
_WHOLE = "a whole number of 0 or more"
# the formats each form is usually written in, tried whole-column first (see _Mapping.timestamp)
_ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d")
_HUBSPOT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S%.f", *_ISO_FORMATS)
_SALESFORCE_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y")
_NUMBER = "a number"
_BOOLEAN = "true or false (or yes/no, 1/0)"

# HubSpot lifecyclestage (internal value, or its label with spaces and case removed)
_HUBSPOT_LIFECYCLE_DECIDES: dict[str, str] = {
    "customer": "won",
    "evangelist": "won",
    "opportunity": "opportunity",
    "salesqualifiedlead": "sql",
    "other": "disqualified",
}
_HUBSPOT_LIFECYCLE_EARLY = ("subscriber", "lead", "marketingqualifiedlead")
# hs_lead_status (internal value, or its label upper-cased with spaces as underscores), read when
# the lifecycle stage is still subscriber/lead/MQL
_HUBSPOT_LEAD_STATUS: dict[str, str] = {
    "NEW": "open",
    "OPEN": "open",
    "IN_PROGRESS": "working",
    "CONNECTED": "working",
    "ATTEMPTED_TO_CONTACT": "unresponsive",
    "BAD_TIMING": "nurture",
    "UNQUALIFIED": "disqualified",
    "OPEN_DEAL": "opportunity",
}
# Salesforce Lead Status of a lead not converted (both the current and the classic picklists)
_SALESFORCE_LEAD_STATUS: dict[str, str] = {
    "new": "open",
    "open": "open",
    "open - not contacted": "open",
    "working": "working",
    "working - contacted": "working",
    "contacted": "working",
    "nurturing": "nurture",
    "nurture": "nurture",
    "unresponsive": "unresponsive",
    "unqualified": "disqualified",
    "disqualified": "disqualified",
    "closed - not converted": "disqualified",
    "qualified": "sql",
    "converted": "sql",
    "closed - converted": "sql",
}
_SALESFORCE_STAGE: dict[str, str] = {"closed won": "won", "closed lost": "lost"}


@dataclass(frozen=True)
class CrmInput:
    """What `read_crm` returns: the canonical frame, the rows it could not take, the files read."""

    crm: pl.DataFrame
    quarantine: pl.DataFrame
    files: list[FileRead] = field(default_factory=list)


def recognised_format(header: list[str]) -> str | None:
    """canonical | hubspot | salesforce from a file's header row, or None when none fits.

    HubSpot exports carry internal property names (`lifecyclestage`, `hs_lifecyclestage_*`);
    Salesforce reports carry field labels (`Lead ID`, `Lead Status`, `Converted`); the canonical
    file carries `email` and at least one outcome column named as in SPEC §2.3.
    """
    names = {h.strip().lower() for h in header}
    if "lifecyclestage" in names or any(n.startswith("hs_lifecyclestage_") for n in names):
        return "hubspot"
    if "lead id" in names or ("lead status" in names and names & {"converted", "email"}):
        return "salesforce"
    if "email" in names and names & (set(CRM_SCHEMA) - {"email"}):
        return "canonical"
    return None


class _Mapping:
    """The typed canonical columns of one file and the checks that send a row to quarantine.

    Each check is (header, raw text, ok): a row fails on the first check whose `ok` is false,
    so a bad value is reported under the header the user sees in that file.
    """

    def __init__(self, raw: pl.LazyFrame) -> None:
        self.raw = raw
        self.schema = raw.collect_schema()
        self.headers = {c.strip().lower(): c for c in self.schema.names()}
        self.columns: dict[str, pl.Expr] = {}
        self.checks: list[tuple[str, pl.Expr, pl.Expr, str]] = []

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def text(self, name: str) -> pl.Expr:
        """The trimmed text of a column, null when blank or absent."""
        header = self.header(name)
        if header is None:
            return pl.lit(None, dtype=pl.String)
        return parsing.blank_to_null(pl.col(header))

    def parsed(
        self,
        name: str,
        parser: Callable[[pl.Expr, pl.DataType], pl.Expr],
        what: str,
    ) -> pl.Expr:
        """A column parsed, with a check that a non-blank value did parse."""
        header = self.header(name)
        if header is None:
            return pl.lit(None)
        value = parser(pl.col(header), self.schema[header])
        self.check(header, value.is_not_null(), what)
        return value

    def word(self, name: str, normalize: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        """A code column (a status, a stage) normalized through its distinct values: the text
        work runs once per distinct value, not once per row."""
        header = self.header(name)
        if header is None:
            return pl.lit(None, dtype=pl.String)
        distinct = (
            self.raw.select(pl.col(header).cast(pl.String).unique().alias("raw"))
            .drop_nulls()
            .with_columns(normalize(parsing.blank_to_null(pl.col("raw"))).alias("word"))
            .collect(engine=ENGINE)
        )
        return (
            pl.col(header)
            .cast(pl.String)
            .replace_strict(distinct["raw"], distinct["word"], default=None, return_dtype=pl.String)
        )

    def timestamp(
        self,
        name: str,
        formats: tuple[str, ...],
        parser: Callable[[pl.Expr, pl.DataType], pl.Expr],
    ) -> pl.Expr:
        """A datetime column: the first of `formats` that reads every value of the column, else
        `parser` (which tries every accepted format on every row and is several times slower:
        a decision per column, so a 10-million-row export costs one parse, not ten)."""
        header = self.header(name)
        if header is None or self.schema[header] != pl.String:
            return self.parsed(name, parser, _DATETIME)
        text = parsing.blank_to_null(pl.col(header))
        for fmt in formats:
            candidate = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone=UTC)
            unread = self.raw.select((text.is_not_null() & candidate.is_null()).any())
            if not unread.collect(engine=ENGINE).item():
                self.check(header, candidate.is_not_null(), _DATETIME)
                return candidate
        return self.parsed(name, parser, _DATETIME)

    def check(self, header: str, ok: pl.Expr, what: str) -> None:
        raw = parsing.blank_to_null(pl.col(header))
        # a typed value is never blank text: its null test needs no cast to text and no trim,
        # which on a typed Parquet would cost a string per row per column
        missing = raw.is_null() if self.schema[header] == pl.String else pl.col(header).is_null()
        self.checks.append((header, raw, missing | ok, what))

    def take(self, name: str, expr: pl.Expr) -> None:
        self.columns[name] = expr


def _whole_number(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    value = parsing.integer(expr, dtype)
    return pl.when(value >= 0).then(value)


def _salesforce_datetime(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """en_US report formats (`7/1/2026 2:05 PM`, `7/1/2026`), else ISO 8601."""
    if dtype != pl.String:
        return parsing.utc_datetime(expr, dtype)
    text = parsing.blank_to_null(expr).str.replace(",", "").str.replace_all(r"\s+", " ")
    return pl.coalesce(
        text.str.to_datetime("%m/%d/%Y %I:%M %p", strict=False, time_unit="us", time_zone=UTC),
        text.str.to_datetime("%m/%d/%Y %I:%M:%S %p", strict=False, time_unit="us", time_zone=UTC),
        text.str.to_datetime("%m/%d/%Y %H:%M", strict=False, time_unit="us", time_zone=UTC),
        text.str.to_date("%m/%d/%Y", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(UTC),
        parsing.utc_datetime(expr, dtype),
    )


def _salesforce_amount(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """`25000.00`, `25,000.00` or, with multiple currencies, `USD 25,000.00`."""
    if dtype != pl.String:
        return parsing.decimal_number(expr, dtype)
    return parsing.decimal_number(
        parsing.blank_to_null(expr).str.replace(r"^[A-Za-z]{3}\s*", ""), pl.String()
    )


def _common(m: _Mapping, names: dict[str, str]) -> None:
    """Identity, text and number columns that only differ in their header between formats."""
    for canonical in ("crm_id", "vendor_id", "vendor_lead_id", "disqualified_reason"):
        m.take(canonical, m.text(names[canonical]))
    m.take("email", m.text(names["email"]).str.to_lowercase())
    m.take("attempts", m.parsed(names["attempts"], _whole_number, _WHOLE))


def _map_canonical(m: _Mapping) -> None:
    _common(m, {name: name for name in CRM_SCHEMA})
    for name in ("created_at", "sal_at", "sql_at", "opportunity_at", "won_at"):
        m.take(name, m.timestamp(name, _ISO_FORMATS, parsing.utc_datetime))
    m.take(
        "opportunity_amount",
        m.parsed("opportunity_amount", parsing.decimal_number, _NUMBER),
    )
    m.take("email_bounced", m.parsed("email_bounced", parsing.boolean, _BOOLEAN))
    status = m.word("status", lambda e: e.str.to_lowercase())
    if m.header("status") is not None:
        m.check(m.header("status") or "", status.is_in(STATUSES), "one of " + ", ".join(STATUSES))
    m.take("status", status)


def _map_hubspot(m: _Mapping) -> None:
    names = {c: h for h, c in HUBSPOT_COLUMNS.items() if c not in ("status", "email_bounced")}
    _common(m, names)
    for name in ("created_at", "sal_at", "sql_at", "opportunity_at", "won_at"):
        m.take(name, m.timestamp(names[name], _HUBSPOT_FORMATS, parsing.utc_datetime))
    m.take(
        "opportunity_amount",
        m.parsed(names["opportunity_amount"], parsing.decimal_number, _NUMBER),
    )

    # status: the lifecycle stage decides from SQL on; before that, the lead status does
    lifecycle = m.word(
        "lifecyclestage", lambda e: e.str.to_lowercase().str.replace_all("[^a-z]", "")
    )
    lead_status = m.word(
        "hs_lead_status", lambda e: e.str.to_uppercase().str.replace_all("[^A-Z]+", "_")
    )
    decided = lifecycle.replace_strict(_HUBSPOT_LIFECYCLE_DECIDES, default=None)
    early = lead_status.replace_strict(_HUBSPOT_LEAD_STATUS, default=None, return_dtype=pl.String)
    if (header := m.header("lifecyclestage")) is not None:
        known = list(_HUBSPOT_LIFECYCLE_DECIDES) + list(_HUBSPOT_LIFECYCLE_EARLY)
        m.check(header, lifecycle.is_in(known), "a lifecycle stage (" + ", ".join(known) + ")")
    if (header := m.header("hs_lead_status")) is not None:
        m.check(
            header,
            early.is_not_null() | decided.is_not_null(),
            "a lead status (" + ", ".join(_HUBSPOT_LEAD_STATUS) + ")",
        )
    m.take(
        "status",
        pl.when(decided == "opportunity")
        .then(pl.when(lead_status == "UNQUALIFIED").then(pl.lit("lost")).otherwise(decided))
        .when(decided.is_not_null())
        .then(decided)
        .when(early.is_not_null())
        .then(early)
        .when(lifecycle.is_not_null())
        .then(pl.lit("open")),
    )

    # bounced: a hard bounce reason, or a count of bounced marketing emails above zero
    has_bounce_columns = (
        m.header("hs_email_bounce") is not None
        or m.header("hs_email_hard_bounce_reason_enum") is not None
    )
    bounces = m.parsed("hs_email_bounce", _whole_number, _WHOLE)
    reason = m.text("hs_email_hard_bounce_reason_enum")
    m.take(
        "email_bounced",
        pl.when(reason.is_not_null())
        .then(pl.lit(True))
        .when(bounces.is_not_null())
        .then(bounces.cast(pl.Int64) > 0)
        if has_bounce_columns
        else pl.lit(None),
    )


def _map_salesforce(m: _Mapping) -> None:
    names = {c: h for h, c in SALESFORCE_COLUMNS.items()}
    names.update(email="Email", crm_id="Lead ID", won_at="Close Date")
    _common(m, names)
    m.take("created_at", m.timestamp("Create Date", _SALESFORCE_FORMATS, _salesforce_datetime))
    if m.header("Create Date") is None:
        m.take("created_at", m.timestamp("Created Date", _SALESFORCE_FORMATS, _salesforce_datetime))
    m.take("sal_at", m.timestamp("SAL Date", _SALESFORCE_FORMATS, _salesforce_datetime))
    for amount in ("Amount", "Opportunity Amount", "Opportunity: Amount"):
        if m.header(amount) is not None:
            m.take("opportunity_amount", m.parsed(amount, _salesforce_amount, _NUMBER))

    converted = m.parsed("Converted", parsing.boolean, _BOOLEAN).fill_null(False)
    converted_at = m.timestamp("Converted Date", _SALESFORCE_FORMATS, _salesforce_datetime)
    stage_header = "Stage" if m.header("Stage") is not None else "Opportunity: Stage"
    stage = m.word(stage_header, lambda e: e.str.to_lowercase())
    closed_at = m.timestamp("Close Date", _SALESFORCE_FORMATS, _salesforce_datetime)
    with_opportunity = converted & (
        m.text("Opportunity Name").is_not_null()
        if m.header("Opportunity Name") is not None
        else pl.lit(True)
    )
    m.take("opportunity_at", pl.when(with_opportunity).then(converted_at))
    m.take("won_at", pl.when(converted & (stage == "closed won")).then(closed_at))
    # Salesforce keeps no SQL date of its own: without a custom "SQL Date", conversion is when the
    # lead was qualified
    if m.header("SQL Date") is not None:
        m.take("sql_at", m.timestamp("SQL Date", _SALESFORCE_FORMATS, _salesforce_datetime))
    else:
        m.take("sql_at", pl.when(converted).then(converted_at))

    lead_status = m.word("Lead Status", lambda e: e.str.to_lowercase().str.replace_all(r"\s+", " "))
    unconverted = lead_status.replace_strict(
        _SALESFORCE_LEAD_STATUS, default=None, return_dtype=pl.String
    )
    if (header := m.header("Lead Status")) is not None:
        m.check(
            header,
            unconverted.is_not_null() | converted,
            "a lead status (" + ", ".join(sorted(_SALESFORCE_LEAD_STATUS)) + ")",
        )
    m.take(
        "status",
        pl.when(with_opportunity)
        .then(stage.replace_strict(_SALESFORCE_STAGE, default="opportunity"))
        .when(converted)
        .then(pl.lit("sql"))
        .otherwise(unconverted),
    )

    bounce_headers = [h for h in ("Email Bounced Reason", "Email Bounced Date") if m.header(h)]
    m.take(
        "email_bounced",
        pl.any_horizontal([m.text(h).is_not_null() for h in bounce_headers])
        if bounce_headers
        else pl.lit(None),
    )


_MAPPERS: dict[str, Callable[[_Mapping], None]] = {
    "canonical": _map_canonical,
    "hubspot": _map_hubspot,
    "salesforce": _map_salesforce,
}


def _raw_json(columns: list[str]) -> pl.Expr:
    return pl.struct([pl.col(c).cast(pl.String) for c in columns]).struct.json_encode()


def mapped_crm(raw: pl.DataFrame, fmt: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One file's rows (from `read_table`) as canonical CRM rows and quarantine rows."""
    good, quarantine = pl.collect_all(crm_plan(raw.lazy(), fmt), engine=ENGINE)
    return good, quarantine


def crm_plan(raw: pl.LazyFrame, fmt: str) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """`mapped_crm` as two queries, (canonical rows, quarantine rows), for a caller that reads
    only some columns (bench/). Which check fails first is cheap to find for every row; the
    sentence is built only for the failing rows, which are few."""
    columns = raw.collect_schema().names()
    m = _Mapping(raw.drop("source_file", "source_line"))
    _MAPPERS[fmt](m)
    # report a row's first bad value in the order the file's columns are read
    m.checks.sort(key=lambda check: columns.index(check[0]))
    data_columns = [c for c in columns if c not in ("source_file", "source_line")]
    first_failure: pl.Expr = pl.lit(None, dtype=pl.String)
    for header, _, ok, _ in reversed(m.checks):
        first_failure = pl.when(~ok).then(pl.lit(header)).otherwise(first_failure)
    typed = raw.with_columns(
        *[
            m.columns.get(name, pl.lit(None)).cast(dtype).alias(f"__crm_{name}")
            for name, dtype in CRM_SCHEMA.items()
        ],
        first_failure.alias("__crm_field"),
    )
    failing = pl.col("__crm_field")
    good = typed.filter(failing.is_null()).select(
        *[pl.col(f"__crm_{name}").alias(name) for name in CRM_SCHEMA],
        "source_file",
        "source_line",
    )
    value: pl.Expr = pl.lit(None, dtype=pl.String)
    for header, text, _, _ in m.checks:
        value = pl.when(failing == header).then(text).otherwise(value)
    expected = failing.replace_strict(
        {header: what for header, _, _, what in reversed(m.checks)},
        default="",
        return_dtype=pl.String,
    )
    quarantine = typed.filter(failing.is_not_null()).select(
        pl.col("source_file").cast(pl.String),
        pl.col("source_line").cast(pl.Int64),
        pl.col("__crm_vendor_id").alias("vendor_id"),
        failing.alias("field"),
        pl.format(
            "{}, line {}, field '{}': '{}' is not {}",
            pl.col("source_file"),
            pl.col("source_line"),
            failing,
            value,
            expected,
        ).alias("error"),
        _raw_json(data_columns).alias("raw"),
    )
    return good, quarantine


def _file_quarantine(name: str, error: str, header: list[str]) -> pl.DataFrame:
    """One quarantine row for a whole file: its line is null, its raw is the header row."""
    return pl.DataFrame(
        {
            "source_file": [name],
            "source_line": [None],
            "vendor_id": [None],
            "field": [None],
            "error": [error],
            "raw": [json.dumps({"header": header})],
        },
        schema=QUARANTINE_SCHEMA,
    )


def read_crm(folder: Path) -> CrmInput:
    """Every CRM file under `folder` as one canonical frame; bad rows and files quarantined.

    `source_file` is relative to the folder's parent (the data folder: `crm/hubspot.csv`).
    A file that cannot be read or whose header fits no format is one quarantine row and the
    rest goes on (SPEC §9).
    """
    root = folder.parent
    frames: list[pl.DataFrame] = []
    quarantines: list[pl.DataFrame] = []
    files: list[FileRead] = []
    for path in input_files(folder):
        name = relative_name(path, root)
        digest = sha256_of(path)
        try:
            raw = read_table(path, root)
        except UserError as exc:
            quarantines.append(_file_quarantine(name, exc.sentence, []))
            files.append(FileRead(name, digest, 0, exc.sentence))
            continue
        header = [c for c in raw.columns if c not in ("source_file", "source_line")]
        fmt = recognised_format(header)
        if fmt is None:
            error = UserError(
                "the header matches no CRM format (canonical: email, status, sql_at, ...; "
                "HubSpot: lifecyclestage, hs_lifecyclestage_salesqualifiedlead_date, ...; "
                "Salesforce: Lead ID, Lead Status, Converted, ...), so its "
                f"{raw.height} row(s) were not read",
                file=name,
            ).sentence
            quarantines.append(_file_quarantine(name, error, header))
            files.append(FileRead(name, digest, raw.height, error))
            continue
        good, bad = mapped_crm(raw, fmt)
        frames.append(good)
        quarantines.append(bad)
        files.append(FileRead(name, digest, raw.height))
    empty = pl.DataFrame(schema={**CRM_SCHEMA, "source_file": pl.String, "source_line": pl.Int64})
    crm = pl.concat(frames) if frames else empty
    crm = crm.sort(["email", "crm_id", "source_file", "source_line"], nulls_last=True).drop(
        "source_file", "source_line"
    )
    quarantine = (
        pl.concat(quarantines) if quarantines else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    ).sort(["source_file", "source_line"], nulls_last=False)
    return CrmInput(crm=crm, quarantine=quarantine, files=files)
