"""HTML templates to PDF bytes, safely and reproducibly.

Vendor and CRM text is data: Jinja autoescapes everything, and WeasyPrint may load nothing but
`data:` URIs and files inside `templates/` (SPEC §9, "Untrusted text stays text"). The same
inputs and as-of date give the same bytes: SOURCE_DATE_EPOCH pins the times WeasyPrint would
otherwise take from the clock (weasyprint issue 1553), and the base template pins
`dcterms.created`/`modified`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import markupsafe
from fontTools import subset as fonttools_subset
from fontTools.ttLib import TTFont
from weasyprint import HTML
from weasyprint.pdf import fonts as weasyprint_fonts
from weasyprint.urls import URLFetcher, URLFetcherResponse

from scorecards.formatting import FILTERS, clipped

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

_MIME_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ttf": "font/ttf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".html": "text/html",
}


class DropFirstSubsetter(fonttools_subset.Subsetter):
    """fontTools' subsetter, dropping the tables it would drop before it reads any.

    `Subsetter.subset` first decompiles GDEF, GSUB and GPOS (`_compact_layout_tables`), then drops
    GSUB and GPOS, which WeasyPrint asks it to drop: for DejaVu Sans that decompile was a third of
    a scorecard's CPU time. Dropping them first, with the same rule in the same table order as
    `_prune_pre_subset`, deletes exactly the same tables, so the subset font, and the PDF, are
    byte for byte the same.
    """

    def subset(self, font: TTFont) -> None:
        options = self.options
        for tag in self._sort_tables(font):
            if (
                tag.strip() in options.drop_tables
                or (tag.strip() in options.hinting_tables and not options.hinting)
                or (tag == "kern" and not options.legacy_kern and "GPOS" in font)
            ):
                del font[tag]
        super().subset(font)


class _FontToolsWithoutGSUB:
    """What WeasyPrint's font module reads of `fontTools.subset`, with `DropFirstSubsetter`."""

    Options = fonttools_subset.Options
    Subsetter = DropFirstSubsetter


class _QuietFontToolsFallback(logging.Filter):
    """WeasyPrint warns once per font per document that it subsets with fontTools because
    HarfBuzz-Subset is not installed. fontTools is this project's choice (the same bytes on every
    machine, whatever HarfBuzz the system has), so the warning is noise under `serve`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Using fontTools instead of HarfBuzz-Subset")


# WeasyPrint reaches fontTools as `weasyprint.pdf.fonts.subset.Subsetter(options)`: only that
# name is replaced, fontTools itself is untouched.
weasyprint_fonts.subset = _FontToolsWithoutGSUB  # type: ignore[assignment]
logging.getLogger("weasyprint").addFilter(_QuietFontToolsFallback())


class RefusedURL(ValueError):
    """A resource the renderer will not load (network, or a file outside templates/)."""


class SafeFetcher(URLFetcher):
    """Loads `data:` URIs and files inside the templates folder; refuses everything else.

    Every URL asked for is recorded in `requested` (and refusals in `refused`), so a test can
    prove that untrusted text never made the renderer reach for a resource.
    """

    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        super().__init__(timeout=1, allowed_protocols={"data", "file"}, allow_redirects=False)
        self.root = root.resolve()
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.requested.append(url)
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            # urllib's DataHandler decodes in memory; no I/O happens for data: URIs.
            response: URLFetcherResponse = super().fetch(url, headers)
            return response
        if scheme == "file":
            path = self._template_file(url)
            return URLFetcherResponse(
                url,
                body=path.read_bytes(),
                headers={"Content-Type": _MIME_TYPES.get(path.suffix.lower(), "text/plain")},
            )
        self.refused.append(url)
        raise RefusedURL(f"refused to load {url!r}: only data: and templates/ files are allowed")

    def _template_file(self, url: str) -> Path:
        parts = urlsplit(url)
        raw_path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or ".." in Path(raw_path).parts:
            self.refused.append(url)
            raise RefusedURL(f"refused to load {url!r}: outside the templates folder")
        try:
            path = Path(url2pathname(parts.path)).resolve(strict=True)
        except OSError as error:
            self.refused.append(url)
            raise RefusedURL(f"refused to load {url!r}: no such template file") from error
        if not path.is_file() or not path.is_relative_to(self.root):
            self.refused.append(url)
            raise RefusedURL(f"refused to load {url!r}: outside the templates folder")
        return path


def printed(value: Any) -> Any:
    """What `{{ … }}` prints of a value: text cut to `formatting.PRINTED_CHARS` (a vendor's
    200,000-character field would stall layout for minutes). Markup is ours, not data (macro
    output, chart URIs): it is printed whole."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return clipped(value)
    return value


