"""The prefix table: which service answers which path."""

from __future__ import annotations

from collections.abc import Iterable


class RouteTable:
    """Longest-prefix match on whole path segments (`/users` matches `/users/7`, not `/usersx`).

    The prefix `/` matches every path, as the last resort. `exact` paths match themselves only
    (the web's home page is `/` without claiming every unknown path)."""

    def __init__(
        self, routes: Iterable[tuple[str, str]], exact: Iterable[tuple[str, str]] = ()
    ) -> None:
        self._exact = dict(exact)
        owners: dict[str, str] = {}
        for prefix, service in routes:
            normalized = "/" + prefix.strip("/")
            owner = owners.setdefault(normalized, service)
            if owner != service:
                raise ValueError(f"prefix {normalized} is claimed by {owner} and {service}")
        self._owners = owners
        # Longest first, so /api/v1/users/me style prefixes win over /api/v1/users.
        self._entries = sorted(owners.items(), key=lambda entry: len(entry[0]), reverse=True)

    def match(self, path: str) -> str | None:
        owner = self._exact.get(path)
        if owner is not None:
            return owner
        # The path itself, then each shorter run of whole segments: the longest prefix first.
        candidate = path
        while True:
            owner = self._owners.get(candidate)
            if owner is not None:
                return owner
            cut = candidate.rfind("/")
            if cut <= 0:
                return self._owners.get("/")
            candidate = candidate[:cut]

    def services(self) -> list[str]:
        return sorted({service for _, service in self._entries} | set(self._exact.values()))

    def prefixes(self, service: str) -> list[str]:
        return sorted(prefix for prefix, owner in self._entries if owner == service)
