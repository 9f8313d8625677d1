"""Keeping to a marketplace's limits: its request rate and a circuit breaker.

- ``RateLimit`` holds the connector to the marketplace's declared requests per second with a
  moving window from the ``limits`` library. In memory for one process; in Redis
  (``redis://...``) when several worker processes share one marketplace account, so their
  sum stays under the limit.
- ``Breaker`` is ``pybreaker``'s circuit breaker, one per marketplace. After ``fail_max``
  calls in a row that the marketplace did not answer (no answer, 429 or 5xx once the
  retries are spent) it opens: calls are not sent at all for ``reset_timeout`` seconds, then
  one goes through to test the water. Its state lives in memory or in Redis (shared by the
  worker processes). Every opening and closing is handed to ``on_change``: the connector
  logs it as a warning, keeps it, and writes it into the interactions of the SKUs it held
  back, so sellers see it in the service.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pybreaker
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from sentoffers.connector.model import Exchange

__all__ = ["Breaker", "BreakerEvent", "RateLimit", "unanswered"]

log = logging.getLogger("sentoffers.connector")


def unanswered(exchange: Exchange) -> bool:
    """The marketplace did not really answer: no response, 429, or 5xx (after retries)."""
    status = exchange.status
    return status is None or status == 429 or status >= 500


class RateLimit:
    """At most ``per_second`` request starts per second for ``key``, shared through
    ``storage_url`` (``memory://`` or ``redis://host:port/db``)."""

    def __init__(
        self,
        per_second: float,
        *,
        key: str = "marketplace",
        storage_url: str = "memory://",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.per_second = per_second
        self.key = key
        self.item = _item(per_second)
        self.storage = _storage(storage_url)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._sleep = sleep
        self._clock = clock

    async def wait(self) -> None:
        """Return once a request may start (taking its place in the window)."""
        while not await self.limiter.hit(self.item, self.key):
            stats = await self.limiter.get_window_stats(self.item, self.key)
            await self._sleep(max(0.002, stats.reset_time - self._clock()))


def _item(per_second: float) -> RateLimitItem:
    """``per_second`` as whole requests per whole seconds (2.5/s: 5 per 2 seconds)."""
    for seconds in (1, 2, 4, 5, 10, 20, 60):
        amount = per_second * seconds
        if amount >= 1 and math.isclose(amount, round(amount), abs_tol=1e-9):
            return RateLimitItemPerSecond(round(amount), seconds)
    return RateLimitItemPerSecond(max(1, math.floor(per_second * 60)), 60)


def _storage(url: str) -> Storage:
    if url in ("", "memory://"):
        return MemoryStorage()
    if not url.startswith(("redis://", "rediss://")):
        raise ValueError(f"unsupported rate-limit storage {url!r}: memory:// or redis://...")
    found = storage_from_string(f"async+{url}", implementation="redispy")
    assert isinstance(found, Storage)
    return found


@dataclass(frozen=True, slots=True)
class BreakerEvent:
    """The breaker of ``marketplace`` went from ``before`` to ``after`` at ``at``."""

    marketplace: str
    before: str
    after: str
    at: datetime
    failures: int
    reset_timeout: float

    @property
    def text(self) -> str:
        when = self.at.strftime("%H:%M:%S UTC")
        if self.after == pybreaker.STATE_OPEN:
            return (
                f"The circuit breaker of {self.marketplace} opened at {when} after "
                f"{self.failures} calls in a row went unanswered: calls to the marketplace "
                f"stop for {self.reset_timeout:.0f} s"
            )
        if self.after == pybreaker.STATE_CLOSED:
            return (
                f"The circuit breaker of {self.marketplace} closed at {when}: the marketplace "
                "answers again and calls resumed"
            )
        return f"The circuit breaker of {self.marketplace} let a trial call through at {when}"


class _Unanswered(Exception):
    def __init__(self, exchange: Exchange):
        super().__init__(exchange.error or f"answered {exchange.status}")
        self.exchange = exchange


class _Listener(pybreaker.CircuitBreakerListener):
    def __init__(self, owner: Breaker):
        self.owner = owner

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        before = old_state.name if old_state is not None else ""
        if before == new_state.name:
            return
        self.owner._changed(before, new_state.name)


class Breaker:
    """A circuit breaker for the calls to one marketplace."""

    def __init__(
        self,
        marketplace: str,
        *,
        fail_max: int = 5,
        reset_timeout: float = 10.0,
        redis_url: str | None = None,
        on_change: Callable[[BreakerEvent], None] | None = None,
    ) -> None:
        self.marketplace = marketplace
        self.on_change = on_change
        storage: pybreaker.CircuitBreakerStorage | None = None
        if redis_url:
            import redis

            storage = pybreaker.CircuitRedisStorage(
                pybreaker.STATE_CLOSED,
                redis.Redis.from_url(redis_url),
                namespace=f"sentoffers:breaker:{marketplace}",
            )
        self.cb = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            state_storage=storage,
            listeners=[_Listener(self)],
            name=marketplace,
        )
        self._last_failures = 0

    @property
    def state(self) -> str:
        return self.cb.current_state

    def open_for(self) -> float:
        """Seconds until an open breaker lets a trial call through; 0 when not open."""
        if self.cb.current_state != pybreaker.STATE_OPEN:
            return 0.0
        opened = self.cb._state_storage.opened_at
        if opened is None:
            return float(self.cb.reset_timeout)
        if opened.tzinfo is None:
            opened = opened.replace(tzinfo=UTC)
        left = float(self.cb.reset_timeout) - (datetime.now(UTC) - opened).total_seconds()
        return max(0.0, left)

    async def call(
        self, request_exchange: Exchange, send: Callable[[], Awaitable[Exchange]]
    ) -> Exchange:
        """Send through the breaker: an open breaker answers at once with an exchange that
        has no response and says why; an unanswered call counts as a failure."""
        exchange: Exchange | None = None
        try:
            with self.cb.calling():
                exchange = await send()
                if unanswered(exchange):
                    self._last_failures = self.cb.fail_counter + 1
                    raise _Unanswered(exchange)
        except _Unanswered as failed:
            return failed.exchange
        except pybreaker.CircuitBreakerError:
            if exchange is not None:  # this very call opened it
                return exchange
            wait = self.open_for()
            return Exchange(
                request_exchange.request,
                None,
                f"not sent: the circuit breaker of {self.marketplace} is open; the next trial "
                f"call goes in {wait:.1f} s",
            )
        return exchange

    def _changed(self, before: str, after: str) -> None:
        event = BreakerEvent(
            self.marketplace,
            before,
            after,
            datetime.now(UTC),
            max(self._last_failures, self.cb.fail_counter),
            float(self.cb.reset_timeout),
        )
        log.warning("%s", event.text)
        if self.on_change is not None:
            try:
                self.on_change(event)
            except Exception:
                log.exception("recording a circuit breaker change failed")
