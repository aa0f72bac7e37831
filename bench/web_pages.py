"""Signed-in pages against the API calls they make: songs at 100,000, listings at 1,000,000.

Target (issue 16): a signed-in page renders in at most the time of the API calls it makes plus
5 ms, at p50. Measured for the songs page (100,000 songs, 1,000,000 likes: `liked_by_me` is
computed for the visitor) and the instrument search page (1,000,000 listings), on SQLite, through
`bandstand up` (the gateway with every service and the web in-process).

Method: one user signs in through the log-in page (a session cookie) and through the API (a
bearer token). Then, one request at a time over one keep-alive connection, for each of `--queries`
distinct searches drawn with a fixed seed (songs: words of the catalogue and artists' names;
instruments: `_search_queries`, what people type), alternately: the page, then the API call the
page makes for it, with the same parameters. Both are timed from this process, so the HTTP hop is
in both; the difference is what the page adds (the session, the call in-process, the template).
Whichever of the two goes first pays the query's cold costs (its count, data not yet in memory),
so the page goes first for half of the queries and its API calls for the other half.
The pages make their calls at once (songs: the list, and the filters' choices asked without the
token, as the page does, so the response cache may answer them; instruments: the listings and the
category facets); their API time is theirs one after the other.
The response cache never answers: every request is signed in. A warm-up pass runs first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h
import _music_data as music_data
import _search_queries as search_queries
import _varied_search as varied
import gen_instruments
from _results import markdown_table, verdict, write_results
from every_list import ADMIN, PASSWORD, create_superuser
from marketplace_search import timed_import

TARGET_EXTRA_MS = 5.0
SONG_PAGE_SIZE = 20
LISTING_PAGE_SIZE = 24


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--likes", type=int, default=1_000_000)
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400, help="distinct searches per page")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the data here")
    parser.add_argument("--prepare-only", action="store_true", help="fill the data and stop")
    h.common_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.songs, args.likes, args.listings, args.queries = 2_000, 20_000, 20_000, 60
    return args


def song_searches(count: int) -> list[dict[str, str]]:
    rng = random.Random(16)
    words = [*music_data.WORDS, *music_data.FIRST, *music_data.LAST]
    searches: list[dict[str, str]] = []
    seen: set[str] = set()
    while len(searches) < count:
        term = rng.choice(words).lower()
        if rng.random() < 0.3:
            term = term[: max(3, len(term) - rng.randrange(0, 3))]
        query = {"search": term}
        if rng.random() < 0.3:
            query["ordering"] = rng.choice(("title", "-likes", "-release_date"))
        key = urllib.parse.urlencode(query)
        if key not in seen:
            seen.add(key)
            searches.append(query)
    return searches


def listing_searches(count: int) -> list[dict[str, Any]]:
    return [dict(query) for query in search_queries.queries()[:count]]


def _songs_api(q: dict[str, Any]) -> list[str]:
    # The page's three calls (made concurrently): the songs, with its filters, page 1 of
    # SONG_PAGE_SIZE, ordered by title by default; and the filters' choices (the facets and the
    # first albums), the same for everyone, which the page asks without the visitor's token.
    query = {"page": 1, "page_size": SONG_PAGE_SIZE, "ordering": "title", **q}
    return [
        "/api/v1/songs?" + urllib.parse.urlencode(query),
        "/api/v1/songs/facets",
        "/api/v1/albums?ordering=title&page_size=100",
    ]


def _listings_api(q: dict[str, Any]) -> list[str]:
    # The page's two calls (made concurrently): the listings, and the category facets under
    # every filter but the category.
    facets = {key: value for key, value in q.items() if key != "category"}
    return [
        "/api/v1/instruments?"
        + urllib.parse.urlencode({**q, "page": 1, "page_size": LISTING_PAGE_SIZE}),
        "/api/v1/instruments/categories?" + urllib.parse.urlencode(facets),
    ]


# Each page as the browser asks for it, and the API calls the page makes for it.
PAGES: dict[str, tuple[Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], list[str]]]] = {
    "songs page": (lambda q: "/music?" + urllib.parse.urlencode(q), _songs_api),
    "instrument search page": (
        lambda q: "/instruments?" + urllib.parse.urlencode(q),
        _listings_api,
    ),
}


def prepare(workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The music and marketplace databases filled (kept in `workdir` for another run)."""
    var = workdir / "var"
    prepared: dict[str, Any] = {}
    if not (workdir / "music.ready").exists():
        url, _cleanup = music_data.prepare_database("sqlite", workdir)
        prepared["music"] = music_data.load(
            "sqlite", url, workdir, songs=args.songs, likes=args.likes
        )
        (workdir / "music.ready").write_text("")
    if not (workdir / "marketplace.ready").exists():
        csv_path = workdir / "listings.csv"
        with csv_path.open("w") as out:
            gen_instruments.write(args.listings, out, "csv", seed=4)
        prepared["import"] = timed_import(csv_path, marketplace_url(workdir), workdir)
        prepared["index"] = varied.build_index(marketplace_url(workdir), [workdir])
        csv_path.unlink()
        (workdir / "marketplace.ready").write_text("")
    migrate = [*h.bandstand_command(), "migrate", "--data-dir", str(var)]
    subprocess.run(migrate, env=h.process_env(database_env(workdir)), check=True)
    if not (workdir / "admin.ready").exists():
        create_superuser(workdir, database_env(workdir))
        (workdir / "admin.ready").write_text("")
    return prepared


