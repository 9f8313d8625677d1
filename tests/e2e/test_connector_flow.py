"""The sandbox, the connector and a real ``sentoffers serve``, over real HTTP on loopback.

A catalog with every flaw goes through the initial load: each SKU must end, in the service,
with the status and the error codes its flaw calls for. Then price and stock changes made in
the sandbox (notified by its broadcaster) must arrive as success interactions carrying the
new values, a deactivated product as Unavailable, and a category mapped by the seller must
release the SKUs that waited for it. Last, ``sentoffers demo`` runs as a command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentoffers.client import OfferDetails, SentOffersClient, SentOffersCredentials
from sentoffers.connector.decisions import money
from sentoffers.connector.model import SkuRecord
from sentoffers.sandbox import Flaw, MarketplaceConfig, SandboxConfig
from sentoffers.sandbox.local_connector import LocalConnector
from tests.e2e.service_process import ServiceProcess, create_key

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ACCOUNT = "sandbox"
SKUS = 45
SETTLE_TIMEOUT_S = 60.0

EXPECTED: dict[Flaw | None, tuple[str, set[str]]] = {
    None: ("synced", set()),
    Flaw.LONG_DESCRIPTION: ("error", {"CTLG-006-001"}),
    Flaw.HTML_DESCRIPTION: ("error", {"CTLG-006-002"}),
    Flaw.MISSING_IMAGES: ("error", {"CTLG-007-001"}),
    Flaw.MISSING_DIMENSIONS: ("error", {"CTLG-008"}),  # one per dimension missing
    Flaw.BAD_EAN: ("error", {"CTLG-010-001"}),
    Flaw.UNMAPPED_CATEGORY: ("error", {"CTLG-004-001"}),
    Flaw.INACTIVE_PRODUCT: ("unavailable", set()),
    Flaw.OUTSIDE_TRADE_POLICY: ("unavailable", set()),
    Flaw.NO_PRICE: ("error", {"PRICE-001-001"}),
}
"""What each flaw calls for: the offer's status and its open error codes."""


class Settled:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, SkuRecord] = {}

    def __call__(self, record: SkuRecord) -> None:
        with self.lock:
            self.records[record.sku_id] = record

    def count(self) -> int:
        with self.lock:
            return len(self.records)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def stack(service: ServiceProcess) -> Iterator[tuple[LocalConnector, SentOffersClient, Settled]]:
    connector_key = create_key(service.database_url, ACCOUNT, "connector")
    viewer = create_key(service.database_url, ACCOUNT, "viewer")
    settled = Settled()
    config = SandboxConfig(
        seed=4, sku_count=SKUS, flaw_rate=0.5, accounts=(ACCOUNT,),
        marketplace=MarketplaceConfig(rate_limit_per_second=50),
    )  # fmt: skip
    settings = {
        "service_url": service.base_url,
        "service_app_key": connector_key.app_key,
        "service_app_token": connector_key.app_token,
        "database_url": f"sqlite:///{Path(service.log_path).parent / 'connector.db'}",
        "admin_token": "admin-secret",
        "sweep_interval_seconds": 3600,
    }
    credentials = SentOffersCredentials(app_key=viewer.app_key, app_token=viewer.app_token)
    with (
        LocalConnector(config, settings, on_settled=settled) as local,
        SentOffersClient(service.base_url, credentials=credentials) as client,
    ):
        yield local, client, settled


def offer(client: SentOffersClient, feed: str, sku: int | str) -> OfferDetails:
    return client.get_offer(ACCOUNT, feed, str(sku)).raise_for_errors()


def open_codes(details: OfferDetails) -> set[str]:
    return {error.code for error in details.open_errors}


def test_each_sku_ends_with_the_status_and_error_codes_its_flaws_call_for(
    stack: tuple[LocalConnector, SentOffersClient, Settled],
) -> None:
    local, client, settled = stack
    catalog, feed = local.sandbox.catalog, local.connector.feed_id
    assert set(catalog.flaw_counts()) == set(Flaw), "the catalog must hold every flaw"
    started = time.monotonic()
    deliveries = local.sandbox.initial_load()
    assert all(delivery.delivered for delivery in deliveries)
    wait_for(lambda: settled.count() == SKUS, "every SKU to settle", SETTLE_TIMEOUT_S)
    load_seconds = time.monotonic() - started

    for sku in catalog.sku_ids():
        flaws = catalog.flaws(sku)
        assert len(flaws) <= 1, (sku, flaws)
        status, expected = EXPECTED[next(iter(flaws), None)]
        details = offer(client, feed, sku)
        found = open_codes(details)
        assert details.status == status, (sku, flaws, details.status, found)
        if expected == {"CTLG-008"}:
            assert found, (sku, found)
            assert all(code.startswith("CTLG-008-") for code in found), (sku, found)
        else:
            assert found == expected, (sku, flaws, found)
        if status == "synced":
            listing = local.sandbox.marketplace.state.find(str(sku))
            values = catalog.sku(sku).prices[1]  # type: ignore[union-attr]
            assert listing is not None
            assert details.external_offer_id == listing.id
            assert (details.price, details.sales_price) == (
                money(values.price), money(values.selling_price),
            )  # fmt: skip
            assert details.inventory == str(catalog.sku(sku).stock)  # type: ignore[union-attr]
            assert {i.origin for i in details.interactions} == {"catalog", "price", "inventory"}
        assert details.name, sku  # the catalog interaction described the offer either way
    print(f"\ninitial load: {SKUS} SKUs settled in {load_seconds:.1f} s")


