"""Contracts: the terms each vendor is held to, read from `contracts/*.yaml` (SPEC §2.1).

A contract is validated once, here, so nothing downstream re-checks it: an unknown key, a wrong
type or an impossible value is refused with the file, the YAML line and the field path. Money
stays exact: a CPL is a `Decimal` built from the text written in the YAML, never from a float.
The field-by-field guide for procurement is docs/CONTRACTS.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from statistics import NormalDist
from typing import Annotated, Any, Literal, get_args

import polars as pl
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from scorecards.errors import ContractError
from scorecards.settings import Contact, settings_problems

__all__ = [
    "CANONICAL_DELIVERY_COLUMNS",
    "RATE_METRICS",
    "REASONS",
    "REQUIRED_DELIVERY_COLUMNS",
    "THRESHOLD_METRICS",
    "Acceptance",
    "Bound",
    "Contract",
    "ContractProblems",
    "Escalation",
    "Evidence",
    "Portfolio",
    "Program",
    "Reason",
    "Replacement",
    "Term",
    "ThresholdMetric",
    "Vendor",
    "contract_problems",
    "load_contracts",
]

# SPEC §3: the invalid reasons in precedence order; a lead's primary reason is the first that holds.
Reason = Literal[
    "malformed_email",
    "duplicate",
    "existing_contact",
    "suppressed",
    "free_email",
    "outside_icp",
    "missing_required",
    "no_consent",
    "bounced_email",
    "junk",
]
REASONS: tuple[str, ...] = get_args(Reason)

ThresholdMetric = Literal[
    "fill_rate", "invalid_rate", "sql_rate", "sal_rate", "cost_per_sql", "pipeline_per_dollar"
]
THRESHOLD_METRICS: tuple[str, ...] = get_args(ThresholdMetric)
# Thresholds on these are shares, so their limits must lie in [0, 1] (SPEC §2.1).
RATE_METRICS: tuple[str, ...] = ("fill_rate", "invalid_rate", "sql_rate", "sal_rate")

# SPEC §2.2: the canonical delivery columns a vendor's headers are mapped onto (plus any q_*).
CANONICAL_DELIVERY_COLUMNS: tuple[str, ...] = (
    "vendor_id",
    "program_id",
    "vendor_lead_id",
    "delivered_at",
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "job_title",
    "industry",
    "company_domain",
    "country",
    "employees",
    "job_level",
    "consent",
)
REQUIRED_DELIVERY_COLUMNS: tuple[str, ...] = CANONICAL_DELIVERY_COLUMNS[:5]

_QUESTION = re.compile(r"q_\w+", re.ASCII)
# Ids name folders and output files, so they may not hold separators or start with a dot.
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# --- value checks: each raises a sentence fragment; the loader adds file, line and field -------


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("contract_value", "{message}", {"message": message})


def _rule(at: tuple[str | int, ...], message: str, show_got: bool = True) -> PydanticCustomError:
    """A rule across fields; `at` is the path of the offending value, relative to the model."""
    return PydanticCustomError(
        "contract_rule", "{message}", {"message": message, "at": at, "show_got": show_got}
    )


def _identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value) or len(value) > 100:
        raise _invalid(
            "must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise _invalid("must not be empty")
    return value


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise _invalid("must be a two-letter ISO 3166 country code in capitals, like US or GB")
    return value


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise _invalid("must be a three-letter ISO 4217 currency code in capitals, like USD")
    return value


def _delivery_column(value: str) -> str:
    if value not in CANONICAL_DELIVERY_COLUMNS and not _QUESTION.fullmatch(value):
        raise _invalid(
            "is not a delivery column; use one of "
            + ", ".join(CANONICAL_DELIVERY_COLUMNS)
            + " or a custom question q_<name>"
        )
    return value


def _question(value: str) -> str:
    if not _QUESTION.fullmatch(value):
        raise _invalid("must name a custom question column, like q_timeline")
    return value


def _rate(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise _invalid("must be a rate between 0 and 1")
    return value


def _exact_number(value: Any) -> Any:
    """Accept a Decimal or an int; a float has already lost the digits the contract wrote."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        raise _invalid("must be a plain decimal number, like 85.00")
    raise _invalid("must be a number")


