"""The unified contract's batch form: one response, a result per item, bad items alone."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import FEED, Api, Store

BATCH = f"/feeds/{FEED}/interactions/unified/batch"


def item(sku: str, **extra: Any) -> dict[str, Any]:
    return {
        "skuId": sku,
        "source": "seller",
        "origin": "price",
        "context": "ongoing",
        "type": "success",
        "description": "price sent",
        "data": {"price": "9.90", "currency": "BRL"},
        **extra,
    }


def test_batch_answers_a_result_per_item_in_order_and_a_bad_item_fails_alone(
    ready: Api, store: Store
) -> None:
    items = [item("1"), {"skuId": "2", "type": "nonsense"}, item("3"), "not an object"]
    response = ready.post(BATCH, items)
    body = response.json()
    assert response.status_code == 200
    assert (body["succeeded"], body["failed"]) == (2, 2)
    assert [r["index"] for r in body["items"]] == [0, 1, 2, 3]
    assert [r["status"] for r in body["items"]] == [201, 400, 201, 400]
    assert body["items"][0]["offerStatus"] == "synced"
    assert {e["field"] for e in body["items"][1]["errors"]} >= {"type", "source"}
    assert store.status("1") == "synced"
    assert store.offer("3")["price"] == "9.90"


def test_batch_applies_items_of_one_sku_in_order(ready: Api, store: Store) -> None:
    failure = item(
        "1",
        type="failure",
        origin="catalog",
        errors=[{"code": "CTLG-007", "title": "No image"}],
    )
    response = ready.post(BATCH, [failure, item("1", origin="catalog")])
    assert [r["offerStatus"] for r in response.json()["items"]] == ["error", "synced"]
    assert store.open_errors("1") == []
    assert [h["to_status"] for h in store.history("1")] == ["sending", "error", "synced"]


def test_batch_over_the_item_limit_or_empty_is_refused(ready: Api) -> None:
    too_many = ready.post(BATCH, [item(str(n)) for n in range(1001)])
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["code"] == "batch_too_large"
    assert ready.post(BATCH, []).status_code == 400
    assert ready.post(BATCH, {"skuId": "1"}).status_code == 400


def test_batch_to_a_deactivated_feed_is_a_conflict(ready: Api) -> None:
    ready.request("DELETE", f"/feeds/{FEED}")
    assert ready.post(BATCH, [item("1")]).status_code == 409


def test_batch_of_a_thousand_items_is_written_whole(ready: Api, store: Store) -> None:
    response = ready.post(BATCH, [item(str(n)) for n in range(1000)])
    assert response.json()["succeeded"] == 1000
    assert store.status("999") == "synced"
