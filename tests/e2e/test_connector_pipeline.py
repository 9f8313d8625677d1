"""The pipeline against the sandbox over loopback HTTP, step by step, with the reports kept
in memory instead of sent (the service is in test_connector_flow.py).

Each test starts a sandbox (no broadcaster: the tests hand the pipeline its notifications)
and a pipeline with its own states database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sentoffers.client import RetryPolicy
from sentoffers.connector import (
    Connector,
    ConnectorSettings,
    Draft,
    Job,
    Notification,
    Pipeline,
    Reporter,
    Sender,
    SkuRecord,
    SkuState,
    StateStore,
    Store,
    StoreSettings,
    VtexClient,
    create_app,
)
from sentoffers.connector.guard import Breaker, BreakerEvent
from sentoffers.connector.http import CountingTransport
from sentoffers.connector.sweep import sweep_inventory
from sentoffers.domain.model import LogType, Origin
from sentoffers.sandbox import Flaw, MarketplaceConfig, MarketplaceRules, Sandbox, start_sandbox
from sentoffers.sandbox.adapter import SampleMarketplaceAdapter

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

ACCOUNT = "sandbox"


class Recorder(Reporter):
    """Keeps the drafts instead of sending them."""

    def __init__(self) -> None:
        self.sent: list[Draft] = []

    async def send(self, account: str, draft: Draft) -> bool:
        self.sent.append(draft)
        return True

    def of(self, sku_id: str, origin: Origin | None = None) -> list[Draft]:
        return [d for d in self.sent if d.sku_id == sku_id and origin in (None, d.origin)]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    market = MarketplaceConfig(rate_limit_per_second=None, client_secret="s3cret")
    with start_sandbox(seed=11, sku_count=40, flaw_rate=0.6, marketplace=market) as running:
        yield running


@dataclass
class Harness:
    sandbox: Sandbox
    pipeline: Pipeline
    recorder: Recorder
    states: StateStore
    adapter: SampleMarketplaceAdapter
    vtex: VtexClient

    def clean(self, count: int = 1) -> list[str]:
        catalog = self.sandbox.catalog
        found = [str(s) for s in catalog.sku_ids() if not catalog.flaws(s)]
        return found[:count]

    def flawed(self, flaw: Flaw) -> str:
        catalog = self.sandbox.catalog
        return next(str(s) for s in catalog.sku_ids() if flaw in catalog.flaws(s))

    async def handle(self, sku_id: str, **flags: Any) -> SkuRecord:
        flags = flags or {"sku_modified": True, "price_modified": True, "stock_modified": True}
        return await self.pipeline.handle(Job(Notification(sku_id, ACCOUNT, **flags)))

    def listed(self, sku_id: str) -> Any:
        return self.sandbox.marketplace.state.find(sku_id)


@asynccontextmanager
async def harness(
    sandbox: Sandbox,
    tmp_path: Path,
    *,
    secret: str = "s3cret",
    lot_size: int | None = None,
    breaker: Breaker | None = None,
    simulation_lot: int = 0,
    counts: dict[str, dict[str, int]] | None = None,
) -> AsyncIterator[Harness]:
    config = sandbox.config
    store = Store(
        ACCOUNT, sandbox.account_url(), config.app_key, config.app_token, config.affiliate_id
    )
    counted = CountingTransport("vtex", counts if counts is not None else {})
    async with (
        httpx.AsyncClient(transport=counted) as vtex_http,
        httpx.AsyncClient() as market_http,
    ):
        policy = RetryPolicy(max_attempts=4, max_retry_after=5, total_timeout=20)
        adapter = SampleMarketplaceAdapter(
            sandbox.marketplace_url, config.marketplace.client_id, secret,
            sender=Sender(market_http, policy, breaker=breaker), lot_size=lot_size,
            lot_linger=0.05,
        )  # fmt: skip
        states = StateStore(f"sqlite:///{tmp_path / 'connector.db'}")
        recorder = Recorder()
        vtex = VtexClient(store, Sender(vtex_http), simulation_lot=simulation_lot)
        pipeline = Pipeline(
            stores={ACCOUNT: store}, vtex={ACCOUNT: vtex}, marketplace=adapter, states=states,
            reporter=recorder,
        )  # fmt: skip
        try:
            yield Harness(sandbox, pipeline, recorder, states, adapter, vtex)
        finally:
            await adapter.aclose()
            await vtex.aclose()
            states.close()


def kinds(draft: Draft) -> list[LogType]:
    return [LogType(entry.type) for entry in draft.logs]


def codes(draft: Draft) -> list[str]:
    return [error.code for entry in draft.logs for error in entry.errors]


class Collected:
    """An intake that keeps the jobs put into it."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def put(self, job: Job) -> None:
        self.jobs.append(job)


