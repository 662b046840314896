"""`/v1/orders/{n}/packages`: packages with their lineage, split (with an optional partial cancel), status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Response
from pydantic import ConfigDict, Field

from kalem.api import examples, views
from kalem.api.context import Caller, Ctx
from kalem.api.routes.orders import IdempotencyKey, SellerScope, _version
from kalem.api.schemas import Id, Note, Strict
from kalem.api.schemas_out import ERRORS, OrderOut, PackageList, SplitOut
from kalem.app import orders as app_orders
from kalem.app import packages as app
from kalem.domain.errors import DuplicateLine
from kalem.domain.orders import Order, PackageStatus, SplitCancel, SplitResult, allowed_actions, lineage

router = APIRouter(prefix="/v1/orders", tags=["packages"], responses=ERRORS)


class SplitItemIn(Strict):
    line_id: Id = Field(description="a line in the package")
    quantity: int = Field(strict=True, description="its units to put in this new package")


class SplitGroupIn(Strict):
    items: Annotated[list[SplitItemIn], Field(min_length=1, max_length=500, description="one new package's units")]


class SplitCancelIn(Strict):
    line_id: Id = Field(description="a line in the package")
    quantity: int = Field(strict=True, description="its units to cancel in the same step")
    reason_id: int = Field(strict=True, description="a cancel reason of GET /v1/reasons")
    note: Note | None = Field(None, description="free text kept with the cancellation")


class SplitIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.SPLIT_IN]})
    packages: Annotated[list[SplitGroupIn], Field(max_length=100, description=(
        "the new packages; units no group names stay together in a remainder package"))]
    cancelled: Annotated[list[SplitCancelIn], Field(max_length=500, description=(
        "units to cancel: they go to an UnSupplied package"))] = []


class StatusIn(Strict):
    status: Literal["Picking", "Shipped", "Delivered"] = Field(description="the next status")
    cargo_tracking_number: Id | None = Field(None, description="the carrier's tracking number (on shipping)")


def packages_view(order: Order) -> dict[str, Any]:
    tree = lineage(order)
    return {
        "order_number": order.order_number, "version": order.version,
        "packages": [{**views.package_view(p), **tree[p.package_id], "live": p.live,
                      "next_actions": allowed_actions(p.status)} for p in order.packages],
    }


def split_view(order: Order, result: SplitResult) -> dict[str, Any]:
    return {
        "package_id": result.parent.package_id,
        "children": [p.package_id for p in result.children],
        "groups": [p.package_id for p in result.groups],
        "remainder": result.remainder.package_id if result.remainder else None,
        "unsupplied": result.unsupplied.package_id if result.unsupplied else None,
        "refund": result.refund.to_dict() if result.refund else None,
        "order": views.order_view(order),
    }


@router.get("/{order_number}/packages", summary="The order's packages, with their lineage",
            response_model=PackageList, name="list")
def list_packages(order_number: str, ctx: Ctx, caller: Caller, response: Response,
                  seller_id: SellerScope = None) -> dict:
    order = app_orders.get_order(ctx.uow(write=False), order_number, caller, seller_id)
    response.headers["ETag"] = f'W/"{order.version}"'
    return packages_view(order)


@router.post("/{order_number}/packages/{package_id}/split",
             summary="Split a Picking package by quantity, optionally cancelling units in the same step",
             response_model=SplitOut)
def split(order_number: str, package_id: str, body: SplitIn, ctx: Ctx, caller: Caller,
          idempotency_key: IdempotencyKey = None, seller_id: SellerScope = None,
          if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> Response:
    groups = []
    for group in body.packages:
        units: dict[str, int] = {}
        for item in group.items:
            if item.line_id in units:
                raise DuplicateLine(f"line {item.line_id} appears twice in one package", line_id=item.line_id)
            units[item.line_id] = item.quantity
        groups.append(units)
    cmd = app.SplitPackage(order_number, package_id, tuple(groups),
                           tuple(SplitCancel(c.line_id, c.quantity, c.reason_id, c.note) for c in body.cancelled),
                           caller, seller_id, _version(if_match))
    return ctx.idempotency.run(
        idempotency_key, caller, [f"POST /v1/orders/{order_number}/packages/{package_id}/split",
                                  body.model_dump(mode="json")],
        lambda uow: app.split_package(uow, cmd), lambda done: (200, split_view(done.order, done.result)),
        optimistic=True)


@router.post("/{order_number}/packages/{package_id}/status",
             summary="Move a package one step: approve (Picking), ship (Shipped), deliver (Delivered)",
             response_model=OrderOut)
def set_status(order_number: str, package_id: str, body: StatusIn, ctx: Ctx, caller: Caller,
               idempotency_key: IdempotencyKey = None, seller_id: SellerScope = None,
               if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> Response:
    cmd = app.SetPackageStatus(order_number, package_id, PackageStatus(body.status), caller,
                               body.cargo_tracking_number, seller_id, _version(if_match))
    return ctx.idempotency.run(
        idempotency_key, caller, [f"POST /v1/orders/{order_number}/packages/{package_id}/status",
                                  body.model_dump(mode="json")],
        lambda uow: app.set_package_status(uow, cmd), lambda order: (200, views.order_view(order)))
