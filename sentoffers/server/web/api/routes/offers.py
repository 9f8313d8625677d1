from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sentoffers.contract.offers import (
    InteractionSummaryPage,
    OfferDetails,
    OfferPage,
    UnmappedErrorPage,
)
from sentoffers.server.features.offers import service
from sentoffers.server.store.queries import window
from sentoffers.server.web.api.auth import ReadTenant
from sentoffers.server.web.api.compat import ContractRoute
from sentoffers.server.web.api.deps import AppSettings, Db
from sentoffers.server.web.api.paging import FromParam, SortParam, ToParam, csv_values
from sentoffers.server.web.api.params import ChannelParam, FeedId, SkuIdAsSent

router = APIRouter(prefix="/api/sent-offers", tags=["Offers"], route_class=ContractRoute)

Csv = Annotated[str | None, Query(max_length=2000, description="One value or a comma list.")]
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/offers", response_model=OfferPage, summary="List offers, with counts per status")
def list_offers(
    tenant: ReadTenant,
    db: Db,
    settings: AppSettings,
    feed_ids: ChannelParam = None,
    status: Csv = None,
    origin: Annotated[
        str | None, Query(max_length=200, description="Origin of an open error: catalog, ...")
    ] = None,
    error_code: Annotated[
        str | None,
        Query(alias="errorCode", max_length=2000, description="An open error's code (comma list)"),
    ] = None,
    brand: Text = None,
    category: Text = None,
    q: Annotated[
        str | None, Query(max_length=200, description="SKU id, channel id, offer id or name")
    ] = None,
    stuck: Annotated[
        bool | None,
        Query(
            description="true: only the offers in Sending for longer than the stuck time "
            "(longest stuck first unless sorted otherwise); false: only the others."
        ),
    ] = None,
    sort: SortParam = None,
    from_: FromParam = None,
    to: ToParam = None,
) -> OfferPage:
    """Offers of the account's active feeds, with counts per status and of stuck offers.
    Sorts: updatedAt, createdAt, skuId, name, status, statusSince."""
    return service.list_offers(
        db,
        tenant.account,
        channels_=csv_values(feed_ids),
        statuses=csv_values(status),
        origins=csv_values(origin),
        codes=csv_values(error_code),
        brand=brand or None,
        category=category or None,
        q=(q or "").strip() or None,
        stuck=stuck,
        sort=sort,
        win=window(from_, to),
        stuck_after=settings.stuck_after,
    )


@router.get(
    "/feeds/{feedId}/skus/{skuId}",
    response_model=OfferDetails,
    summary="One offer: status, open errors, why, recent interactions",
)
def get_offer(
    feed_id: FeedId, sku_id: SkuIdAsSent, tenant: ReadTenant, db: Db, settings: AppSettings
) -> OfferDetails:
    return service.get_offer(db, tenant.account, feed_id, sku_id, stuck_after=settings.stuck_after)


@router.get(
    "/feeds/{feedId}/skus/{skuId}/interactions",
    response_model=InteractionSummaryPage,
    summary="An offer's interactions",
)
def list_offer_interactions(
    feed_id: FeedId,
    sku_id: SkuIdAsSent,
    tenant: ReadTenant,
    db: Db,
    origin: Csv = None,
    result: Csv = None,
    sort: SortParam = None,
    from_: FromParam = None,
    to: ToParam = None,
) -> InteractionSummaryPage:
    """Newest first by default; each with the new value it set. Sorts: startDate, result."""
    return service.list_offer_interactions(
        db,
        tenant.account,
        feed_id,
        sku_id,
        origins=csv_values(origin),
        results=csv_values(result),
        sort=sort,
        win=window(from_, to),
    )


@router.get(
    "/unmapped-errors",
    response_model=UnmappedErrorPage,
    summary="Unmapped errors grouped by description, to codify later",
)
def list_unmapped_errors(
    tenant: ReadTenant,
    db: Db,
    sort: SortParam = None,
    from_: FromParam = None,
    to: ToParam = None,
) -> UnmappedErrorPage:
    """Sorts: occurrences (default, descending), lastSeen, firstSeen."""
    return service.list_unmapped(db, tenant.account, sort=sort, win=window(from_, to))
