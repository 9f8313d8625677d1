from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from fastapi.responses import JSONResponse
from pydantic import PlainValidator

from sentoffers.contract.interactions import (
    BatchItem,
    BatchRead,
    InteractionCreate,
    InteractionRead,
    LogCreate,
    LogCreated,
    LogRead,
    UnifiedCreate,
    UnifiedRead,
)
from sentoffers.server.features.interactions import service
from sentoffers.server.features.interactions.batch import batch
from sentoffers.server.web.api.auth import ReadTenant, WriteTenant
from sentoffers.server.web.api.compat import ContractRoute
from sentoffers.server.web.api.deps import AppSettings, Db, ErrorCodes, Writer
from sentoffers.server.web.api.idempotency import IdempotencyKeyDep, keyed_write, respond
from sentoffers.server.web.api.params import FeedId, InteractionId, LogId, SkuId, SkuIdAsSent

router = APIRouter(
    prefix="/api/sent-offers/feeds/{feedId}", tags=["Interactions"], route_class=ContractRoute
)

OFFER = "/skus/{skuId}/interactions"
ONE = OFFER + "/{interactionId}"


class JSONUTF8Response(JSONResponse):
    """Create Log answers ``application/json; charset=utf-8``, as the original did."""

    media_type = "application/json; charset=utf-8"


@router.post(
    OFFER,
    status_code=201,
    response_model=InteractionRead,
    summary="Open Interaction",
    operation_id="CreateInteraction",
)
def open_interaction(
    feed_id: FeedId,
    sku_id: SkuId,
    body: InteractionCreate,
    tenant: WriteTenant,
    keyed: IdempotencyKeyDep,
    db: Db,
) -> Response:
    """Open an interaction on an SKU; the first one creates the offer, in Sending."""
    with keyed_write(db, keyed) as write:
        opened = service.open_interaction(write.db, tenant.account, feed_id, sku_id, body)
        return write.answer(201, opened)


@router.get(
    ONE,
    response_model=InteractionRead,
    summary="Get Interaction Data by interactionId",
    operation_id="RetrieveInteraction",
)
def get_interaction(
    feed_id: FeedId,
    sku_id: SkuIdAsSent,
    interaction_id: InteractionId,
    tenant: ReadTenant,
    db: Db,
    settings: AppSettings,
) -> InteractionRead:
    """The interaction with its logs in timeline order."""
    return service.get_interaction(
        db, tenant.account, feed_id, sku_id, interaction_id, retention=settings.retention
    )


@router.post(
    ONE + "/close",
    status_code=204,
    response_class=Response,
    summary="Close Interaction",
    operation_id="CloseInteraction",
)
def close_interaction(
    feed_id: FeedId,
    sku_id: SkuId,
    interaction_id: InteractionId,
    tenant: WriteTenant,
    keyed: IdempotencyKeyDep,
    db: Db,
) -> Response:
    """Close the interaction: its result is fixed and the offer's status derived from it."""
    with keyed_write(db, keyed) as write:
        service.close_interaction(write.db, tenant.account, feed_id, sku_id, interaction_id)
        return write.answer(204)


@router.post(
    ONE + "/logs",
    status_code=201,
    response_model=LogCreated,
    response_class=JSONUTF8Response,
    summary="Create Log",
    operation_id="CreateLog",
)
def create_log(
    feed_id: FeedId,
    sku_id: SkuId,
    interaction_id: InteractionId,
    body: LogCreate,
    tenant: WriteTenant,
    keyed: IdempotencyKeyDep,
    db: Db,
    error_codes: ErrorCodes,
) -> Response:
    """Add a log; a failure log opens its errors on the offer at once."""
    with keyed_write(db, keyed) as write:
        created = service.create_log(
            write.db, tenant.account, feed_id, sku_id, interaction_id, body, error_codes.ids()
        )
        return write.answer(201, created, media_type=JSONUTF8Response.media_type)


@router.get(
    ONE + "/logs/{logId}",
    response_model=LogRead,
    summary="Get Log Data by logId",
    operation_id="RetrieveLog",
)
def get_log(
    feed_id: FeedId,
    sku_id: SkuIdAsSent,
    interaction_id: InteractionId,
    log_id: LogId,
    tenant: ReadTenant,
    db: Db,
    settings: AppSettings,
) -> LogRead:
    return service.get_log(
        db,
        tenant.account,
        feed_id,
        sku_id,
        interaction_id,
        log_id,
        retention=settings.retention,
    )


@router.post(
    "/skus/{skuId}/interactions/unified",
    status_code=201,
    response_model=UnifiedRead,
    summary="Unified contract: open, log once and close",
    operation_id="CreateUnifiedInteraction",
)
async def unified(
    feed_id: FeedId,
    sku_id: SkuId,
    body: UnifiedCreate,
    tenant: WriteTenant,
    keyed: IdempotencyKeyDep,
    writer: Writer,
) -> Response:
    """The SDK document's unified contract, in one transaction.

    Calls arriving together are written together (group commit); each answers alone, with
    the answer its write built (and kept with its Idempotency-Key, in the same transaction).
    """
    applied = await writer.submit(tenant.account, feed_id, sku_id, body, keyed=keyed)
    assert applied.answer is not None
    return respond(applied.answer)


def _as_sent(value: Any) -> Any:
    return value


BatchItems = Annotated[
    list[Any],
    # Documented as items, validated one by one by the service so a bad item fails alone.
    PlainValidator(_as_sent, json_schema_input_type=list[BatchItem]),
    Body(description="Up to 1,000 unified items, each with skuId, one log or several"),
]


@router.post(
    "/interactions/unified/batch",
    response_model=BatchRead,
    summary="Unified contract for many SKUs",
    operation_id="CreateUnifiedInteractionBatch",
)
def unified_batch(
    feed_id: FeedId,
    items: BatchItems,
    tenant: WriteTenant,
    keyed: IdempotencyKeyDep,
    db: Db,
    settings: AppSettings,
    error_codes: ErrorCodes,
) -> Response:
    """One response with a result per item, in order; a bad item fails alone.

    An item is a unified call with its ``skuId``: one log's fields at the top level, or
    ``logs``, several Create Log bodies appended in order before the interaction closes.
    """
    with keyed_write(db, keyed) as write:
        answer = batch(
            write.db,
            tenant.account,
            feed_id,
            items,
            error_codes.ids(),
            max_items=settings.batch_max_items,
        )
        # Built by the service from its own values: answered as is, without a second validation.
        return write.answer(200, answer)
