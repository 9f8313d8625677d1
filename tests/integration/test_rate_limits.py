"""Limits over HTTP: requests per key and per address, failed authentications, live streams.

Each test makes its own app with small limits; the limits are in memory, per app, except in
the Redis test, where two apps (two processes, as far as the limits know) share them.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sentoffers.domain.model import Role
from sentoffers.server.app import create_app
from sentoffers.server.features.keys import NewKey, create_key
from sentoffers.server.settings import Settings
from sentoffers.server.web.api.deps import parts_of
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, FEED
from tests.support.redis import RedisServer

LOGIN = "/api/vtexid/apptoken/login"
FEEDS = "/api/sent-offers/feeds"
BATCH = f"/api/sent-offers/feeds/{FEED}/interactions/unified/batch"


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the limits do not touch the store."""
    path = tmp_path / "sentoffers.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def limited(database_url: str, **values: Any) -> Settings:
    """Settings with every limit off but those given; no credentials cache, so each request
    with an app key and token is checked against the store."""
    off: dict[str, Any] = {
        "rate_limit_key_per_second": 0,
        "rate_limit_key_per_minute": 0,
        "rate_limit_ip_per_second": 0,
        "rate_limit_ip_per_minute": 0,
        "login_failures_max": 0,
        "ui_live_streams_per_session": 0,
        "ui_live_streams_max": 0,
    }
    return Settings(
        database_url=database_url,
        background_jobs=False,
        environment="test",
        auth_cache_seconds=0,
        **{**off, **values},
    )


@pytest.fixture
def app_for(db: Database, database_url: str) -> Iterator[Any]:
    """``app_for(**limits)``: an app with those limits, started (lifespan) until the end."""
    with ExitStack() as stack:

        def make(**values: Any) -> FastAPI:
            app = create_app(limited(database_url, **values), db)
            stack.enter_context(TestClient(app))
            return app

        yield make


def client_at(app: FastAPI, address: str) -> TestClient:
    """A client of ``app`` calling from ``address``."""
    return TestClient(app, client=(address, 40000))


def key_headers(key: NewKey, token: str | None = None) -> dict[str, str]:
    return {"X-VTEX-API-AppKey": key.app_key, "X-VTEX-API-AppToken": token or key.app_token}


def feeds(client: TestClient, key: NewKey, token: str | None = None) -> httpx.Response:
    return client.get(FEEDS, params={"an": ACCOUNT}, headers=key_headers(key, token))


def assert_rate_limited(response: httpx.Response) -> int:
    """The service's 429: its error code and a Retry-After of whole seconds; the wait."""
    assert response.status_code == 429, response.text
    wait = int(response.headers["retry-after"])
    assert wait >= 1
    if response.headers["content-type"].startswith("application/json"):
        (problem,) = response.json()["errors"]
        assert problem["code"] == "rate_limited"
        assert problem["message"]
    return wait


# Requests per key and per address ----------------------------------------------------------


def test_a_key_over_its_limit_waits_retry_after_and_the_next_window_serves_it(
    app_for: Any, db: Database
) -> None:
    app = app_for(rate_limit_key_per_second=3)
    key, other = create_key(db, Role.CONNECTOR, [ACCOUNT]), create_key(db, Role.VIEWER, [ACCOUNT])
    client = client_at(app, "198.51.100.1")
    assert feeds(client, other).status_code == 200  # warm: the next ones come quickly
    assert [feeds(client, key).status_code for _ in range(3)] == [200, 200, 200]
    wait = assert_rate_limited(feeds(client, key))
    assert wait <= 1
    # Another key, from the same address, is not affected.
    assert feeds(client, other).status_code == 200
    time.sleep(wait + 0.05)
    assert feeds(client, key).status_code == 200


def test_the_per_minute_budget_holds_a_key_past_its_bursts(app_for: Any, db: Database) -> None:
    app = app_for(rate_limit_key_per_second=100, rate_limit_key_per_minute=4)
    key = create_key(db, Role.CONNECTOR, [ACCOUNT])
    client = client_at(app, "198.51.100.1")
    assert [feeds(client, key).status_code for _ in range(4)] == [200] * 4
    assert assert_rate_limited(feeds(client, key)) > 1  # the minute's window, not a second's


def test_a_batch_counts_as_one_request(app_for: Any, db: Database) -> None:
    app = app_for(rate_limit_key_per_second=2, rate_limit_key_per_minute=2)
    key = create_key(db, Role.CONNECTOR, [ACCOUNT])
    client = client_at(app, "198.51.100.1")
    headers, params = key_headers(key), {"an": ACCOUNT}
    channel = {"vendor": "vtex", "name": "Amazon", "logo": "https://l/x.png"}
    client.post("/api/sent-offers/channels", json=channel, headers=headers, params=params)
    items = [
        {"skuId": str(n), "source": "seller", "origin": "price", "context": "ongoing",
         "type": "success", "description": "price sent"}
        for n in range(5)
    ]  # fmt: skip
    batch = client.post(BATCH, json=items, headers=headers, params=params)
    assert batch.status_code != 429, batch.text
    assert_rate_limited(feeds(client, key))


