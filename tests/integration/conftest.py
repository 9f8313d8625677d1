"""An in-process app on a real database, and a client that speaks as one key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sentoffers.domain.model import Role
from sentoffers.server.app import create_app
from sentoffers.server.features.keys import create_key
from sentoffers.server.settings import Settings
from sentoffers.server.store.tables import error_occurrences, offer_status_history, offers
from sentoffers.sql.db import Database

ACCOUNT = "acme"
OTHER_ACCOUNT = "globex"
FEED = "vtex.amazon"


class Api:
    """A client bound to one key and one account, with the service's paths spelled out."""

    def __init__(self, client: TestClient, app_key: str, app_token: str, account: str):
        self.client = client
        self.headers = {"X-VTEX-API-AppKey": app_key, "X-VTEX-API-AppToken": app_token}
        self.account = account

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        params = {"an": self.account, **kwargs.pop("params", {})}
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(
            method, f"/api/sent-offers{path}", params=params, headers=headers, **kwargs
        )

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    # The contract's operations, for tests that are not about the HTTP details.
    def channel(self, vendor: str = "vtex", name: str = "Amazon") -> httpx.Response:
        return self.post("/channels", {"vendor": vendor, "name": name, "logo": "https://l/x.png"})

    def activate(self, feed_id: str = FEED) -> httpx.Response:
        return self.post("/feeds", {"id": feed_id, "affiliateId": "AMZ", "salesChannels": "1"})

    def open(self, sku: str, origin: str = "catalog", context: str = "setup", **extra: Any) -> str:
        response = self.post(
            f"/feeds/{extra.pop('feed', FEED)}/skus/{sku}/interactions",
            {"startDate": "2024-03-01", "source": "seller", "origin": origin, "context": context},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def log(
        self, sku: str, interaction: str, body: dict[str, Any], feed: str = FEED
    ) -> httpx.Response:
        return self.post(f"/feeds/{feed}/skus/{sku}/interactions/{interaction}/logs", body)

    def close(self, sku: str, interaction: str, feed: str = FEED) -> httpx.Response:
        return self.post(f"/feeds/{feed}/skus/{sku}/interactions/{interaction}/close")

    def unified(self, sku: str, body: dict[str, Any], feed: str = FEED) -> httpx.Response:
        return self.post(f"/feeds/{feed}/skus/{sku}/interactions/unified", body)


def report(
    api: Api,
    sku: str,
    type_: str = "success",
    *,
    origin: str = "catalog",
    feed: str = FEED,
    errors: list[dict[str, Any]] | None = None,
    description: str = "done",
    date: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    """One unified call (open, log once, close) on ``sku``; its response."""
    body: dict[str, Any] = {
        "source": "seller",
        "origin": origin,
        "context": "ongoing",
        "type": type_,
        "description": description,
        "agent": "connector",
    }
    if date is not None:
        body["date"] = date
    if data:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    response = api.unified(sku, body, feed=feed)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, background_jobs=False, environment="test")


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


@pytest.fixture
def make_api(client: TestClient, db: Database) -> Callable[..., Api]:
    def make(
        role: Role = Role.CONNECTOR, account: str = ACCOUNT, accounts: list[str] | None = None
    ) -> Api:
        key = create_key(db, role, accounts or [account])
        return Api(client, key.app_key, key.app_token, account)

    return make


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def ready(api: Api) -> Api:
    """A connector with the channel created and the feed active."""
    assert api.channel().status_code == 201
    assert api.activate().status_code == 201
    return api


class Store:
    """Direct reads of what the service stored, for asserting on it."""

    def __init__(self, db: Database):
        self.db = db

    def offer(self, sku: str, account: str = ACCOUNT, feed: str = FEED) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            row = conn.execute(
                select(offers).where(
                    offers.c.account == account, offers.c.feed_id == feed, offers.c.sku_id == sku
                )
            ).one()
        return dict(row._mapping)

    def status(self, sku: str) -> str:
        return str(self.offer(sku)["status"])

    def open_errors(self, sku: str) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(error_occurrences)
                .where(error_occurrences.c.sku_id == sku, error_occurrences.c.open.is_(True))
                .order_by(error_occurrences.c.code)
            )
            return [dict(r._mapping) for r in rows]

    def history(self, sku: str) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(offer_status_history)
                .where(offer_status_history.c.sku_id == sku)
                .order_by(offer_status_history.c.changed_at, offer_status_history.c.id)
            )
            return [dict(r._mapping) for r in rows]


@pytest.fixture
def store(db: Database) -> Store:
    return Store(db)
