"""CRM outcomes (SPEC §2.3): the canonical file, HubSpot contacts exports (property labels, or
internal names from current and older portals) and Salesforce Lead report exports, recognised by
their headers and mapped to the canonical `crm` frame (DESIGN.md) through a user-editable
mapping (default_mapping.yaml; contracts/crm-mapping.yaml). docs/CRM.md is the guide for people.

Modules: `schema` (the canonical frame), `recognition` (which system wrote a file), `mapping`
(the YAML mapping and its validation), `plan` and `values` (shared expression building), one
module per system (`canonical`, `hubspot`, `salesforce`: reader and exporter), `reading`
(`read_crm`, `crm_plan`).
"""

from scorecards.crm.hubspot import to_hubspot_export
from scorecards.crm.mapping import MAPPING_FILE, CrmMapping, default_mapping, load_crm_mapping
from scorecards.crm.reading import FORMATS, crm_plan, mapped_crm, read_crm
from scorecards.crm.recognition import recognised_format, recognition
from scorecards.crm.salesforce import salesforce_csv, to_salesforce_export
from scorecards.crm.schema import CRM_SCHEMA, QUARANTINE_SCHEMA, STATUSES, UTC, CrmInput

__all__ = [
    "CRM_SCHEMA",
    "FORMATS",
    "MAPPING_FILE",
    "QUARANTINE_SCHEMA",
    "STATUSES",
    "UTC",
    "CrmInput",
    "CrmMapping",
    "crm_plan",
    "default_mapping",
    "load_crm_mapping",
    "mapped_crm",
    "read_crm",
    "recognised_format",
    "recognition",
    "salesforce_csv",
    "to_hubspot_export",
    "to_salesforce_export",
]
