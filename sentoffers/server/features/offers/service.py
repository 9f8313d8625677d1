"""Reading offers: the list with its counts, one offer's details, its interactions.

Only offers of active feeds are ever shown: a deactivated feed's data is hidden, not gone.

Ids arrive normalised by the API and the web UI (``sentoffers.domain.ids``: feed ids,
whether a path names one or a filter lists them; an SKU id a read names is taken as sent)
and are matched as given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Select, func, not_, select, tuple_

from sentoffers.contract.interactions import iso
from sentoffers.contract.offers import (
    ChannelRef,
    InteractionSummary,
    InteractionSummaryPage,
    LastReport,
    NewValue,
    OfferDetails,
    OfferPage,
    OfferSummary,
    OpenError,
    StatusChangeRead,
    StatusCounts,
    UnmappedErrorGroup,
    UnmappedErrorPage,
)
from sentoffers.domain.errors import InvalidInput, NotFound, Problem
from sentoffers.domain.model import OFFER_FIELDS, OfferStatus
from sentoffers.domain.rules import DEFAULT_STUCK_AFTER, is_stuck, stuck_cutoff
from sentoffers.domain.vocabulary import parse_origin, parse_result
from sentoffers.server.features.error_codes.service import account_codes
from sentoffers.server.features.feeds import AccountFeeds, account_feeds
from sentoffers.server.features.offers.open_errors import (
    STATUSES,
    WALK_ROWS,
    Walk,
    counts_of,
    open_error_filter,
    page_with_open_errors,
    stuck_condition,
    total_of,
    with_statuses,
)
from sentoffers.server.store.queries import (
    Window,
    count_capped,
    order_by,
    paging,
    parse_each,
    split_sort,
)
from sentoffers.server.store.tables import (
    error_occurrences,
    interactions,
    logs,
    offer_status_counts,
    offer_status_history,
    offers,
    unmapped_errors,
)
from sentoffers.sql.db import Database
from sentoffers.sql.dialect import offer_text_matches

OFFER_SORTS = {
    "updatedAt": offers.c.updated_at,
    "createdAt": offers.c.created_at,
    "skuId": offers.c.sku_id,
    "name": offers.c.name,
    "status": offers.c.status,
    "statusSince": offers.c.status_since,
}
# Stuck offers come longest stuck first unless another order is asked for.
STUCK_SORT = "statusSince:asc"
INTERACTION_SORTS = {"startDate": interactions.c.start_date, "result": interactions.c.result}


def _statuses(values: Sequence[str]) -> list[str]:
    wanted = [v.strip().lower() for v in values]
    wrong = [v for v in wanted if v not in STATUSES]
    if wrong:
        raise InvalidInput(
            f"unknown status {wrong[0]!r}; expected one of: {', '.join(STATUSES)}", field="status"
        )
    return wanted


def _origins(values: Sequence[str], field: str) -> list[str]:
    problems: list[Problem] = []
    out = parse_each(values, parse_origin, field, problems)
    if problems:
        raise InvalidInput.of(problems)
    return out


def _visible(account: str, feeds_: AccountFeeds) -> Select[Any]:
    """Offers of the account's active feeds."""
    return (
        select(offers)
        .where(offers.c.account == account, feeds_.visible(offers.c.feed_id))
        # An offer claimed by a write still in flight has no interaction yet.
        .where(offers.c.last_interaction_id.is_not(None))
    )


def _filtered(
    query: Select[Any],
    *,
    dialect: str,
    channels_: Sequence[str],
    brand: str | None,
    category: str | None,
    q: str | None,
) -> Select[Any]:
    """``query`` narrowed by every filter but the open errors' and the status."""
    if channels_:
        query = query.where(offers.c.feed_id.in_(channels_))
    if brand:
        query = query.where(offers.c.brand == brand)
    if category:
        query = query.where(offers.c.category == category)
    if q:
        query = query.where(offer_text_matches(dialect, q, offers.c.search_text))
    return query


