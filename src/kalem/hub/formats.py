"""Numbers as people read them, by Babel (CLDR) in the hub's language: grouping, decimal mark, the
currency's own number of decimals (JPY none, KWD three), percent signs where Turkish puts them first.

Amounts carry the ISO code after the number ("1.299,00 TRY", "1,299.00 TRY", "1.299 JPY"): a seller
selling in several currencies reads which one at a glance, where symbols repeat ("$", "¥").
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_percent

#: The Babel locale of each hub language.
LOCALES = {"tr": "tr_TR", "en": "en"}

# The number, a space, the ISO code. Babel replaces the pattern's two decimals with the currency's own
# (currency_digits).
_PATTERN = "#,##0.00 ¤¤"


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["tr"])


def money(amount: Decimal, currency: str, lang: str) -> str:
    """An amount in its currency. An amount finer than its currency (kept from an order taken before
    intake refused those) shows every digit it has, rather than a rounded figure no record holds."""
    return format_currency(amount, currency.upper(), _PATTERN, locale=locale_of(lang), decimal_quantization=False)


def percent(rate: Decimal, lang: str) -> str:
    """A rate held in percent (20 for 20 %): "%20" in Turkish, "20%" in English, decimals kept (1.5)."""
    return format_percent(rate / 100, locale=locale_of(lang), decimal_quantization=False)
