"""The same CRM outcomes given in canonical, HubSpot or Salesforce form give byte-identical
metrics (issue: real CRM exports)."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from scorecards import steps
from scorecards.crm import read_crm, to_hubspot_export, to_salesforce_export
from tests.conftest import ROOT, SAMPLE_AS_OF, SAMPLE_MONTH


@pytest.mark.parametrize("form", ["canonical", "hubspot", "salesforce"])
def test_every_crm_form_gives_identical_metrics(form: str, tmp_path: Path) -> None:
    outcomes = read_crm(ROOT / "data" / "crm").crm.drop("source_file", "source_line", strict=False)
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "deliveries", data / "deliveries")
    shutil.copytree(ROOT / "data" / "suppression", data / "suppression")
    (data / "crm").mkdir()
    exported = {
        "canonical": lambda frame: frame,
        "hubspot": to_hubspot_export,
        "salesforce": to_salesforce_export,
    }[form](outcomes)
    exported.write_csv(data / "crm" / f"{form}.csv")

    def metrics_hash(folder: Path, out: Path) -> str:
        staged = steps.compute_and_stage(
            SAMPLE_MONTH,
            date.fromisoformat(SAMPLE_AS_OF),
            folder,
            ROOT / "contracts",
            out,
            str(out / "h"),
        )
        return hashlib.sha256(
            (Path(staged["staging"]) / "metrics.parquet").read_bytes()
        ).hexdigest()

    assert metrics_hash(data, tmp_path / "out") == metrics_hash(ROOT / "data", tmp_path / "ref")
