"""SPEC §4: money is never summed across currencies. A portfolio with a USD and a EUR contract is
two currency groups, each ranked, shared and subtotalled in its own ISO code, unless the user
gives exchange rates in contracts/portfolio.yaml, which the page then states."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from scorecards.documents import portfolio_context, write_portfolio
from scorecards.documents.exchange import (
    ExchangeRates,
    converted_cents,
    currency_warnings,
    load_exchange_rates,
)
from scorecards.errors import UserError
from tests.test_documents import RUN, metrics_frame, one_line, pdf_pages, verdicts_frame

# Acme's contract in USD, Beta's in EUR (the synthetic frames of tests/test_documents.py)
MIXED = {"ACME-2026-H2": "USD", "BETA-2026": "EUR"}


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    return metrics_frame(), verdicts_frame()


def test_usd_and_eur_contracts_are_two_currency_groups_in_the_pdf(frames, tmp_path):
    metrics, verdicts = frames
    path = write_portfolio("2026-10", metrics, verdicts, RUN, tmp_path, contract_currency=MIXED)
    text = one_line(" ".join(pdf_pages(path)))
    assert "League table — EUR" in text and "League table — USD" in text
    eur = text[text.index("League table — EUR") : text.index("League table — USD")]
    usd = text[text.index("League table — USD") :]
    # Beta alone in EUR: its shares are of the EUR contracts (no SQL there: no SQL share)
    assert "1 Beta Webinars GmbH replace Jul 2026 0 0.0% — 100.0% — €10,000.00 €2,500.00" in eur
    assert "Subtotal EUR 0 — 100.0% — €10,000.00 €2,500.00" in eur
    # Acme alone in USD: all of the USD spend and SQLs, no euro in its group
    assert "1 Acme Syndication Ltd review Jul 2026 39 10.0% $850.00 100.0% 100.0%" in usd
    assert "Subtotal USD 39 $850.00 100.0% 100.0% $33,150.00 $2,550.00" in usd
    assert "€" not in usd[: usd.index("Subtotal USD")]
    # the tiles give one amount per currency, each with its code; never the $43,150 sum
    assert "$33,150.00 USD" in text and "€10,000.00 EUR" in text
    assert "43,150.00" not in text
    assert "2 currencies (EUR, USD)" in text


def test_one_currency_is_one_table_with_its_code(frames):
    metrics, verdicts = frames
    context = portfolio_context("2026-10", metrics, verdicts, RUN)
    assert [g["currency"] for g in context["groups"]] == ["USD"]
    assert context["tiles"][0]["values"] == ["$43,150.00 USD"]
    assert context["exchange"] is None


def test_exchange_rates_convert_into_one_group_and_are_stated(frames, tmp_path):
    metrics, verdicts = frames
    rates = ExchangeRates(base="USD", rates={"EUR": Decimal("1.085")}, note="ECB, 2026-10-30")
    path = write_portfolio(
        "2026-10", metrics, verdicts, RUN, tmp_path, contract_currency=MIXED, exchange=rates
    )
    text = one_line(" ".join(pdf_pages(path)))
    assert "1 EUR = 1.085 USD — ECB, 2026-10-30" in text
    # Beta's €10,000.00 is $10,850.00; with Acme's $33,150.00 the report month is $44,000.00
    assert "Portfolio 39 $1,128.21 100.0% 100.0% $44,000.00 $5,262.50" in text
    assert "Beta Webinars GmbH from EUR" in text
    assert "League table — " not in text


def test_rates_missing_a_currency_in_use_are_refused(frames):
    metrics, verdicts = frames
    rates = ExchangeRates(base="USD", rates={"GBP": Decimal("1.27")})
    with pytest.raises(UserError, match="no rate for EUR"):
        portfolio_context(
            "2026-10", metrics, verdicts, RUN, contract_currency=MIXED, exchange=rates
        )


def test_conversion_is_integer_and_rounds_half_up():
    frame = pl.DataFrame({"cents": [1, 3, -3, 1_000_000_000_000]})
    micro = pl.lit(1_500_000, pl.Int128)  # rate 1.5
    got = frame.select(converted_cents(pl.col("cents"), micro))["cents"].to_list()
    assert got == [2, 5, -5, 1_500_000_000_000]


def test_portfolio_settings_are_read_and_bad_rates_named(tmp_path: Path):
    settings = tmp_path / "portfolio.yaml"
    assert load_exchange_rates(tmp_path) is None
    settings.write_text("buyer:\n  name: Example\n")
    assert load_exchange_rates(tmp_path) is None
    settings.write_text("exchange_rates:\n  base: USD\n  rates:\n    EUR: 1.08\n")
    rates = load_exchange_rates(tmp_path)
    assert rates is not None and rates.rate("EUR") == Decimal("1.08")
    assert rates.statements(["EUR", "USD"]) == ["1 EUR = 1.08 USD"]
    settings.write_text("exchange_rates:\n  base: USD\n  rates:\n    EUR: -2\n")
    with pytest.raises(UserError) as error:
        load_exchange_rates(tmp_path)
    assert error.value.sentence == (
        f"{settings}, line 4, field 'exchange_rates.rates.EUR': -2 must be a positive rate"
    )
    settings.write_text("exchange_rates:\n  base: dollars\n")
    with pytest.raises(UserError, match=r"line 2, field 'exchange_rates\.base'"):
        load_exchange_rates(tmp_path)


class _Contract:
    def __init__(self, currency: str) -> None:
        self.currency = currency


def test_check_warns_once_about_a_mixed_portfolio(tmp_path: Path):
    assert currency_warnings([_Contract("USD"), _Contract("USD")], tmp_path) == []
    warnings = currency_warnings([_Contract("USD"), _Contract("EUR")], tmp_path)
    assert len(warnings) == 1
    assert "2 currencies (EUR, USD)" in warnings[0] and "one group per currency" in warnings[0]
