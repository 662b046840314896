"""The Zonos face's custom scalars (shared by the order and webhook types)."""

from __future__ import annotations

from datetime import datetime
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from kalem.platforms.zonos.face import views

DateTime = NewType("DateTime", datetime)
SCALARS: dict[object, ScalarDefinition] = {
    DateTime: strawberry.scalar(name="DateTime", serialize=views.time, parse_value=datetime.fromisoformat,
                                description="ISO-8601 UTC, e.g. 2024-06-01T12:00:00Z")}
