"""Reading one input file of any supported kind into a frame that remembers where each row was.

CSV and XLSX arrive with every column as text (vendor files are parsed explicitly, never
inferred); Parquet keeps its own types. Every frame gains `source_file` (relative to the data
root) and `source_line` (the line a person sees: header = 1, first row = 2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from scorecards.errors import UserError

# `.tsv` and `.txt`: delimited text as Excel's "Unicode text" and "Text (Tab delimited)" save it
READABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx")


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


# Wider than any real export (a HubSpot export of every contact property is a few hundred to a
# couple of thousand columns): a wider file is a mistake, refused before a parser spends minutes.
MAX_COLUMNS = 5_000
# Delimiters a header line is sniffed for, in the order a tie is broken: Excel writes `;` where
# the decimal separator is a comma (most of Europe) and tabs for "Unicode text".
_DELIMITERS = (",", "\t", ";", "|")
RAGGED_SCHEMA = {"source_line": pl.Int64, "fields": pl.Int64, "raw": pl.String}
# A Parquet file's `source_line` is the reader's own row index, so that it comes in the file's
# row groups like every other column: an `int_range` beside them is one chunk, which made every
# column one and the expressions on them single-threaded (at 10 M deliveries, checking them
# took 3.5 s against 1.7 s; parsing them in the metrics path 7.8 s against 4.4 s).
_ROW_INDEX = "__source_line"


@dataclass(frozen=True)
class Table:
    """One table of an input file: a CSV or Parquet file, or one sheet of a workbook.

    `name` is the `source_file` of its rows: the file's relative path, or `path#Sheet` when a
    workbook holds more than one sheet with data. `ragged` holds the CSV lines with more fields
    than the header (`source_line`, `fields`, `raw` as a JSON list), which are not in `frame`.
    """

    name: str
    frame: pl.DataFrame
    width: int
    ragged: pl.DataFrame

    @property
    def rows(self) -> int:
        """Rows read, ragged lines included: what `run.json` reconciles against."""
        return self.frame.height + self.ragged.height


def _no_ragged() -> pl.DataFrame:
    return pl.DataFrame(schema=RAGGED_SCHEMA)


def _text_encoding(raw: bytes) -> str:
    """The encoding of a delimited text file: a BOM decides; UTF-16 without one is told by its
    NUL bytes (ASCII text in UTF-16 has one in every other byte); then UTF-8, else cp1252
    (else Latin-1: nothing is refused for its encoding alone)."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated
    sample = raw[:4096]
    if len(sample) >= 4 and sample.count(0) * 4 >= len(sample):
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        return "utf-16-le" if odd > even else "utf-16-be"
    for encoding in ("utf-8", "cp1252"):  # cp1252: Excel on Windows, Latin-1's superset
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"  # the five bytes cp1252 leaves undefined: every byte is Latin-1


def _first_line(text: str) -> str:
    end = text.find("\n")
    return (text if end < 0 else text[:end]).rstrip("\r")


def _delimiter(header_line: str) -> str:
    """The delimiter the header line uses most outside quotes; a comma when it uses none."""
    unquoted = "".join(header_line.split('"')[0::2])
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals
    return best if counts[best] else ","


def _header_width(header_line: str, delimiter: str) -> int:
    return len(next(csv.reader([header_line], delimiter=delimiter), []))


def _too_wide(width: int) -> str:
    return (
        f"has {width:,} columns, more than the {MAX_COLUMNS:,} any delivery or CRM export has: "
        "check that it was saved as a table with one header row"
    )


