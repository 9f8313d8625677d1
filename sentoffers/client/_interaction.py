"""``client.interaction(...)``: an interaction opened on entry and closed on exit.

::

    async with client.interaction("acme", "vtex.netshoes", "1", origin="price") as it:
        await it.info("Sending the price", data={"status": "sending"})
        answer = await channel.put_price(...)
        await it.success("Price accepted", data={"price": 124, "currency": "BRL"})

If the block raises, the interaction logs a Failure carrying the exception's evidence
(``ChannelError`` sets its code; anything else is ``NTMAP-001``), closes, and the
exception goes on. A ``SentOffersError`` (a call the service refused) is not logged as the
offer's failure: the interaction is only closed. The methods raise ``SentOffersError``
when the service refuses a call. A cancelled task or an interrupt makes no call: the
service closes idle interactions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sentoffers.client._credentials import CredentialsLike, SentOffersCredentials
from sentoffers.client._entries import exception_failure
from sentoffers.client._errors import SentOffersError
from sentoffers.contract.interactions import (
    DataIn,
    ErrorIn,
    EvidenceIn,
    InteractionCreate,
    InteractionRead,
    LogCreate,
    LogCreated,
)
from sentoffers.domain.model import LogType

if TYPE_CHECKING:
    from sentoffers.client._client import AsyncSentOffersClient, SentOffersClient

__all__ = ["AsyncOpenInteraction", "OpenInteraction"]

log = logging.getLogger("sentoffers.client")

Data = DataIn | Mapping[str, Any] | None
Errors = Iterable[ErrorIn | Mapping[str, Any]]


class _InteractionBase:
    """The logs an interaction writes; no I/O."""

    def __init__(
        self,
        account: str,
        feed_id: str,
        sku_id: str,
        *,
        origin: str,
        source: str,
        context: str,
        agent: str,
        credentials: CredentialsLike,
    ) -> None:
        self.account = account
        self.feed_id = feed_id
        self.sku_id = sku_id
        self.agent = agent
        self.credentials = SentOffersCredentials.coerce(credentials)
        self.opening = InteractionCreate.model_validate(
            {"origin": origin, "source": source, "context": context}
        )
        self.interaction: InteractionRead | None = None
        self.logs: list[LogCreated] = []
        self.closed = False

    @property
    def id(self) -> str:
        """The interaction's id, once opened."""
        if self.interaction is None:
            raise RuntimeError("the interaction is not open yet: use it in a with block")
        return self.interaction.id

    def _entry(self, kind: LogType, description: str, data: Data, **more: Any) -> LogCreate:
        fields: dict[str, Any] = {"type": kind, "description": description, "agent": self.agent}
        if data is not None:
            fields["data"] = data
        return LogCreate.model_validate({**fields, **more})

    def _failure(
        self, description: str, errors: Errors, evidence: EvidenceIn | None, data: Data
    ) -> LogCreate:
        return self._entry(
            LogType.FAILURE, description, data, errors=list(errors), evidence=evidence
        )

    def _with_agent(self, entry: LogCreate | Mapping[str, Any]) -> LogCreate | Mapping[str, Any]:
        """A log without an agent is written by the interaction's agent."""
        if isinstance(entry, LogCreate) and not entry.agent and self.agent:
            return entry.model_copy(update={"agent": self.agent})
        return entry

    def _failure_of(self, error: BaseException | None) -> LogCreate | None:
        """The Failure log an exception leaving the block calls for.

        None without an exception, or for a ``SentOffersError``: a call the service refused
        is the connector's problem, not the offer's.
        """
        if error is None or isinstance(error, SentOffersError):
            return None
        return exception_failure(error, agent=self.agent)

    def _ids(self) -> tuple[str, str, str, str]:
        return self.account, self.feed_id, self.sku_id, self.id