def _whole_cents(value: Decimal) -> Decimal:
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite: pydantic refused NaN and infinity
    below_cent = -2 - exponent
    if below_cent > 0 and any(digits[-below_cent:]):
        raise _invalid("must be a whole number of cents")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]
Text = Annotated[str, AfterValidator(_text)]
Country = Annotated[str, AfterValidator(_country)]
DeliveryColumn = Annotated[str, AfterValidator(_delivery_column)]
Question = Annotated[str, AfterValidator(_question)]
Rate = Annotated[float, AfterValidator(_rate)]
Money = Annotated[
    Decimal, BeforeValidator(_exact_number), Field(ge=0), AfterValidator(_whole_cents)
]
Count = Annotated[int, Field(ge=0)]


class _Terms(BaseModel):
    """Strict: a wrong type is refused rather than coerced, and unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Vendor(_Terms):
    id: Identifier
    name: Text
    contact: Contact | None = None  # who receives claims at the vendor (name, email, phone)


class Term(_Terms):
    """The contract's period; both days included."""

    start: date
    end: date

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Term:
        if self.end < self.start:
            raise _rule(("end",), f"must not be before the start, {self.start.isoformat()}")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Program(_Terms):
    """An insertion order: a lead type bought at a CPL, `monthly_volume` leads a month."""

    id: Identifier
    lead_type: Identifier
    cpl: Money
    monthly_volume: Count

    @property
    def cpl_cents(self) -> int:
        """The CPL in integer cents, exactly (the model refuses fractions of a cent)."""
        sign, digits, exponent = self.cpl.as_tuple()
        assert isinstance(exponent, int)
        return int(Decimal((sign, digits, exponent + 2)))


class Acceptance(_Terms):
    """What every delivered lead must meet (SPEC §3); null lists mean any value is accepted."""

    countries: Annotated[list[Country], Field(min_length=1)] | None = None
    min_employees: Count | None = None
    max_employees: Count | None = None
    job_levels: Annotated[list[Text], Field(min_length=1)] | None = None
    industries: Annotated[list[Text], Field(min_length=1)] | None = None
    required_fields: list[DeliveryColumn] = []
    required_answers: list[Question] = []
    reject_free_email: bool = True
    require_consent: bool = False
    dedupe_days: Count = 90

    @model_validator(mode="after")
    def _employee_range(self) -> Acceptance:
        low, high = self.min_employees, self.max_employees
        if low is not None and high is not None and high < low:
            raise _rule(("max_employees",), f"must not be below min_employees, {low}")
        return self


class Replacement(_Terms):
    """The vendor's replacement (make-good) terms for invalid leads (SPEC §6)."""

    window_days: Count = 30
    eligible_reasons: list[Reason] = Field(default_factory=lambda: list(get_args(Reason)))
    max_return_rate: Rate = 0.15
    remedy: Literal["credit", "replace"] = "credit"
    response_days: Annotated[int, Field(ge=1)] = 10  # days the vendor has to answer a claim


class Bound(_Terms):
    """One limit on a metric: exactly one of `min` or `max`."""

    min: Annotated[float, Field(ge=0)] | None = None
    max: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Bound:
        if (self.min is None) == (self.max is None):
            raise _invalid("must set exactly one of min or max")
        return self

    @property
    def kind(self) -> Literal["min", "max"]:
        return "min" if self.min is not None else "max"

    @property
    def limit(self) -> float:
        value = self.min if self.min is not None else self.max
        assert value is not None
        return value


class Escalation(_Terms):
    consecutive_breaches: Annotated[int, Field(ge=1)] = 2


class Evidence(_Terms):
    """How sure a downstream breach must be (SPEC §5): the two-sided confidence of the Wilson
    interval around a month's SQL rate; null judges the point value alone."""

    confidence: Annotated[float, Field(gt=0, lt=1)] | None = 0.95

    @property
    def z(self) -> float | None:
        """The two-sided normal quantile of `confidence` (1.959964 for 0.95); None = point value."""
        if self.confidence is None:
            return None
        return NormalDist().inv_cdf(1 - (1 - self.confidence) / 2)


