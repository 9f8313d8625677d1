"""Search Interactions and their Logs; Search Errors.

The feed ids a search is narrowed to arrive normalised (``sentoffers.domain.ids``) and are
matched as given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select

from sentoffers.contract.interactions import InteractionRead, LogRead, Notice, iso
from sentoffers.contract.search import ErrorCodeCount, ErrorSearchPage, InteractionSearchPage
from sentoffers.domain.errors import InvalidInput, Problem
from sentoffers.domain.vocabulary import end_of_day, parse_date, parse_origin, parse_result
from sentoffers.server.features.error_codes.service import all_codes
from sentoffers.server.features.feeds import account_feeds
from sentoffers.server.features.interactions.views import interaction_fields, log_row_view
from sentoffers.server.store import codec
from sentoffers.server.store.queries import (
    Window,
    count_capped,
    order_by,
    paging,
    parse_each,
    split_sort,
)
from sentoffers.server.store.tables import error_occurrences, interactions, logs, offers
from sentoffers.sql.db import Database
from sentoffers.sql.dialect import escape_like, offer_text_matches

SEARCH_SORTS = {
    "startDate": interactions.c.start_date,
    "closedAt": interactions.c.closed_at,
    "result": interactions.c.result,
    "origin": interactions.c.origin,
    "skuId": interactions.c.sku_id,
}


def _offer_of_interaction() -> Any:
    return and_(
        offers.c.account == interactions.c.account,
        offers.c.feed_id == interactions.c.feed_id,
        offers.c.sku_id == interactions.c.sku_id,
    )


def _dates(from_date: str | None, to_date: str | None) -> tuple[datetime | None, datetime | None]:
    problems: list[Problem] = []
    parsed: list[datetime | None] = []
    for field, value in (("fromDate", from_date), ("toDate", to_date)):
        if not value:
            parsed.append(None)
            continue
        try:
            parsed.append(parse_date(value))
        except ValueError as error:
            problems.append(Problem("invalid", str(error), field))
            parsed.append(None)
    if problems:
        raise InvalidInput.of(problems)
    return parsed[0], parsed[1]


def _is_day(value: str | None) -> bool:
    text = (value or "").strip()
    return len(text) == 10 and text[4] == "-"


def search_interactions(
    db: Database,
    account: str,
    *,
    channels_: Sequence[str] = (),
    brand: str | None = None,
    category: str | None = None,
    scopes: Sequence[str] = (),
    results: Sequence[str] = (),
    from_date: str | None = None,
    to_date: str | None = None,
    q: str | None = None,
    sort: str | None = None,
    win: Window,
) -> InteractionSearchPage:
    """Interactions of the account's active feeds, newest first, each with its logs."""
    problems: list[Problem] = []
    origins = parse_each(scopes, parse_origin, "scope", problems)
    wanted_results = parse_each(results, parse_result, "result", problems)
    try:
        start, end = _dates(from_date, to_date)
    except InvalidInput as error:
        problems.extend(error.problems)
        start = end = None
    if problems:
        raise InvalidInput.of(problems)

    query: Select[Any] = select(interactions).where(interactions.c.account == account)
    if origins:
        query = query.where(interactions.c.origin.in_(origins))
    if wanted_results:
        query = query.where(interactions.c.result.in_(wanted_results))
    if start is not None:
        query = query.where(interactions.c.start_date >= start)
    if end is not None:
        if _is_day(to_date):  # a day given alone means the whole of that day, 9999-12-31 too
            end = end_of_day(end)
        query = query.where(interactions.c.start_date <= end)
    if brand or category:
        offer_filter = [_offer_of_interaction()]
        if brand:
            offer_filter.append(offers.c.brand == brand)
        if category:
            offer_filter.append(offers.c.category == category)
        query = query.where(exists().where(*offer_filter))
    if q:
        pattern = f"%{escape_like(q.lower())}%"
        query = query.where(
            or_(
                interactions.c.sku_id == q,
                exists().where(
                    _offer_of_interaction(),
                    offer_text_matches(db.engine.dialect.name, q, offers.c.search_text),
                ),
                exists().where(
                    logs.c.account == interactions.c.account,
                    logs.c.interaction_id == interactions.c.id,
                    func.lower(logs.c.description).like(pattern, escape="\\"),
                ),
            )
        )
    ordering = order_by(sort, SEARCH_SORTS, "startDate:desc", interactions.c.id)
    with db.unit_of_work(write=False) as uow:
        conn = uow.conn
        feeds_ = account_feeds(conn, account)
        query = query.where(feeds_.visible(interactions.c.feed_id))
        if channels_:
            shown = feeds_.among(channels_)
            if not shown:
                return InteractionSearchPage(items=[], paging=paging(0, True, win, 0))
            query = query.where(interactions.c.feed_id.in_(shown))
        rows = conn.execute(query.order_by(*ordering).offset(win.start).limit(win.size)).all()
        total, exact = count_capped(conn, query)
        by_interaction: dict[str, list[LogRead]] = defaultdict(list)
        if rows:
            log_rows = conn.execute(
                select(logs)
                .where(logs.c.account == account, logs.c.interaction_id.in_([r.id for r in rows]))
                .order_by(logs.c.date, logs.c.seq)
            )
            for log in log_rows:
                by_interaction[log.interaction_id].append(log_row_view(log._mapping))
    items = [
        InteractionRead(
            **interaction_fields(
                account, codec.interaction_from_row(r._mapping), by_interaction.get(r.id, [])
            )
        )
        for r in rows
    ]
    return InteractionSearchPage(items=items, paging=paging(total, exact, win, len(items)))