def test_step_1_a_failed_marketplace_authentication_is_logged_and_the_work_tried_again_later(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path, secret="wrong") as h:
            sku = h.clean()[0]
            record = await h.handle(sku)
            assert record.state == SkuState.CONTINGENCY
            (draft,) = h.recorder.of(sku)
            assert kinds(draft) == [LogType.FAILURE]
            assert codes(draft) == ["AUTH-001-001"]
            proof = draft.logs[0].evidence
            assert proof is not None
            assert "client_secret=%2A%2A%2A" in (proof.request or "")
            assert "wrong" not in (proof.request or "")
            assert record.attempts == 1
            assert record.retry_in is not None
            assert record.retry_in >= 2.5  # at least half the first backoff (5 s)
            assert "waits in the contingency queue" in (record.last_response or "")
            kept = h.states.get(ACCOUNT, sku)
            assert kept is not None
            assert (kept.state, kept.attempts) == (SkuState.CONTINGENCY, 1)
            assert h.listed(sku) is None
        async with harness(sandbox, tmp_path) as h:  # the secret fixed: the retry lists it
            job = Job(Notification(sku, ACCOUNT, sku_modified=True), attempt=1)
            assert (await h.pipeline.handle(job)).state == SkuState.SYNCED

    asyncio.run(run())


