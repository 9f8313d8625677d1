"""The connector's parts without a network: evidence, the sample adapter's mapping and
errors, the retrying sender (on an httpx mock transport) and the work queue."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from sentoffers.client import KnownCode, RetryPolicy
from sentoffers.connector.evidence import as_curl, exchange_evidence, response_text
from sentoffers.connector.guard import Breaker, BreakerEvent, RateLimit
from sentoffers.connector.http import Sender
from sentoffers.connector.model import Exchange, VtexProduct, VtexSku
from sentoffers.connector.settings import ConnectorSettings
from sentoffers.sandbox import generate_catalog
from sentoffers.sandbox.adapter import (
    DEFAULT_BRAND,
    KNOWN_ERRORS,
    SampleMarketplaceAdapter,
    classify,
)
from sentoffers.sandbox.vtex_json import product_json, sku_context


def test_evidence_shows_the_call_as_curl_with_every_secret_masked():
    request = httpx.Request(
        "POST",
        "http://market/oauth/token?access_token=leak",
        headers={"Authorization": "Bearer abc.def", "X-VTEX-API-AppToken": "T0K3N",
                 "X-VTEX-API-AppKey": "vtexappkey-acme", "Content-Type": "application/json"},
        content=json.dumps({"client_secret": "s3cret", "client_id": "me"}).encode(),
    )  # fmt: skip
    curl = as_curl(request)
    assert curl.startswith("curl -X POST 'http://market/oauth/token?access_token=***'")
    assert "-H 'Authorization: Bearer ***'" in curl
    assert "-H 'X-VTEX-API-AppToken: ***'" in curl
    assert "vtexappkey-acme" in curl  # a key names the caller; only tokens are secret
    assert '"client_secret": "***"' in curl
    assert '"client_id": "me"' in curl
    for secret in ("abc.def", "T0K3N", "s3cret", "leak"):
        assert secret not in curl
    answer = httpx.Response(
        429, headers={"Retry-After": "1"}, json={"access_token": "fresh", "expires_in": 60}
    )
    text = response_text(answer)
    assert text.startswith("HTTP 429 Too Many Requests\nRetry-After: 1")
    assert "fresh" not in text
    assert '"expires_in": 60' in text


def test_evidence_of_a_call_without_an_answer_says_why():
    request = httpx.Request("GET", "http://vtex/api/x")
    proof = exchange_evidence(Exchange(request, None, "ConnectError: refused"))
    assert proof.request == "curl -X GET http://vtex/api/x"
    assert proof.response == "no answer: ConnectError: refused"


def _sku(**changes: Any) -> tuple[VtexSku, VtexProduct]:
    catalog = generate_catalog(5, 3, flaw_rate=0)
    sku = catalog.sku(catalog.sku_ids()[0])
    assert sku is not None
    product = catalog.product(sku.product_id)
    assert product is not None
    raw = {**sku_context(sku, product, "http://img"), **changes}
    return (
        VtexSku(str(sku.id), str(product.id), True, True, frozenset({1}), raw),
        VtexProduct(str(product.id), True, product.category_id, product_json(product)),
    )


def test_the_sample_listing_follows_the_field_mapping_and_fills_defaults_vtex_lacks():
    adapter = SampleMarketplaceAdapter("http://m", "id", "s", sender=None)  # type: ignore[arg-type]
    sku, product = _sku(BrandName="", ProductDescription="", NameComplete="x " * 100)
    listing = adapter.build_listing(sku, product, "electronics.phones")
    fields = listing.fields
    assert fields["brand"] == DEFAULT_BRAND
    assert fields["description"] == product.raw["Description"]  # Get Product's, then the title
    assert len(fields["title"]) <= 150
    assert not fields["title"].endswith(" ")
    assert fields["ean"] == sku.raw["AlternateIds"]["Ean"]
    assert fields["images"] == [image["ImageUrl"] for image in sku.raw["Images"]]
    assert set(fields["dimensions"]) == {"height", "width", "length", "weight"}
    assert listing.defaults == ("brand",)
    assert adapter.check_listing(listing) == []


def test_every_sample_marketplace_error_maps_to_a_known_code_with_a_suffix():
    for code, (base, suffix, origins, action) in KNOWN_ERRORS.items():
        problem = classify({"code": code, "field": code.split(".")[0], "message": "no"})
        assert (problem.code, problem.suffix, problem.external_code) == (base, suffix, code)
        assert origins
        assert action
    assert classify({"code": "description.html"}).full_code == "CTLG-006-002"
    assert classify({"code": "ean.invalid"}).full_code == "CTLG-010-001"


def test_an_error_the_adapter_does_not_know_is_unmapped_with_the_marketplace_s_code():
    problem = classify({"code": "color.banned", "message": "Red is sold out forever"})
    assert problem.code == KnownCode.NTMAP_001
    assert (problem.external_code, problem.description) == (
        "color.banned",
        "Red is sold out forever",
    )


def test_the_sender_waits_out_429_as_retry_after_says_and_keeps_every_attempt():
    answers = iter([429, 503, 200])
    slept: list[float] = []

    def reply(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        headers = {"Retry-After": "2"} if status == 429 else {}
        return httpx.Response(status, headers=headers, json={})

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def run() -> Exchange:
        async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as http:
            sender = Sender(http, sleep=sleep, jitter=lambda: 1.0)
            return await sender.send(httpx.Request("PUT", "http://m/products/1/price"))

    exchange = asyncio.run(run())
    assert exchange.status == 200
    assert [retry.status for retry in exchange.retries] == [429, 503]
    assert slept[0] == 2.0  # Retry-After
    assert "429" in exchange_evidence(exchange).response  # type: ignore[operator]


def test_a_post_that_may_have_been_done_is_not_sent_again_after_a_5xx():
    calls = 0

    def reply(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(502)

    async def run() -> Exchange:
        async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as http:
            sender = Sender(http, sleep=lambda _s: asyncio.sleep(0))
            return await sender.send(httpx.Request("POST", "http://m/orders"))

    assert asyncio.run(run()).status == 502
    assert calls == 1


def test_the_rate_limit_lets_the_declared_requests_per_second_through_and_holds_the_rest():
    async def run() -> list[float]:
        limit = RateLimit(10)
        started = time.monotonic()
        starts = []
        for _ in range(13):
            await limit.wait()
            starts.append(time.monotonic() - started)
        return starts

    starts = asyncio.run(run())
    assert max(starts[:10]) < 0.5
    assert min(starts[10:]) >= 0.9  # the window had to move on


def test_a_fractional_rate_becomes_whole_requests_over_whole_seconds():
    assert (RateLimit(2.5).item.amount, RateLimit(2.5).item.multiples) == (5, 2)
    assert (RateLimit(20).item.amount, RateLimit(20).item.multiples) == (20, 1)


def test_the_breaker_opens_after_calls_in_a_row_go_unanswered_and_then_sends_nothing():
    events: list[BreakerEvent] = []
    calls = 0

    def reply(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503)

    async def run() -> list[Exchange]:
        breaker = Breaker("Sample", fail_max=3, reset_timeout=60, on_change=events.append)
        async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as http:
            sender = Sender(http, RetryPolicy(max_attempts=1), sleep=_no_wait, breaker=breaker)
            return [await sender.send(httpx.Request("GET", "http://m/x")) for _ in range(5)]

    answers = asyncio.run(run())
    assert calls == 3  # the fourth and fifth were never sent
    assert [a.status for a in answers] == [503, 503, 503, None, None]
    assert answers[3].error is not None
    assert "circuit breaker of Sample is open" in answers[3].error
    assert [(e.before, e.after) for e in events] == [("closed", "open")]
    assert "opened" in events[0].text
    assert "3 calls in a row" in events[0].text


def test_the_breaker_closes_again_once_a_trial_call_is_answered():
    events: list[BreakerEvent] = []
    status = [503]

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status[0])

    async def run() -> Exchange:
        breaker = Breaker("Sample", fail_max=1, reset_timeout=0.05, on_change=events.append)
        async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as http:
            sender = Sender(http, RetryPolicy(max_attempts=1), sleep=_no_wait, breaker=breaker)
            await sender.send(httpx.Request("GET", "http://m/x"))
            assert breaker.open_for() > 0
            await asyncio.sleep(0.08)
            status[0] = 200
            return await sender.send(httpx.Request("GET", "http://m/x"))

    assert asyncio.run(run()).status == 200
    assert [e.after for e in events] == ["open", "half-open", "closed"]
    assert "closed" in events[-1].text


async def _no_wait(_seconds: float) -> None:
    return None


def test_the_known_errors_table_lists_every_code_the_sample_adapter_reports():
    page = Path(__file__).resolve().parents[2] / "docs" / "sample-marketplace.md"
    text = page.read_text(encoding="utf-8")
    for code, (base, suffix, _origins, action) in KNOWN_ERRORS.items():
        assert f"`{base}-{suffix}`" in text, code
        assert f"`{code}`" in text, code
        assert action in text, code


def test_an_old_queue_url_is_refused_naming_what_replaced_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SENTOFFERS_CONNECTOR_QUEUE_URL", "redis://127.0.0.1:6379/0")
    with pytest.raises(ValidationError, match="SENTOFFERS_CONNECTOR_DATABASE_URL"):
        ConnectorSettings()