class Contract(_Terms):
    """One vendor's contract for one period (SPEC §2.1)."""

    vendor: Vendor
    contract_id: Identifier
    term: Term
    currency: Annotated[str, AfterValidator(_currency)] = "USD"
    programs: Annotated[list[Program], Field(min_length=1)]
    acceptance: Acceptance = Acceptance()
    columns: dict[Text, DeliveryColumn] = {}
    replacement: Replacement = Replacement()
    thresholds: dict[ThresholdMetric, Bound] = {}
    sql_window_days: Count = 90
    escalation: Escalation = Escalation()
    evidence: Evidence = Evidence()

    _source: Path = PrivateAttr(default=Path("<unsaved contract>"))

    @property
    def source(self) -> Path:
        """The YAML file this contract was read from."""
        return self._source

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        seen: set[str] = set()
        for index, program in enumerate(self.programs):
            if program.id in seen:
                raise _rule(
                    ("programs", index, "id"),
                    f"'{program.id}' is already a program of this contract",
                    show_got=False,
                )
            seen.add(program.id)
        targets: dict[str, str] = {}
        for header, column in self.columns.items():
            if column in targets:
                raise _rule(
                    ("columns", header),
                    f"maps to {column}, as the header '{targets[column]}' already does",
                    show_got=False,
                )
            targets[column] = header
        for metric, bound in self.thresholds.items():
            if metric in RATE_METRICS and not 0.0 <= bound.limit <= 1.0:
                raise _rule(("thresholds", metric, bound.kind), "must be a rate between 0 and 1")
        return self


class Portfolio(_Terms):
    """Every contract in force or past, at most one per vendor and day."""

    contracts: list[Contract]

    @model_validator(mode="after")
    def _one_contract_per_vendor_and_period(self) -> Portfolio:
        conflicts = _portfolio_conflicts(self.contracts)
        if conflicts:
            _, _, message = conflicts[0]
            raise _invalid(message)
        return self

    @property
    def vendor_ids(self) -> list[str]:
        return sorted({contract.vendor.id for contract in self.contracts})

    def contract_for(self, vendor_id: str, day: date) -> Contract | None:
        """The vendor's contract whose term covers `day`, if any."""
        for contract in self.contracts:
            if contract.vendor.id == vendor_id and contract.term.covers(day):
                return contract
        return None

    def program_frame(self) -> pl.DataFrame:
        """One row per contract x program: the terms the lead-level steps join on."""
        rows = [(contract, program) for contract in self.contracts for program in contract.programs]
        return pl.DataFrame(
            {
                "vendor_id": [c.vendor.id for c, _ in rows],
                "vendor_name": [c.vendor.name for c, _ in rows],
                "contract_id": [c.contract_id for c, _ in rows],
                "program_id": [p.id for _, p in rows],
                "lead_type": [p.lead_type for _, p in rows],
                "cpl_cents": [p.cpl_cents for _, p in rows],
                "monthly_volume": [p.monthly_volume for _, p in rows],
                "term_start": [c.term.start for c, _ in rows],
                "term_end": [c.term.end for c, _ in rows],
                "sql_window_days": [c.sql_window_days for c, _ in rows],
                "dedupe_days": [c.acceptance.dedupe_days for c, _ in rows],
                "currency": [c.currency for c, _ in rows],
                "evidence_z": [c.evidence.z for c, _ in rows],
            },
            schema={
                "vendor_id": pl.String,
                "vendor_name": pl.String,
                "contract_id": pl.String,
                "program_id": pl.String,
                "lead_type": pl.String,
                "cpl_cents": pl.Int64,
                "monthly_volume": pl.Int64,
                "term_start": pl.Date,
                "term_end": pl.Date,
                "sql_window_days": pl.Int64,
                "dedupe_days": pl.Int64,
                "currency": pl.String,
                "evidence_z": pl.Float64,
            },
        ).sort("vendor_id", "term_start", "program_id")


Loc = tuple[str | int, ...]