def list_offers(
    db: Database,
    account: str,
    *,
    channels_: Sequence[str] = (),
    statuses: Sequence[str] = (),
    origins: Sequence[str] = (),
    codes: Sequence[str] = (),
    brand: str | None = None,
    category: str | None = None,
    q: str | None = None,
    stuck: bool | None = None,
    sort: str | None = None,
    win: Window,
    count_cap: int | None = None,
    walk_rows: int = WALK_ROWS,
    now: datetime | None = None,
    stuck_after: timedelta = DEFAULT_STUCK_AFTER,
) -> OfferPage:
    """One page of the offers under the filters, with the offers per status.

    ``stuck`` True lists only the offers in Sending for longer than ``stuck_after``
    (longest stuck first by default), False only the others. Filtered by open errors, the
    counts stop at ``count_cap`` offers if given: past it they are lower bounds, which
    ``paging.total_is_exact`` false says. ``walk_rows`` bounds the walk that reads a page
    when many offers match (see ``sentoffers.server.features.offers.open_errors``).
    """
    wanted_statuses = _statuses(statuses)
    wanted_origins = _origins(origins, "origin")
    if stuck and sort is None:
        sort = STUCK_SORT
    ordering = order_by(sort, OFFER_SORTS, "updatedAt:desc", offers.c.sku_id)
    cutoff = stuck_cutoff(now or datetime.now(UTC), stuck_after)
    with db.unit_of_work(write=False) as uow:
        conn = uow.conn
        feeds_ = account_feeds(conn, account)
        shown = feeds_.among(channels_) if channels_ else []
        if channels_ and not shown:  # only unknown or deactivated channels asked for
            return OfferPage(items=[], paging=paging(0, True, win, 0), counts=StatusCounts())
        listed = _filtered(
            _visible(account, feeds_),
            dialect=db.engine.dialect.name,
            channels_=shown,
            brand=brand,
            category=category,
            q=q,
        )
        if stuck is not None:
            condition = stuck_condition(cutoff)
            listed = listed.where(condition if stuck else not_(condition))
        errors = open_error_filter(account, feeds_, shown, wanted_origins, codes)
        rows: Sequence[Any]
        if errors:
            in_order = _counts_from_table(conn, account, shown or sorted(feeds_.channels))
            counts, total, exact, rows = page_with_open_errors(
                conn,
                listed,
                errors,
                stuck_cutoff=cutoff,
                statuses=wanted_statuses,
                in_order=total_of(in_order, wanted_statuses),
                brand=brand,
                category=category,
                walk=_walk(sort, ordering, shown, wanted_statuses),
                ordering=ordering,
                win=win,
                count_cap=count_cap,
                walk_rows=walk_rows,
            )
        else:
            if brand or category or q:
                counts, _ = counts_of(conn, listed, None, cutoff)
            else:
                counts = _counts_from_table(conn, account, shown or sorted(feeds_.channels))
                feed_ids = shown or sorted(feeds_.channels)
                counts = _with_stuck(conn, account, feed_ids, counts, cutoff, stuck)
            total, exact = total_of(counts, wanted_statuses), True
            page_query = with_statuses(listed, wanted_statuses).order_by(*ordering)
            rows = conn.execute(page_query.offset(win.start).limit(win.size)).all()
        error_counts = _open_error_counts(conn, account, rows)
    items = [
        _summary(row._mapping, feeds_, error_counts.get((row.feed_id, row.sku_id), 0), cutoff)
        for row in rows
    ]
    return OfferPage(items=items, paging=paging(total, exact, win, len(items)), counts=counts)


