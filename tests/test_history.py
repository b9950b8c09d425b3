"""The history store (SPEC §7, §9): a month replaces itself, the ledger never holds a line twice,
and a claim is recorded only once its documents exist."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

import scorecards.documents.claim as claim_documents
from scorecards.claims import LEDGER_SCHEMA, LINE_KEY, TERMS_SCHEMA, claim_lines
from scorecards.history import HistoryStore
from scorecards.runinfo import RunInfo
from scorecards.steps import file_claims

CPL = 8500


def lead(lead_id: str, day: date, status: str = "invalid") -> dict[str, object]:
    invalid = status == "invalid"
    return {
        "vendor_id": "acme",
        "contract_id": "ACME-2026-H2",
        "program_id": "p1",
        "vendor_lead_id": lead_id,
        "delivered_at": datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        "delivery_date": day,
        "month": day.strftime("%Y-%m"),
        "status": status,
        "primary_reason": "outside_icp" if invalid else None,
        "reasons": ["outside_icp"] if invalid else [],
        "evidence": ["country=BR not in [US, CA, GB]"] if invalid else [],
        "email": f"{lead_id.lower()}@buyer.example",
        "source_file": "deliveries/acme/leads.csv",
        "source_line": 2,
        "cpl_cents": CPL,
    }


PROGRAMS = pl.DataFrame(
    {
        "vendor_id": ["acme"],
        "contract_id": ["ACME-2026-H2"],
        "program_id": ["p1"],
        "cpl_cents": [CPL],
    }
)
TERMS = pl.DataFrame(
    [
        {
            "contract_id": "ACME-2026-H2",
            "vendor_id": "acme",
            "vendor_name": "Acme Syndication Ltd",
            "currency": "USD",
            "window_days": 14,
            "eligible_reasons": ["outside_icp"],
            "max_return_rate": 0.5,
            "remedy": "credit",
        }
    ],
    schema=TERMS_SCHEMA,
)


def portfolio_leads() -> pl.DataFrame:
    """October: 6 invalid + 4 accepted (cap 5); November: 4 invalid + 4 accepted (cap 4)."""
    october = [lead(f"OCT{i}", date(2026, 10, 20 + i)) for i in range(6)]
    october += [lead(f"OCTOK{i}", date(2026, 10, 20), "accepted") for i in range(4)]
    november = [lead(f"NOV{i}", date(2026, 11, 1 + 3 * i)) for i in range(4)]
    november += [lead(f"NOVOK{i}", date(2026, 11, 1), "accepted") for i in range(4)]
    return pl.DataFrame(october + november).with_columns(
        pl.col("delivered_at").cast(pl.Datetime("us", "UTC")),
        pl.col("reasons").cast(pl.List(pl.String)),
        pl.col("evidence").cast(pl.List(pl.String)),
    )


def file_once(
    store: HistoryStore, folder: Path, as_of: date, months: list[str] | None
) -> pl.DataFrame:
    """What a run does: decide from the ledger as it is, write the documents, record."""
    known = portfolio_leads().filter(pl.col("delivery_date") <= as_of)
    lines = claim_lines(known, PROGRAMS, TERMS, as_of, store.ledger(), months)
    file_claims(lines, folder, RunInfo(f"run-{as_of}", as_of), store)
    return lines


def test_month_filed_three_times_then_swept_twice_then_again_claims_each_line_once(
    tmp_path: Path,
) -> None:
    store = HistoryStore(str(tmp_path / "history"))
    out = tmp_path / "out"
    for _ in range(3):
        file_once(store, out, date(2026, 11, 2), ["2026-10"])  # the monthly run
    after_month = store.ledger()
    # October cap = floor(0.5 x 10) = 5: OCT0..OCT4, the earliest; OCT5 is over the cap
    assert sorted(after_month["vendor_lead_id"]) == [f"OCT{i}" for i in range(5)]

    file_once(store, out, date(2026, 11, 5), None)  # weekly sweeps pick up November
    file_once(store, out, date(2026, 11, 12), None)
    file_once(store, out, date(2026, 11, 12), ["2026-10"])  # and the month once more

    ledger = store.ledger()
    assert ledger.height == ledger.select(LINE_KEY).unique().height
    # November cap = floor(0.5 x 8) = 4: all four November lines, each once
    assert sorted(ledger["vendor_lead_id"]) == sorted(
        [f"OCT{i}" for i in range(5)] + [f"NOV{i}" for i in range(4)]
    )
    assert ledger.filter(pl.col("month") == "2026-11")["claimed_on"].unique().sort().to_list() == [
        date(2026, 11, 5),
        date(2026, 11, 12),
    ]
    # every recorded line has its documents on disk
    for claim_id in ledger["claim_id"].unique():
        assert (out / f"{claim_id}.pdf").is_file()
        assert (out / f"{claim_id}.csv").is_file()


def test_record_claims_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    store = HistoryStore(str(tmp_path / "history"))
    as_of = date(2026, 11, 2)
    lines = claim_lines(portfolio_leads(), PROGRAMS, TERMS, as_of, store.ledger(), ["2026-10"])
    assert store.record_claims(lines) == 5
    assert store.record_claims(lines) == 0
    assert store.ledger().height == 5


def test_rendering_failure_records_nothing_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_renderer(*args: object, **kwargs: object) -> str:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(claim_documents, "render_pdf", broken_renderer)
    store = HistoryStore(str(tmp_path / "history"))
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="renderer crashed"):
        file_once(store, out, date(2026, 11, 2), ["2026-10"])
    assert store.ledger().height == 0
    assert not out.exists() or list(out.iterdir()) == []


def test_failure_inside_the_pdf_writer_leaves_no_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scorecards.documents.render as render

    def crash_midway(html: str, **kwargs: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(render, "pdf_bytes", crash_midway)
    store = HistoryStore(str(tmp_path / "history"))
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        file_once(store, out, date(2026, 11, 2), ["2026-10"])
    assert store.ledger().height == 0
    assert not out.exists() or list(out.iterdir()) == []


def test_ledger_of_a_new_store_is_empty_with_the_ledger_schema(tmp_path: Path) -> None:
    ledger = HistoryStore(str(tmp_path / "nothing-yet")).ledger()
    assert ledger.height == 0
    assert dict(ledger.schema) == LEDGER_SCHEMA


# --- metrics --------------------------------------------------------------------------------


def metrics(month: str, delivered: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "grain": ["vendor"] * len(delivered),
            "vendor_id": [f"v{i}" for i in range(len(delivered))],
            "month": [month] * len(delivered),
            "delivered": delivered,
            "sql_rate": [0.1] * len(delivered),
        },
        schema_overrides={"delivered": pl.Int64},
    )


def test_replace_month_twice_leaves_one_set_of_rows_and_other_months_untouched(
    tmp_path: Path,
) -> None:
    store = HistoryStore(str(tmp_path / "history"))
    store.replace_month(metrics("2026-09", [7]), "2026-09")
    store.replace_month(metrics("2026-10", [10, 20]), "2026-10")
    store.replace_month(metrics("2026-10", [11, 21]), "2026-10")
    history = store.metrics()
    assert history.select("month", "vendor_id", "delivered").rows() == [
        ("2026-09", "v0", 7),
        ("2026-10", "v0", 11),
        ("2026-10", "v1", 21),
    ]
    assert store.metrics(["2026-10"]).height == 2


def test_replace_month_refuses_rows_of_another_month_and_a_malformed_month(
    tmp_path: Path,
) -> None:
    store = HistoryStore(str(tmp_path / "history"))
    with pytest.raises(ValueError, match="not for 2026-10"):
        store.replace_month(metrics("2026-09", [1]), "2026-10")
    with pytest.raises(ValueError, match="not a month"):
        store.replace_month(metrics("2026-10", [1]), "2026-10' OR '1'='1")
