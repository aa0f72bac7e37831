"""Helpers of the fault tests: real `bandstand worker billing` processes, orders placed fast,
and what the billing database holds."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bandstand.billing.models import Order
from bandstand.billing.schemas import OrderCreate
from bandstand.billing.service import order_service
from bandstand.platform.database import Database
from bandstand.platform.messaging.outbox import outbox_table
from bandstand.platform.security import Principal
from bandstand.platform.settings import Settings
from tests.billing.conftest import ALICE_ID, ORDER, Billing
from tests.e2e.processes import Bandstand, bandstand_env

ALICE = Principal(id=ALICE_ID, role="user", token_id="fault-tests", session_id=None, expires_at=0)


def worker_process(settings: Settings, workdir: Path, name: str = "worker") -> Bandstand:
    """`bandstand worker billing` on the same database and broker as `settings`."""
    env = bandstand_env(
        BANDSTAND_DATA_DIR=str(settings.data_dir),
        BANDSTAND_BROKER_URL=settings.broker_url,
        BANDSTAND_DATABASES__BILLING=settings.database_url("billing"),
        BANDSTAND_WORKER_RETRY_SECONDS="0.1",
        BANDSTAND_OUTBOX_POLL_SECONDS="0.2",
        BANDSTAND_LOG_LEVEL="WARNING",
        BANDSTAND_LOG_JSON="false",
    )
    return Bandstand("worker", "billing", env=env, workdir=workdir, name=name)


async def post_orders(billing: Billing, count: int, *, concurrency: int = 20) -> list[str]:
    """Place `count` orders through `POST /api/billing`; the ids of the 202s."""
    accepted: list[str] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            response = await billing.client.post("/api/billing", json=ORDER, headers=billing.alice)
        assert response.status_code == 202, response.text
        accepted.append(response.json()["order_id"])

    await asyncio.gather(*(one() for _ in range(count)))
    return accepted


async def place_orders(database: Database, count: int, batch: int = 500) -> None:
    """Place `count` orders through the service layer (order row + outbox message each), in
    transactions of `batch`: the 202 path without HTTP, for the large scenarios."""
    data = OrderCreate.model_validate(ORDER)
    for start in range(0, count, batch):
        async with database.unit_of_work() as session:
            await order_service.place_batch(session, [data] * min(batch, count - start), ALICE)


async def statuses(database: Database) -> Counter[str]:
    async with database.session() as session:
        rows = await session.execute(select(Order.status, func.count()).group_by(Order.status))
        return Counter({str(status): int(count) for status, count in rows})


async def completed_events(database: Database) -> Counter[str]:
    """How many billing.order.completed messages each order id has in the outbox."""
    async with database.session() as session:
        bodies = await session.execute(
            select(outbox_table.c.body).where(
                outbox_table.c.routing_key == "billing.order.completed"
            )
        )
        return Counter(json.loads(body)["payload"]["order_id"] for (body,) in bodies)


async def wait_for(
    check: object, timeout: float, what: str, worker: Bandstand | None = None
) -> None:
    """Poll the coroutine function `check` until it is true."""
    assert callable(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if worker is not None and worker.process is not None:
            assert worker.process.poll() is None, f"worker died:\n{worker.log()[-4000:]}"
        if loop.time() > deadline:
            log = worker.log()[-4000:] if worker is not None else ""
            raise AssertionError(f"{what}: not within {timeout} s\n{log}")
        await asyncio.sleep(0.1)


async def all_completed(database: Database, count: int) -> bool:
    return (await statuses(database))["completed"] == count
