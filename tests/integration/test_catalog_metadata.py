"""Offer metadata from the VTEX Catalog, over real HTTP against a fake catalog.

The fake answers ``/{account}/api/catalog_system/pvt/sku/stockkeepingunitbyid/{skuId}``
with the documented shape, checks the app key and token, answers 404 for unknown SKUs,
500 for SKU ``500`` and slowly for SKU ``slow``. Offers are made through the API; a pass
of the enrichment is then run directly, and the offers table is read back.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sentoffers.server.app import create_app
from sentoffers.server.features.catalog.enrichment import (
    EnrichmentResult,
    claim_offers,
    enrich_offers,
)
from sentoffers.server.settings import Settings
from sentoffers.server.store.tables import offers
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, FEED, OTHER_ACCOUNT, Api, Store

APP_KEY = "vtexappkey-acme-CATALOG"
APP_TOKEN = "catalog-token"
METADATA = ("name", "image", "product_id", "brand", "category")


def _sku(sku_id: int, product_id: int, name: str, brand: str, category: str) -> dict[str, Any]:
    """A body shaped like the documented GetSKUandContext example."""
    return {
        "Id": sku_id,
        "ProductId": product_id,
        "NameComplete": name,
        "ComplementName": "",
        "ProductName": name.split(" - ")[0],
        "SkuName": name.split(" - ")[-1],
        "ImageUrl": f"https://{ACCOUNT}.vteximg.com.br/arquivos/ids/{sku_id}-55-55/{sku_id}.jpg",
        "BrandId": "2000018",
        "BrandName": brand,
        "IsActive": True,
        "Images": [
            {
                "ImageUrl": f"https://{ACCOUNT}.vteximg.com.br/arquivos/ids/{sku_id}/{sku_id}.jpg",
                "ImageName": "",
                "FileId": sku_id,
            }
        ],
        "CategoriesFullPath": ["/1/10/", "/1/"],
        "ProductCategoryIds": "/1/10/",
        "ProductGlobalCategoryId": None,
        "ProductCategories": {"10": category, "1": "Esportes"},
        "SalesChannels": [1],
    }


CATALOG: dict[tuple[str, str], dict[str, Any]] = {
    (ACCOUNT, "1"): _sku(1, 100, "Tabela de Basquete - Oficial", "Spalding", "Basquete"),
    (ACCOUNT, "2"): _sku(2, 200, "Bola de Vôlei - Pro", "Mikasa", "Vôlei"),
    (ACCOUNT, "3"): _sku(3, 300, "Rede de Tênis - Padrão", "Wilson", "Tênis"),
    (OTHER_ACCOUNT, "1"): _sku(1, 900, "Chuteira - 42", "Globex Sports", "Futebol"),
}


@dataclass
class FakeCatalog:
    """The catalog's SKU-by-id route, with what it was asked."""

    base_url: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Run (in the server's thread) when the SKU is asked for, before it is answered.
    on_request: dict[str, Callable[[], None]] = field(default_factory=dict)
    # SKUs answered 500 whatever the catalog holds.
    failing: set[str] = field(default_factory=lambda: {"500"})

    def reset(self) -> None:
        self.requests.clear()
        self.on_request.clear()
        self.failing = {"500"}

    async def sku_by_id(self, request: Request) -> Response:
        account = request.path_params["account"]
        sku_id = request.path_params["sku_id"]
        self.requests.append((account, sku_id))
        if (
            request.headers.get("X-VTEX-API-AppKey") != APP_KEY
            or request.headers.get("X-VTEX-API-AppToken") != APP_TOKEN
        ):
            return PlainTextResponse("Unauthorized", status_code=401)
        if hook := self.on_request.get(sku_id):
            await asyncio.to_thread(hook)
        if sku_id == "slow":
            await asyncio.sleep(1.0)
        if sku_id in self.failing:
            return PlainTextResponse("Internal Server Error", status_code=500)
        body = CATALOG.get((account, sku_id))
        if body is None:
            return PlainTextResponse("SKU not found", status_code=404)
        return JSONResponse(body)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    "/{account}/api/catalog_system/pvt/sku/stockkeepingunitbyid/{sku_id}",
                    self.sku_by_id,
                )
            ]
        )


@pytest.fixture(scope="module")
def catalog_server() -> Iterator[FakeCatalog]:
    catalog = FakeCatalog()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        catalog.app(), log_level="warning", access_log=False, lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "the fake catalog stopped"
            assert time.monotonic() < deadline, "the fake catalog did not start"
            time.sleep(0.01)
        catalog.base_url = f"http://127.0.0.1:{port}/{{account}}"
        yield catalog
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


