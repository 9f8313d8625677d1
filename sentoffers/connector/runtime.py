"""``Connector``: the pipeline, its work ledger, workers and periodic jobs, wired for one process.

The one place where the connector's concrete parts meet: HTTP clients, the VTEX clients of
each store, the marketplace adapter (with its rate limit, circuit breaker and lots), the SDK
client (reports in batches), the states store, the work ledger and the workers that drain
its queues.

A notification acknowledged by the affiliate endpoint is a row of the work ledger, due in
the queue of its context, before the answer goes out. With ``workers_in_process`` on (the
default: one process on a SQLite database), this process also drains the queues, woken at
once by the work it accepts. Otherwise ``sentoffers connector worker`` processes do it
(``Connector(..., serve_queues=True)`` is what they run), sharing the ledger through a
PostgreSQL database (``database_url``) and finding new work by polling it
(``poll_seconds``); the marketplace's rate limit and circuit breaker are shared through
Redis (``redis_url``) when it is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

import httpx

from sentoffers.client import AsyncSentOffersClient, RetryPolicy, SentOffersCredentials
from sentoffers.connector import decisions as decide
from sentoffers.connector.guard import Breaker, RateLimit
from sentoffers.connector.http import CountingTransport, Sender
from sentoffers.connector.ledger import Claimed, WorkLedger
from sentoffers.connector.marketplace import Marketplace, MarketplaceAdapter
from sentoffers.connector.model import Job, Notification, SkuRecord, SkuState, Store
from sentoffers.connector.pipeline import Pipeline
from sentoffers.connector.queues import QueueWorkers, Settled
from sentoffers.connector.report import Reporter, ReportNotTaken
from sentoffers.connector.settings import ConnectorSettings
from sentoffers.connector.store import StateStore
from sentoffers.connector.sweep import sweep_inventory
from sentoffers.connector.vtex import VtexClient, VtexError
from sentoffers.domain.ids import channel_id
from sentoffers.observability.periodic import every

__all__ = ["Connector", "UnknownStore"]

log = logging.getLogger("sentoffers.connector")

MARKETPLACE_RETRIES = RetryPolicy(max_attempts=6, total_timeout=60)


class UnknownStore(LookupError):
    """A notification for an account (or affiliate) the connector does not serve."""


class Connector:
    """The connector of ``settings``, sending to ``marketplace``.

    ``marketplace`` is an adapter ready to use, or an adapter class (``MarketplaceAdapter``)
    that the connector builds from ``settings`` with a sender of its own: retries, the
    marketplace's rate limit and a circuit breaker (``sentoffers.sandbox.adapter`` is the
    worked example).

    ``on_settled`` is told of every SKU that reaches a state where it stays (synced, error,
    unavailable, waiting for its category, given up).
    """

    def __init__(
        self,
        settings: ConnectorSettings,
        marketplace: Marketplace | MarketplaceAdapter,
        *,
        on_settled: Callable[[SkuRecord], None] | None = None,
        serve_queues: bool | None = None,
    ) -> None:
        self.settings = settings
        self.stores: dict[str, Store] = {store.account: store for store in settings.all_stores()}
        if not self.stores:
            raise ValueError(
                "no store is configured: set SENTOFFERS_CONNECTOR_ACCOUNT and its VTEX URL and "
                "key, or SENTOFFERS_CONNECTOR_STORES"
            )
        self.serve_queues = settings.workers_in_process if serve_queues is None else serve_queues
        timeout = httpx.Timeout(settings.timeout_seconds, connect=5.0)
        # As many kept alive as may be open: 64 workers at once would otherwise close and
        # reopen connections past the kept ones on every round of calls.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self.requests: dict[str, dict[str, int]] = {}
        self._http = [
            httpx.AsyncClient(
                timeout=timeout, transport=CountingTransport("vtex", self.requests, limits=limits)
            ),
            httpx.AsyncClient(
                timeout=timeout,
                transport=CountingTransport("marketplace", self.requests, limits=limits),
            ),
        ]
        vtex_sender = Sender(self._http[0])
        self.states = StateStore(settings.database_url)
        self.ledger = WorkLedger(self.states.db, lease_seconds=settings.lease_seconds)
        self.breaker: Breaker | None = None
        self.pace: RateLimit | None = None
        if isinstance(marketplace, type):  # an adapter class, built here
            adapter = cast("MarketplaceAdapter", marketplace)
            sender = self._marketplace_sender(adapter.name, settings.redis_url)
            self.marketplace = adapter.from_settings(settings, sender)
        else:
            self.marketplace = cast("Marketplace", marketplace)
        self.feed_id = channel_id(self.marketplace.vendor, self.marketplace.name)
        credentials = None
        if settings.service_app_key and settings.service_app_token:
            credentials = SentOffersCredentials(
                app_key=settings.service_app_key, app_token=settings.service_app_token
            )
        self.client = AsyncSentOffersClient(
            settings.service_url,
            credentials=credentials,
            transport=CountingTransport("service", self.requests),
        )
        self.reporter = Reporter(self.client, self.feed_id, batch_size=settings.report_batch_size)
        self.vtex = {
            account: VtexClient(store, vtex_sender, simulation_lot=settings.simulation_lot_size)
            for account, store in self.stores.items()
        }
        self.retry_policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            backoff_base=settings.retry_base_seconds,
            backoff_max=settings.retry_max_seconds,
            total_timeout=float("inf"),
        )
        self.pipeline = Pipeline(
            stores=self.stores,
            vtex=self.vtex,
            marketplace=self.marketplace,
            states=self.states,
            reporter=self.reporter,
            agent=settings.agent,
            on_settled=on_settled,
            retry_policy=self.retry_policy,
            breaker_events=lambda since: self.ledger.breaker_events(since),
        )
        catalog = settings.workers
        others = max(4, catalog // 4)
        self.workers = QueueWorkers(
            self.ledger,
            self._run,
            self.stores,
            concurrency={"catalog": catalog, "price": others, "inventory": others},
            max_attempts=settings.max_attempts,
            # Alone on a SQLite ledger, whatever is left running was this process's own.
            recover_all=self.states.db.sqlite and settings.workers_in_process,
            poll_seconds=settings.poll_seconds,
        )
        self._tasks: list[asyncio.Task[Any]] = []

    def _marketplace_sender(self, name: str, shared: str | None) -> Sender:
        """A sender to the marketplace ``name``: retried, held to its rate limit, behind a
        circuit breaker (shared through Redis when ``shared`` names one)."""
        settings = self.settings
        self.breaker = Breaker(
            name,
            fail_max=settings.breaker_failures,
            reset_timeout=settings.breaker_reset_seconds,
            redis_url=shared,
            on_change=self.ledger.record_breaker_event,
        )
        per_second = settings.marketplace_requests_per_second
        if per_second:
            self.pace = RateLimit(per_second, key=name, storage_url=shared or "memory://")
        retries = replace(
            MARKETPLACE_RETRIES, max_retry_after=settings.marketplace_max_retry_after_seconds
        )
        return Sender(self._http[1], retries, pacer=self.pace, breaker=self.breaker)

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
        if self.serve_queues:
            self._tasks = [
                asyncio.create_task(self.workers.serve()),
                asyncio.create_task(
                    every(
                        self.settings.sweep_interval_seconds,
                        "inventory sweep",
                        self.sweep_inventory,
                    )
                ),
            ]

    async def stop(self) -> None:
        """Stop the workers and jobs (a job in flight stays in the ledger: the next start, or
        another worker once its lease runs out, takes it again), then close the connections."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.marketplace.aclose()
        for vtex in self.vtex.values():
            await vtex.aclose()
        await self.reporter.aclose()
        await self.client.aclose()
        for http in self._http:
            await http.aclose()
        self.states.close()

    # Work --------------------------------------------------------------------------------------

    def accept(self, notification: Notification) -> None:
        """Record and queue a notification of a store served; ``UnknownStore`` otherwise."""
        store = self.stores.get(notification.account)
        if store is None:
            raise UnknownStore(f"the connector does not serve the store {notification.account!r}")
        affiliate = notification.affiliate_id
        if affiliate is not None and affiliate != store.affiliate_id:
            raise UnknownStore(
                f"the store {store.account} is connected as affiliate {store.affiliate_id}, "
                f"not {affiliate}"
            )
        self.put(Job(notification))

    def put(self, job: Job) -> None:
        """Record a job in the ledger; unless it joined work already there, its queue's
        workers in this process look at once."""
        routed = self.ledger.accept(job.notification, job.cause)
        if routed is not None:
            self.workers.wake(routed)

    async def _run(self, claimed: Claimed) -> Settled:
        """Run one job the workers claimed; say whether and when to try it again."""
        job = replace(claimed.job, previous_attempt_at=claimed.previous_attempt_at)
        try:
            record = await self.pipeline.handle(job)
        except ReportNotTaken as untold:
            # The marketplace side is done (and safe to repeat); the service must hear it.
            delay = decide.contingency_delay(job.attempt + 1, random.random(), self.retry_policy)
            return Settled(delay or self.settings.retry_base_seconds, str(untold))
        if record.state == SkuState.GIVEN_UP:
            return Settled(None, record.last_response or "given up", give_up=True)
        if record.state == SkuState.CONTINGENCY:
            delay = record.retry_in
            if delay is None:
                delay = (
                    decide.contingency_delay(record.attempts, random.random(), self.retry_policy)
                    or self.settings.retry_base_seconds
                )
            if self.breaker is not None:
                delay = max(delay, self.breaker.open_for())
            return Settled(delay, record.last_response or "waiting")
        return Settled()

    def pending(self) -> int:
        """Jobs queued or running."""
        return self.ledger.pending()

    async def wait_idle(self, poll: float = 0.05) -> None:
        """Return once no job is queued or running."""
        while self.ledger.pending():
            await asyncio.sleep(poll)

    def replay_dead_letters(self, account: str | None = None, sku_id: str | None = None) -> int:
        """Put dead letters back in their queues, their attempts counted from zero."""
        routed = self.ledger.replay(account, sku_id)
        for item in routed:
            self.workers.wake(item)
        return len(routed)

    async def sweep_inventory(self) -> int:
        """Queue a stock update for every listed SKU whose stock moved in VTEX."""
        queued = 0
        for vtex in self.vtex.values():
            queued += await sweep_inventory(self.states, vtex, self)
        return queued

    def map_category(self, account: str, category_id: int, category: str) -> int:
        """Map a VTEX category to the marketplace's; the SKUs waiting for it are queued."""
        released = self.states.map_category(account, category_id, category)
        for sku_id in released:
            self.put(Job(Notification(sku_id, account, sku_modified=True), cause="approval"))
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
                self.put(Job(everything, cause="load"))
            queued += len(ids)
            if len(ids) < 100:
                return queued
            page += 1

    def status(self) -> dict[str, Any]:
        """SKUs per state, the work in the ledger and its queues, the breaker."""
        work = self.ledger.counts()
        breaker: dict[str, Any] | None = None
        if self.breaker is not None:
            breaker = {
                "state": self.breaker.state,
                "openFor": round(self.breaker.open_for(), 1),
                "events": [
                    {"at": event.at.isoformat(), "to": event.after, "text": event.text}
                    for event in self.ledger.breaker_events(limit=10)
                ],
            }
        return {
            "feedId": self.feed_id,
            "stores": sorted(self.stores),
            "states": self.states.counts(),
            "pending": self.ledger.pending(),
            "running": self.workers.running,
            "work": work,
            "deadLetters": sum(work.get("dead", {}).values()),
            "queues": self.ledger.queues(self.stores),
            "breaker": breaker,
            "awaitingCategory": {a: len(self.states.waiting(a)) for a in sorted(self.stores)},
            "requests": {api: dict(sorted(seen.items())) for api, seen in self.requests.items()},
        }
