"""n11 REST endpoints, wire-compatible: `appkey`/`appsecret` headers, n11's paths, fields and envelopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from kalem.api.app import Face
from kalem.api.context import Ctx, context
from kalem.app import orders as app_orders
from kalem.app.principals import Principal
from kalem.domain.errors import CredentialsMissing, InvalidInput, NotFound
from kalem.domain.orders import Order, Package, PackageStatus
from kalem.platforms.n11 import key_pairs, line_ids, wire
from kalem.platforms.n11 import order_lines as app
from kalem.platforms.n11.face import views
from kalem.platforms.n11.face.responses import (
    N11Result,
    N11ShipmentPackagePage,
    N11SplitResult,
    N11UpdateResult,
    answers,
)
from kalem.platforms.n11.store import N11PackageRepository, PackageQuery, epoch_us

router = APIRouter(tags=["n11 face"], route_class=wire.TolerantJsonRoute)

SPLIT_BY_QUANTITY = "/rest/delivery/v1/splitPackageByQuantity"
SPLIT_COMBINE = "/rest/delivery/v1/splitCombinePackage"
UPDATE_ORDER = "/rest/order/v1/update"
SHIPMENT_PACKAGES = "/rest/delivery/v1/shipmentPackages"
PATHS = (SPLIT_BY_QUANTITY, SPLIT_COMBINE, UPDATE_ORDER, SHIPMENT_PACKAGES)

# Date-window rules of n11's GetShipmentPackages documentation. n11's pages disagree on "start only"
# (1 month, newer: 15 days); kalem follows the newer page.
START_ONLY_WINDOW = timedelta(days=15)
MAX_WINDOW = timedelta(days=30)
NO_DATA_BEFORE = datetime(2024, 11, 1, tzinfo=UTC)
MAX_PAGE_SIZE = 100
SUCCESS = {"code": 200, "message": "success"}


def face() -> Face:
    return Face(router, {p: p for p in PATHS}, (wire.is_n11_path, wire.error),
                first=frozenset({("POST", SPLIT_BY_QUANTITY), ("POST", SPLIT_COMBINE), ("PUT", UPDATE_ORDER)}),
                lean=frozenset({("POST", SPLIT_BY_QUANTITY), ("POST", SPLIT_COMBINE)}))


def seller(request: Request, appkey: Annotated[str | None, Header(include_in_schema=False)] = None,
           appsecret: Annotated[str | None, Header(include_in_schema=False)] = None) -> Principal:
    """Header names are case-insensitive, so n11's `appKey`/`appSecret` spelling works too."""
    if not appkey or not appsecret:
        raise CredentialsMissing("appkey and appsecret are required")
    # n11 is a marketplace: its client sees the orders sold on n11, never another channel's.
    return context(request).auth.credential(key_pairs.secret(appkey, appsecret)).within(wire.CHANNEL)


