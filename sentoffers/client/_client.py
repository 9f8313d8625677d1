"""The clients: ``AsyncSentOffersClient`` and ``SentOffersClient`` share every operation
(``OperationSet``) and differ only in how they wait for I/O."""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx

from sentoffers.client._api import OperationSet
from sentoffers.client._base import BaseClient, ClientOptions
from sentoffers.client._credentials import CredentialsLike
from sentoffers.client._interaction import AsyncOpenInteraction, OpenInteraction
from sentoffers.client._operations import Call, Operation, Unscoped
from sentoffers.client._response import SentOffersResponse

__all__ = ["AccountClient", "AsyncAccountClient", "AsyncSentOffersClient", "SentOffersClient"]

T = TypeVar("T")


class AsyncSentOffersClient(BaseClient, OperationSet):
    """The asyncio client. One instance per process: its connection pool serves every call.

    ``transport`` replaces the HTTP transport (``httpx.ASGITransport(app)`` runs against an
    app in the same process); ``sleep`` exists for tests. The other options are
    ``BaseClient``'s.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.AsyncClient(
            transport=transport, limits=self.limits, timeout=self.timeout
        )
        self._sleep = sleep

    async def send(self, call: Call[T]) -> SentOffersResponse[T]:
        """Send a call, retrying as the policy allows; never raises for an outcome."""
        attempts = self.attempts(call)
        while True:
            try:
                response = await self._http.send(attempts.next_request())
            except httpx.TransportError as error:
                delay = attempts.lost(error)
            else:
                delay = attempts.answered(response)
            if delay is None:
                return attempts.result
            await self._sleep(delay)

    def _bind(self, operation: Operation[..., Any] | Unscoped[..., Any]) -> Any:
        return _bound_async(self, operation, None)

    def for_account(self, account: str) -> AsyncAccountClient:
        """The same client with ``account`` bound: its operations take no account argument."""
        return AsyncAccountClient(self, account)

    def interaction(
        self,
        account: str,
        feed_id: str,
        sku_id: str,
        *,
        origin: str,
        source: str = "channel",
        context: str = "ongoing",
        agent: str = "",
        credentials: CredentialsLike = None,
    ) -> AsyncOpenInteraction:
        """An interaction for ``async with``: opened on entry, closed on exit (see
        ``AsyncOpenInteraction``)."""
        return AsyncOpenInteraction(
            self, account, feed_id, sku_id, origin=origin, source=source, context=context,
            agent=agent, credentials=credentials,
        )  # fmt: skip

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        await self.aclose()


class SentOffersClient(BaseClient, OperationSet):
    """The blocking client; the same operations as ``AsyncSentOffersClient``, thread-safe.

    ``transport`` replaces the HTTP transport; ``sleep`` exists for tests. The other
    options are ``BaseClient``'s.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.Client(transport=transport, limits=self.limits, timeout=self.timeout)
        self._sleep = sleep

    def send(self, call: Call[T]) -> SentOffersResponse[T]:
        """Send a call, retrying as the policy allows; never raises for an outcome."""
        attempts = self.attempts(call)
        while True:
            try:
                response = self._http.send(attempts.next_request())
            except httpx.TransportError as error:
                delay = attempts.lost(error)
            else:
                delay = attempts.answered(response)
            if delay is None:
                return attempts.result
            self._sleep(delay)

    def _bind(self, operation: Operation[..., Any] | Unscoped[..., Any]) -> Any:
        return _bound_sync(self, operation, None)

    def for_account(self, account: str) -> AccountClient:
        """The same client with ``account`` bound: its operations take no account argument."""
        return AccountClient(self, account)

    def interaction(
        self,
        account: str,
        feed_id: str,
        sku_id: str,
        *,
        origin: str,
        source: str = "channel",
        context: str = "ongoing",
        agent: str = "",
        credentials: CredentialsLike = None,
    ) -> OpenInteraction:
        """An interaction for ``with``: opened on entry, closed on exit (``OpenInteraction``)."""
        return OpenInteraction(
            self, account, feed_id, sku_id, origin=origin, source=source, context=context,
            agent=agent, credentials=credentials,
        )  # fmt: skip

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        self.close()


class AsyncAccountClient(OperationSet):
    """``AsyncSentOffersClient.for_account(account)``: every operation acts on ``account``."""

    def __init__(self, client: AsyncSentOffersClient, account: str) -> None:
        self.client = client
        self.account = account

    def _bind(self, operation: Operation[..., Any] | Unscoped[..., Any]) -> Any:
        return _bound_async(self.client, operation, self.account)

    def interaction(self, feed_id: str, sku_id: str, **options: Any) -> AsyncOpenInteraction:
        """``client.interaction`` on the bound account."""
        return self.client.interaction(self.account, feed_id, sku_id, **options)


class AccountClient(OperationSet):
    """``SentOffersClient.for_account(account)``: every operation acts on ``account``."""

    def __init__(self, client: SentOffersClient, account: str) -> None:
        self.client = client
        self.account = account

    def _bind(self, operation: Operation[..., Any] | Unscoped[..., Any]) -> Any:
        return _bound_sync(self.client, operation, self.account)

    def interaction(self, feed_id: str, sku_id: str, **options: Any) -> OpenInteraction:
        """``client.interaction`` on the bound account."""
        return self.client.interaction(self.account, feed_id, sku_id, **options)


def _bound_async(
    client: AsyncSentOffersClient,
    operation: Operation[..., Any] | Unscoped[..., Any],
    account: str | None,
) -> Callable[..., Awaitable[SentOffersResponse[Any]]]:
    build = operation.builder(account)

    async def method(*args: Any, **kwargs: Any) -> SentOffersResponse[Any]:
        return await client.send(build(*args, **kwargs))

    return _described(method, operation, account)


def _bound_sync(
    client: SentOffersClient,
    operation: Operation[..., Any] | Unscoped[..., Any],
    account: str | None,
) -> Callable[..., SentOffersResponse[Any]]:
    build = operation.builder(account)

    def method(*args: Any, **kwargs: Any) -> SentOffersResponse[Any]:
        return client.send(build(*args, **kwargs))

    return _described(method, operation, account)


F = TypeVar("F", bound=Callable[..., Any])


def _described(
    method: F, operation: Operation[..., Any] | Unscoped[..., Any], bound: str | None
) -> F:
    """Name, docstring and signature of the operation, without ``account`` once bound."""
    functools.update_wrapper(method, operation.build)
    signature = inspect.signature(operation.build)
    if bound is not None and isinstance(operation, Operation):
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    answer = str(signature.return_annotation)
    if answer.startswith("Call["):
        signature = signature.replace(return_annotation=f"SentOffersResponse{answer[4:]}")
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method
