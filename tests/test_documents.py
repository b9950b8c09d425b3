"""Documents: the figures printed are the frames' values formatted once; rendering is safe and
reproducible. Frames are small synthetic ones that follow docs/DESIGN.md column for column."""

from __future__ import annotations

import hashlib
import io
import socket
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader

from scorecards import formatting as fmt
from scorecards.documents import (
    portfolio_context,
    render_pdf,
    safe_output_path,
    scorecard_context,
    write_portfolio,
    write_scorecard,
)
from scorecards.documents.render import TEMPLATES_DIR, RefusedURL, SafeFetcher, pdf_bytes
from scorecards.documents.scorecard import followup_sentence

AS_OF = date(2026, 11, 5)
RUN: dict[str, Any] = {"run_id": "r-20261105-test", "as_of": AS_OF, "month": "2026-10"}
ACME = "acme-syndication"
BETA = "beta-webinars"
MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
MATURE = {"2026-05", "2026-06", "2026-07"}  # last day + 90 days <= 2026-11-05

# --- synthetic frames (docs/DESIGN.md) ----------------------------------------------------------

METRICS_SCHEMA: dict[str, Any] = {
    "grain": pl.String,
    "vendor_id": pl.String,
    "contract_id": pl.String,
    "program_id": pl.String,
    "lead_type": pl.String,
    "month": pl.String,
    **{
        name: pl.Int64
        for name in [
            "ordered",
            "delivered",
            "invalid",
            "accepted",
            "billable",
            "over_cap",
            "sal",
            "sql",
            "opportunities",
            "accounts",
            "accounts_with_sql",
            "attempts_0",
            "attempts_1",
            "attempts_2_3",
            "attempts_4plus",
            "sql_attempts_0",
            "sql_attempts_1",
            "sql_attempts_2_3",
            "sql_attempts_4plus",
            "spend_cents",
            "invoiced_risk_cents",
            "pipeline_cents",
        ]
    },
    **{
        name: pl.Float64
        for name in [
            "fill_rate",
            "invalid_rate",
            "sql_rate",
            "sal_rate",
            "cost_per_sql",
            "pipeline_per_dollar",
            "days_to_sql",
            "share_worked_4plus",
            "sql_rate_attempts_1",
            "sql_rate_4plus",
            "sql_deficit",
        ]
    },
    "sql_window_days": pl.Int64,
    "mature": pl.Boolean,
    "execution_limited": pl.Boolean,
}


def metric_row(grain: str, month: str, **values: Any) -> dict[str, Any]:
    """A metrics row whose derived columns follow SPEC §4 from the counts given."""
    row: dict[str, Any] = dict.fromkeys(METRICS_SCHEMA)
    row.update(grain=grain, month=month, sql_window_days=90, mature=month in MATURE)
    row.update(execution_limited=False, sal=0, opportunities=0, over_cap=0)
    row.update(values)
    cpl = row.pop("cpl_cents", 8500)
    row["billable"] = row["billable"] if row["billable"] is not None else row["accepted"]
    row["spend_cents"] = (
        row["spend_cents"] if row["spend_cents"] is not None else row["billable"] * cpl
    )
    row["invoiced_risk_cents"] = (
        row["invoiced_risk_cents"]
        if row["invoiced_risk_cents"] is not None
        else row["invalid"] * cpl
    )
    row["fill_rate"] = row["accepted"] / row["ordered"] if row["ordered"] else None
    row["invalid_rate"] = row["invalid"] / row["delivered"] if row["delivered"] else None
    row["sql_rate"] = row["sql"] / row["accepted"] if row["accepted"] else None
    row["cost_per_sql"] = row["spend_cents"] / 100 / row["sql"] if row["sql"] else None
    row["pipeline_cents"] = row["pipeline_cents"] or 0
    row["pipeline_per_dollar"] = (
        row["pipeline_cents"] / row["spend_cents"] if row["spend_cents"] else None
    )
    return row


def acme_month(month: str, delivered: int, invalid: int, sql: int, **extra: Any) -> dict[str, Any]:
    return metric_row(
        "vendor",
        month,
        vendor_id=ACME,
        contract_id="ACME-2026-H2",
        ordered=400,
        delivered=delivered,
        invalid=invalid,
        accepted=delivered - invalid,
        sql=sql,
        **extra,
    )