def marketplace_url(workdir: Path) -> str:
    return f"sqlite+aiosqlite:///{workdir / 'marketplace.sqlite3'}"


def database_env(workdir: Path) -> dict[str, str]:
    return {
        "BANDSTAND_DATABASES__MUSIC": f"sqlite+aiosqlite:///{workdir / 'music.sqlite3'}",
        "BANDSTAND_DATABASES__MARKETPLACE": marketplace_url(workdir),
    }


class Browser:
    """One keep-alive connection with a cookie jar of one name each (all the pages set)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection(h.HOST, port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, float]:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        text = response.read().decode()
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text, elapsed

    def sign_in(self) -> None:
        status, page, _ = self.request("GET", "/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"no log-in form ({status})")
        form = urllib.parse.urlencode(
            {"csrftoken": token.group(1), "login": ADMIN, "password": PASSWORD, "next": "/"}
        )
        status, text, _ = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 303 or "bandstand_session" not in self.cookies:
            raise RuntimeError(f"log-in failed ({status}): {text[:300]}")


def api_token(port: int) -> str:
    status, body = h.http_request(
        port, "POST", "/api/v1/login", {"username": ADMIN, "password": PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"API log-in failed ({status})")
    return str(json.loads(body)["access_token"])


ASKED_ANONYMOUSLY = ("/api/v1/songs/facets", "/api/v1/albums?")


def _auth(path: str, bearer: dict[str, str]) -> dict[str, str]:
    """The token, as the page sends it: not with the reads that are the same for everyone."""
    return {} if path.startswith(ASKED_ANONYMOUSLY) else bearer


def measure_page(
    port: int, name: str, queries: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    page_path, api_paths = PAGES[name]
    browser = Browser(port)
    browser.sign_in()
    api = Browser(port)
    bearer = {"Authorization": f"Bearer {api_token(port)}"}
    for query in queries[: max(10, len(queries) // 10)]:  # warm-up
        browser.request("GET", page_path(query))
        for path in api_paths(query):
            api.request("GET", path, headers=_auth(path, bearer))
    h.settle(args)
    pages: list[float] = []
    calls: list[float] = []

    def page(query: dict[str, Any]) -> None:
        status, text, seconds = browser.request("GET", page_path(query))
        if status != 200 or ("Log in" in text.split("<main", 1)[0] and ADMIN not in text):
            raise RuntimeError(f"{page_path(query)}: {status}, not the signed-in page")
        pages.append(seconds * 1000)

    def its_calls(query: dict[str, Any]) -> None:
        spent = 0.0
        for path in api_paths(query):
            status, _body, seconds = api.request("GET", path, headers=_auth(path, bearer))
            if status != 200:
                raise RuntimeError(f"{path}: {status}")
            spent += seconds
        calls.append(spent * 1000)

    # Whichever goes first pays the query's cold costs (its count, pages not yet in memory):
    # the page goes first for half of the queries, its API calls for the other half.
    for number, query in enumerate(queries):
        first, second = (page, its_calls) if number % 2 == 0 else (its_calls, page)
        first(query)
        second(query)
    page_p50, call_p50 = statistics.median(pages), statistics.median(calls)
    return {
        "queries": len(queries),
        "page_p50_ms": round(page_p50, 2),
        "page_p95_ms": round(statistics.quantiles(pages, n=20)[18], 2),
        "api_p50_ms": round(call_p50, 2),
        "api_p95_ms": round(statistics.quantiles(calls, n=20)[18], 2),
        "extra_p50_ms": round(page_p50 - call_p50, 2),
        "met": page_p50 - call_p50 <= TARGET_EXTRA_MS,
    }


def report(data: dict[str, Any]) -> str:
    rows = [
        [
            name,
            result["queries"],
            result["api_p50_ms"],
            result["page_p50_ms"],
            result["extra_p50_ms"],
            result["api_p95_ms"],
            result["page_p95_ms"],
            verdict(result["met"]),
        ]
        for name, result in data["pages"].items()
    ]
    headers = [
        "page (signed in, SQLite)",
        "distinct queries",
        "its API calls p50 ms",
        "page p50 ms",
        "page - API p50 ms (≤ 5)",
        "API p95 ms",
        "page p95 ms",
        "target",
    ]
    return markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        prepared = prepare(workdir, args)
        if args.prepare_only:
            print(prepared)
            return 0
        port = h.free_port()
        up = h.bandstand_process(
            "up", ["up", "--port", str(port)], workdir, extra_env=database_env(workdir)
        )
        with h.started(up, port, "/ready"):
            results = {
                "songs page": measure_page(port, "songs page", song_searches(args.queries), args),
                "instrument search page": measure_page(
                    port, "instrument search page", listing_searches(args.queries), args
                ),
            }
    data = {
        "songs": args.songs,
        "likes": args.likes,
        "listings": args.listings,
        "prepared": prepared,
        "pages": results,
    }
    path = write_results("web_pages", data)
    print(report(data))
    print(f"\nresults: {path}")
    return 0 if all(result["met"] for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
