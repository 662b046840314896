"""Landed cost: what a parcel costs at the border — items + shipping + duties + taxes + fees.

Zonos recomputes the landed cost when unshipped items are removed (Zonos' Update orders), so this is a pure
function of (items, shipping, destination, currency, rate table): a recomputation is the same call
on the reduced items, never an incremental patch that could drift. One model for every
destination; the numbers live in a `RateTable`, not in code:

- Goods value = sum over items of round(unit_amount x quantity). Items with quantity 0 take no part:
  an item whose units were all removed costs exactly what an item never ordered costs.
- Duty is assessed per tariff line, as a customs declaration does: each item's rate is the rate of
  the longest HS-code prefix in the destination's table (else `default_duty_rate`), its duty is
  round(value x rate%), and the order's duty is the sum of those lines.
- De minimis: when the goods value (shipping excluded) is strictly below `de_minimis_duty`, no duty;
  strictly below `de_minimis_tax`, no tax. Thresholds are in the table's currency.
- Tax (import VAT/GST) is levied CIF-style on goods + shipping + duty, once on the consignment at
  the destination's `vat_rate` (one rounding, like an import declaration); it is then split over
  the items and shipping with `allocate` purely to explain it, so the parts sum to it exactly.
- Fees: `flat` = per consignment, `percent` = of the goods value; fees are not taxed.
- No unit left → nothing crosses a border: no duty, tax or fee; shipping stays as given
  (refunding shipping is the caller's policy, not a customs rule).
- total = goods + shipping + duties + taxes + fees, each rounded half-up to the currency's minor unit.
- An order in another currency than the table's needs `fx_rate` (order-currency units per table
  unit) to convert thresholds and flat fees; without it we refuse to compare dollars with pounds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import Any, NamedTuple

from kalem.domain.errors import KalemError
from kalem.domain.money import allocate, quantize


class LandedCostError(KalemError):  # a KalemError, so every face renders it with its code
    """Root of this module's errors; `code` is stable and machine-readable."""

    code = "landed_cost_error"
    status = 422

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRateTable(LandedCostError):
    code = "invalid_rate_table"


class UnknownDestination(LandedCostError):
    code = "unknown_destination"


class InvalidLandedCostInput(LandedCostError):
    code = "invalid_landed_cost_input"


class LandedCostCurrencyMismatch(LandedCostError):
    code = "landed_cost_currency_mismatch"


class FeeKind(StrEnum):
    FLAT = "flat"
    PERCENT = "percent"


@dataclass(frozen=True)
class Fee:
    name: str
    kind: FeeKind
    amount: Decimal  # flat: in the table's currency; percent: a percentage of the goods value


@dataclass(frozen=True)
class DestinationRates:
    country: str
    currency: str
    vat_rate: Decimal
    de_minimis_duty: Decimal
    de_minimis_tax: Decimal
    default_duty_rate: Decimal
    # Longest prefix first, so the first match is the most specific one.
    duty_rates_by_hs_prefix: tuple[tuple[str, Decimal], ...]
    fees: tuple[Fee, ...]

    def duty_rate_for(self, hs_code: str) -> Decimal:
        for prefix, rate in self.duty_rates_by_hs_prefix:
            if hs_code.startswith(prefix):
                return rate
        return self.default_duty_rate


@dataclass(frozen=True)
class RateTable:
    destinations: Mapping[str, DestinationRates]
    notice: str = ""

    def destination(self, country: str) -> DestinationRates:
        rates = self.destinations.get(country.strip().upper()) if isinstance(country, str) else None
        if rates is None:
            raise UnknownDestination(f"no landed-cost rates for destination {country!r}",
                                     country=country, known=sorted(self.destinations))
        return rates


# --- building a table from plain data ---------------------------------------------------------

_DEST_KEYS = frozenset({"currency", "vat_rate", "de_minimis_duty", "de_minimis_tax",
                        "default_duty_rate", "duty_rates_by_hs_prefix", "fees"})


def _non_negative(value: Any, where: str) -> Decimal:
    # JSON loaders may hand us floats; str() of a float is its shortest repr, i.e. the literal
    # that was written, so nothing binary leaks in. bool is an int subclass: refuse it.
    result = None
    if not isinstance(value, bool) and isinstance(value, (Decimal, int, float, str)):
        try:
            result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            pass
    if result is None or not result.is_finite() or result < 0:
        raise InvalidRateTable(f"{where} must be a number >= 0", field=where)
    return result


