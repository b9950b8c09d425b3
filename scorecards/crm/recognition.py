"""Which system wrote a CRM file, from its header row alone (SPEC §2.3).

Each system has headers no other writes: HubSpot its `hs_*` internal names and its property
labels ("Record ID", "Lifecycle Stage", "Date entered '…'", "Became a … Date"), Salesforce its
Lead report labels ("Lead ID", "Converted", "Lead Owner"), the canonical file our snake_case
names. Shared words ("Email", "Lead Status", "Create Date") decide nothing, so a HubSpot label
export is never taken for a Salesforce report. A header with marks of two systems is refused
rather than guessed.
"""

from __future__ import annotations

import re

from scorecards.crm.schema import CRM_SCHEMA

SYSTEMS = ("canonical", "hubspot", "salesforce")

_HUBSPOT_NAMES = {
    "record id",
    "contact id",
    "lifecycle stage",
    "lifecyclestage",
    "createdate",
    "num_contacted_notes",
    "num_notes",
    "number of sales activities",
    "number of times contacted",
    "recent deal amount",
    "recent_deal_amount",
    "marketing emails bounced",
    "email hard bounce reason",
}
_HUBSPOT_PATTERNS = (
    re.compile(r"^hs_"),
    re.compile(r"^date entered '.+'$"),
    re.compile(r"^became an? .+ date$"),
)
_SALESFORCE_NAMES = {
    "lead id",
    "converted",
    "converted date",
    "lead owner",
    "opportunity name",
    "created date",
    "email bounced reason",
    "email bounced date",
    "contact attempts",
}


def _normal(header: str) -> str:
    return " ".join(header.strip().lower().replace("\u2019", "'").split())


def _hubspot_marks(names: set[str]) -> list[str]:
    return sorted(
        n for n in names if n in _HUBSPOT_NAMES or any(p.search(n) for p in _HUBSPOT_PATTERNS)
    )


def recognised_format(header: list[str]) -> str | None:
    """canonical | hubspot | salesforce from a file's header row, or None when none fits (or
    two do)."""
    system, _ = recognition(header)
    return system


def recognition(header: list[str]) -> tuple[str | None, str]:
    """(system, form) — the form in words for the recognition report — or (None, why not)."""
    names = {_normal(h) for h in header}
    hubspot = _hubspot_marks(names)
    salesforce = sorted(names & _SALESFORCE_NAMES)
    if hubspot and salesforce:
        return None, (
            f"the header mixes HubSpot columns ({', '.join(hubspot[:3])}) with Salesforce ones "
            f"({', '.join(salesforce[:3])}): export from one system per file"
        )
    if hubspot:
        if any(n.startswith("hs_v2_date_entered_") for n in names):
            form = "HubSpot contacts export, internal names (current portal: hs_v2_date_entered_*)"
        elif any(n.startswith("hs_lifecyclestage_") for n in names):
            form = (
                "HubSpot contacts export, internal names (older portal: hs_lifecyclestage_*_date)"
            )
        elif "lifecyclestage" in names or any(n.startswith("hs_") for n in names):
            form = "HubSpot contacts export, internal names"
        elif any(n.startswith("became a") for n in names):
            form = "HubSpot contacts export, property labels (older 'Became a … Date' labels)"
        else:
            form = "HubSpot contacts export, property labels"
        return "hubspot", form
    if salesforce or ("lead status" in names and "email" in names and "status" not in names):
        return "salesforce", "Salesforce Lead report"
    if "email" in names and names & (set(CRM_SCHEMA) - {"email"}):
        return "canonical", "canonical CRM file"
    return None, (
        "the header matches no CRM export: expected a HubSpot contacts export (Record ID, Email, "
        "Lifecycle Stage, … or hs_object_id, email, lifecyclestage, …), a Salesforce Lead report "
        "(Lead ID, Email, Lead Status, Converted, …) or the canonical columns (email, status, "
        "sql_at, attempts, …)"
    )
