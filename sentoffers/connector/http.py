"""Sending a request with retries, keeping every attempt for the evidence.

The decisions are the SDK's pure retry functions (``sentoffers.client.retry``): 429 is
always retried, honouring ``Retry-After``; 5xx and lost answers only when repeating the
request cannot do a thing twice. Clock, sleep and jitter are injected so tests never wait.
A ``pace`` (``guard.RateLimit``) is awaited before every attempt; a ``breaker``
(``guard.Breaker``) wraps the whole call, retries included.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from sentoffers.client.retry import RetryPolicy, next_delay, parse_retry_after, should_retry
from sentoffers.connector.model import Attempt, Exchange

if TYPE_CHECKING:
    from sentoffers.connector.guard import Breaker

__all__ = ["CountingTransport", "Pace", "Sender", "endpoint_of"]


class Pace(Protocol):
    """Something that says when the next request may start."""

    async def wait(self) -> None: ...


class Sender:
    """Sends requests through ``http`` under a ``RetryPolicy``; never raises for an outcome."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        pacer: Pace | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.http = http
        self.pacer = pacer
        self.breaker = breaker
        self.policy = policy or RetryPolicy(max_attempts=4, max_retry_after=10, total_timeout=30)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    async def send(self, request: httpx.Request, *, idempotent: bool = False) -> Exchange:
        """Send ``request`` until it is answered for good or the policy gives up.

        ``idempotent``: sending it twice does no harm (GET and PUT always are).
        """
        if self.breaker is not None:
            return await self.breaker.call(
                Exchange(request), lambda: self._attempts(request, idempotent)
            )
        return await self._attempts(request, idempotent)

    async def _attempts(self, request: httpx.Request, idempotent: bool) -> Exchange:
        started = self._clock()
        retries: list[Attempt] = []
        attempt = 0
        while True:
            attempt += 1
            response: httpx.Response | None = None
            error: str | None = None
            if self.pacer is not None:
                await self.pacer.wait()
            try:
                response = await self.http.send(request)
            except httpx.TransportError as failure:
                error = f"{type(failure).__name__}: {failure}".rstrip(": ")
            status = response.status_code if response is not None else None
            retry_after = (
                parse_retry_after(response.headers.get("retry-after")) if response else None
            )
            unsent = error is not None and error.startswith(("ConnectError", "ConnectTimeout"))
            retryable = should_retry(status, method=request.method, idempotent=idempotent or unsent)
            delay = next_delay(
                self.policy,
                attempt=attempt,
                elapsed=self._clock() - started,
                retryable=retryable,
                retry_after=retry_after,
                jitter=self._jitter(),
            )
            if delay is None:
                return Exchange(request, response, error, tuple(retries))
            detail = error or (response.reason_phrase if response is not None else "")
            retries.append(Attempt(status, delay, detail))
            await self._sleep(delay)


class CountingTransport(httpx.AsyncBaseTransport):
    """An HTTP transport that counts the requests it sends per API and endpoint (ids in
    paths folded into ``{id}``), for the connector's status and the benchmarks."""

    def __init__(self, api: str, counts: dict[str, dict[str, int]], **options: Any) -> None:
        self.api = api
        self.counts = counts
        self.inner = httpx.AsyncHTTPTransport(**options)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = f"{request.method} {endpoint_of(request.url.path)}"
        per_api = self.counts.setdefault(self.api, {})
        per_api[endpoint] = per_api.get(endpoint, 0) + 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def endpoint_of(path: str) -> str:
    """A path with its numeric and id-like segments folded: ``/api/x/123`` -> ``/api/x/{id}``."""
    parts = []
    for segment in path.split("/"):
        if segment.isdigit() or (len(segment) >= 16 and any(c.isdigit() for c in segment)):
            parts.append("{id}")
        else:
            parts.append(segment)
    return "/".join(parts)