def metrics_frame(vendor_name_rows: bool = True) -> pl.DataFrame:
    acme_sql = {
        "2026-05": 55,
        "2026-06": 50,
        "2026-07": 39,
        "2026-08": 30,
        "2026-09": 20,
        "2026-10": 8,
    }
    rows = [
        acme_month(m, 410 if m != "2026-10" else 420, 20 if m != "2026-10" else 30, acme_sql[m])
        for m in MONTHS
        if m != "2026-07"
    ]
    # July: the latest mature month, execution-limited (hand-computed below).
    rows.append(
        acme_month(
            "2026-07",
            410,
            20,
            39,
            accounts=300,
            accounts_with_sql=35,
            opportunities=12,
            pipeline_cents=48_000_000,
            days_to_sql=23.5,
            attempts_0=70,
            attempts_1=100,
            attempts_2_3=100,
            attempts_4plus=120,
            sql_attempts_0=0,
            sql_attempts_1=5,
            sql_attempts_2_3=18,
            sql_attempts_4plus=16,
            share_worked_4plus=120 / 390,
            sql_rate_attempts_1=5 / 100,
            sql_rate_4plus=16 / 120,
            sql_deficit=100 * (16 / 120) - 5,
            execution_limited=True,
        )
    )
    rows += [
        metric_row(
            "program",
            m,
            vendor_id=ACME,
            contract_id="ACME-2026-H2",
            program_id=program,
            lead_type=lead_type,
            ordered=ordered,
            delivered=delivered,
            invalid=invalid,
            accepted=delivered - invalid,
            sql=sql,
        )
        for m, program, lead_type, ordered, delivered, invalid, sql in (
            ("2026-07", "acme-cs-q3", "content_syndication", 300, 310, 20, 31),
            ("2026-07", "acme-hql-q3", "hql", 100, 100, 0, 8),
            ("2026-10", "acme-cs-q3", "content_syndication", 300, 320, 30, 5),
            ("2026-10", "acme-hql-q3", "hql", 100, 100, 0, 3),
        )
    ]
    beta = [
        metric_row(
            "vendor",
            m,
            vendor_id=BETA,
            contract_id="BETA-2026",
            ordered=200,
            delivered=200,
            invalid=40,
            accepted=160,
            sql=0,
            cpl_cents=6250,
        )
        for m in ("2026-07", "2026-10")
    ]
    portfolio = [
        metric_row(
            "portfolio",
            m,
            ordered=600,
            delivered=a["delivered"] + b["delivered"],
            invalid=a["invalid"] + b["invalid"],
            accepted=a["accepted"] + b["accepted"],
            sql=a["sql"] + b["sql"],
            spend_cents=a["spend_cents"] + b["spend_cents"],
            invoiced_risk_cents=a["invoiced_risk_cents"] + b["invoiced_risk_cents"],
            billable=a["billable"] + b["billable"],
        )
        for m in ("2026-07", "2026-10")
        for a in [
            r for r in rows if r["vendor_id"] == ACME and r["grain"] == "vendor" and r["month"] == m
        ]
        for b in [r for r in beta if r["month"] == m]
    ]
    return pl.DataFrame(rows + beta + portfolio, schema=METRICS_SCHEMA).sort(
        "grain", "vendor_id", "program_id", "lead_type", "month", nulls_last=False
    )


def statuses_frame() -> pl.DataFrame:
    oct_, jul = "2026-10", "2026-07"
    return pl.DataFrame(
        [
            (
                ACME,
                "fill_rate",
                "min",
                0.95,
                "upstream",
                oct_,
                390 / 400,
                "at_risk",
                oct_,
                390 / 400,
                "at_risk",
            ),
            (
                ACME,
                "invalid_rate",
                "max",
                0.08,
                "upstream",
                oct_,
                30 / 420,
                "pass",
                oct_,
                30 / 420,
                "pass",
            ),
            (
                ACME,
                "sql_rate",
                "min",
                0.12,
                "downstream",
                jul,
                39 / 390,
                "breach (follow-up gap)",
                oct_,
                8 / 390,
                "provisional",
            ),
            (
                ACME,
                "cost_per_sql",
                "max",
                900.0,
                "downstream",
                jul,
                33150 / 39,
                "at_risk",
                oct_,
                33150 / 8,
                "provisional",
            ),
            (
                BETA,
                "sql_rate",
                "min",
                0.10,
                "downstream",
                jul,
                0.0,
                "breach",
                oct_,
                0.0,
                "provisional",
            ),
        ],
        schema={
            "vendor_id": pl.String,
            "metric": pl.String,
            "bound": pl.String,
            "limit": pl.Float64,
            "kind": pl.String,
            "judged_month": pl.String,
            "value": pl.Float64,
            "status": pl.String,
            "report_month": pl.String,
            "report_value": pl.Float64,
            "report_status": pl.String,
        },
        orient="row",
    )


