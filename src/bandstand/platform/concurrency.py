"""A bound on how much costly work (such as password hashing) a process takes on at once.

Past the bound a request is refused at once with 503 and `Retry-After` rather than queued: a
flood of such requests then costs the process no more than the bound, and the callers are told
when to come back."""

from __future__ import annotations

import threading

from bandstand.platform.errors import ServiceUnavailable


class Busy(ServiceUnavailable):
    default_detail = "Too busy, try again shortly"


class ConcurrencyLimit:
    """At most `limit` holders at once. Thread-safe: a slot taken on the event loop may be
    given back by the worker thread that did the work."""

    def __init__(self, limit: int, *, retry_after: int = 1) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self._in_use = 0
        self._lock = threading.Lock()

    @property
    def in_use(self) -> int:
        return self._in_use

    def ensure_free(self) -> None:
        """Raise `Busy` when no slot is free now: a cheap early refusal before other work (the
        slot itself is taken later, with `acquire`)."""
        if self._in_use >= self.limit:
            raise Busy(headers={"Retry-After": str(self.retry_after)})

    def acquire(self) -> None:
        """Take a slot, or raise `Busy` (503 with `Retry-After`) when none is free."""
        with self._lock:
            if self._in_use >= self.limit:
                raise Busy(headers={"Retry-After": str(self.retry_after)})
            self._in_use += 1

    def release(self) -> None:
        with self._lock:
            self._in_use -= 1