def _amount(value: Any, where: str) -> Decimal:
    # Money coming in must already be exact: a float has lost its cents before we see it.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)) \
            or not Decimal(value).is_finite() or value < 0:
        raise InvalidLandedCostInput(f"{where} must be a Decimal >= 0, not {value!r}", field=where)
    return Decimal(value)


def _is_code(value: Any, length: int) -> bool:  # "US", "USD": ISO codes, upper case
    return (isinstance(value, str) and len(value) == length and value.isascii()
            and value.isalpha() and value.isupper())


def _destination_from_dict(country: Any, raw: Any) -> DestinationRates:
    if not _is_code(country, 2):
        raise InvalidRateTable(f"destination {country!r} is not an ISO 3166 alpha-2 code")
    if not isinstance(raw, Mapping):
        raise InvalidRateTable(f"{country}: rates must be an object")
    missing, unknown = _DEST_KEYS - raw.keys(), raw.keys() - _DEST_KEYS
    if missing or unknown:  # a typo in a rate table must not silently mean "rate 0"
        raise InvalidRateTable(f"{country}: missing {sorted(missing)}, unknown {sorted(unknown)}")
    if not _is_code(raw["currency"], 3):
        raise InvalidRateTable(f"{country}.currency must be an ISO 4217 code")
    if (vat_rate := _non_negative(raw["vat_rate"], f"{country}.vat_rate")) > 100:
        raise InvalidRateTable(f"{country}.vat_rate must be at most 100")
    if not isinstance(prefixes := raw["duty_rates_by_hs_prefix"], Mapping):
        raise InvalidRateTable(f"{country}.duty_rates_by_hs_prefix must be an object")
    by_prefix = []
    for prefix, rate in prefixes.items():
        if not (isinstance(prefix, str) and prefix.isascii() and prefix.isdigit()
                and len(prefix) <= 10):
            raise InvalidRateTable(f"{country}: HS prefix {prefix!r} must be 1-10 digits")
        by_prefix.append((prefix, _non_negative(rate, f"{country}.duty_rates_by_hs_prefix.{prefix}")))
    by_prefix.sort(key=lambda pr: (-len(pr[0]), pr[0]))
    if not isinstance(fees_raw := raw["fees"], list):
        raise InvalidRateTable(f"{country}.fees must be a list")
    fees: list[Fee] = []
    for i, fee in enumerate(fees_raw):
        where = f"{country}.fees[{i}]"
        if not isinstance(fee, Mapping) or set(fee) != {"name", "kind", "amount"}:
            raise InvalidRateTable(f"{where} must have exactly name, kind, amount")
        name, kind = fee["name"], fee["kind"]
        if not isinstance(name, str) or not name or name in {f.name for f in fees}:
            raise InvalidRateTable(f"{where}.name must be a unique, non-empty string")
        if kind not in set(FeeKind):
            raise InvalidRateTable(f"{where}.kind must be one of {[k.value for k in FeeKind]}")
        fees.append(Fee(name, FeeKind(kind), _non_negative(fee["amount"], f"{where}.amount")))
    return DestinationRates(
        country=country,
        currency=raw["currency"],
        vat_rate=vat_rate,
        de_minimis_duty=_non_negative(raw["de_minimis_duty"], f"{country}.de_minimis_duty"),
        de_minimis_tax=_non_negative(raw["de_minimis_tax"], f"{country}.de_minimis_tax"),
        default_duty_rate=_non_negative(raw["default_duty_rate"], f"{country}.default_duty_rate"),
        duty_rates_by_hs_prefix=tuple(by_prefix),
        fees=tuple(fees),
    )


def rate_table_from_dict(data: Mapping[str, Any]) -> RateTable:
    """`{"_notice": str?, "destinations": {"US": {...}, ...}}` → RateTable, or InvalidRateTable.

    Keys starting with "_" at the top level are comments; any other unknown key is an error.
    """
    if not isinstance(data, Mapping):
        raise InvalidRateTable("rate table must be an object")
    unknown = [k for k in data if k != "destinations" and not str(k).startswith("_")]
    if unknown:
        raise InvalidRateTable(f"unknown top-level keys {sorted(map(str, unknown))}")
    raw = data.get("destinations")
    if not isinstance(raw, Mapping) or not raw:
        raise InvalidRateTable("destinations must be a non-empty object")
    notice = data.get("_notice", "")
    if not isinstance(notice, str):
        raise InvalidRateTable("_notice must be a string")
    parsed = {c: _destination_from_dict(c, r) for c, r in sorted(raw.items(), key=lambda i: str(i[0]))}
    return RateTable(destinations=MappingProxyType(parsed), notice=notice)