def environment(templates: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """The one Jinja environment: autoescape everywhere, a missing value is an error, and no
    value prints more than `formatting.PRINTED_CHARS` characters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        finalize=printed,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


_ENV = environment()


def render_html(template_name: str, context: dict[str, Any]) -> str:
    """The template filled with already-formatted values."""
    return _ENV.get_template(template_name).render(**context)


_EPOCH_LOCK = threading.Lock()


@contextmanager
def _source_date_epoch(as_of: date) -> Iterator[None]:
    """SOURCE_DATE_EPOCH = midnight UTC of the as-of date, restored afterwards.

    It is process-wide state, hence the lock; PDFs render in parallel across processes.
    """
    epoch = str(int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp()))
    with _EPOCH_LOCK:
        previous = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = epoch
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous


def pdf_bytes(
    html: str,
    *,
    as_of: date,
    url_fetcher: SafeFetcher | None = None,
    templates: Path = TEMPLATES_DIR,
) -> bytes:
    """HTML to PDF bytes with the safe fetcher; identical inputs give identical bytes."""
    fetcher = url_fetcher or SafeFetcher(templates)
    document = HTML(string=html, base_url=templates.resolve().as_uri() + "/", url_fetcher=fetcher)
    with _source_date_epoch(as_of):
        data = document.write_pdf()
    assert data is not None
    return data


def write_atomic(out_path: Path, data: bytes) -> str:
    """Write via a temp file in the same folder and os.replace: a crash leaves the old file.

    Returns the sha256 of the bytes written (run.json records it).
    """
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, out_path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def render_pdf(
    template_name: str,
    context: dict[str, Any],
    out_path: Path,
    *,
    as_of: date,
    url_fetcher: SafeFetcher | None = None,
) -> str:
    """Render a template to `out_path` atomically; returns the sha256 of the PDF."""
    html = render_html(template_name, context)
    return write_atomic(out_path, pdf_bytes(html, as_of=as_of, url_fetcher=url_fetcher))


# Names Windows refuses as file names, whatever the extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


def safe_output_path(folder: Path, name: str, suffix: str) -> Path:
    """A file in `folder` named after an id that may be anything a vendor typed.

    The id is slugged to [A-Za-z0-9._-]; when that changed it (or it is empty or a reserved
    device name), a short hash of the original is appended, so distinct ids never collide and
    `../../escape` stays inside `folder`. Every document's file name goes through here.
    """
    if not _SUFFIX.fullmatch(suffix):
        raise ValueError(f"not a file suffix: {suffix!r}")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _UNSAFE.sub("-", ascii_name).strip(".-_")[:80].rstrip(".-_")
    reserved = slug.split(".")[0].upper() in _RESERVED
    if not slug or slug != name or reserved:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
        # "con.pdf" is still the device CON on Windows: no dot may follow a reserved stem.
        slug = f"{slug.replace('.', '-') if reserved else slug or 'document'}-{digest}"
    path = folder / f"{slug}{suffix}"
    # Belt and braces: the slug has no separator, but prove it before anyone writes there.
    if path.resolve().parent != folder.resolve():
        raise ValueError(f"file name for {name!r} would leave {folder}")
    return path
