"""The flows as deployed: schedules, the served on-demand review, and other task runners."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from flows.deployments import MONTHLY_CRON, SWEEP_CRON, deployments
from tests.conftest import SAMPLE_AS_OF, SAMPLE_MONTH


def folders(sample: Path, tmp: Path) -> dict[str, str]:
    return {
        "data": str(sample / "data"),
        "contracts": str(sample / "contracts"),
        "out": str(tmp / "out"),
        "history": str(tmp / "history"),
    }


def test_schedules_are_the_2nd_at_six_and_mondays_at_six_utc(tmp_path: Path) -> None:
    served = {d.name: d for d in deployments(**folders(tmp_path, tmp_path))}
    assert MONTHLY_CRON == "0 6 2 * *" and SWEEP_CRON == "0 6 * * 1"
    monthly = served["monthly"].schedules[0].schedule
    sweep = served["weekly-sweep"].schedules[0].schedule
    assert (monthly.cron, monthly.timezone) == ("0 6 2 * *", "UTC")  # type: ignore[union-attr]
    assert (sweep.cron, sweep.timezone) == ("0 6 * * 1", "UTC")  # type: ignore[union-attr]
    assert served["on-demand"].schedules == []
    assert served["monthly"].parameters["data"] == str(tmp_path / "data")


def test_sweep_interval_is_configurable(tmp_path: Path) -> None:
    served = {
        d.name: d for d in deployments(**folders(tmp_path, tmp_path), sweep_cron="0 6 * * 1,4")
    }
    assert served["weekly-sweep"].schedules[0].schedule.cron == "0 6 * * 1,4"  # type: ignore[union-attr]


@pytest.mark.usefixtures("prefect_server")
def test_served_review_deployment_runs_with_parameters(sample_inputs: Path, tmp_path: Path) -> None:
    from prefect import serve
    from prefect.deployments import run_deployment

    served = deployments(**folders(sample_inputs, tmp_path))
    thread = threading.Thread(
        target=serve, args=served, kwargs={"pause_on_shutdown": False}, daemon=True
    )
    thread.start()
    time.sleep(5)  # the runner registers its deployments
    run = run_deployment(
        "vendor-review/on-demand",
        parameters={
            "vendor": "bluepeak-demand",
            "from_month": "2026-05",
            "to_month": SAMPLE_MONTH,
            "as_of": SAMPLE_AS_OF,
        },
        timeout=240,
    )
    assert run.state is not None and run.state.is_completed(), run.state  # type: ignore[union-attr]
    pdfs = list((tmp_path / "out" / "reviews").glob("*.pdf"))
    assert [p.name for p in pdfs] == [f"bluepeak-demand-2026-05-{SAMPLE_MONTH}.pdf"]


@pytest.mark.usefixtures("prefect_server")
def test_dask_cluster_gives_identical_outputs(sample_inputs: Path, tmp_path: Path) -> None:
    pytest.importorskip("prefect_dask")
    from prefect_dask import DaskTaskRunner

    from flows.monthly import monthly_scorecards

    outputs = {}
    for name, runner in (
        ("threads", None),
        (
            "dask",
            DaskTaskRunner(
                cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True}
            ),
        ),
    ):
        flow = (
            monthly_scorecards
            if runner is None
            else monthly_scorecards.with_options(task_runner=runner)
        )
        base = tmp_path / name
        summary = flow(
            month=SAMPLE_MONTH,
            as_of=date.fromisoformat(SAMPLE_AS_OF),
            **folders(sample_inputs, base),
        )
        assert not summary["failed"], summary["failed"]
        out = base / "out" / SAMPLE_MONTH
        outputs[name] = {
            p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "run.json"
        }
    assert outputs["dask"] == outputs["threads"]
    assert any(k.startswith("scorecards/") for k in outputs["dask"])


@pytest.mark.usefixtures("prefect_server")
def test_a_failing_scorecard_stops_no_other_document(
    sample_inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.monthly import monthly_scorecards
    from scorecards import steps

    render = steps.render_scorecard

    def broken_for_one_vendor(staged: dict, vendor_id: str) -> Path:  # type: ignore[type-arg]
        if vendor_id == "summit-bant":
            raise RuntimeError("font cache unavailable")
        return render(staged, vendor_id)

    monkeypatch.setattr(steps, "render_scorecard", broken_for_one_vendor)
    summary = monthly_scorecards(
        month=SAMPLE_MONTH,
        as_of=date.fromisoformat(SAMPLE_AS_OF),
        **folders(sample_inputs, tmp_path),
    )
    assert summary["failed"] == {"scorecard summit-bant": "RuntimeError: font cache unavailable"}
    out = tmp_path / "out" / SAMPLE_MONTH
    written = sorted(p.stem for p in (out / "scorecards").glob("*.pdf"))
    assert "summit-bant" not in written and len(written) == len(summary["verdicts"]) - 1
    assert (out / "portfolio.pdf").is_file()


@pytest.mark.usefixtures("prefect_server")
def test_a_vendor_whose_claim_fails_files_nothing_and_the_others_are_filed(
    sample_inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claims render as one task per vendor: one vendor's failure leaves its lines unclaimed
    (the next run files them) and files every other vendor's claim, lines and documents."""
    from flows.monthly import monthly_scorecards
    from scorecards import steps
    from scorecards.history import HistoryStore

    write = steps.write_vendor_claims

    def broken_for_one_vendor(staged: dict, vendor_id: str) -> list:  # type: ignore[type-arg]
        if vendor_id == "tristate-data":
            raise RuntimeError("disk full")
        return write(staged, vendor_id)

    monkeypatch.setattr(steps, "write_vendor_claims", broken_for_one_vendor)
    summary = monthly_scorecards(
        month=SAMPLE_MONTH,
        as_of=date.fromisoformat(SAMPLE_AS_OF),
        **folders(sample_inputs, tmp_path),
    )
    assert summary["failed"] == {"claims tristate-data": "RuntimeError: disk full"}
    ledger = HistoryStore(str(tmp_path / "history")).ledger()
    claimed = set(ledger["vendor_id"])
    assert "tristate-data" not in claimed and len(claimed) >= 5
    claims = tmp_path / "out" / SAMPLE_MONTH / "claims"
    pdfs = sorted(p.name for p in claims.glob("*.pdf"))
    assert not [p for p in pdfs if p.startswith("TS-")]
    assert len(pdfs) == len(set(ledger["claim_id"])) + 1  # and the internal report
    assert summary["claim_lines"] == ledger.height