ACME_REASON = (
    "SQL rate breached in Jul 2026, a follow-up gap: leads worked 4+ times convert 2.7× better."
)


def verdicts_frame(acme_name: str = "Acme Syndication Ltd") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "vendor_id": [ACME, BETA],
            "vendor_name": [acme_name, "Beta Webinars GmbH"],
            "contract_id": ["ACME-2026-H2", "BETA-2026"],
            "month": ["2026-10", "2026-10"],
            "latest_mature_month": ["2026-07", "2026-07"],
            "verdict": ["review", "replace"],
            "reason": [ACME_REASON, "SQL rate breached in Jun 2026 and Jul 2026."],
        }
    )


def leads_frame() -> pl.DataFrame:
    """Acme's October invalid leads: 12 outside_icp, 10 duplicate, 8 free_email at $85, plus
    accepted and other-month rows that must not be counted."""
    reasons = ["outside_icp"] * 12 + ["duplicate"] * 10 + ["free_email"] * 8
    n = len(reasons)
    invalid = pl.DataFrame(
        {
            "vendor_id": [ACME] * n,
            "program_id": ["acme-cs-q3"] * n,
            "vendor_lead_id": [f"L{i:04d}" for i in range(n)],
            "delivered_at": [datetime(2026, 10, 1 + i % 28, tzinfo=UTC) for i in range(n)],
            "email": [f"p{i}@example.com" for i in range(n)],
            "contract_id": ["ACME-2026-H2"] * n,
            "lead_type": ["content_syndication"] * n,
            "cpl_cents": [8500] * n,
            "month": ["2026-10"] * n,
            "status": ["invalid"] * n,
            "primary_reason": reasons,
            "reasons": [[r] for r in reasons],
        }
    )
    others = pl.DataFrame(
        {
            "vendor_id": [ACME, ACME, BETA],
            "program_id": ["acme-cs-q3", "acme-cs-q3", "beta-web"],
            "vendor_lead_id": ["A1", "S1", "B1"],
            "delivered_at": [datetime(2026, 10, 2, tzinfo=UTC)] * 3,
            "email": ["ok@corp.com", "old@corp.com", "b@corp.com"],
            "contract_id": ["ACME-2026-H2", "ACME-2026-H2", "BETA-2026"],
            "lead_type": ["content_syndication", "content_syndication", "webinar"],
            "cpl_cents": [8500, 8500, 6250],
            "month": ["2026-10", "2026-09", "2026-10"],
            "status": ["accepted", "invalid", "invalid"],
            "primary_reason": [None, "junk", "junk"],
            "reasons": [[], ["junk"], ["junk"]],
        }
    )
    return pl.concat([invalid, others]).with_columns(
        pl.col("delivered_at").dt.date().alias("delivery_date")
    )


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return {
        "metrics": metrics_frame(),
        "statuses": statuses_frame(),
        "verdicts": verdicts_frame(),
        "leads": leads_frame(),
    }