ERROR_SORTS = ("id", "type", "openErrors", "lastSeen")
"""Search Errors' own sorts; ``openErrors`` and ``lastSeen`` are figures of the offers the
search is narrowed to (channels, brand or category)."""
NARROWED_SORTS = frozenset({"openErrors", "lastSeen"})

# The official collection sends one ``{{sort}}`` to both searches, so Search Errors reads
# Search Interactions' sorts too: an interaction's start is, for a code, when its errors
# were last reported (a repeated error takes its new log's date). The others describe one
# interaction and no code: the list keeps its default order and says so.
INTERACTION_SORTS_ON_ERRORS: dict[str, str | None] = {
    **dict.fromkeys(SEARCH_SORTS),
    "startDate": "lastSeen",
}


@dataclass(frozen=True, slots=True)
class CodeOrder:
    """How Search Errors orders its codes, and why it did not do as asked, if it did not."""

    field: str
    descending: bool
    warning: Notice | None = None


def error_codes_order(sort: str | None, narrowed: bool) -> CodeOrder:
    """The order of a ``field:direction`` sort on the error-code list.

    A sort this list cannot honour (an interaction field with no meaning for a code, or a
    figure of offers when the list is not narrowed by them) falls back to the default order
    with a warning; a sort that neither search knows is invalid input.
    """
    default = CodeOrder("openErrors", True) if narrowed else CodeOrder("id", False)
    text = (sort or "").strip()
    if not text:
        return default
    name, direction = split_sort(text)
    if direction not in ("asc", "desc") or not (
        name in ERROR_SORTS or name in INTERACTION_SORTS_ON_ERRORS
    ):
        raise InvalidInput(
            f"cannot sort by {text!r}; choose one of {', '.join(ERROR_SORTS)} with :asc or "
            ":desc (or startDate, which sorts error codes by lastSeen)",
            code="invalid_sort",
            field="sort",
        )
    field = name if name in ERROR_SORTS else INTERACTION_SORTS_ON_ERRORS[name]
    if field is None:
        reason = "it describes an interaction, not an error code"
    elif field in NARROWED_SORTS and not narrowed:
        reason = (
            f"{field} is a figure of the errors open on offers; "
            "narrow the search by channels, brand or category"
        )
    else:
        return CodeOrder(field, direction == "desc")
    fallback = "openErrors:desc" if default.field == "openErrors" else "id:asc"
    return replace(
        default,
        warning=Notice(
            code="sort_ignored",
            message=f"error codes are not sorted by {name!r}: {reason}; sorted by {fallback}",
            field="sort",
        ),
    )