def load_default_rate_table() -> RateTable:
    """The shipped, ILLUSTRATIVE table (see its `_notice`): reads package data, so call it once
    at composition time, not per request."""
    text = resources.files("kalem.data").joinpath("landed_cost_rates.json").read_text("utf-8")
    return rate_table_from_dict(json.loads(text, parse_float=Decimal))


# --- inputs and result ------------------------------------------------------------------------


@dataclass(frozen=True)
class LandedCostItem:
    item_id: str
    hs_code: str
    unit_amount: Decimal
    quantity: int


class DutyLine(NamedTuple):
    item_id: str
    hs_code: str  # normalised: digits only
    rate: Decimal  # percent; the tariff rate even when de minimis made the amount 0
    amount: Decimal


class TaxLine(NamedTuple):
    item_id: str
    amount: Decimal


class FeeLine(NamedTuple):
    name: str
    amount: Decimal


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):  # named tuples become objects, other tuples lists
        names = getattr(value, "_fields", None)
        if names is not None:
            return {k: _plain(v) for k, v in zip(names, value, strict=True)}
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class LandedCost:
    destination_country: str
    currency: str
    items: Decimal
    shipping: Decimal
    duties: Decimal
    taxes: Decimal
    fees: Decimal
    total: Decimal
    duty_lines: tuple[DutyLine, ...] = ()  # sorted by item_id: the result ignores input order
    tax_lines: tuple[TaxLine, ...] = ()  # items' shares of `taxes`; shipping's is `shipping_tax`
    shipping_tax: Decimal = Decimal(0)
    fee_lines: tuple[FeeLine, ...] = ()
    duty_exempt: bool = False  # goods value below de_minimis_duty
    tax_exempt: bool = False  # goods value below de_minimis_tax

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals as strings (exact, and never re-parsed as floats)."""
        return {name: _plain(getattr(self, name)) for name in _LANDED_COST_FIELDS}

    def invoice_lines(self) -> tuple[tuple[str, Decimal, Decimal], ...]:
        """(description, amount, vat_rate) lines for `invoicing`: duties and import taxes are
        not themselves subject to VAT, so every line carries rate 0; zero lines are left out."""
        parts = [("Items", self.items), ("Shipping", self.shipping), ("Duties", self.duties),
                 ("Taxes", self.taxes)] + [(f"Fee: {f.name}", f.amount) for f in self.fee_lines]
        return tuple((d, a, Decimal(0)) for d, a in parts if a)


_LANDED_COST_FIELDS = tuple(f.name for f in fields(LandedCost))


# --- computing --------------------------------------------------------------------------------


def _normalise_hs(hs_code: Any, item_id: str) -> str:
    if not isinstance(hs_code, str):
        raise InvalidLandedCostInput(f"item {item_id}: hs_code must be a string", item_id=item_id)
    digits = hs_code.replace(".", "").replace(" ", "")
    if digits and not (digits.isascii() and digits.isdigit()):
        raise InvalidLandedCostInput(f"item {item_id}: hs_code {hs_code!r} is not an HS code",
                                     item_id=item_id)
    return digits  # "" is allowed: an unclassified item pays the default rate


def _validated(items: Iterable[LandedCostItem]) -> list[LandedCostItem]:
    result, seen = [], set()
    for item in items:
        if not isinstance(item, LandedCostItem):
            raise InvalidLandedCostInput("items must be LandedCostItem values")
        if not isinstance(item.item_id, str) or not item.item_id or item.item_id in seen:
            raise InvalidLandedCostInput(f"item id {item.item_id!r} must be unique and non-empty")
        seen.add(item.item_id)
        if isinstance(item.quantity, bool) or not isinstance(item.quantity, int) \
                or item.quantity < 0:
            raise InvalidLandedCostInput(f"item {item.item_id}: quantity must be an int >= 0",
                                         item_id=item.item_id)
        _amount(item.unit_amount, f"{item.item_id}.unit_amount")
        _normalise_hs(item.hs_code, item.item_id)  # bad data fails even on a removed item
        result.append(item)
    return result


def remove_units(items: Iterable[LandedCostItem], removals: Mapping[str, int]
                 ) -> tuple[LandedCostItem, ...]:
    """Items after removing `removals[item_id]` units from each (Zonos keeps a line at quantity
    0 rather than deleting it). Removing more than is there, or from an unknown item, is refused."""
    items = _validated(items)
    known = {i.item_id: i for i in items}
    for item_id, n in removals.items():
        if item_id not in known:
            raise InvalidLandedCostInput(f"unknown item {item_id!r}", item_id=item_id)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= known[item_id].quantity:
            raise InvalidLandedCostInput(
                f"item {item_id}: cannot remove {n!r} of {known[item_id].quantity}",
                item_id=item_id)
    return tuple(
        LandedCostItem(i.item_id, i.hs_code, i.unit_amount, i.quantity - removals.get(i.item_id, 0))
        for i in items
    )


def _fx_factor(rates: DestinationRates, currency: str, fx_rate: Decimal | None) -> Decimal:
    if currency == rates.currency:
        return Decimal(1)
    if fx_rate is None:
        raise LandedCostCurrencyMismatch(
            f"order currency {currency} differs from {rates.country}'s table currency "
            f"{rates.currency}; pass fx_rate", currency=currency, table_currency=rates.currency)
    if _amount(fx_rate, "fx_rate") == 0:
        raise InvalidLandedCostInput("fx_rate must be positive", field="fx_rate")
    return Decimal(fx_rate)


def compute_landed_cost(
    items: Iterable[LandedCostItem],
    shipping_amount: Decimal,
    destination_country: str,
    currency: str,
    table: RateTable,
    *,
    fx_rate: Decimal | None = None,
) -> LandedCost:
    rates = table.destination(destination_country)
    if not _is_code(currency, 3):
        raise InvalidLandedCostInput(f"currency {currency!r} must be an ISO 4217 code")
    fx = _fx_factor(rates, currency, fx_rate)
    shipping = quantize(_amount(shipping_amount, "shipping_amount"), currency)
    zero = quantize(Decimal(0), currency)

    # Canonical order (by item id) so that the result does not depend on how items were listed,
    # including which part `allocate` gives a leftover cent to.
    present = sorted((i for i in _validated(items) if i.quantity > 0), key=lambda i: i.item_id)
    values = [quantize(Decimal(i.unit_amount) * i.quantity, currency) for i in present]
    goods = quantize(sum(values, Decimal(0)), currency)
    crossing = bool(present)

    duty_exempt = goods < rates.de_minimis_duty * fx
    duty_lines = []
    for item, value in zip(present, values, strict=True):
        hs = _normalise_hs(item.hs_code, item.item_id)
        rate = rates.duty_rate_for(hs)
        amount = zero if duty_exempt else quantize(value * rate / 100, currency)
        duty_lines.append(DutyLine(item.item_id, hs, rate, amount))
    duties = quantize(sum((d.amount for d in duty_lines), Decimal(0)), currency)

    tax_exempt = goods < rates.de_minimis_tax * fx
    taxes = zero
    if crossing and not tax_exempt:
        taxes = quantize((goods + shipping + duties) * rates.vat_rate / 100, currency)
    weights = [v + d.amount for v, d in zip(values, duty_lines, strict=True)] + [shipping]
    shares = allocate(taxes, weights, currency) if crossing else [zero]
    # The last share is shipping's.
    tax_lines = tuple(TaxLine(i.item_id, s) for i, s in zip(present, shares[:-1], strict=True))

    fee_lines = tuple(
        FeeLine(f.name, quantize(f.amount * fx if f.kind is FeeKind.FLAT else goods * f.amount / 100,
                                 currency))
        for f in (rates.fees if crossing else ()))
    fees = quantize(sum((f.amount for f in fee_lines), Decimal(0)), currency)

    return LandedCost(
        destination_country=rates.country, currency=currency,
        items=goods, shipping=shipping, duties=duties, taxes=taxes, fees=fees,
        total=quantize(goods + shipping + duties + taxes + fees, currency),
        duty_lines=tuple(duty_lines), tax_lines=tax_lines, shipping_tax=shares[-1],
        fee_lines=fee_lines, duty_exempt=duty_exempt, tax_exempt=tax_exempt,
    )
