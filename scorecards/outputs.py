"""Writing a run's outputs so that a crash never leaves half a month behind (SPEC §7, §9).

Everything is written into a staging folder beside the final one; `publish` then swaps it in
with two renames. A kill at any point leaves either the previous results or the new ones, and
the next run clears whatever staging was left over.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from scorecards.readers import FileRead, sha256_of

PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "statistics": True,
}
VERSIONED = (
    "vendor-scorecards",
    "polars",
    "pandera",
    "pydantic",
    "prefect",
    "weasyprint",
    "deltalake",
)


@dataclass(frozen=True)
class Staging:
    """A month's outputs while they are being written."""

    final: Path
    folder: Path

    def path(self, relative: str) -> Path:
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


def staging_for(final: Path, run_id: str) -> Staging:
    """A fresh, empty staging folder for `final` (left-overs of killed runs are removed)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.name}.*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = final.parent / f".{final.name}.staging-{run_id}"
    folder.mkdir(parents=True)
    return Staging(final=final, folder=folder)


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Deterministic bytes for the same frame: fixed compression, and rows sorted by the caller."""
    frame.write_parquet(path, **PARQUET_OPTIONS)


def publish(staging: Staging) -> Path:
    """Swap the staged folder in place of the final one."""
    previous = staging.final.parent / f".{staging.final.name}.previous"
    if staging.final.exists():
        os.replace(staging.final, previous)
    os.replace(staging.folder, staging.final)
    shutil.rmtree(previous, ignore_errors=True)
    return staging.final


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def outputs_listing(folder: Path) -> list[dict[str, str]]:
    return [
        {"path": p.relative_to(folder).as_posix(), "sha256": sha256_of(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "run.json"
    ]


def run_record(
    *,
    run_id: str,
    month: str,
    as_of: date,
    files: list[FileRead],
    reconciliation: pl.DataFrame,
    folder: Path,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The contents of run.json: what was read, how every row was accounted for, what was written."""
    totals = reconciliation.select(pl.exclude("file", "kind", "balanced").sum()).to_dicts()[0]
    return {
        "run_id": run_id,
        "month": month,
        "as_of": as_of.isoformat(),
        "inputs": [
            {
                "path": f.path,
                "sha256": f.sha256,
                "rows": f.rows,
                **({"error": f.error} if f.error else {}),
            }
            for f in sorted(files, key=lambda f: f.path)
        ],
        "reconciliation": {
            "rule": "rows_read = quarantined + invalid + accepted + after_report_month + records_kept",
            "balanced": bool(reconciliation["balanced"].all()),
            "totals": totals,
            "files": reconciliation.to_dicts(),
        },
        "versions": versions(),
        **(extra or {}),
        "outputs": outputs_listing(folder),
    }


def write_run_json(record: dict[str, Any], path: Path) -> None:
    path.write_text(
        json.dumps(record, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
