from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sentoffers.contract.search import ErrorSearchPage, InteractionSearchPage
from sentoffers.server.features import search as service
from sentoffers.server.store.queries import window
from sentoffers.server.web.api.auth import ReadTenant
from sentoffers.server.web.api.compat import ContractRoute
from sentoffers.server.web.api.deps import Db
from sentoffers.server.web.api.paging import FromParam, SortParam, ToParam, csv_values
from sentoffers.server.web.api.params import ChannelsParam

router = APIRouter(prefix="/api/sent-offers/search", tags=["Search"], route_class=ContractRoute)

Csv = Annotated[str | None, Query(max_length=2000, description="One value or a comma list.")]
Text = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/interactions",
    response_model=InteractionSearchPage,
    summary="Search Interactions and their Logs",
    operation_id="SearchInteractions",
)
def search_interactions(
    tenant: ReadTenant,
    db: Db,
    q: Annotated[
        str | None,
        Query(max_length=200, description="SKU id, offer id, offer name or a log's words"),
    ] = None,
    feed_ids: ChannelsParam = None,
    brand: Text = None,
    category: Text = None,
    scope: Annotated[
        str | None, Query(max_length=200, description="Origin: catalog, price or inventory")
    ] = None,
    result: Csv = None,
    sort: SortParam = None,
    from_: FromParam = None,
    to: ToParam = None,
    from_date: Annotated[str | None, Query(alias="fromDate", max_length=64)] = None,
    to_date: Annotated[str | None, Query(alias="toDate", max_length=64)] = None,
) -> InteractionSearchPage:
    """Sorts: startDate (default, descending), closedAt, result, origin, skuId."""
    return service.search_interactions(
        db,
        tenant.account,
        channels_=csv_values(feed_ids),
        brand=brand or None,
        category=category or None,
        scopes=csv_values(scope),
        results=csv_values(result),
        from_date=from_date,
        to_date=to_date,
        q=(q or "").strip() or None,
        sort=sort,
        win=window(from_, to),
    )


@router.get(
    "/errors",
    response_model=ErrorSearchPage,
    summary="Search Errors",
    operation_id="SearchErrors",
)
def search_errors(
    tenant: ReadTenant,
    db: Db,
    q: Text = None,
    feed_ids: ChannelsParam = None,
    brand: Text = None,
    category: Text = None,
    error_category: Annotated[
        str | None, Query(alias="errorCategory", max_length=200, description="The code's type")
    ] = None,
    sort: SortParam = None,
    from_: FromParam = None,
    to: ToParam = None,
) -> ErrorSearchPage:
    """Sorts: id (the default, ascending), type; narrowed by offers (channels, brand or
    category): openErrors (the default, most first) and lastSeen, the date of the newest
    open error with the code, given in each item as `lastSeen`.

    Search Interactions' sorts are read too, as the official collection sends one `sort` to
    both searches: startDate sorts by lastSeen; closedAt, result, origin and skuId describe
    an interaction, not a code, so the list keeps its default order and the answer carries
    a `sort_ignored` entry in `warnings`. So does openErrors or lastSeen when the search is
    not narrowed by offers. Any other sort is a 400 `invalid_sort`.
    """
    return service.search_errors(
        db,
        tenant.account,
        q=q,
        error_category=error_category,
        channels_=csv_values(feed_ids),
        brand=brand or None,
        category=category or None,
        sort=sort,
        win=window(from_, to),
    )