def _portfolio_conflicts(contracts: Sequence[Contract]) -> list[tuple[int, Loc, str]]:
    """Rules across contracts: (index of the later contract, path in it, sentence)."""
    conflicts: list[tuple[int, Loc, str]] = []
    for index, contract in enumerate(contracts):
        for earlier in contracts[:index]:
            where = f"{earlier.contract_id} ({earlier.source})"
            if earlier.contract_id == contract.contract_id:
                conflicts.append((index, ("contract_id",), f"is already used by {where}"))
            if earlier.vendor.id == contract.vendor.id and (
                earlier.term.start <= contract.term.end and contract.term.start <= earlier.term.end
            ):
                conflicts.append(
                    (
                        index,
                        ("term",),
                        f"overlaps {where}, which covers vendor '{contract.vendor.id}' from "
                        f"{earlier.term.start} to {earlier.term.end}; a vendor has one contract "
                        "per period",
                    )
                )
            if earlier.vendor.id == contract.vendor.id and earlier.currency != contract.currency:
                conflicts.append(
                    (
                        index,
                        ("currency",),
                        f"is {contract.currency}, but {where} of vendor '{contract.vendor.id}' "
                        f"is in {earlier.currency}; a vendor's contracts share one currency, so "
                        "its scorecard's amounts are never summed across currencies",
                    )
                )
            earlier_programs = {program.id for program in earlier.programs}
            conflicts.extend(
                (
                    index,
                    ("programs", number, "id"),
                    f"'{program.id}' is already a program of {where}",
                )
                for number, program in enumerate(contract.programs)
                if program.id in earlier_programs
            )
    return conflicts


# --- reading the YAML ----------------------------------------------------------------------


class _RefusedYAML(yaml.MarkedYAMLError):
    """Valid YAML that contracts do not allow: the message is the whole sentence."""


class _ContractLoader(yaml.SafeLoader):
    """SafeLoader, except that an impossible date is a YAML error with its line, not a crash,
    and anchors and aliases are refused as they are met.

    An alias makes the composed tree a graph: ten nested aliases of ten ("billion laughs") are
    a few hundred bytes of YAML that validation expands into 10^9 values (minutes, gigabytes).
    A contract gains nothing from them, so the first `&name` or `*name` stops the file, before
    anything after it is composed.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._refuse(f"uses the YAML alias *{event.anchor}", event.start_mark)
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            self._refuse(f"uses the YAML anchor &{event.anchor}", event.start_mark)
        return super().compose_node(parent, index)  # type: ignore[no-any-return]

    @staticmethod
    def _refuse(what: str, mark: Any) -> None:
        raise _RefusedYAML(
            problem=f"{what}; contracts may not use anchors or aliases: write each value out",
            problem_mark=mark,
        )

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value} is not a real date ({error})", node.start_mark
            ) from None


_ContractLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _ContractLoader.construct_yaml_timestamp
)
_SAFE_TAGS = frozenset(tag for tag in yaml.SafeLoader.yaml_constructors if tag is not None)
_MERGE = "tag:yaml.org,2002:merge"
_FLOAT = "tag:yaml.org,2002:float"
_INT = "tag:yaml.org,2002:int"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag


def _shape_problems(root: yaml.Node) -> list[tuple[int, Loc, str]]:
    """Tags beyond plain YAML and repeated keys, which safe_load would refuse or silently drop."""
    problems: list[tuple[int, Loc, str]] = []
    seen: set[int] = set()

    def walk(node: yaml.Node, loc: Loc) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if node.tag not in _SAFE_TAGS:
            problems.append(
                (_line(node), loc, f"uses the tag {_short_tag(node.tag)}; contracts are plain YAML")
            )
            return
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key, value in node.value:
                if key.tag == _MERGE:
                    walk(value, loc)
                    continue
                name = str(key.value)
                if name in first_line:
                    problems.append(
                        (
                            _line(key),
                            (*loc, name),
                            f"repeats a key first given on line {first_line[name]}",
                        )
                    )
                first_line.setdefault(name, _line(key))
                walk(value, (*loc, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*loc, index))

    walk(root, ())
    return problems


def _node_at(root: yaml.Node, loc: Sequence[str | int]) -> tuple[yaml.Node, yaml.Node | None]:
    """The node a pydantic `loc` points at, with the key it sits under (None in a list).

    When the path runs out (a missing or unknown field), the deepest node that exists.
    """
    node: yaml.Node = root
    key: yaml.Node | None = None
    for part in (part for part in loc if part != "[key]"):
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if str(k.value) == str(part)]
            if not match:
                break
            key, node = match[-1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            key, node = None, node.value[part]
        else:
            break
    return node, key


def _line_at(root: yaml.Node, loc: Sequence[str | int], at_key: bool = False) -> int:
    """The line a person looks at: the value's, or its key's when the value is a block below it."""
    node, key = _node_at(root, loc)
    block = isinstance(node, yaml.CollectionNode) and not node.flow_style
    return _line(key) if key is not None and (at_key or block) else _line(node)


def _exact_cpls(root: yaml.Node, data: dict[str, Any]) -> None:
    """Replace each program's CPL by a Decimal of the digits as written in the YAML."""
    programs = data.get("programs")
    if not isinstance(programs, list):
        return
    for index, program in enumerate(programs):
        if not isinstance(program, dict) or "cpl" not in program:
            continue
        node, _ = _node_at(root, ("programs", index, "cpl"))
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (_FLOAT, _INT):
            continue
        text = str(node.value).replace("_", "")
        if ":" in text or "inf" in text.lower() or "nan" in text.lower():
            continue  # sexagesimal or not finite: left as is, the model refuses it
        program["cpl"] = Decimal(program["cpl"]) if node.tag == _INT else Decimal(text)