def scorecard_frames(
    frames: dict[str, pl.DataFrame],
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """metrics, statuses, verdicts, leads: scorecard_context's frame arguments, in order."""
    return frames["metrics"], frames["statuses"], frames["verdicts"], frames["leads"]


def pdf_pages(path_or_bytes: Path | bytes) -> list[str]:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def one_line(text: str) -> str:
    """PDF text with line breaks as spaces: a sentence may wrap."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def scorecard_pages(
    frames: dict[str, pl.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    out = tmp_path_factory.mktemp("scorecards")
    path = write_scorecard(ACME, "2026-10", *scorecard_frames(frames), RUN, out)
    assert path == out / f"{ACME}.pdf"
    return pdf_pages(path)


# --- scorecard ------------------------------------------------------------------------------------


def frame_value(frame: pl.DataFrame, column: str, **keys: Any) -> Any:
    return frame.filter(**keys)[column].item()


def test_scorecard_prints_the_frames_figures_formatted_once(scorecard_pages, frames):
    text = one_line(" ".join(scorecard_pages))
    metrics = frames["metrics"]
    october = {"grain": "vendor", "vendor_id": ACME, "month": "2026-10"}
    july = {"grain": "vendor", "vendor_id": ACME, "month": "2026-07"}
    # Hand-computed: 390 billable x $85 = $33,150.00; 30 / 420 invalid = 7.1%;
    # July 39 / 390 = 10.0%.
    assert fmt.money(frame_value(metrics, "spend_cents", **october)) == "$33,150.00"
    assert "$33,150.00" in text
    assert fmt.percent(frame_value(metrics, "invalid_rate", **october)) == "7.1%"
    assert "7.1%" in text
    assert fmt.percent(frame_value(metrics, "sql_rate", **july)) == "10.0%"
    assert "10.0%" in text
    assert fmt.money_units(frame_value(metrics, "cost_per_sql", **july)) == "$850.00" in text
    assert fmt.money(frame_value(metrics, "invoiced_risk_cents", **october)) == "$2,550.00" in text
    assert fmt.money(frame_value(metrics, "pipeline_cents", **july)) == "$480,000.00" in text


def test_scorecard_headline_shows_verdict_word_and_reason(scorecard_pages):
    first = one_line(scorecard_pages[0])
    assert "review" in first.lower()
    assert ACME_REASON in first
    assert "Acme Syndication Ltd" in first


def test_scorecard_kpi_table_judges_downstream_on_latest_mature_month(scorecard_pages):
    first = one_line(scorecard_pages[0])
    assert "breach (follow-up gap)" in first
    assert "at risk" in first
    assert "Jul 2026" in first  # the judged month is named on the page
    assert "≥ 12.0%" in first and "≤ $900.00" in first
    # October's downstream figures beside it, provisional: 8 / 390 = 2.1%, $33,150 / 8.
    assert "2.1% provisional" in first
    assert "$4,143.75 provisional" in first


def test_scorecard_invalid_reasons_count_and_value_from_leads(scorecard_pages):
    text = one_line(" ".join(scorecard_pages))
    assert "Outside ICP 12 $1,020.00" in text
    assert "Duplicate 10 $850.00" in text
    assert "Free email 8 $680.00" in text
    assert "Junk" not in text  # September's and the other vendor's leads are not October's
    assert "Total (invoiced risk) 30 $2,550.00" in text


def test_scorecard_followup_diagnostic_when_execution_limited(scorecard_pages):
    text = one_line(" ".join(scorecard_pages))
    # 16/120 = 13.3% at 4+ vs 5/100 = 5.0% once: 2.7x; deficit 100 x 13.3% - 5 = 8.3 -> 8.
    assert (
        "Leads worked 4+ times convert 2.7× better than leads worked once: "
        "the gap is follow-up, not lead quality." in text
    )
    assert "4+ 120 16 13.3%" in text
    assert "1 100 5 5.0%" in text
    assert "2–3 100 18 18.0%" in text
    assert "30.8%" in text  # share worked 4+: 120 / 390


def test_scorecard_sql_rate_by_program_and_lead_type(scorecard_pages):
    text = one_line(" ".join(scorecard_pages))
    # July: 31 / 290 = 10.7%; October (provisional): 5 / 290 = 1.7%.
    assert "acme-cs-q3 Content syndication 290 31 10.7%" in text
    assert "acme-hql-q3 HQL 100 8 8.0%" in text


def test_every_page_has_page_numbers_as_of_and_run_id(scorecard_pages):
    total = len(scorecard_pages)
    assert total >= 2
    for number, page in enumerate(scorecard_pages, start=1):
        assert f"Page {number} of {total} · as of 2026-11-05 · run r-20261105-test" in one_line(
            page
        )
    assert "Acme Syndication Ltd" in scorecard_pages[1]  # running header from page 2


def test_followup_sentence_is_neutral_when_not_execution_limited():
    row = {
        "accepted": 300,
        "execution_limited": False,
        "sql_rate_4plus": 0.15,
        "sql_rate_attempts_1": 0.12,
    }
    sentence = followup_sentence(row, "Jul 2026")
    assert "not lead quality" not in sentence
    assert "15.0%" in sentence and "12.0%" in sentence


def test_followup_sentence_without_one_attempt_sqls_does_not_divide_by_zero():
    row = {
        "accepted": 300,
        "execution_limited": True,
        "sql_rate_4plus": 0.15,
        "sql_rate_attempts_1": 0.0,
    }
    assert "produced no SQL" in followup_sentence(row, "Jul 2026")


def test_scorecard_for_unknown_vendor_is_a_user_error(frames):
    from scorecards.errors import UserError

    with pytest.raises(UserError, match="no verdict for vendor 'nobody'"):
        scorecard_context("nobody", "2026-10", *scorecard_frames(frames), RUN)


# --- portfolio -----------------------------------------------------------------------------------


def test_portfolio_ranks_by_cost_per_sql_with_no_sql_last(frames, tmp_path):
    path = write_portfolio("2026-10", frames["metrics"], frames["verdicts"], RUN, tmp_path)
    assert path == tmp_path / "portfolio.pdf"
    pages = pdf_pages(path)
    text = one_line(" ".join(pages))
    league = text[text.index("League table") :]
    assert league.index("Acme Syndication Ltd") < league.index("Beta Webinars GmbH")
    # Each vendor on its judged month, named on its row (Jul 2026 for both here). Acme July:
    # $33,150.00 of $43,150.00 judged spend = 76.8%, all 39 SQLs = 100.0%; Beta no SQL: —; then
    # the report month's spend and invoiced risk.
    assert (
        "1 Acme Syndication Ltd review Jul 2026 39 10.0% $850.00 76.8% 100.0% $33,150.00 $2,550.00"
        in league
    )
    assert (
        "2 Beta Webinars GmbH replace Jul 2026 0 0.0% — 23.2% 0.0% $10,000.00 $2,500.00" in league
    )
    # Totals row: the judged months' SQLs and cost per SQL ($43,150 / 39); the one spend total
    # of the page is the report month's, as in its tile.
    assert "Portfolio 39 $1,106.41 100.0% 100.0% $43,150.00 $5,050.00" in league
    assert "SPEND $43,150.00 USD Oct 2026" in text  # every amount with its ISO code (SPEC §4)
    # like for like: ranked within each lead type
    assert "Content syndication 1 Acme Syndication Ltd Jul 2026 31 10.7% $795.16" in text
    assert f"Page 1 of {len(pages)} · as of 2026-11-05 · run r-20261105-test" in one_line(pages[0])


def test_portfolio_context_shares_read_the_portfolio_row(frames):
    context = portfolio_context("2026-10", frames["metrics"], frames["verdicts"], RUN)
    assert [v["name"] for v in context["vendors"]] == ["Acme Syndication Ltd", "Beta Webinars GmbH"]
    assert [v["spend_share"] for v in context["vendors"]] == ["76.8%", "23.2%"]
    assert context["vendors"][1]["cost_per_sql"] == fmt.NO_VALUE


# --- safety and reproducibility ---------------------------------------------------------

HOSTILE = '<img src="http://127.0.0.1:9/x.png">'


def test_untrusted_company_name_stays_text_and_nothing_is_fetched(frames, tmp_path, monkeypatch):
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the renderer opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    spy = SafeFetcher()
    context = scorecard_context(
        ACME,
        "2026-10",
        frames["metrics"],
        frames["statuses"],
        verdicts_frame(acme_name=HOSTILE),
        frames["leads"],
        RUN,
    )
    render_pdf("scorecard.html", context, tmp_path / "x.pdf", as_of=AS_OF, url_fetcher=spy)
    assert HOSTILE in one_line(pdf_pages(tmp_path / "x.pdf")[0])
    assert not [url for url in spy.requested if "127.0.0.1" in url]
    assert spy.refused == []
    assert all(url.startswith(("data:", TEMPLATES_DIR.as_uri())) for url in spy.requested)


def test_fetcher_refuses_network_urls_even_in_raw_html(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", lambda *a, **k: pytest.fail("network used"))
    spy = SafeFetcher()
    pdf_bytes(f"<p>x</p>{HOSTILE}", as_of=AS_OF, url_fetcher=spy)
    assert spy.refused == ["http://127.0.0.1:9/x.png"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.com/a.css",
        "ftp://example.com/a",
        "file:///etc/passwd",
        (TEMPLATES_DIR.as_uri() + "/../pyproject.toml"),
        "file://evil.example.com/share/x.css",
    ],
)
def test_fetcher_refuses_anything_but_data_and_template_files(url):
    with pytest.raises(RefusedURL):
        SafeFetcher().fetch(url)


def test_fetcher_refuses_symlink_leading_out_of_templates(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    secret = tmp_path / "secret.css"
    secret.write_text("body{}")
    (templates / "link.css").symlink_to(secret)
    (templates / "ok.css").write_text("p{}")
    fetcher = SafeFetcher(templates)
    with pytest.raises(RefusedURL):
        fetcher.fetch((templates / "link.css").as_uri())
    assert fetcher.fetch((templates / "ok.css").as_uri()).read() == b"p{}"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


@pytest.mark.parametrize(
    "name", ["../../escape", "a/b", "a\\b", "CON", "con.pdf", "", "..", ".", "/etc/passwd", "ÿ©ü"]
)
def test_safe_output_path_keeps_any_id_inside_the_folder(tmp_path, name):
    path = safe_output_path(tmp_path, name, ".pdf")
    assert path.parent == tmp_path
    assert path.resolve().parent == tmp_path.resolve()
    assert path.name.endswith(".pdf") and path.stem not in ("", ".", "..")
    assert path.stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}


def test_safe_output_path_keeps_clean_ids_and_separates_changed_ones(tmp_path):
    assert safe_output_path(tmp_path, ACME, ".pdf") == tmp_path / f"{ACME}.pdf"
    assert safe_output_path(tmp_path, "a/b", ".pdf") != safe_output_path(tmp_path, "a-b", ".pdf")
    assert safe_output_path(tmp_path, "../../escape", ".csv").name.startswith("escape-")
    with pytest.raises(ValueError):
        safe_output_path(tmp_path, "x", "/../.pdf")


def test_same_inputs_give_identical_bytes(frames, tmp_path):
    context = scorecard_context(ACME, "2026-10", *scorecard_frames(frames), RUN)
    first = render_pdf("scorecard.html", context, tmp_path / "a.pdf", as_of=AS_OF)
    second = render_pdf("scorecard.html", context, tmp_path / "b.pdf", as_of=AS_OF)
    assert first == second
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert first == hashlib.sha256((tmp_path / "a.pdf").read_bytes()).hexdigest()


def test_render_pdf_replaces_atomically_and_leaves_no_temp_file(frames, tmp_path):
    target = tmp_path / "portfolio.pdf"
    target.write_bytes(b"previous")
    context = portfolio_context("2026-10", frames["metrics"], frames["verdicts"], RUN)
    render_pdf("portfolio.html", context, target, as_of=AS_OF)
    assert target.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["portfolio.pdf"]


def test_template_missing_a_value_is_an_error_not_a_blank():
    from jinja2 import UndefinedError

    from scorecards.documents.render import render_html

    with pytest.raises(UndefinedError):
        render_html("portfolio.html", {"document": {}})


# --- formatting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("john@example.com", "j***@example.com"),
        ("  John.Smith@Example.COM ", "J***@example.com"),
        ("john", "j***"),
        ("john@", "j***"),
        ("@example.com", "@***"),
        ("a@b@c.com", "a***"),
        ("", "—"),
        (None, "—"),
    ],
)
def test_mask_email_never_leaks_more_than_the_first_character(email, masked):
    assert fmt.mask_email(email) == masked


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (1_234_500, "USD", "$12,345.00"),
        (1_234_500, "EUR", "€12,345.00"),
        (5, "GBP", "£0.05"),
        (-250, "USD", "-$2.50"),
        (100, "CHF", "1.00 CHF"),
        (None, "USD", "—"),
    ],
)
def test_money_from_integer_cents_is_currency_aware(cents, currency, text):
    assert fmt.money(cents, currency) == text


def test_rates_ratios_counts_and_months_format_once():
    assert fmt.percent(0.1234) == "12.3%"
    assert fmt.percent(0.12345) == "12.3%"
    assert fmt.percent(0.00125) == "0.1%"  # half up on the decimal text, not the binary float
    assert fmt.percent(None) == "—"
    assert fmt.percent(float("nan")) == "—"
    assert fmt.ratio(2.6) == "2.6×"
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.count(8.33) == "8"
    assert fmt.money_units(812.345) == "$812.35"
    assert fmt.month("2026-10") == "Oct 2026"
    assert fmt.month(date(2026, 1, 31)) == "Jan 2026"
    assert fmt.limit("invalid_rate", "max", 0.08) == "≤ 8.0%"
    assert fmt.status_label("at_risk") == "at risk"
    assert fmt.status_class("breach (follow-up gap)") == "breach-gap"
