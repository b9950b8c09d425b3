"""Shared fixtures. Prefect's temporary server starts once per session, and only for the tests
that ask for `prefect_server`; everything else tests plain functions."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MONTH = "2026-10"
SAMPLE_AS_OF = "2026-11-05"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def sample_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the bundled sample portfolio (contracts/ and data/)."""
    folder = tmp_path_factory.mktemp("sample")
    shutil.copytree(ROOT / "data", folder / "data")
    shutil.copytree(ROOT / "contracts", folder / "contracts")
    return folder


def pdf_text(path: Path) -> str:
    """Every page's text as one line (a sentence may wrap on the page)."""
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
