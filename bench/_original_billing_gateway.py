"""The baseline of bench/billing_pipeline.py: the streaming platform's gateway publishing the way
it did, one new broker connection per request (connect, declare billing_queue, publish a
persistent message, close), as a tiny ASGI app.

Run: `python _original_billing_gateway.py PORT AMQP_URL`.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import TYPE_CHECKING

import aio_pika
import uvicorn

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

AMQP_URL = sys.argv[2] if len(sys.argv) > 2 else "amqp://guest:guest@127.0.0.1:5672/"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    status, answer = 400, {"error": "Invalid JSON"}
    if scope["path"] == "/health":
        body = b"{}"
    try:
        order = json.loads(body)
    except ValueError:
        order = None
    if scope["path"] == "/health":
        status, answer = 200, {"status": "healthy"}
    elif isinstance(order, dict):
        order_id = str(uuid.uuid4())
        connection = await aio_pika.connect(AMQP_URL)
        try:
            channel = await connection.channel()
            await channel.declare_queue("billing_queue", durable=True)
            await channel.default_exchange.publish(
                aio_pika.Message(
                    json.dumps({**order, "order_id": order_id}).encode(),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="billing_queue",
            )
        finally:
            await connection.close()
        status, answer = 202, {"message": "Message posted", "order_id": order_id}
    payload = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
