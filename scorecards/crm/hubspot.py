"""HubSpot contacts exports (SPEC §2.3), in the three forms teams have:

- the Export button's **property labels** ("Record ID", "Lifecycle Stage", "Date entered 'Sales
  Qualified Lead (Lifecycle Stage Pipeline)'", older "Became a Sales Qualified Lead Date", …);
- the exports API's **internal names** from a current portal (`hs_v2_date_entered_<stage>`);
- internal names from an older portal (`hs_lifecyclestage_<stage>_date`).

Which header holds which column is the mapping's `hubspot.columns` (default_mapping.yaml);
vendor_id, vendor_lead_id and disqualified_reason are custom contact properties (docs/CRM.md).
The exporters at the end are the mapping's inverse: the sample generator and the tests write
files shaped like the real exports with them.
"""

from __future__ import annotations

import polars as pl

from scorecards import parsing
from scorecards.crm.mapping import CrmMapping
from scorecards.crm.plan import (
    ISO_FORMATS,
    NUMBER_WORDS,
    WHOLE_WORDS,
    FileMapping,
    whole_number,
)
from scorecards.crm.values import mapped_status, take_identity_and_attempts
from scorecards.crm.writing import amount_text, canonical, text, utc_text

DATETIME_FORMAT = "%Y-%m-%d %H:%M"
"""HubSpot writes datetimes as `2026-07-01 14:05` (minutes), in the account's time zone."""
FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S%.f", *ISO_FORMATS)

