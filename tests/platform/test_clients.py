"""The client's address: the socket's peer unless a trusted proxy says otherwise, walking the
X-Forwarded-For chain from the right over trusted hops, never believing junk."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandstand.platform.clients import TrustedProxies, parse_address

PROXIES = TrustedProxies(["10.0.0.0/8", "fd00::/8"])

trusted_hops = st.one_of(
    st.integers(0, 2**24 - 1).map(lambda n: str(ipaddress.IPv4Address(0x0A000000 + n))),
    st.integers(0, 0xFFFF).map(lambda n: f"fd00::{n:x}"),
    st.integers(0, 255).map(lambda n: f"::ffff:10.0.0.{n}"),
)
untrusted_hops = st.one_of(
    st.integers(0, 255).map(lambda n: f"198.51.100.{n}"),
    st.integers(0, 0xFFFF).map(lambda n: f"2001:db8::{n:x}"),
    st.just("127.0.0.1"),
)
junk_hops = st.one_of(
    st.text(alphabet="abcxyz.:<>-_ 0123456789/", max_size=20).filter(
        lambda text: parse_address(text) is None
    ),
    st.just("198.51.100.7:443"),
    st.just("999.1.1.1"),
    st.just("unknown"),
)
hops = st.lists(st.one_of(trusted_hops, untrusted_hops, junk_hops), max_size=8)
peers = st.one_of(trusted_hops, untrusted_hops)


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("203.0.113.9", "6.6.6.6", "203.0.113.9"),  # not a proxy of ours: its header is ignored
        ("127.0.0.1", "6.6.6.6", "127.0.0.1"),  # neither is loopback, unless configured
        ("10.0.0.2", "6.6.6.6", "6.6.6.6"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the rightmost untrusted hop
        ("10.0.0.2", "198.51.100.7, 10.1.1.1, 10.2.2.2", "198.51.100.7"),
        ("10.0.0.2", "198.51.100.7, junk, 10.1.1.1", "10.1.1.1"),  # junk ends the walk
        ("10.0.0.2", "junk", "10.0.0.2"),
        ("10.0.0.2", " 198.51.100.7 ,", "10.0.0.2"),  # an empty last hop is junk too
        ("10.0.0.2", "10.1.1.1, 10.2.2.2", "10.1.1.1"),  # all trusted: the first one
        ("::ffff:10.0.0.2", "::ffff:198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "2001:DB8::1", "2001:db8::1"),
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_examples(peer: str, header: str, expected: str) -> None:
    assert PROXIES.client(peer, [header]) == expected


def test_nobody_is_trusted_by_default() -> None:
    nobody = TrustedProxies([])
    assert not nobody
    for peer in ("127.0.0.1", "10.0.0.2", "192.168.1.1", "::1"):
        assert nobody.client(peer, ["6.6.6.6"]) == peer


def test_several_header_lines_are_one_chain() -> None:
    assert PROXIES.client("10.0.0.2", ["198.51.100.7", "10.1.1.1"]) == "198.51.100.7"


@given(peer=untrusted_hops, chain=hops)
def test_an_untrusted_peer_is_the_client(peer: str, chain: list[str]) -> None:
    assert PROXIES.client(peer, [", ".join(chain)]) == peer


@given(peer=peers, chain=hops)
def test_the_client_is_always_an_address_vouched_for(peer: str, chain: list[str]) -> None:
    client = PROXIES.client(peer, [", ".join(chain)])
    assert client is not None
    address = parse_address(client)
    assert address is not None
    # It is the peer or a hop, and every hop to its right was a trusted proxy's.
    if client != peer:
        normalized = [str(parse_address(hop)) if parse_address(hop) else hop for hop in chain]
        position = len(normalized) - 1 - normalized[::-1].index(client)
        assert all(PROXIES.trusts(hop) for hop in normalized[position + 1 :])


@given(peer=peers, chain=hops)
def test_walking_again_changes_nothing(peer: str, chain: list[str]) -> None:
    """The gateway and a service behind it may both walk the same chain."""
    header = [", ".join(chain)]
    once = PROXIES.client(peer, header)
    assert PROXIES.client(once, header) == once


@given(peer=peers, left=hops, client=untrusted_hops, right=st.lists(trusted_hops, max_size=4))
def test_what_is_left_of_the_client_does_not_matter(
    peer: str, left: list[str], client: str, right: list[str]
) -> None:
    """Whatever a client put in the header itself is to the left of its own address."""
    found = PROXIES.client(peer, [", ".join([*left, client, *right])])
    if PROXIES.trusts(peer):
        assert found == str(parse_address(client))
    else:
        assert found == peer
