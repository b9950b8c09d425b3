"""The claim lifecycle (SPEC §6): vendors' answers move ledger lines between states, a bad
response file records nothing, unanswered lines become overdue, old ledgers still read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from scorecards.claims import LEDGER_SCHEMA, claim_lines
from scorecards.errors import UserError
from scorecards.history import HistoryStore
from scorecards.lifecycle import claims_summary, overdue_updates, read_responses
from scorecards.runinfo import RunInfo as Run
from scorecards.steps import file_claims
from tests.test_history import PROGRAMS, TERMS, portfolio_leads

AS_OF = date(2026, 11, 2)


@pytest.fixture()
def filed(tmp_path: Path) -> tuple[HistoryStore, Path]:
    """October's six invalid leads, cap 5: five filed in one claim on 2026-11-02."""
    store = HistoryStore(tmp_path / "history")
    known = portfolio_leads().filter(pl.col("delivery_date") <= AS_OF)
    lines = claim_lines(known, PROGRAMS, TERMS, AS_OF, store.ledger(), ["2026-10"])
    file_claims(lines, tmp_path / "claims", Run("run-1", AS_OF), store)
    (csv_path,) = sorted((tmp_path / "claims").glob("*.csv"))
    return store, csv_path


def answered(csv_path: Path, folder: Path, decisions: list[tuple[str, str]]) -> Path:
    """The vendor's copy of the claim CSV with `decision` and `vendor_reason` added."""
    claim = pl.read_csv(csv_path, infer_schema=False)
    answer = claim.head(len(decisions)).with_columns(
        decision=pl.Series([d for d, _ in decisions]),
        vendor_reason=pl.Series([r for _, r in decisions]),
    )
    path = folder / f"answer-{len(list(folder.glob('answer-*')))}.csv"
    answer.write_csv(path)
    return path


def test_new_lines_are_filed_with_a_due_date(filed: tuple[HistoryStore, Path]) -> None:
    store, _ = filed
    ledger = store.ledger()
    assert ledger.height == 5
    assert set(ledger["state"]) == {"filed"}
    assert set(ledger["response_due"]) == {date(2026, 11, 12)}  # default 10 days


def test_half_accepted_half_disputed_moves_the_states_and_the_credit(
    filed: tuple[HistoryStore, Path], tmp_path: Path
) -> None:
    store, csv_path = filed
    decisions = [("accepted", ""), ("accepted", ""), ("disputed", "was a valid lead")]
    decisions += [("disputed", "ICP met at delivery"), ("accepted", "")]
    response = answered(csv_path, tmp_path, decisions)
    store.update_states(read_responses([response], store.ledger(), date(2026, 11, 6)))
    ledger = store.ledger().sort("delivered_at")
    assert ledger["state"].to_list() == ["accepted", "accepted", "disputed", "disputed", "accepted"]
    assert ledger["vendor_reason"].to_list()[2:4] == ["was a valid lead", "ICP met at delivery"]
    assert set(ledger["state_on"]) == {date(2026, 11, 6)}
    summary = claims_summary(ledger).row(0, named=True)
    assert summary["filed_lines"] == 5 and summary["filed_cents"] == 5 * 8500
    assert summary["accepted_lines"] == 3 and summary["credited_cents"] == 3 * 8500
    assert summary["disputed_lines"] == 2 and summary["overdue_lines"] == 0
    # the same file again: every line is answered already, refused in one sentence
    with pytest.raises(UserError) as caught:
        read_responses([response], store.ledger(), date(2026, 11, 7))
    assert "already answered: it is accepted since 2026-11-06" in caught.value.sentence
    assert f"{response}, line 2" in caught.value.sentence


