"""Nothing lost (SPEC §9), at every instant: a run killed at each named point of publishing and
recording (SCORECARDS_TEST_CRASH_AT, `os._exit(137)` as a SIGKILL would), then re-run and swept,
leaves the previous month on disk, every ledger line once and no lead in two claims."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from scorecards import steps
from scorecards.claims import LINE_KEY
from scorecards.faults import ENV
from scorecards.history import FILED, HistoryStore
from tests.conftest import ROOT

MONTH = "2026-07"
FIRST_AS_OF = date(2026, 8, 3)
SECOND_AS_OF = date(2026, 8, 4)
HEADER = (
    "program_id,vendor_lead_id,delivered_at,email,company,job_title,country,employees,"
    "job_level,consent,q_timeline"
)

# the same steps as the monthly flow, without the scorecards (claims are what is at stake)
DRIVER = """
import sys
from datetime import date
from pathlib import Path

from scorecards import outputs, steps

mode, base, month, as_of, fallback = sys.argv[1:]
base = Path(base)
if fallback == "1":  # a filesystem without renameat2's exchange: rename aside
    outputs._exchange = lambda first, second: False
day = date.fromisoformat(as_of)
args = (base / "data", base / "contracts", base / "out", str(base / "history"))
if mode == "month":
    staged = steps.compute_and_stage(month, day, *args)
    claims = steps.write_month_claims(staged)
    steps.publish(staged, {"files": {}, "claims": claims})
else:
    steps.sweep_claims(day, *args)
"""


def write_deliveries(base: Path, leads: int) -> None:
    """`leads` July leads, every seventh from Brazil (outside the ICP: claimable)."""
    rows = [
        f"acme-cs-q3,L{i:02d},2026-07-{10 + i % 20:02d},p{i}@big.com,Big,CTO,"
        f"{'BR' if i % 7 == 3 else 'US'},500,vp,true,3m"
        for i in range(leads)
    ]
    folder = base / "data" / "deliveries" / "acme-syndication"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2026-07.csv").write_text("\n".join([HEADER, *rows]) + "\n")


@pytest.fixture
def base(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "tests" / "fixtures" / "contracts" / "spec-example", tmp_path / "contracts"
    )
    write_deliveries(tmp_path, 21)  # 3 from Brazil, cap floor(0.15 x 21) = 3
    return tmp_path


def run_month(base: Path, as_of: date) -> dict[str, object]:
    staged = steps.compute_and_stage(
        MONTH, as_of, base / "data", base / "contracts", base / "out", str(base / "history")
    )
    claims = steps.write_month_claims(staged)
    return steps.publish(staged, {"files": {}, "claims": claims})


def sweep(base: Path, as_of: date) -> dict[str, object]:
    return steps.sweep_claims(
        as_of, base / "data", base / "contracts", base / "out", str(base / "history")
    )


def killed(base: Path, mode: str, point: str, as_of: date, *, fallback: bool = False) -> None:
    env = {**os.environ, ENV: point, "PYTHONPATH": str(ROOT)}
    arguments = [mode, str(base), MONTH, as_of.isoformat(), "1" if fallback else "0"]
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *arguments],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 137, done.stderr[-2000:]


def hashes(folder: Path) -> dict[str, str]:
    """sha256 of every filed claim document; the internal report beside them (never sent) is
    each run's own account and is written again by every run."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob("*"))
        if p.is_file() and not p.name.startswith("internal-")
    }


def claimed_on_disk(base: Path) -> list[tuple[str, str]]:
    """(claim_id, lead) for every line of every claim CSV in the outputs, duplicates kept."""
    found = []
    for path in sorted((base / "out").glob("**/claims/*.csv")):
        if path.name.startswith("internal-"):
            continue
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            found.append((row["claim_id"], row["vendor_lead_id"]))
    return found


def assert_consistent(base: Path) -> pl.DataFrame:
    """Every ledger line once, every lead in one claim on disk, every ledger claim filed with
    its documents where the ledger says, byte for byte."""
    store = HistoryStore(str(base / "history"))
    ledger = store.ledger()
    assert ledger.height == ledger.select(LINE_KEY).unique().height
    on_disk = claimed_on_disk(base)
    leads = [lead for _, lead in on_disk]
    assert len(leads) == len(set(leads)), f"a lead in two claims: {on_disk}"
    assert sorted(on_disk) == sorted(ledger.select("claim_id", "vendor_lead_id").iter_rows())
    documents = store.claim_documents()
    assert set(documents["status"]) <= {FILED}
    assert set(documents["claim_id"]) == set(ledger["claim_id"])
    for row in documents.iter_rows(named=True):
        assert (Path(row["folder"]) / row["pdf_name"]).read_bytes() == row["pdf"]
        assert (Path(row["folder"]) / row["csv_name"]).read_bytes() == row["csv"]
    return ledger


def test_rerun_keeps_the_claims_folder_byte_identical_and_says_what_was_claimed(
    base: Path,
) -> None:
    first = run_month(base, FIRST_AS_OF)
    assert first["claim_lines"] == 3
    claims = base / "out" / MONTH / "claims"
    before = hashes(claims)
    assert len(before) == 2  # one claim: its PDF and CSV
    again = run_month(base, FIRST_AS_OF)
    assert hashes(claims) == before
    assert again["claim_lines"] == 0
    (claim_id,) = {name.rsplit(".", 1)[0] for name in before}
    assert again["already_claimed"] == (
        f"3 lines already claimed on {FIRST_AS_OF.isoformat()} in claim {claim_id}"
    )
    assert_consistent(base)


