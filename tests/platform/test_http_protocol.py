"""The server protocol that writes a response's head and body together (`http_protocol`)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bandstand.platform.http_protocol import CoalescingTransport
from tests.support.uvicorn_thread import uvicorn_in_thread


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


async def test_two_writes_leave_as_one() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"head")
    assert real.writes == []
    transport.write(b"body")
    assert real.writes == [b"headbody"]


async def test_a_lone_write_leaves_by_the_end_of_the_loop_iteration() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"head")
    await asyncio.sleep(0)
    assert real.writes == [b"head"]
    transport.write(b"chunk")
    transport.close()  # what is held is written before the close
    assert real.writes == [b"head", b"chunk"]
    assert real.closed
    assert transport.get_extra_info("peername") == "info:peername"


release = threading.Event()


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    path = scope["path"]
    if path == "/slow":
        # The head goes out; the body waits until the client has seen the head.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while not release.is_set():
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"late", "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    payload = b"echo:" + body
    headers = [(b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with uvicorn_in_thread(_app, lifespan="off") as url:
        yield url


async def test_responses_on_one_kept_alive_connection(server_url: str) -> None:
    async with httpx.AsyncClient(base_url=server_url, timeout=5) as http:
        for number in range(20):
            response = await http.post("/echo", content=f"n{number}".encode())
            assert response.status_code == 200
            assert response.content == f"echo:n{number}".encode()
            empty = await http.get("/empty")
            assert empty.status_code == 204
            assert empty.content == b""
            head = await http.head("/echo")
            assert head.status_code == 200
            assert head.headers["content-length"] == "5"


async def test_a_streamed_head_is_not_held_for_its_body(server_url: str) -> None:
    release.clear()
    try:
        async with (
            httpx.AsyncClient(base_url=server_url, timeout=5) as http,
            http.stream("GET", "/slow") as response,
        ):
            assert response.status_code == 200  # the head arrived while the body waits
            release.set()
            assert await response.aread() == b"late"
    finally:
        release.set()


def test_expect_100_continue_is_answered_before_the_body(server_url: str) -> None:
    port = int(server_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"body")
        answer = interim.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
        while not answer.endswith(b"echo:body"):
            chunk = sock.recv(1024)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
