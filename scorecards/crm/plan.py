"""One file's mapping as Polars expressions: the typed canonical columns, the checks that send a
row to quarantine, and a record of which header fed which column (the recognition report).

Each system's reader (canonical.py, hubspot.py, salesforce.py) fills a `FileMapping`; reading.py
turns it into the two queries of `crm_plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import polars as pl

from scorecards import parsing
from scorecards.crm.schema import UTC
from scorecards.engine import ENGINE

DATETIME_WORDS = "a date/time (ISO 8601 such as 2026-07-01 or 2026-07-01T14:05:00Z)"
WHOLE_WORDS = "a whole number of 0 or more"
NUMBER_WORDS = "a number"
BOOLEAN_WORDS = "true or false (or yes/no, 1/0)"
ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d")

Parser = Callable[[pl.Expr, pl.DataType], pl.Expr]

# a written offset after a time (Z, +02, +02:00, -0500): such a value is already absolute
_OFFSET = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"


def value_key(expr: pl.Expr) -> pl.Expr:
    """`mapping.key` as an expression: lower case, letters and digits only."""
    return expr.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "")


def whole_number(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    value = parsing.integer(expr, dtype)
    return pl.when(value >= 0).then(value)


class FileMapping:
    """The typed canonical columns of one file and the checks that send a row to quarantine.

    Each check is (header, raw text, ok, what): a row fails on the first check whose `ok` is
    false, so a bad value is reported under the header the user sees in that file.
    """

    def __init__(self, raw: pl.LazyFrame, time_zone: str = UTC) -> None:
        self.raw = raw
        self.schema = raw.collect_schema()
        self.headers = {c.strip().lower(): c for c in self.schema.names()}
        self.time_zone = time_zone
        self.columns: dict[str, pl.Expr] = {}
        self.checks: list[tuple[str, pl.Expr, pl.Expr, str]] = []
        self.sources: dict[str, str] = {}  # canonical (or helper) column -> header it came from
        # code columns whose values go through a mapping: (role, header, keys the mapping knows,
        # the rows where the value decides the status)
        self.codes: list[tuple[str, str, frozenset[str], pl.Expr]] = []

    def header(self, name: str) -> str | None:
        return self.headers.get(name.strip().lower())

    def find(self, role: str, candidates: Iterable[str]) -> str | None:
        """The first of `candidates` present in the file, recorded as the source of `role`."""
        for candidate in candidates:
            header = self.header(candidate)
            if header is not None:
                self.sources.setdefault(role, header)
                return header
        return None

    def text(self, header: str | None) -> pl.Expr:
        """The trimmed text of a column, null when blank or absent."""
        if header is None:
            return pl.lit(None, dtype=pl.String)
        return parsing.blank_to_null(pl.col(header))

    def parsed(self, header: str | None, parser: Parser, what: str) -> pl.Expr:
        """A column parsed, with a check that a non-blank value did parse."""
        if header is None:
            return pl.lit(None)
        value = parser(pl.col(header), self.schema[header])
        self.check(header, value.is_not_null(), what)
        return value

    def word(self, header: str | None, normalize: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        """A code column (a status, a stage) normalized through its distinct values: the text
        work runs once per distinct value, not once per row."""
        if header is None:
            return pl.lit(None, dtype=pl.String)
        distinct = (
            self.raw.select(pl.col(header).cast(pl.String).unique().alias("raw"))
            .drop_nulls()
            .with_columns(normalize(parsing.blank_to_null(pl.col("raw"))).alias("word"))
            .collect(engine=ENGINE)
        )
        return (
            pl.col(header)
            .cast(pl.String)
            .replace_strict(distinct["raw"], distinct["word"], default=None, return_dtype=pl.String)
        )

    def code(
        self,
        role: str,
        header: str | None,
        values: Mapping[str, str | None],
        decides: pl.Expr | None = None,
    ) -> pl.Expr:
        """A picklist column's key (`value_key`), remembered with the keys `values` maps so an
        unmapped value can be reported with its row count (reading.unmapped_values); `decides`
        limits the count to the rows where this column decides the status."""
        if header is not None:
            rows = pl.lit(True) if decides is None else decides
            self.codes.append((role, header, frozenset(values), rows))
        return self.word(header, value_key)

    def decide_later(self, header: str | None, decides: pl.Expr) -> None:
        """Set `decides` of an already registered code column (it may depend on later ones)."""
        self.codes = [
            (role, h, known, decides if h == header else d) for role, h, known, d in self.codes
        ]

    def timestamp(self, header: str | None, formats: tuple[str, ...], parser: Parser) -> pl.Expr:
        """A datetime column in UTC: the first of `formats` that reads every value of the
        column, else `parser` (which tries every accepted format on every row and is several
        times slower: a decision per column, so a 10-million-row export costs one parse, not
        ten). A value written without an offset is in the file's time zone."""
        if header is None:
            return pl.lit(None, dtype=pl.Datetime("us", UTC))
        if self.schema[header] != pl.String:
            return self._zoned(header, self.parsed(header, parser, DATETIME_WORDS))
        text = parsing.blank_to_null(pl.col(header))
        for fmt in formats:
            candidate = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone=UTC)
            unread = self.raw.select((text.is_not_null() & candidate.is_null()).any())
            if not unread.collect(engine=ENGINE).item():
                self.check(header, candidate.is_not_null(), DATETIME_WORDS)
                return self._zoned(header, candidate)
        return self._zoned(header, self.parsed(header, parser, DATETIME_WORDS))

    def _zoned(self, header: str, utc_reading: pl.Expr) -> pl.Expr:
        """Parsers read a value without an offset as UTC; in another zone, it is wall-clock time
        there (an hour that does not exist there is not a time; a repeated one is the first)."""
        if self.time_zone == UTC:
            return utc_reading
        dtype = self.schema[header]
        if isinstance(dtype, pl.Datetime) and dtype.time_zone:
            return utc_reading
        local = (
            utc_reading.dt.replace_time_zone(None)
            .dt.replace_time_zone(self.time_zone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone(UTC)
        )
        if dtype != pl.String:
            zoned = local
        else:
            absolute = pl.col(header).str.strip_chars().str.contains(_OFFSET)
            zoned = pl.when(absolute).then(utc_reading).otherwise(local)
        self.check(header, zoned.is_not_null(), f"{DATETIME_WORDS} in {self.time_zone}")
        return zoned

    def check(self, header: str, ok: pl.Expr, what: str) -> None:
        raw = parsing.blank_to_null(pl.col(header))
        # a typed value is never blank text: its null test needs no cast to text and no trim,
        # which on a typed Parquet would cost a string per row per column
        missing = raw.is_null() if self.schema[header] == pl.String else pl.col(header).is_null()
        self.checks.append((header, raw, missing | ok, what))

    def take(self, name: str, expr: pl.Expr) -> None:
        self.columns[name] = expr
