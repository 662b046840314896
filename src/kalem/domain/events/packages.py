"""Events of packages: a split, and each step towards the customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from kalem.domain.events.data import EventData
from kalem.domain.events.parts import PackageUnits


class SplitChild(NamedTuple):
    """A package a split made."""

    package_id: str
    status: str
    cargo_tracking_number: str | None
    parent_id: str | None
    items: tuple[PackageUnits, ...]


class SplitCancelled(NamedTuple):
    line_id: str
    quantity: int
    reason_id: int


@dataclass(frozen=True, slots=True)
class PackageSplit(EventData):
    """A package was split by quantity into new packages."""

    TYPE: ClassVar[str] = "package.split"
    VERSION: ClassVar[int] = 2
    package_id: str
    children: tuple[SplitChild, ...]
    cancelled: tuple[SplitCancelled, ...]


@dataclass(frozen=True, slots=True)
class PackageMoved(EventData):
    """A package's step: its status before and after, and the units it holds (the event types below)."""

    VERSION: ClassVar[int] = 2
    package_id: str
    status: str
    previous: str
    cargo_tracking_number: str | None
    items: tuple[PackageUnits, ...]


@dataclass(frozen=True, slots=True)
class PackageApproved(PackageMoved):
    """A package moved to picking."""

    TYPE: ClassVar[str] = "package.approved"


@dataclass(frozen=True, slots=True)
class PackageShipped(PackageMoved):
    """A package left the warehouse."""

    TYPE: ClassVar[str] = "package.shipped"


@dataclass(frozen=True, slots=True)
class PackageDelivered(PackageMoved):
    """A package reached the customer."""

    TYPE: ClassVar[str] = "package.delivered"
