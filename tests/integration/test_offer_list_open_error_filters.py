"""The offer list filtered by open errors (origin, error code) is exact whichever way it is read.

The service reads such a list either from the errors' side (each matching offer looked up by
key) or by walking the offers in the page's order and probing each for a matching error,
bounded, falling back to the lookup; its counts may stop at a cap. Every way must give the
same page, in the same order, as the plain list filtered here in Python, and counts that
are exact or honestly marked as lower bounds. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sentoffers.contract.offers import OfferPage
from sentoffers.domain.model import Role
from sentoffers.server.features.keys import create_key
from sentoffers.server.features.offers import open_errors, service
from sentoffers.server.store.queries import Window
from sentoffers.server.store.tables import error_occurrences
from sentoffers.server.web.ui import pages
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, FEED, Api, report
from tests.integration.test_ui_pages import DASH, Browser, rows_of

NETSHOES = "vtex.netshoes"
CLOSED = "vtex.closed"  # a feed deactivated after its offers had errors
STATUSES = ("synced", "sending", "error", "unavailable")
SORTS = ("updatedAt:desc", "updatedAt:asc", "name:asc", "skuId:asc", "createdAt:desc")
WINDOWS = (Window(0, 5), Window(5, 5), Window(10, 4), Window(3, 25), Window(30, 5))

Key = tuple[str, str]


def failing(api: Api, sku: str, code: str, origin: str, feed: str = FEED, **data: Any) -> None:
    errors = [{"code": code, "title": f"{code} title", "description": f"{code} says no"}]
    report(api, sku, "failure", origin=origin, errors=errors, feed=feed, **data)


def feed(api: Api, feed_id: str, name: str) -> None:
    assert api.channel(name=name).status_code == 201
    assert api.activate(feed_id).status_code == 201


@pytest.fixture
def shop(ready: Api) -> Api:
    """Offers where price errors are many (dense) and catalog errors few (sparse), in every
    status, over two channels, plus a deactivated feed whose errors must never show."""
    feed(ready, NETSHOES, "Netshoes")
    feed(ready, CLOSED, "Closed")
    for index in range(14):
        named = {"name": f"Item {(index * 7) % 14:02d}"} if index % 5 else {}
        failing(ready, f"P{index:02d}", "PRICE-001", "price", brand="Acme", **named)
    for index in range(10, 14):  # still an open price error, but unavailable now
        report(ready, f"P{index:02d}", "information", origin="inventory", status="unavailable")
    for index in range(4):
        report(ready, f"S{index:02d}", "success", name=f"Item {20 + index:02d}")
    failing(ready, "C00", "CTLG-006-001", "catalog", name="Item 30")
    failing(ready, "C01", "ctlg-006-001", "catalog")
    failing(ready, "B00", "PRICE-002", "price", name="Item 31", brand="Acme")
    failing(ready, "B00", "CTLG-006-002", "catalog")
    ready.open("W00")  # sending, no error
    for index in range(5):
        failing(ready, f"N{index:02d}", "PRICE-001", "price", feed=NETSHOES)
    failing(ready, "N05", "CTLG-006-001", "catalog", feed=NETSHOES)
    for index in range(3):
        failing(ready, f"X{index:02d}", "PRICE-001", "price", feed=CLOSED)
    assert ready.request("DELETE", f"/feeds/{CLOSED}").status_code == 204
    return ready


@dataclass(frozen=True)
class Filters:
    origins: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    brand: str | None = None

    def service_filters(self) -> dict[str, Any]:
        return {
            "origins": self.origins,
            "codes": self.codes,
            "channels_": self.channels,
            "statuses": self.statuses,
            "brand": self.brand,
        }


def open_errors_by_offer(db: Database) -> dict[Key, list[Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(error_occurrences).where(
                error_occurrences.c.account == ACCOUNT, error_occurrences.c.open.is_(True)
            )
        ).all()
    found: dict[Key, list[Any]] = {}
    for row in rows:
        found.setdefault((row.feed_id, row.sku_id), []).append(row)
    return found


def matches(filters: Filters, errors: list[Any]) -> bool:
    wanted = {c.upper() for c in filters.codes}
    by_origin = not filters.origins or any(e.origin in filters.origins for e in errors)
    by_code = not wanted or any(
        e.code.upper() in wanted or e.error_code_id in wanted for e in errors
    )
    return by_origin and by_code


def expected(db: Database, filters: Filters, sort: str) -> list[Any]:
    """The plain list (no error filter) in ``sort`` order, filtered here in Python."""
    everything = service.list_offers(
        db,
        ACCOUNT,
        channels_=filters.channels,
        brand=filters.brand,
        sort=sort,
        win=Window(0, 100),
    ).items
    errors = open_errors_by_offer(db)
    return [o for o in everything if matches(filters, errors.get((o.feed_id, o.sku_id), []))]


def keys(items: list[Any]) -> list[Key]:
    return [(o.feed_id, o.sku_id) for o in items]


Walks = list[int]


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> Walks:
    """How many pages each walk returned (0: the walk gave up): the walk runs unchanged."""
    seen: Walks = []
    walked_page = open_errors.walked_page

    def spy(*args: Any, **kwargs: Any) -> Any:
        rows = walked_page(*args, **kwargs)
        seen.append(0 if rows is None else 1)
        return rows

    monkeypatch.setattr(open_errors, "walked_page", spy)
    return seen


def check_every_page(
    db: Database, filters: Filters, *, count_cap: int | None, walk_rows: int
) -> None:
    for sort in SORTS:
        wanted = expected(db, filters, sort)
        in_status = [o for o in wanted if not filters.statuses or o.status in filters.statuses]
        per_status = Counter(o.status for o in wanted)
        for win in WINDOWS:
            page = service.list_offers(
                db,
                ACCOUNT,
                sort=sort,
                win=win,
                count_cap=count_cap,
                walk_rows=walk_rows,
                **filters.service_filters(),
            )
            where = f"{filters} sort={sort} {win} cap={count_cap} walk={walk_rows}"
            assert keys(page.items) == keys(in_status[win.start : win.end + 1]), where
            check_counts(page, per_status, len(in_status), count_cap, where)


def check_counts(
    page: OfferPage, per_status: Counter[str], total: int, cap: int | None, where: str
) -> None:
    counts = page.counts.model_dump(exclude={"stuck"})
    assert page.counts.stuck == 0, where  # every offer here moved on just now
    if cap is None or sum(per_status.values()) <= cap:
        assert page.paging.total_is_exact, where
        assert counts == {s: per_status[s] for s in STATUSES}, where
        assert page.paging.total == total, where
        return
    # Past the cap: lower bounds, said so, and never more than the cap.
    assert not page.paging.total_is_exact, where
    assert all(counts[s] <= min(per_status[s], cap) for s in STATUSES), where
    assert sum(counts.values()) >= cap, where
    assert page.paging.total <= min(total, cap), where


DENSE_AND_SPARSE = [
    pytest.param(Filters(origins=("price",)), True, id="origin-dense"),
    pytest.param(Filters(origins=("catalog",)), False, id="origin-sparse"),
    pytest.param(Filters(codes=("PRICE-001",)), True, id="code-dense"),
    pytest.param(Filters(codes=("CTLG-006-001",)), False, id="code-sparse"),
    pytest.param(Filters(codes=("CTLG-006",)), False, id="base-code-sparse"),
    pytest.param(Filters(origins=("price",), codes=("PRICE-002",)), False, id="origin-and-code"),
    pytest.param(Filters(origins=("price", "catalog")), True, id="two-origins"),
    pytest.param(Filters(origins=("price",), statuses=("unavailable",)), None, id="one-status"),
    pytest.param(Filters(origins=("price",), statuses=("sending",)), False, id="none-in-status"),
    pytest.param(Filters(origins=("price",), channels=(NETSHOES,)), None, id="one-channel"),
    pytest.param(Filters(codes=("PRICE-001",), brand="Acme"), False, id="code-and-brand"),
]


@pytest.mark.parametrize(("filters", "walked"), DENSE_AND_SPARSE)
def test_open_error_filters_give_exact_pages_and_counts_looking_every_match_up(
    db: Database, shop: Api, walks: Walks, filters: Filters, walked: bool | None
) -> None:
    check_every_page(db, filters, count_cap=None, walk_rows=0)
    assert walks == []


@pytest.mark.parametrize(("filters", "walked"), DENSE_AND_SPARSE)
def test_open_error_filters_give_the_same_pages_walking_the_offers_when_many_match(
    db: Database, shop: Api, walks: Walks, filters: Filters, walked: bool | None
) -> None:
    check_every_page(db, filters, count_cap=None, walk_rows=1_000)
    # Many matches are walked where the walk should pay; few are looked up.
    if walked is not None:
        assert bool(walks) == walked
    assert 0 not in walks  # a store smaller than the bound: every walk sees it all


@pytest.mark.parametrize(("filters", "walked"), DENSE_AND_SPARSE)
def test_open_error_filters_stay_exact_when_counts_stop_at_a_cap_or_walks_stop_short(
    db: Database, shop: Api, walks: Walks, filters: Filters, walked: bool | None
) -> None:
    # Bounds of 7 and 12 offers cut walks short of some pages, which the lookup then reads.
    check_every_page(db, filters, count_cap=None, walk_rows=7)
    check_every_page(db, filters, count_cap=None, walk_rows=12)
    # A cap of 3 leaves the counts of many matches lower bounds: the walk goes on a guess.
    check_every_page(db, filters, count_cap=3, walk_rows=1_000)
    if walked:
        assert 1 in walks


def test_a_walk_that_cannot_fill_its_page_within_the_bound_gives_way_to_the_lookup(
    db: Database, shop: Api, walks: Walks
) -> None:
    # The 8 offers updated last (3 of them in the deactivated feed) hold 4 price errors.
    first = service.list_offers(db, ACCOUNT, origins=["price"], win=Window(0, 5), walk_rows=7)
    assert walks == [0]
    wanted = expected(db, Filters(origins=("price",)), "updatedAt:desc")
    assert keys(first.items) == keys(wanted[:5])
    assert [o.sku_id for o in wanted[:5]] == ["N04", "N03", "N02", "N01", "N00"]


def test_origin_filter_leaves_out_errors_of_deactivated_feeds_even_past_the_cap(
    db: Database, shop: Api
) -> None:
    for cap in (None, 3):
        page = service.list_offers(
            db, ACCOUNT, origins=["price"], win=Window(0, 100), count_cap=cap, walk_rows=1_000
        )
        assert all(o.feed_id != CLOSED for o in page.items)
        assert len(page.items) == 14 + 1 + 5  # P00-P13, B00, N00-N04
    page = service.list_offers(db, ACCOUNT, origins=["price"], win=Window(0, 100))
    assert page.counts.model_dump() == {
        "synced": 0,
        "sending": 0,
        "error": 16,
        "unavailable": 4,
        "stuck": 0,
    }


@pytest.fixture
def signed_in(client: TestClient, db: Database) -> Browser:
    browser = Browser(client)
    assert browser.sign_in(ACCOUNT, create_key(db, Role.VIEWER, [ACCOUNT])).status_code == 303
    return browser


def test_the_offer_list_says_its_counts_are_minimums_once_they_stop_at_the_cap(
    signed_in: Browser, shop: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "OFFER_COUNT_CAP", 5)
    page = signed_in.page("/offers?origin=price")
    tabs = [t.words for t in page.inside("nav", aria_label="Offer status").all("a")]
    assert tabs[0] == "All 5+"
    # A status the counting reached shows at least how many it found; one it did not
    # reach shows no number, not a 0 that could be wrong.
    assert all(tab.endswith("+") or " " not in tab for tab in tabs[1:]), tabs
    assert "More than 5 offers match: counting stopped there" in page.words
    # The page itself ran out before its end: that total is exact.
    assert f"Showing 1{DASH}20 of 20" in page.inside("nav", aria_label="Pagination").words
    assert len(rows_of(page)) == 20

    few = signed_in.page("/offers?origin=catalog")
    tabs = [t.words for t in few.inside("nav", aria_label="Offer status").all("a")]
    assert tabs == ["All 4", "Synced 0", "Sending 0", "Error 4", "Unavailable 0"]
    assert "counting stopped there" not in few.words
    assert f"Showing 1{DASH}4 of 4" in few.words


def test_the_offer_list_goes_on_past_a_full_page_when_its_total_is_a_minimum(
    signed_in: Browser, shop: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(14, 40):
        failing(shop, f"P{index:02d}", "PRICE-001", "price")
    monkeypatch.setattr(pages, "OFFER_COUNT_CAP", 5)
    first = signed_in.page("/offers?origin=price&sort=skuId:asc")
    paging = first.inside("nav", aria_label="Pagination")
    assert f"Showing 1{DASH}25 of 25+" in paging.words
    second = signed_in.page(paging.one("a", "Next")["href"])
    assert f"Showing 26{DASH}46 of 46" in second.inside("nav", aria_label="Pagination").words
    shown = [row[2] for row in rows_of(first) + rows_of(second)]
    assert shown == sorted(shown)
    assert len(shown) == len(set(shown)) == 40 + 1 + 5
