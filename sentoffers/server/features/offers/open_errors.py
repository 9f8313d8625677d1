"""The offer list filtered by its open errors (their origin, their code): exact, and quick
whether a handful of offers match or tens of thousands.

Two ways find the offers with a matching open error, each hopeless where the other shines:

- From the errors' side: the matching errors come through an index holding (feed, SKU)
  and each offer is looked up by key (a row-value IN, which both stores drive from the
  errors). The cost follows the number of matches: a rare error code answers at once, an
  origin as common as ``price`` (tens of thousands of offers in a million) looks every one
  of them up and sorts them all, for one page.
- From the offers' side: the offers are walked in the page's order, each asked whether it
  has such an error (EXISTS, one index probe), until the page is full. The cost follows how
  deep the page lies over the share of offers that match: a few thousand probes for the
  first pages of a common origin, the whole table for a rare code.

The count of matches, which the status tabs need anyway, picks the way (``worth_walking``);
the web UI caps it (10,000), so its cost stays bounded too, and says so. A walk is bounded:
it examines at most ``walk_rows`` offers, cut at the sort value that many offers in (read
from the sort's own index). A page it cannot fill within that bound is read from the
errors' side instead, so a wrong guess costs time, never a wrong page. And when a brand or
a category holds fewer offers than there are matching errors, its offers are the side to
start from, each probed. A Synced offer has no open error (``STATUSES_WITH_OPEN_ERRORS``):
its tab is empty without a search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)

from sentoffers.contract.offers import StatusCounts
from sentoffers.domain.model import STATUSES_WITH_OPEN_ERRORS, UNMAPPED_CODE, OfferStatus
from sentoffers.server.features.feeds import AccountFeeds
from sentoffers.server.store.queries import Window
from sentoffers.server.store.tables import error_occurrences, offers

# A walk examines at most this many offers for one page (about 4 µs each on SQLite).
WALK_ROWS = 20_000
STATUSES = [s.value for s in OfferStatus]


@dataclass(frozen=True, slots=True)
class OpenErrorFilter:
    """Offers with, for each of ``conditions``, an open error meeting it."""

    account: str
    conditions: tuple[ColumnElement[bool], ...]
    # Which errors can matter: those of visible feeds, of the channels asked for if any.
    feeds: ColumnElement[bool]
    # Each condition loosened to what its index holds, to count errors without the table.
    indexed: tuple[ColumnElement[bool], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.conditions)

    def errors_at_most(self, conn: Connection, cap: int) -> int:
        """About how many open errors match (at least as many as matching offers), counted
        from their indexes alone and no further than ``cap``."""
        found = cap
        for condition in self.indexed or self.conditions:
            matched = (
                select(literal(1))
                .where(
                    error_occurrences.c.account == self.account,
                    error_occurrences.c.open == true(),
                    self.feeds,
                    condition,
                )
                .limit(cap)
                .subquery()
            )
            found = min(found, conn.execute(select(func.count()).select_from(matched)).scalar_one())
        return found

    def looked_up(self, query: Select[Any]) -> Select[Any]:
        """``query`` narrowed from the errors' side: offers looked up by key."""
        for condition in self.conditions:
            matched = select(error_occurrences.c.feed_id, error_occurrences.c.sku_id).where(
                error_occurrences.c.account == self.account,
                error_occurrences.c.open == true(),
                self.feeds,
                condition,
            )
            query = query.where(tuple_(offers.c.feed_id, offers.c.sku_id).in_(matched))
        return query

    def probed(self, query: Select[Any]) -> Select[Any]:
        """``query`` narrowed from the offers' side: each offer asked for such an error."""
        for condition in self.conditions:
            query = query.where(
                exists().where(
                    error_occurrences.c.account == self.account,
                    error_occurrences.c.feed_id == offers.c.feed_id,
                    error_occurrences.c.sku_id == offers.c.sku_id,
                    error_occurrences.c.open == true(),
                    condition,
                )
            )
        return query