def test_step_1_an_expired_token_is_renewed_and_the_call_repeated(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            sku = h.clean()[0]
            assert (await h.handle(sku)).state == SkuState.SYNCED
            sandbox.marketplace.tokens.expire_all()
            sandbox.catalog.set_price(int(sku), 4321)
            assert (await h.handle(sku, price_modified=True)).state == SkuState.SYNCED
            assert h.listed(sku).price == 43.21
            assert sandbox.marketplace.state.requests("POST /oauth/token") == 2

    asyncio.run(run())


def test_a_marketplace_that_does_not_answer_leaves_the_work_to_be_tried_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            sku = h.clean()[0]
            await h.adapter.authenticate()
            sandbox.marketplace.faults.down_for(60)
            record = await h.handle(sku)
            assert record.state == SkuState.CONTINGENCY
            (draft,) = h.recorder.of(sku)
            assert kinds(draft)[-1] == LogType.WARNING
            assert not codes(draft)
            assert "503" in (draft.logs[-1].evidence.response or "")  # type: ignore[union-attr]
            assert record.retry_in is not None
            sandbox.marketplace.faults.up()
            job = Job(Notification(sku, ACCOUNT, sku_modified=True), attempt=record.attempts)
            assert (await h.pipeline.handle(job)).state == SkuState.SYNCED
            assert h.listed(sku) is not None

    asyncio.run(run())


def test_a_throttled_marketplace_is_waited_out_and_each_wait_is_a_warning(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            skus = h.clean(4)
            await h.adapter.authenticate()
            sandbox.marketplace.limiter.per_second = 2
            records = await asyncio.gather(*(h.handle(sku) for sku in skus))
            assert [r.state for r in records] == [SkuState.SYNCED] * 4
            warnings = [
                entry.description
                for draft in h.recorder.sent
                for entry in draft.logs
                if entry.type == LogType.WARNING
            ]
            assert warnings
            assert all("429" in text for text in warnings)

    asyncio.run(run())


def test_step_2c_a_sku_vtex_does_not_know_is_an_error(sandbox: Sandbox, tmp_path: Path) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            record = await h.handle("9999999")
            assert (record.state, record.error_codes) == (SkuState.ERROR, ("CTLG-005-001",))
            (draft,) = h.recorder.of("9999999")
            assert "404" in (draft.logs[-1].evidence.response or "")  # type: ignore[union-attr]

    asyncio.run(run())


def test_an_inactive_product_zeroes_inventory_and_blocks_the_offer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            sku = h.clean()[0]
            await h.handle(sku)
            product = sandbox.catalog.sku(int(sku)).product_id  # type: ignore[union-attr]
            sandbox.catalog.deactivate_product(product)
            record = await h.handle(sku, is_active=False, sku_modified=True)
            assert (record.state, record.inventory, record.active_in_marketplace) == (
                SkuState.UNAVAILABLE, 0, False,
            )  # fmt: skip
            listing = h.listed(sku)
            assert (listing.status, listing.stock) == ("inactive", 0)
            draft = h.recorder.of(sku)[-1]
            assert kinds(draft) == [LogType.INFORMATION, LogType.SUCCESS]
            data = draft.logs[-1].data
            assert data is not None
            assert (data.status, data.inventory) == ("unavailable", "0")
            # Active again: registered again and unblocked.
            sandbox.catalog.set_product_active(product, True)
            assert (await h.handle(sku, sku_modified=True)).state == SkuState.SYNCED
            assert h.listed(sku).status == "active"

    asyncio.run(run())


def test_a_sku_removed_from_the_affiliate_is_reported_unavailable(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            sku, outside = h.clean()[0], h.flawed(Flaw.OUTSIDE_TRADE_POLICY)
            await h.handle(sku)
            sandbox.catalog.remove_from_trade_policy(int(sku))
            record = await h.handle(sku, removed_from_affiliate=True)
            assert record.state == SkuState.UNAVAILABLE
            assert h.listed(sku).status == "inactive"
            # Never listed: nothing to block.
            assert (await h.handle(outside)).state == SkuState.UNAVAILABLE
            draft = h.recorder.of(outside)[-1]
            assert kinds(draft)[-1] == LogType.INFORMATION
            assert draft.result == "notification"
            assert draft.logs[-1].data.status == "unavailable"  # type: ignore[union-attr]
            assert h.listed(outside) is None

    asyncio.run(run())


def test_every_registration_error_is_reported_at_once_and_nothing_is_sent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            sku = h.flawed(Flaw.MISSING_DIMENSIONS)
            sandbox.catalog.update_sku(int(sku), ean="12345", images=[])
            record = await h.handle(sku)
            assert record.state == SkuState.ERROR
            (draft,) = h.recorder.of(sku)
            failures = [entry for entry in draft.logs if entry.type == LogType.FAILURE]
            assert len(failures) == 1
            found = {code.rsplit("-", 1)[0] for code in codes(draft)}
            assert found == {"CTLG-007", "CTLG-008", "CTLG-010"}
            assert h.listed(sku) is None

    asyncio.run(run())


def test_a_marketplace_refusal_reports_its_errors_with_the_raw_answer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            h.adapter.rules = MarketplaceRules(max_description=100_000)  # a rule it missed
            sku = h.flawed(Flaw.LONG_DESCRIPTION)
            record = await h.handle(sku)
            assert (record.state, record.error_codes) == (SkuState.ERROR, ("CTLG-006-001",))
            failure = h.recorder.of(sku)[-1].logs[-1]
            assert failure.evidence is not None
            assert (failure.evidence.response or "").startswith("HTTP 422")
            assert "description.too_long" in (failure.evidence.response or "")

    asyncio.run(run())


def test_an_unmapped_category_waits_in_the_approval_queue_until_it_is_mapped(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            sku = h.flawed(Flaw.UNMAPPED_CATEGORY)
            record = await h.handle(sku)
            assert (record.state, record.error_codes) == (
                SkuState.AWAITING_CATEGORY, ("CTLG-004-001",),
            )  # fmt: skip
            ((waiting, category_id, _name),) = h.states.waiting(ACCOUNT)
            assert waiting == sku
            assert category_id == record.category_id
            assert category_id is not None
            released = h.states.map_category(ACCOUNT, category_id, "home.kitchen")
            assert sku in released
            assert h.states.waiting(ACCOUNT) == []
            assert (await h.handle(sku, sku_modified=True)).state == SkuState.SYNCED
            assert h.listed(sku).category == "home.kitchen"

    asyncio.run(run())


def test_both_ids_are_stored_when_they_differ(sandbox: Sandbox, tmp_path: Path) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            sku = h.clean()[0]
            record = await h.handle(sku)
            assert record.marketplace_id == h.listed(sku).id != sku
            stored = h.states.get(ACCOUNT, sku)
            assert stored is not None
            assert stored.marketplace_id == record.marketplace_id
            success = h.recorder.of(sku, Origin.CATALOG)[-1].logs[-1]
            assert success.data is not None
            assert success.data.external_offer_id == record.marketplace_id

    asyncio.run(run())


def test_the_inventory_sweep_updates_stock_that_moved_without_a_notification(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path) as h:
            first, second = h.clean(2)
            await h.handle(first)
            await h.handle(second)
            sandbox.catalog.set_stock(int(second), 3)  # no broadcaster: no notification
            queue = Collected()
            assert await sweep_inventory(h.states, h.vtex, queue) == 1
            [job] = queue.jobs
            assert job.key == (ACCOUNT, second)
            assert job.cause == "sweep"
            assert (await h.pipeline.handle(job)).inventory == 3
            draft = h.recorder.of(second, Origin.INVENTORY)[-1]
            assert draft.logs[-1].data.inventory == "3"  # type: ignore[union-attr]
            assert h.listed(second).stock == 3

    asyncio.run(run())


def test_step_2a_the_store_comes_from_an_and_others_are_refused(tmp_path: Path) -> None:
    store = StoreSettings(
        account="acme", vtex_base_url="http://127.0.0.1:9/{account}", app_key="k", app_token="t",
        affiliate_id="SBX",
    )  # fmt: skip
    settings = ConnectorSettings(
        stores=[store], marketplace_client_secret="s", database_url=f"sqlite:///{tmp_path / 'c.db'}"
    )
    connector = Connector(settings, SampleMarketplaceAdapter)
    client = TestClient(create_app(connector))  # no lifespan: nothing is processed
    try:
        accepted = client.post("/api/notification/", json={"IdSku": "7", "An": "acme"})
        assert accepted.status_code == 200
        assert connector.pending() == 1
        for body in (
            {"IdSku": "7", "An": "other"},
            {"IdSku": "7", "An": "acme", "IdAffiliate": "X"},
        ):
            refused = client.post("/api/notification/", json=body)
            assert refused.status_code == 404, refused.text
        unreadable = client.post("/api/notification/", json={"IsActive": "perhaps"})
        assert unreadable.status_code == 400
        assert len(unreadable.json()["errors"]) == 3
        assert client.get("/api/connector/status").status_code == 403  # no admin token set
        assert connector.pending() == 1
    finally:
        connector.states.close()


def test_lots_group_the_skus_in_flight_up_to_the_marketplace_lot_size(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path, lot_size=5) as h:
            skus = h.clean(12)
            records = await asyncio.gather(*(h.handle(sku) for sku in skus))
            # The marketplace answers 413 to a lot over 5 items: all synced says none was.
            assert {r.state for r in records} == {SkuState.SYNCED}
            assert 3 <= h.adapter.lots_sent < len(skus)  # lots, not one call per SKU
            lots = h.adapter.lots_sent
            for sku, record in zip(skus, records, strict=True):
                assert h.listed(sku).id == record.marketplace_id
                [catalog] = h.recorder.of(sku, Origin.CATALOG)
                evidence = catalog.logs[-1].evidence
                assert evidence is not None
                assert evidence.request is not None
                # The evidence is this SKU's item of the lot, not the whole lot.
                assert evidence.request.startswith("curl -X POST")
                assert "/lots" in evidence.request
                assert f'"sku": "{sku}"' in evidence.request
                others = [o for o in skus if o != sku]
                assert not any(f'"sku": "{o}"' in evidence.request for o in others)
            # Price and stock go in lots too, keyed by the SKU the marketplace has.
            first = skus[0]
            sandbox.catalog.set_stock(int(first), 7)
            updated = await h.handle(first, stock_modified=True)
            assert updated.inventory == 7
            assert h.listed(first).stock == 7
            assert h.adapter.lots_sent == lots + 1

    asyncio.run(run())


def test_a_lot_the_marketplace_does_not_answer_leaves_every_sku_in_it_waiting(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def run() -> None:
        async with harness(sandbox, tmp_path, lot_size=10) as h:
            await h.adapter.authenticate()
            sandbox.marketplace.faults.down_for(30)
            skus = h.clean(3)
            records = await asyncio.gather(*(h.handle(sku) for sku in skus))
            assert {r.state for r in records} == {SkuState.CONTINGENCY}
            assert all(r.retry_in is not None for r in records)
            assert all(h.listed(sku) is None for sku in skus)
            sandbox.marketplace.faults.up()

    asyncio.run(run())


def test_the_breaker_opening_and_closing_are_warnings_on_the_skus_they_held_back(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    events: list[BreakerEvent] = []
    breaker = Breaker("Sample Marketplace", fail_max=1, reset_timeout=0.2, on_change=events.append)

    def since(when: datetime) -> list[BreakerEvent]:
        return [event for event in events if event.at >= when]

    async def run() -> None:
        async with harness(sandbox, tmp_path, breaker=breaker) as h:
            h.pipeline.breaker_events = since
            await h.adapter.authenticate()
            sandbox.marketplace.faults.down_for(30)
            sku = h.clean(1)[0]
            held = await h.handle(sku)
            assert held.state == SkuState.CONTINGENCY
            texts = [entry.description for d in h.recorder.of(sku) for entry in d.logs]
            assert any("circuit breaker of Sample Marketplace opened" in t for t in texts)
            sandbox.marketplace.faults.up()
            await asyncio.sleep(0.25)
            h.recorder.sent.clear()
            job = Job(
                Notification(sku, ACCOUNT, sku_modified=True), attempt=1,
                previous_attempt_at=events[0].at,
            )  # fmt: skip
            resumed = await h.pipeline.handle(job)
            assert resumed.state == SkuState.SYNCED
            texts = [entry.description for d in h.recorder.of(sku) for entry in d.logs]
            assert any("circuit breaker of Sample Marketplace closed" in t for t in texts)

    asyncio.run(run())


def test_the_simulations_of_the_skus_in_flight_share_a_call_and_each_keeps_its_own_part(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    counts: dict[str, dict[str, int]] = {}

    async def run() -> None:
        async with harness(sandbox, tmp_path, simulation_lot=20, counts=counts) as h:
            skus = h.clean(8)
            records = await asyncio.gather(*(h.handle(sku) for sku in skus))
            assert {r.state for r in records} == {SkuState.SYNCED}
            for sku, record in zip(skus, records, strict=True):
                assert h.listed(sku).price == record.selling_price / 100  # type: ignore[operator]
                [catalog] = h.recorder.of(sku, Origin.CATALOG)
                [simulated] = [e for e in catalog.logs if "Step 2h" in e.description]
                assert simulated.evidence is not None
                for other in skus:
                    mentioned = f'"id": "{other}"' in (simulated.evidence.request or "")
                    assert mentioned == (other == sku)

    asyncio.run(run())
    [simulations] = [n for call, n in counts["vtex"].items() if "orderForms/simulation" in call]
    assert simulations < 8
