"""History and ledger on an S3-compatible store: a local S3 server (moto's server mode, started
here in its own process) holds them; store errors are one sentence, before anything is written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from scorecards.claims import LINE_KEY
from scorecards.history import HistoryStore
from tests.conftest import SAMPLE_AS_OF, SAMPLE_MONTH

BUCKET = "scorecards-history"
S3_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """A moto S3 server on a free local port with one bucket; the AWS_* environment points at it."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("the local S3 server did not start")
            time.sleep(0.2)
    saved = {k: os.environ.get(k) for k in (*S3_ENV, "AWS_ALLOW_HTTP")}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ALLOW_HTTP="true",
    )
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.terminate()
        server.wait(timeout=30)


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _inputs(sample: Path, out: Path, history: str) -> list[str]:
    return [
        "--data", str(sample / "data"), "--contracts", str(sample / "contracts"),
        "--out", str(out), "--history", history,
    ]  # fmt: skip


def _keys(endpoint: str, prefix: str) -> list[str]:
    listed = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


@pytest.mark.usefixtures("prefect_server")
def test_month_run_sweep_and_rerun_keep_every_ledger_line_once_on_s3(
    s3: str, sample_inputs: Path, tmp_path: Path
) -> None:
    history = f"s3://{BUCKET}/history"
    common = _inputs(sample_inputs, tmp_path / "out", history)
    month = ["run", "--month", SAMPLE_MONTH, "--as-of", SAMPLE_AS_OF, *common]

    first = _cli(*month)
    assert first.exit_code == 0, first.output
    store = HistoryStore(history)
    after_run = store.ledger()
    assert after_run.height > 0
    claimed = pl.read_parquet(tmp_path / "out" / SAMPLE_MONTH / "claim_lines.parquet").filter(
        pl.col("disposition") == "claim"
    )
    assert sorted(after_run["vendor_lead_id"]) == sorted(claimed["vendor_lead_id"])
    assert store.metrics([SAMPLE_MONTH]).height > 0
    assert any(k.startswith("history/claims_ledger/_delta_log/") for k in _keys(s3, "history/"))
    assert any(k.startswith("history/metrics/_delta_log/") for k in _keys(s3, "history/"))

    sweep = _cli("claims", "--as-of", "2026-11-09", *common)
    assert sweep.exit_code == 0, sweep.output
    after_sweep = store.ledger()
    assert after_sweep.height >= after_run.height

    again = _cli(*month)
    assert again.exit_code == 0, again.output
    ledger = HistoryStore(history).ledger()
    assert ledger.height == after_sweep.height
    assert ledger.select(LINE_KEY).unique().height == ledger.height
    assert not (tmp_path / "history").exists() and not Path("s3:").exists()


def _refused(sample: Path, tmp_path: Path, history: str) -> Any:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--month", SAMPLE_MONTH,
         "--as-of", SAMPLE_AS_OF, *_inputs(sample, out, history)],
        capture_output=True, text=True, timeout=300, env=os.environ.copy(),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert history in result.stderr
    assert not out.exists(), "nothing may be written when the store cannot be reached"
    return result


def test_an_endpoint_that_does_not_answer_is_one_sentence(
    s3: str, sample_inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")
    started = time.monotonic()
    result = _refused(sample_inputs, tmp_path, f"s3://{BUCKET}/history")
    assert "does not answer" in result.stderr
    assert time.monotonic() - started < 120


def test_missing_credentials_are_one_sentence(
    s3: str, sample_inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = _refused(sample_inputs, tmp_path, f"s3://{BUCKET}/history")
    assert "no credentials" in result.stderr


def test_a_missing_bucket_is_one_sentence(s3: str, sample_inputs: Path, tmp_path: Path) -> None:
    result = _refused(sample_inputs, tmp_path, "s3://no-such-bucket/history")
    assert "bucket 'no-such-bucket' does not exist" in result.stderr