def open_error_filter(
    account: str,
    feeds_: AccountFeeds,
    channels_: Sequence[str],
    origins: Sequence[str],
    codes: Sequence[str],
) -> OpenErrorFilter:
    conditions: list[ColumnElement[bool]] = []
    indexed: list[ColumnElement[bool]] = []
    if origins:
        conditions.append(error_occurrences.c.origin.in_(origins))
        indexed.append(conditions[-1])
    if codes:
        upper = [c.upper() for c in codes]
        stored_under = error_occurrences.c.error_code_id.in_(code_prefixes(upper))
        conditions.append(
            and_(
                stored_under,
                or_(
                    error_occurrences.c.error_code_id.in_(upper),
                    func.upper(error_occurrences.c.code).in_(upper),
                ),
            )
        )
        indexed.append(stored_under)
    feeds: ColumnElement[bool] = feeds_.visible(error_occurrences.c.feed_id)
    if channels_:
        feeds = and_(feeds, error_occurrences.c.feed_id.in_(channels_))
    return OpenErrorFilter(account, tuple(conditions), feeds, tuple(indexed))


def code_prefixes(codes: Sequence[str]) -> list[str]:
    """The error-code ids an open error asked for by ``codes`` may be stored under: each
    code and its shorter forms (``CTLG-006-001`` is stored as ``CTLG-006``), and NTMAP-001
    for codes the list does not know."""
    ids = {UNMAPPED_CODE}
    for code in codes:
        parts = code.split("-")
        ids.update("-".join(parts[:cut]) for cut in range(1, len(parts) + 1))
    return sorted(ids)


def worth_walking(
    matches: int, exact: bool, offers_in_order: int, win: Window, walk_rows: int
) -> bool:
    """Whether walking the offers in order should fill the page with fewer probes than
    looking every match up would take lookups (each costs about one index descent).

    ``matches`` of the ``offers_in_order`` offers match (at least, if not ``exact``); spread
    evenly, the page's last row lies about (start + size) * offers / matches offers in.
    A lower bound (counting stopped at a cap) leaves the depth unknown, but the lookups at
    least as many as the bound: a walk, which gives up after ``walk_rows`` probes, is worth
    the try.
    """
    if matches <= 0:
        return False
    if not exact:
        return True
    expected = (win.start + win.size) * offers_in_order / matches
    return expected <= min(matches, walk_rows)


@dataclass(frozen=True, slots=True)
class Walk:
    """The order a walk follows: a sort column with an (account, column, ...) index."""

    column: ColumnElement[Any]
    descending: bool
    ordering: list[ColumnElement[Any]]  # the list's ORDER BY, the column then a tiebreak
    # Conditions of the list the column's index can also answer (one channel, one status),
    # to place the bound among the offers walked rather than among all of the account's.
    narrowing: tuple[ColumnElement[bool], ...] = ()


def walked_page(
    conn: Connection,
    query: Select[Any],
    walk: Walk,
    *,
    account: str,
    win: Window,
    walk_rows: int = WALK_ROWS,
) -> list[Any] | None:
    """The page of ``query`` (already narrowed by ``OpenErrorFilter.probed``), read by walking
    at most about ``walk_rows`` offers in order; None when that many cannot tell it."""
    column = walk.column
    ordered = column.desc() if walk.descending else column.asc()
    if getattr(column, "nullable", True):
        ordered = ordered.nulls_last()  # as the list sorts them
    # The sort value ``walk_rows`` offers in, among a superset of the offers walked.
    bound = (
        select(column)
        .where(offers.c.account == account, *walk.narrowing)
        .order_by(ordered)
        .offset(walk_rows)
        .limit(1)
    )
    found = conn.execute(bound).first()
    if found is not None and found[0] is None:
        return None  # the bound falls among the offers without a value: no bound to set
    complete = found is None  # fewer offers than the bound: the walk sees them all
    if complete:
        bounded = query
    else:
        # Compared in the store, as stored: the value is never read back and rebound.
        # A NULL compares to nothing, so the offers without a value stay out, as they sort
        # after the bound.
        limit = bound.scalar_subquery()
        bounded = query.where(column >= limit if walk.descending else column <= limit)
    rows = list(conn.execute(bounded.order_by(*walk.ordering).offset(win.start).limit(win.size)))
    if complete or len(rows) == win.size:
        return rows
    return None  # the page may go on past the bound


def stuck_condition(cutoff: datetime) -> ColumnElement[bool]:
    """Offers in Sending since before ``cutoff`` (``sentoffers.domain.rules.is_stuck``)."""
    return and_(
        offers.c.status == OfferStatus.SENDING.value,
        offers.c.status_since.is_not(None),
        offers.c.status_since < cutoff,
    )


