"""What the vendor receives holds only what the vendor may see (SPEC §6), on the sample run.

The month's steps run without Prefect (the flow only orchestrates them), then every claim PDF
(read back with pypdf) and CSV is searched for another vendor's id, name or lead ids, a
suppression list's name, and any line over the cap or past the window; the internal report
must list exactly those lines, with their value.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from pypdf import PdfReader
from typer.testing import CliRunner

from flows.cli import app
from scorecards import steps
from scorecards.formatting import money_iso
from scorecards.history import HistoryStore
from tests.conftest import SAMPLE_AS_OF, SAMPLE_MONTH, pdf_text


@pytest.fixture(scope="module")
def sample_run(sample_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("safety")
    staged = steps.compute_and_stage(
        SAMPLE_MONTH,
        date.fromisoformat(SAMPLE_AS_OF),
        sample_inputs / "data",
        sample_inputs / "contracts",
        base / "out",
        str(base / "history"),
    )
    claims = steps.write_month_claims(staged)
    summary = steps.publish(staged, {"claims": claims})
    out = Path(summary["out"])
    vendors = {}
    for path in sorted((sample_inputs / "contracts").glob("*.yaml")):
        vendor = (yaml.safe_load(path.read_text()) or {}).get("vendor")
        if vendor:
            vendors[vendor["id"]] = vendor["name"]
    return {
        "base": base,
        "sample": sample_inputs,
        "out": out,
        "claims": claims["claims"],
        "lines": pl.read_parquet(out / "claim_lines.parquet"),
        "leads": pl.read_parquet(out / "leads.parquet"),
        "vendors": vendors,
        "lists": sorted(p.stem for p in (sample_inputs / "data" / "suppression").glob("*.csv")),
    }


def _received(run: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(vendor_id, file name, text) of every document a vendor receives."""
    folder = run["out"] / "claims"
    received = []
    for claim in run["claims"]:
        for name in (claim["pdf"], claim["csv"]):
            path = folder / name
            text = pdf_text(path) if name.endswith(".pdf") else path.read_text("utf-8")
            received.append((claim["vendor_id"], name, text))
    return received


def test_the_sample_files_claims_for_several_vendors(sample_run: dict[str, Any]) -> None:
    assert len({c["vendor_id"] for c in sample_run["claims"]}) >= 5
    # the sample has duplicates across vendors and suppressed leads among the claimed lines
    claimed = sample_run["lines"].filter(pl.col("disposition") == "claim")
    assert {"duplicate", "suppressed", "existing_contact"} <= set(claimed["primary_reason"])


def test_no_claim_names_another_vendor_or_its_leads(sample_run: dict[str, Any]) -> None:
    leads = sample_run["leads"]
    for vendor_id, name, text in _received(sample_run):
        for other, other_name in sample_run["vendors"].items():
            if other != vendor_id:
                assert other not in text, f"{name} names vendor {other}"
                assert other_name not in text, f"{name} names vendor {other_name}"
        others = set(leads.filter(pl.col("vendor_id") != vendor_id)["vendor_lead_id"])
        tokens = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9_-]*", text))
        assert not tokens & others, f"{name} quotes another vendor's lead ids"


def test_no_claim_names_a_suppression_list_or_crm_dates(sample_run: dict[str, Any]) -> None:
    assert "do-not-contact" in sample_run["lists"]
    for _, name, text in _received(sample_run):
        for listed in sample_run["lists"]:
            assert listed not in text, f"{name} names the suppression list {listed}"
        assert "in CRM since" not in text
        assert "suppression list " not in text.replace("our suppression list", "")
    texts = " ".join(text for _, _, text in _received(sample_run))
    assert "on our suppression list" in texts
    assert "already in our CRM before delivery" in texts
    assert "same person delivered before on" in texts


def test_no_claim_holds_an_over_cap_or_expired_line(sample_run: dict[str, Any]) -> None:
    lines = sample_run["lines"]
    withheld = lines.filter(pl.col("disposition").is_in(["over_cap", "expired"]))
    assert withheld.height > 0 and set(withheld["disposition"]) == {"over_cap", "expired"}
    for vendor_id, name, text in _received(sample_run):
        own = set(withheld.filter(pl.col("vendor_id") == vendor_id)["vendor_lead_id"])
        tokens = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9_-]*", text))
        assert not tokens & own, f"{name} lists a line the vendor must not see"
        for word in ("over the cap", "past the window", "Past the claim window", "expired"):
            assert word.lower() not in text.lower(), f"{name} says {word!r}"