@pytest.mark.parametrize(
    ("edit", "words", "field"),
    [
        ({"decision": "maybe"}, "'maybe' is not a decision", "decision"),
        ({"vendor_lead_id": "NOPE-1"}, "lead 'NOPE-1' was never claimed", "vendor_lead_id"),
        ({"vendor_lead_id": "OCT5"}, "lead 'OCT5' was never claimed", "vendor_lead_id"),
        ({"claim_id": "X-1"}, "unknown claim id 'X-1'", "claim_id"),
        (
            {"decision": "disputed", "vendor_reason": ""},
            "disputed without a reason",
            "vendor_reason",
        ),
    ],
)
def test_a_bad_line_refuses_the_whole_file_in_one_sentence(
    filed: tuple[HistoryStore, Path], tmp_path: Path, edit: dict[str, str], words: str, field: str
) -> None:
    store, csv_path = filed
    claim = pl.read_csv(csv_path, infer_schema=False).with_columns(
        decision=pl.lit("accepted"), vendor_reason=pl.lit("")
    )
    bad = claim.with_columns(
        [
            pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(v)).otherwise(pl.col(k)).alias(k)
            for k, v in edit.items()
        ]
    )
    path = tmp_path / "bad.csv"
    bad.write_csv(path)
    with pytest.raises(UserError) as caught:
        read_responses([path], store.ledger(), date(2026, 11, 6))
    assert words in caught.value.message
    assert caught.value.line == 4 and caught.value.field == field
    # through the command: exit 2, one sentence, nothing recorded
    result = CliRunner().invoke(app, ["responses", str(path), "--history", store.uri])
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output
    assert set(store.ledger()["state"]) == {"filed"}


def test_a_line_answered_twice_in_one_file_is_refused(
    filed: tuple[HistoryStore, Path], tmp_path: Path
) -> None:
    store, csv_path = filed
    claim = pl.read_csv(csv_path, infer_schema=False).head(1)
    twice = pl.concat([claim, claim]).with_columns(
        decision=pl.lit("accepted"), vendor_reason=pl.lit("")
    )
    path = tmp_path / "twice.csv"
    twice.write_csv(path)
    with pytest.raises(UserError, match=r"answered a second time \(first at twice.csv, line 2\)"):
        read_responses([path], store.ledger(), date(2026, 11, 6))


def test_a_return_disposition_file_is_read_too(
    filed: tuple[HistoryStore, Path], tmp_path: Path
) -> None:
    store, _ = filed
    path = tmp_path / "dispositions.csv"
    path.write_text(
        "LeadID,DispositionCode,CustomReason\nOCT0,Approved,\nOCT1,Rejected,lead was in ICP\n"
    )
    updates = read_responses([path], store.ledger(), date(2026, 11, 6))
    assert dict(zip(updates["vendor_lead_id"], updates["state"], strict=True)) == {
        "OCT0": "accepted",
        "OCT1": "disputed",
    }
    result = CliRunner().invoke(app, ["responses", str(path), "--history", store.uri])
    assert result.exit_code == 0, result.output
    assert "2 claim lines answered (1 accepted, 1 disputed)" in result.output
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("LeadID,DispositionCode,CustomReason\nZZZ9,Approved,\n")
    with pytest.raises(UserError, match="line 2, field 'LeadID': unknown lead id 'ZZZ9'"):
        read_responses([unknown], store.ledger(), date(2026, 11, 6))


def test_unanswered_lines_become_overdue_after_their_due_date(
    filed: tuple[HistoryStore, Path], tmp_path: Path
) -> None:
    store, csv_path = filed
    store.update_states(
        read_responses([answered(csv_path, tmp_path, [("accepted", "")])], store.ledger(), AS_OF)
    )
    assert overdue_updates(store.ledger(), date(2026, 11, 12)).is_empty()  # due that day
    store.update_states(overdue_updates(store.ledger(), date(2026, 11, 13)))
    states = store.ledger().sort("delivered_at")["state"].to_list()
    assert states == ["accepted", "overdue", "overdue", "overdue", "overdue"]
    assert claims_summary(store.ledger()).row(0, named=True)["overdue_lines"] == 4


def test_a_ledger_kept_before_the_lifecycle_still_reads_and_takes_answers(
    filed: tuple[HistoryStore, Path], tmp_path: Path
) -> None:
    store, csv_path = filed
    old = store.ledger().drop("state", "state_on", "response_due", "vendor_reason")
    legacy = HistoryStore(tmp_path / "legacy")
    old.write_delta(legacy.ledger_uri)
    ledger = legacy.ledger()
    assert dict(ledger.schema) == LEDGER_SCHEMA
    assert set(ledger["state"]) == {"filed"}
    response = answered(csv_path, tmp_path, [("accepted", "")])
    assert legacy.update_states(read_responses([response], ledger, AS_OF)) == 1
    assert sorted(legacy.ledger()["state"].to_list()) == ["accepted"] + ["filed"] * 4