def _as_written(node: yaml.Node | None, value: Any) -> str:
    if isinstance(node, yaml.ScalarNode):
        text = str(node.value)
        if node.style in ("'", '"'):
            text = f"{node.style}{text}{node.style}"
        elif text == "":
            text = "nothing"
    elif isinstance(node, yaml.SequenceNode):
        text = "a list"
    elif isinstance(node, yaml.MappingNode):
        text = "a mapping"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_path(loc: Iterable[str | int]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_]\w*", part):
            path += f".{part}" if path else part
        else:
            path += f'["{part}"]'
    return path


_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): Contract,
    ("vendor",): Vendor,
    ("term",): Term,
    ("programs",): Program,
    ("acceptance",): Acceptance,
    ("replacement",): Replacement,
    ("thresholds",): Bound,
    ("escalation",): Escalation,
    ("evidence",): Evidence,
}
_ANY_WHEN_NULL = {"countries", "job_levels", "industries"}
_TYPE_MESSAGES = {
    "string_type": "must be text (put it in quotes if it looks like a number or a date)",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "date_type": "must be a date written like 2026-07-01, with no quotes and no time",
    "list_type": "must be a list, like [US, CA]",
    "dict_type": "must be a mapping of names to values",
    "model_type": "must be a mapping of names to values",
    "finite_number": "must be a finite number",
    "decimal_parsing": "must be a number",
}


def _sentence(error: ErrorDetails, node: yaml.Node | None) -> str:
    """The user-facing sentence for one pydantic error (without file, line and field)."""
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx", {})
    got = f" (got {_as_written(node, error.get('input'))})"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        parent = tuple(part for part in loc[:-1] if isinstance(part, str))
        model = _MODELS.get(parent[:1] if parent[:1] == ("thresholds",) else parent)
        known = f" (known here: {', '.join(model.model_fields)})" if model else ""
        return f"is not a known field{known}"
    if kind == "literal_error" and loc and loc[-1] == "[key]":
        return f"is not a threshold a contract can set; use {ctx['expected']}"
    if kind == "literal_error":
        return f"must be {ctx['expected']}{got}"
    if kind == "greater_than_equal":
        limit = ctx["ge"]
        return ("must not be negative" if limit == 0 else f"must be at least {limit}") + got
    if kind == "too_short":
        hint = "; leave it null to accept any" if loc and loc[-1] in _ANY_WHEN_NULL else ""
        return f"must list at least one value{hint}"
    if kind == "contract_rule":
        return str(ctx["message"]) + (got if ctx.get("show_got") else "")
    if kind == "contract_value":
        return str(ctx["message"]) + (got if isinstance(node, yaml.ScalarNode) else "")
    return _TYPE_MESSAGES.get(kind, error["msg"][:1].lower() + error["msg"][1:]) + got


def _problems_from(error: ValidationError, root: yaml.Node, file: Path) -> list[ContractError]:
    problems = []
    for detail in error.errors():
        loc: Loc = tuple(detail["loc"])
        if detail["type"] == "contract_rule":
            loc = (*loc, *detail.get("ctx", {})["at"])
        kind = detail["type"]
        node, _ = _node_at(root, loc)
        at_key = kind == "extra_forbidden" or (bool(loc) and loc[-1] == "[key]")
        shown = node if kind not in ("missing", "extra_forbidden") else None
        problems.append(
            ContractError(
                _sentence({**detail, "loc": loc}, shown),
                file=file,
                line=_line_at(root, loc, at_key=at_key),
                field=_field_path(loc),
            )
        )
    return problems


