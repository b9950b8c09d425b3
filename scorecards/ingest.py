"""Vendor deliveries in, canonical `deliveries` and `quarantine` frames out (SPEC §2.2, §9).

Every row read ends up in exactly one of the two frames; a file that cannot be read at all is
one quarantine row and the rest of the run goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from scorecards import parsing
from scorecards.engine import ENGINE, in_pieces
from scorecards.errors import UserError
from scorecards.readers import (
    FileRead,
    Table,
    input_files,
    read_table,
    read_tables,
    relative_name,
    sha256_of,
    unsupported_files,
)
from scorecards.schemas import QUARANTINE_SCHEMA, Deliveries, failures_as_quarantine

Parser = Callable[[pl.Expr, pl.DataType], pl.Expr]

# canonical delivery column -> (parser, what a bad value is called in the error sentence)
DELIVERY_COLUMNS: dict[str, tuple[Parser, str]] = {
    "vendor_id": (parsing.text, "text"),
    "program_id": (parsing.text, "text"),
    "vendor_lead_id": (parsing.text, "text"),
    "delivered_at": (parsing.utc_datetime, "an ISO 8601 date or time"),
    "email": (parsing.lowercase_text, "text"),
    "first_name": (parsing.text, "text"),
    "last_name": (parsing.text, "text"),
    "phone": (parsing.text, "text"),
    "company": (parsing.text, "text"),
    "job_title": (parsing.text, "text"),
    "industry": (parsing.text, "text"),
    "company_domain": (parsing.lowercase_text, "text"),
    "country": (parsing.text, "text"),
    "employees": (parsing.integer, "a whole number"),
    "job_level": (parsing.text, "text"),
    "consent": (parsing.boolean, "yes or no"),
}
_TEXT = (parsing.text, parsing.lowercase_text)  # parse whenever not blank
REQUIRED_COLUMNS = ("vendor_id", "program_id", "vendor_lead_id", "delivered_at", "email")
SOURCE_COLUMNS = ("source_file", "source_line")


class PortfolioLike(Protocol):
    """What ingest needs of `scorecards.contracts.Portfolio`."""

    contracts: list[Any]

    def program_frame(self) -> pl.DataFrame: ...


def header_mapping(portfolio: PortfolioLike, vendor_id: str | None) -> dict[str, str]:
    """Vendor headers -> canonical columns: that vendor's contracts' `columns`, or everyone's
    when the file does not say which vendor it is from (a root-level file)."""
    mapping: dict[str, str] = {}
    for contract in sorted(portfolio.contracts, key=lambda c: (c.term.start, c.contract_id)):
        if vendor_id is None or contract.vendor.id == vendor_id:
            mapping.update(contract.columns)
    return mapping


@dataclass(frozen=True)
class Ingested:
    deliveries: pl.DataFrame
    quarantine: pl.DataFrame
    files: list[FileRead]


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def file_problem(
    name: str, vendor_id: str | None, message: str, field: str | None = None
) -> pl.DataFrame:
    """One quarantine row standing for a whole file."""
    where = f"{name}, field '{field}'" if field else name
    return pl.DataFrame(
        {
            "source_file": [name],
            "source_line": [None],
            "vendor_id": [vendor_id],
            "field": [field],
            "error": [f"{where}: {message}"],
            "raw": [None],
        },
        schema=QUARANTINE_SCHEMA,
    )


def ragged_lines(table: Table, vendor_id: str | None) -> pl.DataFrame:
    """One quarantine row for each line with more fields than the header: which value belongs
    to which column is unknowable, so the line is held whole and the rest of the file read."""
    return table.ragged.select(
        pl.lit(table.name).alias("source_file"),
        "source_line",
        pl.lit(vendor_id, pl.String).alias("vendor_id"),
        pl.lit(None, pl.String).alias("field"),
        pl.format(
            "{}, line {}: has {} fields, the header has {}",
            pl.lit(table.name),
            "source_line",
            "fields",
            pl.lit(table.width),
        ).alias("error"),
        "raw",
    ).cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]


def _normalised_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def canonical_headers(headers: Iterable[str], mapping: dict[str, str]) -> dict[str, str]:
    """Rename map: the contract's `columns` first, then headers that are canonical once normalised
    ("Email" -> email, "Vendor Lead ID" -> vendor_lead_id, "Q Timeline" -> q_timeline)."""
    renames: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        if header in SOURCE_COLUMNS:
            continue
        target = mapping.get(header) or mapping.get(header.strip())
        if target is None:
            normal = _normalised_header(header)
            if normal in DELIVERY_COLUMNS or normal.startswith("q_"):
                target = normal
        if target and target not in taken:
            renames[header] = target
            taken.add(target)
    return renames


def _listed(headers: list[str], shown: int = 12) -> str:
    """The file's headers for a sentence: the first dozen, then how many more."""
    if not headers:
        return "no columns"
    more = len(headers) - shown
    return ", ".join(headers[:shown]) + (f" and {more:,} more" if more > 0 else "")


