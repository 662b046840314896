"""Golden tests of the Zonos GraphQL face: the mutation of Zonos' "Update orders" page sent verbatim and
its response compared with the page's key by key and type by type, then every other item of the Zonos
GraphQL API reference the face serves."""

from __future__ import annotations

import re

import pytest

from tests.conftest import snapshot
from tests.dialects.test_zonos import LINE, code, gql, place, seed_order, zid
from tests.golden.shape import assert_same_shape
from tests.support import token
from tests.webhooks.conftest import deliveries, drain, receiver, worker  # noqa: F401 - fixtures

SEED_ORDER_ID = "order_4f52ec0e-3467-11ed-b878-0242ac120002"
#: Update orders, "Mutasyon", verbatim (only the order id is the one kalem gave the order).
SEED_MUTATION = """mutation {
  orderItemUpdate(
    orderId: "order_4f52ec0e-3467-11ed-b878-0242ac120002"
    accountOrderNumber: "AO-67890"
    itemId: "item_8659ec0e-3467-11ed-b878-0242ac120002"
    itemSku: "T123-BLUE"
    quantity: 1
  ) {
    order {
      accountOrderNumber
      createdAt
      createdBy
      currencyCode
      id
      items {
        id
        name
        quantity
        amount
        currencyCode
      }
      status
      updatedAt
      updatedBy
    }
  }
}"""
#: Update orders, "Yanıt", verbatim.
SEED_RESPONSE = {
    "data": {
        "orderItemUpdate": {
            "order": {
                "accountOrderNumber": "AO-67890",
                "createdAt": "2024-06-01T12:00:00Z",
                "createdBy": "user_3258ec0e-3467-11ed-b878-0242ac120002",
                "currencyCode": "USD",
                "id": "order_4f52ec0e-3467-11ed-b878-0242ac120002",
                "items": [
                    {
                        "id": "item_8659ec0e-3467-11ed-b878-0242ac120002",
                        "name": "T-Shirt",
                        "quantity": 0,
                        "amount": 19.99,
                        "currencyCode": "USD"
                    }
                ],
                "status": "OPEN",
                "updatedAt": "2024-07-09T12:20:00Z",
                "updatedBy": "user_4258ec0e-3467-11ed-b878-0242ac120002"
            }
        }
    }
}
_ORDER = "$.data.orderItemUpdate.order"
SEED_EQUAL = [f"{_ORDER}.{key}" for key in ("accountOrderNumber", "currencyCode", "status")] + [
    f"{_ORDER}.items[].{key}" for key in ("id", "name", "quantity", "amount", "currencyCode")]
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def test_documented_order_item_update(api, anon, db):
    order = place(api, seed_order())
    seller = token(db, "seller", "acme")
    result = gql(anon, SEED_MUTATION.replace(SEED_ORDER_ID, zid(order)), seller)
    assert_same_shape(result, SEED_RESPONSE, equal=SEED_EQUAL)
    got = result["data"]["orderItemUpdate"]["order"]
    assert list(got) == list(SEED_RESPONSE["data"]["orderItemUpdate"]["order"])  # the order the query asked
    assert got["id"] == zid(order) and got["id"].startswith("order_")
    assert ISO_Z.fullmatch(got["createdAt"]) and ISO_Z.fullmatch(got["updatedAt"])
    assert got["updatedAt"] > got["createdAt"]


def product_order(api, quantity: int = 3) -> dict:
    body = seed_order(quantity=quantity)
    body["lines"][0]["product_id"] = "prod_T123"
    return place(api, body)


ITEMS = "{ order { items { id productId sku quantity } } }"


def test_product_id_names_the_item(api):
    """Update orders: the item is named by "productId veya sku" (productId or SKU)."""
    product_order(api)
    by_product = gql(api, 'mutation { orderItemUpdate(accountOrderNumber: "AO-67890", productId: "prod_T123", '
                          f'quantity: 1) {ITEMS} }}')
    assert by_product["data"]["orderItemUpdate"]["order"]["items"] == [
        {"id": f"item_{LINE}", "productId": "prod_T123", "sku": "T123-BLUE", "quantity": 2}]
    by_sku = gql(api, f'mutation {{ orderItemUpdate(accountOrderNumber: "AO-67890", itemSku: "T123-BLUE", '
                      f'quantity: 1) {ITEMS} }}')
    assert by_sku["data"]["orderItemUpdate"]["order"]["items"][0]["quantity"] == 1
    all_three = gql(api, f'mutation {{ orderItemUpdate(accountOrderNumber: "AO-67890", itemId: "item_{LINE}", '
                         f'productId: "prod_T123", itemSku: "T123-BLUE", quantity: 1) {ITEMS} }}')
    assert all_three["data"]["orderItemUpdate"]["order"]["items"][0]["quantity"] == 0


