"""The streaming platform's inherited billing route (contract A), over the same service.

`POST /api/billing` answers 202 `{"message": "Message posted", "order_id", "status": "pending"}`
as soon as the order and its message are stored, whether or not a worker is running. A body
that is not JSON answers 400 `{"error": "Invalid JSON"}`; a missing or invalid field 400 naming
it (`{"error": "total_amount: ..."}`), with the same text under `detail`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response, status
from pydantic import ValidationError

from bandstand.billing.endpoints import IdempotencyKey, accepted_headers, place
from bandstand.billing.schemas import OrderAccepted, OrderCreate
from bandstand.platform.errors import BadRequest, legacy_errors
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.security import CurrentUser

router = ServiceRouter(tags=["billing (streaming platform compatibility)"])

ORDER_BODY = {
    "content": {
        "application/json": {
            "schema": OrderCreate.model_json_schema(),
            "example": {"user_id": "usr_123", "number_of_items": 3, "total_amount": 99.97},
        }
    },
    "required": True,
}


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{field}: {message}")
    return "; ".join(problems)


async def read_order(request: Request) -> OrderCreate:
    raw = await request.body()
    try:
        document: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("Invalid JSON") from exc
    if not isinstance(document, dict):
        raise BadRequest("JSON object required")
    try:
        return OrderCreate.model_validate(document)
    except ValidationError as exc:
        raise BadRequest(_describe(exc)) from exc


@router.post(
    "/api/billing",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderAccepted,
    openapi_extra={"requestBody": ORDER_BODY},
    summary="Place an order (the streaming platform's route)",
)
@legacy_errors("error", validation_status=400)
async def legacy_place_order(
    request: Request,
    user: CurrentUser,
    response: Response,
    key: IdempotencyKey = None,
) -> OrderAccepted:
    data = await read_order(request)
    placed = await place(request, data, user, key)
    accepted_headers(response, placed)
    return OrderAccepted(order_id=placed.order.id, status=placed.order.status)