def test_requests_without_a_key_are_limited_per_address(app_for: Any, db: Database) -> None:
    app = app_for(rate_limit_ip_per_minute=3)
    key = create_key(db, Role.VIEWER, [ACCOUNT])
    here, there = client_at(app, "203.0.113.5"), client_at(app, "203.0.113.6")
    assert [here.get("/signin").status_code for _ in range(2)] == [200, 200]
    assert here.get("/openapi.json").status_code == 200
    page = here.get("/signin")
    assert assert_rate_limited(page) <= 60
    assert "Too many requests" in page.text
    login = here.post(LOGIN, json={"appKey": key.app_key, "appToken": key.app_token})
    assert_rate_limited(login)
    # Probes are not counted; requests with a key count against the key (whose limits are
    # 0: off); other addresses have their own count.
    assert here.get("/health").status_code == 200
    assert feeds(here, key).status_code == 200
    assert there.get("/signin").status_code == 200


def test_the_limits_of_several_processes_add_up_in_redis(
    db: Database, database_url: str, redis_server: RedisServer
) -> None:
    storage = redis_server.url.rsplit("/", 1)[0] + "/3"
    values = {"rate_limit_storage": storage, "rate_limit_key_per_second": 0}
    first = create_app(limited(database_url, rate_limit_key_per_minute=4, **values), db)
    second = create_app(limited(database_url, rate_limit_key_per_minute=4, **values), db)
    key = create_key(db, Role.CONNECTOR, [ACCOUNT])
    with TestClient(first) as one, TestClient(second) as two:
        assert [feeds(one, key).status_code, feeds(two, key).status_code] == [200, 200]
        assert [feeds(one, key).status_code, feeds(two, key).status_code] == [200, 200]
        assert_rate_limited(feeds(one, key))
        assert_rate_limited(feeds(two, key))


# Failed authentications --------------------------------------------------------------------


def test_failed_tokens_for_a_key_throttle_the_key_from_any_address(
    app_for: Any, db: Database
) -> None:
    app = app_for(login_failures_max=3)
    key, other = create_key(db, Role.CONNECTOR, [ACCOUNT]), create_key(db, Role.VIEWER, [ACCOUNT])
    guesser = client_at(app, "203.0.113.66")
    for n in range(3):
        assert feeds(client_at(app, f"203.0.113.{n}"), key, "WRONG").status_code == 401
    # The key's owner, elsewhere, with the right token: the same answer as for a wrong one.
    right = feeds(client_at(app, "198.51.100.1"), key)
    wrong = feeds(guesser, key, "WRONG-AGAIN")
    assert_rate_limited(right)
    assert_rate_limited(wrong)
    assert (
        right.json()["errors"][0]["message"].split(";")[0]
        == (wrong.json()["errors"][0]["message"].split(";")[0])
    )
    assert feeds(guesser, other).status_code == 200  # other keys are not throttled


def test_an_address_that_failed_with_several_keys_is_throttled_whatever_the_key(
    app_for: Any, db: Database
) -> None:
    app = app_for(login_failures_max=3)
    key = create_key(db, Role.CONNECTOR, [ACCOUNT])
    guesser = client_at(app, "203.0.113.66")
    assert guesser.post(LOGIN, json={"appKey": "made-up-1", "appToken": "x"}).status_code == 401
    made_up = {"X-VTEX-API-AppKey": "made-up-2", "X-VTEX-API-AppToken": "x"}
    forged = {"VtexIdclientAutCookie": "forged.token"}
    assert guesser.get(FEEDS, params={"an": ACCOUNT}, headers=made_up).status_code == 401
    assert guesser.get(FEEDS, params={"an": ACCOUNT}, headers=forged).status_code == 401
    assert_rate_limited(feeds(guesser, key))
    assert_rate_limited(guesser.post(LOGIN, json={"appKey": key.app_key, "appToken": "y"}))
    assert_rate_limited(guesser.get(FEEDS, params={"an": ACCOUNT}, headers=forged))
    assert feeds(client_at(app, "198.51.100.1"), key).status_code == 200


