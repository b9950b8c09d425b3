"""The CRM mapping (SPEC §2.3): which headers hold each canonical column, which stage, status and
disqualification values mean what, and each export's time zone.

The defaults are data (`default_mapping.yaml`, package data); an organisation's own picklist
values, custom lifecycle stages and renamed properties go in `contracts/crm-mapping.yaml`, which
is validated like a contract: an unknown key or a wrong type is one sentence with the file, the
line and the field, and nothing runs on it. docs/CRM.md explains the file for people.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from scorecards.contracts import (
    _ContractLoader,
    _field_path,
    _invalid,
    _line_at,
    _node_at,
    _sentence,
    _shape_problems,
)
from scorecards.crm.schema import Status
from scorecards.errors import UserError

MAPPING_FILE = "crm-mapping.yaml"
"""The user's mapping, beside the contracts (a reserved name the contract loader skips)."""


def key(value: str) -> str:
    """A picklist value as a matching key: case, spaces and punctuation ignored, so a label
    ("Attempted to Contact") and its internal value (ATTEMPTED_TO_CONTACT) are one key.
    `values.value_key` is the same rule as a Polars expression."""
    return re.sub(r"[\W_]+", "", value.lower())


def reason_name(value: str) -> str:
    """A disqualification label as a reason identifier: "No Such Person" is no_such_person."""
    return re.sub(r"[\W_]+", "_", value.lower()).strip("_")


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(
            "must be an IANA time zone such as UTC, Europe/Berlin or America/New_York"
        ) from None
    return value


