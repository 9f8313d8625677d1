"""What the connector tells the service: one interaction per origin, with its logs.

The pipeline writes each step into a ``Draft`` as it happens (each log dated then); the
``Reporter`` sends the draft through the SDK once the steps are done. With ``batch_size``
(the connector's default), the drafts of every SKU in flight go together through the batch
endpoint, up to ``batch_size`` interactions a request, each with all its logs: the service
is told in lots, not one request per log. Without it, a single log goes as the unified
contract (one call), several as an interaction opened, logged and closed
(``client.interaction``). Drafts of one SKU are sent in the order they were made, so the
offer's status follows the steps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sentoffers.client import (
    AsyncSentOffersClient,
    ChannelCreate,
    ConflictError,
    Evidence,
    FeedCreate,
    FeedUpdate,
    LogCreate,
    LogError,
    SentOffersError,
    UnifiedCreate,
    error_entry,
)
from sentoffers.connector.decisions import money
from sentoffers.connector.evidence import exchange_evidence
from sentoffers.connector.model import Exchange, OfferValues, ReportedError, Store
from sentoffers.domain.model import Context, LogType, Origin, Result, Source
from sentoffers.domain.rules import result_of_logs
from sentoffers.sql.group_commit import GroupCommit

__all__ = [
    "Draft",
    "ReportNotTaken",
    "Reporter",
    "Run",
    "answer_line",
    "describe_simulation",
    "problem_entry",
]

log = logging.getLogger("sentoffers.connector")


def problem_entry(problem: ReportedError) -> LogError:
    """A problem as one entry of a failure log's ``errors``."""
    return error_entry(
        problem.code,
        problem.suffix,
        description=problem.description,
        external_code=problem.external_code,
        closable_origins=problem.closable_origins or None,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class Draft:
    """An interaction being written: its origin, context and logs so far."""

    sku_id: str
    origin: Origin
    context: Context
    agent: str
    logs: list[LogCreate] = field(default_factory=list)

    def _add(
        self,
        kind: LogType,
        description: str,
        exchange: Exchange | None,
        data: Mapping[str, Any] | None,
        errors: Iterable[LogError] = (),
        proof: Evidence | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "type": kind,
            "description": description,
            "agent": self.agent,
            "date": _now(),
            "errors": list(errors),
        }
        if exchange is not None:
            fields["evidence"] = exchange_evidence(exchange)
        elif proof is not None:
            fields["evidence"] = proof
        if data:
            fields["data"] = dict(data)
        self.logs.append(LogCreate.model_validate(fields))

    def info(
        self,
        description: str,
        exchange: Exchange | None = None,
        data: Mapping[str, Any] | None = None,
        *,
        proof: Evidence | None = None,
    ) -> None:
        """An information log: a step done, with its call as evidence."""
        self._add(LogType.INFORMATION, description, exchange, data, proof=proof)

    def warning(self, description: str, exchange: Exchange | None = None) -> None:
        """A warning log: communication failed, nothing for the seller to do."""
        self._add(LogType.WARNING, description, exchange, None)

    def success(self, description: str, exchange: Exchange | None, data: Mapping[str, Any]) -> None:
        """The success log: the interaction's goal reached, ``data`` the values now live."""
        self._add(LogType.SUCCESS, description, exchange, data)

    def failure(
        self,
        description: str,
        problems: Iterable[ReportedError],
        exchange: Exchange | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """The failure log, with every problem found."""
        entries = [problem_entry(problem) for problem in problems]
        self._add(LogType.FAILURE, description, exchange, data, entries)

    def retries(self, exchange: Exchange, what: str) -> None:
        """A warning for each attempt of a call that had to be retried (throttling, 5xx)."""
        for retry in exchange.retries:
            answer = f"answered {retry.status}" if retry.status else "did not answer"
            self.warning(
                f"{what} {answer} ({retry.detail}); tried again after {retry.waited:.1f} s"
            )

    @property
    def result(self) -> Result:
        """The result the service will give the interaction on close."""
        kinds = {entry.type for entry in self.logs}
        return result_of_logs(LogType.FAILURE in kinds, LogType.SUCCESS in kinds)


class Run:
    """The drafts one job writes, in order; ``current`` is the one being written."""

    def __init__(self, sku_id: str, agent: str, context: Context, first: Origin):
        self.sku_id, self.agent, self.context, self.first = sku_id, agent, context, first
        self.drafts: list[Draft] = []

    def begin(self, origin: Origin) -> Draft:
        draft = Draft(self.sku_id, origin, self.context, self.agent)
        self.drafts.append(draft)
        return draft

    @property
    def current(self) -> Draft:
        return self.drafts[-1] if self.drafts else self.begin(self.first)


def describe_simulation(values: OfferValues | None, reason: str, sales_channel: int) -> str:
    if values is None:
        return (
            f"Step 2h: the fulfillment simulation (sc {sales_channel}) left the SKU out: {reason}"
        )
    return (
        f"Step 2h: fulfillment simulation (sc {sales_channel}): price {money(values.price)}"
        f", sales price {money(values.selling_price)}, stock {values.inventory}"
    )


def answer_line(exchange: Exchange | None) -> str:
    if exchange is None:
        return ""
    if exchange.response is None:
        return f"no answer: {exchange.error}"
    return f"{exchange.status} {exchange.response.reason_phrase}"


class ReportNotTaken(Exception):
    """The service did not answer a batch of reports (down, or refusing the whole request):
    the work that wrote them is tried again."""


def batch_item(draft: Draft) -> dict[str, Any]:
    """A draft as one item of the batch endpoint: its logs, or its only log inline."""
    head: dict[str, Any] = {
        "skuId": draft.sku_id,
        "source": Source.SELLER.value,
        "origin": draft.origin.value,
        "context": draft.context.value,
    }
    logs = [entry.model_dump(mode="json", by_alias=True, exclude_none=True) for entry in draft.logs]
    if len(logs) == 1:
        return {**head, **logs[0]}
    return {**head, "logs": logs}


class Reporter:
    """Sends drafts to the service as one feed of one channel, for each store."""

    def __init__(
        self,
        client: AsyncSentOffersClient,
        feed_id: str,
        *,
        batch_size: int = 0,
        linger: float = 0.05,
    ):
        self.client = client
        self.feed_id = feed_id
        self.batch_size = batch_size
        self.linger = linger
        self._batches: dict[str, GroupCommit[Draft, bool]] = {}
        self.batches_sent = 0

    async def send(self, account: str, draft: Draft) -> bool:
        """Send one draft; False (and a log line) if the service refused it. In batches,
        ``ReportNotTaken`` when the service did not answer the batch at all."""
        if not draft.logs:
            return True
        if self.batch_size:
            return await self._batch(account).submit(draft)
        try:
            if len(draft.logs) == 1:
                only = draft.logs[0]
                unified = UnifiedCreate.model_validate(
                    {
                        **only.model_dump(exclude_none=True),
                        "source": Source.SELLER,
                        "origin": draft.origin,
                        "context": draft.context,
                    }
                )
                answer = await self.client.create_unified_interaction(
                    account, self.feed_id, draft.sku_id, unified
                )
                answer.raise_for_errors()
                return True
            opened = self.client.interaction(
                account, self.feed_id, draft.sku_id, origin=draft.origin,
                source=Source.SELLER, context=draft.context, agent=draft.agent,
            )  # fmt: skip
            async with opened as interaction:
                for entry in draft.logs:
                    await interaction.log(entry)
        except SentOffersError as error:
            log.warning(
                "the service refused the %s interaction of SKU %s (%s): %s",
                draft.origin, draft.sku_id, account, error,
            )  # fmt: skip
            return False
        return True

    def _batch(self, account: str) -> GroupCommit[Draft, bool]:
        batch = self._batches.get(account)
        if batch is None:

            async def send(drafts: Sequence[Draft]) -> list[bool | BaseException]:
                return await self._send_batch(account, drafts)

            batch = GroupCommit.sending(
                send, max_items=self.batch_size, linger=self.linger, in_flight=2, what="reports"
            )
            self._batches[account] = batch
        return batch

    async def _send_batch(
        self, account: str, drafts: Sequence[Draft]
    ) -> list[bool | BaseException]:
        items = [batch_item(draft) for draft in drafts]
        try:
            answer = await self.client.create_unified_batch(account, self.feed_id, items)
        except SentOffersError as error:
            raise ReportNotTaken(
                f"the service did not take {len(items)} reports: {error}"
            ) from None
        if not answer.ok or answer.data is None:
            raise ReportNotTaken(
                f"the service answered {answer.status_code} to a batch of {len(items)} reports: "
                + "; ".join(str(e) for e in answer.errors)
            )
        self.batches_sent += 1
        taken: list[bool | BaseException] = [False] * len(drafts)
        for result in answer.data.items:
            if 0 <= result.index < len(drafts):
                taken[result.index] = result.status == 201
                if result.status != 201:
                    draft = drafts[result.index]
                    log.warning(
                        "the service refused the %s interaction of SKU %s (%s): %s %s",
                        draft.origin, draft.sku_id, account, result.status,
                        "; ".join(e.message for e in result.errors),
                    )  # fmt: skip
        return taken

    async def aclose(self) -> None:
        """Stop the batches (reports still waiting fail: their work is tried again)."""
        for batch in self._batches.values():
            await batch.stop()
        self._batches.clear()

    async def ensure_feed(self, store: Store, vendor: str, name: str, logo: str) -> None:
        """Create the channel and activate the store's feed, once; both may exist already."""
        channel = await self.client.create_channel(
            store.account, ChannelCreate(vendor=vendor, name=name, logo=logo)
        )
        if not channel.ok and channel.status_code != 409:
            channel.raise_for_errors()
        feed = FeedCreate(
            id=self.feed_id,
            affiliate_id=store.affiliate_id,
            sales_channel=str(store.sales_channel),
        )
        created = await self.client.create_feed(store.account, feed)
        if created.ok:
            return
        try:
            created.raise_for_errors()
        except ConflictError:
            update = FeedUpdate(
                affiliate_id=store.affiliate_id, sales_channel=str(store.sales_channel)
            )
            (await self.client.update_feed(store.account, self.feed_id, update)).raise_for_errors()