@pytest.fixture
def catalog(catalog_server: FakeCatalog) -> Iterator[FakeCatalog]:
    catalog_server.reset()
    yield catalog_server
    catalog_server.reset()


def _catalog_settings(settings: Settings, catalog: FakeCatalog, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "catalog_base_url": catalog.base_url,
        "catalog_app_key": APP_KEY,
        "catalog_app_token": APP_TOKEN,
        "catalog_timeout_seconds": 2.0,
        **overrides,
    }
    return settings.model_copy(update=values)


@pytest.fixture
def enrich(
    settings: Settings, db: Database, catalog: FakeCatalog
) -> Callable[..., EnrichmentResult]:
    """One pass against the fake catalog, at ``now`` (default: the real time)."""

    def run(now: datetime | None = None, **overrides: Any) -> EnrichmentResult:
        return enrich_offers(db, _catalog_settings(settings, catalog, **overrides), now=now)

    return run


def _offer(api: Api, sku: str, data: dict[str, Any] | None = None, feed: str = FEED) -> None:
    body: dict[str, Any] = {
        "source": "seller",
        "origin": "catalog",
        "context": "setup",
        "type": "success",
        "description": "sent",
    }
    if data is not None:
        body["data"] = data
    response = api.unified(sku, body, feed=feed)
    assert response.status_code in (200, 201), response.text


def _metadata(store: Store, sku: str, account: str = ACCOUNT, feed: str = FEED) -> dict[str, Any]:
    offer = store.offer(sku, account=account, feed=feed)
    return {name: offer[name] for name in METADATA}


EMPTY = dict.fromkeys(METADATA)


def test_known_skus_get_their_metadata(
    ready: Api, store: Store, catalog: FakeCatalog, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "1")
    _offer(ready, "2")
    now = datetime.now(UTC)
    result = enrich(now)
    assert result == EnrichmentResult(claimed=2, found=2)
    assert _metadata(store, "1") == {
        "name": "Tabela de Basquete - Oficial",
        "image": f"https://{ACCOUNT}.vteximg.com.br/arquivos/ids/1-55-55/1.jpg",
        "product_id": "100",
        "brand": "Spalding",
        "category": "Basquete",
    }
    assert _metadata(store, "2")["name"] == "Bola de Vôlei - Pro"
    assert store.offer("1")["metadata_checked_at"] == now
    assert sorted(catalog.requests) == [(ACCOUNT, "1"), (ACCOUNT, "2")]
    # Fetched once: an offer with a name is not asked about again, however late.
    assert enrich(now + timedelta(days=30)) == EnrichmentResult()
    assert len(catalog.requests) == 2


def test_the_metadata_shows_in_the_offer_status_is_unchanged(
    ready: Api, store: Store, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "1")
    before = store.offer("1")
    enrich()
    after = store.offer("1")
    assert after["name"] == "Tabela de Basquete - Oficial"
    # Metadata is not a change of the offer: its status and last update stay.
    for column in ("status", "updated_at", "last_interaction_id", "price", "inventory"):
        assert after[column] == before[column]


def test_the_accounts_own_catalog_is_asked(
    ready: Api,
    make_api: Callable[..., Api],
    store: Store,
    catalog: FakeCatalog,
    enrich: Callable[..., EnrichmentResult],
) -> None:
    other = make_api(account=OTHER_ACCOUNT)
    assert other.channel().status_code in (201, 409)
    assert other.activate().status_code == 201
    _offer(ready, "1")
    _offer(other, "1")
    assert enrich().found == 2
    assert sorted(catalog.requests) == [(ACCOUNT, "1"), (OTHER_ACCOUNT, "1")]
    assert _metadata(store, "1")["brand"] == "Spalding"
    assert _metadata(store, "1", account=OTHER_ACCOUNT)["brand"] == "Globex Sports"


def test_what_the_connector_sent_is_never_overwritten(
    ready: Api, store: Store, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "1", {"name": "Connector's name"})
    _offer(ready, "2", {"brandName": "Connector Brand", "imageUrl": "https://cdn/2.png"})
    result = enrich()
    # An offer with a name is not looked up; one without gets only what it lacks.
    assert result == EnrichmentResult(claimed=1, found=1)
    assert _metadata(store, "1") == {**EMPTY, "name": "Connector's name"}
    assert _metadata(store, "2") == {
        "name": "Bola de Vôlei - Pro",
        "image": "https://cdn/2.png",
        "product_id": "200",
        "brand": "Connector Brand",
        "category": "Vôlei",
    }