def _with_stuck(
    conn: Connection,
    account: str,
    feed_ids: Sequence[str],
    counts: StatusCounts,
    cutoff: datetime,
    stuck: bool | None,
) -> StatusCounts:
    """The counts kept per status (of ``feed_ids``), with the stuck offers among those in
    Sending.

    Stuck offers are the Sending ones less those that entered Sending since the cutoff: a
    short range of the (account, status, status_since) index (offers move on within
    minutes), however many are stuck. The range is read for every feed and counted per
    feed here, so that no feed index tempts the planner into walking all of a feed's
    offers in Sending. Filtered to the stuck offers (or to the others), the counts say so.
    """
    sending = offers.c.status == OfferStatus.SENDING.value
    claimed = offers.c.last_interaction_id.is_not(None)  # as ``_visible``
    # No GROUP BY: an index ordered by feed would then look cheaper than the short range.
    per_feed: Counter[str] = Counter()
    for since in (offers.c.status_since >= cutoff, offers.c.status_since.is_(None)):
        per_feed.update(
            conn.execute(
                select(offers.c.feed_id).where(offers.c.account == account, sending, since, claimed)
            ).scalars()
        )
    recent = sum(per_feed[feed] for feed in feed_ids)
    stuck_count = max(0, counts.sending - recent)
    if stuck:
        return StatusCounts(sending=stuck_count, stuck=stuck_count)
    if stuck is False:
        return counts.model_copy(update={"sending": counts.sending - stuck_count, "stuck": 0})
    return counts.model_copy(update={"stuck": stuck_count})


# Sorts whose column leads an (account, column) index, the order a walk can follow.
WALKABLE_SORTS = frozenset({"updatedAt", "name", "skuId"})


def _walk(
    sort: str | None,
    ordering: list[Any],
    channels_: Sequence[str],
    statuses: Sequence[str],
) -> Walk | None:
    name, direction = split_sort(sort or "updatedAt:desc")
    if name not in WALKABLE_SORTS:
        return None
    narrowing = []
    if name == "updatedAt":  # indexed with one channel, one status or both
        if len(channels_) == 1:
            narrowing.append(offers.c.feed_id == channels_[0])
        if len(statuses) == 1:
            narrowing.append(offers.c.status == statuses[0])
    return Walk(
        column=OFFER_SORTS[name],
        descending=direction == "desc",
        ordering=ordering,
        narrowing=tuple(narrowing),
    )


def iter_offers(
    db: Database,
    account: str,
    *,
    channels_: Sequence[str] = (),
    statuses: Sequence[str] = (),
    origins: Sequence[str] = (),
    codes: Sequence[str] = (),
    brand: str | None = None,
    category: str | None = None,
    q: str | None = None,
    stuck: bool | None = None,
    chunk_size: int = 1000,
    now: datetime | None = None,
    stuck_after: timedelta = DEFAULT_STUCK_AFTER,
) -> Iterator[list[OfferSummary]]:
    """Every offer ``list_offers`` would list under the same filters, in chunks.

    Chunks follow the offers' key (feed, SKU), each starting after the last key of the one
    before: no OFFSET however far the export goes, and each chunk is read in a short
    transaction of its own, so a long export holds nothing open between chunks.
    """
    wanted_statuses = _statuses(statuses)
    wanted_origins = _origins(origins, "origin")
    with db.unit_of_work(write=False) as uow:
        feeds_ = account_feeds(uow.conn, account)
    shown = feeds_.among(channels_) if channels_ else []
    if channels_ and not shown:
        return
    listed = _filtered(
        _visible(account, feeds_),
        dialect=db.engine.dialect.name,
        channels_=shown,
        brand=brand,
        category=category,
        q=q,
    )
    cutoff = stuck_cutoff(now or datetime.now(UTC), stuck_after)
    if stuck is not None:
        condition = stuck_condition(cutoff)
        listed = listed.where(condition if stuck else not_(condition))
    errors = open_error_filter(account, feeds_, shown, wanted_origins, codes)
    base = errors.looked_up(with_statuses(listed, wanted_statuses))
    base = base.order_by(offers.c.feed_id, offers.c.sku_id).limit(chunk_size)
    after: tuple[str, str] | None = None
    while True:
        query = base
        if after is not None:
            query = query.where(tuple_(offers.c.feed_id, offers.c.sku_id) > tuple_(*after))
        with db.unit_of_work(write=False) as uow:
            rows = uow.conn.execute(query).all()
            error_counts = _open_error_counts(uow.conn, account, rows)
        if not rows:
            return
        yield [
            _summary(row._mapping, feeds_, error_counts.get((row.feed_id, row.sku_id), 0), cutoff)
            for row in rows
        ]
        if len(rows) < chunk_size:
            return
        after = (rows[-1].feed_id, rows[-1].sku_id)


