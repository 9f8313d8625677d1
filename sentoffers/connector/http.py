"""Sending a request with retries, keeping every attempt for the evidence.

The decisions are the SDK's pure retry functions (``sentoffers.client._retry``): 429 is
always retried, honouring ``Retry-After``; 5xx and lost answers only when repeating the
request cannot do a thing twice. Clock, sleep and jitter are injected so tests never wait.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import httpx

from sentoffers.client._retry import RetryPolicy, next_delay, parse_retry_after, should_retry
from sentoffers.connector.model import Attempt, Exchange

__all__ = ["Pacer", "Sender"]


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
        pacer: Pacer | None = None,
    ) -> None:
        self.http = http
        self.pacer = pacer
        self.policy = policy or RetryPolicy(max_attempts=4, max_retry_after=10, total_timeout=30)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    async def send(self, request: httpx.Request, *, idempotent: bool = False) -> Exchange:
        """Send ``request`` until it is answered for good or the policy gives up.

        ``idempotent``: sending it twice does no harm (GET and PUT always are).
        """
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


class Pacer:
    """Spaces request starts at least ``1 / per_second`` apart (``None``: no limit).

    A plain courtesy to a marketplace's published limit, so most requests are not answered
    429 at all; the answers that still are get retried after their ``Retry-After``.
    """

    def __init__(
        self,
        per_second: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def wait(self) -> None:
        """Return when the next request may start."""
        if not self.interval:
            return
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self.interval
        if start > now:
            await self._sleep(start - now)
