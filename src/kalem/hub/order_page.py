"""The order page a seller needs: what the order cost, was paid and got back; the customer, addresses
and payment; each line with its units' states (a bar and unit numbers); packages with their split
lineage; cancel requests, refunds, invoices, credit notes and landed cost; the history in words; for
operators, webhook deliveries and a technical section (ids, version, event codes and data). Every
figure comes from one read (`app.order_overview`); the page computes none."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from markupsafe import Markup

from kalem.app import access
from kalem.app import cancel_queue as queue
from kalem.app.order_overview import order_overview
from kalem.app.orders import list_orders
from kalem.app.webhooks import list_deliveries
from kalem.domain.orders import Ledger, Line, Order, OrderStatus, Package, UnitState, channel_name
from kalem.hub.sections import OrderSectionView, rendered_sections
from kalem.hub.web import PREFIX, HubRoute, SignedIn, StatusFilterUnknown, who

router = APIRouter(prefix=PREFIX, route_class=HubRoute, include_in_schema=False)

#: Bar segments in the order a unit travels; the CSS class is `seg-<state>`.
STATES = tuple(UnitState)


@dataclass(frozen=True, slots=True)
class Segment:
    state: str
    count: int
    x: float  # percent
    width: float


def ledger_segments(ledger: Ledger) -> list[Segment]:
    total = ledger.total or 1
    out, x = [], 0.0
    for state in STATES:
        n = ledger.count(state)
        if n:
            width = 100 * n / total
            out.append(Segment(state.value, n, round(x, 3), round(width, 3)))
            x += width
    return out


def unit_runs(line: Line) -> list[tuple[str, str]]:
    """(unit numbers, state) per run of the line's units, by number: "1–2", "cancelled"."""
    return [(f"{a}" if a == b else f"{a}–{b}", state.value) for a, b, state in line.units.runs]


@dataclass
class PackageNode:
    package: Package
    children: list[PackageNode] = field(default_factory=list)


def package_tree(packages: tuple[Package, ...]) -> list[PackageNode]:
    """Packages under the package they were split from; a parent not on the order makes a root."""
    nodes = {p.package_id: PackageNode(p) for p in packages}
    roots: list[PackageNode] = []
    for p in packages:
        parent = nodes.get(p.parent_id) if p.parent_id and p.parent_id != p.package_id else None
        (parent.children if parent else roots).append(nodes[p.package_id])
    return roots


@router.get("/orders")
def orders_page(page: SignedIn, number: Annotated[str | None, Query(max_length=64)] = None,
                seller: Annotated[str | None, Query(max_length=64)] = None,
                status: Annotated[str | None, Query(max_length=32)] = None,
                channel: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    if number and number.strip():
        suffix = f"?seller={quote(seller, safe='')}" if seller and page.principal.scope is None else ""
        return page.redirect(f"{PREFIX}/orders/{quote(number.strip(), safe='')}{suffix}")
    if status and status not in {s.value for s in OrderStatus}:
        raise StatusFilterUnknown("unknown status", field="status")
    chosen = channel_name(channel) if channel else None
    found = list_orders(page.uow(), page.principal, seller_id=seller or None, status=status or None,
                        limit=100, after=None, channel=chosen)
    return page.render("orders.html", orders=found, seller=seller or "", status=status or "",
                       channel=chosen or "", statuses=[s.value for s in OrderStatus],
                       sellers=queue.sellers(page.uow(), page.principal),
                       channels=queue.channels(page.uow(), page.principal, seller or None))


@router.get("/orders/{order_number}")
def order_page(order_number: str, page: SignedIn,
               seller: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    overview = order_overview(page.uow(), order_number, page.principal, seller or None)
    order = overview.order
    view = OrderSectionView(order, page.principal, page.lang, page.ctx.uow)
    sections = [(key, title, Markup(html) if html is not None else None)  # noqa: S704 - sections return trusted HTML
                for key, title, html in rendered_sections(view, page.request.app.state.hub_sections)]
    billing = overview.billing
    deliveries = list_deliveries(page.uow(), page.principal, subscription_id=None, status=None, limit=20,
                                 before_id=None, order_id=order.id) if page.principal.role == "operator" else None
    actors = [e["actor"] for e in overview.events] + [r.requested_by for r in overview.requests]
    names = access.actor_names(page.uow(), actors)
    line_names = _line_names(order)
    return page.render("order.html", order=order, m=overview.money, events=list(reversed(overview.events)),
                       requests=overview.requests,
                       bars={ln.line_id: ledger_segments(ln.ledger) for ln in order.lines},
                       runs={ln.line_id: unit_runs(ln) for ln in order.lines},
                       tree=package_tree(order.packages), line_names=line_names, sections=sections,
                       states=[s.value for s in STATES], billing=billing,
                       landed_cost=_latest_landed_cost(billing.landed_costs) if billing else None,
                       refunds=overview.refunds, deliveries=deliveries, who={a: who(a, names, page.t) for a in actors},
                       billing_reason=lambda text: billing_reason(text, page.t, line_names))


_REMOVED = re.compile(r"(\d+) x (.+) removed")


def billing_reason(text: str | None, t: Callable[..., str], line_names: dict[str, str]) -> str:
    """Why an invoice or credit note was issued, in the reader's language (the billing records it in
    English: "order placed", "2 x <line id> removed", "order cancelled")."""
    if not text:
        return "—"
    removed = _REMOVED.fullmatch(text)
    if removed:
        return t("billing_reason.removed", n=removed[1], name=line_names.get(removed[2], removed[2]))
    return t(f"billing_reason.{text.replace(' ', '_')}") if text in ("order placed", "order cancelled") else text


def _latest_landed_cost(records: tuple[dict, ...]) -> dict | None:
    """The latest computation, its amounts (stored as exact strings) as Decimals for display."""
    if not records:
        return None
    latest = records[-1]
    return {**latest, **{k: Decimal(latest[k]) for k in ("items", "shipping", "duties", "taxes", "fees", "total")}}


def _line_names(order: Order) -> dict[str, str]:
    return {ln.line_id: ln.name for ln in order.lines}
