"""The Zonos face through a standard GraphQL client (`gql`): it introspects `/graphql`, every GraphQL
document of the docs (each ```graphql block of every Markdown file, the seed's own mutation among
them) validates against the schema it found, and each runs against the real server with the answer
the docs promise."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import graphql
import pytest
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXTransport

from tests.conftest import ADMIN
from tests.support import manual_refunds

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```graphql\n(.*?)```", re.DOTALL)
SEED_ORDER_ID = "order_4f52ec0e-3467-11ed-b878-0242ac120002"  # the seed's literal; kalem makes its own ids
LINE = "8659ec0e-3467-11ed-b878-0242ac120002"


def documents() -> dict[str, str]:
    """Every ```graphql block in the docs, by its operation's name (the seed's unnamed one: `Seed`)."""
    found = {}
    for path in sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]):
        for text in BLOCK.findall(path.read_text()):
            [operation] = [d for d in graphql.parse(text).definitions
                           if isinstance(d, graphql.OperationDefinitionNode)]
            found[operation.name.value if operation.name else "Seed"] = text
    return found


@pytest.fixture
def client(server, api):
    # The documents, not the refund a removal makes: under `manual` the removals before the invoice is
    # charged move no money, so the documented amounts refund runs against the whole charged invoice.
    manual_refunds(server.db)
    response = api.post("/v1/orders", json={
        "order_number": "4000000101", "seller_id": "acme", "currency": "USD", "account_order_number": "AO-67890",
        "destination_country": "US", "shipping_amount": "5.00",
        "lines": [{"line_id": LINE, "sku": "T123-BLUE", "name": "T-Shirt", "quantity": 1, "unit_price": "19.99",
                   "hs_code": "610910"},
                  {"line_id": "mug-1", "sku": "MUG", "name": "Mug", "quantity": 3, "unit_price": "7.50"}]})
    assert response.status_code == 201, response.text
    transport = HTTPXTransport(url=f"{server.url}/graphql", headers={"credentialToken": ADMIN}, timeout=30)
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        yield session, "order_" + response.json()["id"].removeprefix("ord_")


def test_every_documented_document_validates_and_runs(client, api):
    session, order_id = client
    schema = session.client.schema
    assert schema is not None and schema.mutation_type is not None  # introspected
    docs = documents()
    used = {field.name.value for text in docs.values() for d in graphql.parse(text).definitions
            if isinstance(d, graphql.OperationDefinitionNode) for field in d.selection_set.selections}
    assert used == set(schema.query_type.fields) | set(schema.mutation_type.fields), "a root field lacks an example"
    for name, text in docs.items():
        assert graphql.validate(schema, graphql.parse(text)) == [], name
    assert SEED_ORDER_ID in docs["Seed"], "the seed's example is documented as the seed has it"

    def run(name: str, **variables: Any) -> dict[str, Any]:
        return session.execute(GraphQLRequest(docs[name].replace(SEED_ORDER_ID, order_id), variable_values=variables))

    order = run("Order", orderId=order_id)["order"]
    assert order["accountOrderNumber"] == "AO-67890" and order["status"] == "OPEN" and order["refunds"] == []
    assert [(i["sku"], i["quantity"], i["hsCode"]) for i in order["items"]] == [("T123-BLUE", 1, "610910"),
                                                                              ("MUG", 3, None)]
    assert order["landedCosts"][0]["currencyCode"] == "USD"
    page = run("Orders", first=10, filter={"accountOrderNumber": "AO-67890"})["orders"]
    assert [e["node"]["id"] for e in page["edges"]] == [order_id] and page["pageInfo"]["hasNextPage"] is False
    progress = run("FulfillmentProgress", orderId=order_id)["orderFulfillmentProgress"]
    assert progress == {"fulfilled": [], "notFulfilled": [{"item": {"id": f"item_{LINE}", "sku": "T123-BLUE"},
                                                           "quantity": 1},
                                                          {"item": {"id": "item_mug-1", "sku": "MUG"}, "quantity": 3}]}

    seed = run("Seed")["orderItemUpdate"]["order"]  # the seed's answer, field by field but for its user ids
    assert list(seed) == ["accountOrderNumber", "createdAt", "createdBy", "currencyCode", "id", "items", "status",
                          "updatedAt", "updatedBy"]
    assert (seed["accountOrderNumber"], seed["currencyCode"], seed["id"], seed["status"]) == (
        "AO-67890", "USD", order_id, "OPEN")
    assert seed["items"][0] == {"id": f"item_{LINE}", "name": "T-Shirt", "quantity": 0, "amount": 19.99,
                                "currencyCode": "USD"}
    removed = run("RemoveItems", accountOrderNumber="AO-67890", itemSku="MUG", quantity=1)["orderItemUpdate"]
    assert [i["quantity"] for i in removed["order"]["items"]] == [0, 2]

    charged = api.post("/v1/orders/4000000101/invoices/INV-4000000101-1/charge")
    assert charged.status_code == 200, charged.text
    refund = run("RecordRefund", input={"id": order_id, "currencyCode": "USD", "note": "damaged",
                                        "subtotals": [{"amount": 5.0, "type": "ITEM"}]})["orderRefundCreate"]
    assert (refund["amount"], refund["note"], refund["order"]) == (5.0, "damaged", {"id": order_id})
    assert refund["subtotals"] == [{"amount": 5.0, "type": "ITEM"}]
    hook = run("WebhookCreate", url="http://127.0.0.1:9/zonos")["webhookCreate"]
    assert (hook["url"], hook["type"], hook["status"]) == (
        "http://127.0.0.1:9/zonos", "ORDER_UPDATED", "ENABLED")
    assert hook["id"].startswith("webhook_") and hook["secret"].startswith("whsec_")
    assert run("WebhookLogs")["webhookLogs"] == []  # nothing changed since it was registered
    disabled = run("WebhookUpdate", id=hook["id"])["webhookUpdate"]
    assert (disabled["id"], disabled["status"], disabled["secret"]) == (hook["id"], "DISABLED", None)
    canceled = run("Cancel", id=order_id)["orderCancel"]
    assert canceled["status"] == "CANCELED" and [i["quantity"] for i in canceled["items"]] == [0, 0]
    assert run("Order", orderId=order_id)["order"]["refunds"][0]["amount"] == 5.0