@pytest.mark.parametrize("case, names, expected", [
    ("unknown product", 'productId: "prod_nope"', "LINE_NOT_FOUND"),
    ("product and SKU disagree", 'productId: "prod_T123", itemSku: "OTHER"', "ITEM_IDENTIFIER_MISMATCH"),
    ("item and product disagree", f'itemId: "item_{LINE}", productId: "prod_other"', "ITEM_IDENTIFIER_MISMATCH"),
    ("product id too long", f'productId: "{"p" * 256}"', "INVALID_INPUT"),
    ("product id not a string", "productId: 7", "GRAPHQL_VALIDATION_FAILED"),
])
def test_refused_product_ids_change_nothing(api, db, case, names, expected):
    product_order(api)
    before = snapshot(db)
    result = gql(api, f'mutation {{ orderItemUpdate(accountOrderNumber: "AO-67890", {names}, quantity: 1) '
                      f'{{ order {{ id }} }} }}')
    assert code(result) == expected, case
    assert result["data"] is None
    assert snapshot(db) == before


#: The Zonos GraphQL API reference's `Order` and `Item`, the fields kalem has (types as the SDK declares them).
DOCUMENTED_ORDER = {
    "id": "order_x", "accountOrderNumber": "AO-1", "status": "OPEN", "currencyCode": "USD",
    "amountSubtotals": {"duties": 3.3, "fees": 2.5, "items": 19.99, "shipping": 0.5, "taxes": 0.5, "variance": 0.5},
    "items": [{"id": "item_x", "productId": "p", "sku": "s", "name": "n", "amount": 19.99, "currencyCode": "USD",
               "quantity": 1, "hsCode": "610910"}],
    "landedCosts": [{"id": "landed_cost_x", "amountSubtotals": {
        "items": 19.99, "shipping": 0.5, "duties": 3.3, "taxes": 0.5, "fees": 2.5, "landedCostTotal": 25.79}}],
    "refunds": [], "shipments": [{"id": "s", "status": "IN_TRANSIT", "trackingNumber": "T",
                                  "items": [{"item": {"id": "item_x"}, "quantity": 1}]}],
    "trackingNumbers": ["T"], "createdAt": "2024-06-01T12:00:00Z", "createdBy": "user_x",
    "updatedAt": "2024-06-01T12:00:00Z", "updatedBy": "user_x",
}
ORDER_QUERY = """query($id: ID!) { order(orderId: $id) { id accountOrderNumber status currencyCode
  amountSubtotals { duties fees items shipping taxes variance }
  items { id productId sku name amount currencyCode quantity hsCode }
  landedCosts { id amountSubtotals { items shipping duties taxes fees landedCostTotal } }
  refunds { id } shipments { id status trackingNumber items { item { id } quantity } } trackingNumbers
  createdAt createdBy updatedAt updatedBy } }"""


def test_order_read_side(api):
    body = seed_order(quantity=2, packages=[{"package_id": f"P{n}", "status": "Created",
                                             "items": [{"line_id": LINE, "quantity": 1}]} for n in (1, 2)])
    body["lines"][0]["product_id"] = "prod_T123"
    order = place(api, body)
    for step, tracking in (("Picking", None), ("Shipped", "TRK-1")):
        moved = api.post("/v1/orders/4000000101/packages/P1/status",
                         json={"status": step, "cargo_tracking_number": tracking})
        assert moved.status_code == 200, moved.text
    got = gql(api, ORDER_QUERY, id=zid(order))["data"]["order"]
    assert_same_shape(got, DOCUMENTED_ORDER, equal=["$.currencyCode"])
    assert got["status"] == "PARTIALLY_SHIPPED" and got["trackingNumbers"] == ["TRK-1"]
    assert got["amountSubtotals"] == {"duties": 6.6, "fees": 2.5, "items": 39.98, "shipping": 0.0, "taxes": 0.0,
                                      "variance": 0.0}
    assert got["landedCosts"][-1]["amountSubtotals"]["landedCostTotal"] == 49.08
    assert got["shipments"] == [{"id": "P1", "status": "IN_TRANSIT", "trackingNumber": "TRK-1",
                                 "items": [{"item": {"id": f"item_{LINE}"}, "quantity": 1}]}]


