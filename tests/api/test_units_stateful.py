"""A hypothesis state machine drives every face over real HTTP on one order line and checks, after
every step, that each unit is in exactly one state, keeps its number, and that every face names the
same unit; a refund pays exactly what its preview said. On SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kalem.app import access
from kalem.platforms.n11 import key_pairs
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, empty
from tests.refunds.test_akinon import akinon

NUMBER, LINE, QTY = "U-1", "U", 6
UNITS = range(1, QTY + 1)
HEBIAR_REFUSAL = {"cancelled": "unit_already_cancelled", "pending_cancel": "unit_pending_decision",
                  "shipped": "unit_in_transit", "delivered": "unit_already_delivered",
                  "return_pending": "unit_pending_decision", "returned": "unit_already_returned"}
AKINON_STATUS = {"open": "400", "pending_cancel": "50", "cancelled": "100", "shipped": "500", "delivered": "550",
                 "return_pending": "50", "returned": "600"}
# Sold on n11: driven through the native API, the OMS faces (Hebiar, Akinon) and its own channel's face, n11.
ORDER = {"order_number": NUMBER, "seller_id": "acme", "currency": "TRY", "channel": "n11",
         "lines": [{"line_id": LINE, "sku": "SKU-U", "name": "U", "quantity": QTY, "unit_price": "100.00",
                    "discount": "10.00", "tax_rate": "20"}],
         "packages": [{"package_id": "PK", "status": "Picking", "items": [{"line_id": LINE, "quantity": QTY}]}]}


def make_machine(server):
    class UnitMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            empty(server.db)
            self.api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
            assert self.api.post("/v1/orders", json=ORDER).status_code == 201
            access.create_user(UnitOfWork(server.db), username="oms", password="secret-pass", role="operator",
                               seller_id=None)
            jwt = self.api.post("/Auth/login", json={"UserName": "oms", "Password": "secret-pass"}).json()["token"]
            self.hebiar = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {jwt}"}, timeout=30)
            self.akinon = akinon(server, server.db)
            key, secret = key_pairs.create_key_pair(UnitOfWork(server.db), seller_id="acme")
            self.n11 = httpx.Client(base_url=server.url, headers={"appkey": key, "appsecret": secret}, timeout=30)
            found = self.akinon.get("/api/v1/orders/", params={"number": NUMBER}).json()["results"][0]
            self.order_pk = found["pk"]
            self.pks = {n: item["pk"] for n, item in zip(UNITS, found["orderitem_set"], strict=True)}
            self.state = dict.fromkeys(UNITS, "open")
            self.history = {n: ["open"] for n in UNITS}
            self.requests: list[tuple[str, list[int]]] = []   # pending: (id, unit numbers)

        def teardown(self) -> None:
            for client in (self.api, self.hebiar, self.akinon, self.n11):
                client.close()

        def move(self, units, state):
            for n in units:
                self.state[n] = state
                self.history[n].append(state)

        def in_state(self, state):
            return [n for n in UNITS if self.state[n] == state]

        def packages(self):
            return self.api.get(f"/v1/orders/{NUMBER}").json()["packages"]

        def new_request(self):
            queue = self.api.get("/v1/cancel-requests", params={"status": "pending"}).json()["data"]
            known = {r for r, _ in self.requests}
            [made] = [r["id"] for r in queue if r["id"] not in known]
            return made

        # --- native ----------------------------------------------------------------------------------
        @rule(k=st.integers(1, 2))
        def native_cancel(self, k):
            r = self.api.post(f"/v1/orders/{NUMBER}/cancellations",
                              json={"lines": [{"line_id": LINE, "quantity": k, "reason_id": 136}]})
            open_units = self.in_state("open")
            if k > len(open_units):
                assert r.status_code == 409 and r.json()["error"]["code"] == "quantity_exceeds_cancellable", r.text
                return
            assert r.status_code == 200, r.text
            self.move(open_units[:k], "cancelled")   # any N: the lowest-numbered open units

        @rule(k=st.integers(1, 2))
        def native_request(self, k):
            r = self.api.post("/v1/cancel-requests", json={"order_number": NUMBER, "lines": [
                {"line_id": LINE, "quantity": k, "reason_id": 137}]})
            open_units = self.in_state("open")
            if k > len(open_units):
                assert r.status_code == 409, r.text
                return
            assert r.status_code == 201, r.text
            self.move(open_units[:k], "pending_cancel")
            self.requests.append((r.json()["id"], open_units[:k]))

        @precondition(lambda self: self.requests)
        @rule(part=st.integers(0, 2), approve=st.booleans())
        def decide(self, part, approve):
            request_id, units = self.requests.pop(0)
            if approve:
                n = min(part, len(units))
                r = self.api.post(f"/v1/cancel-requests/{request_id}/approve",
                                  json={"lines": [{"line_id": LINE, "quantity": n}]})
                assert r.status_code == 200, r.text
                self.move(units[:n], "cancelled")   # a partial approval: the request's lowest-numbered units
                self.move(units[n:], "open")
            else:
                r = self.api.post(f"/v1/cancel-requests/{request_id}/reject", json={"reason_id": 168})
                assert r.status_code == 200, r.text
                self.move(units, "open")

        @rule(deliver=st.booleans())
        def ship_or_deliver(self, deliver):
            wanted, target = ("Shipped", "Delivered") if deliver else ("Picking", "Shipped")
            found = [p for p in self.packages() if p["status"] == wanted]
            if not found:
                return
            package = found[0]
            units = [n for first, last in package["items"][0]["units"] for n in range(first, last + 1)]
            r = self.api.post(f"/v1/orders/{NUMBER}/packages/{package['package_id']}/status", json={"status": target})
            if any(self.state[n] == "pending_cancel" for n in units):
                assert r.status_code == 409 and r.json()["error"]["code"] == "units_pending_cancel", r.text
                return
            assert r.status_code == 200, r.text
            self.move(units, target.lower())

        def refundable(self):
            """Cancelled or returned units no refund holds yet."""
            refunds = self.api.get(f"/v1/orders/{NUMBER}/refunds").json()["data"]
            held = {n for r in refunds for u in r["units"] for n in range(u["first"], u["last"] + 1)}
            return [n for n in UNITS if self.state[n] in ("cancelled", "returned") and n not in held]

        @precondition(lambda self: any(s in ("cancelled", "returned") for s in self.state.values()))
        @rule()
        def refund_pays_what_the_preview_said(self):
            lines = [{"line_id": LINE, "quantity": 1}]
            refundable = self.refundable()
            preview = self.api.post(f"/v1/orders/{NUMBER}/refund-preview", json={"lines": lines})
            refund = self.api.post(f"/v1/orders/{NUMBER}/refunds", json={"lines": lines})
            if not refundable:
                assert refund.status_code == 409, refund.text
                return
            assert refund.status_code == 201 and preview.status_code == 200, (preview.text, refund.text)
            assert refund.json()["refund"]["units"] == [{"line_id": LINE, "first": refundable[0],
                                                         "last": refundable[0]}]   # the lowest-numbered
            assert refund.json()["refund"]["amount"] == preview.json()["breakdown"]["total"]

        @precondition(lambda self: "open" in self.state.values())
        @rule()
        def cancel_with_refund_pays_what_the_preview_said(self):
            if self.refundable():   # a preview of a count takes refundable units first
                return
            preview = self.api.post(f"/v1/orders/{NUMBER}/refund-preview", json={"lines": [
                {"line_id": LINE, "quantity": 1}]})
            r = self.api.post(f"/v1/orders/{NUMBER}/cancellations-with-refund", json={"lines": [
                {"line_id": LINE, "quantity": 1, "reason_id": 136}]})
            assert r.status_code == 201 and preview.status_code == 200, (preview.text, r.text)
            assert r.json()["refund"]["amount"] == preview.json()["breakdown"]["total"]
            self.move(self.in_state("open")[:1], "cancelled")

        # --- faces -----------------------------------------------------------------------------------
        @rule(n=st.sampled_from(UNITS))
        def hebiar_unit_request(self, n):
            r = self.hebiar.post("/Orders/CreateOrderItemLineCancelRequest", json=[
                {"sourceOrderItemLineId": f"{LINE}-{n}", "quantity": 1, "reasonId": 137, "reasonDesc": "x"}])
            if self.state[n] != "open":
                assert r.status_code == 409, r.text
                assert r.json()["errors"][0]["code"] == HEBIAR_REFUSAL[self.state[n]], r.text
                return
            assert r.status_code == 200, r.text
            self.requests.append((self.new_request(), [n]))
            self.move([n], "pending_cancel")

        @rule(n=st.sampled_from(UNITS))
        def akinon_cancel_by_item(self, n):
            pk = self.pks[n]
            reason = 152 if self.state[n] == "delivered" else 136
            r = self.akinon.post(f"/api/i1/orders/{self.order_pk}/cancel/", json={
                "order": self.order_pk, "is_all": False, "cancel_items": [pk], "forced_refund_amount": None,
                "reasons": {str(pk): reason}})
            if self.state[n] not in ("open", "delivered"):
                assert r.status_code == 400, r.text
                return
            assert r.status_code == 200, r.text
            self.move([n], "cancelled" if self.state[n] == "open" else "returned")

        @rule()
        def n11_split_with_cancel(self):
            held = [p for p in self.packages() if p["status"] == "Picking"]
            for package in held:
                units = [n for first, last in package["items"][0]["units"] for n in range(first, last + 1)]
                free = [n for n in units if self.state[n] == "open"]
                if len(units) >= 2 and free:
                    break
            else:
                return
            shown = self.n11.get("/rest/delivery/v1/shipmentPackages",
                                 params={"packageIds": package["package_id"], "size": 100}).json()["content"]
            line_id = shown[0]["lines"][0]["orderLineId"]
            r = self.n11.post("/rest/delivery/v1/splitPackageByQuantity", json={
                "cancelledItems": [{"cancelReasonId": 61, "orderLineId": line_id, "quantity": 1}],
                "splitPackages": [{"packageDetails": [{"orderLineId": line_id, "quantities": 1}]}]})
            assert r.status_code == 200, r.text
            self.move(free[:1], "cancelled")   # the lowest-numbered open unit the package holds

        # --- what every face shows, after every step ----------------------------------------------
        @invariant()
        def every_face_names_the_same_units(self):
            order = self.api.get(f"/v1/orders/{NUMBER}").json()
            self.native_units_are_the_model(order)
            self.hebiar_names_the_same_units()
            self.akinon_items_keep_their_pks_and_name_the_same_units()
            self.n11_line_parts_hold_the_package_units(order["packages"])

        def native_units_are_the_model(self, order):
            runs = order["lines"][0]["units"]
            native = {n: run["state"] for run in runs for n in range(run["first"], run["last"] + 1)}
            assert native == self.state   # each number once, in the state its history ends in
            assert all(self.history[n][-1] == self.state[n] for n in UNITS)
            live = [n for p in order["packages"] if p["status"] in ("Created", "Picking", "Shipped", "Delivered")
                    for item in p["items"] for first, last in item["units"] for n in range(first, last + 1)]
            assert sorted(live) == [n for n in UNITS if self.state[n] != "cancelled"]

        def hebiar_names_the_same_units(self):
            data = self.hebiar.get("/orders/GetOrderPackages", params={"OrderNumber": NUMBER, "size": 100}).json()
            shown = [u for p in data["data"] for line in p["lines"] for u in line["itemLines"]]
            assert sorted(u["sourceOrderItemLineId"] for u in shown) == sorted(f"{LINE}-{n}" for n in UNITS)
            for unit in shown:
                state = self.state[int(unit["sourceOrderItemLineId"].rsplit("-", 1)[1])]
                assert unit["isCancel"] is (state == "cancelled")
                assert unit["isReturn"] is (state in ("returned", "return_pending"))
                assert unit["isAvaibleCancelRequest"] is (state == "open")

        def akinon_items_keep_their_pks_and_name_the_same_units(self):
            found = self.akinon.get(f"/api/v1/orders/{self.order_pk}/").json()
            assert {i["pk"]: i["status"] for i in found["orderitem_set"]} == {
                self.pks[n]: AKINON_STATUS[self.state[n]] for n in UNITS}

        def n11_line_parts_hold_the_package_units(self, packages):
            native = {p["package_id"]: p for p in packages}
            shown = self.n11.get("/rest/delivery/v1/shipmentPackages",
                                 params={"orderNumber": NUMBER, "size": 100}).json()["content"]
            assert {p["id"] for p in shown} == set(native)
            for package in shown:
                [line] = package["lines"]
                assert line["quantity"] == native[package["id"]]["items"][0]["quantity"]

    return UnitMachine


def test_units_keep_their_identity_across_every_face(server):
    machine = make_machine(server)
    machine.TestCase.settings = settings(max_examples=12, stateful_step_count=15, deadline=None)
    machine.TestCase().runTest()
