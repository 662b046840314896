"""The matrix's rows: every endpoint of every face with a valid request against seller acme's
resources, what a refusal looks like in each face's envelope, and the public allowlist."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.routing import Mount, WebSocketRoute

from kalem.platforms.hepsiglobal import wire as hg_wire
from tests.reliability.authz_world import (
    DELIVERED,
    HG,
    MAIN,
    POLICY_CHANNEL,
    VICTIM,
    ZONOS,
    Call,
    World,
    hg_order,
    line,
    native_order,
    package,
)

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # older FastAPI: app.routes is already flat
    iter_route_contexts = None

#: Endpoints outside the matrix, each public by design (reviewed: adding a route here is a decision).
PUBLIC = {
    ("GET", "/healthz"), ("GET", "/readyz"),                  # liveness/readiness: no data
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"),
    ("MOUNT", "/static-offline-docs"),                      # Swagger UI's own files
    ("GET", "/graphql/schema.graphql"), ("GET", "/v1/webhook-event-types"),  # the API's own description
    ("POST", "/Auth/login"), ("POST", "/v1/auth/token"),    # credential-issuing logins: they check the
    ("POST", "/api/v1/auth/login/"),                        # credential in the body (face tests cover them)
    ("GET", "/hub/login"), ("POST", "/hub/login"),          # the hub's sign-in page and form
    ("GET", "/hub"), ("GET", "/hub/"),                      # a redirect to the queue or to sign-in
    ("POST", "/hub/logout"),                                # drops the caller's own cookie, touches no data
    ("MOUNT", "/hub/static"),                               # CSS and htmx
    *((m, "/hub/{rest:path}") for m in ("GET", "POST", "PUT", "PATCH", "DELETE")),  # the hub's not-found page
    # A platform's webhook to a channel account: signed with the account's secret, no bearer (tests/channels).
    ("PUT", "/v1/channel-webhooks/hepsiglobal/{seller_id}/{channel}/webhooks/order-cancel"),
    ("POST", "/v1/channel-webhooks/zonos/{seller_id}/{channel}"),
    ("POST", "/v1/channel-webhooks/hebiar/{seller_id}/{channel}"),
}

# Face → (the credentials it is tried with, the victim's own credential).
TRANSPORTS = {"native": ("bearer", "bearer"), "hebiar": ("bearer", "hebiar"), "hepsiglobal": ("bearer", "hg"),
              "akinon": ("token", "token"), "n11": ("n11", "n11"), "zonos": ("zonos", "zonos"), "hub": ("hub", "hub")}


@dataclass(frozen=True)
class Entry:
    """One endpoint. `calls(w)`: the valid request first, then variants another seller might try
    (`?seller_id=acme`…), all sent with every foreign credential.

    kind: `owned` (acts on or reads the victim's resource), `listing` (answers the caller's own data:
    the victim's must be absent), `catalog` (no seller data: any valid credential reads it),
    `closed` (refused for everyone, the owner too)."""

    face: str
    method: str
    route: str  # the app's path template, or `Query.<field>` / `Mutation.<field>` for GraphQL
    calls: Callable[[World], list[Call]]
    kind: str = "owned"
    operator: bool = False  # operators only: a seller's own credential is refused too
    body_schema: dict[str, Any] | None = None  # the documented body, when OpenAPI shows another (HG intake)
    foreign_ok: Callable[[World, httpx.Response], bool] | None = None  # a face's own way of saying "not yours"
    operator_too: bool = False  # an operator may do it too, for any seller (its reads are checked as well)

    @property
    def key(self) -> tuple[str, str]:
        return ("POST", "/graphql") if self.route.startswith(("Query.", "Mutation.")) else (self.method, self.route)

    @property
    def reads(self) -> bool:
        return self.method == "GET" or self.route.startswith("Query.") or self.route.endswith("refund-preview")


def scoped(call: Call, **params: str) -> list[Call]:
    """The call, and the call naming the victim as the seller (an operator's filter, ignored for sellers)."""
    return [call, replace(call, params={**(call.params or {}), **params})]


def c(method: str, path: str, **more: Any) -> Call:
    return Call(method, path, **more)


def gql(query: str, **variables: Any) -> Call:
    return Call("POST", "/graphql", json={"query": query, "variables": variables})


CANCEL_LINE = {"line_id": line(MAIN), "quantity": 1, "reason_id": 136}
AK_PREFIXES = ("/api/v1/channel/{channel_id}", "/api/channel/{channel_id}", "/api/v1")
AK_CHANNEL = "2"   # the Akinon id of channel n11, the world's orders' channel: a channel's paths hold its orders


def _native() -> list[Entry]:
    o, p = f"/v1/orders/{MAIN}", f"/v1/orders/{MAIN}/packages/{package(MAIN)}"
    seller = {"seller_id": VICTIM}
    e = Entry
    return [
        e("native", "GET", "/v1/reasons", lambda w: [c("GET", "/v1/reasons")], kind="catalog"),
        e("native", "GET", "/metrics", lambda w: [c("GET", "/metrics")], operator=True),
        e("native", "POST", "/v1/orders", lambda w: [c("POST", "/v1/orders", json=native_order("4100000091"))]),
        # A batch answers 200 with one result per order: another seller's orders are each refused.
        e("native", "POST", "/v1/orders/batch",
          lambda w: [c("POST", "/v1/orders/batch", json={"orders": [native_order("4100000093")]})],
          foreign_ok=lambda w, r: r.status_code == 200 and [(x["status"], x["error"]["code"]) for x in
                                                             r.json()["results"]] == [(403, "seller_id_mismatch")]),
        e("native", "GET", "/v1/orders", lambda w: scoped(c("GET", "/v1/orders"), **seller), kind="listing"),
        e("native", "GET", "/v1/orders/{order_number}", lambda w: scoped(c("GET", o), **seller)),
        e("native", "POST", "/v1/orders/{order_number}/cancellations",
          lambda w: scoped(c("POST", f"{o}/cancellations", json={"lines": [CANCEL_LINE]}), **seller)),
        e("native", "GET", "/v1/orders/{order_number}/events", lambda w: scoped(c("GET", f"{o}/events"), **seller)),
        e("native", "POST", "/v1/cancel-requests", lambda w: [c("POST", "/v1/cancel-requests", json={
            "order_number": MAIN, "seller_id": VICTIM, "lines": [CANCEL_LINE]})]),
        e("native", "GET", "/v1/cancel-requests",
          lambda w: scoped(c("GET", "/v1/cancel-requests"), seller_id=VICTIM, order_number=MAIN), kind="listing"),
        e("native", "GET", "/v1/cancel-requests/{request_id}", lambda w: [c("GET", f"/v1/cancel-requests/{w.cr_id}")]),
        e("native", "POST", "/v1/cancel-requests/{request_id}/approve",
          lambda w: [c("POST", f"/v1/cancel-requests/{w.cr_id}/approve", json={})]),
        e("native", "POST", "/v1/cancel-requests/{request_id}/reject",
          lambda w: [c("POST", f"/v1/cancel-requests/{w.cr_id}/reject", json={"reason_id": 168})]),
        e("native", "POST", "/v1/cancel-requests/{request_id}/withdraw",
          lambda w: [c("POST", f"/v1/cancel-requests/{w.cr_id}/withdraw")]),
        *[e("native", "GET", f"/v1/orders/{{order_number}}/{doc}",
            lambda w, doc=doc: scoped(c("GET", f"/v1/orders/{ZONOS}/{doc}"), **seller))
          for doc in ("invoices", "credit-notes", "landed-costs")],
        e("native", "POST", "/v1/orders/{order_number}/invoices/{invoice_number}/charge",
          lambda w: scoped(c("POST", f"/v1/orders/{ZONOS}/invoices/{w.invoice}/charge"), **seller), operator=True),
        e("native", "GET", "/v1/orders/{order_number}/packages", lambda w: scoped(c("GET", f"{o}/packages"), **seller)),
        e("native", "POST", "/v1/orders/{order_number}/packages/{package_id}/split", lambda w: scoped(
            c("POST", f"{p}/split", json={"packages": [{"items": [{"line_id": line(MAIN), "quantity": 1}]}]}),
            **seller)),
        e("native", "POST", "/v1/orders/{order_number}/packages/{package_id}/status", lambda w: scoped(
            c("POST", f"{p}/status", json={"status": "Shipped", "cargo_tracking_number": "CT-AUTHZ"}), **seller)),
        # Self-service: a seller manages its own subscriptions, deliveries and tokens (an operator too, for
        # any seller); delete last, so the owner's own run reaches the others first.
        e("native", "POST", "/v1/webhook-subscriptions", lambda w: [c("POST", "/v1/webhook-subscriptions", json={
            "url": "http://127.0.0.1:9/authz-2", "event_types": ["*"], "seller_id": VICTIM})], operator_too=True),
        e("native", "GET", "/v1/webhook-subscriptions", lambda w: [c("GET", "/v1/webhook-subscriptions")],
          kind="listing", operator_too=True),
        e("native", "GET", "/v1/webhook-subscriptions/{sub_id}",
          lambda w: [c("GET", f"/v1/webhook-subscriptions/{w.sub_id}")], operator_too=True),
        e("native", "PATCH", "/v1/webhook-subscriptions/{sub_id}",
          lambda w: [c("PATCH", f"/v1/webhook-subscriptions/{w.sub_id}", json={"enabled": False})],
          operator_too=True),
        e("native", "POST", "/v1/webhook-subscriptions/{sub_id}/replay", lambda w: [
            c("POST", f"/v1/webhook-subscriptions/{w.sub_id}/replay", json={"since": "2020-01-01T00:00:00Z"})],
          operator_too=True),
        e("native", "POST", "/v1/webhook-subscriptions/{sub_id}/redeliver-dead",
          lambda w: [c("POST", f"/v1/webhook-subscriptions/{w.sub_id}/redeliver-dead")], operator_too=True),
        e("native", "GET", "/v1/webhook-deliveries",
          lambda w: [c("GET", "/v1/webhook-deliveries", params={"subscription_id": w.sub_id})], operator_too=True),
        e("native", "GET", "/v1/webhook-deliveries/{delivery_id}",
          lambda w: [c("GET", f"/v1/webhook-deliveries/{w.delivery_id}")], operator_too=True),
        e("native", "POST", "/v1/webhook-deliveries/{delivery_id}/redeliver",
          lambda w: [c("POST", f"/v1/webhook-deliveries/{w.delivery_id}/redeliver")], operator_too=True),
        e("native", "DELETE", "/v1/webhook-subscriptions/{sub_id}",
          lambda w: [c("DELETE", f"/v1/webhook-subscriptions/{w.sub_id}")], operator_too=True),
        e("native", "POST", "/v1/tokens", lambda w: [c("POST", "/v1/tokens", json={
            "name": "made in the matrix", "seller_id": VICTIM})], operator_too=True),
        e("native", "GET", "/v1/tokens", lambda w: scoped(c("GET", "/v1/tokens"), **seller), kind="listing",
          operator_too=True),
        e("native", "POST", "/v1/channel-accounts", lambda w: [c("POST", "/v1/channel-accounts", json={
            "platform": "n11", "base_url": "http://127.0.0.1:9", "channel": "n11-second", "seller_id": VICTIM,
            "credentials": {"appkey": "k", "appsecret": "s"}})]),
        e("native", "GET", "/v1/channel-accounts", lambda w: scoped(c("GET", "/v1/channel-accounts"), **seller),
          kind="listing"),
        e("native", "GET", "/v1/channel-accounts/{account_id}",
          lambda w: [c("GET", f"/v1/channel-accounts/{w.channel_account}")]),
        e("native", "GET", "/v1/channel-accounts/{account_id}/pushes",
          lambda w: [c("GET", f"/v1/channel-accounts/{w.channel_account}/pushes")]),
        e("native", "POST", "/v1/channel-pushes/{push_id}/replay",
          lambda w: [c("POST", f"/v1/channel-pushes/{w.dead_push}/replay")]),
        e("native", "GET", "/v1/channel-accounts/{account_id}/drift",
          lambda w: [c("GET", f"/v1/channel-accounts/{w.channel_account}/drift")]),
        e("native", "POST", "/v1/channel-drift/{drift_id}/resolve",
          lambda w: [c("POST", f"/v1/channel-drift/{w.drift}/resolve", json={"resolution": "push_kalem"})]),
        e("native", "DELETE", "/v1/channel-accounts/{account_id}",
          lambda w: [c("DELETE", f"/v1/channel-accounts/{w.channel_account}")]),
        e("native", "DELETE", "/v1/tokens/{token_id}",
          lambda w: [c("DELETE", f"/v1/tokens/{w.spare_token}")], operator_too=True),
        e("native", "GET", "/v1/events", lambda w: [c("GET", "/v1/events", params={"limit": 1000})], kind="listing"),
        e("native", "POST", "/v1/orders/{order_number}/refund-preview", lambda w: scoped(
            c("POST", f"{o}/refund-preview", json={"lines": [{"line_id": line(MAIN), "quantity": 1}]}), **seller)),
        e("native", "POST", "/v1/orders/{order_number}/cancellations-with-refund", lambda w: scoped(
            c("POST", f"{o}/cancellations-with-refund", json={"lines": [CANCEL_LINE]}), **seller)),
        e("native", "POST", "/v1/orders/{order_number}/refunds", lambda w: scoped(c("POST", f"{o}/refunds", json={
            "lines": [{"line_id": line(MAIN), "quantity": 1}], "cause": "cancellation"}), **seller)),
        e("native", "GET", "/v1/orders/{order_number}/refunds", lambda w: scoped(c("GET", f"{o}/refunds"), **seller)),
        e("native", "GET", "/v1/refunds/{refund_id}", lambda w: [c("GET", f"/v1/refunds/{w.refund_id}")]),
        e("native", "POST", "/v1/refunds/{refund_id}/settle",
          lambda w: [c("POST", f"/v1/refunds/{w.refund_id}/settle", json={"status": "succeeded"})], operator=True),
        e("native", "POST", "/v1/refunds/{refund_id}/retry",
          lambda w: [c("POST", f"/v1/refunds/{w.failed_refund}/retry", json={})], operator=True),
        # A seller reads and sets its own refund policy; an operator any seller's (named by `seller_id`).
        # The owner's run keeps the default, so the later writes still refund on decision.
        e("native", "GET", "/v1/refund-policy",
          lambda w: [c("GET", "/v1/refund-policy", params=seller)], operator_too=True),
        e("native", "PUT", "/v1/refund-policy",
          lambda w: [c("PUT", "/v1/refund-policy", params=seller, json={"policy": "on_decision"})],
          operator_too=True),
        e("native", "PUT", "/v1/refund-policy/channels/{channel}",
          lambda w: [c("PUT", f"/v1/refund-policy/channels/{POLICY_CHANNEL}", params=seller,
                       json={"policy": "manual"})], operator_too=True),
        e("native", "DELETE", "/v1/refund-policy/channels/{channel}",
          lambda w: [c("DELETE", f"/v1/refund-policy/channels/{POLICY_CHANNEL}", params=seller)],
          operator_too=True),
        e("native", "POST", "/v1/orders/{order_number}/returns", lambda w: scoped(
            c("POST", f"/v1/orders/{DELIVERED}/returns",
              json={"lines": [{"line_id": line(DELIVERED), "quantity": 1, "reason_id": 152}]}), **seller)),
        e("native", "GET", "/v1/returns/{return_id}", lambda w: [c("GET", f"/v1/returns/{w.return_id}")]),
        e("native", "POST", "/v1/returns/{return_id}/approve",
          lambda w: [c("POST", f"/v1/returns/{w.return_id}/approve")]),
        e("native", "POST", "/v1/returns/{return_id}/reject",
          lambda w: [c("POST", f"/v1/returns/{w.return_id}/reject", json={"reason_id": 167})]),
        e("native", "GET", "/v1/sellers/{seller_id}/cancellation-strategy",
          lambda w: [c("GET", f"/v1/sellers/{VICTIM}/cancellation-strategy")]),
        e("native", "PUT", "/v1/sellers/{seller_id}/cancellation-strategy",
          lambda w: [c("PUT", f"/v1/sellers/{VICTIM}/cancellation-strategy", json={"cargo_rule": "never"})],
          operator=True),
    ]


def _hebiar() -> list[Entry]:
    unit = [{"sourceOrderItemLineId": f"{line(MAIN)}-6", "quantity": 1, "reasonId": 137, "reasonDesc": "x"}]
    return [
        Entry("hebiar", "POST", "/Orders/CreateOrderItemLineCancelRequest",
              lambda w: [c("POST", "/Orders/CreateOrderItemLineCancelRequest", json=unit)]),
        Entry("hebiar", "POST", "/Orders/CancelOrderItemLineList",
              lambda w: [c("POST", "/Orders/CancelOrderItemLineList", json=unit)]),
        Entry("hebiar", "GET", "/Lookup/OrderStatusReasonByTenant/GetStatusReasonByType",
              lambda w: [c("GET", "/Lookup/OrderStatusReasonByTenant/GetStatusReasonByType",
                           params={"statusType": "Cancelled"})], kind="catalog"),
        Entry("hebiar", "GET", "/orders/GetOrderPackages",
              lambda w: scoped(c("GET", "/orders/GetOrderPackages", params={"size": 100}), OrderNumber=MAIN),
              kind="listing"),
    ]


def _n11_update_refused(w: World, response: httpx.Response) -> bool:
    """n11's UpdateOrder answers per line: another seller's line is a line that does not exist."""
    return response.status_code == 200 and response.json()["content"] == [
        {"lineId": w.n11_line, "status": None, "reasons": [f"orderLineId {w.n11_line} not found"]}]


def _n11() -> list[Entry]:
    base = "/rest/delivery/v1"
    return [
        Entry("n11", "POST", f"{base}/splitPackageByQuantity", lambda w: [c(
            "POST", f"{base}/splitPackageByQuantity",
            json={"splitPackages": [{"packageDetails": [{"orderLineId": w.n11_line, "quantities": 1}]}]})]),
        Entry("n11", "POST", f"{base}/splitCombinePackage", lambda w: [c("POST", f"{base}/splitCombinePackage", json={
            "splitGroups": [{"orderLineIds": [w.n11_line]}]})]),
        Entry("n11", "PUT", "/rest/order/v1/update", lambda w: [c("PUT", "/rest/order/v1/update", json={
            "lines": [{"lineId": w.n11_line}], "status": "Picking"})], foreign_ok=_n11_update_refused),
        Entry("n11", "GET", f"{base}/shipmentPackages", lambda w: [
            c("GET", f"{base}/shipmentPackages", params={"size": 100}),
            c("GET", f"{base}/shipmentPackages", params={"orderNumber": MAIN}),
            c("GET", f"{base}/shipmentPackages", params={"packageIds": package(MAIN)})], kind="listing"),
    ]


def _hepsiglobal() -> list[Entry]:
    item = f"{HG}_sku1"
    return [
        # HG's intake claims the native path by the body's shape (api/intake.py).
        Entry("hepsiglobal", "POST", "/v1/orders", lambda w: [c("POST", "/v1/orders", json=hg_order("4100000092"))],
              body_schema=hg_wire.OrderIn.model_json_schema()),
        Entry("hepsiglobal", "PUT", "/v1/orders/{order_number}/order_items/{order_item_number}",
              lambda w: [c("PUT", f"/v1/orders/{HG}/order_items/{item}", json={"reason": "customer_demand"})]),
        Entry("hepsiglobal", "POST", "/v1/refunds", lambda w: [c("POST", "/v1/refunds", json={
            "refund_number": "RF-AUTHZ-1", "order_number": HG,
            "items": [{"order_item_number": item, "quantity": 1, "reason": "defective"}]})]),
    ]


def _akinon() -> list[Entry]:
    def cancel(w: World) -> dict[str, Any]:
        return {"order": w.ak_order, "is_all": False, "cancel_items": [w.ak_item], "forced_refund_amount": None,
                "reasons": {str(w.ak_item): 136}}
    entries = [
        Entry("akinon", "POST", "/api/i1/orders/{order_id}/cancel/",
              lambda w: [c("POST", f"/api/i1/orders/{w.ak_order}/cancel/", json=cancel(w))]),
        Entry("akinon", "POST", "/api/v1/orders/{order_id}/cancel/",
              lambda w: [c("POST", f"/api/v1/orders/{w.ak_order}/cancel/", json=cancel(w))]),
        Entry("akinon", "POST", "/api/v1/channel/{channel_id}/orders/{pk}/cancel",
              lambda w: [c("POST", f"/api/v1/channel/{AK_CHANNEL}/orders/{w.ak_order}/cancel", json=cancel(w))]),
        Entry("akinon", "GET", "/api/v1/orders/",
              lambda w: [c("GET", "/api/v1/orders/"), c("GET", "/api/v1/orders/", params={"number": MAIN})],
              kind="listing"),
        Entry("akinon", "GET", "/api/v1/orders/{pk}/", lambda w: [c("GET", f"/api/v1/orders/{w.ak_order}/")]),
        Entry("akinon", "GET", "/api/i1/orders_integration/{pk}/detailed_integration/",
              lambda w: [c("GET", f"/api/i1/orders_integration/{w.ak_order}/detailed_integration/")]),
        Entry("akinon", "GET", "/api/v1/orders_integration/{pk}/detailed_integration/",
              lambda w: [c("GET", f"/api/v1/orders_integration/{w.ak_order}/detailed_integration/")]),
        Entry("akinon", "GET", "/api/v1/channel/{channel_id}/cancellation_reasons/",
              lambda w: [c("GET", "/api/v1/channel/1/cancellation_reasons/")], kind="catalog"),
        Entry("akinon", "GET", "/api/v1/channel/{channel_id}/cancellation_reasons/{pk}/",
              lambda w: [c("GET", "/api/v1/channel/1/cancellation_reasons/136/")], kind="catalog"),
    ]
    for prefix in AK_PREFIXES:
        real = prefix.replace("{channel_id}", AK_CHANNEL)
        base, here = f"{prefix}/cancellation_requests", f"{real}/cancellation_requests"
        entries += [
            Entry("akinon", "GET", f"{base}/", lambda w, here=here: [c("GET", f"{here}/")], kind="listing"),
            Entry("akinon", "POST", f"{base}/", lambda w, here=here: [
                c("POST", f"{here}/", json={"order_item": w.ak_item, "reason": 136})]),
            Entry("akinon", "GET", f"{base}/{{pk}}/", lambda w, here=here: [c("GET", f"{here}/{w.ak_request}/")]),
            Entry("akinon", "POST", f"{base}/{{pk}}/approve/",
                  lambda w, here=here: [c("POST", f"{here}/{w.ak_request}/approve/", json={})]),
            Entry("akinon", "POST", f"{base}/{{pk}}/reject/",
                  lambda w, here=here: [c("POST", f"{here}/{w.ak_request}/reject/", json={"reason": 168})]),
        ]
    return entries


ORDER_FIELDS = "id accountOrderNumber status items { id quantity }"


def _zonos() -> list[Entry]:
    update = ("mutation($id: ID, $aon: String, $item: ID, $sku: String) { orderItemUpdate(orderId: $id, "
              "accountOrderNumber: $aon, itemId: $item, itemSku: $sku, quantity: 1) "
              f"{{ order {{ {ORDER_FIELDS} }} }} }}")
    refund = "mutation($input: OrderRefundCreateInput!) { orderRefundCreate(input: $input) { id amount } }"
    orders = f"query($f: OrderFilter) {{ orders(first: 100, filter: $f) {{ edges {{ node {{ {ORDER_FIELDS} }} }} }} }}"
    return [
        Entry("zonos", "POST", "Query.order",
              lambda w: [gql(f"query($id: ID!) {{ order(orderId: $id) {{ {ORDER_FIELDS} }} }}", id=w.zonos_order)]),
        Entry("zonos", "POST", "Query.orders",
              lambda w: [gql(orders), gql(orders, f={"accountOrderNumber": f"AO-{ZONOS}"})], kind="listing"),
        Entry("zonos", "POST", "Query.orderFulfillmentProgress", lambda w: [gql(
            "query($id: ID!) { orderFulfillmentProgress(orderId: $id) { notFulfilled { quantity } } }",
            id=w.zonos_order)]),
        Entry("zonos", "POST", "Mutation.orderItemUpdate", lambda w: [
            gql(update, id=w.zonos_order, item=w.zonos_item), gql(update, aon=f"AO-{ZONOS}", sku="SKU-Z")]),
        Entry("zonos", "POST", "Mutation.orderRefundCreate", lambda w: [gql(refund, input={
            "id": w.zonos_order, "currencyCode": "USD", "note": "authz",
            "subtotals": [{"amount": 1.0, "type": "ITEM"}]})]),
        Entry("zonos", "POST", "Query.webhookLogs",
              lambda w: [gql("{ webhookLogs { id type url createdAt responseStatus } }")], kind="listing"),
        # Registers the caller's own webhook (the same url and type again: the same webhook, nothing new).
        Entry("zonos", "POST", "Mutation.webhookCreate", lambda w: [gql(
            'mutation { webhookCreate(input: {url: "http://127.0.0.1:9/zonos-own", type: ORDER_UPDATED}) '
            '{ id url } }')],
              kind="listing"),
        Entry("zonos", "POST", "Mutation.webhookUpdate", lambda w: [gql(
            "mutation($input: WebhookUpdateInput!) { webhookUpdate(input: $input) { id url status } }",
            input={"id": w.zonos_hook, "status": "ENABLED"})]),
        Entry("zonos", "POST", "Mutation.orderCancel",
              lambda w: [gql(f"mutation($id: ID!) {{ orderCancel(id: $id) {{ {ORDER_FIELDS} }} }}", id=w.zonos_order)]),
        # Queries over GET answer as over POST; GraphQL over WebSocket is off: refused for everyone.
        Entry("zonos", "GET", "/graphql", lambda w: [c("GET", "/graphql", params={
            "query": f"query($id: ID!) {{ order(orderId: $id) {{ {ORDER_FIELDS} }} }}",
            "variables": json.dumps({"id": w.zonos_order})})]),
        Entry("zonos", "WS", "/graphql", lambda w: [Call("GET", "/graphql", websocket=True)], kind="closed"),
        *(Entry("zonos", m, "/graphql", lambda w, m=m: [c(m, "/graphql", json={"query": "{ __typename }"})],
                kind="closed") for m in ("PUT", "PATCH", "DELETE")),  # 405: GraphQL is GET or POST
    ]


def _hub() -> list[Entry]:
    q, i = "/hub/cancel-requests", "/hub/integrations"
    return [
        Entry("hub", "GET", q, lambda w: scoped(c("GET", q), seller=VICTIM, q=MAIN), kind="listing"),
        Entry("hub", "GET", f"{q}/{{request_id}}", lambda w: [c("GET", f"{q}/{w.cr_id}")]),
        Entry("hub", "POST", f"{q}/{{request_id}}/preview",
              lambda w: [c("POST", f"{q}/{w.cr_id}/preview", form={f"qty:{line(MAIN)}": "1"})]),
        Entry("hub", "POST", f"{q}/{{request_id}}/approve", lambda w: [c("POST", f"{q}/{w.cr_id}/approve", form={})]),
        Entry("hub", "POST", f"{q}/{{request_id}}/reject",
              lambda w: [c("POST", f"{q}/{w.cr_id}/reject", form={"reason_id": "168"})]),
        Entry("hub", "POST", f"{q}/bulk", lambda w: [
            c("POST", f"{q}/bulk", form={"ids": w.cr_id, "action": "approve", "step": "confirm"}),
            c("POST", f"{q}/bulk", form={"ids": w.cr_id, "action": "reject", "reason_id": "168", "step": "confirm"}),
            c("POST", f"{q}/bulk", form={"ids": w.cr_id, "action": "approve"})]),  # another's request: not found
        # The refunds view: a seller sees its own; only an operator settles or retries.
        Entry("hub", "GET", "/hub/refunds", lambda w: scoped(c("GET", "/hub/refunds"), seller=VICTIM),
              kind="listing", operator_too=True),
        Entry("hub", "POST", "/hub/refunds/{refund_id}/settle",
              lambda w: [c("POST", f"/hub/refunds/{w.refund_id}/settle", form={"status": "succeeded"})],
              operator=True),
        Entry("hub", "POST", "/hub/refunds/{refund_id}/retry",
              lambda w: [c("POST", f"/hub/refunds/{w.failed_refund}/retry", form={})], operator=True),
        Entry("hub", "GET", "/hub/orders", lambda w: scoped(c("GET", "/hub/orders"), seller=VICTIM), kind="listing"),
        Entry("hub", "GET", "/hub/orders/{order_number}",
              lambda w: scoped(c("GET", f"/hub/orders/{MAIN}"), seller=VICTIM)),
        # The Integrations page: the victim's tokens, subscriptions and deliveries (another seller's forms
        # also name the victim as `seller_id`); delete last.
        Entry("hub", "GET", i, lambda w: scoped(c("GET", i), seller=VICTIM), kind="listing", operator_too=True),
        Entry("hub", "POST", f"{i}/tokens", lambda w: [c("POST", f"{i}/tokens", form={"name": "hub matrix"})]),
        Entry("hub", "POST", f"{i}/tokens/{{token_id}}/revoke",
              lambda w: [c("POST", f"{i}/tokens/{w.spare_token}/revoke", form={})]),
        Entry("hub", "POST", f"{i}/subscriptions", lambda w: [c("POST", f"{i}/subscriptions", form={
            "url": "http://127.0.0.1:9/hub-authz", "event_types": "order.*"})]),
        Entry("hub", "POST", f"{i}/subscriptions/{{sub_id}}/enabled",
              lambda w: [c("POST", f"{i}/subscriptions/{w.sub_id}/enabled", form={"enabled": "false"})]),
        Entry("hub", "POST", f"{i}/subscriptions/{{sub_id}}/redeliver-dead",
              lambda w: [c("POST", f"{i}/subscriptions/{w.sub_id}/redeliver-dead", form={})]),
        Entry("hub", "POST", f"{i}/deliveries/{{delivery_id}}/redeliver",
              lambda w: [c("POST", f"{i}/deliveries/{w.delivery_id}/redeliver", form={})]),
        Entry("hub", "POST", f"{i}/subscriptions/{{sub_id}}/delete",
              lambda w: [c("POST", f"{i}/subscriptions/{w.sub_id}/delete", form={})]),
        # The Channels page: the victim's second account's dead push and drift.
        Entry("hub", "GET", "/hub/channels", lambda w: scoped(c("GET", "/hub/channels"), seller=VICTIM),
              kind="listing", operator_too=True),
        Entry("hub", "POST", "/hub/channels/pushes/{push_id}/replay",
              lambda w: [c("POST", f"/hub/channels/pushes/{w.hub_dead_push}/replay", form={})]),
        Entry("hub", "POST", "/hub/channels/drift/{drift_id}/resolve",
              lambda w: [c("POST", f"/hub/channels/drift/{w.hub_drift}/resolve", form={"resolution": "push_kalem"})]),
    ]


def entries() -> list[Entry]:
    """Every row, in the order the owner's own run of the writes makes sense."""
    return [*_native(), *_hebiar(), *_n11(), *_hepsiglobal(), *_akinon(), *_zonos(), *_hub()]


# --- the app's routes -------------------------------------------------------------------------------
def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route; `MOUNT` and `WS` for mounts and WebSockets."""
    flat = ([(r, r.path, getattr(r, "methods", None)) for r in app.routes] if iter_route_contexts is None
            else [(ctx.original_route, ctx.path, ctx.methods) for ctx in iter_route_contexts(app.routes)])
    keys: set[tuple[str, str]] = set()
    for route, path, methods in flat:
        if isinstance(route, Mount):
            keys.add(("MOUNT", path))
        elif isinstance(route, WebSocketRoute):
            keys.add(("WS", path))
        else:
            keys.update((m, path) for m in (methods or ()) if m != "HEAD")
    return keys


# --- refusals, per face ----------------------------------------------------------------------------
def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def code_of(face: str, response: httpx.Response) -> str | None:
    """The stable error code in the face's envelope (None when the answer is not an error)."""
    if face == "hub":
        if response.status_code in (302, 303) and response.headers.get("location", "").startswith("/hub/login"):
            return "login_required"
        found = re.search(r'data-code="([a-z_]+)"', response.text)
        return found.group(1) if found else None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if face == "native":
        return (body.get("error") or {}).get("code")
    if face == "hebiar":
        return body["errors"][0]["code"] if body.get("isSuccess") is False and body.get("errors") else None
    if face == "n11":
        return snake(body["errorCode"].removeprefix("SELLER_API.")) if body.get("status") == "failure" else None
    if face == "zonos":
        return body["errors"][0]["extensions"]["code"].lower() if body.get("errors") else None
    if face == "hepsiglobal":
        return body["data"].get("code") if isinstance(body.get("data"), dict) else None
    return body.get("code")  # akinon


#: HTTP statuses each face gives a refused credential, and another seller's resource.
AUTH_STATUS = {"native": {401}, "hebiar": {401}, "hepsiglobal": {401}, "akinon": {401}, "n11": {400},
               "zonos": {200}, "hub": {303}}
FOREIGN_STATUS = {"native": {403, 404}, "hebiar": {403, 404}, "hepsiglobal": {400}, "akinon": {400, 403, 404},
                  "n11": {400}, "zonos": {200}, "hub": {403, 404}}


def is_foreign_refusal(code: str | None) -> bool:
    """Permission denied (natively, which permission), or not found (another seller's id looks exactly
    like an unknown one); Akinon names an unknown related object `does_not_exist`, as Django REST
    framework does."""
    return code is not None and (code in ("permission_denied", "operator_required", "seller_id_mismatch",
                                          "does_not_exist") or code.endswith("not_found"))
