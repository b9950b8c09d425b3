"""The one exception a user sees: a sentence naming the file, line and field."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in the user's inputs or arguments, reported as one sentence, never a traceback."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(self.sentence)

    @property
    def sentence(self) -> str:
        where = []
        if self.file:
            where.append(self.file if self.line is None else f"{self.file}, line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ": ".join([", ".join(where)]) if where else ""
        return f"{prefix}: {self.message}" if prefix else self.message


class ContractError(UserError):
    """A contract that did not validate; nothing runs on it."""
