"""Every service's body limits: 413 past the size limit, 400 past the nesting limit, and the
route never runs for a refused body."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI, Request
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from bandstand.platform.asgi import send_json
from bandstand.platform.request_body import MAX_NESTING, NestingMeter, RequestBodyLimits

LIMIT = 1000


class Echo:
    """Answers the size and digest of the body it read; remembers it was called."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        digest = hashlib.sha256(body).hexdigest()
        await send_json(send, 200, {"size": len(body), "sha256": digest})


def _client(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _chunks(data: bytes, size: int = 100) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    echo = Echo()
    body = b"x" * LIMIT
    async with _client(RequestBodyLimits(echo, LIMIT)) as client:
        for content in (body, _chunks(body)):
            response = await client.post("/", content=content)
            assert response.status_code == 200
            assert response.json() == {
                "size": LIMIT,
                "sha256": hashlib.sha256(body).hexdigest(),
            }
    assert echo.calls == 2


async def test_a_body_over_the_limit_is_413_and_never_reaches_the_app() -> None:
    echo = Echo()
    body = b"x" * (LIMIT + 1)
    async with _client(RequestBodyLimits(echo, LIMIT)) as client:
        by_length = await client.post("/", content=body)
        chunked = await client.post("/", content=_chunks(body))
    for response in (by_length, chunked):
        assert response.status_code == 413
        assert response.json() == {"detail": f"Request body larger than {LIMIT} bytes"}
    assert "content-length" not in chunked.request.headers
    assert echo.calls == 0


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    """An endless chunked body: the answer comes without reading it to the end."""
    read = 0
    sent: list[Message] = []

    async def endless() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"transfer-encoding", b"chunked")],
    }
    await RequestBodyLimits(Echo(), LIMIT)(scope, endless, send)
    assert sent[0]["status"] == 413
    assert read == LIMIT // 100 + 1


async def test_a_client_that_leaves_mid_body_gets_no_answer() -> None:
    echo = Echo()
    messages = iter(
        [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}]
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"9")]}
    await RequestBodyLimits(echo, LIMIT)(scope, receive, send)
    assert sent == []
    assert echo.calls == 0


def _parsing_app() -> tuple[FastAPI, list[int]]:
    """A route that parses its body itself, as the inherited routes do; `parsed` counts it."""
    app = FastAPI()
    parsed: list[int] = []

    @app.post("/")
    async def parse(request: Request) -> dict[str, int]:
        document = json.loads(await request.body())
        parsed.append(1)
        return {"items": len(document)}

    return app, parsed


async def test_a_body_nested_too_deep_is_400_and_never_parsed() -> None:
    app, parsed = _parsing_app()
    deep = b"[" * (MAX_NESTING + 1) + b"]" * (MAX_NESTING + 1)
    async with _client(RequestBodyLimits(app, 10**6)) as client:
        for content in (deep, _chunks(deep, 7), b"[" * 100_000):
            response = await client.post("/", content=content)
            assert response.status_code == 400
            assert response.json() == {
                "detail": f"Request body nested deeper than {MAX_NESTING} levels"
            }
        allowed = b"[" * MAX_NESTING + b"]" * MAX_NESTING
        assert (await client.post("/", content=allowed)).json() == {"items": 1}
    assert parsed == [1]


async def test_a_csv_with_unbalanced_brackets_is_not_measured_as_json() -> None:
    csv = b"name,price\n" + b"Guitar [used,10\n" * (MAX_NESTING + 1)
    echo = Echo()
    async with _client(RequestBodyLimits(echo, 10**6)) as client:
        as_csv = await client.post("/", content=csv, headers={"content-type": "text/csv"})
    assert as_csv.status_code == 200
    assert as_csv.json()["size"] == len(csv)
    app, parsed = _parsing_app()
    async with _client(RequestBodyLimits(app, 10**6)) as client:
        as_json = await client.post("/", content=csv, headers={"content-type": "application/json"})
    assert as_json.status_code == 400
    assert parsed == []


async def test_requests_without_a_body_pass_untouched() -> None:
    echo = Echo()
    async with _client(RequestBodyLimits(echo, 0)) as client:
        assert (await client.get("/")).json()["size"] == 0
        assert (await client.post("/")).json()["size"] == 0
    assert echo.calls == 2


# The nesting meter

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\a'), children, max_size=3)
    ),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=json_values, limit=st.integers(0, 6), cuts=st.lists(st.integers(0, 400)))
def test_the_meter_measures_json_depth_however_the_body_is_cut(
    value: object, limit: int, cuts: list[int]
) -> None:
    data = json.dumps(value, ensure_ascii=False).encode()
    bounds = sorted({0, len(data), *(cut for cut in cuts if cut < len(data))})
    meter = NestingMeter(limit)
    exceeded = any(meter.feed(data[a:b]) for a, b in itertools.pairwise(bounds))
    assert exceeded == (_depth(value) > limit)


@given(text=st.text(alphabet='[]{}"\\'), limit=st.integers(0, 4))
def test_a_string_full_of_brackets_is_flat(text: str, limit: int) -> None:
    data = json.dumps({"key": text, text: [text]}).encode()
    assert not NestingMeter(max(limit, 2)).feed(data)