Seller = Annotated[Principal, Depends(seller)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


class StatusNotPicking(InvalidInput):
    """An order update to a status other than Picking, the only one n11 documents."""
    code = "status_not_picking"
    face_code = InvalidInput.code


class LineIdRepeated(InvalidInput):
    code = "line_id_repeated"
    face_code = InvalidInput.code


class PackageStatusUnknown(InvalidInput):
    code = "package_status_unknown"
    face_code = InvalidInput.code


class DateRangeReversed(InvalidInput):
    """`startDate` after `endDate`."""
    code = "date_range_reversed"
    face_code = InvalidInput.code


def _split_answer(done: app.N11Split) -> tuple[int, dict[str, Any]]:
    order = done.order
    items = [{"orderNumber": order.order_number, "packageId": p.package_id,
              "orderLineId": done.numbers.get((order.id, p.package_id, i.line_id)),
              "stockCode": order.line(i.line_id).sku, "quantity": i.quantity}
             for p in done.result.picking for i in p.items]
    return 200, {**SUCCESS, "splitPackageOrderItems": items}


@router.post(SPLIT_BY_QUANTITY, summary="Split a Picking package by quantity, optionally cancelling units",
             response_model=None, responses=answers(N11SplitResult))
def split_package_by_quantity(body: wire.SplitByQuantity, principal: Seller, ctx: Ctx,
                              idempotency_key: IdempotencyKey = None) -> Response:
    cmd = app.SplitByOrderLines(
        groups=tuple(tuple((d.orderLineId, d.quantities) for d in p.packageDetails) for p in body.splitPackages),
        cancelled=tuple((c.orderLineId, c.quantity, c.cancelReasonId) for c in body.cancelledItems),
        principal=principal)
    return ctx.idempotency.run(idempotency_key, principal, ["n11 splitPackageByQuantity", body.model_dump()],
                               lambda uow: app.split_by_order_lines(uow, cmd), _split_answer)


@router.post(SPLIT_COMBINE, summary="Split a Picking package by whole lines", response_model=None,
             responses=answers(N11Result))
def split_combine_package(body: wire.SplitCombine, principal: Seller, ctx: Ctx,
                          idempotency_key: IdempotencyKey = None) -> Response:
    """Each group takes every unit of the lines it names; lines not named go to one more package."""
    cmd = app.SplitByOrderLines(groups=tuple(tuple((i, None) for i in g.orderLineIds) for g in body.splitGroups),
                                cancelled=(), principal=principal)
    return ctx.idempotency.run(idempotency_key, principal, ["n11 splitCombinePackage", body.model_dump()],
                               lambda uow: app.split_by_order_lines(uow, cmd), lambda _: (200, dict(SUCCESS)))


@router.put(UPDATE_ORDER, summary="Approve lines (status Picking); the answer is per line", response_model=None,
            responses=answers(N11UpdateResult))
def update_order(body: wire.UpdateOrder, principal: Seller, ctx: Ctx) -> dict[str, Any]:
    if body.status != PackageStatus.PICKING.value:
        raise StatusNotPicking("status must be Picking (the only documented value)", field="status")
    ids = [line.lineId for line in body.lines]
    if len(set(ids)) != len(ids):
        raise LineIdRepeated("a lineId appears twice", field="lines")
    return {"content": app.approve_lines(ctx.uow(), ids, principal)}


_STATUSES = {s.value.lower(): s for s in PackageStatus}


def _status(value: str | None) -> PackageStatus | None:
    if value is None:
        return None
    found = _STATUSES.get(value.lower())
    if found is None:
        raise PackageStatusUnknown(f"status must be one of {', '.join(s.value for s in PackageStatus)}",
                                   field="status")
    return found


def _window(start: int | None, end: int | None, now: datetime) -> tuple[datetime, datetime]:
    def at(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)

    def through(ms: int) -> datetime:
        # `endDate` names a millisecond, as `lastModifiedDate` does: every change within it is in the
        # window (a change kept to the microsecond, 12.3456 s, shows as 12345 ms and must not fall out)
        return at(ms) + timedelta(microseconds=999)

    if start is not None and end is not None:
        lo, hi = at(start), through(end)
        if start > end:
            raise DateRangeReversed("startDate is after endDate", field="startDate")
        lo = max(lo, at(end) - MAX_WINDOW)  # too wide: the last month before endDate
    elif start is not None:
        lo = at(start)
        hi = lo + START_ONLY_WINDOW
    elif end is not None:
        hi = through(end)
        lo = at(end) - MAX_WINDOW
    else:
        hi, lo = now, now - MAX_WINDOW
    return max(lo, NO_DATA_BEFORE), hi


EpochMs = Annotated[int | None, Query(ge=0, le=10**14)]


class UnsupportedOrderByField(InvalidInput):
    code = "unsupported_order_by_field"


@router.get(SHIPMENT_PACKAGES, summary="Shipment packages with their lines, newest change first", response_model=None,
            responses=answers(N11ShipmentPackagePage))
def shipment_packages(
        principal: Seller, ctx: Ctx, startDate: EpochMs = None, endDate: EpochMs = None,
        status: Annotated[str | None, Query(max_length=32)] = None,
        orderNumber: Annotated[str | None, Query(max_length=64)] = None,
        packageIds: Annotated[str | None, Query(max_length=2000)] = None,
        page: Annotated[int, Query(ge=0, le=100_000)] = 0, size: Annotated[int, Query(ge=1, le=10_000)] = 20,
        orderByField: Annotated[str | None, Query(max_length=64, description="lastModifiedDate only")] = None,
        orderByDirection: Annotated[str | None, Query(pattern="^(?i:ASC|DESC)$")] = None,
        sender: Annotated[str | None, Query(pattern="^(?i:SELLER|N11|ALL)$")] = None,
) -> dict[str, Any]:
    size = min(size, MAX_PAGE_SIZE)  # silently clamped, as n11 does
    if orderByField is not None and orderByField.lower() != "lastmodifieddate":
        raise UnsupportedOrderByField(f"orderByField {orderByField}: shipment packages are ordered by "
                                      "lastModifiedDate only (n11's order); send lastModifiedDate or nothing",
                                      field="orderByField")
    wanted_status = _status(status)
    if orderNumber and startDate is None and endDate is None:
        # n11's documentation windows a search by its dates only; one order asked by number, without
        # dates, is shown however old (integrators read an order back this way).
        lo, hi = NO_DATA_BEFORE, datetime.max.replace(tzinfo=UTC)
    else:
        lo, hi = _window(startDate, endDate, datetime.now(UTC))
    wanted_ids = frozenset(p.strip() for p in packageIds.split(",") if p.strip()) if packageIds else None
    newest_first = (orderByDirection or "DESC").upper() == "DESC"
    if (sender or "").upper() == "N11":
        return _page([], 0, page, size, ctx)  # packages shipped from n11's own depot: kalem has none
    if orderNumber:
        try:
            orders = [app_orders.get_order(ctx.uow(write=False), orderNumber, principal)]
        except NotFound:
            orders = []
        rows = [(order, p) for order in orders for p in order.packages
                if lo <= views.last_modified(p) <= hi
                and (wanted_status is None or p.status is wanted_status)
                and (wanted_ids is None or p.package_id in wanted_ids)]
        rows.sort(key=lambda row: (views.last_modified(row[1]), row[1].package_id), reverse=newest_first)
        return _page(rows[page * size:(page + 1) * size], len(rows), page, size, ctx)
    # The window, filters, order and count in SQL (the package index): a page reads its own packages'
    # orders only, however many orders the seller has.
    query = PackageQuery(principal.scope, epoch_us(lo), epoch_us(hi),
                         None if wanted_status is None else wanted_status.value, wanted_ids, newest_first)
    with ctx.uow(write=False) as uow:
        packages = uow.repository(N11PackageRepository)
        total = packages.count(query)
        keys = packages.page(query, offset=page * size, limit=size) if page * size < total else []
        by_id = packages.orders(order_id for order_id, _ in keys)
    chunk = [(order, order.package(package_id)) for order_id, package_id in keys
             if (order := by_id.get(order_id)) is not None and principal.sees(order.seller_id, order.channel)]
    return _page(chunk, total, page, size, ctx)


def _page(chunk: list[tuple[Order, Package]], total: int, page: int, size: int, ctx: Ctx) -> dict[str, Any]:
    with ctx.uow(write=False) as uow:
        numbers = line_ids.numbers_of(uow, list({o.id: o for o, _ in chunk}.values()))
    total_pages = (total + size - 1) // size
    return {"pageCount": len(chunk), "totalPages": total_pages, "page": page, "size": size,
            "content": [views.package_view(order, p, numbers) for order, p in chunk]}
