"""The webhook address filter: every way of writing a private address is refused, however embedded."""

from __future__ import annotations

import pytest

from kalem.domain.webhooks import is_public

REFUSED = {
    "127.0.0.1": "IPv4 loopback",
    "10.1.2.3": "IPv4 private",
    "169.254.169.254": "IPv4 link-local (cloud metadata)",
    "100.64.0.1": "IPv4 shared address space",
    "0.0.0.0": "IPv4 unspecified",
    "224.0.0.1": "IPv4 multicast",
    "::1": "IPv6 loopback",
    "::": "IPv6 unspecified",
    "fe80::1": "IPv6 link-local",
    "fe80::1%eth0": "IPv6 link-local with a zone",
    "fc00::1": "IPv6 unique local",
    "ff02::1": "IPv6 multicast",
    "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "::ffff:7f00:1": "IPv4-mapped loopback, hex",
    "::ffff:10.0.0.1": "IPv4-mapped private",
    "::127.0.0.1": "IPv4-compatible loopback",
    "::ffff:0:127.0.0.1": "IPv4-translated loopback",
    "2002:7f00:1::1": "6to4 of 127.0.0.1",
    "2002:a00:1::": "6to4 of 10.0.0.1",
    "2002:a9fe:a9fe::1": "6to4 of 169.254.169.254",
    "64:ff9b::127.0.0.1": "NAT64 well-known prefix, loopback",
    "64:ff9b::a00:1": "NAT64 well-known prefix, private",
    "64:ff9b:1::7f00:1": "NAT64 local-use prefix",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo (client 127.0.0.1 obfuscated)",
    "2001:0:7f00:1::1": "Teredo with a loopback server",
    "fe80::5efe:7f00:1": "ISATAP, link-local",
    "2a00:1450::5efe:7f00:1": "ISATAP in a global prefix, embedding 127.0.0.1",
    "2a00:1450::200:5efe:a00:1": "ISATAP (universal bit) in a global prefix, embedding 10.0.0.1",
    "2001:db8::1": "IPv6 documentation",
}
ALLOWED = {
    "8.8.8.8": "IPv4 public",
    "::ffff:8.8.8.8": "IPv4-mapped public",
    "2002:808:808::1": "6to4 of a public address",
    "2a00:1450:4001:81c::200e": "IPv6 global unicast",
}


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_private_forms_are_refused(address):
    assert not is_public(address), REFUSED[address]


@pytest.mark.parametrize("address", sorted(ALLOWED))
def test_public_forms_are_allowed(address):
    assert is_public(address), ALLOWED[address]