def _clashing_headers(headers: list[str], renames: dict[str, str]) -> tuple[str, list[str]] | None:
    """(column, the headers giving it) for the first column two headers would both give."""
    givers: dict[str, list[str]] = {}
    for header in headers:  # one pass: a 20,000-column file must not cost 20,000² comparisons
        givers.setdefault(renames.get(header, header), []).append(header)
    return next(((t, hs) for t, hs in givers.items() if len(hs) > 1), None)


def _checks(schema: pl.Schema, implied_vendor: str | None) -> list[tuple[str, bool, str]]:
    """(column, required, what a bad value is called) for each canonical column in `schema`."""
    checks = []
    for column, (_, kind) in DELIVERY_COLUMNS.items():
        if column not in schema:
            continue
        required = column in REQUIRED_COLUMNS and column != "email"
        if column == "vendor_id" and implied_vendor is not None:
            required = False
        checks.append((column, required, kind))
    return checks


def _row_errors(raw: pl.DataFrame, implied_vendor: str | None) -> tuple[pl.Expr, pl.Expr]:
    """(field, message) of each row's first problem, in canonical column order; null if none."""
    fields: list[pl.Expr] = []
    messages: list[pl.Expr] = []
    for column, required, kind in _checks(raw.schema, implied_vendor):
        parser = DELIVERY_COLUMNS[column][0]
        value = parsing.blank_to_null(pl.col(column))
        parsed = parser(pl.col(column), raw.schema[column])
        bad_value = value.is_not_null() & parsed.is_null()
        not_kind = pl.format("'{}' is not {}", value.str.slice(0, 60), pl.lit(kind))
        problem: pl.Expr = (
            pl.when(bad_value).then(not_kind).when(value.is_null()).then(pl.lit("is empty"))
            if required
            else pl.when(bad_value).then(not_kind)
        )
        messages.append(problem)
        fields.append(pl.when(problem.is_not_null()).then(pl.lit(column)))
    return pl.coalesce(fields), pl.coalesce(messages)


def typed_deliveries(raw: pl.LazyFrame, implied_vendor: str | None) -> pl.LazyFrame:
    """Every canonical column of `raw` (renamed to canonical headers) parsed once, with
    `_problem`: whether `_row_errors` would find a problem in the row (a value given but not
    parsed, or a required value missing), told from the parsed columns instead of parsing again."""
    schema = raw.collect_schema()
    flags: list[pl.Expr] = []
    given: list[pl.Expr] = []
    for column, required, _ in _checks(schema, implied_vendor):
        parsed = pl.col(column).is_null()
        if DELIVERY_COLUMNS[column][0] in _TEXT:
            # text parses whenever it is not blank: only a missing required value is a problem
            if required:
                flags.append(parsed)
            continue
        value = pl.col(column)
        is_given = parsing.blank_to_null(value) if schema[column] == pl.String else value
        given.append(is_given.is_not_null().alias(f"_given_{column}"))
        flags.append(parsed & (pl.col(f"_given_{column}") | required))
    problem = pl.any_horizontal(flags) if flags else pl.lit(False)
    return (
        raw.select(*_parsed_columns(schema, implied_vendor), *given)
        .with_columns(problem.alias("_problem"))
        .drop([g.meta.output_name() for g in given])
    )