def test_a_name_sent_while_the_catalog_is_asked_wins(
    ready: Api, store: Store, catalog: FakeCatalog, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "1")
    # The connector writes while the lookup is in flight: its write is not held up, and the
    # catalog's answer, arriving after it, fills only what the connector left empty.
    catalog.on_request["1"] = lambda: _offer(
        ready, "1", {"name": "Sent meanwhile", "category": "Connector category"}
    )
    assert enrich().found == 1
    assert _metadata(store, "1") == {
        "name": "Sent meanwhile",
        "image": f"https://{ACCOUNT}.vteximg.com.br/arquivos/ids/1-55-55/1.jpg",
        "product_id": "100",
        "brand": "Spalding",
        "category": "Connector category",
    }


def test_an_unknown_sku_is_marked_checked_and_left_empty(
    ready: Api, store: Store, catalog: FakeCatalog, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "404")
    now = datetime.now(UTC)
    assert enrich(now) == EnrichmentResult(claimed=1, not_found=1)
    assert _metadata(store, "404") == EMPTY
    assert store.offer("404")["metadata_checked_at"] == now
    # Not asked again within the retry delay; asked again after it, as it still has no name.
    assert enrich(now + timedelta(minutes=59)) == EnrichmentResult()
    assert enrich(now + timedelta(minutes=61)) == EnrichmentResult(claimed=1, not_found=1)
    assert catalog.requests == [(ACCOUNT, "404"), (ACCOUNT, "404")]


def test_a_failing_catalog_leaves_the_offer_for_a_retry_later(
    ready: Api, store: Store, catalog: FakeCatalog, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "500")
    _offer(ready, "1")
    now = datetime.now(UTC)
    assert enrich(now) == EnrichmentResult(claimed=2, found=1, failed=1)
    assert _metadata(store, "500") == EMPTY
    assert _metadata(store, "1")["name"] == "Tabela de Basquete - Oficial"
    # Within the retry delay nothing is asked; after it, the SKU is asked again.
    assert enrich(now + timedelta(minutes=30), catalog_retry_seconds=3600) == EnrichmentResult()
    CATALOG[(ACCOUNT, "500")] = _sku(500, 5000, "Raquete - Leve", "Head", "Tênis")
    catalog.failing.clear()
    try:
        later = now + timedelta(hours=2)
        assert enrich(later) == EnrichmentResult(claimed=1, found=1)
    finally:
        del CATALOG[(ACCOUNT, "500")]
    assert _metadata(store, "500")["brand"] == "Head"
    assert store.offer("500")["metadata_checked_at"] == later
    assert catalog.requests.count((ACCOUNT, "500")) == 2


def test_a_timeout_is_a_failure_to_retry(
    ready: Api, store: Store, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "slow")
    now = datetime.now(UTC)
    assert enrich(now, catalog_timeout_seconds=0.2) == EnrichmentResult(claimed=1, failed=1)
    assert _metadata(store, "slow") == EMPTY
    assert enrich(now + timedelta(minutes=1)) == EnrichmentResult()


def test_wrong_credentials_fill_nothing_and_are_retried(
    ready: Api, store: Store, catalog: FakeCatalog, enrich: Callable[..., EnrichmentResult]
) -> None:
    for sku in ("1", "2", "3"):
        _offer(ready, sku)
    now = datetime.now(UTC)
    result = enrich(now, catalog_app_token="wrong", catalog_concurrency=1)
    assert result == EnrichmentResult(claimed=3, failed=3)
    # Refused once, the account's other SKUs are not asked about in the same pass.
    assert len(catalog.requests) == 1
    assert all(_metadata(store, sku) == EMPTY for sku in ("1", "2", "3"))
    assert enrich(now + timedelta(minutes=1)) == EnrichmentResult()
    # With the credentials fixed, the next try after the delay fills them.
    assert enrich(now + timedelta(hours=1, seconds=1)) == EnrichmentResult(claimed=3, found=3)
    assert _metadata(store, "3")["brand"] == "Wilson"


def test_no_credentials_at_all_are_refused_too(
    ready: Api, store: Store, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "1")
    result = enrich(catalog_app_key=None, catalog_app_token=None)
    assert result == EnrichmentResult(claimed=1, failed=1)
    assert _metadata(store, "1") == EMPTY


