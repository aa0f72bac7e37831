"""AMQP topic matching: words split on `.`, `*` matches one word, `#` zero or more words."""

from __future__ import annotations

from functools import lru_cache


def topic_matches(pattern: str, routing_key: str) -> bool:
    return _matches(tuple(pattern.split(".")), tuple(routing_key.split(".")))


@lru_cache(maxsize=4096)
def _matches(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    # reachable[j]: the pattern words seen so far can match the first j routing-key words.
    reachable = [True] + [False] * len(words)
    for word_pattern in pattern:
        if word_pattern == "#":
            for j in range(1, len(words) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            for j in range(len(words), 0, -1):
                reachable[j] = reachable[j - 1] and word_pattern in ("*", words[j - 1])
            reachable[0] = False
    return reachable[-1]