def _reason(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise _invalid("must be a reason in lower case with underscores, like no_such_person")
    return value


def _headers(value: list[str]) -> list[str]:
    if not value or any(not h.strip() for h in value):
        raise _invalid("must list at least one header, none of them empty")
    return value


TimeZone = Annotated[str, AfterValidator(_time_zone)]
Reason = Annotated[str, AfterValidator(_reason)]
Headers = Annotated[list[str], AfterValidator(_headers)]

_OUTCOME_COLUMNS = Literal[
    "crm_id",
    "email",
    "created_at",
    "sal_at",
    "sql_at",
    "opportunity_at",
    "won_at",
    "opportunity_amount",
    "attempts",
    "disqualified_reason",
    "vendor_id",
    "vendor_lead_id",
]
HubspotColumn = Literal[
    _OUTCOME_COLUMNS, "lifecycle_stage", "lead_status", "bounce_count", "bounce_reason"
]
SalesforceColumn = Literal[
    _OUTCOME_COLUMNS,
    "lead_status",
    "converted",
    "converted_at",
    "opportunity_name",
    "stage",
    "close_date",
    "bounce_reason",
    "bounce_date",
]


class _Strict(BaseModel):
    """Strict like a contract: a wrong type is refused rather than coerced, unknown keys too."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CanonicalMapping(_Strict):
    time_zone: TimeZone = "UTC"
    statuses: dict[str, Status] = {}


class HubspotMapping(_Strict):
    time_zone: TimeZone = "UTC"
    columns: dict[HubspotColumn, Headers] = {}
    lifecycle_stages: dict[str, Status | None] = {}
    lead_statuses: dict[str, Status] = {}


class SalesforceMapping(_Strict):
    time_zone: TimeZone = "UTC"
    columns: dict[SalesforceColumn, Headers] = {}
    lead_statuses: dict[str, Status] = {}
    stages: dict[str, Status] = {}


class CrmMapping(_Strict):
    """The whole mapping; value maps are keyed by `key(value)` once merged (`effective`)."""

    canonical: CanonicalMapping = CanonicalMapping()
    hubspot: HubspotMapping = HubspotMapping()
    salesforce: SalesforceMapping = SalesforceMapping()
    disqualified_reasons: dict[str, Reason] = {}
    source: str = "built-in defaults"

    def for_system(self, system: str) -> CanonicalMapping | HubspotMapping | SalesforceMapping:
        section: CanonicalMapping | HubspotMapping | SalesforceMapping = getattr(self, system)
        return section


_MODELS: dict[str, type[BaseModel]] = {
    "": CrmMapping,
    "canonical": CanonicalMapping,
    "hubspot": HubspotMapping,
    "salesforce": SalesforceMapping,
}


def _keyed(values: dict[str, Any]) -> dict[str, Any]:
    return {key(k): v for k, v in values.items()}


def _merged(base: _Strict, override: _Strict) -> dict[str, Any]:
    """`override`'s fields over `base`'s: value maps add to (or change) the defaults, a column's
    header list replaces the default one, a time zone replaces it."""
    merged: dict[str, Any] = {}
    for name in type(base).model_fields:
        if name == "source":
            continue
        old, new = getattr(base, name), getattr(override, name)
        if isinstance(old, _Strict):
            merged[name] = _merged(old, new)
        elif isinstance(old, dict) and name != "columns":
            merged[name] = {**_keyed(old), **_keyed(new)}
        elif isinstance(old, dict):
            merged[name] = {**old, **new}
        else:
            merged[name] = new if name in override.model_fields_set else old
    return merged


def _problems(error: ValidationError, root: yaml.Node, file: Path) -> list[UserError]:
    problems = []
    for detail in error.errors():
        loc = tuple(detail["loc"])
        node, _ = _node_at(root, loc)
        kind = detail["type"]
        if kind == "extra_forbidden":
            parent = next((p for p in loc[:-1] if isinstance(p, str)), "")
            model = _MODELS.get(parent if len(loc) > 1 else "")
            known = [f for f in (model.model_fields if model else {}) if f != "source"]
            message = f"is not a known field (known here: {', '.join(known)})"
        elif kind == "literal_error" and loc and loc[-1] == "[key]":
            message = f"is not a column this export can map; use {detail['ctx']['expected']}"
        else:
            message = _sentence(detail, node if kind != "missing" else None)
        at_key = kind == "extra_forbidden" or (bool(loc) and loc[-1] == "[key]")
        problems.append(
            UserError(
                message,
                file=file,
                line=_line_at(root, loc, at_key=at_key),
                field=_field_path(loc) or None,
            )
        )
    return sorted(problems, key=lambda p: (p.line or 0, p.field or ""))


def _parsed(text: str, file: Path) -> CrmMapping:
    loader = _ContractLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return CrmMapping()
        shape = _shape_problems(root)
        if shape:
            at, loc, message = shape[0]
            raise UserError(message, file=file, line=at, field=_field_path(loc) or None)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        raise UserError(f"is not valid YAML: {error.problem}", file=file, line=line) from None
    except yaml.YAMLError as error:
        raise UserError(f"is not valid YAML: {error}", file=file) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise UserError("must be a mapping of CRM mapping fields", file=file, line=1)
    try:
        return CrmMapping.model_validate(data)
    except ValidationError as error:
        problems = _problems(error, root, file)
        first, more = problems[0], len(problems) - 1
        if more:
            first.message += f" (and {more} more problem{'s' if more > 1 else ''} in this file)"
        raise UserError(
            first.message, file=first.file, line=first.line, field=first.field
        ) from None


@cache
def default_mapping() -> CrmMapping:
    """The built-in defaults (package data), keyed and ready to use."""
    text = resources.files("scorecards.crm").joinpath("default_mapping.yaml").read_text("utf-8")
    parsed = _parsed(text, Path("scorecards/crm/default_mapping.yaml"))
    return CrmMapping.model_validate(_merged(CrmMapping(), parsed))


def load_crm_mapping(file: Path | None) -> CrmMapping:
    """The defaults with `file`'s changes (a missing file changes nothing); raises UserError with
    the file, line and field when the file does not validate."""
    defaults = default_mapping()
    if file is None or not file.exists():
        return defaults
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError("is not UTF-8 text", file=file) from None
    except OSError as error:
        raise UserError(f"cannot be read ({error.strerror})", file=file) from None
    return CrmMapping.model_validate(
        {**_merged(defaults, _parsed(text, file)), "source": file.as_posix()}
    )


def columns_of(literal: Any) -> tuple[str, ...]:
    return tuple(str(a) for arg in get_args(literal) for a in (get_args(arg) or (arg,)))
