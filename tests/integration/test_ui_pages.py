"""The web UI over HTTP: sessions, tenancy, every page's content, escaping, CSV and live.

The browser tests (tests/e2e/ui) drive the same pages in Chromium; these read the HTML.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from sentoffers.domain.model import Role
from sentoffers.server.features.keys import NewKey, create_key, revoke_key
from sentoffers.server.features.offers.service import iter_offers, list_offers
from sentoffers.server.features.retention import purge_expired
from sentoffers.server.settings import Settings
from sentoffers.server.store.tables import offers
from sentoffers.server.web.ui.security import CONTENT_SECURITY_POLICY
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, FEED, OTHER_ACCOUNT, Api, report

DASH = "\u2013"
SCRIPT = "<script>window.pwned=1</script>"
IMAGE = '<img src=x onerror="window.pwned=2">'


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Keys are checked against the store on every request (no cache), so a revocation
    # shows at once; live streams poll fast and end soon.
    return Settings(
        database_url=database_url,
        background_jobs=False,
        environment="test",
        auth_cache_seconds=0,
        ui_live_poll_seconds=0.05,
        ui_live_max_seconds=5,
    )


# Reading pages ---------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    start: int
    end: int = -1
    text: str = ""

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    @property
    def words(self) -> str:
        return " ".join(self.text.split())


class Html(HTMLParser):
    """A page's elements, each with its attributes, its place and all the text inside it."""

    VOID = frozenset({"img", "input", "br", "meta", "link", "hr", "source"})

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.markup = markup
        self._lines = [0]
        for line in markup.splitlines(keepends=True):
            self._lines.append(self._lines[-1] + len(line))
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(markup)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self._offset())
        self.elements.append(element)
        if tag in self.VOID:
            element.end = self.markup.index(">", element.start) + 1
        else:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                end = self.markup.index(">", self._offset()) + 1
                for element in self._open[index:]:
                    element.end = end
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def all(self, tag: str, text: str | None = None, **attrs: str) -> list[Element]:
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.elements
            if e.tag == tag
            and all(e.attrs.get(k) == v for k, v in wanted.items())
            and (text is None or e.words == text)
        ]

    def one(self, tag: str, text: str | None = None, **attrs: str) -> Element:
        found = self.all(tag, text, **attrs)
        assert len(found) == 1, (tag, text, attrs, found)
        return found[0]

    def inside(self, tag: str, **attrs: str) -> Html:
        """The one element ``tag`` (with ``attrs``), as a page of its own."""
        element = self.one(tag, **attrs)
        return Html(self.markup[element.start : element.end])

    @property
    def words(self) -> str:
        """The text of the page's ``<main>``, or of the whole fragment."""
        mains = self.all("main")
        root = mains[0] if mains else self.elements[0]
        return " ".join(root.text.split())


# A seller in a browser ---------------------------------------------------------------------