def _parsed_columns(schema: pl.Schema, implied_vendor: str | None) -> list[pl.Expr]:
    exprs = [pl.col(c) for c in SOURCE_COLUMNS]
    for column, (parser, _) in DELIVERY_COLUMNS.items():
        if column in schema:
            exprs.append(parser(pl.col(column), schema[column]).alias(column))
    if implied_vendor is not None:
        given = parsing.blank_to_null(pl.col("vendor_id")) if "vendor_id" in schema else None
        vendor = (
            pl.lit(implied_vendor) if given is None else pl.coalesce(given, pl.lit(implied_vendor))
        )
        exprs = [e for e in exprs if e.meta.output_name() != "vendor_id"]
        exprs.append(vendor.alias("vendor_id"))
    for column in schema:
        if column.startswith("q_"):
            exprs.append(parsing.text(pl.col(column), schema[column]).alias(column))
    return exprs


def _quarantine_rows(frame: pl.DataFrame, field: pl.Expr, message: pl.Expr) -> pl.DataFrame:
    """Quarantine entries for the rows of `frame`, which carries `vendor_id` and `_raw`."""
    return frame.select(
        "source_file",
        "source_line",
        pl.col("vendor_id").cast(pl.String),
        field.alias("field"),
        pl.format(
            "{}, line {}, field '{}': {}", "source_file", "source_line", field, message
        ).alias("error"),
        pl.col("_raw").alias("raw"),
    ).cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]


def _with_raw(frame: pl.DataFrame, columns: list[str]) -> pl.Expr:
    if not columns:
        return pl.lit("{}").alias("_raw")
    return pl.struct(columns).struct.json_encode().alias("_raw")


