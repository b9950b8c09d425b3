"""History that outlives a run (SPEC §7): metrics by vendor-month and the claims ledger.

Both are Delta Lake tables under one root, a local folder by default or an object-store URI
(`s3://…`, `az://…`, `gs://…`) in production; every change is one Delta commit, so a crash
leaves the previous version readable. Re-running a month replaces that month's metrics; the
ledger only ever gains lines it does not hold yet (a MERGE on the line key), so filing the
same claim twice cannot record a line twice.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable

from scorecards.claims import LEDGER_SCHEMA, LINE_KEY, Claim, claims_by_vendor, ledger_rows
from scorecards.documents.claim import RunInfo, write_claim

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class HistoryStore:
    """The `metrics` and `claims_ledger` Delta tables under `uri`."""

    def __init__(self, uri: str | Path, storage_options: dict[str, str] | None = None) -> None:
        self.uri = str(uri).rstrip("/")
        self.storage_options = storage_options

    @property
    def metrics_uri(self) -> str:
        return f"{self.uri}/metrics"

    @property
    def ledger_uri(self) -> str:
        return f"{self.uri}/claims_ledger"

    def _exists(self, table_uri: str) -> bool:
        return DeltaTable.is_deltatable(table_uri, storage_options=self.storage_options)

    def _read(self, table_uri: str) -> pl.DataFrame:
        return pl.read_delta(table_uri, storage_options=self.storage_options)

    # metrics ------------------------------------------------------------------------------

    def replace_month(self, metrics: pl.DataFrame, month: str) -> None:
        """Make `month`'s rows exactly `metrics`, in one commit; other months are untouched."""
        if not _MONTH.fullmatch(month):
            raise ValueError(f"not a month (YYYY-MM): {month!r}")
        strays = metrics.filter(pl.col("month") != month).height
        if strays:
            raise ValueError(f"{strays} metrics rows are not for {month}")
        # `month` is validated above, so the predicate cannot carry anything but a month.
        predicate = f"month = '{month}'"
        if not self._exists(self.metrics_uri):
            metrics.write_delta(
                self.metrics_uri, mode="append", storage_options=self.storage_options
            )
        elif metrics.is_empty():
            DeltaTable(self.metrics_uri, storage_options=self.storage_options).delete(predicate)
        else:
            metrics.write_delta(
                self.metrics_uri,
                mode="overwrite",
                storage_options=self.storage_options,
                # a history kept before new metrics columns were added takes them on (null there)
                delta_write_options={"predicate": predicate, "schema_mode": "merge"},
            )

    def metrics(self, months: list[str] | None = None) -> pl.DataFrame:
        """The metrics history (all months, or only `months`), empty when nothing was stored."""
        if not self._exists(self.metrics_uri):
            return pl.DataFrame()
        frame = pl.scan_delta(self.metrics_uri, storage_options=self.storage_options)
        if months is not None:
            frame = frame.filter(pl.col("month").is_in(months))
        collected = frame.collect()
        order = [
            c
            for c in ("grain", "vendor_id", "program_id", "lead_type", "month")
            if c in collected.columns
        ]
        return collected.sort(order, nulls_last=False) if order else collected

    # claims ledger ------------------------------------------------------------------------

    def ledger(self) -> pl.DataFrame:
        """Every line ever claimed, in the ledger's schema (empty before the first claim)."""
        if not self._exists(self.ledger_uri):
            return pl.DataFrame(schema=LEDGER_SCHEMA)
        return (
            self._read(self.ledger_uri)
            .select([pl.col(name).cast(dtype) for name, dtype in LEDGER_SCHEMA.items()])
            .sort("vendor_id", "delivered_at", "vendor_lead_id")
        )

    def record_claims(self, lines: pl.DataFrame) -> int:
        """Record the lines claimed now; a line already in the ledger is left as it was.

        Returns how many lines the ledger gained.
        """
        rows = ledger_rows(lines)
        if rows.is_empty():
            return 0
        if not self._exists(self.ledger_uri):
            rows.write_delta(self.ledger_uri, mode="append", storage_options=self.storage_options)
            return rows.height
        predicate = " AND ".join(f"t.{key} = s.{key}" for key in LINE_KEY)
        merger: Any = rows.write_delta(
            self.ledger_uri,
            mode="merge",
            storage_options=self.storage_options,
            delta_merge_options={
                "predicate": predicate,
                "source_alias": "s",
                "target_alias": "t",
            },
        )
        result = merger.when_not_matched_insert_all().execute()
        return int(result.get("num_target_rows_inserted", 0))


def file_claims(lines: pl.DataFrame, folder: Path, run: RunInfo, store: HistoryStore) -> list[Path]:
    """Write each claim's PDF and CSV, and only then record its lines in the ledger.

    A claim whose documents failed to render is not recorded, so the next run files it again
    under the same id; documents are written atomically, so no half-written file is left.
    """
    written: list[Path] = []
    claims: list[Claim] = claims_by_vendor(lines)
    for claim in claims:
        pdf_path, csv_path = write_claim(claim, folder, run)
        written += [pdf_path, csv_path]
        store.record_claims(
            lines.filter(
                (pl.col("claim_id") == claim.claim_id) & (pl.col("disposition") == "claim")
            )
        )
    return written
