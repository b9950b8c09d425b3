"""Portfolio settings: `contracts/portfolio.yaml`, the buyer's details every claim letter carries.

The file sits beside the contracts and is not a contract (the contract loader skips it). It is
optional: without it a claim is still written, with a line saying the buyer block is not set.
YAML is loaded safely; an unknown key, a wrong type or a missing field is refused in one
sentence naming the file, the line and the field. docs/CONTRACTS.md documents every field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from scorecards.errors import ContractError

SETTINGS_NAMES = ("portfolio.yaml", "portfolio.yml")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Contact(_Strict):
    """A person to write to."""

    name: Text
    email: Email
    phone: Text | None = None


class Buyer(_Strict):
    """Who claims: our legal entity as the vendor invoices it."""

    legal_name: Text
    address: Annotated[list[Text], Field(min_length=1, max_length=6)]
    contact: Contact
    claims_email: Email


class PortfolioSettings(_Strict):
    """The whole of `portfolio.yaml`: the buyer block here; `exchange_rates` is validated by
    scorecards.documents.exchange, which owns it."""

    buyer: Buyer | None = None
    exchange_rates: Any = None


def settings_file(folder: Path) -> Path | None:
    """`portfolio.yaml` (or `.yml`) in the contracts folder, if there is one."""
    for name in SETTINGS_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based YAML line of the value at `loc`, or of the deepest mapping on the way."""
    node, line = root, (root.start_mark.line + 1) if root is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if getattr(k, "value", None) == part]
            if not found:
                break
            key, node = found[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _sentence(kind: str, message: str) -> str:
    return {
        "missing": "is required",
        "extra_forbidden": "is not a known field (known: buyer: legal_name, address, "
        "contact: name, email, phone, claims_email)",
        "string_type": "must be text",
        "list_type": "must be a list of address lines",
        "model_type": "must be a mapping of names to values",
        "string_pattern_mismatch": "must be an e-mail address like claims@example.com",
        "string_too_short": "must not be empty",
        "too_short": "must list at least one address line",
        "too_long": "must have at most six address lines",
    }.get(kind, message[:1].lower() + message[1:])


def settings_problems(folder: Path) -> list[ContractError]:
    """Every problem in the folder's portfolio settings (none when there is no such file)."""
    try:
        load_settings(folder)
    except ContractError as problem:
        return [problem]
    return []


def load_settings(folder: Path) -> PortfolioSettings | None:
    """The portfolio settings beside the contracts in `folder`, or None when there are none.

    Raises ContractError (one sentence: file, line, field) when the file does not validate.
    """
    file = settings_file(folder)
    if file is None:
        return None
    try:
        text = file.read_text(encoding="utf-8-sig")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise ContractError("is not UTF-8 text", file=file) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ContractError(f"is not valid YAML: {error.problem}", file=file, line=line) from None
    except yaml.YAMLError as error:
        raise ContractError(f"is not valid YAML: {error}", file=file) from None
    if not isinstance(data, dict):
        raise ContractError("must be a mapping with a buyer section", file=file, line=1)
    try:
        return PortfolioSettings.model_validate(data)
    except ValidationError as error:
        # a misspelt key explains the "is required" beside it, so it is told first
        first = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        loc = tuple(first["loc"])
        raise ContractError(
            _sentence(first["type"], first["msg"]),
            file=file,
            line=_line_of(root, loc),
            field=".".join(str(part) for part in loc) or None,
        ) from None
