"""One test flow for both SDK clients: ``Sdk`` shows the sync and the async client alike.

A flow is an ``async def`` test decorated with ``@flow(...)``; it awaits every call, and
``Sdk`` awaits only when the client under it is asynchronous::

    @flow("get_feed")
    async def test_something(sdk: Sdk, account: str) -> None:
        feed = (await sdk.get_feed(account, "vtex.netshoes")).raise_for_errors()

The ``sdk`` fixture runs each flow twice, on ``SentOffersClient`` and on
``AsyncSentOffersClient``. ``@flow`` names the operations the test exercises; the test
fails if it does not call each of them, and ``DECLARED`` (every name declared) lets a guard
test check that the whole ``OperationSet`` is exercised.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from sentoffers.client import (
    AsyncSentOffersClient,
    FeedCreate,
    OperationSet,
    SentOffersClient,
    SentOffersCredentials,
)
from sentoffers.client._operations import Operation, Unscoped

T = TypeVar("T")

OPERATIONS = frozenset(
    name for name, value in vars(OperationSet).items() if isinstance(value, Operation | Unscoped)
)
"""The name of every operation of the SDK."""

DECLARED: set[str] = set()
"""The operations some ``@flow`` test exercises."""

KINDS = ["sync", "async"]


async def settled(value: Any) -> Any:
    """``value``, awaited when it is awaitable: what a sync or an async call answered."""
    return await value if inspect.isawaitable(value) else value


class _Awaiting:
    """A blocking object seen through coroutines: its methods return awaitables."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        async def call(*args: Any, **kwargs: Any) -> Any:
            return value(*args, **kwargs)

        return call


class _AwaitingInteraction(_Awaiting):
    """A sync ``Interaction`` for ``async with``: enters and exits with its own ``with``."""

    async def __aenter__(self) -> _AwaitingInteraction:
        self._target.__enter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._target.__exit__(kind, error, traceback)


class Sdk:
    """A client of either kind; ``await sdk.<operation>(...)`` answers a ``SentOffersResponse``.

    ``called`` collects the names of the operations called through it (and through the
    clients it made with ``for_account`` and ``with_credentials``).
    """

    def __init__(
        self, kind: str, base_url: str, target: Any, runner: asyncio.Runner, called: set[str]
    ) -> None:
        self.kind = kind
        self.base_url = base_url
        self._target = target
        self._runner = runner
        self.called = called
        self._opened: list[Any] = []

    @classmethod
    @contextmanager
    def open(
        cls, kind: str, base_url: str, credentials: SentOffersCredentials | None
    ) -> Iterator[Sdk]:
        """A client of ``kind`` (``sync`` or ``async``), closed with its event loop on exit."""
        with asyncio.Runner() as runner:
            sdk = cls(kind, base_url, None, runner, set())
            sdk._target = sdk._new_client(credentials)
            try:
                yield sdk
            finally:
                runner.run(sdk._close_clients())

    def run(self, flow: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on this client's event loop."""
        return self._runner.run(flow)

    def with_credentials(self, credentials: SentOffersCredentials | None) -> Sdk:
        """Another client of the same kind, on the same service, with other credentials."""
        return Sdk(
            self.kind, self.base_url, self._new_client(credentials), self._runner, self.called
        )

    def for_account(self, account: str) -> Sdk:
        """``client.for_account(account)``: operations without the account argument."""
        bound = self._target.for_account(account)
        return Sdk(self.kind, self.base_url, bound, self._runner, self.called)

    def interaction(self, *args: Any, **kwargs: Any) -> Any:
        """``client.interaction(...)``, to use with ``async with`` whatever the client."""
        interaction = self._target.interaction(*args, **kwargs)
        return interaction if self.kind == "async" else _AwaitingInteraction(interaction)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name not in OPERATIONS:
            raise AttributeError(name)
        method = getattr(self._target, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.called.add(name)
            return await settled(method(*args, **kwargs))

        return call

    def _new_client(self, credentials: SentOffersCredentials | None) -> Any:
        client: SentOffersClient | AsyncSentOffersClient
        if self.kind == "sync":
            client = SentOffersClient(self.base_url, credentials=credentials)
        else:
            client = AsyncSentOffersClient(self.base_url, credentials=credentials)
        self._opened.append(client)
        return client

    async def _close_clients(self) -> None:
        for client in self._opened:
            await settled(client.aclose() if self.kind == "async" else client.close())


Flow = Callable[..., Coroutine[Any, Any, None]]


def flow(*operations: str) -> Callable[[Flow], Callable[..., None]]:
    """Run an ``async def`` test on the ``sdk`` fixture's loop; it must call ``operations``."""
    unknown = set(operations) - OPERATIONS
    if unknown:
        raise ValueError(f"not operations of the SDK: {sorted(unknown)}")
    DECLARED.update(operations)

    def decorate(test: Flow) -> Callable[..., None]:
        @functools.wraps(test)
        def run(sdk: Sdk, **fixtures: Any) -> None:
            sdk.run(test(sdk, **fixtures))
            missing = sorted(set(operations) - sdk.called)
            assert not missing, f"{test.__name__} never called {missing} ({sdk.kind} client)"

        return run

    return decorate


async def activated_feed(sdk: Sdk, account: str) -> str:
    """A channel of the account's own (channels are global) and its feed, active."""
    channel = await sdk.create_channel(
        account, {"vendor": "vtex", "name": account, "logo": "https://example.com/logo.png"}
    )
    feed_id = channel.raise_for_errors().id
    created = await sdk.create_feed(
        account, FeedCreate(id=feed_id, affiliate_id="AFL", sales_channel="1")
    )
    created.raise_for_errors()
    return str(feed_id)
