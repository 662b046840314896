"""The Akinon face's order list takes Omnitron's change-date filters (`modified_date__gte`,
`modified_date__lte`, django-filter style): an integrator's pull asks only for what changed since its
last one. A bound that is not a date-time is refused for its field and changes nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.conftest import snapshot
from tests.refunds.test_akinon import akinon
from tests.support import order


def numbers(page: dict) -> list[str]:
    return [o["number"] for o in page["results"]]


def test_orders_are_filtered_by_their_last_change(server, api, db):
    ak = akinon(server, db)
    for number in ("4000000001", "4000000002"):
        assert api.post("/v1/orders", json=order(number)).status_code == 201
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    assert api.post("/v1/orders", json=order("4000000003")).status_code == 201
    shown = ak.get("/api/v1/orders/").json()
    first = {o["number"]: o["modified_date"] for o in shown["results"]}

    later = ak.get("/api/v1/orders/", params={"modified_date__gte": between.isoformat()}).json()
    assert (later["count"], numbers(later)) == (1, ["4000000003"])
    earlier = ak.get("/api/v1/orders/", params={"modified_date__lte": between.isoformat()}).json()
    assert (earlier["count"], numbers(earlier)) == (2, ["4000000002", "4000000001"])
    exact = first["4000000002"]   # as the list shows it, `Z` and all: both bounds are inclusive
    both = ak.get("/api/v1/orders/", params={"modified_date__gte": exact, "modified_date__lte": exact}).json()
    assert numbers(both) == ["4000000002"]
    naive = (between + timedelta(days=1)).replace(tzinfo=None).isoformat()   # no offset: UTC
    assert ak.get("/api/v1/orders/", params={"modified_date__gte": naive}).json()["count"] == 0
    by_number = ak.get("/api/v1/orders/", params={"number": "4000000001", "modified_date__gte": between.isoformat()})
    assert by_number.json()["count"] == 0
    paged = ak.get("/api/v1/orders/", params={"modified_date__lte": between.isoformat(), "limit": 1}).json()
    assert paged["count"] == 2 and "modified_date__lte" in paged["next"]

    before = snapshot(db)
    for field in ("modified_date__gte", "modified_date__lte"):
        refused = ak.get("/api/v1/orders/", params={field: "yesterday"})
        assert refused.status_code == 400, refused.text
        assert refused.json()[field] == ["Enter a valid date/time."]
    assert snapshot(db) == before
