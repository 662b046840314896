"""Zonos webhook deliveries: the worker renders each one with the order as it is when sent, the way
Zonos builds a body by running the webhook's query (`views.WEBHOOK_QUERY`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kalem.app.principals import Principal
from kalem.platforms.zonos import billing
from kalem.platforms.zonos.face import views
from kalem.store.uow import UnitOfWork

#: The worker reads any seller's order (the delivery was already matched to its subscriber).
_WORKER = Principal("operator", "webhooks")


def renderer(uow: Callable[[], UnitOfWork]) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """The payload renderer the composition root hands to the webhook worker for dialect `zonos`."""
    def render(event: dict[str, Any]) -> list[dict[str, Any]]:
        if not views.sends(event):
            return []  # no read for events that send nothing
        page = billing.read_orders(uow(), _WORKER, ref=billing.OrderRef(event["order_id"]))
        order = page.orders[0]
        return views.hook_payloads(event, order, page.actors[order.id])
    return render