def search_errors(
    db: Database,
    account: str,
    *,
    q: str | None = None,
    error_category: str | None = None,
    channels_: Sequence[str] = (),
    brand: str | None = None,
    category: str | None = None,
    sort: str | None = None,
    win: Window,
) -> ErrorSearchPage:
    """The error-code list; with channels, brand or category, the codes open on those offers.

    Narrowed by offers, each code carries how many errors are open with it on the offers of
    the account's active feeds and, sorted by ``lastSeen`` (or ``startDate``), the date of
    the newest of them. See ``error_codes_order`` for the sorts.
    """
    narrowed = bool(channels_ or brand or category)
    order = error_codes_order(sort, narrowed)
    with_last_seen = order.field == "lastSeen"
    with db.unit_of_work(write=False) as uow:
        codes = all_codes(uow.conn)
        counts: dict[str, int] = {}
        last_seen: dict[str, datetime] = {}
        if narrowed:
            feeds_ = account_feeds(uow.conn, account)
            shown = feeds_.among(channels_) if channels_ else sorted(feeds_.channels)
            # Counted from the (account, feed_id, open, error_code_id) index alone; the
            # dates are read only when the order needs them.
            figures: list[Any] = [func.count()]
            if with_last_seen:
                figures.append(func.max(error_occurrences.c.date))
            query = (
                select(error_occurrences.c.error_code_id, *figures)
                .where(
                    error_occurrences.c.account == account,
                    error_occurrences.c.feed_id.in_(shown),
                    error_occurrences.c.open.is_(True),
                )
                .group_by(error_occurrences.c.error_code_id)
            )
            if brand or category:
                query = query.join(
                    offers,
                    and_(
                        offers.c.account == error_occurrences.c.account,
                        offers.c.feed_id == error_occurrences.c.feed_id,
                        offers.c.sku_id == error_occurrences.c.sku_id,
                    ),
                )
                if brand:
                    query = query.where(offers.c.brand == brand)
                if category:
                    query = query.where(offers.c.category == category)
            for row in uow.conn.execute(query) if shown else ():
                counts[row[0]] = int(row[1])
                if with_last_seen:
                    last_seen[row[0]] = row[2]
    items = []
    needle = (q or "").strip().lower()
    wanted_type = (error_category or "").strip().lower()
    for code in codes:
        if needle and not any(
            needle in (value or "").lower() for value in (code.id, code.type, code.description)
        ):
            continue
        if wanted_type and code.type.lower() != wanted_type:
            continue
        if narrowed and code.id not in counts:
            continue
        items.append(
            ErrorCodeCount(
                **code.model_dump(),
                open_errors=counts.get(code.id, 0) if narrowed else None,
                last_seen=iso(last_seen.get(code.id)),
            )
        )
    items = _sort_codes(items, order)
    page = items[win.start : win.start + win.size]
    return ErrorSearchPage(
        items=page,
        paging=paging(len(items), True, win, len(page)),
        warnings=[order.warning] if order.warning else None,
    )


_CODE_KEYS: dict[str, Callable[[ErrorCodeCount], Any]] = {
    "id": lambda c: c.id,
    "type": lambda c: (c.type.lower(), c.id),
    "openErrors": lambda c: (c.open_errors or 0, c.id),
    # Formatted alike (UTC, milliseconds), the dates sort as text.
    "lastSeen": lambda c: (c.last_seen or "", c.id),
}


def _sort_codes(items: list[ErrorCodeCount], order: CodeOrder) -> list[ErrorCodeCount]:
    return sorted(items, key=_CODE_KEYS[order.field], reverse=order.descending)