def test_a_key_retried_with_a_wrong_token_locks_out_that_key_not_its_address(
    app_for: Any, db: Database
) -> None:
    app = app_for(login_failures_max=3)
    stale, other = (
        create_key(db, Role.CONNECTOR, [ACCOUNT]),
        create_key(db, Role.CONNECTOR, [ACCOUNT]),
    )
    host = client_at(app, "198.51.100.7")  # a host running two connectors, one misconfigured
    statuses = [feeds(host, stale, "OLD-TOKEN").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert feeds(host, other).status_code == 200


def test_the_token_login_is_throttled_and_a_success_resets_nothing(
    app_for: Any, db: Database
) -> None:
    app = app_for(login_failures_max=3)
    key, mine = create_key(db, Role.CONNECTOR, [ACCOUNT]), create_key(db, Role.VIEWER, [ACCOUNT])
    guesser, owner = client_at(app, "203.0.113.66"), client_at(app, "198.51.100.1")

    def login(client: TestClient, app_key: str, app_token: str) -> httpx.Response:
        return client.post(LOGIN, json={"appKey": app_key, "appToken": app_token})

    assert [login(guesser, key.app_key, "WRONG").status_code for _ in range(2)] == [401, 401]
    issued = login(owner, key.app_key, key.app_token)  # the owner, between the guesses
    assert issued.status_code == 200
    assert login(guesser, key.app_key, "WRONG").status_code == 401
    assert_rate_limited(login(owner, key.app_key, key.app_token))
    # The guesser's address: a third key failing there throttles it, its own success between
    # the failures notwithstanding.
    assert login(guesser, "made-up-1", "x").status_code == 401
    assert login(guesser, mine.app_key, mine.app_token).status_code == 200
    assert login(guesser, "made-up-2", "x").status_code == 401
    assert_rate_limited(login(guesser, mine.app_key, mine.app_token))
    # A token issued before is no login attempt: it still works.
    cookie = {"VtexIdclientAutCookie": issued.json()["token"]}
    assert owner.get(FEEDS, params={"an": ACCOUNT}, headers=cookie).status_code == 200


def test_the_ui_sign_in_is_throttled_with_a_readable_message(app_for: Any, db: Database) -> None:
    app = app_for(login_failures_max=3)
    key = create_key(db, Role.VIEWER, [ACCOUNT])
    browser = client_at(app, "203.0.113.66")

    def sign_in(token: str) -> httpx.Response:
        page = browser.get("/signin").text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"account": ACCOUNT, "app_key": key.app_key, "app_token": token,
                "csrf_token": csrf}  # fmt: skip
        return browser.post("/signin", data=form, follow_redirects=False)

    assert [sign_in("WRONG").status_code for _ in range(3)] == [401, 401, 401]
    refused = sign_in(key.app_token)
    assert_rate_limited(refused)
    assert refused.headers["content-type"].startswith("text/html")
    assert "Too many failed sign-ins" in refused.text
    assert "sentoffers_session" not in refused.headers.get("set-cookie", "")
    # The key is throttled everywhere, the API included.
    elsewhere = client_at(app, "198.51.100.1")
    assert_rate_limited(feeds(elsewhere, key))


# Live-update streams -----------------------------------------------------------------------


def signed_in(app: FastAPI, key: NewKey, address: str) -> TestClient:
    browser = client_at(app, address)
    page = browser.get("/signin").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"account": ACCOUNT, "app_key": key.app_key, "app_token": key.app_token,
            "csrf_token": csrf}  # fmt: skip
    assert browser.post("/signin", data=form, follow_redirects=False).status_code == 303
    return browser


def test_a_session_past_its_streams_is_refused_and_other_sessions_are_not(
    app_for: Any, db: Database
) -> None:
    app = app_for(
        ui_live_streams_per_session=2,
        ui_live_streams_max=3,
        ui_live_poll_seconds=0.05,
        ui_live_max_seconds=5,
    )
    # Two keys: sign-ins of one key within the same second get the very same cookie.
    key, other = create_key(db, Role.VIEWER, [ACCOUNT]), create_key(db, Role.VIEWER, [ACCOUNT])
    first, second = signed_in(app, key, "198.51.100.1"), signed_in(app, other, "198.51.100.2")
    live = f"/live/offers/{FEED}/S1"
    with ExitStack() as streams:
        for _ in range(2):
            opened = streams.enter_context(first.stream("GET", live))
            assert opened.status_code == 200
        refused = first.get(live)
        assert refused.status_code == 429
        assert refused.headers["retry-after"]
        # Another session opens its own, up to the process's limit.
        assert streams.enter_context(second.stream("GET", live)).status_code == 200
        full = second.get(live)
        assert full.status_code == 503
        assert full.headers["retry-after"]
    # The streams closed give their slots back.
    deadline = time.monotonic() + 5
    while parts_of(app).limits.streams.open_count() and time.monotonic() < deadline:
        time.sleep(0.02)
    with first.stream("GET", live) as again:
        assert again.status_code == 200
