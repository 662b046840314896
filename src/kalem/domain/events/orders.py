"""Events of an order as a whole: placed, cancelled."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar

from kalem.domain.events.data import ABSENT_WHILE_NONE, Doc, EventData
from kalem.domain.events.parts import LineQuantity

#: The face a change came through, when that face's subscribers must not hear it back.
Via = Annotated[str | None, Doc("the face the change came through; its own subscribers do not hear it back")]


@dataclass(frozen=True, slots=True)
class OrderPlaced(EventData):
    """An order was ingested."""

    TYPE: ClassVar[str] = "order.placed"
    lines: tuple[LineQuantity, ...]


@dataclass(frozen=True, slots=True)
class OrderCancelled(EventData):
    """The whole order was cancelled (Zonos `orderCancel`)."""

    TYPE: ClassVar[str] = "order.cancelled"
    via: Via = field(default=None, metadata=ABSENT_WHILE_NONE)
