"""Two Akinon cancels naming overlapping order items at the same moment: the items are classified
on the order as read under its lock, so one cancel wins, the other is refused whole, and no unit
beyond the named ones is ever cancelled or refunded."""

from __future__ import annotations

import threading

import httpx

from tests.refunds.test_akinon import akinon, body, read
from tests.support import order

ROUNDS = 6


def four_units(number: str) -> dict:
    body = order(number)
    body["lines"][0]["quantity"] = body["packages"][0]["items"][0]["quantity"] = 4
    return body


def test_overlapping_concurrent_cancels_never_over_cancel(server, db, api):
    for n in range(ROUNDS):
        assert api.post("/v1/orders", json=four_units(f"78000000{n:02d}")).status_code == 201
    login = akinon(server, db)
    headers = dict(login.headers)
    for n in range(ROUNDS):
        number = f"78000000{n:02d}"
        o = read(login, number)
        first, second, third, _ = (i["pk"] for i in o["orderitem_set"])   # four open units of one line
        start = threading.Barrier(2)
        answers: dict[str, httpx.Response] = {}

        def cancel(name: str, items: list[int], pk: int = o["pk"], start: threading.Barrier = start,
                   answers: dict[str, httpx.Response] = answers) -> None:
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
                start.wait()
                answers[name] = client.post(f"/api/v1/orders/{pk}/cancel/", json=body(pk, items,
                                                                                      return_details=False))

        threads = [threading.Thread(target=cancel, args=("a", [first, second])),
                   threading.Thread(target=cancel, args=("b", [second, third]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status_code for r in answers.values())
        assert statuses == [200, 400], {k: r.text for k, r in answers.items()}
        loser = next(r for r in answers.values() if r.status_code == 400)
        assert loser.json()["code"] == "unit_already_cancelled", loser.text
        winner = next(r for r in answers.values() if r.status_code == 200).json()
        line = api.get(f"/v1/orders/{number}").json()["lines"][0]
        assert line["ledger"]["cancelled"] == 2 and line["ledger"]["open"] == 2, line
        refunds = api.get(f"/v1/orders/{number}/refunds").json()["data"]
        assert [r["id"] for r in refunds] == [winner["refund"]["id"]]
