"""Reading `data/crm/`: each file recognised, mapped to the canonical frame, its bad rows
quarantined, and what a person must be told about it collected as data (SPEC §2.3): the form and
the header behind each column, the values no mapping line covers, and the outcome columns left
empty on every row ("no silent zero").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from scorecards.crm.canonical import map_canonical
from scorecards.crm.hubspot import map_hubspot
from scorecards.crm.mapping import CrmMapping, default_mapping, load_crm_mapping
from scorecards.crm.plan import FileMapping, value_key
from scorecards.crm.recognition import recognition
from scorecards.crm.salesforce import footer_rows, map_salesforce
from scorecards.crm.schema import CRM_SCHEMA, QUARANTINE_SCHEMA, REQUIRED_OUTCOMES, CrmInput
from scorecards.engine import ENGINE
from scorecards.errors import UserError
from scorecards.readers import FileRead, input_files, read_table, relative_name, sha256_of

FORMATS = ("canonical", "hubspot", "salesforce")

_MAPPERS: dict[str, Callable[[FileMapping, CrmMapping], None]] = {
    "canonical": map_canonical,
    "hubspot": map_hubspot,
    "salesforce": map_salesforce,
}


def _raw_json(columns: list[str]) -> pl.Expr:
    return pl.struct([pl.col(c).cast(pl.String) for c in columns]).struct.json_encode()


def _file_mapping(raw: pl.LazyFrame, fmt: str, mapping: CrmMapping) -> FileMapping:
    m = FileMapping(raw.drop("source_file", "source_line"), mapping.for_system(fmt).time_zone)
    _MAPPERS[fmt](m, mapping)
    return m


def crm_plan(
    raw: pl.LazyFrame, fmt: str, mapping: CrmMapping | None = None
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """One file's rows as two queries, (canonical rows, quarantine rows), for a caller that
    reads only some columns (bench/). Which check fails first is cheap to find for every row;
    the sentence is built only for the failing rows, which are few."""
    typed, m = _typed(raw, fmt, mapping or default_mapping())
    return _split(typed, m)


def _typed(raw: pl.LazyFrame, fmt: str, mapping: CrmMapping) -> tuple[pl.LazyFrame, FileMapping]:
    """The file's columns beside the canonical ones (`__crm_<name>`) and the header of each
    row's first failing check (`__crm_field`, null on a good row)."""
    columns = raw.collect_schema().names()
    m = _file_mapping(raw, fmt, mapping)
    # report a row's first bad value in the order the file's columns are read
    m.checks.sort(key=lambda check: columns.index(check[0]))
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
    return typed, m


def _canonical() -> list[pl.Expr]:
    """`_typed`'s canonical columns under their own names."""
    return [pl.col(f"__crm_{name}").alias(name) for name in CRM_SCHEMA]


def _split(typed: pl.LazyFrame, m: FileMapping) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(canonical rows, quarantine rows) of `_typed`'s rows."""
    failing = pl.col("__crm_field")
    # no source columns: judging never reads them, and the file's own `source_line` (one
    # chunk) beside columns read in many would have Polars copy them all into one
    good = typed.filter(failing.is_null()).select(_canonical())
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
        _raw_json(m.schema.names()).alias("raw"),  # the file's own columns
    )
    return good, quarantine


def _checked(typed: pl.LazyFrame, m: FileMapping) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`_split`, collected. A file where no row fails, nearly every file, is taken as it is:
    filtering a frame read in many chunks copies every column even when no row is dropped
    (1.1 GB more at 9.5 M records, while the deliveries are held). A file with failing rows is
    typed a second time for its quarantine rows, which need the file's own columns."""
    _, bad = _split(typed, m)
    checked = typed.select(*_canonical(), "__crm_field").collect(engine=ENGINE)
    failing = checked.get_column("__crm_field")
    if failing.null_count() == checked.height:
        return checked.drop("__crm_field"), bad.clear().collect()
    return checked.filter(failing.is_null()).drop("__crm_field"), bad.collect(engine=ENGINE)