def _read_csv(path: Path) -> tuple[pl.DataFrame, pl.Series | None, pl.DataFrame]:
    """(rows as text, their source lines when not simply 2, 3, …, ragged lines)."""
    raw = path.read_bytes()
    encoding = _text_encoding(raw)
    if encoding == "utf-8":
        text = None
        data = raw
        header_line = _first_line(raw[: raw.find(b"\n") + 1 or len(raw)].decode("utf-8"))
    else:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise UserError(f"is not readable {encoding.upper()} text ({error.reason})") from None
        data = text.encode("utf-8")
        header_line = _first_line(text)
    header_line = header_line.lstrip("\ufeff")
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        return pl.DataFrame(), None, _no_ragged()
    delimiter = _delimiter(header_line)
    width = _header_width(header_line, delimiter)
    if width > MAX_COLUMNS:
        raise UserError(_too_wide(width))
    try:
        # the fast path: a clean file is read by polars alone
        return pl.read_csv(data, infer_schema=False, separator=delimiter), None, _no_ragged()
    except pl.exceptions.ComputeError as error:
        if "more fields" not in str(error):
            raise
    # A line with more fields than the header: find such lines with the stdlib reader (one
    # linear pass), quarantine them by line and let polars read the rest.
    return _without_ragged_lines(text if text is not None else raw.decode("utf-8"), data, delimiter)


def _without_ragged_lines(
    text: str, data: bytes, delimiter: str
) -> tuple[pl.DataFrame, pl.Series, pl.DataFrame]:
    """The rows of `text` whose field count fits the header, their lines, and the others.

    A record's line is counted as polars counts rows (header = 1, each record + 1, a blank line
    included), so both paths number a file's rows alike. A record with fewer fields than the
    header is kept: the cells it lacks are empty, as Excel writes rows ending in empty cells.
    The stdlib reader only finds the ragged records (one streaming pass, 1 M lines in ~4 s);
    polars reads the file with those lines cut and drops them, unless the two readers disagree
    on the number of records, when the kept records are written out again and read from there.
    """
    records = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    width = len(next(records))
    ragged: dict[str, list[object]] = {"source_line": [], "fields": [], "raw": []}
    count = 0
    for count, record in enumerate(records, start=1):
        if len(record) > width:
            ragged["source_line"].append(count + 1)
            ragged["fields"].append(len(record))
            ragged["raw"].append(json.dumps(record, ensure_ascii=False))
    bad = pl.DataFrame(ragged, schema=RAGGED_SCHEMA)
    cut = pl.read_csv(data, infer_schema=False, separator=delimiter, truncate_ragged_lines=True)
    if cut.height == count:
        line = pl.int_range(pl.len(), dtype=pl.Int64) + 2
        keep = ~line.is_in(bad["source_line"].implode())
        lines = cut.select(line.filter(keep).alias("source_line")).to_series()
        return cut.filter(keep), lines, bad
    return _rewritten(text, delimiter, width, bad)


def _rewritten(
    text: str, delimiter: str, width: int, bad: pl.DataFrame
) -> tuple[pl.DataFrame, pl.Series, pl.DataFrame]:
    """The slow, sure way: every record that fits the header written out again and read."""
    records = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    clean = io.StringIO()
    writer = csv.writer(clean, delimiter=delimiter, lineterminator="\n")
    writer.writerow(next(records))
    lines: list[int] = []
    for line, record in enumerate(records, start=2):
        if len(record) <= width:
            writer.writerow(record)
            lines.append(line)
    frame = pl.read_csv(clean.getvalue().encode("utf-8"), infer_schema=False, separator=delimiter)
    return frame, pl.Series("source_line", lines, dtype=pl.Int64), bad


def _cleaned_headers(frame: pl.DataFrame) -> pl.DataFrame:
    # polars strips a UTF-8 BOM from the data but a BOM can survive on the first header
    return frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})


