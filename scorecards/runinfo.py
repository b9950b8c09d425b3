"""What a document needs to know about the run that wrote it: one value, shared by the steps
that make documents and by the documents themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    as_of: date
    month: str = ""
    # SPEC §2.3 "no silent zero": the figures the CRM left unknown, one sentence each
    crm_unknown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of,
            "month": self.month,
            "crm_unknown": self.crm_unknown,
        }
