"""Shapes that several events' data share: a line's quantity, the units a package holds, the units
a cancel took out of a package."""

from __future__ import annotations

from typing import NamedTuple

from kalem.domain.events.data import Spans


class LineQuantity(NamedTuple):
    """A number of one line's units."""

    line_id: str
    quantity: int


class PackageUnits(NamedTuple):
    """The units of one line that a package holds."""

    line_id: str
    quantity: int
    units: Spans


class LeftPackage(NamedTuple):
    """Units a cancel took out of an unshipped package, and the package's status after (Cancelled once
    emptied)."""

    package_id: str
    status: str
    items: tuple[PackageUnits, ...]