def _read_contract(file: Path) -> tuple[Contract | None, yaml.Node | None, list[ContractError]]:
    """One file's contract and YAML tree, or the problems that stop it."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return None, None, [ContractError("is not UTF-8 text", file=file)]
    except OSError as error:
        return None, None, [ContractError(f"cannot be read ({error.strerror})", file=file)]
    loader = _ContractLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None, [ContractError("is empty", file=file)]
        shape = _shape_problems(root)
        if shape:
            return (
                None,
                root,
                [
                    ContractError(message, file=file, line=line, field=_field_path(loc) or None)
                    for line, loc, message in shape
                ],
            )
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        said = (
            error.problem
            if isinstance(error, _RefusedYAML)
            else f"is not valid YAML: {error.problem}"
        )
        return None, None, [ContractError(str(said), file=file, line=line)]
    except yaml.YAMLError as error:
        return None, None, [ContractError(f"is not valid YAML: {error}", file=file)]
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the single value {data!r}"
        return (
            None,
            root,
            [ContractError(f"must be a mapping of contract fields, not {kind}", file=file, line=1)],
        )
    _exact_cpls(root, data)
    try:
        contract = Contract.model_validate(data)
    except ValidationError as error:
        problems = _problems_from(error, root, file)
        return None, root, sorted(problems, key=lambda p: (p.line or 0, p.field or ""))
    contract._source = file
    return contract, root, []


# Portfolio-wide settings live beside the contracts under these reserved names and are not
# contracts: the buyer's details and exchange rates (portfolio.yaml), and how CRM export values
# map to the canonical outcomes (crm-mapping.yaml). docs/CONTRACTS.md and docs/CRM.md describe them.
SETTINGS_FILES = frozenset(
    {"portfolio.yaml", "portfolio.yml", "crm-mapping.yaml", "crm-mapping.yml"}
)


def _read_folder(folder: Path) -> tuple[list[Contract], list[ContractError]]:
    if not folder.is_dir():
        return [], [ContractError("is not a folder of contracts", file=folder)]
    files = sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in (".yaml", ".yml")
        and not path.name.startswith(".")
        and path.name.lower() not in SETTINGS_FILES
    )
    if not files:
        return [], [ContractError("holds no contract files (*.yaml or *.yml)", file=folder)]
    contracts: list[Contract] = []
    roots: list[yaml.Node] = []
    problems: list[ContractError] = []
    for file in files:
        contract, root, found = _read_contract(file)
        problems.extend(found)
        if contract is not None and root is not None:
            contracts.append(contract)
            roots.append(root)
    for index, loc, message in _portfolio_conflicts(contracts):
        problems.append(
            ContractError(
                message,
                file=contracts[index].source,
                line=_line_at(roots[index], loc),
                field=_field_path(loc),
            )
        )
    problems.extend(settings_problems(folder))
    return contracts, problems


class ContractProblems(ContractError):
    """Every problem in a contracts folder, told by the first; `problems` holds them all."""

    def __init__(self, problems: list[ContractError]) -> None:
        first, more = problems[0], len(problems) - 1
        message = first.message
        if more:
            message += f" (and {more} more contract problem{'s' if more > 1 else ''}: "
            message += "`scorecards check` lists them all)"
        super().__init__(message, file=first.file, line=first.line, field=first.field)
        self.problems = problems


def contract_problems(folder: Path) -> list[ContractError]:
    """Every problem in the folder's contracts, one sentence each, for `scorecards check`."""
    return _read_folder(folder)[1]


def load_contracts(folder: Path) -> Portfolio:
    """The portfolio in `folder`'s *.yaml / *.yml files (by name); nothing runs on a bad one.

    Raises ContractProblems (a ContractError) naming the first problem and counting the rest.
    Every document of a run reads the contracts: a folder whose files are byte for byte the ones
    already read gives the portfolio read then (a problem is never remembered).
    """
    return _portfolio_of(folder, _folder_digest(folder))


def _folder_digest(folder: Path) -> str:
    """The names and bytes of every file directly in `folder` (contracts and settings)."""
    digest = hashlib.blake2b(digest_size=16)
    if folder.is_dir():
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def _portfolio_of(folder: Path, digest: str) -> Portfolio:
    contracts, problems = _read_folder(folder)
    if problems:
        raise ContractProblems(problems)
    return Portfolio(contracts=contracts)
