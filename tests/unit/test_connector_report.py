"""Reports go to the service in batches: one request for the drafts of every SKU in flight,
an interaction per draft with all its logs; a refused item fails alone, a batch the service
does not answer fails every draft in it (their work is tried again)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from sentoffers.client import AsyncSentOffersClient, RetryPolicy
from sentoffers.connector.report import Draft, Reporter, ReportNotTaken, batch_item
from sentoffers.domain.model import Context, Origin


def draft(sku: str, logs: int) -> Draft:
    written = Draft(sku, Origin.CATALOG, Context.SETUP, "tester")
    for n in range(logs - 1):
        written.info(f"step {n}")
    written.success("listed", None, {"price": "10"})
    return written


def test_a_draft_with_one_log_is_an_inline_item_and_with_several_a_logs_item() -> None:
    one = batch_item(draft("1", 1))
    assert (one["skuId"], one["type"], one["origin"], one["source"]) == (
        "1", "success", "catalog", "seller",
    )  # fmt: skip
    assert "logs" not in one
    several = batch_item(draft("2", 3))
    assert "type" not in several
    assert [entry["type"] for entry in several["logs"]] == ["information", "information", "success"]
    assert several["context"] == "setup"


def test_the_drafts_in_flight_share_one_batch_request_and_a_refused_item_fails_alone() -> None:
    bodies: list[list[dict[str, Any]]] = []

    def service(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)
        bodies.append(items)
        results = [
            {"index": i, "skuId": item["skuId"], "status": 400 if item["skuId"] == "bad" else 201,
             "errors": [{"code": "invalid", "message": "no"}] if item["skuId"] == "bad" else []}
            for i, item in enumerate(items)
        ]  # fmt: skip
        failed = sum(r["status"] != 201 for r in results)
        body = {"succeeded": len(items) - failed, "failed": failed, "items": results}
        return httpx.Response(200, json=body)

    async def run() -> list[bool]:
        client = AsyncSentOffersClient("http://svc", transport=httpx.MockTransport(service))
        reporter = Reporter(client, "sentoffers.sample-marketplace", batch_size=50, linger=0.02)
        try:
            return list(
                await asyncio.gather(
                    *(reporter.send("acme", draft(sku, 2)) for sku in ("1", "bad", "3"))
                )
            )
        finally:
            await reporter.aclose()
            await client.aclose()

    assert asyncio.run(run()) == [True, False, True]
    assert len(bodies) == 1
    assert [item["skuId"] for item in bodies[0]] == ["1", "bad", "3"]


def test_a_batch_the_service_does_not_answer_fails_every_draft_in_it() -> None:
    def service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"errors": [{"code": "down", "message": "down"}]})

    async def run() -> None:
        client = AsyncSentOffersClient(
            "http://svc", transport=httpx.MockTransport(service), retry=RetryPolicy(max_attempts=1)
        )
        reporter = Reporter(client, "sentoffers.sample-marketplace", batch_size=50)
        try:
            with pytest.raises(ReportNotTaken, match="503"):
                await reporter.send("acme", draft("1", 2))
        finally:
            await reporter.aclose()
            await client.aclose()

    asyncio.run(run())
