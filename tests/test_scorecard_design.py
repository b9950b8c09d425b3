"""Page 1 of a scorecard reads like a supplier scorecard: KPI tiles coloured AND named by status
(fill rate included), their limits and change against the previous month; the contract behind
the figures; a trend chart whose panels are titled, start at 0 and label every limit; a glossary
of the product's terms. Frames are the synthetic ones of tests/test_documents.py."""

from __future__ import annotations

import base64
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from scorecards import formatting as fmt
from scorecards.contracts import Contract, load_contracts
from scorecards.documents import scorecard_context, write_scorecard
from scorecards.documents.render import render_html
from scorecards.documents.scorecard import previous_month
from tests.test_documents import ACME, RUN, frames, one_line, pdf_pages, scorecard_frames

__all__ = ["frames"]  # the module-scoped fixture, shared

SAMPLE_CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"


@pytest.fixture(scope="module")
def acme_contract() -> Contract:
    """A sample contract made Acme's: two programs, a six-month term (Jul–Dec 2026)."""
    base = load_contracts(SAMPLE_CONTRACTS).contracts[0]
    program = base.programs[0]
    return base.model_copy(
        update={
            "contract_id": "ACME-2026-H2",
            "term": base.term.model_copy(
                update={"start": date(2026, 7, 1), "end": date(2026, 12, 31)}
            ),
            "programs": [
                program.model_copy(
                    update={
                        "id": "acme-cs-q3",
                        "lead_type": "content_syndication",
                        "cpl": Decimal("85.00"),
                        "monthly_volume": 300,
                    }
                ),
                program.model_copy(
                    update={
                        "id": "acme-hql-q3",
                        "lead_type": "hql",
                        "cpl": Decimal("85.00"),
                        "monthly_volume": 100,
                    }
                ),
            ],
        }
    )


@pytest.fixture(scope="module")
def context(frames, acme_contract):
    return scorecard_context(
        ACME, "2026-10", *scorecard_frames(frames), RUN, contract=acme_contract
    )


def test_tiles_carry_status_word_colour_and_limit_fill_rate_first(context):
    tiles = {tile["label"]: tile for tile in context["tiles"]}
    assert list(tiles) == ["Fill rate", "Invalid rate", "SQL rate", "Cost per SQL", "Spend"]
    fill = tiles["Fill rate"]
    # Oct: 390 accepted of 400 ordered = 97.5%, at risk against a 95% minimum
    assert (fill["value"], fill["status"], fill["status_css"]) == ("97.5%", "at risk", "at-risk")
    assert fill["limit"] == "≥ 95.0%" and fill["note"] == "Oct 2026 · 390 of 400 ordered"
    assert tiles["Invalid rate"]["status_css"] == "pass"
    # SQL rate judged on July (39 of 390), a breach explained by follow-up: its own colour
    assert tiles["SQL rate"]["value"] == "10.0%"
    assert tiles["SQL rate"]["status"] == "breach (follow-up gap)"
    assert tiles["SQL rate"]["status_css"] == "breach-gap"
    assert "status" not in tiles["Spend"]  # money has no limit to be judged against


def test_tiles_show_change_against_the_previous_month(frames, context):
    metrics = frames["metrics"]
    vendor = metrics.filter(grain="vendor", vendor_id=ACME)
    now = vendor.filter(month="2026-10")["fill_rate"].item()
    before = vendor.filter(month="2026-09")["fill_rate"].item()
    fill = next(t for t in context["tiles"] if t["label"] == "Fill rate")
    assert fill["change"] == f"{fmt.points_change(now, before)} vs Sep"
    assert fmt.points_change(0.204, 0.189) == "+1.5 pts"
    assert fmt.points_change(0.10, 0.125) == "−2.5 pts"
    assert fmt.money_change(1_368_000, 1_386_000) == "−$180.00"
    assert previous_month("2026-01") == "2025-12"


def test_tile_colour_is_in_the_markup_and_the_word_in_the_pdf(
    context, frames, acme_contract, tmp_path
):
    html = render_html("scorecard.html", context)
    assert 'class="tile tile-at-risk"' in html and 'class="tile tile-breach-gap"' in html
    path = write_scorecard(
        ACME, "2026-10", *scorecard_frames(frames), RUN, tmp_path, contract=acme_contract
    )
    first = one_line(pdf_pages(path)[0])
    assert "FILL RATE 97.5% at risk ≥ 95.0% Oct 2026 · 390 of 400 ordered" in first


def test_contract_context_traces_fill_rate_and_spend_to_the_contract(
    context, frames, acme_contract, tmp_path
):
    contract = context["contract"]
    assert contract["term"] == "2026-07-01 to 2026-12-31"
    assert contract["elapsed"] == "4 of 6 months"
    assert [(p["program_id"], p["monthly_volume"], p["cpl"]) for p in contract["programs"]] == [
        ("acme-cs-q3", "300", "$85.00"),
        ("acme-hql-q3", "100", "$85.00"),
    ]
    # program rows of ACME-2026-H2 up to Oct (Jul and Oct here): ordered 800 of 2,400
    # committed; delivered 830; 780 billable × $85 = $66,300 of 2,400 × $85 = $204,000
    to_date = {row["label"]: row for row in contract["to_date"]}
    assert (to_date["Ordered"]["value"], to_date["Ordered"]["share"]) == ("800", "33.3%")
    assert to_date["Ordered"]["of"] == "of 2,400 committed"
    assert to_date["Delivered"]["value"] == "830"
    assert (to_date["Spend to date"]["value"], to_date["Spend to date"]["share"]) == (
        "$66,300.00",
        "32.5%",
    )
    assert to_date["Spend to date"]["of"] == "of $204,000.00"
    path = write_scorecard(
        ACME, "2026-10", *scorecard_frames(frames), RUN, tmp_path, contract=acme_contract
    )
    text = one_line(" ".join(pdf_pages(path)))
    assert "acme-cs-q3: 300 leads a month at $85.00" in text
    assert "$66,300.00" in text and "32.5% of $204,000.00" in text


def test_trend_chart_panels_are_titled_start_at_zero_and_label_each_limit(context):
    uri = str(context["trend_chart"])
    svg = base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for title in ("Fill rate", "Invalid rate", "SQL rate"):
        assert title in texts
    # one label per limit, in the limit's own words
    assert "limit ≥ 95.0%" in texts and "limit ≤ 8.0%" in texts and "limit ≥ 12.0%" in texts
    assert texts.count("0%") == 3  # each panel's y axis starts at 0
    assert len([t for t in texts if t.endswith("%") and not t.startswith("limit")]) >= 12


def test_glossary_explains_the_products_terms(context, frames, acme_contract, tmp_path):
    path = write_scorecard(
        ACME, "2026-10", *scorecard_frames(frames), RUN, tmp_path, contract=acme_contract
    )
    text = one_line(" ".join(pdf_pages(path)))
    glossary = text[text.index("Terms used in this document") :]
    for term in (
        "At risk",
        "Mature",
        "Provisional",
        "Not conclusive",
        "Execution-limited",
        "SQL deficit",
    ):
        assert term in glossary


def test_scorecard_without_a_contract_still_renders(frames, tmp_path):
    path = write_scorecard(ACME, "2026-10", *scorecard_frames(frames), RUN, tmp_path)
    assert "The contract" not in one_line(" ".join(pdf_pages(path)))
