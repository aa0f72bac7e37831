"""AMQP topic matching."""

from __future__ import annotations

import pytest

from bandstand.platform.messaging.topic import topic_matches


@pytest.mark.parametrize(
    ("pattern", "routing_key", "expected"),
    [
        ("identity.user.registered", "identity.user.registered", True),
        ("identity.user.registered", "identity.user.deleted", False),
        ("identity.#", "identity.user.registered", True),
        ("identity.#", "identity", True),
        ("identity.#", "music.user.deleted", False),
        ("*.user.*", "identity.user.registered", True),
        ("*.user.*", "music.user.deleted", True),
        ("*.user.*", "identity.user", False),
        ("*.user.*", "identity.user.role.granted", False),
        ("#", "anything.at.all", True),
        ("#.deleted", "identity.user.deleted", True),
        ("#.deleted", "deleted", True),
        ("identity.#.deleted", "identity.deleted", True),
        ("identity.#.deleted", "identity.a.b.deleted", True),
        ("identity.#.deleted", "identity.a.b.created", False),
        ("*", "identity", True),
        ("*", "identity.user", False),
        ("#.#", "a.b", True),
        ("*.#", "a", True),
    ],
)
def test_topic_matches(pattern: str, routing_key: str, expected: bool) -> None:
    assert topic_matches(pattern, routing_key) is expected
