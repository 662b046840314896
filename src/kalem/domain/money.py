"""Money: `Decimal` in a currency's minor unit, never float.

Every split of an amount goes through `allocate`, a largest-remainder rule, so the parts
always add up to the whole to the last cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import get_currency_precision


@cache
def minor_unit(currency: str) -> int:
    """Digits after the decimal point in the currency's amounts, from CLDR's currency data (Babel):
    JPY 0, TRY 2, KWD 3; an unknown code has 2."""
    return int(get_currency_precision(currency.upper()))


@cache
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def is_exact(amount: Decimal, currency: str) -> bool:
    """Whether a finite `amount` is a whole number of the currency's minor units, at any magnitude
    (`quantize` raises InvalidOperation past the context's 28 digits, e.g. for 1E+26)."""
    _, digits, exponent = amount.as_tuple()
    below_minor = -minor_unit(currency) - int(exponent)  # digits finer than the minor unit
    return below_minor <= 0 or not any(digits[-below_minor:])


def allocate(total: Decimal, weights: list[Decimal] | list[int], currency: str) -> list[Decimal]:
    """Split `total` in proportion to `weights`; the parts sum exactly to `total`.

    Largest-remainder rule: every part gets its floor in minor units, then the units left over
    go one each to the parts with the largest remainders (ties to the earlier part), so the
    result is deterministic.
    """
    q = quantum(currency)
    units = int((quantize(total, currency) / q).to_integral_value())
    ws = [Decimal(w) for w in weights]
    weight_sum = sum(ws, Decimal(0))
    if not ws:
        return []
    if weight_sum == 0:
        ws = [Decimal(1)] * len(ws)
        weight_sum = Decimal(len(ws))
    sign = -1 if units < 0 else 1
    units = abs(units)
    exact = [Decimal(units) * w / weight_sum for w in ws]
    floors = [int(e) for e in exact]
    left = units - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(sign * f) * q for f in floors]
