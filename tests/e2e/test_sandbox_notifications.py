"""The broadcaster against a real HTTP receiver on loopback: every field of the notification
as the document "How to keep prices updated" lists it, the flags each catalog change sets,
the initial load (every SKU, a bounded number in flight, retried on failure, in the
background if asked), bounded retries, and the counts and delivery times it keeps."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from sentoffers.sandbox import (
    DOCUMENT_NAMES,
    NOTIFICATION_FIELDS,
    Broadcaster,
    Flaw,
    SandboxCatalog,
    generate_catalog,
    start_sandbox,
)
from tests.support.sandbox import Receiver, receiver_on_loopback

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

# The table "Fields sent in the notification", as the document spells them.
DOCUMENT_FIELDS = (
    "idSKU",
    "productId",
    "an",
    "idAffiliate",
    "DateModified",
    "isActive",
    "StockModified",
    "PriceModified",
    "HasStockKeepingUnitModified",
    "HasStockKeepingUnitRemovedFromAffiliate",
)
FLAGS = (
    "StockModified",
    "PriceModified",
    "HasStockKeepingUnitModified",
    "HasStockKeepingUnitRemovedFromAffiliate",
)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    with receiver_on_loopback() as running:
        yield running


def _no_sleep(_seconds: float) -> None:
    return None


def _broadcaster(url: str, **options: object) -> Broadcaster:
    return Broadcaster(url, sleep=_no_sleep, **options)  # type: ignore[arg-type]


def _clean(catalog: SandboxCatalog) -> int:
    return next(s for s in catalog.sku_ids() if not catalog.flaws(s))


def test_a_notification_carries_every_field_of_the_document(
    receiver: tuple[Receiver, str],
) -> None:
    assert {name.lower() for name in NOTIFICATION_FIELDS} == {f.lower() for f in DOCUMENT_FIELDS}
    recorder, url = receiver
    catalog = generate_catalog(3, 20, account="mystore")
    broadcaster = _broadcaster(url, affiliate_id="MKP")
    broadcaster.attach(catalog)
    sku_id = _clean(catalog)
    catalog.set_price(sku_id, 4990)
    [body] = recorder.take()
    assert list(body) == list(NOTIFICATION_FIELDS)
    assert body["IdSku"] == str(sku_id)
    assert body["ProductId"] == catalog.sku(sku_id).product_id  # type: ignore[union-attr]
    assert (body["An"], body["IdAffiliate"], body["IsActive"]) == ("mystore", "MKP", True)
    assert datetime.fromisoformat(body["DateModified"]).tzinfo is None
    assert {flag: body[flag] for flag in FLAGS} == {
        "StockModified": False,
        "PriceModified": True,
        "HasStockKeepingUnitModified": False,
        "HasStockKeepingUnitRemovedFromAffiliate": False,
    }
    broadcaster.close()


def test_the_document_casing_can_be_sent_instead(receiver: tuple[Receiver, str]) -> None:
    recorder, url = receiver
    catalog = generate_catalog(3, 10)
    broadcaster = _broadcaster(url, casing="document")
    broadcaster.attach(catalog)
    catalog.set_stock(_clean(catalog), 3)
    [body] = recorder.take()
    assert tuple(body) == DOCUMENT_FIELDS == tuple(DOCUMENT_NAMES.values())
    assert body["StockModified"] is True
    assert body["idSKU"]
    broadcaster.close()


def test_each_change_sets_its_own_flags(receiver: tuple[Receiver, str]) -> None:
    recorder, url = receiver
    catalog = generate_catalog(8, 60, flaw_rate=0.0)
    broadcaster = _broadcaster(url)
    broadcaster.attach(catalog)
    sku_ids = catalog.sku_ids()

    catalog.set_stock(sku_ids[0], 0)
    [stock] = recorder.take()
    assert stock["StockModified"]
    assert not stock["PriceModified"]

    catalog.update_sku(sku_ids[1], name="New name")
    [registration] = recorder.take()
    assert registration["HasStockKeepingUnitModified"]
    assert not registration["StockModified"]

    catalog.remove_from_trade_policy(sku_ids[2])
    [removed] = recorder.take()
    assert removed["HasStockKeepingUnitRemovedFromAffiliate"] is True
    catalog.set_price(sku_ids[2], 1000)  # no longer the affiliate's: not notified
    assert recorder.take() == []

    product_id = max(catalog.product_ids(), key=lambda p: len(catalog.skus_of(p)))
    catalog.deactivate_product(product_id)
    deactivated = recorder.take()
    assert [int(b["IdSku"]) for b in deactivated] == [s.id for s in catalog.skus_of(product_id)]
    assert all(b["IsActive"] is False and b["HasStockKeepingUnitModified"] for b in deactivated)
    broadcaster.close()


def test_the_initial_load_notifies_every_sku_once(receiver: tuple[Receiver, str]) -> None:
    recorder, url = receiver
    catalog = generate_catalog(12, 90, flaw_rate=0.3)
    broadcaster = _broadcaster(url)
    deliveries = broadcaster.initial_load(catalog, concurrency=4)
    assert all(delivery.delivered and delivery.attempts == 1 for delivery in deliveries)
    bodies = recorder.take()
    assert sorted(int(body["IdSku"]) for body in bodies) == catalog.sku_ids()
    assert all(set(body) == set(NOTIFICATION_FIELDS) for body in bodies)
    assert all(body[flag] for body in bodies for flag in FLAGS[:3])
    inactive = {s for s in catalog.sku_ids() if Flaw.INACTIVE_PRODUCT in catalog.flaws(s)}
    assert inactive
    assert {int(b["IdSku"]) for b in bodies if not b["IsActive"]} == inactive
    broadcaster.close()


def test_failed_deliveries_are_retried_a_bounded_number_of_times(
    receiver: tuple[Receiver, str],
) -> None:
    recorder, url = receiver
    catalog = generate_catalog(1, 5, flaw_rate=0.0)
    sleeps: list[float] = []
    broadcaster = Broadcaster(url, max_attempts=3, backoff_seconds=0.1, sleep=sleeps.append)
    [change] = catalog.set_stock(catalog.sku_ids()[0], 1)

    recorder.fail_next = 2
    [delivery] = broadcaster.send_changes(catalog.account, [change])
    assert (delivery.delivered, delivery.attempts, recorder.requests) == (True, 3, 3)
    assert sleeps == [0.1, 0.2]

    recorder.fail_next, recorder.requests = 10, 0
    [delivery] = broadcaster.send_changes(catalog.account, [change])
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 3, 503)
    assert recorder.requests == 3

    recorder.fail_next, recorder.fail_status, recorder.requests = 1, 400, 0
    [delivery] = broadcaster.send_changes(catalog.account, [change])
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 1, 400)
    assert len(broadcaster.deliveries) == 3
    broadcaster.close()


def test_an_unreachable_endpoint_ends_after_the_last_attempt() -> None:
    catalog = generate_catalog(1, 3)
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broadcaster = _broadcaster(f"http://127.0.0.1:{port}/api/notification/", max_attempts=2)
    [change] = catalog.set_stock(catalog.sku_ids()[0], 1)
    [delivery] = broadcaster.send_changes(catalog.account, [change])
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 2, None)
    assert delivery.error
    assert "ConnectionRefusedError" in delivery.error
    broadcaster.close()


def test_the_sandbox_notifies_changes_made_through_its_control_routes(
    receiver: tuple[Receiver, str],
) -> None:
    recorder, url = receiver
    with start_sandbox(seed=4, sku_count=15, flaw_rate=0.0, notify_url=url) as sandbox:
        client = httpx.Client(base_url=sandbox.account_url(), headers=sandbox.vtex_headers())
        sku_id = sandbox.catalog.sku_ids()[0]
        assert client.post(f"/_sandbox/skus/{sku_id}/price", json={"price": 2590}).is_success
        [body] = recorder.take()
        assert body["IdSku"] == str(sku_id)
        assert body["PriceModified"] is True
        loaded = client.post("/_sandbox/initial-load").json()
        assert loaded == {"account": "sandbox", "notified": 15, "delivered": 15}
        assert len(recorder.take()) == 15
        client.close()


def test_the_initial_load_delivers_every_sku_with_bounded_concurrency(
    receiver: tuple[Receiver, str],
) -> None:
    recorder, url = receiver
    recorder.delay = 0.02
    catalog = generate_catalog(5, 160)
    broadcaster = _broadcaster(url, concurrency=8)
    started = time.time()
    deliveries = broadcaster.initial_load(catalog)
    assert all(delivery.delivered for delivery in deliveries)
    assert sorted(int(body["IdSku"]) for body in recorder.take()) == catalog.sku_ids()
    assert 2 <= recorder.max_in_flight <= 8
    stats = broadcaster.stats()
    assert {k: stats[k] for k in ("attempts", "delivered", "failed", "retries", "pending")} == {
        "attempts": 160,
        "delivered": 160,
        "failed": 0,
        "retries": 0,
        "pending": 0,
    }
    assert stats["skus"] == 160
    times = broadcaster.delivery_times()
    assert sorted(times) == catalog.sku_ids()
    assert all(started <= first == last and count == 1 for first, last, count in times.values())
    assert broadcaster.delivery_times(since=time.time() + 1) == {}
    broadcaster.close()


def test_the_initial_load_retries_the_notifications_that_failed(
    receiver: tuple[Receiver, str],
) -> None:
    recorder, url = receiver
    recorder.fail_next = 5
    catalog = generate_catalog(6, 30)
    broadcaster = _broadcaster(url, concurrency=4, max_attempts=6)  # 5 failures at most
    deliveries = broadcaster.initial_load(catalog)
    assert all(delivery.delivered for delivery in deliveries)
    assert sum(delivery.attempts for delivery in deliveries) == 35
    assert sorted(int(body["IdSku"]) for body in recorder.take()) == catalog.sku_ids()
    stats = broadcaster.stats()
    assert (stats["attempts"], stats["retries"], stats["delivered"], stats["failed"]) == (
        35,
        5,
        30,
        0,
    )
    broadcaster.close()


def test_the_platform_runs_an_initial_load_in_the_background_and_tells_when_each_sku_went(
    receiver: tuple[Receiver, str],
) -> None:
    recorder, url = receiver
    recorder.delay = 0.01
    with (
        start_sandbox(seed=8, sku_count=40, notify_url=url, notification_concurrency=4) as sandbox,
        httpx.Client(base_url=sandbox.account_url(), headers=sandbox.vtex_headers()) as client,
    ):
        started = client.post("/_sandbox/initial-load", params={"wait": "false"})
        assert started.status_code == 202
        assert started.json() == {"account": "sandbox", "notified": 40, "started": True}
        deadline = time.monotonic() + 20
        while client.get("/_sandbox/stats").json()["notifications"]["pending"]:
            assert time.monotonic() < deadline, "the initial load did not end"
            time.sleep(0.05)
        notifications = client.get("/_sandbox/stats").json()["notifications"]
        assert (notifications["delivered"], notifications["skus"]) == (40, 40)
        assert recorder.max_in_flight <= 4
        times = client.get("/_sandbox/notifications").json()
        assert sorted(int(sku_id) for sku_id in times["skus"]) == sandbox.catalog.sku_ids()
        first_load_ended = max(sku["last"] for sku in times["skus"].values())

        loaded = client.post("/_sandbox/initial-load", params={"concurrency": 2})
        assert loaded.json() == {"account": "sandbox", "notified": 40, "delivered": 40}
        again = client.get("/_sandbox/notifications", params={"since": first_load_ended})
        skus = again.json()["skus"]
        assert len(skus) == 40
        assert all(sku["delivered"] == 2 and sku["last"] > sku["first"] for sku in skus.values())
        later = client.get("/_sandbox/notifications", params={"since": time.time() + 1})
        assert later.json()["skus"] == {}
        assert len(recorder.take()) == 80
