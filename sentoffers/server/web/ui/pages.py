"""The seller's pages: the offer list, an offer, an interaction and a log's evidence.

Each page reads through the same indexed service functions as the API, one bounded page
at a time, for the signed-in account only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sentoffers.contract.offers import OfferDetails, OfferPage
from sentoffers.domain.errors import Gone, NotFound
from sentoffers.server.features.error_codes import service as error_codes
from sentoffers.server.features.feeds import list_feeds
from sentoffers.server.features.interactions import service as interactions
from sentoffers.server.features.offers import service as offers
from sentoffers.server.features.offers.versions import interaction_version, offer_version
from sentoffers.server.features.retention import describe_days
from sentoffers.server.settings import Settings
from sentoffers.server.store.queries import COUNT_CAP
from sentoffers.server.web.api.deps import AppSettings, Db
from sentoffers.server.web.ui import views
from sentoffers.server.web.ui.filters import (
    OFFER_PAGE_SIZES,
    OFFER_SORTS,
    OFFER_STATUSES,
    FeedIdPath,
    InteractionFilters,
    IssuedIdPath,
    OfferFilters,
    SkuIdPath,
)
from sentoffers.server.web.ui.session import SignedIn, Viewer, viewer_of
from sentoffers.server.web.ui.templating import render

router = APIRouter(include_in_schema=False)

# What one page reads at most: a timeline's logs, an offer's status changes.
MAX_TIMELINE_LOGS = 500
MAX_STATUS_CHANGES = 50
# The list filtered by open errors counts this many offers at most: past it, "10,000+".
OFFER_COUNT_CAP = COUNT_CAP


def not_found(request: Request, viewer: Viewer | None) -> Response:
    return render(request, "not_found.html", {}, status_code=404, viewer=viewer)


@router.get("/")
def home(request: Request) -> Response:
    target = "/offers" if viewer_of(request) else "/signin"
    return RedirectResponse(target, status_code=303)


@router.get("/offers")
def offer_list(request: Request, viewer: SignedIn, db: Db, settings: AppSettings) -> Response:
    filters = OfferFilters.parse(request.query_params)
    feeds = list_feeds(db, viewer.account)
    page = offers.list_offers(
        db,
        viewer.account,
        sort=filters.sort,
        win=filters.window,
        count_cap=OFFER_COUNT_CAP,
        stuck_after=settings.stuck_after,
        **filters.service_filters(),
    )
    return render(
        request,
        "offers.html",
        {
            "filters": filters,
            "page": page,
            "feeds": feeds,
            "tabs": _status_tabs(filters, page),
            "counts_exact": page.paging.total_is_exact,
            "count_cap": OFFER_COUNT_CAP,
            "stuck_after": views.duration_text(settings.stuck_after),
            "paging": _offer_paging(filters, page),
            "sorts": OFFER_SORTS,
            "page_sizes": OFFER_PAGE_SIZES,
        },
        viewer=viewer,
    )


def _status_tabs(filters: OfferFilters, page: OfferPage) -> list[dict[str, Any]]:
    """The tabs with their counts. Counts that stopped at the cap are lower bounds, shown
    as "n+"; a status the counting never reached shows no number rather than a 0."""
    exact = page.paging.total_is_exact
    all_count = sum(getattr(page.counts, s) for s in OFFER_STATUSES)
    tabs = [
        {
            "label": "All",
            "count": all_count if exact else min(all_count, OFFER_COUNT_CAP),
            "status": "",
        }
    ]
    tabs += [
        {"label": views.status_label(s), "count": getattr(page.counts, s), "status": s}
        for s in OFFER_STATUSES
    ]
    for tab in tabs:
        tab["stuck"] = ""
    # Stuck offers are Sending ones: their tab follows Sending's, shown while there are
    # any (or while it is the list shown).
    if page.counts.stuck or filters.stuck:
        at = 1 + OFFER_STATUSES.index("sending") + 1
        tabs.insert(at, {"label": "Stuck", "count": page.counts.stuck, "status": "", "stuck": "1"})
    for tab in tabs:
        tab["exact"] = exact
        if not exact and not tab["count"]:
            tab["count"] = None
        tab["current"] = (tab["status"], tab["stuck"]) == (filters.status, filters.stuck)
        tab["url"] = "/offers?" + filters.query(status=tab["status"], stuck=tab["stuck"], page=1)
    return tabs


def _offer_paging(filters: OfferFilters, page: OfferPage) -> dict[str, Any]:
    start = filters.window.start
    total, exact = page.paging.total, page.paging.total_is_exact
    shown = len(page.items)
    if not exact and shown < filters.size and (shown or not start):
        total, exact = start + shown, True  # the list ended on this page: that is all
    # An inexact total is a lower bound: a full page may have more after it.
    more = start + shown < total or (not exact and shown == filters.size)
    has_next = more and filters.page < filters.last_reachable_page
    return {
        "first": start + 1 if shown else 0,
        "last": start + shown,
        "total": total if exact else max(total, start + shown),
        "exact": exact,
        "previous": "/offers?" + filters.query(page=filters.page - 1) if filters.page > 1 else None,
        "next": "/offers?" + filters.query(page=filters.page + 1) if has_next else None,
        "capped": more and not has_next and shown > 0,
    }


@router.get("/offers/{feed_id}/{sku_id:path}/interactions/{interaction_id}/evidence/{log_id}")
def evidence_page(
    request: Request,
    viewer: SignedIn,
    db: Db,
    settings: AppSettings,
    feed_id: FeedIdPath,
    sku_id: SkuIdPath,
    interaction_id: IssuedIdPath,
    log_id: IssuedIdPath,
) -> Response:
    try:
        log = interactions.get_log(
            db,
            viewer.account,
            feed_id,
            sku_id,
            interaction_id,
            log_id,
            retention=settings.retention,
        )
        offer = offers.get_offer(db, viewer.account, feed_id, sku_id, history=0, recent=0)
    except Gone:
        return _expired(request, viewer, settings, feed_id, sku_id)
    except NotFound:
        return not_found(request, viewer)
    return render(
        request,
        "evidence.html",
        {"offer": offer, "log": log, "interaction_id": interaction_id},
        viewer=viewer,
    )


@router.get("/offers/{feed_id}/{sku_id:path}/interactions/{interaction_id}")
def interaction_page(
    request: Request,
    viewer: SignedIn,
    db: Db,
    settings: AppSettings,
    feed_id: FeedIdPath,
    sku_id: SkuIdPath,
    interaction_id: IssuedIdPath,
) -> Response:
    version = interaction_version(db, viewer.account, feed_id, sku_id, interaction_id)
    try:
        interaction = interactions.get_interaction(
            db,
            viewer.account,
            feed_id,
            sku_id,
            interaction_id,
            retention=settings.retention,
            max_logs=MAX_TIMELINE_LOGS,
        )
        offer = offers.get_offer(db, viewer.account, feed_id, sku_id, history=0, recent=0)
    except Gone:
        return _expired(request, viewer, settings, feed_id, sku_id)
    except NotFound:
        return not_found(request, viewer)
    failures = []
    if interaction.result == "failure":
        types = {code.id: code.type for code in error_codes.list_codes(db)}
        for log in interaction.logs:
            for error in log.errors:
                code_type = types.get(error.error_code_id)
                name = views.error_name(error.title, code_type, error.code)
                failures.append({"name": name, "error": error, "log": log})
    return render(
        request,
        "interaction.html",
        {
            "offer": offer,
            "interaction": interaction,
            "failures": failures,
            "logs_cut_at": MAX_TIMELINE_LOGS
            if len(interaction.logs) >= MAX_TIMELINE_LOGS
            else None,
            "live_url": views.live_interaction_url(
                offer.feed_id, offer.sku_id, interaction.id, version
            ),
        },
        viewer=viewer,
    )


def _expired(
    request: Request, viewer: Viewer, settings: Settings, feed_id: str, sku_id: str
) -> Response:
    days = describe_days(settings.retention_days)
    return render(
        request,
        "expired.html",
        {"days": days, "offer_link": views.offer_url(feed_id, sku_id)},
        status_code=410,
        viewer=viewer,
    )


@router.get("/offers/{feed_id}/{sku_id:path}")
def offer_page(
    request: Request,
    viewer: SignedIn,
    db: Db,
    settings: AppSettings,
    feed_id: FeedIdPath,
    sku_id: SkuIdPath,
) -> Response:
    ifilters = InteractionFilters.parse(request.query_params)
    version = offer_version(db, viewer.account, feed_id, sku_id)
    try:
        offer = offers.get_offer(
            db,
            viewer.account,
            feed_id,
            sku_id,
            history=MAX_STATUS_CHANGES,
            recent=0,
            stuck_after=settings.stuck_after,
        )
        page = offers.list_offer_interactions(
            db,
            viewer.account,
            feed_id,
            sku_id,
            origins=[ifilters.origin] if ifilters.origin else [],
            results=[ifilters.result] if ifilters.result else [],
            win=ifilters.window,
        )
    except NotFound:
        return not_found(request, viewer)
    links = views.edit_links(settings, viewer.account, offer.sku_id, offer.product_id)
    base = views.offer_url(offer.feed_id, offer.sku_id)
    start, shown = ifilters.window.start, len(page.items)
    more = start + shown < page.paging.total or not page.paging.total_is_exact
    return render(
        request,
        "offer.html",
        {
            "offer": offer,
            "stuck_after": views.duration_text(settings.stuck_after),
            "errors": _open_errors(offer, links),
            "links": links,
            "interactions": page,
            "ifilters": ifilters,
            "new_value": views.new_value_text,
            "paging": {
                "first": start + 1 if shown else 0,
                "last": start + shown,
                "total": page.paging.total,
                "exact": page.paging.total_is_exact,
                "previous": f"{base}?{ifilters.query(page=ifilters.page - 1)}#interactions"
                if ifilters.page > 1
                else None,
                "next": f"{base}?{ifilters.query(page=ifilters.page + 1)}#interactions"
                if more and shown == ifilters.size
                else None,
            },
            "live_url": views.live_offer_url(offer.feed_id, offer.sku_id, version),
            "retention_days": describe_days(settings.retention_days),
            "history_cut_at": MAX_STATUS_CHANGES
            if len(offer.status_history) >= MAX_STATUS_CHANGES
            else None,
        },
        viewer=viewer,
    )


def _open_errors(offer: OfferDetails, links: views.EditLinks) -> list[dict[str, Any]]:
    out = []
    for error in offer.open_errors:
        label, url = links.for_origin(error.origin)
        out.append(
            {
                "error": error,
                "name": views.error_name(error.title, error.type, error.code),
                "edit_label": label,
                "edit_url": url,
            }
        )
    return out