def _counts_from_table(conn: Connection, account: str, feed_ids: Sequence[str]) -> StatusCounts:
    if not feed_ids:
        return StatusCounts()
    query = (
        select(offer_status_counts.c.status, func.sum(offer_status_counts.c.offers))
        .where(
            offer_status_counts.c.account == account,
            offer_status_counts.c.feed_id.in_(feed_ids),
        )
        .group_by(offer_status_counts.c.status)
    )
    return StatusCounts(**{status: int(n or 0) for status, n in conn.execute(query)})


def _open_error_counts(
    conn: Connection, account: str, rows: Sequence[Any]
) -> dict[tuple[str, str], int]:
    if not rows:
        return {}
    keys = {(r.feed_id, r.sku_id) for r in rows}
    result = conn.execute(
        select(error_occurrences.c.feed_id, error_occurrences.c.sku_id, func.count())
        .where(
            error_occurrences.c.account == account,
            error_occurrences.c.open.is_(True),
            error_occurrences.c.feed_id.in_({k[0] for k in keys}),
            error_occurrences.c.sku_id.in_({k[1] for k in keys}),
        )
        .group_by(error_occurrences.c.feed_id, error_occurrences.c.sku_id)
    )
    return {(f, s): int(n) for f, s, n in result if (f, s) in keys}


def _summary(m: Any, feeds_: AccountFeeds, open_error_count: int, cutoff: datetime) -> OfferSummary:
    name, logo = feeds_.channels[m["feed_id"]]
    status, since = OfferStatus(m["status"]), m["status_since"]
    return OfferSummary(
        feed_id=m["feed_id"],
        sku_id=m["sku_id"],
        channel=ChannelRef(id=m["feed_id"], name=name, logo=logo),
        status=m["status"],
        **{f.name: m[f.name] for f in OFFER_FIELDS},
        open_error_count=open_error_count,
        created_at=iso(m["created_at"]) or "",
        updated_at=iso(m["updated_at"]) or "",
        status_since=iso(since),
        sending_since=iso(since) if status == OfferStatus.SENDING else None,
        stuck=is_stuck(status, since, cutoff),
    )


def fill_link(link: str, account: str, sku_id: str, product_id: str | None) -> str:
    """A link template (``{accountName}``, ``{skuId}``, ``{productId}``) with the offer's
    values, each URL-encoded: a SKU id may hold ``/``, ``?`` or ``#``."""
    return (
        link.replace("{accountName}", quote(account, safe=""))
        .replace("{skuId}", quote(sku_id, safe=""))
        .replace("{productId}", quote(product_id or "", safe=""))
    )


