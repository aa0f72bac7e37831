"""Billing's canonical API under /api/v1/billing: orders, and the dead letters (admin)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Body, Header, Path, Query, Request, Response, status

from bandstand.billing.dead_letters import DEAD_LETTER_QUEUE, dead_letter_service
from bandstand.billing.events import order_id_of
from bandstand.billing.intake import intake_of
from bandstand.billing.schemas import (
    DeadLetters,
    OrderCreate,
    OrderRead,
    OrderStatus,
    RedriveRequest,
    RedriveResult,
    parse_idempotency_key,
)
from bandstand.billing.service import Placed, order_service
from bandstand.platform.errors import BadRequest, NotFound
from bandstand.platform.json_response import JSONShape
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.messaging import Broker, Peeked
from bandstand.platform.pagination import Page, Pagination, page_shape, paginate
from bandstand.platform.security import AdminUser, CurrentUser, Principal
from bandstand.platform.transactions import DBSession, get_session

router = ServiceRouter(prefix="/api/v1/billing", tags=["billing"])
ORDER_PAGE = page_shape(OrderRead)
DEAD_LETTERS = JSONShape(DeadLetters)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a request safely: the same key from the same user returns the "
        "same order and never creates a second one",
    ),
]


def idempotency_key(value: str | None) -> str | None:
    try:
        return parse_idempotency_key(value)
    except ValueError as exc:
        raise BadRequest(f"Idempotency-Key: {exc}") from exc


async def place(request: Request, data: OrderCreate, caller: Principal, key: str | None) -> Placed:
    """Place an order for either route: by group commit, or one by one with a key."""
    checked_key = idempotency_key(key)
    if checked_key is None:
        order = await intake_of(request).place(order_service.new_order(data, caller))
        return Placed(order, replayed=False)
    session = await get_session(request)
    return await order_service.place(session, data, caller, checked_key)


def accepted_headers(response: Response, placed: Placed) -> None:
    response.headers["Location"] = f"/api/v1/billing/orders/{placed.order.id}"
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"


def broker_of(request: Request) -> Broker:
    broker: Broker = request.app.state.runtime.broker
    return broker


@router.post(
    "/orders",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderRead,
    summary="Place an order; the worker processes it (poll its status)",
)
async def place_order(
    data: OrderCreate,
    user: CurrentUser,
    request: Request,
    response: Response,
    key: IdempotencyKey = None,
) -> OrderRead:
    placed = await place(request, data, user, key)
    accepted_headers(response, placed)
    return OrderRead.of(placed.order)


@router.get(
    "/orders",
    response_model=Page[OrderRead],
    summary="Orders, newest first: the caller's own; an admin's sees all",
)
async def list_orders(
    user: CurrentUser,
    session: DBSession,
    request: Request,
    pagination: Pagination,
    status: OrderStatus | None = None,
    user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    statement = order_service.listing(user, status=status, user_id=user_id)
    page = await paginate(session, statement, pagination, request, scalars=False)
    page["results"] = [row._asdict() for row in page["results"]]
    return ORDER_PAGE.response(page)


@router.get("/orders/{order_id}", response_model=OrderRead, summary="One order (owner or admin)")
async def get_order(order_id: uuid.UUID, user: CurrentUser, session: DBSession) -> OrderRead:
    return OrderRead.of(await order_service.get(session, order_id, user))


@router.get(
    "/dead-letters",
    response_model=DeadLetters,
    summary="Messages of billing_queue that failed every attempt (admin)",
)
async def list_dead_letters(
    _admin: AdminUser,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    count, peeked = await dead_letter_service.peek(broker_of(request), limit)
    letters = {"queue": DEAD_LETTER_QUEUE, "count": count, "results": [_dead(p) for p in peeked]}
    return DEAD_LETTERS.response(letters)


def _dead(peeked: Peeked) -> dict[str, Any]:
    """A dead letter as `DeadLetter`'s fields."""
    message = peeked.message
    if peeked.malformed is not None:
        return {
            "message_id": message.id,
            "type": None,
            "occurred_at": None,
            "order_id": None,
            "payload": None,
            "malformed": True,
            "error": peeked.malformed,
            "body": (peeked.raw or b"").decode(errors="replace"),
        }
    order_id = order_id_of(message)
    return {
        "message_id": message.id,
        "type": message.type,
        "occurred_at": message.occurred_at,
        "order_id": str(order_id) if order_id else None,
        "payload": message.payload,
    }


@router.post(
    "/dead-letters/redrive",
    response_model=RedriveResult,
    summary="Put dead messages back on billing_queue, all or by message id (admin)",
)
async def redrive_dead_letters(
    _admin: AdminUser,
    request: Request,
    data: Annotated[RedriveRequest | None, Body()] = None,
) -> RedriveResult:
    ids = data.message_ids if data is not None else None
    redriven = await dead_letter_service.redrive(broker_of(request), ids)
    return RedriveResult(redriven=len(redriven), message_ids=redriven)


@router.delete(
    "/dead-letters/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a dead message for good (admin)",
)
async def delete_dead_letter(
    _admin: AdminUser,
    request: Request,
    message_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    if not await dead_letter_service.delete(broker_of(request), [message_id]):
        raise NotFound("Dead letter not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
