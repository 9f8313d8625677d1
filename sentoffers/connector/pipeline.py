"""The steps of "How to keep prices updated" for one notification, with what they report.

``Pipeline.handle(job)`` runs, for one SKU:

1. the marketplace authentication (refused or unreachable: logged, and the notification
   parked in the contingency queue);
2. a. the store from ``an``; b. the route (``decisions.plan_notification``): removed from
   the affiliate, inactive, register or update, price and stock; c. the SKU's details;
   d. the product active; e. the trade policy; f. the marketplace's registration rules;
   g. the category mapping (unmapped: the approval queue); h. the fulfillment simulation
   for price, sales price and stock; then the sending, keeping both ids;
3. the report: an interaction per origin (catalog, price, inventory) with information and
   warning logs carrying each call as evidence, and a success or a failure log with every
   error and its code; then the states table.

The decisions are ``sentoffers.connector.decisions``; the I/O is the ``VtexClient``, the
``Marketplace`` adapter, the ``StateStore`` and the ``Reporter``.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sentoffers.client import KnownCode, RetryPolicy, evidence
from sentoffers.connector import decisions as decide
from sentoffers.connector.decisions import Plan, Route
from sentoffers.connector.guard import BreakerEvent
from sentoffers.connector.marketplace import (
    ListingGone,
    Marketplace,
    MarketplaceAuthFailed,
    MarketplaceError,
    MarketplaceRefused,
    MarketplaceUnavailable,
    Sent,
)
from sentoffers.connector.model import (
    Exchange,
    Job,
    Listing,
    Notification,
    OfferValues,
    ReportedError,
    SkuRecord,
    SkuState,
    Store,
    VtexProduct,
)
from sentoffers.connector.report import Draft, Reporter, Run, answer_line, describe_simulation
from sentoffers.connector.store import StateStore
from sentoffers.connector.updates import update_values
from sentoffers.connector.vtex import (
    VtexAuthRefused,
    VtexClient,
    VtexError,
    VtexNotFound,
    VtexUnavailable,
)
from sentoffers.domain.model import Context, Origin

__all__ = ["Contingency", "Pipeline"]

log = logging.getLogger("sentoffers.connector")


class Contingency(Exception):
    """Stop here and park the notification: ``reason``, with the failure to report."""

    def __init__(
        self, reason: str, exchange: Exchange | None, problem: ReportedError | None = None
    ):
        super().__init__(reason)
        self.reason, self.exchange, self.problem = reason, exchange, problem


def _flags(n: Notification) -> str:
    names = [
        name
        for name, on in (
            ("HasStockKeepingUnitModified", n.sku_modified),
            ("PriceModified", n.price_modified),
            ("StockModified", n.stock_modified),
        )
        if on
    ]
    return ", ".join(names) or "no change flag"


class Pipeline:
    """One notification at a time, for the stores and the marketplace it is given."""

    def __init__(
        self,
        *,
        stores: Mapping[str, Store],
        vtex: Mapping[str, VtexClient],
        marketplace: Marketplace,
        states: StateStore,
        reporter: Reporter,
        agent: str = "sentoffers-connector",
        jitter: Callable[[], float] = random.random,
        on_settled: Callable[[SkuRecord], None] | None = None,
        retry_policy: RetryPolicy = decide.CONTINGENCY_POLICY,
        breaker_events: Callable[[datetime], list[BreakerEvent]] | None = None,
    ) -> None:
        self.stores, self.vtex, self.marketplace = stores, vtex, marketplace
        self.states, self.reporter, self.agent = states, reporter, agent
        self._jitter = jitter
        self.on_settled = on_settled
        self.retry_policy = retry_policy
        self.breaker_events = breaker_events

    async def handle(self, job: Job) -> SkuRecord:
        """Process one notification; report it; record it in the states table."""
        n = job.notification
        store = self.stores.get(n.account)  # step 2a
        if store is None:
            log.warning("no store %r: notification of SKU %s dropped", n.account, n.sku_id)
            return SkuRecord(n.account, n.sku_id, SkuState.REJECTED)
        record = self.states.get(n.account, n.sku_id) or SkuRecord(
            n.account, n.sku_id, SkuState.PROCESSING, product_id=n.product_id
        )
        plan = decide.plan_notification(n, record)
        first = Origin.CATALOG
        if plan.route == Route.UPDATE:
            first = Origin.PRICE if plan.price else Origin.INVENTORY
        run = Run(n.sku_id, self.agent, plan.context, first)
        started = datetime.now(UTC)
        try:
            record = await self._steps(run, store, job, plan, record)
        except Contingency as parked:
            record = self._park(run, job, record, parked)
        except VtexNotFound as missing:
            problem = ReportedError(
                KnownCode.CTLG_005, "001", f"{missing}: the SKU cannot be sent."
            )
            run.current.failure(str(missing), [problem], missing.exchange)
            record = replace(record, state=SkuState.ERROR, error_codes=(problem.full_code,))
        except VtexError as odd:
            problem = ReportedError(
                KnownCode.NTMAP_001, None, str(odd), external_code="vtex.unexpected"
            )
            run.current.failure(str(odd), [problem], odd.exchange)
            record = replace(record, state=SkuState.ERROR, error_codes=(problem.full_code,))
        except MarketplaceError as refused:
            # Whatever the marketplace said past the steps' own handling is still reported
            # and kept: a notification never ends without a trace.
            if isinstance(refused, MarketplaceRefused) and refused.problems:
                problems = list(refused.problems)
            elif isinstance(refused, MarketplaceAuthFailed):
                problems = [refused.problem]
            else:
                problems = [
                    ReportedError(
                        KnownCode.NTMAP_001, None, str(refused), external_code="marketplace"
                    )
                ]
            run.current.failure(str(refused), problems, refused.exchange)
            codes = tuple(problem.full_code for problem in problems)
            record = replace(record, state=SkuState.ERROR, error_codes=codes)
        self._breaker_warnings(run, job, record, started)
        reported = [await self.reporter.send(n.account, draft) for draft in run.drafts]
        if not all(reported):
            log.warning(
                "the service did not take every report of SKU %s (%s); its state keeps it "
                "for the next notification or sweep", n.sku_id, n.account,
            )  # fmt: skip
        record = self.states.save(record)
        if self.on_settled is not None and record.state.settled:
            self.on_settled(record)
        return record

    async def _steps(
        self, run: Run, store: Store, job: Job, plan: Plan, record: SkuRecord
    ) -> SkuRecord:
        try:
            await self.marketplace.authenticate()  # step 1
            if plan.route in (Route.REMOVE, Route.DEACTIVATE):
                why = "VTEX notified that the product is inactive (IsActive false)"
                if plan.route == Route.REMOVE:
                    why = (
                        f"VTEX took the SKU out of the trade policy of affiliate "
                        f"{store.affiliate_id} (HasStockKeepingUnitRemovedFromAffiliate)"
                    )
                described = await self._describe(store, record)
                draft = run.begin(Origin.CATALOG)
                return await self._block(draft, record, why, job.notification, described)
            if plan.route == Route.REGISTER:
                return await self._register(run, store, job.notification, plan, record)
            return await self._update(run, store, job.notification, plan, record)
        except MarketplaceAuthFailed as refused:
            raise Contingency(
                "the marketplace refused the connector's credentials", refused.exchange,
                refused.problem,
            ) from None  # fmt: skip
        except MarketplaceUnavailable as down:
            raise Contingency(f"{down}", down.exchange) from None
        except VtexUnavailable as down:
            raise Contingency(f"{down}", down.exchange) from None
        except VtexAuthRefused as refused:
            problem = ReportedError(
                KnownCode.AUTH_001, "003",
                "VTEX refused the store's AppKey/AppToken: check them in the connector's settings.",
                external_code=f"vtex.{refused.exchange.status}", closable_origins=tuple(Origin),
            )  # fmt: skip
            raise Contingency(str(refused), refused.exchange, problem) from None

    def _breaker_warnings(self, run: Run, job: Job, record: SkuRecord, started: datetime) -> None:
        """The circuit breaker's openings and closings that held this SKU back, as warnings:
        those during this attempt when it has to wait, and those since its last attempt when
        it was a retry."""
        if self.breaker_events is None:
            return
        waiting = record.state in (SkuState.CONTINGENCY, SkuState.GIVEN_UP)
        if not waiting and job.previous_attempt_at is None:
            return
        since = job.previous_attempt_at if job.previous_attempt_at is not None else started
        for event in self.breaker_events(min(since, started)):
            run.current.warning(event.text)

    def _park(self, run: Run, job: Job, record: SkuRecord, parked: Contingency) -> SkuRecord:
        """Log the failure (or the warning) and say when to try again (``retry_in``; the
        ledger makes the job due again then), or give up."""
        attempt = job.attempt + 1
        delay = decide.contingency_delay(attempt, self._jitter(), self.retry_policy)
        if delay is None:
            outcome = f"given up after {attempt} attempts; the next notification tries again"
            state = SkuState.GIVEN_UP
        else:
            outcome = f"the notification waits in the contingency queue ({delay:.0f} s)"
            state = SkuState.CONTINGENCY
        description = f"{parked.reason[:1].upper()}{parked.reason[1:]}: {outcome}"
        if parked.problem is not None:
            run.current.failure(description, [parked.problem], parked.exchange)
        else:
            run.current.warning(description, parked.exchange)
        codes = (parked.problem.full_code,) if parked.problem else record.error_codes
        return replace(
            record, state=state, attempts=attempt, last_response=f"{parked.reason}; {outcome}",
            error_codes=codes, retry_in=delay,
        )  # fmt: skip

    # Routes ----------------------------------------------------------------------------------

    async def _describe(self, store: Store, record: SkuRecord) -> dict[str, Any]:
        """What describes a SKU met for the first time (best effort: one VTEX call)."""
        if record.state != SkuState.PROCESSING or record.marketplace_id is not None:
            return {}
        try:
            sku, _ = await self.vtex[store.account].sku(record.sku_id)
        except VtexError:
            return {}
        return decide.sku_description(sku.raw)

    async def _block(
        self,
        draft: Draft,
        record: SkuRecord,
        why: str,
        notified: Notification | None = None,
        description: dict[str, Any] | None = None,
    ) -> SkuRecord:
        """Zero the inventory and block the listing, if any; the offer is Unavailable."""
        if record.state == SkuState.AWAITING_CATEGORY:
            self.states.forget_hold(record.account, record.sku_id)
        listing_id = record.marketplace_id
        if listing_id is not None and record.active_in_marketplace:
            try:
                zeroed = await self.marketplace.update_inventory(
                    listing_id, 0, sku_id=record.sku_id
                )
                draft.retries(zeroed, "The marketplace")
                draft.info(f"Inventory of {listing_id} zeroed in the marketplace", zeroed)
                blocked = await self.marketplace.deactivate(listing_id, sku_id=record.sku_id)
            except ListingGone as gone:
                gone_data = decide.unavailable_data(zeroed=False, description=description)
                draft.info(f"{why}; the marketplace no longer has {listing_id}", gone.exchange,
                           gone_data)  # fmt: skip
                return replace(record, state=SkuState.UNAVAILABLE, marketplace_id=None,
                               last_response=why, error_codes=())  # fmt: skip
            draft.retries(blocked, "The marketplace")
            draft.success(
                f"{why}: {listing_id} blocked in the marketplace, its inventory zeroed",
                blocked, decide.unavailable_data(zeroed=True, description=description),
            )  # fmt: skip
            record = replace(record, active_in_marketplace=False, inventory=0)
        else:
            proof = None
            if notified is not None:
                body = json.dumps(notified.as_json(), ensure_ascii=False)
                proof = evidence(f"POST /api/notification/\n{body}", "200 OK")
            draft.info(
                f"{why}: not sent to the marketplace",
                data=decide.unavailable_data(zeroed=False, description=description), proof=proof,
            )  # fmt: skip
        return replace(
            record, state=SkuState.UNAVAILABLE, last_response=why, error_codes=(), attempts=0
        )

    def _category(self, account: str, product: VtexProduct, listing_name: str | None) -> str | None:
        mapped = self.states.category_overrides(account).get(product.category_id or -1)
        return mapped or self.marketplace.map_category(product.category_id, listing_name)

    async def _register(
        self, run: Run, store: Store, n: Notification, plan: Plan, record: SkuRecord
    ) -> SkuRecord:
        """Steps 2c to 2h, then send the product with its price and stock."""
        draft = run.begin(Origin.CATALOG)
        vtex = self.vtex[store.account]
        sku, read = await vtex.sku(n.sku_id)  # step 2c
        draft.retries(read, "VTEX Catalog")
        draft.info(
            f"Step 2c: SKU {n.sku_id} of store {store.account} read from the VTEX Catalog "
            f"(notified: {_flags(n)})", read,
        )  # fmt: skip
        product, read = await vtex.product(sku.product_id or n.product_id or "")  # step 2d
        draft.retries(read, "VTEX Catalog")
        active = decide.is_active(sku, product)
        draft.info(
            f"Step 2d: product {product.id} is {'active' if active else 'inactive'}; step 2e: "
            f"SalesChannels {sorted(sku.sales_channels)}, trade policy {store.sales_channel}", read,
        )  # fmt: skip
        record = replace(record, product_id=product.id, category_id=product.category_id)
        described = decide.sku_description(sku.raw)
        if not active:
            why = "The product or SKU is inactive in VTEX"
            return await self._block(draft, record, why, None, described)
        if not decide.is_in_trade_policy(sku, store.sales_channel):  # step 2e
            why = f"The SKU is not in trade policy {store.sales_channel} of the integration"
            return await self._block(draft, record, why, None, described)
        names = sku.raw.get("ProductCategories") or {}
        category_name = names.get(str(product.category_id)) if isinstance(names, Mapping) else None
        category = self._category(store.account, product, category_name)  # step 2g
        listing = self.marketplace.build_listing(sku, product, category)
        rule_problems = self.marketplace.check_listing(listing)  # step 2f
        simulation, read = await vtex.simulate_one(sku.id)  # step 2h
        values = simulation.values.get(sku.id)
        reason = simulation.reasons.get(sku.id, "")
        problems = decide.registration_problems(rule_problems, listing, values, reason)
        draft.retries(read, "VTEX fulfillment simulation")
        draft.info(describe_simulation(values, reason, store.sales_channel), read)
        if problems or values is None:
            return self._refused(draft, record, listing, product.id, problems)
        if record.state == SkuState.AWAITING_CATEGORY:
            self.states.forget_hold(record.account, record.sku_id)
        try:
            sent = await self._send(draft, listing, values, record)
        except MarketplaceRefused as refused:
            return self._refused(draft, record, listing, product.id, refused.problems, refused)
        return self._listed(run, store, plan, record, listing, product.id, values, sent)

    async def _send(
        self, draft: Draft, listing: Listing, values: OfferValues, record: SkuRecord
    ) -> Sent:
        """Send the listing (again, if the marketplace lost it) and unblock it if blocked."""
        try:
            sent = await self.marketplace.send_product(listing, values, record.marketplace_id)
        except ListingGone as gone:
            draft.info(
                f"The marketplace no longer has {record.marketplace_id}: listing the SKU again",
                gone.exchange,
            )
            sent = await self.marketplace.send_product(listing, values, None)
        draft.retries(sent.exchange, "The marketplace")
        if not sent.created and not record.active_in_marketplace:
            unblocked = await self.marketplace.activate(sent.marketplace_id, sku_id=record.sku_id)
            draft.info(f"{sent.marketplace_id} unblocked in the marketplace", unblocked)
        return sent

    def _refused(
        self,
        draft: Draft,
        record: SkuRecord,
        listing: Listing,
        product_id: str,
        problems: list[ReportedError],
        refused: MarketplaceRefused | None = None,
    ) -> SkuRecord:
        """One failure log with every problem; an unmapped category waits for its mapping."""
        who = "The marketplace refused the SKU" if refused else "The SKU was not sent"
        description = f"{who}: {len(problems)} problem(s) to fix: " + "; ".join(
            problem.description for problem in problems
        )
        exchange = refused.exchange if refused else None
        draft.failure(description, problems, exchange, decide.describe_data(listing, product_id))
        state = decide.state_after_failure(problems)
        if state == SkuState.AWAITING_CATEGORY:
            self.states.hold(record.account, record.sku_id, listing.category_id,
                             listing.category_name)  # fmt: skip
        elif record.state == SkuState.AWAITING_CATEGORY:
            self.states.forget_hold(record.account, record.sku_id)
        return replace(
            record, state=state, error_codes=tuple(p.full_code for p in problems),
            last_response=answer_line(exchange) or description,
        )  # fmt: skip

    def _listed(
        self,
        run: Run,
        store: Store,
        plan: Plan,
        record: SkuRecord,
        listing: Listing,
        product_id: str,
        values: OfferValues,
        sent: Sent,
    ) -> SkuRecord:
        """The catalog success, then the price and stock that went with the listing."""
        done = "Listed" if sent.created else "Updated"
        defaults = (
            f"; filled with the marketplace's defaults: {', '.join(listing.defaults)}"
            if listing.defaults
            else ""
        )
        run.current.success(
            f"{done} in the marketplace as {sent.marketplace_id} (VTEX SKU {listing.sku_id})"
            f"{defaults}",
            sent.exchange,
            decide.catalog_data(listing, sent.marketplace_id, product_id),
        )
        if plan.price or values.selling_price != record.selling_price:
            run.begin(Origin.PRICE).success(
                f"Price {decide.money(values.selling_price)} {store.currency} sent with "
                f"{sent.marketplace_id}", sent.exchange, decide.price_data(values, store.currency),
            )  # fmt: skip
        if plan.inventory or values.inventory != record.inventory:
            run.begin(Origin.INVENTORY).success(
                f"Inventory {values.inventory} sent with {sent.marketplace_id}",
                sent.exchange, decide.inventory_data(values.inventory),
            )  # fmt: skip
        return replace(
            record, state=SkuState.SYNCED, marketplace_id=sent.marketplace_id,
            active_in_marketplace=True, error_codes=(), attempts=0, price=values.price,
            selling_price=values.selling_price, inventory=values.inventory,
            last_response=answer_line(sent.exchange),
        )  # fmt: skip

    async def _update(
        self, run: Run, store: Store, n: Notification, plan: Plan, record: SkuRecord
    ) -> SkuRecord:
        """Only price and/or stock changed (``updates.update_values``)."""
        vtex = self.vtex[store.account]
        try:
            return await update_values(self.marketplace, vtex, run, store, n, plan, record)
        except ListingGone as gone:
            run.current.info(
                f"The marketplace no longer has {record.marketplace_id}: listing it again",
                gone.exchange,
            )
            again = Plan(Route.REGISTER, Context.SETUP, True, True)
            return await self._register(run, store, n, again, replace(record, marketplace_id=None))