class Browser:
    """One browser: its own cookie jar, signing in through the form like a person."""

    def __init__(self, client: TestClient):
        self.client = client

    def form_token(self) -> str:
        page = Html(self.client.get("/signin").text)
        return page.one("input", name="csrf_token")["value"]

    def sign_in(
        self, account: str, key: NewKey, *, next: str = "", token: str | None = None
    ) -> httpx.Response:
        return self.client.post(
            "/signin",
            data={
                "account": account,
                "app_key": key.app_key,
                "app_token": key.app_token,
                "csrf_token": self.form_token() if token is None else token,
                "next": next,
            },
            follow_redirects=False,
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def page(self, path: str, status: int = 200) -> Html:
        response = self.get(path)
        assert response.status_code == status, (path, response.status_code, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        return Html(response.text)


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)


@pytest.fixture
def viewer(db: Database) -> NewKey:
    return create_key(db, Role.VIEWER, [ACCOUNT])


@pytest.fixture
def signed_in(browser: Browser, viewer: NewKey) -> Browser:
    assert browser.sign_in(ACCOUNT, viewer).status_code == 303
    return browser


@dataclass
class Shop:
    synced: dict[str, Any]
    failed: dict[str, Any]
    unavailable: dict[str, Any]
    sending_interaction: str


@pytest.fixture
def shop(ready: Api) -> Shop:
    """An offer in each status: S1 synced, E1 in error, U1 unavailable, P1 sending."""
    synced = report(
        ready,
        "S1",
        origin="price",
        description="Price sent",
        name="Trail shoe",
        brand="Acme",
        category="Shoes",
        price="124",
        currency="BRL",
        externalOfferId="EXT-1",
        image="https://img.example/shoe.png",
    )
    failed = report(
        ready,
        "E1",
        "failure",
        description="The channel refused the title",
        name="Rain jacket",
        brand="Acme",
        category="Coats",
        errors=[{"code": "CTLG-006", "title": "Title too long", "description": "Over 60"}],
    )
    unavailable = report(ready, "U1", name="Old hat", status="unavailable")
    sending = ready.open("P1", origin="catalog", context="setup")
    return Shop(synced, failed, unavailable, sending)


def rows_of(page: Html) -> list[list[str]]:
    table = page.inside("table")
    body = table.inside("tbody")
    rows, row = [], []
    for element in body.elements:
        if element.tag == "tr":
            row = []
            rows.append(row)
        elif element.tag == "td":
            row.append(element.words)
    return rows


# Signing in and out ------------------------------------------------------------------------


def test_signed_out_pages_redirect_to_sign_in_with_where_they_were(browser: Browser) -> None:
    home = browser.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == "/signin"
    for path in ("/offers?status=error", f"/offers/{FEED}/S1", "/offers.csv"):
        response = browser.get(path)
        assert response.status_code == 303, path
        location = response.headers["location"]
        assert location.startswith("/signin?next="), location
        assert parse_qs(urlsplit(location).query)["next"] == [path]


def test_sign_in_page_has_the_labelled_form(browser: Browser) -> None:
    page = browser.page("/signin")
    assert page.one("h1").words == "Sign in"
    for label, name in (("Account", "account"), ("App key", "app_key"), ("App token", "app_token")):
        target = page.one("label", label)["for"]
        assert page.one("input", id=target)["name"] == name
    assert page.one("input", name="app_token")["type"] == "password"
    assert page.one("button", "Sign in")["type"] == "submit"
    assert page.all("a", "Skip to content", href="#content")
    assert page.elements[[e.tag for e in page.elements].index("body") + 1].tag == "a"


def test_signing_in_sets_a_strict_http_only_session_and_goes_where_asked(
    browser: Browser, viewer: NewKey
) -> None:
    response = browser.sign_in(ACCOUNT, viewer, next="/offers?status=error")
    assert response.status_code == 303
    assert response.headers["location"] == "/offers?status=error"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("sentoffers_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags
    assert "samesite=strict" in flags
    assert "path=/" in flags
    assert "secure" not in flags  # SENTOFFERS_UI_SECURE_COOKIE is off by default
    assert viewer.app_token not in cookie
    assert browser.get("/").headers["location"] == "/offers"
    page = browser.page("/offers")
    header = page.inside("header")
    assert "sentoffers" in header.words
    assert ACCOUNT in header.words
    assert header.one("a", "Offers")["href"] == "/offers"
    assert header.one("button", "Sign out")


def test_the_session_cookie_is_secure_when_configured(
    settings: Settings, db: Database, viewer: NewKey
) -> None:
    from sentoffers.server.app import create_app

    secure = settings.model_copy(update={"ui_secure_cookie": True})
    with TestClient(create_app(secure, db), base_url="https://testserver") as client:
        response = Browser(client).sign_in(ACCOUNT, viewer)
    cookies = response.headers.get_list("set-cookie")
    assert all("secure" in c.lower() for c in cookies), cookies


def test_an_app_key_holding_a_nul_is_a_wrong_key_not_a_failure(
    browser: Browser, viewer: NewKey
) -> None:
    forged = NewKey(viewer.app_key + "\x00", viewer.app_token, viewer.role, viewer.accounts)
    response = browser.sign_in(ACCOUNT, forged)
    assert response.status_code == 401
    assert Html(response.text).one("div", role="alert").words


def test_a_foreign_next_is_never_followed(browser: Browser, viewer: NewKey) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "offers"):
        response = browser.sign_in(ACCOUNT, viewer, next=target)
        assert response.headers["location"] == "/offers", target


def test_a_wrong_token_shows_the_form_again_with_an_alert(browser: Browser, viewer: NewKey) -> None:
    wrong = NewKey(viewer.app_key, "not-the-token", viewer.role, viewer.accounts)
    response = browser.sign_in(ACCOUNT, wrong)
    assert response.status_code == 401
    page = Html(response.text)
    assert page.one("h1").words == "Sign in"
    assert page.one("div", role="alert").words
    assert page.one("input", name="account")["value"] == ACCOUNT
    assert "not-the-token" not in response.text
    assert "sentoffers_session" not in response.headers.get("set-cookie", "")
    assert browser.get("/offers").status_code == 303


def test_a_key_cannot_sign_in_to_an_account_it_lacks(browser: Browser, viewer: NewKey) -> None:
    response = browser.sign_in(OTHER_ACCOUNT, viewer)
    assert response.status_code == 403
    assert OTHER_ACCOUNT in Html(response.text).one("div", role="alert").words
    assert browser.get("/offers").status_code == 303


def test_sign_in_and_sign_out_refuse_a_missing_or_wrong_form_token(
    signed_in: Browser, viewer: NewKey
) -> None:
    refused = signed_in.sign_in(ACCOUNT, viewer, token="forged-token-of-another-site-xxxx")
    assert refused.status_code == 403
    assert Html(refused.text).one("div", role="alert")
    assert signed_in.client.post("/signout", follow_redirects=False).status_code == 403
    # Still signed in: a forged sign-out did nothing.
    assert signed_in.get("/offers").status_code == 200


def test_signing_out_clears_the_session(signed_in: Browser) -> None:
    token = signed_in.page("/offers").one("input", name="csrf_token")["value"]
    response = signed_in.client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    assert 'sentoffers_session=""' in response.headers["set-cookie"]
    assert signed_in.get("/offers").status_code == 303


def test_a_tampered_session_is_no_session(signed_in: Browser) -> None:
    session = signed_in.client.cookies["sentoffers_session"]
    signed_in.client.cookies.clear()
    signed_in.client.cookies.set("sentoffers_session", session[:-6] + "AAAAAA")
    assert signed_in.get("/offers").status_code == 303


def test_a_revoked_key_is_signed_out_at_its_next_page(
    signed_in: Browser, viewer: NewKey, db: Database
) -> None:
    assert signed_in.get("/offers").status_code == 200
    revoke_key(db, viewer.app_key)
    response = signed_in.get("/offers")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_a_session_ends_after_its_lifetime(
    settings: Settings, db: Database, viewer: NewKey
) -> None:
    from sentoffers.server.app import create_app

    brief = settings.model_copy(update={"ui_session_hours": 1 / 3600})  # one second
    with TestClient(create_app(brief, db)) as client:
        browser = Browser(client)
        browser.sign_in(ACCOUNT, viewer)
        assert browser.get("/offers").status_code == 200
        time.sleep(2.1)
        assert browser.get("/offers").status_code == 303


# Tenancy -----------------------------------------------------------------------------------


def test_a_session_sees_only_its_account(
    client: TestClient, make_api: Any, shop: Shop, db: Database
) -> None:
    other = make_api(account=OTHER_ACCOUNT)
    other.activate()
    secret = report(other, "B-SECRET", name="Other seller's secret")
    other_viewer = create_key(db, Role.VIEWER, [OTHER_ACCOUNT])

    browser = Browser(TestClient(client.app))
    browser.sign_in(OTHER_ACCOUNT, other_viewer)
    page = browser.page("/offers")
    assert [row[2] for row in rows_of(page)] == ["B-SECRET"]
    assert "Trail shoe" not in page.markup
    for path in (f"/offers/{FEED}/S1", f"/offers/{FEED}/E1/interactions/{shop.failed['id']}"):
        assert browser.get(path).status_code == 404, path
    assert "S1" not in browser.get("/offers.csv").text

    acme = Browser(TestClient(client.app))
    acme.sign_in(ACCOUNT, create_key(db, Role.VIEWER, [ACCOUNT]))
    assert acme.get(f"/offers/{FEED}/B-SECRET").status_code == 404
    assert acme.get(f"/offers/{FEED}/B-SECRET/interactions/{secret['id']}").status_code == 404
    assert "B-SECRET" not in acme.page("/offers?q=secret").markup


# Security headers --------------------------------------------------------------------------


def test_every_ui_page_answers_with_the_strict_content_security_policy(
    signed_in: Browser, shop: Shop, db: Database
) -> None:
    failed = shop.failed
    log_id = failed["logs"][0]["id"]
    interaction = f"/offers/{FEED}/E1/interactions/{failed['id']}"
    pages = {
        "/offers": 200,
        "/offers?status=error&q=rain": 200,
        f"/offers/{FEED}/E1": 200,
        interaction: 200,
        f"{interaction}/evidence/{log_id}": 200,
        f"/offers/{FEED}/NOPE": 404,
        "/no/such/page": 404,
        "/offers.csv": 200,
        "/static/app.css": 200,
        "/static/app.js": 200,
        "/signin": 200,
        "/": 303,
    }
    for path, status in pages.items():
        response = signed_in.get(path)
        assert response.status_code == status, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert signed_in.get("/offers").headers["cache-control"] == "no-store"


def test_the_api_and_its_docs_keep_their_own_headers(signed_in: Browser, ready: Api) -> None:
    api = ready.get("/feeds")
    assert api.status_code == 200
    assert "content-security-policy" not in api.headers
    assert (
        signed_in.get("/api/sent-offers/feeds")
        .headers["content-type"]
        .startswith("application/json")
    )
    docs = signed_in.get("/docs")
    assert docs.status_code == 200
    assert "content-security-policy" not in docs.headers


def test_pages_carry_no_inline_script_or_style(signed_in: Browser, shop: Shop) -> None:
    for path in (
        "/offers",
        f"/offers/{FEED}/E1",
        f"/offers/{FEED}/E1/interactions/{shop.failed['id']}",
    ):
        page = signed_in.page(path)
        assert [s["src"] for s in page.all("script")] == ["/static/app.js"]
        assert not [e for e in page.elements if "style" in e.attrs or e.tag == "style"]
        assert not [e for e in page.elements if any(a.startswith("on") for a in e.attrs)]


# The offer list ----------------------------------------------------------------------------


def test_offer_list_has_tabs_with_counts_and_the_table(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page("/offers")
    assert page.one("h1").words == "Offers"
    tabs = page.inside("nav", aria_label="Offer status").all("a")
    assert [t.words for t in tabs] == ["All 4", "Synced 1", "Sending 1", "Error 1", "Unavailable 1"]
    assert [t.attrs.get("aria-current") for t in tabs] == ["page", None, None, None, None]
    assert page.one("caption").words == "Offers"
    headers = [th.words for th in page.inside("thead").all("th")]
    assert headers == ["Image", "Name", "SKU ID", "Channel", "Status", "Last update"]
    rows = {row[2]: row for row in rows_of(page)}
    assert set(rows) == {"S1", "E1", "U1", "P1"}
    assert rows["S1"][1:] == ["Trail shoe", "S1", "Amazon", "Synced", rows["S1"][5]]
    assert rows["P1"][1] == "SKU P1"
    assert re.fullmatch(r"\d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC", rows["S1"][5])
    assert page.one("a", "Trail shoe")["href"] == f"/offers/{FEED}/S1"
    assert page.one("img", src="https://img.example/shoe.png")["alt"] == ""
    assert page.all("img", src="https://l/x.png", alt="")
    assert f"Showing 1{DASH}4 of 4" in page.inside("nav", aria_label="Pagination").words


def test_a_status_tab_lists_that_status_only(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page("/offers?status=error")
    current = page.inside("nav", aria_label="Offer status").one("a", aria_current="page")
    assert current.words == "Error 1"
    assert [row[2] for row in rows_of(page)] == ["E1"]
    assert page.one("input", name="status", type="hidden")["value"] == "error"


def stuck_since(db: Database, sku: str, ago: timedelta) -> None:
    """As if the offer had entered Sending ``ago``."""
    with db.engine.begin() as conn:
        conn.execute(
            update(offers)
            .where(offers.c.account == ACCOUNT, offers.c.sku_id == sku)
            .values(status_since=datetime.now(UTC) - ago)
        )


def test_no_stuck_tab_while_nothing_is_stuck(signed_in: Browser, shop: Shop) -> None:
    tabs = signed_in.page("/offers").inside("nav", aria_label="Offer status").all("a")
    assert "Stuck" not in [t.words.split()[0] for t in tabs]


def test_stuck_offers_have_a_tab_and_a_badge(signed_in: Browser, shop: Shop, db: Database) -> None:
    stuck_since(db, "P1", timedelta(hours=2))

    page = signed_in.page("/offers")
    tabs = page.inside("nav", aria_label="Offer status").all("a")
    assert [t.words for t in tabs] == [
        "All 4", "Synced 1", "Sending 1", "Stuck 1", "Error 1", "Unavailable 1",
    ]  # fmt: skip
    assert tabs[3]["href"] == "/offers?stuck=1"
    rows = {row[2]: row for row in rows_of(page)}
    assert rows["P1"][4] == "Sending Stuck"
    assert rows["S1"][4] == "Synced"

    stuck = signed_in.page("/offers?stuck=1")
    current = stuck.inside("nav", aria_label="Offer status").one("a", aria_current="page")
    assert current.words == "Stuck 1"
    assert [row[2] for row in rows_of(stuck)] == ["P1"]
    assert stuck.one("input", name="stuck", type="hidden")["value"] == "1"


def test_an_empty_stuck_list_says_nothing_is_stuck(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page("/offers?stuck=1")
    assert "No offer is stuck" in page.one("main").words
    assert "30 minutes" in page.one("main").words


def test_a_stuck_offer_page_says_since_when_and_the_last_report(
    signed_in: Browser, ready: Api, db: Database
) -> None:
    interaction = ready.open("P9", context="ongoing")
    body = {"type": "Info", "description": "Sent to the channel", "agent": "c",
            "data": {"status": "Sending"}}  # fmt: skip
    assert ready.log("P9", interaction, body).status_code == 201
    stuck_since(db, "P9", timedelta(hours=2))

    page = signed_in.page(f"/offers/{FEED}/P9")

    assert page.all("span", "Stuck", class_="badge badge--stuck")
    notice = page.inside("div", role="note")
    assert notice.one("h3").words == "Stuck in Sending"
    assert "longer than 30 minutes" in notice.words
    assert "Info log “Sent to the channel”" in notice.words
    assert "interaction that is open" in notice.words
    link = notice.one("a", "View interaction")["href"]
    assert link.endswith(f"/interactions/{interaction}")


def test_an_offer_page_says_since_when_it_has_its_status(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page(f"/offers/{FEED}/E1")
    assert page.one("p", class_="status-since").words.startswith("Error since ")
    assert not page.all("div", role="note")


def test_filters_are_applied_and_shown_in_the_form(
    signed_in: Browser, shop: Shop, ready: Api
) -> None:
    def skus(query: str) -> list[str]:
        page = signed_in.page("/offers?" + query)
        return sorted(row[2] for row in rows_of(page)) if page.all("table") else []

    assert skus("q=rain") == ["E1"]
    assert skus("q=s1") == ["S1"]
    assert skus("brand=Acme") == ["E1", "S1"]
    assert skus("category=Coats") == ["E1"]
    assert skus("errorCode=CTLG-006") == ["E1"]
    assert skus("errorCode=PRICE-001") == []
    assert skus("origin=catalog") == ["E1"]
    assert skus(f"channel={FEED}") == ["E1", "P1", "S1", "U1"]
    assert skus("channel=vtex.unknown") == []
    page = signed_in.page("/offers?q=rain&brand=Acme&origin=catalog&errorCode=CTLG-006")
    form = page.inside("form", role="search")
    assert page.one("form", role="search")["aria-label"] == "Filter offers"
    assert form.one("input", name="q")["value"] == "rain"
    assert form.one("input", name="brand")["value"] == "Acme"
    assert form.one("input", name="errorCode")["value"] == "CTLG-006"
    assert form.one("option", "Catalog", value="catalog").attrs.get("selected") == ""
    channels = [o.words for o in form.inside("select", name="channel").all("option")]
    assert channels == ["All channels", "Amazon"]
    assert form.one("a", "Clear filters")["href"] == "/offers"
    export = page.one("a", "Export CSV")["href"]
    assert parse_qs(urlsplit(export).query) == {
        "q": ["rain"],
        "errorCode": ["CTLG-006"],
        "origin": ["catalog"],
        "brand": ["Acme"],
    }


def test_the_list_says_so_when_nothing_matches(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page("/offers?q=nothing-like-this")
    assert "No offers match these filters." in page.words
    assert not page.all("table")
    assert "Showing 0 of 0" in page.words


def test_hand_edited_queries_fall_back_to_defaults(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page("/offers?status=bogus&sort=drop&size=7&page=-3&origin=x")
    assert len(rows_of(page)) == 4
    assert page.one("option", "Last update, newest first").attrs.get("selected") == ""
    assert page.inside("select", name="size").one("option", "25").attrs.get("selected") == ""


def test_sort_and_paging(signed_in: Browser, ready: Api) -> None:
    for index in range(30):
        report(ready, f"SKU-{index:02d}", name=f"Item {29 - index:02d}")
    first = signed_in.page("/offers?sort=skuId:asc")
    assert [row[2] for row in rows_of(first)] == [f"SKU-{i:02d}" for i in range(25)]
    paging = first.inside("nav", aria_label="Pagination")
    assert f"Showing 1{DASH}25 of 30" in paging.words
    assert not paging.all("a", "Previous")
    second = signed_in.page(paging.one("a", "Next")["href"])
    assert [row[2] for row in rows_of(second)] == [f"SKU-{i:02d}" for i in range(25, 30)]
    paging = second.inside("nav", aria_label="Pagination")
    assert f"Showing 26{DASH}30 of 30" in paging.words
    assert not paging.all("a", "Next")
    assert "page" not in parse_qs(urlsplit(paging.one("a", "Previous")["href"]).query)

    by_name = signed_in.page("/offers?sort=name:asc&size=50")
    assert [row[1] for row in rows_of(by_name)] == [f"Item {i:02d}" for i in range(30)]
    newest = rows_of(signed_in.page("/offers"))
    oldest = rows_of(signed_in.page("/offers?sort=updatedAt:asc"))
    assert newest[0][2] == "SKU-29"
    assert oldest[0][2] == "SKU-00"


# CSV ---------------------------------------------------------------------------------------


def test_csv_export_holds_every_matching_offer_with_formulas_neutralised(
    signed_in: Browser, shop: Shop, ready: Api
) -> None:
    for sku, name in (
        ("F1", '=HYPERLINK("http://x")'),
        ("F2", "+1"),
        ("F3", "-2"),
        ("F4", "@SUM(A1)"),
    ):
        report(ready, sku, name=name, brand="Formula")
    response = signed_in.get("/offers.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="offers-{ACCOUNT}.csv"'
    lines = response.text.splitlines()
    assert lines[0] == (
        "sku_id,name,channel_id,channel_name,status,open_errors,price,sales_price,currency,"
        "inventory,brand,category,product_id,external_offer_id,updated_at"
    )
    rows = {row["sku_id"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert set(rows) == {"S1", "E1", "U1", "P1", "F1", "F2", "F3", "F4"}
    assert rows["S1"]["price"] == "124"
    assert rows["S1"]["currency"] == "BRL"
    assert rows["S1"]["external_offer_id"] == "EXT-1"
    assert rows["E1"]["status"] == "error"
    assert rows["E1"]["open_errors"] == "1"
    assert rows["F1"]["name"] == '\'=HYPERLINK("http://x")'
    assert [rows[s]["name"] for s in ("F2", "F3", "F4")] == ["'+1", "'-2", "'@SUM(A1)"]
    filtered = signed_in.get("/offers.csv?brand=Formula&status=synced").text
    assert sorted(r["sku_id"] for r in csv.DictReader(io.StringIO(filtered))) == [
        "F1",
        "F2",
        "F3",
        "F4",
    ]


def test_iter_offers_walks_every_matching_offer_in_key_order_chunk_by_chunk(
    ready: Api, db: Database
) -> None:
    from sentoffers.server.store.queries import Window

    for index in range(23):
        report(
            ready,
            f"K{index:02d}",
            "failure" if index % 3 == 0 else "success",
            errors=None if index % 3 else [{"code": "CTLG-005"}],
        )
    chunks = list(iter_offers(db, ACCOUNT, chunk_size=5))
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
    skus = [offer.sku_id for chunk in chunks for offer in chunk]
    assert skus == sorted(skus)
    assert len(set(skus)) == 23
    errors = [
        o for chunk in iter_offers(db, ACCOUNT, statuses=["error"], chunk_size=2) for o in chunk
    ]
    listed = list_offers(db, ACCOUNT, statuses=["error"], win=Window(0, 100)).items
    assert sorted(o.sku_id for o in errors) == sorted(o.sku_id for o in listed)
    assert all(o.open_error_count == 1 for o in errors)
    assert list(iter_offers(db, ACCOUNT, channels_=["vtex.none"])) == []


# The offer page ----------------------------------------------------------------------------


def test_offer_page_shows_its_header_and_edit_links(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page(f"/offers/{FEED}/S1")
    assert page.one("h1").words == "Trail shoe"
    assert page.one("img", src="https://img.example/shoe.png")["alt"] == "Trail shoe"
    assert page.one("img", src="https://l/x.png")["alt"] == "Amazon"
    assert page.all("span", "Synced", class_="badge badge--synced")
    facts = {dt.words: dd.words for dt, dd in zip(page.all("dt"), page.all("dd"), strict=True)}
    assert facts["ID on VTEX"] == "S1"
    assert facts["ID on the channel"] == "EXT-1"
    menu = page.inside("details", id="edit-menu")
    assert menu.one("summary").words == "Edit"
    assert menu.one("a", "Edit information")["href"] == (
        f"https://{ACCOUNT}.myvtex.com/admin/Site/SkuForm.aspx?IdSku=S1"
    )
    assert (
        menu.one("a", "Edit price")["href"]
        == f"https://{ACCOUNT}.myvtex.com/admin/pricing/#/sku/S1"
    )
    assert menu.one("a", "Edit inventory")["href"].endswith("#/inventory?keyword=S1")
    status = page.inside("section", aria_labelledby="status-title")
    assert "received by the channel" in status.words
    main = page.one("main")
    assert main["data-live"].startswith(f"/live/offers/{FEED}/S1?v=")


def test_edit_links_fill_url_encoded_values_into_the_configured_urls(
    settings: Settings, db: Database, ready: Api, viewer: NewKey
) -> None:
    from sentoffers.server.app import create_app

    report(ready, "a b&c", productId="P 1")
    custom = settings.model_copy(
        update={"ui_edit_price_url": "https://admin.example/{accountName}/{productId}?sku={skuId}"}
    )
    with TestClient(create_app(custom, db)) as client:
        browser = Browser(client)
        browser.sign_in(ACCOUNT, viewer)
        page = browser.page(f"/offers/{FEED}/{quote('a b&c', safe='')}")
    assert page.one("h1").words == "SKU a b&c"
    assert page.one("a", "Edit price")["href"] == (
        f"https://admin.example/{ACCOUNT}/P%201?sku=a%20b%26c"
    )


def test_an_offer_in_error_lists_its_open_errors_and_why(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page(f"/offers/{FEED}/E1")
    status = page.inside("section", aria_labelledby="status-title")
    assert "action is needed" in status.words
    [error] = status.all("details")
    details = status.inside("details", id=error["id"])
    summary = details.one("summary").words
    assert summary.startswith("Title too long ")
    assert re.search(r"\d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC$", summary)
    facts = {
        dt.words: dd.words for dt, dd in zip(details.all("dt"), details.all("dd"), strict=True)
    }
    assert list(facts) == ["Code", "Date", "Description", "Origin", "Solution"]
    assert facts["Code"] == "CTLG-006"
    assert facts["Description"] == "Over 60"
    assert facts["Origin"] == "Catalog"
    assert facts["Solution"].startswith("Fix description")
    assert details.one("a", "How to solve")["href"].startswith(f"http://{ACCOUNT}.myvtex.com/")
    assert details.one("a", "Edit catalog")["href"].endswith("SkuForm.aspx?IdSku=E1")
    interaction = f"/offers/{FEED}/E1/interactions/{shop.failed['id']}"
    assert details.one("a", "View interaction")["href"] == interaction

    why = page.inside("section", aria_labelledby="why-title")
    changes = why.all("li")
    assert [c.words.split(" ", 4)[:4] for c in changes] == [
        ["Sending", "→", "Error", "Catalog"],
        ["New", "offer", "→", "Sending"],
    ]
    assert "failure log reported 1 error(s)" in changes[0].words
    assert [a["href"] for a in why.all("a", "View interaction")] == [interaction, interaction]


def test_an_error_without_a_title_is_named_by_its_code_type(ready: Api, signed_in: Browser) -> None:
    report(ready, "N1", "failure", origin="price", errors=[{"code": "PRICE-001"}])
    report(ready, "N2", "failure", errors=[{"code": "ZZ-UNKNOWN", "description": "odd"}])
    price = signed_in.page(f"/offers/{FEED}/N1").inside("section", aria_labelledby="status-title")
    assert price.one("summary").words.startswith("Price ")
    assert price.one("a", "Edit price")
    unknown = signed_in.page(f"/offers/{FEED}/N2").inside("section", aria_labelledby="status-title")
    assert unknown.one("summary").words.startswith("Not mapped ")
    assert "classified as NTMAP-001" in unknown.words


def test_offer_interactions_are_listed_filtered_and_paged(signed_in: Browser, ready: Api) -> None:
    for index in range(12):
        report(ready, "B1", origin="price", price=str(100 + index), currency="BRL")
    report(ready, "B1", origin="inventory", inventory="8")
    report(ready, "B1", "failure", origin="price", price="1", errors=[{"code": "PRICE-001"}])
    page = signed_in.page(f"/offers/{FEED}/B1")
    form = page.one("form", aria_label="Filter interactions")
    assert form["method"] == "get"
    assert page.one("caption", "Interactions")
    headers = [th.words for th in page.inside("section", id="interactions").all("th")]
    assert headers == ["Date", "Origin", "New value", "Result"]
    rows = rows_of(page.inside("section", id="interactions"))
    assert len(rows) == 10
    assert rows[0][1:] == ["Price", "—", "Failure"]
    assert rows[1][1:] == ["Inventory", "Inventory 8", "Success"]
    assert rows[2][1:] == ["Price", "Price 111.00 BRL", "Success"]
    pages = page.inside("nav", aria_label="Interaction pages")
    assert not pages.all("a", "Previous")
    second = signed_in.page(pages.one("a", "Next")["href"])
    assert len(rows_of(second.inside("section", id="interactions"))) == 4
    assert not second.inside("nav", aria_label="Interaction pages").all("a", "Next")

    prices = signed_in.page(f"/offers/{FEED}/B1?origin=price&result=success&size=25")
    assert len(rows_of(prices.inside("section", id="interactions"))) == 12
    assert prices.one("option", "Success", value="success").attrs.get("selected") == ""
    assert prices.inside("select", name="size").one("option", "25").attrs.get("selected") == ""
    links = prices.inside("tbody").all("a")
    assert all(
        re.fullmatch(rf"/offers/{FEED}/B1/interactions/[0-9A-F]{{32}}", a["href"]) for a in links
    )
    none = signed_in.page(f"/offers/{FEED}/B1?result=processing")
    assert "No interactions match these filters." in none.words


# The interaction page ----------------------------------------------------------------------


def test_interaction_page_shows_header_result_and_timeline_in_order(
    signed_in: Browser, ready: Api
) -> None:
    interaction = ready.open("T1", origin="price")
    ready.log(
        "T1",
        interaction,
        {"type": "info", "description": "Queued", "agent": "queue", "date": "2026-01-02T10:00:00Z"},
    )
    ready.log(
        "T1",
        interaction,
        {
            "type": "failure",
            "description": "Refused",
            "agent": "channel",
            "date": "2026-01-02T10:05:00Z",
            "evidence": {"request": "POST /price", "response": "422 too low"},
            "errors": [
                {"code": "PRICE-001", "title": "Price too low", "description": "Below cost"}
            ],
        },
    )
    ready.close("T1", interaction)
    page = signed_in.page(f"/offers/{FEED}/T1/interactions/{interaction}")
    assert page.one("h1").words == "Interaction"
    assert page.one("a", "SKU T1")["href"] == f"/offers/{FEED}/T1"
    assert page.one("img", src="https://l/x.png")["alt"] == "Amazon"
    head = page.inside("div", class_="interaction-head card")
    facts = {dt.words: dd.words for dt, dd in zip(head.all("dt"), head.all("dd"), strict=True)}
    assert list(facts) == [
        "ID on VTEX",
        "ID on the channel",
        "Interaction ID",
        "Origin",
        "Started",
        "Closed",
    ]
    assert facts["Interaction ID"] == interaction
    assert facts["Origin"] == "Price"
    result = page.inside("section", aria_labelledby="result-title")
    assert result.one("span", "Failure", class_="badge badge--failure")
    assert "could not be completed" in result.words
    error = result.inside("details")
    assert error.one("summary").words == "Price too low"
    facts = {dt.words: dd.words for dt, dd in zip(error.all("dt"), error.all("dd"), strict=True)}
    assert facts == {"Code": "PRICE-001", "Description": "Below cost", "Origin": "Price"}

    logs = page.inside("ol", aria_label="Logs")
    items = logs.all("li")
    assert [i.words for i in items] == [
        "Info 02 Jan 2026, 10:00 UTC Queued Agent: queue",
        "Failure 02 Jan 2026, 10:05 UTC View evidence Refused Agent: channel",
    ]
    assert logs.all("time", datetime="2026-01-02T10:00:00Z")
    [button] = logs.all("button", aria_label="View evidence")
    log_id = button["id"].removeprefix("evidence-button-")
    assert button["data-evidence-url"] == (
        f"/offers/{FEED}/T1/interactions/{interaction}/evidence/{log_id}"
    )
    assert page.one("dialog", aria_labelledby="evidence-title")
    assert page.one("h2", "Evidence", id="evidence-title")
    assert page.one("button", "Close")
    evidence = signed_in.page(button["data-evidence-url"])
    parts = evidence.all("section")
    assert [p.words for p in parts] == ["Request POST /price", "Response 422 too low"]
    assert page.one("main")["data-live"].startswith(f"/live/offers/{FEED}/T1/interactions/")


def test_a_long_timeline_is_cut_and_says_so(
    signed_in: Browser, ready: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentoffers.server.web.ui import pages

    monkeypatch.setattr(pages, "MAX_TIMELINE_LOGS", 2)
    interaction = ready.open("L1")
    for index in range(3):
        ready.log("L1", interaction, {"type": "info", "description": f"step {index}"})
    page = signed_in.page(f"/offers/{FEED}/L1/interactions/{interaction}")
    logs = page.inside("ol", aria_label="Logs").all("li")
    assert [re.findall(r"step \d", li.words) for li in logs] == [["step 0"], ["step 1"]]
    assert "Showing the first 2 logs of this interaction." in page.words


def test_a_processing_interaction_says_so(signed_in: Browser, shop: Shop) -> None:
    page = signed_in.page(f"/offers/{FEED}/P1/interactions/{shop.sending_interaction}")
    result = page.inside("section", aria_labelledby="result-title")
    assert result.one("span", "Processing")
    assert "still in progress" in result.words
    assert "Still open" in page.words
    assert "No log has been recorded" in page.words


def test_connector_text_is_shown_as_text_never_as_markup(signed_in: Browser, ready: Api) -> None:
    failed = report(
        ready,
        "X1",
        "failure",
        description=f"Description {SCRIPT}",
        name=f"Name {IMAGE}",
        brand=SCRIPT,
        errors=[{"code": "CTLG-005", "title": f"Title {IMAGE}", "description": SCRIPT}],
    )
    interaction = ready.open("X1", origin="price")
    ready.log(
        "X1",
        interaction,
        {
            "type": "warning",
            "description": IMAGE,
            "agent": SCRIPT,
            "evidence": {"request": SCRIPT, "response": IMAGE},
        },
    )
    paths = [
        "/offers",
        f"/offers?brand={quote(SCRIPT)}&q={quote(IMAGE)}",
        f"/offers/{FEED}/X1",
        f"/offers/{FEED}/X1/interactions/{failed['id']}",
        f"/offers/{FEED}/X1/interactions/{interaction}",
    ]
    log_id = signed_in.page(paths[-1]).one("button", aria_label="View evidence")["id"]
    paths.append(f"{paths[-1]}/evidence/{log_id.removeprefix('evidence-button-')}")
    for path in paths:
        markup = signed_in.get(path).text
        assert "<script>window" not in markup, path
        assert "<img src=x" not in markup, path
        assert "onerror=" not in markup.replace("onerror=&#34;", "").replace(
            "onerror=&quot;", ""
        ), path
        assert "&lt;script&gt;" in markup or "&lt;img" in markup, path
    offer = signed_in.page(f"/offers/{FEED}/X1")
    assert offer.one("h1").words == f"Name {IMAGE}"
    assert (
        offer.inside("section", aria_labelledby="status-title")
        .one("summary")
        .words.startswith(f"Title {IMAGE}")
    )
    evidence = signed_in.page(paths[-1])
    assert [p.words for p in evidence.all("pre")] == [SCRIPT, IMAGE]


def test_an_expired_interaction_says_its_details_expired(
    signed_in: Browser, shop: Shop, db: Database
) -> None:
    purge_expired(db, timedelta(days=10), datetime.now(UTC) + timedelta(days=30))
    response = signed_in.get(f"/offers/{FEED}/E1/interactions/{shop.failed['id']}")
    assert response.status_code == 410
    page = Html(response.text)
    assert page.one("h1").words == "Interaction details expired"
    assert "kept for 10 days" in page.words
    assert page.one("a", "Back to the offer")["href"] == f"/offers/{FEED}/E1"
    log_id = shop.failed["logs"][0]["id"]
    evidence = signed_in.get(
        f"/offers/{FEED}/E1/interactions/{shop.failed['id']}/evidence/{log_id}"
    )
    assert evidence.status_code == 410
    # The offer itself still shows, with its history.
    assert "Title too long" in signed_in.page(f"/offers/{FEED}/E1").words


def test_unknown_things_and_deactivated_feeds_answer_the_not_found_page(
    signed_in: Browser, shop: Shop, ready: Api
) -> None:
    unknown = "ABCDEF0123456789ABCDEF0123456789"
    for path in (
        f"/offers/{FEED}/NOPE",
        "/offers/vtex.unknown/S1",
        f"/offers/{FEED}/S1/interactions/{unknown}",
        f"/offers/{FEED}/S1/interactions/{unknown}/evidence/{unknown}",
        "/no-such-page",
    ):
        page = signed_in.page(path, status=404)
        assert page.one("h1").words == "Not found", path
        assert page.one("a", "Back to offers")["href"] == "/offers"
    assert ready.request("DELETE", f"/feeds/{FEED}").status_code in (200, 204)
    assert signed_in.page(f"/offers/{FEED}/S1", status=404).one("h1").words == "Not found"
    assert signed_in.page(f"/offers/{FEED}/E1/interactions/{shop.failed['id']}", status=404)
    assert "No offers match these filters." in signed_in.page("/offers").words


def test_an_unexpected_failure_shows_an_error_page_with_a_reference(
    settings: Settings, db: Database, viewer: NewKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentoffers.server.app import create_app
    from sentoffers.server.web.ui import pages

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the store fell over")

    monkeypatch.setattr(pages.offers, "list_offers", broken)
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
        browser = Browser(client)
        browser.sign_in(ACCOUNT, viewer)
        response = browser.get("/offers")
        api = client.get("/api/sent-offers/offers", params={"an": ACCOUNT})
    assert response.status_code == 500
    page = Html(response.text)
    assert page.one("h1").words == "Something went wrong"
    assert response.headers["x-request-id"] in page.words
    assert "fell over" not in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert api.status_code == 401  # the API's own answers are untouched


# Live updates ------------------------------------------------------------------------------


def _events(client: TestClient, url: str, write: Any, within: float = 4.0) -> list[str]:
    """The SSE lines read from ``url`` until an update (or ``within`` seconds), with ``write``
    run in a thread a moment after the stream opened."""
    lines: list[str] = []
    writer = threading.Timer(0.3, write)
    started = time.monotonic()
    with client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        writer.start()
        for line in response.iter_lines():
            lines.append(line)
            if line.startswith("event: update") or time.monotonic() - started > within:
                break
    writer.join()
    return lines


def test_a_live_offer_page_hears_of_a_new_log(signed_in: Browser, shop: Shop, ready: Api) -> None:
    page = signed_in.page(f"/offers/{FEED}/P1")
    live = page.one("main")["data-live"]
    lines = _events(
        signed_in.client,
        live,
        lambda: ready.log("P1", shop.sending_interaction, {"type": "info", "description": "x"}),
    )
    assert lines[0] == "retry: 2000"
    assert "event: update" in lines
    assert any(line.startswith("id: ") for line in lines)


def test_a_live_interaction_page_hears_of_a_new_log_and_of_the_close(
    signed_in: Browser, shop: Shop, ready: Api
) -> None:
    path = f"/offers/{FEED}/P1/interactions/{shop.sending_interaction}"
    live = signed_in.page(path).one("main")["data-live"]
    lines = _events(
        signed_in.client,
        live,
        lambda: ready.log("P1", shop.sending_interaction, {"type": "warning", "description": "y"}),
    )
    assert "event: update" in lines
    stamp = next(line for line in lines if line.startswith("id: ")).removeprefix("id: ")
    # A reconnect carries the last stamp seen: only news after it counts.
    closing = _events(
        signed_in.client,
        live,
        lambda: ready.close("P1", shop.sending_interaction),
    )
    assert "event: update" in closing
    with signed_in.client.stream("GET", live, headers={"Last-Event-ID": stamp}) as response:
        lines = response.iter_lines()
        assert [next(lines), next(lines)] == ["retry: 2000", ""]
        assert next(line for line in lines if line.startswith("event")) == "event: update"


def test_a_live_stream_is_quiet_without_news_and_ends_on_its_own(
    signed_in: Browser, shop: Shop, settings: Settings, db: Database, viewer: NewKey
) -> None:
    from sentoffers.server.app import create_app

    brief = settings.model_copy(update={"ui_live_max_seconds": 0.5})
    with TestClient(create_app(brief, db)) as client:
        browser = Browser(client)
        browser.sign_in(ACCOUNT, viewer)
        live = browser.page(f"/offers/{FEED}/S1").one("main")["data-live"]
        started = time.monotonic()
        body = client.get(live).text
    assert time.monotonic() - started < 4
    assert "event: update" not in body


def test_a_live_stream_without_a_session_is_refused(browser: Browser, shop: Shop) -> None:
    response = browser.get(f"/live/offers/{FEED}/S1")
    assert response.status_code == 401
