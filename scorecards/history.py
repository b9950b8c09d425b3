"""History that outlives a run (SPEC §7): metrics by vendor-month and the claims ledger.

Both are Delta Lake tables under one root, a local folder by default or an object-store URI
(`s3://…`, `az://…`, `gs://…`) in production; every change is one Delta commit, so a crash
leaves the previous version readable. Re-running a month replaces that month's metrics; the
ledger only ever gains lines it does not hold yet (a MERGE on the line key), so filing the
same claim twice cannot record a line twice.

A third table, `claim_documents`, keeps every filed claim's PDF and CSV bytes (SPEC §6: a claim,
once filed, can be printed again byte for byte). A claim is recorded `pending` (its documents
and its ledger lines) before its documents are published, and marked `filed` after; the next
start settles any pending claim a killed run left (`scorecards.steps.settle_pending_claims`).
The store only stores: rendering and publishing happen at the edge, in `scorecards.steps`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable

from scorecards.claims import LEDGER_SCHEMA, LINE_KEY, ledger_rows
from scorecards.lifecycle import with_lifecycle

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

# One row per filed claim: where its documents were published and their exact bytes.
DOCUMENTS_SCHEMA: dict[str, Any] = {
    "claim_id": pl.String,
    "vendor_id": pl.String,
    "contract_id": pl.String,
    "place": pl.String,  # "run" (out/<month>/claims) or "sweep" (out/claims)
    "month": pl.String,  # the report month of a "run" claim, null for a sweep
    "folder": pl.String,  # the folder the documents were published in
    "filed_on": pl.Date,
    "run_id": pl.String,
    "status": pl.String,  # "pending" until its documents are published, then "filed"
    "pdf_name": pl.String,
    "csv_name": pl.String,
    "pdf_sha256": pl.String,
    "csv_sha256": pl.String,
    "pdf": pl.Binary,
    "csv": pl.Binary,
}
PENDING, FILED = "pending", "filed"


def _sql_list(values: list[str]) -> str:
    """`'a', 'b'` for an IN (...) predicate; a quote inside an id is doubled, as SQL wants."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


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

    @property
    def documents_uri(self) -> str:
        return f"{self.uri}/claim_documents"

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
            for c in ("grain", "vendor_id", "program_id", "lead_type", "currency", "month")
            if c in collected.columns
        ]
        return collected.sort(order, nulls_last=False) if order else collected

    # claims ledger ------------------------------------------------------------------------

    def ledger(self) -> pl.DataFrame:
        """Every line ever claimed, in the ledger's schema (empty before the first claim)."""
        if not self._exists(self.ledger_uri):
            return pl.DataFrame(schema=LEDGER_SCHEMA)
        return (
            with_lifecycle(self._read(self.ledger_uri))  # a ledger kept before states: filed
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
                "merge_schema": True,  # a ledger kept before the lifecycle columns takes them on
            },
        )
        result = merger.when_not_matched_insert_all().execute()
        return int(result.get("num_target_rows_inserted", 0))

    # claim documents ----------------------------------------------------------------------

    def claim_documents(self, status: str | None = None) -> pl.DataFrame:
        """Every recorded claim with its documents' bytes (only `status` ones, when given)."""
        if not self._exists(self.documents_uri):
            return pl.DataFrame(schema=DOCUMENTS_SCHEMA)
        frame = pl.scan_delta(self.documents_uri, storage_options=self.storage_options)
        if status is not None:
            frame = frame.filter(pl.col("status") == status)
        collected = frame.collect()
        return collected.select(
            [pl.col(name).cast(dtype) for name, dtype in DOCUMENTS_SCHEMA.items()]
        ).sort("claim_id")

    def record_pending(self, documents: pl.DataFrame, lines: pl.DataFrame) -> int:
        """Step one of filing: the claims' documents as `pending`, then their ledger lines.

        Both are recorded before the documents are published, so a kill at any later instant
        leaves a pending claim the next start can settle. Returns the lines the ledger gained.
        """
        if documents.is_empty():
            return 0
        rows = documents.with_columns(pl.lit(PENDING).alias("status")).select(
            [pl.col(name).cast(dtype) for name, dtype in DOCUMENTS_SCHEMA.items()]
        )
        if not self._exists(self.documents_uri):
            rows.write_delta(
                self.documents_uri,
                mode="append",
                storage_options=self.storage_options,
                delta_write_options={"schema_mode": "merge"},
            )
        else:
            merger: Any = rows.write_delta(
                self.documents_uri,
                mode="merge",
                storage_options=self.storage_options,
                delta_merge_options={
                    "predicate": "t.claim_id = s.claim_id",
                    "source_alias": "s",
                    "target_alias": "t",
                    # a store kept before new columns were added takes them on (null there)
                    "merge_schema": True,
                },
            )
            merger.when_not_matched_insert_all().execute()
        return self.record_claims(lines)

    def mark_filed(self, claim_ids: list[str]) -> None:
        """Step two of filing, once the documents are published: pending becomes filed."""
        if claim_ids and self._exists(self.documents_uri):
            DeltaTable(self.documents_uri, storage_options=self.storage_options).update(
                updates={"status": f"'{FILED}'"},
                predicate=f"claim_id IN ({_sql_list(sorted(claim_ids))})",
            )

    def drop_claims(self, claim_ids: list[str]) -> None:
        """Forget claims whose documents never reached their folder: their ledger lines go
        first, then their documents row, so the lines are claimable again (same ids)."""
        if not claim_ids:
            return
        predicate = f"claim_id IN ({_sql_list(sorted(claim_ids))})"
        for uri in (self.ledger_uri, self.documents_uri):
            if self._exists(uri):
                DeltaTable(uri, storage_options=self.storage_options).delete(predicate)

    # claim lifecycle ----------------------------------------------------------------------

    def update_states(self, updates: pl.DataFrame) -> int:
        """Apply lifecycle updates (LINE_KEY + state, state_on, vendor_reason) in one commit;
        a ledger kept before the lifecycle columns is first given them (schema_mode merge)."""
        if updates.is_empty() or not self._exists(self.ledger_uri):
            return 0
        table = DeltaTable(self.ledger_uri, storage_options=self.storage_options)
        if "state" not in table.schema().to_arrow().names:
            self.ledger().write_delta(
                self.ledger_uri,
                mode="overwrite",
                storage_options=self.storage_options,
                delta_write_options={"schema_mode": "merge"},
            )
        predicate = " AND ".join(f"t.{key} = s.{key}" for key in LINE_KEY)
        merger: Any = updates.write_delta(
            self.ledger_uri,
            mode="merge",
            storage_options=self.storage_options,
            delta_merge_options={"predicate": predicate, "source_alias": "s", "target_alias": "t"},
        )
        result = merger.when_matched_update(
            updates={name: f"s.{name}" for name in ("state", "state_on", "vendor_reason")}
        ).execute()
        return int(result.get("num_target_rows_updated", 0))