def get_offer(
    db: Database,
    account: str,
    feed_id: str,
    sku_id: str,
    *,
    history: int = 50,
    recent: int = 10,
    now: datetime | None = None,
    stuck_after: timedelta = DEFAULT_STUCK_AFTER,
) -> OfferDetails:
    cutoff = stuck_cutoff(now or datetime.now(UTC), stuck_after)
    with db.unit_of_work(write=False) as uow:
        conn = uow.conn
        feeds_ = account_feeds(conn, account)
        row = (
            conn.execute(
                _visible(account, feeds_).where(
                    offers.c.feed_id == feed_id, offers.c.sku_id == sku_id
                )
            ).first()
            if feed_id in feeds_.channels
            else None
        )
        if row is None:
            raise NotFound(
                f"no offer for SKU {sku_id!r} in feed {feed_id!r} (or the feed is deactivated)",
                field="skuId",
            )
        codes = account_codes(account)  # the account's own solution where it set one
        errors = conn.execute(
            select(
                error_occurrences,
                codes.c.type.label("code_type"),
                codes.c.solution_text,
                codes.c.solution_link,
            )
            .outerjoin(codes, codes.c.id == error_occurrences.c.error_code_id)
            .where(
                error_occurrences.c.account == account,
                error_occurrences.c.feed_id == feed_id,
                error_occurrences.c.sku_id == sku_id,
                error_occurrences.c.open.is_(True),
            )
            .order_by(error_occurrences.c.date, error_occurrences.c.id)
        ).all()
        changes = (
            conn.execute(
                select(offer_status_history)
                .where(
                    offer_status_history.c.account == account,
                    offer_status_history.c.feed_id == feed_id,
                    offer_status_history.c.sku_id == sku_id,
                )
                .order_by(
                    offer_status_history.c.changed_at.desc(), offer_status_history.c.id.desc()
                )
                .limit(history)
            ).all()
            if history
            else []
        )
        # Pages that show only the offer's header ask for no history and no interactions.
        recent_rows = (
            conn.execute(
                _offer_interactions(account, feed_id, sku_id)
                .order_by(interactions.c.start_date.desc(), interactions.c.id.desc())
                .limit(recent)
            ).all()
            if recent
            else []
        )
        last_report = _last_report(conn, account, row.last_interaction_id)
    m = row._mapping
    summary = _summary(m, feeds_, len(errors), cutoff)
    return OfferDetails(
        **summary.model_dump(),
        last_report=last_report,
        open_errors=[
            OpenError(
                code=e.code,
                error_code_id=e.error_code_id,
                external_code=e.external_code,
                title=e.title,
                description=e.description,
                origin=e.origin,
                closable_origins=list(e.closable_origins or ()),
                date=iso(e.date) or "",
                interaction_id=e.interaction_id,
                log_id=e.log_id,
                type=e.code_type,
                solution_text=e.solution_text,
                solution_link=fill_link(e.solution_link, account, sku_id, m["product_id"])
                if e.solution_link
                else None,
            )
            for e in errors
        ],
        status_history=[
            StatusChangeRead(
                from_status=c.from_status,
                to_status=c.to_status,
                reason=c.reason,
                changed_at=iso(c.changed_at) or "",
                interaction_id=c.interaction_id,
                log_id=c.log_id,
            )
            for c in changes
        ],
        interactions=[_interaction_summary(r._mapping) for r in recent_rows],
    )


def _last_report(conn: Connection, account: str, interaction_id: str | None) -> LastReport | None:
    """What the connector last reported on the offer: the last log of its last interaction,
    or the interaction alone once retention has purged its logs."""
    if interaction_id is None:
        return None
    found = conn.execute(
        select(
            interactions.c.id,
            interactions.c.origin,
            interactions.c.state,
            interactions.c.last_activity_at,
            logs.c.id.label("log_id"),
            logs.c.type,
            logs.c.description,
            logs.c.date,
        )
        .outerjoin(
            logs,
            (logs.c.account == interactions.c.account) & (logs.c.id == interactions.c.last_log_id),
        )
        .where(interactions.c.account == account, interactions.c.id == interaction_id)
    ).first()
    if found is None:
        return None
    return LastReport(
        interaction_id=found.id,
        origin=found.origin,
        interaction_state=found.state,
        log_id=found.log_id,
        type=found.type,
        description=found.description,
        date=iso(found.date or found.last_activity_at) or "",
    )


def _offer_interactions(account: str, feed_id: str, sku_id: str) -> Select[Any]:
    return select(interactions).where(
        interactions.c.account == account,
        interactions.c.feed_id == feed_id,
        interactions.c.sku_id == sku_id,
    )


