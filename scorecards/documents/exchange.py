"""Money in more than one currency (SPEC §4): never summed across currencies.

A portfolio whose contracts are in several currencies is shown one currency group at a time,
unless the user gives exchange rates in the portfolio settings file beside the contracts
(`contracts/portfolio.yaml`), which the page then states:

```yaml
exchange_rates:
  base: USD            # every amount is shown in this currency
  rates:               # 1 unit of the currency = this many units of the base
    EUR: 1.08
  note: ECB reference rate, 2026-10-30   # optional: printed beside the rates
```

Rates are exact decimals (at most 6 places); amounts are converted once, from integer cents,
rounding half up to the cent, never through a float. This module reads only the
`exchange_rates` key; the rest of the file belongs to other settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from scorecards.errors import UserError

SETTINGS_FILE = "portfolio.yaml"
RATE_PLACES = 6
_SCALE = 10**RATE_PLACES
_ISO = re.compile(r"[A-Z]{3}")
_KEYS = {"base", "rates", "note"}
_ISO_WORDS = "must be a three-letter ISO 4217 currency code in capitals"


@dataclass(frozen=True)
class ExchangeRates:
    """`rates[code]`: one unit of `code` in units of `base` (the base itself is 1)."""

    base: str
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    note: str | None = None
    source: str = SETTINGS_FILE

    def rate(self, currency: str) -> Decimal:
        return Decimal(1) if currency == self.base else self.rates[currency]

    def missing(self, currencies: Iterable[str]) -> list[str]:
        """Currencies of the portfolio that these rates cannot convert."""
        return sorted({c for c in currencies if c != self.base and c not in self.rates})

    def statements(self, currencies: Iterable[str]) -> list[str]:
        """What the page says: "1 EUR = 1.08 USD" for each converted currency."""
        return [
            f"1 {code} = {self.rates[code].normalize():f} {self.base}"
            for code in sorted(set(currencies))
            if code != self.base and code in self.rates
        ]

    def micro_rate_expr(self, currency: pl.Expr) -> pl.Expr:
        """Each row's rate in millionths (Int128), so conversion stays integer arithmetic."""
        mapping = {code: int(rate * _SCALE) for code, rate in self.rates.items()}
        mapping[self.base] = _SCALE
        return currency.replace_strict(mapping, default=None, return_dtype=pl.Int128)


def converted_cents(cents: pl.Expr, micro_rate: pl.Expr) -> pl.Expr:
    """cents × rate, rounded half up to the cent, in integers (no float touches the amount)."""
    product = cents.cast(pl.Int128) * micro_rate
    half = _SCALE // 2
    zero = pl.lit(0, pl.Int128)  # Int128 has no unary minus in polars
    rounded = pl.when(product >= 0).then((product + half) // _SCALE)
    return rounded.otherwise(zero - ((zero - product + half) // _SCALE)).cast(pl.Int64)


def _refuse(path: Path, message: str, field_name: str, line: int | None = None) -> UserError:
    return UserError(message, file=path, line=line, field=field_name)


def _lines(text: str) -> dict[str, int]:
    """The YAML line of each key under exchange_rates (for one-sentence errors)."""
    found: dict[str, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return found
    if not isinstance(root, yaml.MappingNode):
        return found
    for key, value in root.value:
        if key.value != "exchange_rates":
            continue
        found["exchange_rates"] = key.start_mark.line + 1
        if isinstance(value, yaml.MappingNode):
            for sub_key, sub_value in value.value:
                found[f"exchange_rates.{sub_key.value}"] = sub_key.start_mark.line + 1
                if isinstance(sub_value, yaml.MappingNode):
                    for code, _ in sub_value.value:
                        found[f"exchange_rates.{sub_key.value}.{code.value}"] = (
                            code.start_mark.line + 1
                        )
    return found


def _rate(path: Path, code: Any, value: Any, lines: dict[str, int]) -> tuple[str, Decimal]:
    where = f"exchange_rates.rates.{code}"
    if not isinstance(code, str) or not _ISO.fullmatch(code):
        raise _refuse(path, _ISO_WORDS, where, lines.get(where))
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _refuse(path, f"{value!r} is not a number", where, lines.get(where))
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise _refuse(path, f"{value!r} is not a number", where, lines.get(where)) from None
    if not rate.is_finite() or rate <= 0:
        raise _refuse(path, f"{value} must be a positive rate", where, lines.get(where))
    exponent = rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATE_PLACES:
        raise _refuse(
            path, f"{value} has more than {RATE_PLACES} decimal places", where, lines.get(where)
        )
    return code, rate


def load_exchange_rates(contracts_dir: Path) -> ExchangeRates | None:
    """The user's exchange rates from `<contracts_dir>/portfolio.yaml`, or None when the file or
    its `exchange_rates` key is absent. A malformed block is refused in one sentence."""
    path = contracts_dir / SETTINGS_FILE
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise _refuse(path, "is not valid YAML", "exchange_rates", line) from None
    if not isinstance(document, dict) or document.get("exchange_rates") is None:
        return None
    lines = _lines(text)

    def refuse(field_name: str, message: str) -> UserError:
        line = lines.get(field_name, lines.get("exchange_rates"))
        return _refuse(path, message, field_name, line)

    block = document["exchange_rates"]
    if not isinstance(block, dict):
        raise refuse("exchange_rates", "must be a mapping with 'base' and 'rates'")
    unknown = sorted(str(k) for k in block if k not in _KEYS)
    if unknown:
        raise refuse(f"exchange_rates.{unknown[0]}", "is not a known key (base, rates, note)")
    base = block.get("base")
    if not isinstance(base, str) or not _ISO.fullmatch(base):
        raise refuse("exchange_rates.base", f"{_ISO_WORDS}, like USD")
    raw_rates = block.get("rates") or {}
    if not isinstance(raw_rates, dict):
        raise refuse("exchange_rates.rates", "must map each currency code to its rate in the base")
    rates = dict(_rate(path, code, value, lines) for code, value in raw_rates.items())
    rates.pop(base, None)
    note = block.get("note")
    return ExchangeRates(
        base=base,
        rates=rates,
        note=str(note) if note is not None else None,
        source=str(path.name),
    )


def currency_warnings(contracts: Iterable[Any], contracts_dir: Path) -> list[str]:
    """`check`: one warning line for a portfolio in more than one currency (SPEC §4)."""
    currencies = sorted({c.currency for c in contracts})
    if len(currencies) < 2:
        return []
    rates = load_exchange_rates(contracts_dir)
    listed = ", ".join(currencies)
    if rates is None:
        return [
            f"the portfolio's contracts are in {len(currencies)} currencies ({listed}): the "
            f"portfolio shows one group per currency; give exchange_rates in "
            f"{contracts_dir / SETTINGS_FILE} to convert them into one"
        ]
    missing = rates.missing(currencies)
    if missing:
        return []  # refused as a problem by `exchange_problems`
    return [
        f"the portfolio's contracts are in {len(currencies)} currencies ({listed}): the "
        f"portfolio converts them to {rates.base} at {'; '.join(rates.statements(currencies))}"
    ]


def checked_exchange_rates(currencies: Iterable[str], contracts_dir: Path) -> ExchangeRates | None:
    """The rates to convert with, refusing in one sentence rates that miss a currency in use."""
    rates = load_exchange_rates(contracts_dir)
    if rates is None:
        return None
    missing = rates.missing(currencies)
    if missing:
        raise UserError(
            f"has no rate for {', '.join(missing)}, a currency of the portfolio's contracts",
            file=contracts_dir / SETTINGS_FILE,
            field="exchange_rates.rates",
        )
    return rates