def test_disabled_without_a_base_url(
    ready: Api, store: Store, catalog: FakeCatalog, enrich: Callable[..., EnrichmentResult]
) -> None:
    _offer(ready, "1")
    assert enrich(catalog_base_url=None) == EnrichmentResult()
    assert enrich(catalog_base_url="") == EnrichmentResult()
    assert catalog.requests == []
    assert store.offer("1")["metadata_checked_at"] is None


def test_a_sku_in_several_feeds_is_asked_for_once(
    ready: Api, store: Store, catalog: FakeCatalog, enrich: Callable[..., EnrichmentResult]
) -> None:
    assert ready.channel(name="Netshoes").status_code == 201
    assert ready.activate("vtex.netshoes").status_code == 201
    _offer(ready, "1")
    _offer(ready, "1", feed="vtex.netshoes")
    assert enrich() == EnrichmentResult(claimed=2, found=2)
    assert catalog.requests == [(ACCOUNT, "1")]
    assert _metadata(store, "1", feed="vtex.netshoes") == _metadata(store, "1")


def test_a_pass_takes_a_batch_and_deactivated_feeds_wait(
    ready: Api, store: Store, catalog: FakeCatalog, enrich: Callable[..., EnrichmentResult]
) -> None:
    for sku in ("1", "2", "3"):
        _offer(ready, sku)
    assert enrich(catalog_batch_size=2).claimed == 2
    assert enrich(catalog_batch_size=2).claimed == 1
    assert enrich(catalog_batch_size=2).claimed == 0

    assert ready.channel(name="Netshoes").status_code == 201
    assert ready.activate("vtex.netshoes").status_code == 201
    _offer(ready, "2", feed="vtex.netshoes")
    assert ready.request("DELETE", "/feeds/vtex.netshoes").status_code == 204
    assert enrich() == EnrichmentResult()
    assert _metadata(store, "2", feed="vtex.netshoes") == EMPTY


def test_the_service_fills_metadata_in_the_background(
    settings: Settings, db: Database, ready: Api, store: Store, catalog: FakeCatalog
) -> None:
    _offer(ready, "1")
    live = _catalog_settings(settings, catalog, background_jobs=True, catalog_interval_seconds=0.05)
    with TestClient(create_app(live, db)):
        deadline = time.monotonic() + 10
        while _metadata(store, "1")["name"] is None:
            assert time.monotonic() < deadline, "the background job filled nothing"
            time.sleep(0.05)
    assert _metadata(store, "1")["brand"] == "Spalding"


def test_a_claim_skips_offers_being_written_and_is_taken_once(ready: Api, db: Database) -> None:
    for sku in ("1", "2"):
        _offer(ready, sku)
    now = datetime.now(UTC)
    cutoff = now - timedelta(hours=1)
    if db.sqlite:
        # SQLite serializes writers: a claim simply comes before or after a connector's write.
        assert claim_offers(db, now, cutoff, 10) == [(ACCOUNT, FEED, "1"), (ACCOUNT, FEED, "2")]
    else:
        # PostgreSQL: an offer a connector has locked is skipped, never waited for.
        with db.engine.connect() as writer:
            writer.execute(
                select(offers.c.sku_id).where(offers.c.sku_id == "1").with_for_update()
            ).all()
            assert claim_offers(db, now, cutoff, 10) == [(ACCOUNT, FEED, "2")]
            writer.rollback()
        assert claim_offers(db, now, cutoff, 10) == [(ACCOUNT, FEED, "1")]
    # Claimed offers are not claimed again (by this process or another) until the delay.
    assert claim_offers(db, now, cutoff, 10) == []


def test_stopping_the_service_waits_only_for_the_lookup_in_flight(
    settings: Settings, db: Database, ready: Api, store: Store, catalog: FakeCatalog
) -> None:
    _offer(ready, "slow")
    _offer(ready, "1")
    live = _catalog_settings(settings, catalog, background_jobs=True, catalog_interval_seconds=0.05)
    with TestClient(create_app(live, db)):
        deadline = time.monotonic() + 10
        while (ACCOUNT, "slow") not in catalog.requests:
            assert time.monotonic() < deadline, "the background job asked nothing"
            time.sleep(0.01)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 3
    # The pass finished what it had asked before the service stopped.
    assert store.offer("slow")["metadata_checked_at"] is not None
    assert _metadata(store, "1")["brand"] == "Spalding"
