"""What rendering skips to be fast changes nothing a reader gets: the same subset fonts, chart
specs that are valid Vega-Lite although they are no longer validated on every document, and no
fontTools-fallback warning per document."""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path
from typing import Any

import altair
import polars as pl
import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema.core import load_schema
from fontTools import subset
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from scorecards.documents import charts
from scorecards.documents.render import DropFirstSubsetter, pdf_bytes

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _weasyprint_options() -> subset.Options:
    """The options WeasyPrint 70 subsets with (weasyprint/pdf/fonts.py, _fonttools_subset)."""
    options = subset.Options(
        retain_gids=True,
        passthrough_tables=True,
        ignore_missing_glyphs=True,
        hinting=False,
        desubroutinize=True,
        notdef_outline=False,
    )
    options.drop_tables += ["GSUB", "GPOS", "SVG"]
    return options


def _subset(subsetter_class: type[subset.Subsetter], gids: set[int]) -> tuple[bytes, TTFont]:
    # the head table's modified time is "now" unless pinned, as the PDFs pin it
    font = TTFont(io.BytesIO(DEJAVU.read_bytes()), recalcTimestamp=False)
    subsetter = subsetter_class(_weasyprint_options())
    subsetter.populate(gids=gids)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue(), font


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans is not installed")
def test_drop_first_subsetter_gives_fonttools_bytes_without_reading_gsub_or_gpos():
    gids = {0, 3, 36, 37, 68, 69, 70, 1000, 2500}
    plain, _ = _subset(subset.Subsetter, gids)
    fast, font = _subset(DropFirstSubsetter, gids)
    assert fast == plain
    assert "GSUB" not in font and "GPOS" not in font
    assert len(fast) < DEJAVU.stat().st_size / 3


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans is not installed")
def test_drop_first_subsetter_drops_nothing_the_options_keep():
    options = _weasyprint_options()
    options.drop_tables = [t for t in options.drop_tables if t not in ("GSUB", "GPOS")]
    fonts = []
    for subsetter_class in (subset.Subsetter, DropFirstSubsetter):
        font = TTFont(io.BytesIO(DEJAVU.read_bytes()))
        subsetter = subsetter_class(options)
        subsetter.populate(gids={0, 36, 68})
        subsetter.subset(font)
        fonts.append(font)
    assert "GSUB" in fonts[1] and sorted(fonts[0].keys()) == sorted(fonts[1].keys())


def test_pdf_render_logs_no_fonttools_fallback_warning(caplog: pytest.LogCaptureFixture):
    html = "<html><body><p>Fill rate 91.5% — Acme Syndication Ltd</p></body></html>"
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        data = pdf_bytes(html, as_of=date(2026, 11, 5))
    assert "Fill rate 91.5%" in PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert not [r for r in caplog.records if "HarfBuzz-Subset" in r.getMessage()]


def _captured_spec(monkeypatch: pytest.MonkeyPatch, draw: Any) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def convert(spec: dict[str, Any], **_: Any) -> str:
        seen.append(spec)
        return "<svg/>"

    monkeypatch.setattr(charts.vl_convert, "vegalite_to_svg", convert)
    assert draw() == "<svg/>"
    return seen[0]


def test_chart_specs_are_valid_vega_lite(monkeypatch: pytest.MonkeyPatch):
    """The documents convert without validating (it cost more than the conversion); this is
    where the specs the chart functions build are checked against Vega-Lite's schema."""
    months = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    trend = pl.DataFrame(
        [
            {
                "month": m,
                "month_label": m[-2:],
                "metric": metric,
                "value": 0.1 + i / 100,
                "provisional": i == 5,
            }
            for i, m in enumerate(months)
            for metric in charts.TREND_METRICS
        ]
    )
    thresholds = pl.DataFrame(
        {
            "metric": ["sql_rate", "fill_rate"],
            "bound": ["min", "min"],
            "limit": [0.05, 0.9],
            "label": ["limit ≥ 5.0%", "limit ≥ 90.0%"],
        }
    )
    shares = pl.DataFrame(
        {
            "vendor_name": ["Acme", "Beta"],
            "rank": [1, 2],
            "spend_share": [0.6, 0.4],
            "sql_share": [0.3, None],
        }
    )
    schema = load_schema()  # Vega-Lite's JSON schema, as altair ships it
    for draw in (lambda: charts.trend_svg(trend, thresholds), lambda: charts.share_svg(shares)):
        spec = _captured_spec(monkeypatch, draw)
        validate_jsonschema(spec, schema)  # raises on an invalid spec
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        # the plain trend spec names the Vega-Lite version the locked altair ships
        assert spec["$schema"] == altair.SCHEMA_URL


def _worker_facts(_: int) -> dict[str, Any]:
    import os

    from weasyprint.pdf import fonts

    return {
        "pid": os.getpid(),
        "parent": os.getppid(),
        "drop_first": fonts.subset.Subsetter is DropFirstSubsetter,
        "api_url": os.environ.get("PREFECT_API_URL"),
    }


@pytest.mark.usefixtures("prefect_server")
def test_process_runner_forks_warm_workers_from_the_fork_server():
    """--runner processes: workers are forked from the preloaded fork server (not spawned, and
    not children of the flow process), talk to the flow's Prefect API, render with the fast
    subsetter, and run tasks side by side."""
    import os

    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.settings import get_current_settings

    from flows.common import WarmProcessPoolTaskRunner, task_runner

    facts_task = task(_worker_facts, cache_policy=NO_CACHE)

    @flow
    def probe() -> list[dict[str, Any]]:
        return [f.result() for f in facts_task.map(list(range(4)))]

    runner = task_runner("processes")
    assert isinstance(runner, WarmProcessPoolTaskRunner)
    facts = probe.with_options(task_runner=runner)()
    assert {f["pid"] for f in facts} - {os.getpid()} == {f["pid"] for f in facts}
    assert 1 <= len({f["pid"] for f in facts}) <= (os.cpu_count() or 2)  # one worker per core
    assert all(f["parent"] != os.getpid() and f["drop_first"] for f in facts)
    assert {f["api_url"] for f in facts} == {get_current_settings().api.url}
