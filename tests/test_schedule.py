"""The schedules fire: a real `prefect server start`, `scorecards serve` against it, the
scheduler's runs read back from the API, one run of the monthly deployment to Completed with
its table artifact, and SIGTERM (what systemd sends) ending `serve` cleanly.

Everything runs as an operator would start it — two subprocesses — with its own PREFECT_HOME
and a copy of the sample. Bounded: every wait has a deadline (about 2–4 minutes in all on a
busy 2-core machine, most of it the server's start and the monthly run itself).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from flows import cli
from tests.conftest import ROOT, SAMPLE_AS_OF, SAMPLE_MONTH

BIN = Path(sys.executable).parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T | None], seconds: float, every: float = 1) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"{what}: not seen within {seconds:.0f} s")


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.pop("VIRTUAL_ENV", None)
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # the scheduler looks for deployments to schedule every 2 s instead of every 60 s
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_UI_ENABLED": "false",
    }
    return env | extra


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """A `prefect server start` of our own: (API URL, PREFECT_HOME, its log)."""
    home = tmp_path_factory.mktemp("prefect-home")
    log = home / "server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=isolated_env(home),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def healthy() -> bool:
            assert server.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                return httpx.get(f"{url}/health", timeout=3).is_success
            except httpx.HTTPError:
                return False

        wait_for("the Prefect server answering /health", healthy, seconds=150)
        yield url, home, log
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def scheduled_runs(client: Any, deployment_id: Any) -> list[Any]:
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    runs: list[Any] = client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
        ),
    )
    return [r for r in runs if r.auto_scheduled]


def test_served_schedules_fire_and_a_monthly_run_completes(
    prefect_api: tuple[str, Path, Path], tmp_path: Path
) -> None:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    url, home, server_log = prefect_api
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    serve_log = tmp_path / "serve.log"
    with serve_log.open("wb") as sink:
        serve = subprocess.Popen(
            [str(BIN / "scorecards"), "serve", "--out", "out", "--history", "history"],
            cwd=tmp_path,
            env=isolated_env(home, PREFECT_API_URL=url),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        with SyncPrefectClient(url) as client:
            monthly = wait_for(
                "deployment monthly-scorecards/monthly",
                lambda: _deployment(client, "monthly-scorecards/monthly"),
                seconds=120,
            )
            sweep = wait_for(
                "deployment claims-sweep/weekly-sweep",
                lambda: _deployment(client, "claims-sweep/weekly-sweep"),
                seconds=30,
            )
            # the scheduler, not `serve`, creates these: with SQLAlchemy 2.1 it never did
            monthly_runs = wait_for(
                "scheduled runs of monthly-scorecards/monthly",
                lambda: scheduled_runs(client, monthly.id),
                seconds=60,
            )
            sweep_runs = wait_for(
                "scheduled runs of claims-sweep/weekly-sweep",
                lambda: scheduled_runs(client, sweep.id),
                seconds=30,
            )
            now = datetime.now(UTC)
            for run in monthly_runs:  # 06:00 UTC on the 2nd
                start = run.expected_start_time.astimezone(UTC)
                assert (start.day, start.hour, start.minute) == (2, 6, 0) and start > now, start
            for run in sweep_runs:  # Mondays 06:00 UTC
                start = run.expected_start_time.astimezone(UTC)
                assert (start.weekday(), start.hour, start.minute) == (0, 6, 0), start
                assert start > now, start

            # one run of the monthly deployment, as the UI's "Run" button makes it
            triggered = client.create_flow_run_from_deployment(
                monthly.id, parameters={"month": SAMPLE_MONTH, "as_of": SAMPLE_AS_OF}
            )

            def finished() -> Any:
                run = client.read_flow_run(triggered.id)
                return run if run.state is not None and run.state.is_final() else None

            done = wait_for("the triggered monthly run finishing", finished, 420, every=3)
            assert done.state.is_completed(), (done.state, serve_log.read_text()[-3000:])
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[triggered.id])
                )
            )
            tables = [a for a in artifacts if a.type == "table"]
            assert [a.key for a in tables] == [f"scorecards-{SAMPLE_MONTH}"]
            table = tables[0].data
            table = table if isinstance(table, str) else json.dumps(table)
            assert "bluepeak-demand" in table and "verdict" in table, table
        out = tmp_path / "out" / SAMPLE_MONTH
        assert (out / "portfolio.pdf").is_file() and len(list(out.glob("scorecards/*.pdf"))) > 10
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            code = serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            raise
    output = serve_log.read_text(errors="replace")
    assert code == 0, output
    assert "SIGTERM received: stopping" in output
    # quiet: nothing a person cannot act on
    for noise in ("Traceback", "never awaited", "HarfBuzz", "fontTools", "VIRTUAL_ENV"):
        assert noise not in output, (noise, output[-3000:])
    server_output = server_log.read_text(errors="replace")
    assert "bulk DML" not in server_output and "InvalidRequestError" not in server_output


def _deployment(client: Any, name: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(name)
    except ObjectNotFound:
        return None


def test_serve_says_so_when_no_server_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    monkeypatch.setattr(cli, "SERVER_WAIT_SECONDS", 0)
    result = CliRunner().invoke(
        cli.app, ["serve", "--data", str(ROOT / "data"), "--contracts", str(ROOT / "contracts")]
    )
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "no Prefect server answers at PREFECT_API_URL=http://127.0.0.1:" in said
    assert "Traceback" not in said


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF],
        ["claims", "--as-of", SAMPLE_AS_OF],
        ["review", "bluepeak-demand", "--from", "2026-05", "--to", SAMPLE_MONTH],
    ],
)
def test_a_configured_server_that_does_not_answer_is_one_sentence(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    folders = ["--data", str(ROOT / "data"), "--contracts", str(ROOT / "contracts")]
    out = ["--out", str(tmp_path / "out"), "--history", str(tmp_path / "history")]
    result = CliRunner().invoke(cli.app, [*command, *folders, *out])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "no Prefect server answers at PREFECT_API_URL=http://127.0.0.1:" in said
    assert "Traceback" not in said and not (tmp_path / "out").exists()
