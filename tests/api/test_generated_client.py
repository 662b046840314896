"""A client generated from kalem's own /openapi.json with openapi-python-client, as an integrator would
make one: the generator must not warn (nothing dropped, nothing untyped), and a real flow through it
against the running server answers instances of its typed models — errors included."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from kalem.api import examples
from tests.conftest import ADMIN

PACKAGE = "kalem_generated_client"
SNEAKERS, SHIRTS = "item40000009011", "item40000009012"
OUT_OF_STOCK = 136


@pytest.fixture(scope="module")
def generated(servers, tmp_path_factory) -> ModuleType:
    root = tmp_path_factory.mktemp("client")
    (root / "openapi.json").write_bytes(httpx.get(f"{servers['sqlite'].url}/openapi.json", timeout=60).content)
    bin_dir = Path(sys.executable).parent  # the generator formats its output with ruff, installed beside it
    done = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", "openapi.json", "--meta", "none",
         "--output-path", PACKAGE],
        cwd=root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower() and "unable" not in output.lower(), output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _api(name: str) -> ModuleType:
    group, operation = name.split(".")
    return importlib.import_module(f"{PACKAGE}.api.{group}.{group}_{operation}")


def test_a_flow_through_the_generated_client(generated, server):
    m = importlib.import_module(f"{PACKAGE}.models")
    client = generated.AuthenticatedClient(base_url=server.url, token=ADMIN, raise_on_unexpected_status=True)
    number = examples.ORDER_IN["order_number"]

    placed = _api("orders.place").sync_detailed(client=client, body=m.OrderIn.from_dict(examples.ORDER_IN))
    assert placed.status_code == 201 and isinstance(placed.parsed, m.OrderOut)
    assert [line.quantity for line in placed.parsed.lines] == [3, 2]

    # Cancel in part; then too much, which is a typed error with its stable code.
    cancel = _api("orders.cancel")
    one = m.CancellationIn(lines=[m.CancelLineIn(line_id=SNEAKERS, quantity=1, reason_id=OUT_OF_STOCK)])
    cancelled = cancel.sync(number, client=client, body=one)
    assert isinstance(cancelled, m.OrderOut) and cancelled.lines[0].cancelled_quantity == 1
    too_many = cancel.sync_detailed(number, client=client, body=m.CancellationIn(
        lines=[m.CancelLineIn(line_id=SNEAKERS, quantity=99, reason_id=OUT_OF_STOCK)]))
    assert too_many.status_code == 409 and isinstance(too_many.parsed, m.ErrorOut)
    assert too_many.parsed.error.code == "quantity_exceeds_cancellable"
    assert too_many.parsed.error.details["cancellable"] == 2
    unknown = _api("orders.get").sync_detailed("no-such-order", client=client)
    assert unknown.status_code == 404 and unknown.parsed.error.code == "order_not_found"

    # A cancel request, approved in part: one sneaker yes, the shirt no.
    request = _api("cancel_requests.create").sync(client=client, body=m.CancelRequestIn(order_number=number, lines=[
        m.CancelLineIn(line_id=SNEAKERS, quantity=1, reason_id=OUT_OF_STOCK),
        m.CancelLineIn(line_id=SHIRTS, quantity=1, reason_id=OUT_OF_STOCK)]))
    assert isinstance(request, m.CancelRequestOut) and request.status == "pending"
    decided = _api("cancel_requests.approve").sync(request.id, client=client, body=m.ApprovalIn(lines=[
        m.ApprovalLineIn(line_id=SNEAKERS, quantity=1), m.ApprovalLineIn(line_id=SHIRTS, quantity=0)]))
    assert isinstance(decided, m.DecidedCancelRequestOut) and isinstance(decided.order, m.OrderOut)
    assert [line.approved_quantity for line in decided.lines] == [1, 0]
    assert [line.cancelled_quantity for line in decided.order.lines] == [2, 0]

    # Split the package: one shirt into a package of its own, the other cancelled in the same step.
    package = placed.parsed.packages[0].package_id
    split = _api("packages.split").sync(number, package, client=client, body=m.SplitIn(
        packages=[m.SplitGroupIn(items=[m.SplitItemIn(line_id=SHIRTS, quantity=1)])],
        cancelled=[m.SplitCancelIn(line_id=SHIRTS, quantity=1, reason_id=OUT_OF_STOCK)]))
    assert isinstance(split, m.SplitOut) and len(split.groups) == 1 and split.unsupplied is not None
    tree = _api("packages.list").sync(number, client=client)
    assert isinstance(tree, m.PackageList) and all(isinstance(p, m.PackageNodeOut) for p in tree.packages)

    # The default refund policy (on_decision): each decision refunded the units it cancelled, pending
    # settlement — the direct cancel's sneaker, the approved sneaker, the shirt cancelled in the split.
    made = _api("refunds.list").sync(number, client=client)
    assert isinstance(made, m.RefundList) and all(isinstance(r, m.RefundOut) for r in made.data)
    assert sorted((r.lines[0].line_id, r.lines[0].quantity, r.status, r.on_decision) for r in made.data) == [
        (SNEAKERS, 1, "pending", True), (SNEAKERS, 1, "pending", True), (SHIRTS, 1, "pending", True)]
    first = next(r for r in made.data if r.lines[0].line_id == SNEAKERS)
    succeeded = m.SettleIn(status=m.SettleInStatus.SUCCEEDED)
    settled = _api("refunds.settle").sync(first.id, client=client, body=succeeded)
    assert isinstance(settled, m.RefundOut) and settled.status == "succeeded"
    again = _api("refunds.create").sync_detailed(number, client=client, body=m.RefundIn(
        lines=[m.UnitsIn(line_id=SNEAKERS, quantity=1)]))  # no cancelled sneaker is left to refund
    assert again.status_code == 409 and isinstance(again.parsed, m.ErrorOut)
    assert again.parsed.error.code == "units_not_refundable"

    # Under `manual` for the order's channel, a cancel moves no money: the refund is previewed, then made.
    manual = m.PolicyIn(policy=m.PolicyInPolicy.MANUAL)
    policy = _api("refund_policy.put_channel").sync("WEB", client=client, body=manual, seller_id="acme")
    assert isinstance(policy, m.RefundPolicyOut) and [(c.channel, c.policy) for c in policy.channels] == [
        ("WEB", "manual")]
    assert cancel.sync(number, client=client, body=one).lines[0].cancelled_quantity == 3  # and no refund
    sneaker = [m.UnitsIn(line_id=SNEAKERS, quantity=1)]
    preview = _api("refunds.preview").sync(number, client=client, body=m.PreviewIn(lines=sneaker))
    assert isinstance(preview, m.RefundPreviewOut) and isinstance(preview.breakdown, m.BreakdownOut)
    assert preview.breakdown.computed_total == "1299.00"
    refunded = _api("refunds.create").sync(number, client=client, body=m.RefundIn(lines=sneaker))
    assert isinstance(refunded, m.RefundedOut) and isinstance(refunded.refund, m.RefundOut)
    assert (refunded.refund.amount, refunded.refund.cause) == (preview.breakdown.total, "cancellation")
    assert refunded.refund.on_decision is False
    listed = _api("refunds.list").sync(number, client=client)
    assert isinstance(listed, m.RefundList) and len(listed.data) == 4 and refunded.refund.id in {
        r.id for r in listed.data}

    # A webhook subscription; its secret is shown once, at creation.
    subscription = _api("webhooks.create_subscription").sync(client=client, body=m.SubscriptionIn(
        url=f"{server.url}/hooks", event_types=["order.*", "lines.*"]))
    assert isinstance(subscription, m.SubscriptionOut) and subscription.secret.startswith("whsec_")
    assert isinstance(subscription.auth, m.SubscriptionAuthOut) and subscription.auth.kind == "standard"
    bad_url = _api("webhooks.create_subscription").sync_detailed(client=client, body=m.SubscriptionIn(
        url="not a url", event_types=["*"]))
    assert bad_url.status_code == 422 and isinstance(bad_url.parsed, m.ErrorOut)

    # The events: the order's own history, and the change feed.
    history = _api("orders.events").sync(number, client=client)
    assert isinstance(history, m.EventPage) and all(isinstance(e, m.EventOut) for e in history.data)
    assert history.data[0].type_ == "order.placed" and [e.sequence for e in history.data] == \
        list(range(1, len(history.data) + 1))
    feed = _api("events.list").sync(client=client, limit=1000)
    assert isinstance(feed, m.FeedPage) and all(isinstance(e, m.FeedEventOut) for e in feed.data)
    assert [e.type_ for e in feed.data] == [e.type_ for e in history.data]
