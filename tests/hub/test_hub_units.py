"""The hub's pure parts: message catalogs, signed sessions, CSRF tokens, ledger bars, package lineage."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.app.principals import Principal
from kalem.domain.orders.ledger import Ledger
from kalem.domain.orders.order import Package, PackageItem, PackageStatus
from kalem.hub.i18n import EN, TR
from kalem.hub.order_page import ledger_segments, package_tree
from kalem.hub.session import Signer

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "kalem" / "hub" / "templates"
SELLER = Principal("seller", "tok_1", "acme")


def test_both_catalogs_have_the_same_labels_and_every_label_a_template_names():
    assert TR.keys() == EN.keys()
    assert all(TR[k] and EN[k] for k in TR)
    used = {m for path in TEMPLATES.glob("*.html")
            for m in re.findall(r'\bt\("([^"]+)"\s*[,)]', path.read_text())}
    assert used and used <= TR.keys(), used - TR.keys()


def test_a_session_survives_only_untampered_and_unexpired():
    signer = Signer("k" * 40)
    cookie, session = signer.issue(SELLER, now=1000.0)
    assert signer.read(cookie, now=1001.0) == session
    payload, signature = cookie.split(".")
    forged_payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    assert signer.read(f"{forged_payload}.{signature}", now=1001.0) is None
    assert signer.read(f"{payload}.{signature[:-1]}x", now=1001.0) is None
    assert signer.read(cookie, now=session.expires) is None
    assert Signer("other" * 10).read(cookie, now=1001.0) is None
    assert signer.read("garbage", now=1001.0) is None and signer.read(None) is None


def test_csrf_tokens_are_bound_to_their_nonce_and_key():
    signer = Signer("k" * 40)
    token = signer.csrf_token("nonce-a")
    assert signer.csrf_valid("nonce-a", token)
    assert not signer.csrf_valid("nonce-b", token)
    assert not Signer("z" * 40).csrf_valid("nonce-a", token)
    assert not signer.csrf_valid(None, token) and not signer.csrf_valid("nonce-a", None)


@settings(max_examples=60)
@given(st.lists(st.integers(0, 50), min_size=7, max_size=7).filter(lambda c: sum(c) > 0))
def test_ledger_bar_segments_tile_the_bar_in_unit_order(counts):
    ledger = Ledger(*counts)
    segments = ledger_segments(ledger)
    assert sum(s.count for s in segments) == ledger.total
    assert abs(sum(s.width for s in segments) - 100) < 0.01
    for left, right in zip(segments, segments[1:], strict=False):
        assert abs(left.x + left.width - right.x) < 0.01


def test_split_packages_hang_under_their_parent():
    def package(pid, parent=None, status=PackageStatus.CREATED):  # noqa: ANN001, ANN202
        return Package(pid, status, (PackageItem("l1", 1),), (), parent_id=parent)

    tree = package_tree((package("P", status=PackageStatus.UNPACKED), package("P-1", "P"), package("P-2", "P"),
                         package("P-2-1", "P-2"), package("Q", "gone")))
    assert [n.package.package_id for n in tree] == ["P", "Q"]
    assert [c.package.package_id for c in tree[0].children] == ["P-1", "P-2"]
    assert [c.package.package_id for c in tree[0].children[1].children] == ["P-2-1"]
