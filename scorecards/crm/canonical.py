"""The canonical CRM file (SPEC §2.3): our own column names, ISO 8601 dates."""

from __future__ import annotations

from scorecards import parsing
from scorecards.crm.mapping import CrmMapping
from scorecards.crm.plan import (
    BOOLEAN_WORDS,
    ISO_FORMATS,
    NUMBER_WORDS,
    WHOLE_WORDS,
    FileMapping,
    whole_number,
)
from scorecards.crm.schema import CRM_SCHEMA
from scorecards.crm.values import mapped_status

DATES = ("created_at", "sal_at", "sql_at", "opportunity_at", "won_at")


def map_canonical(m: FileMapping, mapping: CrmMapping) -> None:
    headers = {name: m.find(name, [name]) for name in CRM_SCHEMA}
    # disqualified_reason is taken as written: the canonical form names reasons as identifiers
    # (judging trims and lower-cases them), and a per-value pass would slow the benchmark path
    for name in ("crm_id", "vendor_id", "vendor_lead_id", "disqualified_reason"):
        m.take(name, m.text(headers[name]))
    m.take("email", m.text(headers["email"]).str.to_lowercase())
    m.take("attempts", m.parsed(headers["attempts"], whole_number, WHOLE_WORDS))
    for name in DATES:
        m.take(name, m.timestamp(headers[name], ISO_FORMATS, parsing.utc_datetime))
    m.take(
        "opportunity_amount",
        m.parsed(headers["opportunity_amount"], parsing.decimal_number, NUMBER_WORDS),
    )
    m.take("email_bounced", m.parsed(headers["email_bounced"], parsing.boolean, BOOLEAN_WORDS))
    statuses = mapping.canonical.statuses
    m.take("status", mapped_status(m.code("status", headers["status"], statuses), statuses))