# canonical status -> (lifecyclestage, hs_lead_status) written by the exporter
STATUS_OUT: dict[str, tuple[str, str]] = {
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
BOUNCE_REASON = "UNKNOWN_USER"

# HubSpot's labels of the internal names and values the exporter writes (knowledge.hubspot.com:
# "HubSpot's default contact properties"; lifecycle stage and lead status option labels)
LABELS: dict[str, str] = {
    "hs_object_id": "Record ID",
    "email": "Email",
    "createdate": "Create Date",
    "lifecyclestage": "Lifecycle Stage",
    "hs_lead_status": "Lead Status",
    "hs_sa_first_engagement_date": "First Engagement Date",
    "hs_lifecyclestage_salesqualifiedlead_date": (
        "Date entered 'Sales Qualified Lead (Lifecycle Stage Pipeline)'"
    ),
    "hs_lifecyclestage_opportunity_date": "Date entered 'Opportunity (Lifecycle Stage Pipeline)'",
    "hs_lifecyclestage_customer_date": "Date entered 'Customer (Lifecycle Stage Pipeline)'",
    "recent_deal_amount": "Recent Deal Amount",
    # the exporter writes attempts under num_notes' label, the header teams most often have
    "num_contacted_notes": "Number of Sales Activities",
    "hs_email_bounce": "Marketing emails bounced",
    "hs_email_hard_bounce_reason_enum": "Email hard bounce reason",
    "disqualified_reason": "Disqualified Reason",
    "vendor_id": "Vendor ID",
    "vendor_lead_id": "Vendor Lead ID",
}
OLDER_LABELS = {
    "hs_lifecyclestage_salesqualifiedlead_date": "Became a Sales Qualified Lead Date",
    "hs_lifecyclestage_opportunity_date": "Became an Opportunity Date",
    "hs_lifecyclestage_customer_date": "Became a Customer Date",
}
VALUE_LABELS: dict[str, str] = {
    "lead": "Lead",
    "salesqualifiedlead": "Sales Qualified Lead",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "NEW": "New",
    "IN_PROGRESS": "In Progress",
    "BAD_TIMING": "Bad Timing",
    "ATTEMPTED_TO_CONTACT": "Attempted to Contact",
    "UNQUALIFIED": "Unqualified",
    "CONNECTED": "Connected",
    "OPEN_DEAL": "Open Deal",
}


def map_hubspot(m: FileMapping, mapping: CrmMapping) -> None:
    hubspot = mapping.hubspot
    header: dict[str, str | None] = {
        str(role): m.find(role, heads) for role, heads in hubspot.columns.items()
    }
    take_identity_and_attempts(m, header, mapping)
    for name in ("created_at", "sal_at", "sql_at", "opportunity_at", "won_at"):
        m.take(name, m.timestamp(header.get(name), FORMATS, parsing.utc_datetime))
    m.take(
        "opportunity_amount",
        m.parsed(header.get("opportunity_amount"), parsing.decimal_number, NUMBER_WORDS),
    )

    # status: the lifecycle stage decides from SQL on; before that (a stage mapped to null) the
    # lead status does
    stages, statuses = hubspot.lifecycle_stages, hubspot.lead_statuses
    lifecycle = m.code("lifecycle stage", header.get("lifecycle_stage"), stages)
    lead_key = m.code("lead status", header.get("lead_status"), statuses)
    lead_status = mapped_status(lead_key, statuses)
    decided = mapped_status(lifecycle, stages)
    # a lead status only counts as unmapped where the lifecycle stage leaves the status to it
    m.decide_later(header.get("lead_status"), decided.is_null())
    if header.get("lifecycle_stage") or header.get("lead_status"):
        m.sources["status"] = header.get("lifecycle_stage") or header.get("lead_status") or ""
    early_stages = sorted(k for k, v in stages.items() if v is None)
    m.take(
        "status",
        pl.when(decided == "opportunity")
        .then(pl.when(lead_status == "disqualified").then(pl.lit("lost")).otherwise(decided))
        .when(decided.is_not_null())
        .then(decided)
        .when(lead_status.is_not_null())
        .then(lead_status)
        .when(lifecycle.is_in(early_stages) & lead_key.is_null())  # an early stage, no lead status
        .then(pl.lit("open")),
    )

    # bounced: a hard bounce reason, or a count of bounced marketing emails above zero
    count_header, reason_header = header.get("bounce_count"), header.get("bounce_reason")
    bounces = m.parsed(count_header, whole_number, WHOLE_WORDS)
    reason = m.text(reason_header)
    m.take(
        "email_bounced",
        pl.when(reason.is_not_null())
        .then(pl.lit(True))
        .when(bounces.is_not_null())
        .then(bounces.cast(pl.Int64) > 0)
        if count_header is not None or reason_header is not None
        else pl.lit(None),
    )
    if count_header is None and reason_header is not None:
        m.sources["email_bounced"] = reason_header
    elif count_header is not None:
        m.sources["email_bounced"] = count_header


def to_hubspot_export(crm: pl.DataFrame, form: str = "internal-older") -> pl.DataFrame:
    """A HubSpot contacts export, all values text, in one of the forms teams export:
    `internal-older` (internal names, `hs_lifecyclestage_*_date`: the sample data's form),
    `internal-current` (`hs_v2_date_entered_*`), `labels` (the Export button: property labels
    and option labels, "Date entered '…'") or `labels-older` ("Became a … Date")."""
    c = canonical(crm)
    lifecycle = pl.col("status").replace_strict(
        {k: v[0] for k, v in STATUS_OUT.items()}, default="", return_dtype=pl.String
    )
    lead_status = pl.col("status").replace_strict(
        {k: v[1] for k, v in STATUS_OUT.items()}, default="", return_dtype=pl.String
    )
    bounced = pl.col("email_bounced")
    frame = c.select(
        text(pl.col("crm_id")).alias("hs_object_id"),
        text(pl.col("email")).alias("email"),
        utc_text(pl.col("created_at"), DATETIME_FORMAT).alias("createdate"),
        lifecycle.alias("lifecyclestage"),
        lead_status.alias("hs_lead_status"),
        utc_text(pl.col("sal_at"), DATETIME_FORMAT).alias("hs_sa_first_engagement_date"),
        utc_text(pl.col("sql_at"), DATETIME_FORMAT).alias(
            "hs_lifecyclestage_salesqualifiedlead_date"
        ),
        utc_text(pl.col("opportunity_at"), DATETIME_FORMAT).alias(
            "hs_lifecyclestage_opportunity_date"
        ),
        utc_text(pl.col("won_at"), DATETIME_FORMAT).alias("hs_lifecyclestage_customer_date"),
        amount_text(pl.col("opportunity_amount")).alias("recent_deal_amount"),
        text(pl.col("attempts")).alias("num_contacted_notes"),
        pl.when(bounced.is_null())
        .then(pl.lit(""))
        .when(bounced)
        .then(pl.lit("1"))
        .otherwise(pl.lit("0"))
        .alias("hs_email_bounce"),
        pl.when(bounced)
        .then(pl.lit(BOUNCE_REASON))
        .otherwise(pl.lit(""))
        .alias("hs_email_hard_bounce_reason_enum"),
        text(pl.col("disqualified_reason")).alias("disqualified_reason"),
        text(pl.col("vendor_id")).alias("vendor_id"),
        text(pl.col("vendor_lead_id")).alias("vendor_lead_id"),
    )
    if form == "internal-older":
        return frame
    if form == "internal-current":
        return frame.rename(
            {
                f"hs_lifecyclestage_{stage}_date": f"hs_v2_date_entered_{stage}"
                for stage in ("salesqualifiedlead", "opportunity", "customer")
            }
        )
    if form in ("labels", "labels-older"):
        labels = {**LABELS, **(OLDER_LABELS if form == "labels-older" else {})}
        return frame.with_columns(
            pl.col("lifecyclestage", "hs_lead_status").replace(VALUE_LABELS)
        ).rename(labels)
    raise ValueError(f"unknown HubSpot export form {form!r}")