class AsyncOpenInteraction(_InteractionBase):
    """An interaction of ``AsyncSentOffersClient``; see the module's documentation."""

    def __init__(
        self, client: AsyncSentOffersClient, account: str, feed_id: str, sku_id: str, **options: Any
    ) -> None:
        super().__init__(account, feed_id, sku_id, **options)
        self._client = client

    async def __aenter__(self) -> Self:
        answer = await self._client.create_interaction(
            self.account, self.feed_id, self.sku_id, self.opening, credentials=self.credentials
        )
        self.interaction = answer.raise_for_errors()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        if error is not None and not isinstance(error, Exception):
            return
        failure = self._failure_of(error)
        if failure is not None:
            try:
                await self.log(failure)
            except SentOffersError as failed:
                log.warning("could not log the failure of interaction %s: %s", self.id, failed)
        try:
            await self.close()
        except SentOffersError:
            if error is None:
                raise
            log.warning("could not close interaction %s", self.id, exc_info=True)

    async def log(self, entry: LogCreate | Mapping[str, Any]) -> LogCreated:
        """Add a log built by hand (or by ``unmapped_failure``)."""
        answer = await self._client.create_log(
            *self._ids(), self._with_agent(entry), credentials=self.credentials
        )
        created = answer.raise_for_errors()
        self.logs.append(created)
        return created

    async def info(self, description: str = "", *, data: Data = None) -> LogCreated:
        """An Info log: something happened, the outcome is not known yet."""
        return await self.log(self._entry(LogType.INFORMATION, description, data))

    async def warning(self, description: str = "", *, data: Data = None) -> LogCreated:
        """A Warning log: worth the seller's eye, but not an error."""
        return await self.log(self._entry(LogType.WARNING, description, data))

    async def success(self, description: str = "", *, data: Data = None) -> LogCreated:
        """A Success log: the channel accepted; ``data`` holds the values now live."""
        return await self.log(self._entry(LogType.SUCCESS, description, data))

    async def failure(
        self,
        description: str = "",
        *,
        errors: Errors = (),
        evidence: EvidenceIn | None = None,
        data: Data = None,
    ) -> LogCreated:
        """A Failure log with its error entries (see ``error_entry``) and evidence."""
        return await self.log(self._failure(description, errors, evidence, data))

    async def close(self) -> None:
        """Close the interaction now (the ``with`` block does it on exit)."""
        if self.closed:
            return
        answer = await self._client.close_interaction(*self._ids(), credentials=self.credentials)
        answer.raise_for_errors()
        self.closed = True


class OpenInteraction(_InteractionBase):
    """An interaction of ``SentOffersClient``; see the module's documentation."""

    def __init__(
        self, client: SentOffersClient, account: str, feed_id: str, sku_id: str, **options: Any
    ) -> None:
        super().__init__(account, feed_id, sku_id, **options)
        self._client = client

    def __enter__(self) -> Self:
        answer = self._client.create_interaction(
            self.account, self.feed_id, self.sku_id, self.opening, credentials=self.credentials
        )
        self.interaction = answer.raise_for_errors()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        if error is not None and not isinstance(error, Exception):
            return
        failure = self._failure_of(error)
        if failure is not None:
            try:
                self.log(failure)
            except SentOffersError as failed:
                log.warning("could not log the failure of interaction %s: %s", self.id, failed)
        try:
            self.close()
        except SentOffersError:
            if error is None:
                raise
            log.warning("could not close interaction %s", self.id, exc_info=True)

    def log(self, entry: LogCreate | Mapping[str, Any]) -> LogCreated:
        """Add a log built by hand (or by ``unmapped_failure``)."""
        created = self._client.create_log(
            *self._ids(), self._with_agent(entry), credentials=self.credentials
        )
        self.logs.append(created.raise_for_errors())
        return self.logs[-1]

    def info(self, description: str = "", *, data: Data = None) -> LogCreated:
        """An Info log: something happened, the outcome is not known yet."""
        return self.log(self._entry(LogType.INFORMATION, description, data))

    def warning(self, description: str = "", *, data: Data = None) -> LogCreated:
        """A Warning log: worth the seller's eye, but not an error."""
        return self.log(self._entry(LogType.WARNING, description, data))

    def success(self, description: str = "", *, data: Data = None) -> LogCreated:
        """A Success log: the channel accepted; ``data`` holds the values now live."""
        return self.log(self._entry(LogType.SUCCESS, description, data))

    def failure(
        self,
        description: str = "",
        *,
        errors: Errors = (),
        evidence: EvidenceIn | None = None,
        data: Data = None,
    ) -> LogCreated:
        """A Failure log with its error entries (see ``error_entry``) and evidence."""
        return self.log(self._failure(description, errors, evidence, data))

    def close(self) -> None:
        """Close the interaction now (the ``with`` block does it on exit)."""
        if self.closed:
            return
        self._client.close_interaction(
            *self._ids(), credentials=self.credentials
        ).raise_for_errors()
        self.closed = True