def canonical_deliveries(
    raw: pl.DataFrame, *, implied_vendor: str | None, mapping: dict[str, str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One file's rows as (typed canonical rows, quarantine rows)."""
    original = [c for c in raw.columns if c not in SOURCE_COLUMNS]
    renames = canonical_headers(raw.columns, mapping)
    clash = _clashing_headers(original, renames)
    if clash:
        # two headers would give the same column: which one holds the value is unknowable
        target, headers = clash
        quoted = " and ".join(f"'{h}'" for h in headers)
        clash_message = (
            f"columns {quoted} {'both' if len(headers) == 2 else 'all'} give column '{target}'"
        )
        vendor_header = next((h for h in headers if renames.get(h, h) == "vendor_id"), None)
        given = (
            parsing.blank_to_null(pl.col("vendor_id"))
            if "vendor_id" in original and vendor_header is None
            else pl.lit(None, pl.String)
        )
        clashing = raw.with_columns(
            _with_raw(raw, original),
            pl.coalesce(given, pl.lit(implied_vendor, pl.String)).alias("vendor_id"),
        )
        return pl.DataFrame(), _quarantine_rows(clashing, pl.lit(target), pl.lit(clash_message))
    renamed = raw.rename(renames)
    given_vendor = (
        parsing.blank_to_null(pl.col("vendor_id"))
        if "vendor_id" in renamed.columns
        else pl.lit(None, pl.String)
    )
    vendor = pl.coalesce(given_vendor, pl.lit(implied_vendor, pl.String)).alias("vendor_id")
    missing = [
        c
        for c in REQUIRED_COLUMNS
        if c not in renamed.columns and not (c == "vendor_id" and implied_vendor)
    ]
    if missing:
        absent = f"missing column '{missing[0]}' (the file has {_listed(original)})"
        everything = _quarantine_rows(
            raw.with_columns(_with_raw(raw, original)).rename(renames).with_columns(vendor),
            pl.lit(missing[0]),
            pl.lit(absent),
        )
        return pl.DataFrame(), everything
    # parse every column once; messages and raw JSON only for the rows with a problem
    typed = typed_deliveries(renamed.lazy(), implied_vendor).collect(engine=ENGINE)
    problem = typed.get_column("_problem")
    typed = typed.drop("_problem")
    if not problem.any():
        return typed, empty_quarantine()
    bad_raw = raw.filter(problem)
    bad = bad_raw.with_columns(_with_raw(bad_raw, original)).rename(renames)
    field, message = _row_errors(bad, implied_vendor)
    bad = bad.with_columns(field.alias("_field"), message.alias("_message")).with_columns(vendor)
    quarantine = _quarantine_rows(bad, pl.col("_field"), pl.col("_message"))
    return typed.filter(~problem), quarantine


def contract_in_force(programs: pl.DataFrame) -> pl.Expr:
    """The id of the contract the row is attributed to (SPEC §3), or null: the vendor's contract
    in force on the delivery day that lists the row's program, else — a delivery outside every
    term — the vendor's contract listing the program whose term is nearest the delivery day (the
    earlier term on a tie). Null only when no contract of the vendor lists the program. Contracts
    of one vendor never overlap (contracts.py), so at most one term covers a day. One condition
    per contract program: the lead frame is never joined or copied."""
    day = pl.col("delivered_at").dt.date()
    terms = programs.select(
        "vendor_id", "program_id", "term_start", "term_end", "contract_id"
    ).sort("vendor_id", "program_id", "term_start", "contract_id")
    chain: Any = pl
    for term in terms.iter_rows(named=True):  # a few dozen contract programs, not rows
        chain = chain.when(
            (pl.col("vendor_id") == term["vendor_id"])
            & (pl.col("program_id") == term["program_id"])
            & day.is_between(term["term_start"], term["term_end"])
        ).then(pl.lit(term["contract_id"], pl.String))

    def days_outside(term: dict[str, Any]) -> pl.Expr:
        start, end = pl.lit(term["term_start"]), pl.lit(term["term_end"])
        return pl.when(day < start).then(start - day).otherwise(day - end).dt.total_days()

    for (vendor_id, program_id), group in terms.group_by(
        "vendor_id", "program_id", maintain_order=True
    ):
        listed = group.to_dicts()  # the vendor's contracts listing this program, by term
        same = (pl.col("vendor_id") == vendor_id) & (pl.col("program_id") == program_id)
        for index, term in enumerate(listed):
            others = [
                days_outside(term) <= days_outside(other)  # a tie goes to the earlier term
                if later > index
                else days_outside(term) < days_outside(other)
                for later, other in enumerate(listed)
                if later != index
            ]
            nearest = pl.all_horizontal(others) if others else pl.lit(True)
            chain = chain.when(same & nearest).then(pl.lit(term["contract_id"], pl.String))
    return pl.lit(None, pl.String) if chain is pl else chain.otherwise(pl.lit(None, pl.String))


def _attributed(
    deliveries: pl.DataFrame, programs: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows attributed to a contract of their vendor that lists their program (in term or
    nearest, `contract_in_force`), and the quarantine of the others."""
    keyed = deliveries.with_columns(pl.col("delivered_at").dt.date().alias("_day"))
    # on the keys in pieces, so that the conditions are evaluated in parallel (engine.py: at
    # 10 M deliveries 0.7 s, against 4.5 s on the one chunk the parsed files are); the result
    # is put back in one chunk, as the other columns are, for `lead_ordered`'s gather
    keys = in_pieces(deliveries.select("vendor_id", "program_id", "delivered_at"))
    contract = keys.select(contract_in_force(programs).alias("contract_id")).to_series().rechunk()
    attributed = contract.is_not_null()
    good = deliveries.with_columns(contract)
    if not attributed.all():
        good = good.filter(attributed)
    bad = keyed.filter(~attributed)
    vendors = (
        programs.select("vendor_id").unique().with_columns(pl.lit(True).alias("_known_vendor"))
    )
    vendor_programs = (
        programs.select("vendor_id", "program_id")
        .unique()
        .with_columns(pl.lit(True).alias("_known_program"))
    )
    bad = bad.join(vendors, on="vendor_id", how="left").join(
        vendor_programs, on=["vendor_id", "program_id"], how="left"
    )
    field = (
        pl.when(pl.col("_known_vendor").is_null())
        .then(pl.lit("vendor_id"))
        .when(pl.col("_known_program").is_null())
        .then(pl.lit("program_id"))
        .otherwise(pl.lit("delivered_at"))
    )
    message = (
        pl.when(pl.col("_known_vendor").is_null())
        .then(pl.format("no contract names vendor '{}'", "vendor_id"))
        .when(pl.col("_known_program").is_null())
        .then(pl.format("'{}' is not a program of vendor '{}'", "program_id", "vendor_id"))
        .otherwise(
            pl.format(
                "no contract of vendor '{}' covers {}", "vendor_id", pl.col("_day").cast(pl.String)
            )
        )
    )
    raw_columns = [c for c in deliveries.columns if c not in SOURCE_COLUMNS]
    quarantine = _quarantine_rows(bad.with_columns(_with_raw(bad, raw_columns)), field, message)
    return good, quarantine


def read_deliveries(folder: Path, portfolio: PortfolioLike) -> Ingested:
    """Every delivery file under `folder`, attributed, typed and validated."""
    root = folder.parent
    frames: list[pl.DataFrame] = []
    quarantines: list[pl.DataFrame] = [empty_quarantine()]
    files: list[FileRead] = []
    # unsupported kinds go through read_table too, which reports them as a file problem
    for path in sorted([*input_files(folder), *unsupported_files(folder)]):
        name = relative_name(path, root)
        inner = path.relative_to(folder).parts
        implied_vendor = inner[0] if len(inner) > 1 else None
        digest = sha256_of(path)
        try:
            tables = read_tables(path, root)
        except UserError as exc:
            files.append(FileRead(name, digest, 0, exc.sentence))
            quarantines.append(file_problem(name, implied_vendor, exc.message))
            continue
        mapping = header_mapping(portfolio, implied_vendor)
        # a workbook's sheets are tables of their own (`file.xlsx#Sheet`); each table as read is
        # let go once checked, so it is not held beside the rest of the reading
        while tables:
            table = tables.pop(0)
            files.append(FileRead(table.name, digest, table.rows))
            quarantines.append(ragged_lines(table, implied_vendor))
            if table.frame.height:
                good, bad = canonical_deliveries(
                    table.frame, implied_vendor=implied_vendor, mapping=mapping
                )
                quarantines.append(bad)
                if good.height:
                    frames.append(good)
            del table
    deliveries = pl.concat(frames, how="diagonal_relaxed") if frames else _empty_deliveries()
    for column, (parser, _) in DELIVERY_COLUMNS.items():
        if column not in deliveries.columns:
            deliveries = deliveries.with_columns(
                parser(pl.lit(None, pl.String), pl.String()).alias(column)
            )
    deliveries, unattributed = _attributed(deliveries, portfolio.program_frame())
    deliveries, invalid = failures_as_quarantine(deliveries, Deliveries)
    quarantine = pl.concat([*quarantines, unattributed, invalid], how="vertical").sort(
        "source_file", "source_line", nulls_last=False
    )
    answers = sorted(c for c in deliveries.columns if c.startswith("q_"))
    ordered = [*SOURCE_COLUMNS, "contract_id", *DELIVERY_COLUMNS, *answers]
    return Ingested(deliveries.select(ordered), quarantine, files)


def _empty_deliveries() -> pl.DataFrame:
    return pl.DataFrame(schema={"source_file": pl.String, "source_line": pl.Int64}).with_columns(
        parser(pl.lit(None, pl.String), pl.String()).alias(column)
        for column, (parser, _) in DELIVERY_COLUMNS.items()
    )


def read_suppression(folder: Path) -> tuple[pl.DataFrame, list[FileRead], pl.DataFrame]:
    """Suppression lists: (entries with `kind` email|domain, `value`, `list`), files, problems."""
    root = folder.parent
    entries: list[pl.DataFrame] = []
    files: list[FileRead] = []
    problems: list[pl.DataFrame] = [empty_quarantine()]
    for path in input_files(folder):
        name = relative_name(path, root)
        try:
            raw = read_table(path, root)
        except UserError as exc:
            files.append(FileRead(name, sha256_of(path), 0, exc.sentence))
            problems.append(file_problem(name, None, exc.message))
            continue
        files.append(FileRead(name, sha256_of(path), raw.height))
        headers = {_normalised_header(c): c for c in raw.columns if c not in SOURCE_COLUMNS}
        kinds = [k for k in ("email", "domain") if k in headers]
        if not kinds:
            problems.append(
                file_problem(name, None, "has neither an 'email' nor a 'domain' column")
            )
            continue
        for kind in kinds:
            entries.append(
                raw.select(
                    pl.lit(kind).alias("kind"),
                    parsing.blank_to_null(pl.col(headers[kind])).str.to_lowercase().alias("value"),
                    pl.lit(path.stem).alias("list"),
                ).drop_nulls("value")
            )
    schema = {"kind": pl.String, "value": pl.String, "list": pl.String}
    frame = pl.concat(entries) if entries else pl.DataFrame(schema=schema)
    return (
        frame.unique(["kind", "value"], keep="first").sort("kind", "value"),
        files,
        pl.concat(problems),
    )
