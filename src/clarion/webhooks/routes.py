"""HTTP routes for webhooks: the signing key, test reports, and the delivery log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from clarion.api.dependencies import Authorized, EditorDep, ServicesDep, ViewerDep
from clarion.api.openapi import error_responses
from clarion.api.requests import LIST_LIMIT_DEFAULT, MAX_ID, Limit, resource_id
from clarion.api.responses import json_response
from clarion.webhooks import service
from clarion.webhooks.schemas import Delivery
from clarion.webhooks.signing import Signer

router = APIRouter(tags=["Webhooks"])

ERRORS = error_responses()


def _signer(services: ServicesDep) -> Signer:
    return services.signer


SignerDep = Annotated[Signer, Depends(_signer)]


@router.get(
    "/v1/webhook-signing-key",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}}},
    summary="Webhook Signing Key",
)
async def signing_key(signer: SignerDep) -> Response:
    """The public key (PEM) that verifies X-Clarion-Signature on every delivery. Public."""
    return Response(signer.public_key_pem, media_type="application/x-pem-file")


AssistantId = Annotated[str, Path(alias="assistantId")]
DeliveryId = Annotated[str, Path(alias="deliveryId")]
# Operations that queue a delivery answer 202 with it: the worker sends it after the commit.
QUEUED: dict[str, Any] = {"status_code": 202, "response_model": Delivery, "responses": ERRORS}


async def _queue(auth: Authorized, work: Callable[..., dict[str, Any]], target: int) -> Response:
    body = await auth.database.write(work, auth.caller, target, auth.services.delivery_due.set)
    return json_response(body, 202)


@router.post("/v1/assistant/{assistantId}/webhook/test", summary="Send Test Webhook", **QUEUED)
async def send_test(assistant_id: AssistantId, auth: EditorDep) -> Response:
    """Queues a sample end-of-call report (call id 0) to the assistant's webhook now, signed
    like every delivery: a web call of the assistant, with the fields and types of its real
    reports and only the analysis its plan asks for; returns the delivery to follow."""
    return await _queue(auth, service.send_test_report, resource_id(assistant_id, "assistant"))


@router.get(
    "/v1/webhook-deliveries",
    response_model=list[Delivery],
    responses=ERRORS,
    summary="List Webhook Deliveries",
)
async def list_deliveries(
    auth: ViewerDep,
    assistant_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Literal["pending", "in_flight", "succeeded", "failed"] | None = None,
    limit: Limit = LIST_LIMIT_DEFAULT,
    call_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only the report of this call")
    ] = None,
) -> Response:
    """The organization's deliveries, newest first."""
    return json_response(
        await auth.database.read(
            service.list_deliveries, auth.caller, assistant_id, status, limit, call_id
        )
    )


@router.get(
    "/v1/webhook-deliveries/{deliveryId}",
    response_model=Delivery,
    responses=ERRORS,
    summary="Get Webhook Delivery",
)
async def get_delivery(delivery_id: DeliveryId, auth: ViewerDep) -> Response:
    """One delivery, with its payload and every attempt."""
    return json_response(
        await auth.database.write(
            service.get_delivery, auth.caller, resource_id(delivery_id, "webhook delivery")
        )
    )


@router.post("/v1/webhook-deliveries/{deliveryId}/redeliver", summary="Redeliver Webhook", **QUEUED)
async def redeliver(delivery_id: DeliveryId, auth: EditorDep) -> Response:
    """Makes the delivery due now again, with a fresh retry schedule; past attempts stay."""
    return await _queue(auth, service.redeliver, resource_id(delivery_id, "webhook delivery"))