def test_reprint_writes_the_filed_claim_byte_for_byte(base: Path) -> None:
    run_month(base, FIRST_AS_OF)
    claims = base / "out" / MONTH / "claims"
    (claim_id,) = {p.stem for p in claims.glob("*.pdf") if not p.name.startswith("internal-")}
    paths = steps.reprint_claim(claim_id, str(base / "history"), base / "reprints-out")
    assert [p.parent for p in paths] == [base / "reprints-out" / "reprints"] * 2
    for path in paths:
        assert path.read_bytes() == (claims / path.name).read_bytes()


def test_reprint_of_an_unknown_claim_is_one_sentence(base: Path) -> None:
    from scorecards.errors import UserError

    run_month(base, FIRST_AS_OF)
    with pytest.raises(UserError, match=r"no filed claim 'NOPE-1' in the ledger at .*1 filed"):
        steps.reprint_claim("NOPE-1", str(base / "history"), base / "out")


@pytest.mark.parametrize(
    ("point", "fallback"),
    [
        ("before-publish", False),
        ("mid-publish", True),
        ("after-publish-before-ledger", False),
        ("after-ledger", False),
    ],
)
def test_month_killed_at_each_point_then_rerun_and_swept_loses_nothing(
    base: Path, point: str, fallback: bool
) -> None:
    run_month(base, FIRST_AS_OF)
    claims = base / "out" / MONTH / "claims"
    first_claim = hashes(claims)
    write_deliveries(base, 42)  # more leads arrived: 3 more claimable lines, cap now 6

    killed(base, "month", point, SECOND_AS_OF, fallback=fallback)
    month = base / "out" / MONTH
    previous = base / "out" / f".{MONTH}.previous"
    # a copy of the month is on disk at every instant: in place, or set aside mid-swap
    assert month.is_dir() or previous.is_dir()
    if point == "mid-publish":
        assert not month.exists() and hashes(previous / "claims") == first_claim
        # killed again before its own publish, the next run must not lose the only copy
        killed(base, "month", "before-publish", SECOND_AS_OF, fallback=True)
        assert hashes(month / "claims") == first_claim
        assert not previous.exists()

    rerun = run_month(base, SECOND_AS_OF)
    sweep(base, SECOND_AS_OF)
    ledger = assert_consistent(base)
    assert ledger.height == 6
    after = hashes(claims)
    # the claim filed first is untouched, byte for byte; the new lines are in one new claim
    assert {k: after[k] for k in first_claim} == first_claim
    assert len(after) == 4
    if point in ("after-publish-before-ledger", "after-ledger"):
        assert rerun["claim_lines"] == 0  # the killed run's claim was published: kept, filed
    else:
        assert rerun["claim_lines"] == 3  # never published: filed again by the re-run
    assert not list((base / "out").glob(f".{MONTH}.*"))


@pytest.mark.parametrize("point", ["before-publish", "mid-publish", "after-publish-before-ledger"])
def test_sweep_killed_at_each_point_then_swept_again_claims_each_lead_once(
    base: Path, point: str
) -> None:
    killed(base, "sweep", point, FIRST_AS_OF)
    summary = sweep(base, FIRST_AS_OF)
    ledger = assert_consistent(base)
    assert ledger.height == 3
    # filed again under the same id (same lines, same day), or settled as filed
    assert len(set(ledger["claim_id"])) == 1
    assert summary["claim_lines"] == (3 if point != "after-publish-before-ledger" else 0)


def test_rerun_whose_claims_step_failed_still_keeps_the_filed_claims(base: Path) -> None:
    run_month(base, FIRST_AS_OF)
    claims = base / "out" / MONTH / "claims"
    before = hashes(claims)
    staged = steps.compute_and_stage(
        MONTH, FIRST_AS_OF, base / "data", base / "contracts", base / "out", str(base / "history")
    )
    steps.publish(staged, {"files": {}, "failed": {"claims": "RuntimeError: boom"}})
    assert hashes(claims) == before
    assert_consistent(base)


def test_cli_reprint_writes_the_claim_and_an_unknown_id_is_one_sentence(base: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    run_month(base, FIRST_AS_OF)
    claims = base / "out" / MONTH / "claims"
    (claim_id,) = {p.stem for p in claims.glob("*.pdf") if not p.name.startswith("internal-")}
    where = ["--out", str(base / "out"), "--history", str(base / "history")]
    runner = CliRunner()
    done = runner.invoke(app, ["claims", "--reprint", claim_id, *where])
    assert done.exit_code == 0, done.output
    reprinted = base / "out" / "reprints"
    assert hashes(reprinted) == hashes(claims)
    unknown = runner.invoke(app, ["claims", "--reprint", "ACME-0000", *where])
    assert unknown.exit_code == 2
    text = " ".join(unknown.output.split())
    assert "no filed claim 'ACME-0000' in the ledger at" in text
    assert "Traceback" not in unknown.output