def _interaction_summary(m: Any) -> InteractionSummary:
    data = m["data"] or {}
    new_value = {
        key: data[key]
        for key in (*(f.wire for f in OFFER_FIELDS if f.sold), "status")
        if key in data
    }
    return InteractionSummary(
        id=m["id"],
        start_date=iso(m["start_date"]) or "",
        closed_at=iso(m["closed_at"]),
        source=m["source"],
        origin=m["origin"],
        context=m["context"],
        state=m["state"],
        result=m["result"],
        log_count=m["log_count"],
        new_value=NewValue.model_validate(new_value) if new_value else None,
    )


def list_offer_interactions(
    db: Database,
    account: str,
    feed_id: str,
    sku_id: str,
    *,
    origins: Sequence[str] = (),
    results: Sequence[str] = (),
    sort: str | None = None,
    win: Window,
) -> InteractionSummaryPage:
    problems: list[Problem] = []
    wanted_origins = parse_each(origins, parse_origin, "origin", problems)
    wanted_results = parse_each(results, parse_result, "result", problems)
    if problems:
        raise InvalidInput.of(problems)
    query = _offer_interactions(account, feed_id, sku_id)
    if wanted_origins:
        query = query.where(interactions.c.origin.in_(wanted_origins))
    if wanted_results:
        query = query.where(interactions.c.result.in_(wanted_results))
    with db.unit_of_work(write=False) as uow:
        conn = uow.conn
        feeds_ = account_feeds(conn, account)
        visible = (
            feed_id in feeds_.channels
            and conn.execute(
                _visible(account, feeds_)
                .with_only_columns(offers.c.sku_id)
                .where(offers.c.feed_id == feed_id, offers.c.sku_id == sku_id)
            ).first()
        )
        if not visible:
            raise NotFound(f"no offer for SKU {sku_id!r} in feed {feed_id!r}", field="skuId")
        ordering = order_by(sort, INTERACTION_SORTS, "startDate:desc", interactions.c.id)
        rows = conn.execute(query.order_by(*ordering).offset(win.start).limit(win.size)).all()
        total, exact = count_capped(conn, query)
    items = [_interaction_summary(r._mapping) for r in rows]
    return InteractionSummaryPage(items=items, paging=paging(total, exact, win, len(items)))


UNMAPPED_SORTS = {
    "occurrences": unmapped_errors.c.occurrences,
    "lastSeen": unmapped_errors.c.last_seen,
    "firstSeen": unmapped_errors.c.first_seen,
}


def list_unmapped(
    db: Database, account: str, *, sort: str | None = None, win: Window
) -> UnmappedErrorPage:
    """Unmapped errors grouped by the fingerprint of their description, to codify later."""
    query = select(unmapped_errors).where(unmapped_errors.c.account == account)
    ordering = order_by(sort, UNMAPPED_SORTS, "occurrences:desc", unmapped_errors.c.fingerprint)
    with db.unit_of_work(write=False) as uow:
        conn = uow.conn
        rows = conn.execute(query.order_by(*ordering).offset(win.start).limit(win.size)).all()
        total, exact = count_capped(conn, query)
        affected: dict[str, int] = {}
        if rows:
            pairs = (
                select(
                    error_occurrences.c.fingerprint,
                    error_occurrences.c.feed_id,
                    error_occurrences.c.sku_id,
                )
                .where(
                    error_occurrences.c.account == account,
                    error_occurrences.c.fingerprint.in_([r.fingerprint for r in rows]),
                    account_feeds(conn, account).visible(error_occurrences.c.feed_id),
                )
                .distinct()
                .subquery()
            )
            affected = {
                fp: int(n)
                for fp, n in conn.execute(
                    select(pairs.c.fingerprint, func.count()).group_by(pairs.c.fingerprint)
                )
            }
    items = [
        UnmappedErrorGroup(
            fingerprint=r.fingerprint,
            sample_code=r.sample_code,
            sample_description=r.sample_description,
            occurrences=r.occurrences,
            first_seen=iso(r.first_seen) or "",
            last_seen=iso(r.last_seen) or "",
            offers_affected=affected.get(r.fingerprint, 0),
        )
        for r in rows
    ]
    return UnmappedErrorPage(items=items, paging=paging(total, exact, win, len(items)))