def test_price_and_stock_changes_arrive_as_success_interactions_with_the_new_values(
    stack: tuple[LocalConnector, SentOffersClient, Settled],
) -> None:
    local, client, settled = stack
    catalog, feed = local.sandbox.catalog, local.connector.feed_id
    local.sandbox.initial_load()
    wait_for(lambda: settled.count() == SKUS, "every SKU to settle", SETTLE_TIMEOUT_S)
    synced = [s for s in catalog.sku_ids() if not catalog.flaws(s)]
    priced, stocked, deactivated = synced[0], synced[1], synced[-1]

    catalog.set_price(priced, 12345, list_price=15000, selling_price=11990)
    catalog.set_stock(stocked, 7)
    wait_for(lambda: offer(client, feed, priced).sales_price == "119.90", "the new price")
    wait_for(lambda: offer(client, feed, stocked).inventory == "7", "the new stock")

    details = offer(client, feed, priced)
    assert (details.status, details.price) == ("synced", "123.45")
    latest = details.interactions[0]
    assert (latest.origin, latest.result) == ("price", "success")
    assert latest.new_value is not None
    assert latest.new_value.sales_price == "119.90"
    details = offer(client, feed, stocked)
    latest = details.interactions[0]
    assert (latest.origin, latest.result, details.status) == ("inventory", "success", "synced")
    assert latest.new_value is not None
    assert latest.new_value.inventory == "7"
    listing = local.sandbox.marketplace.state.find(str(priced))
    assert listing is not None
    assert listing.price == 119.9
    assert local.sandbox.marketplace.state.find(str(stocked)).stock == 7  # type: ignore[union-attr]

    product = catalog.sku(deactivated).product_id  # type: ignore[union-attr]
    catalog.deactivate_product(product)
    wait_for(lambda: offer(client, feed, deactivated).status == "unavailable", "unavailable")
    assert offer(client, feed, deactivated).inventory == "0"
    listing = local.sandbox.marketplace.state.find(str(deactivated))
    assert listing is not None
    assert (listing.status, listing.stock) == ("inactive", 0)


def test_mapping_a_category_releases_the_skus_that_waited_for_it(
    stack: tuple[LocalConnector, SentOffersClient, Settled],
) -> None:
    local, client, settled = stack
    catalog, feed = local.sandbox.catalog, local.connector.feed_id
    local.sandbox.initial_load()
    wait_for(lambda: settled.count() == SKUS, "every SKU to settle", SETTLE_TIMEOUT_S)
    admin = {"Authorization": "Bearer admin-secret"}
    with httpx.Client(base_url=local.url, headers=admin, timeout=10) as http:
        waiting = http.get(f"/api/connector/approval-queue/{ACCOUNT}").json()["items"]
        unmapped = {str(s) for s in catalog.sku_ids() if Flaw.UNMAPPED_CATEGORY in catalog.flaws(s)}
        assert waiting
        assert {item["skuId"] for item in waiting} == unmapped
        first = waiting[0]
        same = [item["skuId"] for item in waiting if item["categoryId"] == first["categoryId"]]
        answer = http.put(
            f"/api/connector/category-map/{ACCOUNT}/{first['categoryId']}",
            json={"category": "home.kitchen"},
        )
        assert answer.status_code == 200
        assert answer.json() == {"released": len(same)}
        for sku in same:
            wait_for(lambda sku=sku: offer(client, feed, sku).status == "synced", "synced")
            assert open_codes(offer(client, feed, sku)) == set()
        assert (
            http.get("/api/connector/status", headers={"Authorization": "Bearer no"}).status_code
            == 401
        )


def test_the_demo_loads_the_catalog_and_prints_the_ui_address(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "sentoffers", "demo", "--skus", "50", "--exit-when-done",
        "--port", "0",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
    env.pop("SENTOFFERS_DATABASE_URL", None)
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=110, env=env, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "50 of 50 SKUs settled" in done.stdout
    assert "Open the UI at http://127.0.0.1:" in done.stdout
    summary: dict[str, Any] = json.loads(
        next(line for line in done.stdout.splitlines() if line.startswith("{"))
    )
    assert summary["settled"] == 50
    assert sum(summary["offers"].values()) == 50
    assert summary["offers"]["sending"] == 0
    assert (tmp_path / summary["dataDir"] / "sentoffers.db").exists()
    print(f"\ndemo: 50 SKUs in {summary['seconds']} s ({50 / summary['seconds']:.1f} SKUs/s)")
