"""Group commit of unified calls: written together, answered one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from sentoffers.contract.interactions import UnifiedCreate
from sentoffers.domain.errors import NotFound
from sentoffers.server.features.interactions import writer as writer_module
from sentoffers.server.features.interactions.writer import UnifiedWriter
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, FEED, Api, Store


def body(**extra: Any) -> UnifiedCreate:
    return UnifiedCreate.model_validate(
        {"source": "seller", "origin": "price", "context": "ongoing", "type": "success", **extra}
    )


def run_concurrently(db: Database, calls: list[tuple[str, str, UnifiedCreate]]) -> list[Any]:
    async def main() -> list[Any]:
        writer = UnifiedWriter(db, lambda: {"PRICE-001", "NTMAP-001"})
        try:
            return await asyncio.gather(
                *(writer.submit(ACCOUNT, feed, sku, b) for feed, sku, b in calls),
                return_exceptions=True,
            )
        finally:
            await writer.stop()

    return asyncio.run(main())


def test_concurrent_calls_each_get_their_own_result(ready: Api, store: Store, db: Database) -> None:
    calls = [(FEED, str(n % 50), body(data={"price": str(n)})) for n in range(300)]
    results = run_concurrently(db, calls)
    assert all(not isinstance(r, BaseException) for r in results)
    assert len({r.interaction.id for r in results}) == 300
    assert {r.offer_status.value for r in results} == {"synced"}
    # Calls on one SKU are applied in arrival order: the last price wins.
    assert store.offer("7")["price"] == "257"


def test_a_refused_feed_fails_only_its_own_calls(ready: Api, db: Database) -> None:
    calls = [(FEED, "1", body()), ("vtex.nowhere", "1", body()), (FEED, "2", body())]
    ok, missing, other = run_concurrently(db, calls)
    assert isinstance(missing, NotFound)
    assert ok.interaction.sku_id == "1"
    assert other.interaction.sku_id == "2"


def test_a_failing_shared_write_is_retried_call_by_call(
    ready: Api, store: Store, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[..., Any] = writer_module.write_unified

    def sometimes_broken(conn: Any, account: str, feed: str, items: Any, *args: Any) -> Any:
        if any(sku == "poison" for sku, _ in items):
            raise RuntimeError("storage refused the row")
        return real(conn, account, feed, items, *args)

    monkeypatch.setattr(writer_module, "write_unified", sometimes_broken)
    calls = [(FEED, "1", body()), (FEED, "poison", body()), (FEED, "2", body())]
    first, poisoned, second = run_concurrently(db, calls)
    assert isinstance(poisoned, RuntimeError)
    assert (first.interaction.sku_id, second.interaction.sku_id) == ("1", "2")
    assert store.status("1") == store.status("2") == "synced"


def test_unified_calls_over_http_on_a_deactivated_feed_are_conflicts(ready: Api) -> None:
    ready.request("DELETE", f"/feeds/{FEED}")
    response = ready.unified(
        "1", {"source": "seller", "origin": "price", "context": "ongoing", "type": "success"}
    )
    assert response.status_code == 409
