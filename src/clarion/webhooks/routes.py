"""HTTP routes for webhooks: the signing key, test reports, and the delivery log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from clarion.auth.dependencies import CallerDep, DatabaseDep
from clarion.errors import Error
from clarion.web import MAX_ID, json_response, resource_id
from clarion.webhooks import service
from clarion.webhooks.schemas import Delivery
from clarion.webhooks.signing import Signer

router = APIRouter(tags=["Webhooks"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "Bad request"},
    401: {"model": Error, "description": "Missing, invalid or revoked API key"},
    404: {"model": Error, "description": "Not found"},
}


@router.get(
    "/v1/webhook-signing-key",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}}},
    summary="Webhook Signing Key",
)
async def signing_key(request: Request) -> Response:
    """The public key (PEM) that verifies X-Clarion-Signature on every delivery. Public."""
    signer: Signer = request.app.state.signer
    return Response(signer.public_key_pem, media_type="application/x-pem-file")


@router.post(
    "/v1/assistant/{assistantId}/webhook/test",
    status_code=202,
    response_model=Delivery,
    responses=ERRORS,
    summary="Send Test Webhook",
)
async def send_test(
    request: Request,
    assistant_id: Annotated[str, Path(alias="assistantId")],
    caller: CallerDep,
    database: DatabaseDep,
) -> Response:
    """Queues a realistic sample end-of-call report (call id 0) to the assistant's webhook
    now, signed like every delivery; returns the delivery to follow."""
    body = await database.write(
        service.send_test_report, caller, resource_id(assistant_id, "assistant")
    )
    request.app.state.delivery_wakeup.set()  # after commit: the worker may start at once
    return json_response(body, 202)


@router.get(
    "/v1/webhook-deliveries",
    response_model=list[Delivery],
    responses=ERRORS,
    summary="List Webhook Deliveries",
)
async def list_deliveries(
    caller: CallerDep,
    database: DatabaseDep,
    assistant_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Literal["pending", "in_flight", "succeeded", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The organization's deliveries, newest first."""
    return json_response(
        await database.read(service.list_deliveries, caller, assistant_id, status, limit)
    )


@router.get(
    "/v1/webhook-deliveries/{deliveryId}",
    response_model=Delivery,
    responses=ERRORS,
    summary="Get Webhook Delivery",
)
async def get_delivery(
    delivery_id: Annotated[str, Path(alias="deliveryId")], caller: CallerDep, database: DatabaseDep
) -> Response:
    """One delivery, with its payload and every attempt."""
    return json_response(
        await database.read(
            service.get_delivery, caller, resource_id(delivery_id, "webhook delivery")
        )
    )


@router.post(
    "/v1/webhook-deliveries/{deliveryId}/redeliver",
    status_code=202,
    response_model=Delivery,
    responses=ERRORS,
    summary="Redeliver Webhook",
)
async def redeliver(
    request: Request,
    delivery_id: Annotated[str, Path(alias="deliveryId")],
    caller: CallerDep,
    database: DatabaseDep,
) -> Response:
    """Makes the delivery due now again, with a fresh retry schedule; past attempts stay."""
    body = await database.write(
        service.redeliver, caller, resource_id(delivery_id, "webhook delivery")
    )
    request.app.state.delivery_wakeup.set()
    return json_response(body, 202)
