"""The mix of the mixed load: each journey's weight (its share of the users), the admins, the
think time. Apart from the Locust users (`_mixed_journeys.py`) so that the benchmark reads it
without importing Locust, which patches the standard library with gevent."""

from __future__ import annotations

import math

WEIGHTS = {
    "Listener": 40,
    "Visitor": 20,
    "ConcertGoer": 10,
    "Shopper": 12,
    "Learner": 8,
    "MovieBuyer": 8,
}
ADMINS = 2
THINK = (2.0, 8.0)
"""Seconds a user waits between actions (uniform): 5 s on average."""


def learner_accounts(users: int) -> int:
    """Enough accounts for every learner Locust may start among `users` (its share rounded
    up, with a margin): a learner has an account of its own."""
    return math.ceil(users * WEIGHTS["Learner"] / sum(WEIGHTS.values())) + 5
