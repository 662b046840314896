"""An amount typed in the hub is read as the page's language writes numbers (Babel, strict): a Turkish
"12.000" is twelve thousand, never twelve, and a figure that fits neither reading is refused."""

from decimal import Decimal

import pytest

from kalem.hub.refunds import AmountMalformed, _amount


@pytest.mark.parametrize(("lang", "typed", "read"), [
    ("tr", "80,50", Decimal("80.50")),
    ("tr", "12.000", Decimal("12000")),
    ("tr", "1.234,5", Decimal("1234.5")),
    ("tr", " 15 ", Decimal("15")),
    ("en", "80.50", Decimal("80.50")),
    ("en", "12.000", Decimal("12.000")),
    ("en", "1,234.5", Decimal("1234.5")),
    ("tr", "", None),
])
def test_an_amount_is_read_in_the_pages_language(lang: str, typed: str, read: Decimal | None) -> None:
    assert _amount(typed, lang) == read


@pytest.mark.parametrize(("lang", "typed"), [
    ("tr", "80.50"), ("tr", "1,234.5"), ("en", "80,50"), ("en", "1.234,5"),
    ("tr", "abc"), ("en", "-3"), ("en", "NaN"), ("tr", "Infinity"),
])
def test_an_amount_that_does_not_fit_the_language_is_refused(lang: str, typed: str) -> None:
    with pytest.raises(AmountMalformed) as refused:
        _amount(typed, lang)
    assert refused.value.code == "amount_malformed"