def enum_values(api, name: str) -> list[str]:
    result = gql(api, 'query($name: String!) { __type(name: $name) { enumValues { name } } }', name=name)
    return [v["name"] for v in result["data"]["__type"]["enumValues"]]


def test_enums_as_documented(api):
    assert enum_values(api, "OrderStatus") == [
        "OPEN", "PARTIALLY_SHIPPED", "COMPLETED", "CANCELED", "FRAUD_HOLD", "PAYMENT_PENDING", "PAYMENT_FAILED",
        "IN_TRANSIT_TO_CONSOLIDATION_CENTER"]
    assert enum_values(api, "WebhookType") == [
        "ORDER_CREATED", "ORDER_CANCELED", "ORDER_STATUS_CHANGED", "ORDER_UPDATED", "SHIPMENT_CREATED",
        "SHIPMENT_CANCELED", "INCLUSIVE_PRICE_SYNC_READY", "IP_SETTING_STATUS_CHANGED"]
    assert enum_values(api, "OrderRefundSubtotalType") == ["ITEM", "SHIPPING", "DUTY_TAX_FEE"]
    assert enum_values(api, "ShipmentStatus") == ["IN_TRANSIT", "DELIVERED"]  # of the six documented


#: The Zonos GraphQL API reference:
#: `OrderRefund{id, amount, currencyCode, note, subtotals, order, createdAt, createdBy}`.
DOCUMENTED_REFUND = {"id": "x", "amount": 21.49, "currencyCode": "USD", "note": "n",
                     "subtotals": [{"amount": 19.99, "type": "ITEM"}], "order": {"id": "order_x"},
                     "createdAt": "2024-06-01T12:00:00Z", "createdBy": "user_x"}


def test_order_refund_create_and_cancel(api):
    order = place(api, seed_order(quantity=2, shipping="5.00"))
    api.post("/v1/orders/4000000101/invoices/INV-4000000101-1/charge").raise_for_status()
    made = gql(api, """mutation($input: OrderRefundCreateInput!) { orderRefundCreate(input: $input) {
      id amount currencyCode note subtotals { amount type } order { id } createdAt createdBy } }""",
               input={"id": zid(order), "currencyCode": "USD", "note": "damaged",
                      "subtotals": [{"amount": 19.99, "type": "ITEM"}, {"amount": 1.5, "type": "SHIPPING"}]})
    assert_same_shape(made["data"]["orderRefundCreate"], DOCUMENTED_REFUND, equal=["$.currencyCode"])
    assert made["data"]["orderRefundCreate"]["amount"] == 21.49
    canceled = gql(api, 'mutation($id: ID!) { orderCancel(id: $id) { id status items { quantity } } }', id=zid(order))
    assert canceled["data"]["orderCancel"] == {"id": zid(order), "status": "CANCELED", "items": [{"quantity": 0}]}


#: Zonos errors follow GraphQL — HTTP 200, `{"errors": [{message, …}], "data": null}`; what
#: `extensions` holds is not documented (kalem: `{code, status}`, docs/graphql.md).
DOCUMENTED_ERROR = {"data": None, "errors": [{"message": "m", "locations": [{"line": 1, "column": 1}],
                                              "path": ["orderItemUpdate"], "extensions": {"code": "C", "status": 404}}]}


def test_transport_auth_and_errors(anon, api, db):
    order = place(api, seed_order())
    seller = token(db, "seller", "acme")
    query = f'{{ order(orderId: "{zid(order)}") {{ id }} }}'
    for path in ("/graphql", "/graphql/"):
        response = anon.post(path, json={"query": query}, headers={"credentialToken": seller})
        assert response.status_code == 200, path
        assert response.json() == {"data": {"order": {"id": zid(order)}}}
    before = snapshot(db)
    refused = anon.post("/graphql", json={"query": 'mutation { orderItemUpdate(orderId: "order_nope", itemId: '
                                                   '"item_x", quantity: 1) { order { id } } }'},
                        headers={"credentialToken": seller})
    assert refused.status_code == 200
    assert_same_shape(refused.json(), DOCUMENTED_ERROR)
    assert refused.json()["errors"][0]["extensions"]["code"] == "ORDER_NOT_FOUND"
    unauthenticated = anon.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {seller}"})
    assert unauthenticated.status_code == 200
    assert unauthenticated.json()["errors"][0]["extensions"]["code"] == "AUTHENTICATION_FAILED"
    assert snapshot(db) == before


