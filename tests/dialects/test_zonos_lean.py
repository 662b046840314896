"""The hot mutation's lean plan (src/kalem/platforms/zonos/face/lean.py): which documents get one, that its
answers — data, errors, refused variables — are graphql-core's to the byte, and that a change's answer
shows the refunds and actors its selection names, read in the change's own transaction."""

from __future__ import annotations

import json

from kalem.platforms.zonos.face.execution import Executor
from kalem.platforms.zonos.face.schema import HOT_MUTATIONS, build_schema
from kalem.platforms.zonos.face.views import user_id
from tests.dialects.test_zonos import LINE, ORDER_FIELDS, UPDATE, gql, place, seed_order, zid

HEAD = ("mutation($orderId: ID, $itemId: ID, $quantity: Int!) { orderItemUpdate(orderId: $orderId, "
        "itemId: $itemId, quantity: $quantity) { __typename order { ")
LEAN = HEAD + "__typename " + ORDER_FIELDS + " } } }"
# The same selection through a fragment: no plan, graphql-core runs it (the root field at the same place).
CORE = HEAD + "...O } } } fragment O on Order { __typename " + ORDER_FIELDS + " }"
OPERATOR = user_id("operator:admin")


def test_which_documents_get_a_plan():
    executor = Executor(build_schema(), HOT_MUTATIONS)

    def planned(text: str) -> bool:
        document = executor.document(text)
        assert not document.errors, document.errors
        return document.plan is not None

    assert planned(UPDATE) and planned(LEAN)
    assert planned("mutation { u: orderItemUpdate(quantity: 1) { order { i: id items { id n: name } } } }")
    assert not planned(CORE)  # a fragment
    assert not planned("mutation { orderItemUpdate(quantity: 1) { order { id @include(if: true) } } }")
    assert not planned("mutation { orderItemUpdate(quantity: 1) { order { id landedCosts { id } } } }")  # a resolver
    assert not planned("mutation { orderItemUpdate(quantity: 1) { order { id id } } }")  # a repeated key
    assert not planned('mutation { orderCancel(id: "order_x") { id } }')  # not a hot mutation
    assert not planned('query { order(orderId: "order_x") { id } }')
    assert not planned("mutation A { orderItemUpdate(quantity: 1) { order { id } } } "
                       'mutation B { orderCancel(id: "order_x") { id } }')  # several operations
    assert executor.document("mutation { orderItemUpdate(quantity: 1) { order { nope } } }").plan is None


def _exact(answer: dict) -> str:
    return json.dumps(answer)  # key order included


def test_the_plan_answers_as_graphql_core_does(api):
    order = place(api, seed_order(quantity=3))
    args = {"orderId": zid(order), "itemId": f"item_{LINE}", "quantity": 1}
    lean, core = gql(api, LEAN, **args), gql(api, CORE, **args)
    shown = [a["data"]["orderItemUpdate"]["order"] for a in (lean, core)]
    assert [s["items"][0]["quantity"] for s in shown] == [2, 1]  # each removed a unit
    assert shown[0]["__typename"] == "Order"
    assert lean["data"]["orderItemUpdate"]["__typename"] == "OrderItemUpdatePayload"

    def but_the_change(answer: dict) -> dict:
        shown = answer["data"]["orderItemUpdate"]["order"]
        return {"data": {"orderItemUpdate": {**answer["data"]["orderItemUpdate"], "order": {
            **shown, "updatedAt": None, "items": [{**i, "quantity": None} for i in shown["items"]]}}}}
    assert _exact(but_the_change(lean)) == _exact(but_the_change(core))
    # A refusal of the use case, and variables that do not fit: the same errors, locations and paths.
    for refused in ({**args, "quantity": 5}, {**args, "quantity": "many"}, {**args, "orderId": "nope"}):
        lean, core = gql(api, LEAN, **refused), gql(api, CORE, **refused)
        assert lean.get("errors") and _exact(lean) == _exact(core), refused


def test_the_answer_shows_refunds_and_actors_read_with_the_change(api):
    order = place(api, seed_order(quantity=3))
    api.post("/v1/orders/4000000101/invoices/INV-4000000101-1/charge").raise_for_status()
    refund = {"id": zid(order), "currencyCode": "USD", "subtotals": [{"amount": 1.5, "type": "ITEM"}]}
    made = gql(api, "mutation($input: OrderRefundCreateInput!) { orderRefundCreate(input: $input) { "
                    "order { refunds { amount } } } }", input=refund)
    assert made["data"]["orderRefundCreate"]["order"]["refunds"] == [{"amount": 1.5}]  # the refund just made
    args = {"orderId": zid(order), "itemId": f"item_{LINE}", "quantity": 1}
    listed = gql(api, HEAD + "refunds { amount } ...A } } } fragment A on Order { createdBy updatedBy }", **args)
    assert listed["data"]["orderItemUpdate"]["order"] == {"refunds": [{"amount": 1.5}],
                                                          "createdBy": OPERATOR, "updatedBy": OPERATOR}
    lean = gql(api, HEAD + "updatedBy } } }", **args)["data"]["orderItemUpdate"]["order"]
    assert lean == {"updatedBy": OPERATOR}
    cancelled = gql(api, 'mutation($id: ID!) { orderCancel(id: $id) { status refunds { amount } } }', id=zid(order))
    assert cancelled["data"]["orderCancel"] == {"status": "CANCELED", "refunds": [{"amount": 1.5}]}
