"""The same CRM outcomes given in every real export form give byte-identical metrics (SPEC §2.3,
issue 9): canonical, HubSpot label exports (current "Date entered" and older "Became a … Date"
labels), HubSpot internal names from current (hs_v2_*) and older (hs_lifecyclestage_*) portals,
and a Salesforce Lead report CSV with its footer. One canonical frame (the sample portfolio's
outcomes) is written in each form; the forms' header sources are in fixtures/crm/SOURCES.md."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from scorecards import steps
from scorecards.crm import MAPPING_FILE, read_crm, salesforce_csv, to_hubspot_export
from tests.conftest import ROOT, SAMPLE_AS_OF, SAMPLE_MONTH

Writer = Callable[[pl.DataFrame, Path], None]


def _csv(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path)


def _text(text: str, path: Path) -> None:
    path.write_text(text)


FORMS: dict[str, Writer] = {
    "canonical": lambda crm, path: _csv(crm, path),
    "hubspot-labels": lambda crm, path: _csv(to_hubspot_export(crm, "labels"), path),
    "hubspot-labels-older": lambda crm, path: _csv(to_hubspot_export(crm, "labels-older"), path),
    "hubspot-internal-current": lambda crm, path: _csv(
        to_hubspot_export(crm, "internal-current"), path
    ),
    "hubspot-internal-older": lambda crm, path: _csv(to_hubspot_export(crm), path),
    "salesforce-with-footer": lambda crm, path: _text(salesforce_csv(crm), path),
}


def staged_files(data: Path, contracts: Path, out: Path) -> dict[str, Any]:
    staged = steps.compute_and_stage(
        SAMPLE_MONTH, date.fromisoformat(SAMPLE_AS_OF), data, contracts, out, str(out / "h")
    )
    folder = Path(staged["staging"])
    return {
        "metrics": (folder / "metrics.parquet").read_bytes(),
        "leads": (folder / "leads.parquet").read_bytes(),
        "crm": staged["crm"],
    }


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture(scope="module")
def outcomes() -> pl.DataFrame:
    return read_crm(ROOT / "data" / "crm").crm


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return staged_files(ROOT / "data", ROOT / "contracts", tmp_path_factory.mktemp("ref"))


def data_with_crm(tmp_path: Path, write: Writer, crm: pl.DataFrame, name: str) -> Path:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "deliveries", data / "deliveries")
    shutil.copytree(ROOT / "data" / "suppression", data / "suppression")
    (data / "crm").mkdir()
    write(crm, data / "crm" / name)
    return data


@pytest.mark.parametrize("form", list(FORMS))
def test_every_crm_form_gives_identical_metrics(
    form: str, outcomes: pl.DataFrame, reference: dict[str, Any], tmp_path: Path
) -> None:
    data = data_with_crm(tmp_path, FORMS[form], outcomes, f"{form}.csv")
    staged = staged_files(data, ROOT / "contracts", tmp_path / "out")
    assert digest(staged["metrics"]) == digest(reference["metrics"])
    crm = staged["crm"]
    assert crm["unknown_columns"] == [] and crm["unmapped_values"] == []


def test_an_org_specific_status_with_a_mapping_line_gives_the_canonical_metrics(
    outcomes: pl.DataFrame, reference: dict[str, Any], tmp_path: Path
) -> None:
    def org_report(crm: pl.DataFrame, path: Path) -> None:
        text = salesforce_csv(crm)
        path.write_text(text.replace(",Unresponsive,", ",Attempted - No Response,"))

    data = data_with_crm(tmp_path, org_report, outcomes, "org-report.csv")
    contracts = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", contracts)

    # without the line: the rows keep their attempts and dates (same metrics), their status is
    # unknown, and the value is reported with its row count
    unmapped = staged_files(data, contracts, tmp_path / "out-a")
    assert digest(unmapped["metrics"]) == digest(reference["metrics"])
    (value,) = unmapped["crm"]["unmapped_values"]
    unresponsive = outcomes.filter(pl.col("status") == "unresponsive").height
    assert (value["value"], value["rows"]) == ("Attempted - No Response", unresponsive)
    statuses = _leads(unmapped)
    assert "unresponsive" not in statuses["crm_status"].to_list()

    (contracts / MAPPING_FILE).write_text(
        "salesforce:\n  lead_statuses:\n    Attempted - No Response: unresponsive\n"
    )
    mapped = staged_files(data, contracts, tmp_path / "out-b")
    assert digest(mapped["metrics"]) == digest(reference["metrics"])
    assert mapped["crm"]["unmapped_values"] == []
    reference_statuses = _leads(reference)["crm_status"].value_counts().sort("crm_status")
    assert _leads(mapped)["crm_status"].value_counts().sort("crm_status").equals(reference_statuses)


def _leads(staged: dict[str, Any]) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(staged["leads"]))
