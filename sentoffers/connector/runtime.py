"""``Connector``: the pipeline, its queue, workers and periodic jobs, wired for one process.

The one place where the connector's concrete parts meet: HTTP clients, the VTEX clients of
each store, the marketplace adapter, the SDK client and the states store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sentoffers.channels.service import channel_id
from sentoffers.client import AsyncSentOffersClient, RetryPolicy, SentOffersCredentials
from sentoffers.connector.http import Pacer, Sender
from sentoffers.connector.marketplace import Marketplace
from sentoffers.connector.marketplaces.sample import SampleMarketplaceAdapter
from sentoffers.connector.model import Job, Notification, SkuRecord, Store
from sentoffers.connector.pipeline import Pipeline
from sentoffers.connector.queue import InProcessQueue, run_workers
from sentoffers.connector.report import Reporter
from sentoffers.connector.settings import ConnectorSettings
from sentoffers.connector.store import StateStore
from sentoffers.connector.sweep import sweep_inventory
from sentoffers.connector.vtex import VtexClient, VtexError

__all__ = ["Connector", "UnknownStore"]

log = logging.getLogger("sentoffers.connector")

MARKETPLACE_RETRIES = RetryPolicy(max_attempts=6, max_retry_after=10, total_timeout=60)


class UnknownStore(LookupError):
    """A notification for an account (or affiliate) the connector does not serve."""


class Connector:
    """The connector of ``settings``; ``marketplace`` replaces the sample adapter.

    ``on_settled`` is told of every SKU that reaches a state where it stays (synced, error,
    unavailable, waiting for its category, given up).
    """

    def __init__(
        self,
        settings: ConnectorSettings,
        *,
        marketplace: Marketplace | None = None,
        on_settled: Callable[[SkuRecord], None] | None = None,
    ) -> None:
        self.settings = settings
        self.stores: dict[str, Store] = {store.account: store for store in settings.all_stores()}
        if not self.stores:
            raise ValueError(
                "no store is configured: set SENTOFFERS_CONNECTOR_ACCOUNT and its VTEX URL and "
                "key, or SENTOFFERS_CONNECTOR_STORES"
            )
        timeout = httpx.Timeout(settings.timeout_seconds, connect=5.0)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self._http = [
            httpx.AsyncClient(timeout=timeout, limits=limits),
            httpx.AsyncClient(timeout=timeout, limits=limits),
        ]
        vtex_sender = Sender(self._http[0])
        if marketplace is None:
            if not settings.marketplace_client_secret:
                raise ValueError("SENTOFFERS_CONNECTOR_MARKETPLACE_CLIENT_SECRET is not set")
            pacer = Pacer(settings.marketplace_requests_per_second)
            marketplace = SampleMarketplaceAdapter(
                settings.marketplace_url,
                settings.marketplace_client_id,
                settings.marketplace_client_secret,
                sender=Sender(self._http[1], MARKETPLACE_RETRIES, pacer=pacer),
            )
        self.marketplace = marketplace
        self.feed_id = channel_id(marketplace.vendor, marketplace.name)
        self.states = StateStore(settings.database_url)
        credentials = None
        if settings.service_app_key and settings.service_app_token:
            credentials = SentOffersCredentials(
                app_key=settings.service_app_key, app_token=settings.service_app_token
            )
        self.client = AsyncSentOffersClient(settings.service_url, credentials=credentials)
        self.reporter = Reporter(self.client, self.feed_id)
        self.vtex = {
            account: VtexClient(store, vtex_sender) for account, store in self.stores.items()
        }
        self.pipeline = Pipeline(
            stores=self.stores,
            vtex=self.vtex,
            marketplace=marketplace,
            states=self.states,
            reporter=self.reporter,
            agent=settings.agent,
            on_settled=on_settled,
        )
        self.queue = InProcessQueue()
        self._tasks: list[asyncio.Task[Any]] = []

    # Lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Register the channel and feeds, then start the workers and the periodic jobs."""
        for store in self.stores.values():
            try:
                await self.reporter.ensure_feed(
                    store, self.marketplace.vendor, self.marketplace.name, self.marketplace.logo
                )
            except Exception as error:  # the workers still run; reports say what fails
                log.error("could not set up feed %s of %s: %s", self.feed_id, store.account, error)
        self._tasks = [
            asyncio.create_task(
                run_workers(self.queue, self.pipeline.handle, self.settings.workers)
            ),
            asyncio.create_task(
                self._every(self.settings.contingency_interval_seconds, self.replay_contingency)
            ),
            asyncio.create_task(
                self._every(self.settings.sweep_interval_seconds, self.sweep_inventory)
            ),
        ]

    async def stop(self) -> None:
        """Stop the workers and jobs (a job in flight is dropped: VTEX notifies again, the
        sweep and the service's idle close cover the rest), then close the connections."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.marketplace.aclose()
        await self.client.aclose()
        for http in self._http:
            await http.aclose()
        self.states.close()

    async def _every(self, seconds: float, action: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await action()
            except Exception:
                log.exception("a periodic job of the connector failed")

    # Work --------------------------------------------------------------------------------------

    def accept(self, notification: Notification) -> None:
        """Queue a notification of a store served; ``UnknownStore`` otherwise."""
        store = self.stores.get(notification.account)
        if store is None:
            raise UnknownStore(f"the connector does not serve the store {notification.account!r}")
        affiliate = notification.affiliate_id
        if affiliate is not None and affiliate != store.affiliate_id:
            raise UnknownStore(
                f"the store {store.account} is connected as affiliate {store.affiliate_id}, "
                f"not {affiliate}"
            )
        self.queue.put(Job(notification))

    async def wait_idle(self) -> None:
        """Return once no job is waiting or running."""
        await self.queue.wait_idle()

    async def replay_contingency(self, *, everything: bool = False) -> int:
        """Queue the parked notifications that are due (all of them with ``everything``)."""
        from datetime import UTC, datetime

        jobs = self.states.take_due(None if everything else datetime.now(UTC), limit=1000)
        for job in jobs:
            if job.notification.account in self.stores:
                self.queue.put(job)
        return len(jobs)

    async def sweep_inventory(self) -> int:
        """Queue a stock update for every listed SKU whose stock moved in VTEX."""
        queued = 0
        for vtex in self.vtex.values():
            queued += await sweep_inventory(self.states, vtex, self.queue)
        return queued

    def map_category(self, account: str, category_id: int, category: str) -> int:
        """Map a VTEX category to the marketplace's; the SKUs waiting for it are queued."""
        released = self.states.map_category(account, category_id, category)
        for sku_id in released:
            self.queue.put(Job(Notification(sku_id, account, sku_modified=True), cause="approval"))
        return len(released)

    async def load_all(self, account: str) -> int:
        """Queue every SKU of a store's trade policy for registration (a full load without
        waiting for VTEX's notifications)."""
        vtex, page, queued = self.vtex[account], 1, 0
        while True:
            try:
                ids, _ = await vtex.sku_ids(page, 100)
            except VtexError as failed:
                log.warning("the full load of %s stopped on page %d: %s", account, page, failed)
                return queued
            for sku_id in ids:
                everything = Notification(
                    sku_id, account, sku_modified=True, price_modified=True, stock_modified=True
                )
                self.queue.put(Job(everything, cause="load"))
            queued += len(ids)
            if len(ids) < 100:
                return queued
            page += 1

    def status(self) -> dict[str, Any]:
        """SKUs per state, jobs pending, parked notifications, SKUs awaiting a category."""
        return {
            "feedId": self.feed_id,
            "stores": sorted(self.stores),
            "states": self.states.counts(),
            "pending": self.queue.pending(),
            "contingency": len(self.states.parked()),
            "awaitingCategory": {a: len(self.states.waiting(a)) for a in sorted(self.stores)},
        }
