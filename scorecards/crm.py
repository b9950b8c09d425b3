"""CRM outcomes (SPEC §2.3): the canonical file, a HubSpot contacts export or a Salesforce Lead
report export, recognised by their headers and mapped to the canonical `crm` frame (DESIGN.md).

The mapping is documented for people in docs/CRM.md; the exporters below are its inverse, so the
sample-data generator writes files shaped like the real exports and the tests can prove that the
three forms of the same outcomes read back to the same frame.
"""

from __future__ import annotations

import polars as pl

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