def test_each_claim_csv_holds_exactly_its_claimed_lines(sample_run: dict[str, Any]) -> None:
    claimed = sample_run["lines"].filter(pl.col("disposition") == "claim")
    for claim in sample_run["claims"]:
        text = (sample_run["out"] / "claims" / claim["csv"]).read_text("utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        expected = claimed.filter(pl.col("claim_id") == claim["claim_id"])
        assert sorted(r["vendor_lead_id"] for r in rows) == sorted(expected["vendor_lead_id"])
        assert {r["vendor_id"] for r in rows} == {claim["vendor_id"]}
        assert {r["currency"] for r in rows} == set(expected["currency"])
        assert {r["respond_by"] for r in rows} == {"2026-11-15"}  # 10 days after 2026-11-05


def test_claim_pdf_carries_the_buyer_block_due_date_and_iso_amounts(
    sample_run: dict[str, Any],
) -> None:
    claimed = sample_run["lines"].filter(pl.col("disposition") == "claim")
    for claim in sample_run["claims"]:
        text = pdf_text(sample_run["out"] / "claims" / claim["pdf"])
        assert "Northfield Analytics Inc." in text and "400 Harbor Street" in text
        assert "vendor-claims@northfield.example" in text
        assert "Response due 2026-11-15" in text
        assert "How to respond or dispute" in text and "Oct 2026" in text
        group = claimed.filter(pl.col("claim_id") == claim["claim_id"])
        total = money_iso(int(group["cpl_cents"].sum()), group["currency"][0])
        assert f"Total claimed ({group.height} lead" in text
        assert total.replace("\xa0", " ") in text
        # every amount has its ISO code: no bare symbol amount is left
        assert not re.search(r"[$€£]\s?\d", text)
        # the buyer's phone and email each on one line of the page, never broken across two
        page = PdfReader(sample_run["out"] / "claims" / claim["pdf"]).pages[0]
        lines = (page.extract_text() or "").splitlines()
        assert any("+1 617 555 0142" in line for line in lines)
        assert any("<dana.whitfield@northfield.example>" in line for line in lines)


def test_internal_report_lists_every_withheld_line_with_its_value(
    sample_run: dict[str, Any],
) -> None:
    folder = sample_run["out"] / "claims"
    withheld = sample_run["lines"].filter(pl.col("disposition").is_in(["over_cap", "expired"]))
    rows = list(csv.DictReader(io.StringIO((folder / "internal-2026-10.csv").read_text("utf-8"))))
    got = sorted((r["vendor_lead_id"], r["disposition"], r["value"]) for r in rows)
    expected = sorted(
        (r["vendor_lead_id"], r["disposition"], f"{r['cpl_cents'] / 100:.2f}")
        for r in withheld.iter_rows(named=True)
    )
    assert got == expected
    text = pdf_text(folder / "internal-2026-10.pdf")
    assert "not for vendors" in text.lower()
    for (vendor_id, disposition, currency), group in withheld.group_by(
        "vendor_id", "disposition", "currency"
    ):
        label = "Over the cap" if disposition == "over_cap" else "Past the window"
        value = money_iso(int(group["cpl_cents"].sum()), str(currency)).replace("\xa0", " ")
        assert f"{label} ({group.height} lead" in text, vendor_id
        assert value in text, (vendor_id, disposition)
    assert all(lead_id in text for lead_id in withheld["vendor_lead_id"])


def test_internal_report_lists_the_earliest_lines_and_counts_the_rest_in_its_totals(
    sample_run: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month with thousands of withheld lines is not a PDF of thousands of pages: past
    `LISTED_LINES` per vendor and kind, the PDF says how many more the CSV holds."""
    from scorecards.documents import internal_claims
    from scorecards.runinfo import RunInfo

    monkeypatch.setattr(internal_claims, "LISTED_LINES", 5)
    lines = sample_run["lines"]
    harbor = lines.filter(
        pl.col("vendor_id") == "harbor-intent", pl.col("disposition") == "expired"
    )
    assert harbor.height > 5
    run = RunInfo("2026-10-test", date.fromisoformat(SAMPLE_AS_OF), SAMPLE_MONTH, [])
    pdf, csv_path = internal_claims.write_internal_claims(lines, tmp_path, "2026-10", run)
    text = pdf_text(pdf)
    assert f"Past the window ({harbor.height} leads)" in text
    more = harbor.height - 5
    assert f"… and {more} more leads delivered later, listed in internal-2026-10.csv" in text
    ordered = harbor.sort("delivered_at", "vendor_lead_id")["vendor_lead_id"].to_list()
    assert all(lead in text for lead in ordered[:5])
    assert not any(lead in text for lead in ordered[5:])
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text("utf-8"))))
    assert sum(r["vendor_id"] == "harbor-intent" for r in rows) == harbor.height


HOSTILE_CELLS = ["=1+2", "-x", "@a", "\tt", "\rr", "a,b", 'say "hi"', "line\nbreak", "", "Müller €"]


def test_internal_csv_reads_back_cell_for_cell_with_formula_starts_made_text(
    sample_run: dict[str, Any],
) -> None:
    """The internal CSV is written by Polars: quoting as Python's csv module would, an empty
    evidence cell empty (not ""), and every formula start behind a quote."""
    from scorecards.documents.internal_claims import internal_csv, internal_lines

    one = sample_run["lines"].filter(pl.col("disposition") == "expired").head(1)
    lines = pl.concat(
        [one.with_columns(pl.lit(v).alias("vendor_lead_id"), pl.lit(v).alias("evidence"))
         for v in HOSTILE_CELLS]
        + [one.with_columns(pl.lit(None, pl.String).alias("evidence"))]
    )  # fmt: skip
    written = internal_csv(internal_lines(lines))
    rows = list(csv.reader(io.StringIO(written.decode("utf-8"), newline="")))[1:]
    expected = [f"'{v}" if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v for v in HOSTILE_CELLS]
    # rows come in lead order: each row's lead id and evidence are the same hostile value
    assert sorted((r[3], r[10]) for r in rows) == sorted(
        [(e, e) for e in expected] + [(one["vendor_lead_id"][0], "")]
    )
    assert (
        b',"",' not in written and written.count(b"\r\n") == len(HOSTILE_CELLS) + 2
    )  # header, rows
    value = one["cpl_cents"][0]
    assert {r[11] for r in rows} == {f"{value // 100}.{value % 100:02d}"}


def test_responses_move_states_and_the_next_scorecard_shows_the_credit(
    sample_run: dict[str, Any],
) -> None:
    """Done means (issue 10): half of a claim accepted, the rest disputed; the next run's
    scorecard shows the credited amount; the same response file again is refused."""
    claim = max(sample_run["claims"], key=lambda c: c["claim_id"].startswith("MB-"))
    folder = sample_run["out"] / "claims"
    returned = pl.read_csv(folder / claim["csv"], infer_schema=False)
    half = returned.height // 2
    answer = returned.with_columns(
        decision=pl.when(pl.int_range(pl.len()) < half)
        .then(pl.lit("accepted"))
        .otherwise(pl.lit("disputed")),
        vendor_reason=pl.when(pl.int_range(pl.len()) < half)
        .then(pl.lit(""))
        .otherwise(pl.lit("lead met the criteria at delivery")),
    )
    response = sample_run["base"] / "response.csv"
    answer.write_csv(response)
    history = str(sample_run["base"] / "history")
    result = CliRunner().invoke(app, ["responses", str(response), "--history", history])
    assert result.exit_code == 0, result.output
    disputed = returned.height - half
    assert f"({half} accepted, {disputed} disputed)" in result.output
    ledger = HistoryStore(history).ledger().filter(pl.col("claim_id") == claim["claim_id"])
    states = dict(zip(ledger["vendor_lead_id"], ledger["state"], strict=True))
    first = answer["vendor_lead_id"].head(half).to_list()
    assert all(states[lead] == "accepted" for lead in first)
    assert all(states[lead] == "disputed" for lead in answer["vendor_lead_id"][half:])
    credited = int(ledger.filter(pl.col("state") == "accepted")["cpl_cents"].sum())

    again = CliRunner().invoke(app, ["responses", str(response), "--history", history])
    assert again.exit_code == 2
    assert len(again.output.strip().splitlines()) == 1 and "already answered" in again.output

    # the next run: the vendor's scorecard shows the money credited
    staged = steps.compute_and_stage(
        SAMPLE_MONTH,
        date.fromisoformat(SAMPLE_AS_OF),
        sample_run["sample"] / "data",
        sample_run["sample"] / "contracts",
        sample_run["base"] / "out",
        history,
    )
    currency = staged["currency"][claim["vendor_id"]]
    text = pdf_text(steps.render_scorecard(staged, claim["vendor_id"]))
    shown = money_iso(credited, currency).replace("\xa0", " ")
    assert "Replacement claims" in text and "Accepted (credited)" in text
    assert f"{half} · {shown}" in text
    assert f"Money credited: {shown} of" in text
