"""Django REST framework's PageNumberPagination, as Omnitron pages its lists: `?page=` (from 1) and
`?limit=`, answered as `{"count", "next", "previous", "results"}` with links to the pages around.

A page of orders may end early, when its orders hold many units (`pks.UNITS_PER_PAGE`): its `next`
link then goes on from where it stopped with `?offset=` (LimitOffsetPagination's parameter) instead
of `?page=`, so following the links lists every order once."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from kalem.platforms.akinon.face.errors import PageInvalid


def page_number(raw: str | None) -> int:
    """`?page=`: absent is 1; anything but a positive number is DRF's 404 "Invalid page."."""
    if raw is None:
        return 1
    if not (raw.strip().isdigit() and len(raw) < 10 and int(raw) >= 1):
        raise PageInvalid("Invalid page.", page=raw)
    return int(raw)


def drf_page(request: Request, number: int, size: int, count: int, results: list[Any]) -> dict[str, Any]:
    """The page body; a page past the last (but the first) is 404 "Invalid page.", as DRF answers."""
    if number > 1 and not results:
        raise PageInvalid("Invalid page.", page=number)
    shown = (number - 1) * size + len(results)
    previous = None
    if number == 2:   # DRF links page 1 without `page`
        previous = str(request.url.remove_query_params("page"))
    elif number > 2:
        previous = str(request.url.include_query_params(page=number - 1))
    following = None
    if len(results) < size and shown < count:   # ended early: go on after its last order
        following = str(request.url.remove_query_params("page").include_query_params(offset=shown))
    elif shown < count:
        following = str(request.url.include_query_params(page=number + 1))
    return {"count": count, "next": following, "previous": previous, "results": results}


def offset_page(request: Request, offset: int, size: int, count: int, results: list[Any]) -> dict[str, Any]:
    """A page asked for by `?offset=` (the `next` link of a page that ended early)."""
    if offset > 0 and not results:
        raise PageInvalid("Invalid page.", offset=offset)
    shown = offset + len(results)
    previous = None
    if offset > 0:
        previous = str(request.url.include_query_params(offset=max(0, offset - size)))
    return {"count": count,
            "next": str(request.url.include_query_params(offset=shown)) if shown < count else None,
            "previous": previous, "results": results}
