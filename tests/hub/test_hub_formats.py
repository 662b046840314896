"""Amounts and rates as the hub writes them: Babel's, by the reader's language and the currency's digits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalem.hub.formats import money, percent


@pytest.mark.parametrize(("amount", "currency", "tr", "en"), [
    ("1299", "TRY", "1.299,00 TRY", "1,299.00 TRY"),
    ("374.36", "EUR", "374,36 EUR", "374.36 EUR"),
    ("1299", "JPY", "1.299 JPY", "1,299 JPY"),          # yen have no decimals
    ("1299.5", "KWD", "1.299,500 KWD", "1,299.500 KWD"),  # dinars have three
    ("-5", "USD", "-5,00 USD", "-5.00 USD"),
    ("10.005", "TRY", "10,005 TRY", "10.005 TRY"),      # finer than the currency: shown as held, not rounded
])
def test_money_follows_the_language_and_the_currency(amount: str, currency: str, tr: str, en: str) -> None:
    assert money(Decimal(amount), currency, "tr") == tr
    assert money(Decimal(amount), currency, "en") == en


def test_rates_put_the_percent_sign_where_the_language_does() -> None:
    assert percent(Decimal("20"), "tr") == "%20"
    assert percent(Decimal("1.5"), "en") == "1.5%"