def _sheet_rows(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.with_columns(pl.all().cast(pl.String))
    # trailing blank rows are formatting, not leads
    if frame.height:
        blank = pl.all_horizontal(pl.all().is_null() | (pl.all().str.strip_chars() == ""))
        kept = frame.select((~blank).arg_true())
        last = kept.to_series()[-1] if kept.height else -1  # arg_true is ascending
        frame = frame.head(int(last) + 1)
    return frame.rename({c: c.strip() for c in frame.columns})


def _read_xlsx(path: Path) -> dict[str, pl.DataFrame]:
    """Every sheet that has at least a header row, by sheet name, in workbook order.

    Every sheet is read (`sheet_id=0`): a second sheet of leads is never silently dropped.
    """
    sheets = pl.read_excel(
        path,
        sheet_id=0,
        engine="calamine",
        infer_schema_length=0,
        drop_empty_rows=False,
        drop_empty_cols=False,
        raise_if_empty=False,
    )
    return {name: _sheet_rows(frame) for name, frame in sheets.items() if frame.width}


_KINDS = {".csv": "CSV", ".tsv": "CSV", ".txt": "CSV", ".xlsx": "XLSX", ".parquet": "Parquet"}


def read_tables(path: Path, root: Path) -> list[Table]:
    """The file's tables (one, or one per sheet of a workbook), rows with `source_file` and
    `source_line`; raises UserError if the file cannot be read at all."""
    name = relative_name(path, root)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            frame, lines, ragged = _read_csv(path)
            frame = _cleaned_headers(frame)
            return [_table(name, frame, ragged, lines)]
        if suffix == ".xlsx":
            sheets = _read_xlsx(path)
            for sheet in sheets.values():
                if sheet.width > MAX_COLUMNS:
                    raise UserError(_too_wide(sheet.width), file=name)
            if len(sheets) <= 1:
                frame = next(iter(sheets.values()), pl.DataFrame())
                return [_table(name, frame, _no_ragged())]
            return [
                _table(f"{name}#{sheet}", frame, _no_ragged()) for sheet, frame in sheets.items()
            ]
        if suffix == ".parquet":
            width = len(pl.read_parquet_schema(path))
            if width > MAX_COLUMNS:
                raise UserError(_too_wide(width), file=name)
            frame = pl.read_parquet(path, row_index_name=_ROW_INDEX, row_index_offset=2)
            lines = frame.get_column(_ROW_INDEX).cast(pl.Int64)
            return [_table(name, frame.drop(_ROW_INDEX), _no_ragged(), lines)]
        raise UserError(f"is not a CSV, Parquet or XLSX file ({suffix})", file=name)
    except UserError as error:
        raise UserError(error.message, file=name) from None
    except Exception as exc:  # any parser failure is the user's file, not our bug
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"could not be read as {_KINDS[suffix]} ({detail[:160]})", file=name
        ) from exc


def _table(
    name: str, frame: pl.DataFrame, ragged: pl.DataFrame, lines: pl.Series | None = None
) -> Table:
    width = frame.width
    if lines is None:
        frame = frame.with_columns(*_source(name))
    else:
        frame = frame.with_columns(pl.lit(name).alias("source_file"), lines.alias("source_line"))
    return Table(name, frame, width, ragged)


def read_table(path: Path, root: Path) -> pl.DataFrame:
    """The file's one table, for readers that take a file whole (CRM exports, suppression
    lists): a workbook with several sheets of data, or a CSV line with more fields than its
    header, is refused in one sentence rather than read in part."""
    tables = read_tables(path, root)
    name = relative_name(path, root)
    if len(tables) > 1:
        sheets = ", ".join(t.name.rsplit("#", 1)[-1] for t in tables)
        raise UserError(
            f"holds {len(tables)} sheets with data ({sheets}): save each sheet as its own file",
            file=name,
        )
    table = tables[0]
    if table.ragged.height:
        line, fields = table.ragged.row(0)[:2]
        raise UserError(f"has {fields} fields, the header has {table.width}", file=name, line=line)
    return table.frame


def scan_parquet_input(path: Path, root: Path) -> pl.LazyFrame:
    """A Parquet input as a query, with the columns `read_table` adds: a caller that needs only
    some columns (bench/) reads only those."""
    scan = pl.scan_parquet(path, row_index_name=_ROW_INDEX, row_index_offset=2)
    return scan.with_columns(
        pl.lit(relative_name(path, root)).alias("source_file"),
        pl.col(_ROW_INDEX).cast(pl.Int64).alias("source_line"),
    ).drop(_ROW_INDEX)


def _source(name: str) -> list[pl.Expr]:
    """`source_file`, and `source_line` as a person sees it: header = 1, first row = 2."""
    return [
        pl.lit(name).alias("source_file"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("source_line"),
    ]
