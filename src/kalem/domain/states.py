"""State machines as data: a table of (state, action) → next state, and one way to take a step.

Everything with a life cycle (unit, package, cancel/return request, refund, invoice, webhook delivery,
and the order as a whole) keeps its machine as such a table; whatever is not in the table is refused
with the machine's error, and no code sets a state the table did not give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from kalem.domain.errors import KalemError

S = TypeVar("S", bound=Enum)
A = TypeVar("A", bound=Enum)


@dataclass(frozen=True)
class Machine(Generic[S, A]):
    name: str
    table: Mapping[tuple[S, A], S]
    error: type[KalemError]   # each machine refuses with its own code (an `IllegalTransition`, mostly)

    def next(self, state: S, action: A, /, *, error: type[KalemError] | None = None, message: str | None = None,
             **details: Any) -> S:
        """The state `action` leads to from `state`; refused otherwise with `error` (else the machine's)
        carrying `details` (by default: the state, the action and what is allowed)."""
        target = self.table.get((state, action))
        if target is None:
            raise (error or self.error)(
                message or f"{self.name} is {state.value}: cannot {action.value}",
                **(details or {"status": state.value, "action": action.value, "allowed": self.allowed(state)}))
        return target

    def allowed(self, state: S) -> list[Any]:
        return [a.value for (s, a) in self.table if s == state]
