from __future__ import annotations

from fastapi import APIRouter, Response

from sentoffers.contract.feeds import FeedCreate, FeedCreated, FeedRead, FeedUpdate
from sentoffers.server.features import feeds as service
from sentoffers.server.web.api.auth import ReadTenant, WriteTenant
from sentoffers.server.web.api.compat import ContractRoute
from sentoffers.server.web.api.deps import Db
from sentoffers.server.web.api.idempotency import IdempotencyKeyDep, keyed_write
from sentoffers.server.web.api.params import FeedId

router = APIRouter(prefix="/api/sent-offers/feeds", tags=["Feeds"], route_class=ContractRoute)


@router.post(
    "",
    status_code=201,
    response_model=FeedCreated,
    summary="Activate Feed",
    operation_id="CreateFeed",
)
def activate_feed(
    body: FeedCreate, tenant: WriteTenant, keyed: IdempotencyKeyDep, db: Db
) -> Response:
    """Connect the account to a channel; reactivates a deactivated feed."""
    with keyed_write(db, keyed) as write:
        return write.answer(201, service.activate(write.db, tenant.account, body))


@router.get("", response_model=list[FeedRead], summary="List Feeds", operation_id="ListFeeds")
def list_feeds(tenant: ReadTenant, db: Db) -> list[FeedRead]:
    """The account's active feeds."""
    return service.list_feeds(db, tenant.account)


@router.get(
    "/{feedId}",
    response_model=FeedRead,
    summary="Get Feed by feedId",
    operation_id="RetrieveFeed",
)
def get_feed(feed_id: FeedId, tenant: ReadTenant, db: Db) -> FeedRead:
    return service.get(db, tenant.account, feed_id)


@router.put(
    "/{feedId}",
    status_code=204,
    response_class=Response,
    summary="Update Feed",
    operation_id="UpdateFeed",
)
def update_feed(
    feed_id: FeedId,
    body: FeedUpdate,
    tenant: WriteTenant,
    db: Db,
) -> Response:
    """Change the feed's affiliate id and sales channel."""
    service.update_feed(db, tenant.account, feed_id, body)
    return Response(status_code=204)


@router.delete(
    "/{feedId}",
    status_code=204,
    response_class=Response,
    summary="Deactivate Feed",
    operation_id="DeleteFeed",
)
def deactivate_feed(feed_id: FeedId, tenant: WriteTenant, db: Db) -> Response:
    """Hide the feed and its offers, interactions and errors; nothing is deleted."""
    service.deactivate(db, tenant.account, feed_id)
    return Response(status_code=204)