def with_statuses(query: Select[Any], statuses: Sequence[str]) -> Select[Any]:
    return query.where(offers.c.status.in_(statuses)) if statuses else query


def total_of(counts: StatusCounts, statuses: Sequence[str]) -> int:
    """The offers counted in ``statuses`` (all of them if none)."""
    return sum(getattr(counts, s) for s in statuses or STATUSES)


def page_with_open_errors(
    conn: Connection,
    listed: Select[Any],
    errors: OpenErrorFilter,
    *,
    statuses: Sequence[str],
    in_order: int,
    brand: str | None,
    category: str | None,
    walk: Walk | None,
    ordering: list[ColumnElement[Any]],
    win: Window,
    count_cap: int | None,
    stuck_cutoff: datetime,
    walk_rows: int = WALK_ROWS,
) -> tuple[StatusCounts, int, bool, Sequence[Any]]:
    """The offers ``listed`` that match ``errors``: their counts per status (ignoring
    ``statuses``), the total in ``statuses``, whether both are exact, and the page.

    ``in_order`` is how many offers in ``statuses`` a walk would pass over, matching or not;
    ``walk`` the order it follows (None: the sort has no index to walk). Past ``count_cap``
    the counts are lower bounds.
    """
    # A brand or a category may hold fewer offers than there are matching errors: then
    # they are the side to start from, each offer asked for its errors.
    from_offers = bool(brand or category) and _fewer_offers_than_errors(
        conn, errors, brand, category
    )
    narrowed = errors.probed if from_offers else errors.looked_up
    counts, exact = counts_of(conn, narrowed(listed), count_cap, stuck_cutoff)
    if statuses and not STATUSES_WITH_OPEN_ERRORS.intersection(statuses):
        return counts, 0, True, []  # a Synced offer has no open error, by rule
    total = total_of(counts, statuses)
    if not exact and count_cap is not None:
        total = min(total, count_cap)
    listed = with_statuses(listed, statuses)
    if (
        walk is not None
        and not from_offers
        and worth_walking(total, exact, in_order, win, walk_rows)
    ):
        walked = walked_page(
            conn, errors.probed(listed), walk, account=errors.account, win=win, walk_rows=walk_rows
        )
        if walked is not None:
            return counts, total, exact, walked
    page_query = narrowed(listed).order_by(*ordering)
    rows = conn.execute(page_query.offset(win.start).limit(win.size)).all()
    return counts, total, exact, rows


def _fewer_offers_than_errors(
    conn: Connection,
    errors: OpenErrorFilter,
    brand: str | None,
    category: str | None,
    cap: int = 100_000,
) -> bool:
    """Whether the brand's (or category's) offers are fewer than the matching errors, both
    counted from their indexes alone (a few milliseconds for 100,000 entries), the offers
    no further than ``cap``."""
    side = select(literal(1)).where(offers.c.account == errors.account)
    side = side.where(offers.c.brand == brand) if brand else side
    side = side.where(offers.c.category == category) if category and not brand else side
    limited = side.limit(cap).subquery()
    found = conn.execute(select(func.count()).select_from(limited)).scalar_one()
    return bool(found < cap and found < errors.errors_at_most(conn, found + 1))


def counts_of(
    conn: Connection, matched: Select[Any], cap: int | None, stuck_cutoff: datetime
) -> tuple[StatusCounts, bool]:
    """Offers per status among ``matched``, the stuck ones among them, and whether the
    counts are exact: with a ``cap``, counting stops past that many offers in all, each
    count then a lower bound (at most ``cap``) of its status's."""
    stuck = case((stuck_condition(stuck_cutoff), 1), else_=0).label("stuck")
    limited = matched.with_only_columns(offers.c.status, stuck).order_by(None)
    if cap is not None:
        limited = limited.limit(cap + 1)
    each = limited.subquery()
    found: dict[str, int] = {}
    for status, n, stuck_n in conn.execute(
        select(each.c.status, func.count(), func.sum(each.c.stuck)).group_by(each.c.status)
    ):
        found[status] = int(n)
        found["stuck"] = found.get("stuck", 0) + int(stuck_n or 0)
    if cap is None or sum(n for s, n in found.items() if s != "stuck") <= cap:
        return StatusCounts(**found), True
    return StatusCounts(**{status: min(n, cap) for status, n in found.items()}), False
