"""The flows as deployed: schedules, the served on-demand review, and other task runners."""

from __future__ import annotations

import hashlib
import json
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
    """Each vendor's claims render as one document: one vendor's failure, here after its claim
    files were written, leaves its lines unclaimed (the next run files them), publishes none of
    its files, and files every other vendor's claim, lines and documents."""
    from flows.monthly import monthly_scorecards
    from scorecards import steps
    from scorecards.history import HistoryStore

    write = steps.write_vendor_claims

    def broken_for_one_vendor(staged: dict, vendor_id: str) -> list:  # type: ignore[type-arg]
        written = write(staged, vendor_id)
        if vendor_id == "tristate-data":
            assert written  # its PDF and CSV are in staging
            raise RuntimeError("disk full")
        return written

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
    assert not list(claims.glob("TS-*"))  # neither its PDF nor its CSV
    assert len(pdfs) == len(set(ledger["claim_id"])) + 1  # and the internal report
    assert summary["claim_lines"] == ledger.height


def test_tasks_sharing_a_batch_render_each_document_once_and_go_on_past_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The month's documents render as one task per worker, each taking the batch's next
    document: two tasks at once render every document once between them, and a document that
    fails is returned as its error while the task goes on (no Prefect server: the tasks'
    functions, on two threads)."""
    from flows.monthly import render_documents
    from scorecards import steps

    rendered: list[str] = []

    def render(staged: dict, kind: str, vendor_id: str) -> str:  # type: ignore[type-arg]
        time.sleep(0.01)  # long enough for the other task to take the next one
        if vendor_id == "v3":
            raise RuntimeError("font cache unavailable")
        rendered.append(vendor_id)
        return f"{kind} {vendor_id}"

    monkeypatch.setattr(steps, "render_document", render)
    documents = [(f"scorecard v{n}", "scorecard", f"v{n}") for n in range(20)]
    counts: list[int] = []

    def one_task() -> None:
        counts.append(render_documents.fn({}, documents, "scorecards", str(tmp_path)))

    tasks = [threading.Thread(target=one_task) for _ in range(2)]
    for t in tasks:
        t.start()
    for t in tasks:
        t.join()
    assert all(counts) and sum(counts) == 20  # both tasks rendered some, 20 between them
    assert sorted(rendered) == sorted(f"v{n}" for n in range(20) if n != 3)  # each once
    outcomes = {int(p.stem): json.loads(p.read_text()) for p in tmp_path.glob("*.done")}
    assert sorted(outcomes) == list(range(20))
    assert outcomes[3] == {"error": "RuntimeError: font cache unavailable"}
    assert outcomes[4] == {"result": "scorecard v4"}


@pytest.mark.usefixtures("prefect_server")
def test_a_task_lost_with_a_document_fails_that_document_and_no_other(
    sample_inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rendering task that dies as a whole (here: after taking the sixth scorecard) fails the
    document it held, with the task's error, and no other: the documents it had finished are
    recorded as they were done, and the other task renders the rest."""
    import flows.monthly
    from flows.monthly import monthly_scorecards

    take = flows.monthly.take

    def dies_holding_the_sixth(folder: Path, item: int) -> bool:
        taken = take(folder, item)
        if taken and folder.name == "scorecards" and item == 5:
            raise OSError("worker lost")
        return taken

    monkeypatch.setattr(flows.monthly, "take", dies_holding_the_sixth)
    summary = monthly_scorecards(
        month=SAMPLE_MONTH,
        as_of=date.fromisoformat(SAMPLE_AS_OF),
        **folders(sample_inputs, tmp_path),
    )
    sixth = summary["verdicts"][5]["vendor_id"]
    assert summary["failed"] == {f"scorecard {sixth}": "OSError: worker lost"}
    out = tmp_path / "out" / SAMPLE_MONTH
    written = sorted(p.stem for p in (out / "scorecards").glob("*.pdf"))
    assert len(written) == len(summary["verdicts"]) - 1 and sixth not in written
    assert (out / "portfolio.pdf").is_file() and not list(tmp_path.glob("out/.*.taken"))


@pytest.mark.usefixtures("prefect_server")
def test_the_render_benchmark_renders_the_flows_batches_and_counts_their_pdfs(
    sample_inputs: Path, tmp_path: Path
) -> None:
    """bench/render.py renders a copy of the month's documents in the flow's own batches and
    counts the PDFs they wrote (one copy, on threads)."""
    import importlib
    import os
    import sys

    from flows.common import task_runner
    from scorecards import steps

    before = dict(os.environ)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        bench_render = importlib.import_module("render")
    finally:
        sys.path.pop(0)
        for name in set(os.environ) - set(before):  # the benchmark's own Prefect settings
            del os.environ[name]
    staged = steps.compute_and_stage(
        SAMPLE_MONTH,
        date.fromisoformat(SAMPLE_AS_OF),
        sample_inputs / "data",
        sample_inputs / "contracts",
        tmp_path / "out",
        str(tmp_path / "history"),
    )
    claiming = steps.stage_claim_lines(staged)
    staged["copies"] = [staged["staging"]]
    render_all = bench_render.render_all.with_options(task_runner=task_runner("threads"))
    done = render_all(staged, claiming)
    staging = Path(staged["staging"])
    claims = sorted(p.name for p in (staging / "claims").glob("*.pdf"))
    assert len(claims) >= len(claiming["vendors"]) + 1 >= 2  # and the internal report
    assert done == len(staged["vendors"]) + 1 + len(claims) == len(list(staging.rglob("*.pdf")))
    assert not Path(f"{staging}.taken").exists()
