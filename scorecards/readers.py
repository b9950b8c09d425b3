"""Reading one input file of any supported kind into a frame that remembers where each row was.

CSV and XLSX arrive with every column as text (vendor files are parsed explicitly, never
inferred); Parquet keeps its own types. Every frame gains `source_file` (relative to the data
root) and `source_line` (the line a person sees: header = 1, first row = 2).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from scorecards.errors import UserError

READABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")


@dataclass(frozen=True)
class FileRead:
    """One input file as read: what `run.json` reconciles against."""

    path: str
    sha256: str
    rows: int
    error: str | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _visible_files(folder: Path) -> list[Path]:
    """Files below `folder`, hidden files and Office lock files (`~$…`) skipped, sorted."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "~$")) for part in p.relative_to(folder).parts)
    )


def input_files(folder: Path) -> list[Path]:
    """Every readable file below `folder`, in a stable order (hidden files skipped)."""
    return [p for p in _visible_files(folder) if p.suffix.lower() in READABLE_SUFFIXES]


def unsupported_files(folder: Path) -> list[Path]:
    """Visible files below `folder` of a kind we cannot read: reported, never silently skipped
    (SPEC §9: a delivery saved as .xls or .tsv would otherwise vanish from the run)."""
    return [p for p in _visible_files(folder) if p.suffix.lower() not in READABLE_SUFFIXES]


def relative_name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _read_csv(path: Path) -> pl.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        return pl.DataFrame()
    try:
        raw.decode("utf-8")
        encoding = "utf8"
    except UnicodeDecodeError:
        encoding = "cp1252"  # Latin-1 exports from Excel on Windows; cp1252 is its superset
    frame = pl.read_csv(
        raw,
        infer_schema=False,
        encoding=encoding,
    )
    # polars strips a UTF-8 BOM from the data but a BOM can survive on the first header
    return frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})


def _read_xlsx(path: Path) -> pl.DataFrame:
    frame = pl.read_excel(
        path,
        engine="calamine",
        infer_schema_length=0,
        drop_empty_rows=False,
        drop_empty_cols=False,
        raise_if_empty=False,
    )
    frame = frame.with_columns(pl.all().cast(pl.String))
    # trailing blank rows are formatting, not leads
    if frame.height:
        blank = pl.all_horizontal(pl.all().is_null() | (pl.all().str.strip_chars() == ""))
        kept = frame.select((~blank).arg_true())
        last = kept.to_series()[-1] if kept.height else -1  # arg_true is ascending
        frame = frame.head(int(last) + 1)
    return frame.rename({c: c.strip() for c in frame.columns})


def read_table(path: Path, root: Path) -> pl.DataFrame:
    """The file's rows with `source_file` and `source_line`; raises UserError if unreadable."""
    name = relative_name(path, root)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = _read_csv(path)
        elif suffix == ".xlsx":
            frame = _read_xlsx(path)
        elif suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            raise UserError(f"is not a CSV, Parquet or XLSX file ({suffix})", file=name)
    except UserError:
        raise
    except Exception as exc:  # any parser failure is the user's file, not our bug
        kind = {".csv": "CSV", ".xlsx": "XLSX", ".parquet": "Parquet"}[suffix]
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"could not be read as {kind} ({detail[:160]})", file=name) from exc
    return frame.with_columns(*_source(name))


def scan_parquet_input(path: Path, root: Path) -> pl.LazyFrame:
    """A Parquet input as a query, with the columns `read_table` adds: a caller that needs only
    some columns (bench/) reads only those."""
    return pl.scan_parquet(path).with_columns(*_source(relative_name(path, root)))


def _source(name: str) -> list[pl.Expr]:
    """`source_file`, and `source_line` as a person sees it: header = 1, first row = 2."""
    return [
        pl.lit(name).alias("source_file"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("source_line"),
    ]
