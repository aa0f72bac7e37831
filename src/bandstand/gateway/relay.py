"""What crosses the gateway's hop: the headers dropped each way, and a service's response
relayed back to the client (the same for the lean HTTP/1.1 client and aiohttp's)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from starlette.types import Message, Send

from bandstand.gateway.bodies import STREAM_CHUNK
from bandstand.platform.draining import DRAINING_HEADER

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-connection",
        b"content-length",
        # The server in front of the gateway has answered `Expect: 100-continue` already.
        b"expect",
    }
)
# Set by the gateway itself: a value a client sends is replaced, never passed on (the client's
# address and scheme come from the scope, where `ForwardedClientMiddleware` put them).
FORWARDING = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"})
# Added by the server in front of the gateway; the upstream's copy would be a duplicate.
SERVER_ADDED = frozenset({b"date", b"server"})
# Said by a replica to the gateway (it is draining); not the client's business.
REPLICA_SIGNALS = frozenset({DRAINING_HEADER})
# Not relayed from a service's response (its Content-Length is: the body is relayed as is).
RESPONSE_DROPPED = (HOP_BY_HOP - {b"content-length"}) | SERVER_ADDED | REPLICA_SIGNALS


def connection_tokens(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """Header names listed in `Connection`: hop-by-hop for this one message (RFC 9110 7.6.1)."""
    tokens: set[bytes] = set()
    for key, value in headers:
        if key.lower() == b"connection":
            tokens.update(token.strip().lower() for token in value.split(b",") if token.strip())
    return frozenset(tokens)


def response_start(status: int, raw: Sequence[tuple[bytes, bytes]]) -> tuple[Message, bool]:
    """The response's head as relayed, without hop-by-hop headers, the server's own and the
    replica's signals; and whether the replica said it is draining."""
    headers: list[tuple[bytes, bytes]] = []
    connection: list[tuple[bytes, bytes]] = []
    draining = False
    for key, value in raw:
        lowered = key.lower()
        if lowered in RESPONSE_DROPPED:
            if lowered == b"connection":
                connection.append((lowered, value))
            elif lowered == DRAINING_HEADER:
                draining = True
            continue
        headers.append((lowered, value))
    if connection:
        tokens = connection_tokens(connection)
        headers = [(key, value) for key, value in headers if key not in tokens]
    return {"type": "http.response.start", "status": status, "headers": headers}, draining


async def relay_response(
    status: int,
    raw_headers: Sequence[tuple[bytes, bytes]],
    content_length: int | None,
    read: Callable[[], Awaitable[bytes]],
    chunks: Callable[[], AsyncIterator[bytes]],
    send: Send,
) -> bool:
    """Sends the response on (a small body in one message, a larger one as it comes); True
    when the replica said it is draining."""
    start, draining = response_start(status, raw_headers)
    await send(start)
    if content_length is not None and content_length <= STREAM_CHUNK:
        await send({"type": "http.response.body", "body": await read()})
        return draining
    async for chunk in chunks():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
    return draining
