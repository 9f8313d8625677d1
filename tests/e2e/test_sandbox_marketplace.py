"""The sample marketplace over real HTTP: OAuth client credentials with expiring tokens, its
registration rules (every error at once), its own ids, prices, stock, lots with a maximum
size, 429 with Retry-After, injected 5xx and lost answers, the down switch, its public limits
and the counts a benchmark or a chaos test reads. Time is a hand-moved clock, but in one test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sentoffers.sandbox import (
    REGISTRATION_FLAWS,
    Flaw,
    MarketplaceConfig,
    SampleMarketplace,
    ServerThread,
    generate_catalog,
    serve_in_thread,
)
from sentoffers.sandbox.vtex_json import product_json, sku_context
from tests.support.sandbox import FakeClock, listing_from_sku

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SECRET = "s3cret"
GOOD: dict[str, Any] = {
    "sku": "2000001",
    "title": "Norvik Smartphone Pro 128GB",
    "description": "A phone. Plain text.",
    "brand": "Norvik",
    "category": "electronics.phones",
    "ean": "4006381333931",
    "images": ["http://img.example/1.jpg"],
    "dimensions": {"height": 1, "width": 8, "length": 16, "weight": 190},
}


class Market:
    """A marketplace served on loopback, with its clock and a logged-in client."""

    def __init__(self, *, real_time: bool = False, **config: Any):
        self.clock = FakeClock()
        options = {"client_secret": SECRET, "rate_limit_per_second": None, **config}
        clock = time.monotonic if real_time else self.clock
        self.marketplace = SampleMarketplace(MarketplaceConfig(**options), clock=clock)
        self.server: ServerThread = serve_in_thread(self.marketplace.app)
        self.http = httpx.Client(base_url=self.server.url)

    def login(self) -> dict[str, str]:
        response = self.http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "sandbox-connector",
                "client_secret": SECRET,
            },
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def close(self) -> None:
        self.http.close()
        self.server.stop()


@pytest.fixture
def market() -> Iterator[Market]:
    running = Market()
    try:
        yield running
    finally:
        running.close()


def _codes(response: httpx.Response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def test_a_token_comes_from_the_client_credentials_and_expires(market: Market) -> None:
    wrong = market.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-connector",
            "client_secret": "x",
        },
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    unsupported = market.http.post("/oauth/token", data={"grant_type": "password"})
    assert unsupported.status_code == 400
    as_json = market.http.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": "sandbox-connector",
            "client_secret": SECRET,
        },
    )
    basic = market.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-connector", SECRET),
    )
    assert as_json.status_code == basic.status_code == 200
    assert as_json.json()["token_type"] == "Bearer"
    assert as_json.json()["expires_in"] == 3600

    assert _codes(market.http.get("/categories")) == ["token.missing"]
    bogus = {"Authorization": "Bearer nope"}
    assert _codes(market.http.get("/categories", headers=bogus)) == ["token.invalid"]
    headers = market.login()
    assert market.http.get("/categories", headers=headers).status_code == 200
    market.clock.advance(3601)
    expired = market.http.get("/categories", headers=headers)
    assert expired.status_code == 401
    assert _codes(expired) == ["token.expired"]
    assert "invalid_token" in expired.headers["WWW-Authenticate"]
    assert market.http.get("/categories", headers=market.login()).status_code == 200


def test_a_product_breaking_every_rule_gets_every_error_at_once(market: Market) -> None:
    headers = market.login()
    bad = {
        "sku": "9",
        "title": "t" * 151,
        "description": "<p>" + "d" * 4000 + "</p>",
        "brand": "",
        "category": "vtex:70",
        "ean": "4006381333932",
        "images": [],
        "dimensions": {"height": 0, "width": 1, "length": 1},
    }
    response = market.http.post("/products", json=bad, headers=headers)
    assert response.status_code == 422
    assert set(_codes(response)) == {
        "title.too_long",
        "description.too_long",
        "description.html",
        "brand.required",
        "category.unknown",
        "ean.invalid",
        "images.required",
        "dimensions.height.required",
        "dimensions.weight.required",
    }
    assert all(set(error) == {"code", "field", "message"} for error in response.json()["errors"])
    not_json = market.http.post("/products", content=b"[1]", headers=headers)
    assert not_json.status_code == 400
    assert _codes(not_json) == ["body.invalid"]
    assert market.marketplace.state.products() == []


def test_a_listed_product_has_its_own_id_and_takes_price_stock_and_status(market: Market) -> None:
    headers = market.login()
    created = market.http.post("/products", json={**GOOD, "price": 99.9}, headers=headers)
    assert created.status_code == 201
    product_id = created.json()["id"]
    assert product_id.startswith("MKT-")
    assert product_id != GOOD["sku"]
    assert created.headers["Location"] == f"/products/{product_id}"
    again = market.http.post("/products", json=GOOD, headers=headers)
    assert again.status_code == 409
    assert product_id in again.json()["errors"][0]["message"]

    path = f"/products/{product_id}"
    price = market.http.put(
        f"{path}/price", json={"price": 89.9, "listPrice": 99.9}, headers=headers
    )
    assert price.status_code == 200
    assert price.json()["price"] == 89.9
    assert market.http.put(f"{path}/price", json={"price": -1}, headers=headers).status_code == 422
    stock = market.http.put(f"{path}/inventory", json={"quantity": 12}, headers=headers)
    assert stock.json()["stock"] == 12
    assert market.http.post(f"{path}/deactivate", headers=headers).json()["status"] == "inactive"
    updated = market.http.put(path, json={**GOOD, "title": "Renamed"}, headers=headers)
    assert updated.json()["title"] == "Renamed"
    assert updated.json()["status"] == "inactive"
    assert market.http.get(path, headers=headers).json()["version"] == 5
    found = market.http.get("/products", params={"sku": GOOD["sku"]}, headers=headers).json()
    assert [item["id"] for item in found["items"]] == [product_id]
    assert market.http.get("/products/MKT-999999", headers=headers).status_code == 404
    held = market.marketplace.state.find(GOOD["sku"])
    assert held is not None
    assert (held.stock, held.price, held.status) == (12, 89.9, "inactive")
    assert market.marketplace.state.requests("PUT /products/{id}/price") == 2


def test_over_the_per_second_limit_the_answer_is_429_with_retry_after() -> None:
    market = Market(rate_limit_per_second=3)
    try:
        headers = market.login()
        statuses = [market.http.get("/categories", headers=headers) for _ in range(5)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
        assert statuses[3].headers["Retry-After"] == "1"
        assert _codes(statuses[3]) == ["rate_limited"]
        market.clock.advance(1.0)
        assert market.http.get("/categories", headers=headers).status_code == 200
        assert market.marketplace.state.requests("GET /categories") == 6
    finally:
        market.close()


def test_a_failure_rate_answers_some_requests_with_5xx() -> None:
    market = Market(fault_seed=5)
    try:
        headers = market.login()
        market.marketplace.faults.failure_rate = 0.3
        statuses = [market.http.get("/categories", headers=headers).status_code for _ in range(40)]
        failures = [status for status in statuses if status != 200]
        assert 0 < len(failures) < 40
        assert set(failures) <= {500, 502, 503}
        market.marketplace.faults.failure_rate = 1.0
        assert market.http.get("/categories", headers=headers).status_code >= 500
    finally:
        market.close()


def test_the_down_switch_answers_503_until_the_period_ends(market: Market) -> None:
    headers = market.login()
    market.marketplace.faults.down_for(30)
    down = market.http.get("/categories", headers=headers)
    assert down.status_code == 503
    assert down.headers["Retry-After"] == "30"
    assert market.http.post("/oauth/token", data={}).status_code == 503
    market.clock.advance(29.5)
    assert market.http.get("/categories", headers=headers).headers["Retry-After"] == "1"
    market.clock.advance(1)
    assert market.http.get("/categories", headers=headers).status_code == 200
    assert market.http.post("/_sandbox/down", json={"seconds": 5}).status_code == 200
    assert market.http.get("/categories", headers=headers).status_code == 503
    assert market.http.post("/_sandbox/up").status_code == 200
    assert market.http.get("/categories", headers=headers).status_code == 200
    faults = market.http.put("/_sandbox/faults", json={"failureRate": 1}).json()
    assert faults["failureRate"] == 1
    assert market.http.get("/categories", headers=headers).status_code >= 500
    stats = market.http.get("/_sandbox/stats").json()
    assert stats["requests"]["GET /categories"] == 6


def test_a_lot_applies_each_item_on_its_own_up_to_the_maximum_size() -> None:
    market = Market(max_lot_size=4)
    try:
        headers = market.login()
        items = [
            {"operation": "upsert", **GOOD},
            {"operation": "upsert", **GOOD, "sku": "2000002", "ean": "bad"},
            {"operation": "price", "sku": "2000001", "price": 10.5},
            {"operation": "inventory", "sku": "404", "quantity": 1},
        ]
        response = market.http.post("/lots", json={"items": items}, headers=headers)
        assert response.status_code == 200
        lot = response.json()
        assert (lot["processed"], lot["failed"]) == (2, 2)
        assert [r["status"] for r in lot["results"]] == ["ok", "error", "ok", "error"]
        assert lot["results"][1]["errors"][0]["code"] == "ean.invalid"
        assert lot["results"][3]["httpStatus"] == 404
        assert market.http.get(f"/lots/{lot['lotId']}", headers=headers).json() == lot
        too_big = market.http.post("/lots", json={"items": items + items[:1]}, headers=headers)
        assert too_big.status_code == 413
        assert _codes(too_big) == ["lot.too_large"]
        empty = market.http.post("/lots", json={"items": []}, headers=headers)
        assert empty.status_code == 422
        held = market.marketplace.state.find("2000001")
        assert held is not None
        assert held.price == 10.5
        assert market.marketplace.state.requests("POST /lots") == 3
    finally:
        market.close()


def test_the_marketplace_refuses_the_generated_skus_with_registration_flaws() -> None:
    catalog = generate_catalog(31, 60, flaw_rate=0.5)
    market = Market(max_lot_size=100)
    try:
        items = []
        for sku_id in catalog.sku_ids():
            sku = catalog.sku(sku_id)
            product = catalog.product(sku.product_id) if sku else None
            assert sku is not None
            assert product is not None
            context = sku_context(sku, product, "http://127.0.0.1")
            items.append(
                {"operation": "upsert", **listing_from_sku(context, product_json(product))}
            )
        lot = market.http.post("/lots", json={"items": items}, headers=market.login()).json()
        for sku_id, result in zip(catalog.sku_ids(), lot["results"], strict=True):
            refused = bool(catalog.flaws(sku_id) & REGISTRATION_FLAWS)
            assert (result["status"] == "error") is refused, (sku_id, result)
        listed = {product.sku for product in market.marketplace.state.products()}
        trade_policy_only = {Flaw.OUTSIDE_TRADE_POLICY, Flaw.NO_PRICE, Flaw.INACTIVE_PRODUCT}
        assert any(catalog.flaws(int(sku)) & trade_policy_only for sku in listed)
    finally:
        market.close()


def _stats(market: Market) -> dict[str, Any]:
    response = market.http.get("/_sandbox/stats")
    assert response.status_code == 200
    stats: dict[str, Any] = response.json()
    return stats


def test_the_limits_are_public_documented_and_follow_the_faults_switch() -> None:
    market = Market(rate_limit_per_second=3, max_lot_size=4)
    try:
        assert "/limits" in market.http.get("/openapi.json").json()["paths"]
        answers = [market.http.get("/limits") for _ in range(6)]  # never throttled
        assert {answer.status_code for answer in answers} == {200}
        assert answers[0].json() == {"requestsPerSecond": 3, "maxLotSize": 4}

        market.http.put("/_sandbox/faults", json={"rateLimitPerSecond": 50, "maxLotSize": 2})
        assert market.http.get("/limits").json() == {"requestsPerSecond": 50, "maxLotSize": 2}
        items = [{"operation": "price", "sku": str(n), "price": 1} for n in range(3)]
        too_big = market.http.post("/lots", json={"items": items}, headers=market.login())
        assert too_big.status_code == 413
        market.http.put("/_sandbox/faults", json={"rateLimitPerSecond": 0, "failureRate": 1})
        assert market.http.get("/limits").json()["requestsPerSecond"] is None  # never failed
        market.marketplace.faults.down_for(5)
        assert market.http.get("/limits").status_code == 503
        assert market.marketplace.state.requests("GET /limits") == 9
    finally:
        market.close()


def test_the_stats_count_lot_items_conflicts_throttling_and_failures(market: Market) -> None:
    headers = market.login()
    items = [
        {"operation": "upsert", **GOOD},
        {"operation": "upsert", **GOOD, "sku": "2000002", "ean": "bad"},
        {"operation": "price", "sku": "2000001", "price": 10.5},
        {"operation": "inventory", "sku": "404", "quantity": 1},
        {"operation": "rename", "sku": "2000001"},
    ]
    assert market.http.post("/lots", json={"items": items}, headers=headers).status_code == 200
    assert market.http.post("/products", json=GOOD, headers=headers).status_code == 409

    market.http.put("/_sandbox/faults", json={"rateLimitPerSecond": 1})
    throttled = [market.http.get("/categories", headers=headers).status_code for _ in range(4)]
    assert throttled == [200, 429, 429, 429]
    market.clock.advance(1)
    market.http.put("/_sandbox/faults", json={"rateLimitPerSecond": 0, "failureRate": 1})
    failed = [market.http.get("/categories", headers=headers).status_code for _ in range(2)]
    assert all(status >= 500 for status in failed)

    stats = _stats(market)
    assert stats["products"] == 1
    assert stats["lots"] == 1
    assert stats["lotItems"] == {"upsert": 2, "price": 1, "inventory": 1, "invalid": 1}
    assert stats["lotItemErrors"] == {"upsert": 1, "inventory": 1, "invalid": 1}
    assert (stats["conflicts"], stats["throttled"], stats["injectedFailures"]) == (1, 3, 2)
    assert stats["duplicates"] == {}
    assert stats["requests"]["GET /categories"] == 6


def test_a_failed_lot_applies_nothing_and_a_lost_answer_applies_all_of_it(
    market: Market,
) -> None:
    headers = market.login()
    lot = {"items": [{"operation": "upsert", **GOOD, "price": 99.9, "stock": 3}]}
    market.http.put("/_sandbox/faults", json={"failureRate": 1})
    assert market.http.post("/lots", json=lot, headers=headers).status_code >= 500
    assert market.marketplace.state.find(GOOD["sku"]) is None
    assert (_stats(market)["lots"], _stats(market)["lotItems"]) == (0, {})

    market.http.put("/_sandbox/faults", json={"failureRate": 0, "rateLimitPerSecond": 1})
    assert market.http.get("/categories", headers=headers).status_code == 200  # the 1 allowed
    assert market.http.post("/lots", json=lot, headers=headers).status_code == 429
    assert market.marketplace.state.find(GOOD["sku"]) is None
    market.clock.advance(1)

    market.http.put("/_sandbox/faults", json={"rateLimitPerSecond": 0, "lostAnswerRate": 1})
    lost = market.http.post("/lots", json=lot, headers=headers)
    assert lost.status_code >= 500
    assert _codes(lost) == ["service.transient"]
    listed = market.marketplace.state.find(GOOD["sku"])
    assert listed is not None
    assert (listed.price, listed.stock) == (99.9, 3)

    market.http.put("/_sandbox/faults", json={"lostAnswerRate": 0})
    again = market.http.post("/lots", json=lot, headers=headers)  # the connector's retry
    assert again.json()["results"][0]["id"] == listed.id
    stats = _stats(market)
    assert (stats["products"], stats["lots"], stats["lostAnswers"]) == (1, 2, 1)
    assert (stats["injectedFailures"], stats["throttled"], stats["duplicates"]) == (1, 1, {})


def test_a_sku_listed_twice_is_a_conflict_or_when_let_in_a_duplicate() -> None:
    market = Market(unique_skus=False)
    try:
        headers = market.login()
        first = market.http.post("/products", json=GOOD, headers=headers)
        second = market.http.post("/products", json=GOOD, headers=headers)
        assert (first.status_code, second.status_code) == (201, 201)
        ids = [first.json()["id"], second.json()["id"]]
        found = market.http.get("/products", params={"sku": GOOD["sku"]}, headers=headers)
        assert [item["id"] for item in found.json()["items"]] == ids
        market.http.put("/_sandbox/faults", json={"failureRate": 1})  # the check still answers
        listed = market.http.get("/_sandbox/products").json()
        assert [(item["sku"], item["id"]) for item in listed["items"]] == [
            (GOOD["sku"], ids[0]),
            (GOOD["sku"], ids[1]),
        ]
        stats = _stats(market)
        assert stats["duplicates"] == {GOOD["sku"]: ids}
        assert (stats["conflicts"], stats["products"], stats["uniqueSkus"]) == (0, 2, False)
    finally:
        market.close()


def test_a_downtime_ends_by_itself_and_its_length_is_counted(market: Market) -> None:
    headers = market.login()
    assert market.http.post("/_sandbox/down", json={"seconds": 10}).status_code == 200
    assert market.http.get("/categories", headers=headers).status_code == 503
    market.clock.advance(4)
    stats = _stats(market)
    assert (stats["downSeconds"], stats["downForSeconds"]) == (4, 6)
    market.clock.advance(6)
    assert market.http.get("/categories", headers=headers).status_code == 200

    planned = market.http.post("/_sandbox/down", json={"seconds": 2, "after": 5}).json()
    assert (planned["downStartsIn"], planned["downForSeconds"]) == (5, None)
    assert market.http.get("/categories", headers=headers).status_code == 200
    market.clock.advance(5)
    assert market.http.get("/categories", headers=headers).status_code == 503
    market.clock.advance(2)
    assert market.http.get("/categories", headers=headers).status_code == 200

    market.http.post("/_sandbox/down", json={"seconds": 30})
    market.clock.advance(3)
    market.http.post("/_sandbox/up")
    stats = _stats(market)
    assert (stats["downSeconds"], stats["downPeriods"], stats["refusedWhileDown"]) == (15, 3, 2)


def test_a_downtime_ends_by_itself_on_the_real_clock() -> None:
    market = Market(real_time=True)
    try:
        headers = market.login()
        market.http.post("/_sandbox/down", json={"seconds": 0.3})
        assert market.http.get("/categories", headers=headers).status_code == 503
        time.sleep(0.4)
        assert market.http.get("/categories", headers=headers).status_code == 200
        assert 0.3 <= _stats(market)["downSeconds"] < 0.35
    finally:
        market.close()