@pytest.mark.parametrize("operation", [
    'mutation { orderCreate(input: {accountOrderNumber: "AO-1"}) { id } }',
    'mutation { orderAddTrackingNumber(orderId: "order_x", trackingNumber: "T") { id } }',
    'mutation { orderUpdateAccountOrderNumber(orderId: "order_x", accountOrderNumber: "A") { id } }',
    '{ order(orderId: "order_x") { zonosOrderId } }',
])
def test_operations_kalem_does_not_offer_are_refused(api, db, operation):
    before = snapshot(db)
    assert code(gql(api, operation)) == "GRAPHQL_VALIDATION_FAILED"
    assert snapshot(db) == before


def test_oauth_token_endpoint_is_not_offered(anon):
    """Zonos' newer OAuth option (`POST /oauth/token`, RS256 JWT bearer grant): kalem
    authenticates the Zonos face with `credentialToken` only."""
    response = anon.post("/oauth/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                               "assertion": "a.b.c"})
    assert response.status_code == 404


# --- ids in the platform's form, and the merchant's own update as a webhook ------------------------------

#: The documented example's `createdBy: "user_3258ec0e-3467-11ed-b878-0242ac120002"`: `user_` and a UUID.
USER_ID = re.compile(r"user_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LANDED_COST_ID = re.compile(r"landed_cost_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_created_by_and_updated_by_are_user_ids(api, anon, db):
    order = place(api, seed_order())
    seller = token(db, "seller", "acme")
    got = gql(anon, SEED_MUTATION.replace(SEED_ORDER_ID, zid(order)), seller)["data"]["orderItemUpdate"]["order"]
    assert USER_ID.fullmatch(got["createdBy"]) and USER_ID.fullmatch(got["updatedBy"]), got
    assert got["createdBy"] != got["updatedBy"]  # the operator placed the order, the seller removed the unit
    read = gql(api, 'query($id: ID!) { order(orderId: $id) { createdBy updatedBy } }', id=zid(order))
    assert read["data"]["order"] == {"createdBy": got["createdBy"], "updatedBy": got["updatedBy"]}  # stable


def test_landed_cost_ids_are_unique_across_orders(api):
    orders = [place(api, seed_order(number=number, aon=f"AO-{number}", line=line))
              for number, line in (("4000000101", LINE), ("4000000102", "line-2"))]
    removed = gql(api, UPDATE_ITEM, orderId=zid(orders[0]), itemId=f"item_{LINE}", quantity=1)
    assert "errors" not in removed, removed
    ids = [[lc["id"] for lc in gql(api, 'query($id: ID!) { order(orderId: $id) { landedCosts { id } } }',
                                   id=zid(o))["data"]["order"]["landedCosts"]] for o in orders]
    assert [len(each) for each in ids] == [2, 1]  # as placed, then after the removal; as placed
    every = [i for each in ids for i in each]
    assert all(LANDED_COST_ID.fullmatch(i) for i in every), every
    assert len(set(every)) == 3  # no two orders share a landed cost id
    again = gql(api, 'query($id: ID!) { order(orderId: $id) { landedCosts { id } } }', id=zid(orders[0]))
    assert [lc["id"] for lc in again["data"]["order"]["landedCosts"]] == ids[0]  # the same on every read


UPDATE_ITEM = """mutation($orderId: ID, $itemId: ID, $quantity: Int!) {
  orderItemUpdate(orderId: $orderId, itemId: $itemId, quantity: $quantity) { order { id } } }"""


def test_the_merchants_own_order_item_update_fires_order_updated(api, db, receiver, worker):  # noqa: F811
    seller = token(db, "seller", "acme")
    created = gql(api, """mutation($input: WebhookCreateInput!) { webhookCreate(input: $input) { id } }""", seller,
                  input={"url": f"http://127.0.0.1:{receiver.port}/zonos", "type": "ORDER_UPDATED"})
    assert "errors" not in created, created
    order = place(api, seed_order(quantity=2))
    own = gql(api, SEED_MUTATION.replace(SEED_ORDER_ID, zid(order)), seller)
    assert "errors" not in own, own
    drain(worker, lambda: all(d["status"] not in ("pending", "delivering") for d in deliveries(api)))
    [got] = receiver.requests
    sent = got.json()["data"]["order"]
    assert (got.method, got.path, sent["id"], sent["items"][0]["quantity"]) == ("POST", "/zonos", zid(order), 1)
    assert sent["updatedBy"] == own["data"]["orderItemUpdate"]["order"]["updatedBy"]  # the merchant's own change
