"""Compare a face's response with a platform's documented example, key by key and type by type.

Values differ between kalem's data and the example's (ids, dates, names), so by default only the
shape is compared: the same keys at every level (null and absent are different), and the same JSON
type for every value (integer, number with a fraction, string, boolean, null, object, array).
Paths listed in `equal` must also carry the example's exact value (status names, codes, messages).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def differences(actual: Any, expected: Any, *, equal: Iterable[str] = ()) -> list[str]:
    """Every way `actual` departs from `expected`'s shape, as `path: what` lines.

    Paths look like `$.data.order.items[].quantity`; `equal=["*"]` compares every value.
    """
    found: list[str] = []
    _walk(actual, expected, "$", frozenset(equal), found)
    return found


def assert_same_shape(actual: Any, expected: Any, *, equal: Iterable[str] = ()) -> None:
    found = differences(actual, expected, equal=equal)
    assert not found, "response departs from the documented example:\n  " + "\n  ".join(found)


def _walk(actual: Any, expected: Any, path: str, equal: frozenset[str], found: list[str]) -> None:
    want, got = json_type(expected), json_type(actual)
    if want != got:
        found.append(f"{path}: {got} {actual!r:.60}, documented {want} {expected!r:.60}")
        return
    if want == "object":
        found += [f"{path}.{key}: absent, documented" for key in expected if key not in actual]
        found += [f"{path}.{key}: present, not documented" for key in actual if key not in expected]
        for key in expected:
            if key in actual:
                _walk(actual[key], expected[key], f"{path}.{key}", equal, found)
    elif want == "array":
        if expected and not actual:
            found.append(f"{path}: empty, documented with {len(expected)} element(s)")
        # Element i is compared with the example's element i, or its last one when the example is shorter.
        for index, item in enumerate(actual):
            if expected:
                _walk(item, expected[min(index, len(expected) - 1)], f"{path}[]", equal, found)
    elif ("*" in equal or path in equal) and actual != expected:
        found.append(f"{path}: {actual!r}, documented {expected!r}")
