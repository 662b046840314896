"""Orders stored before units had numbers: a line kept counts per state, a package counts per line.

Such an order is numbered when it is read, in the fixed positional order clients have always been
shown (cancelled first, then returned, return pending, delivered, shipped, pending cancel, open), so
every unit keeps the number a client saw; packages take the lowest-numbered units in the states they
hold. No data migration is needed: the next save writes the numbered form.
"""

from __future__ import annotations

from typing import Any

from kalem.domain.orders import HELD_STATES, PackageStatus, Units, UnitSet, UnitState

NUMBERING_ORDER = (UnitState.CANCELLED, UnitState.RETURNED, UnitState.RETURN_PENDING, UnitState.DELIVERED,
                   UnitState.SHIPPED, UnitState.PENDING_CANCEL, UnitState.OPEN)
_GONE = (PackageStatus.CANCELLED.value, PackageStatus.UNSUPPLIED.value)


def is_unnumbered(body: dict[str, Any]) -> bool:
    """Was this order body stored before units had numbers (a line's units as counts per state)?"""
    return bool(body["lines"]) and isinstance(body["lines"][0][7], dict)


def numbered(body: dict[str, Any]) -> dict[str, Any]:
    """The stored body with unit runs for ledgers and unit spans for package counts."""
    units = {line[0]: Units.laid_out((s, line[7].get(s.value, 0)) for s in NUMBERING_ORDER) for line in body["lines"]}
    packages = body["packages"]
    held: dict[tuple[int, str], UnitSet] = {}
    for line_id, line_units in units.items():
        taken = UnitSet()

        def take(index: int, states: frozenset[UnitState] | tuple[UnitState, ...], count: int,
                 line_units: Units = line_units, line_id: str = line_id) -> None:
            nonlocal taken
            pool = UnitSet()
            for state in states:
                pool |= line_units.in_state(state)
            held[(index, line_id)] = (pool - taken).lowest(count)
            taken |= held[(index, line_id)]

        counts = {i: dict(map(tuple, p[2])).get(line_id, 0) for i, p in enumerate(packages)}
        for i, p in enumerate(packages):
            if counts[i] and PackageStatus(p[1]) in HELD_STATES:
                take(i, HELD_STATES[PackageStatus(p[1])], counts[i])
        for i, p in enumerate(packages):
            if counts[i] and p[1] in _GONE:
                take(i, (UnitState.CANCELLED,), counts[i])
        cancelled = line_units.in_state(UnitState.CANCELLED)
        for i in reversed(range(len(packages))):
            if counts[i] and packages[i][1] == PackageStatus.UNPACKED.value:
                kids = UnitSet()
                for j, child in enumerate(packages):
                    if child[5] == packages[i][0]:
                        kids |= held.get((j, line_id), UnitSet())
                held[(i, line_id)] = (kids | (cancelled - kids).lowest(counts[i] - len(kids))).lowest(counts[i])
    return {
        **body,
        "lines": [[*line[:7], units[line[0]].as_list(), *line[8:]] for line in body["lines"]],
        "packages": [[p[0], p[1], [[lid, held[(i, lid)].as_list()] for lid, _ in p[2]], *p[3:]]
                     for i, p in enumerate(packages)],
    }