def mapped_crm(
    raw: pl.DataFrame, fmt: str, mapping: CrmMapping | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One file's rows (from `read_table`) as canonical CRM rows and quarantine rows."""
    good, quarantine = pl.collect_all(crm_plan(raw.lazy(), fmt, mapping), engine=ENGINE)
    return good, quarantine


def unmapped_values(name: str, raw: pl.DataFrame, m: FileMapping) -> list[dict[str, Any]]:
    """Every picklist value of the file that no mapping line covers, with its row count: such a
    row keeps its other outcomes but has no status (or stage) until the mapping names it."""
    found: list[dict[str, Any]] = []
    for role, header, known, decides in m.codes:
        counts = (
            raw.lazy()
            .filter(decides)
            .select(pl.col(header).cast(pl.String).str.strip_chars().alias("value"))
            .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
            .group_by("value")
            .len()
            .with_columns(value_key(pl.col("value")).alias("key"))
            .filter(~pl.col("key").is_in(sorted(known)))
            .sort("value")
            .collect(engine=ENGINE)
        )
        for row in counts.iter_rows(named=True):
            found.append(
                {
                    "file": name,
                    "column": header,
                    "value": row["value"],
                    "rows": row["len"],
                    "sentence": (
                        f"{name}: {row['len']} row(s) have the {role} '{row['value']}' in column "
                        f"'{header}', which the CRM mapping does not map: their status is "
                        "unknown (their dates and attempts still count); add it to "
                        "contracts/crm-mapping.yaml (docs/CRM.md)"
                    ),
                }
            )
    return found


def unknown_columns(name: str, good: pl.DataFrame, m: FileMapping) -> list[dict[str, Any]]:
    """SPEC §2.3 "no silent zero": each outcome column the file leaves empty on every row."""
    if good.height == 0:
        return []
    empty = good.select(pl.col(list(REQUIRED_OUTCOMES)).is_null().all()).row(0, named=True)
    found = []
    for column, (things, figures) in REQUIRED_OUTCOMES.items():
        if not empty[column]:
            continue
        source = m.sources.get(column)
        why = (
            f"its column '{source}' is empty on every row"
            if source
            else "none of its columns holds them"
        )
        found.append(
            {
                "file": name,
                "column": column,
                "figures": figures,
                "document": (
                    f"{figures[0].upper()}{figures[1:]} are unknown, not zero: the CRM export "
                    f"{name} has no {things}."
                ),
                "sentence": (
                    f"{name}: the CRM export has no {things} ({why}), so {figures} are "
                    f"unknown, not zero; export them (docs/CRM.md) or name their column in "
                    f"contracts/crm-mapping.yaml"
                ),
            }
        )
    return found


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


def read_crm(folder: Path, mapping_file: Path | None = None) -> CrmInput:
    """Every CRM file under `folder` as one canonical frame; bad rows and files quarantined.

    `source_file` is relative to the folder's parent (the data folder: `crm/hubspot.csv`).
    A file that cannot be read or whose header fits no form is one quarantine row and the rest
    goes on (SPEC §9). `mapping_file` (contracts/crm-mapping.yaml) changes the default mapping;
    a mapping that does not validate raises UserError before any file is read.
    """
    mapping = load_crm_mapping(mapping_file)
    root = folder.parent
    frames: list[pl.DataFrame] = []
    quarantines: list[pl.DataFrame] = []
    files: list[FileRead] = []
    recognised: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    unmapped: list[dict[str, Any]] = []
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
        fmt, form = recognition(header)
        if fmt is None:
            error = UserError(f"{form}, so its {raw.height} row(s) were not read", file=name)
            quarantines.append(_file_quarantine(name, error.sentence, header))
            files.append(FileRead(name, digest, raw.height, error.sentence))
            recognised.append({"file": name, "form": None, "problem": error.sentence})
            continue
        footer = footer_rows(raw) if fmt == "salesforce" else 0
        if footer:
            raw = raw.head(raw.height - footer)
        typed, m = _typed(raw.lazy(), fmt, mapping)
        good, bad = _checked(typed, m)
        frames.append(good)
        quarantines.append(bad)
        files.append(FileRead(name, digest, raw.height))
        used = set(m.sources.values())
        recognised.append(
            {
                "file": name,
                "form": form,
                "system": fmt,
                "time_zone": m.time_zone,
                "mapping": mapping.source,
                "columns": dict(sorted(m.sources.items())),
                "ignored": [h for h in header if h not in used],
                "footer_lines": footer,
            }
        )
        unknown += unknown_columns(name, good, m)
        unmapped += unmapped_values(name, raw, m)
    # in reading order (files by name, then line): judging breaks a tie between two records of
    # a lead on it, so the CRM is never sorted whole (11 s at 9.5 M records)
    crm = pl.concat(frames) if frames else pl.DataFrame(schema=CRM_SCHEMA)
    quarantine = (
        pl.concat(quarantines) if quarantines else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    ).sort(["source_file", "source_line"], nulls_last=False)
    return CrmInput(
        crm=crm,
        quarantine=quarantine,
        files=files,
        recognition=recognised,
        unknown_columns=unknown,
        unmapped_values=unmapped,
    )
