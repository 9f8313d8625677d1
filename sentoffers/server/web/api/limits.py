"""Limits: requests per API key and per client address, failed authentications, streams.

- ``RequestLimits`` and ``RateLimitMiddleware``, right after authentication: a request made
  with an API key counts against that key's limits (a burst per second, a budget per
  minute); any other request (the public API routes, the docs, the web UI) against its
  client address's, which are lower. Over a limit: 429 ``rate_limited`` with
  ``Retry-After``. ``/health*``, ``/metrics`` and ``/static/`` are not counted; a batch
  request counts as one.
- ``LoginThrottle``: failed authentications (the API's headers and token, the token login,
  the UI's sign-in) within a window: per app key, each failure; per client address, each
  app key that failed from it (and each failed token). Past the limit, attempts for that key
  or from that address are answered 429 before any credential is looked at, the same answer
  whatever the token; a success resets nothing. An address counts keys, not attempts, so a
  connector retrying a wrong token locks its own key out, not the other connectors of its
  host (or the people behind the same NAT); trying many keys from one address is stopped.
- ``StreamSlots``: live-update streams open at once, per UI session and per process.

Request and failure counters live in memory (one process) or in Redis
(``SENTOFFERS_RATE_LIMIT_STORAGE=redis://...``, shared by several processes), through the
``limits`` library: fixed windows for requests (one counter each), moving windows for
failures (exactly "N in the last window"). Stream slots are per process, in memory. A limit
set to 0 is off. When Redis cannot be reached, requests are let through (and logged).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import anyio.to_thread
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from sentoffers.domain.errors import ServiceError
from sentoffers.server.features.keys import Principal
from sentoffers.server.settings import Settings
from sentoffers.server.web.api.errors import error_response

__all__ = [
    "LoginThrottle",
    "RateLimitMiddleware",
    "RateLimited",
    "RequestLimits",
    "ServiceLimits",
    "StreamSlots",
    "client_address",
    "rate_limited_response",
]

log = logging.getLogger("sentoffers.limits")

UNCOUNTED_PATHS = ("/health", "/metrics", "/static/")
"""Probes, scrapes and static files: never limited."""

T = TypeVar("T")


class RateLimited(ServiceError):
    """429: too many requests, or too many failed authentications; retry after a while."""

    status_code = 429
    default_code = "rate_limited"

    def __init__(self, message: str, retry_after: int):
        super().__init__(f"{message}; retry in {retry_after} s")
        self.retry_after = retry_after


def rate_limited_response(error: RateLimited, scope: Scope) -> JSONResponse:
    """The service's error answer for ``error``, with its ``Retry-After``."""
    response = error_response(error, scope)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def client_address(scope: Scope) -> str:
    """The client's address as the server gives it (behind a proxy, the server's proxy
    headers settings decide whether that is the proxy's or the client's)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class _Counters:
    """``limits`` counters on one storage; calls leave the event loop when it is remote."""

    WARN_EVERY_SECONDS = 60.0

    def __init__(self, storage_url: str, strategy: type[RateLimiter]):
        self.storage = _storage(storage_url)
        self.limiter = strategy(self.storage)
        self._remote = not isinstance(self.storage, MemoryStorage)
        self._warned_at = -math.inf

    def _unavailable(self, outcome: str) -> None:
        """Log that the store failed, once a minute at most: it fails every request."""
        now = time.monotonic()
        if now - self._warned_at >= self.WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("rate-limit storage unavailable: %s", outcome, exc_info=True)

    def hit(self, items: tuple[RateLimitItem, ...], *names: str) -> int | None:
        """Count one against each of ``items``; the seconds to wait if one is spent."""
        try:
            for item in items:
                if not self.limiter.hit(item, *names):
                    return self._wait(item, *names)
        except Exception:
            self._unavailable("requests let through")
        return None

    def spent(self, items: tuple[RateLimitItem, ...], *names: str) -> int | None:
        """The seconds to wait if one of ``items`` is spent, counting nothing."""
        try:
            for item in items:
                if not self.limiter.test(item, *names):
                    return self._wait(item, *names)
        except Exception:
            self._unavailable("requests let through")
        return None

    def count(self, items: tuple[RateLimitItem, ...], *names: str) -> None:
        try:
            for item in items:
                self.limiter.hit(item, *names)
        except Exception:
            self._unavailable("failures not counted")

    def first(self, items: tuple[RateLimitItem, ...], *names: str) -> bool:
        """Count one against each of ``items``; whether it is the first in their windows."""
        try:
            unused = all(
                self.limiter.get_window_stats(item, *names).remaining == item.amount
                for item in items
            )
        except Exception:
            self._unavailable("failures not counted")
            return False
        self.count(items, *names)
        return unused

    def _wait(self, item: RateLimitItem, *names: str) -> int:
        reset = self.limiter.get_window_stats(item, *names).reset_time
        return max(1, math.ceil(reset - time.time()))

    async def run(self, call: Callable[..., T], *args: object) -> T:
        """``call(*args)``: in place in memory, in a worker thread on a remote store."""
        if self._remote:
            return await anyio.to_thread.run_sync(call, *args)
        return call(*args)


def _storage(url: str) -> Storage:
    if url in ("", "memory://"):
        return MemoryStorage()
    if not url.startswith(("redis://", "rediss://")):
        raise ValueError(f"unsupported rate-limit storage {url!r}: memory:// or redis://...")
    # Short timeouts: a store that does not answer must not hold every request.
    found = storage_from_string(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    assert isinstance(found, Storage)
    return found


def _items(per_second: int, per_minute: int) -> tuple[RateLimitItem, ...]:
    found: list[RateLimitItem] = []
    if per_second:
        found.append(RateLimitItemPerSecond(per_second, namespace="sentoffers"))
    if per_minute:
        found.append(RateLimitItemPerMinute(per_minute, namespace="sentoffers"))
    return tuple(found)


Holder = Literal["key", "ip"]


class RequestLimits:
    """Requests per API key and per client address (fixed windows of a second and a
    minute)."""

    def __init__(self, settings: Settings):
        self._counters = _Counters(settings.rate_limit_storage, FixedWindowRateLimiter)
        self._items: dict[Holder, tuple[RateLimitItem, ...]] = {
            "key": _items(settings.rate_limit_key_per_second, settings.rate_limit_key_per_minute),
            "ip": _items(settings.rate_limit_ip_per_second, settings.rate_limit_ip_per_minute),
        }

    async def wait(self, holder: Holder, name: str) -> int | None:
        """Count a request of ``name`` (an app key or an address); the seconds to wait
        when it is over a limit, else None."""
        items = self._items[holder]
        if not items:
            return None
        return await self._counters.run(self._counters.hit, items, holder, name)


class RateLimitMiddleware:
    """429 for a request over its key's limits, or its address's when it has no key; runs
    right after ``AuthMiddleware``, which names the key."""

    def __init__(self, app: ASGIApp, limits: RequestLimits):
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED_PATHS):
            await self.app(scope, receive, send)
            return
        principal = scope.get("state", {}).get("principal")
        if isinstance(principal, Principal):
            wait = await self.limits.wait("key", principal.app_key)
            message = "too many requests for this app key"
        else:
            wait = await self.limits.wait("ip", client_address(scope))
            message = "too many requests from this address"
        if wait is None:
            await self.app(scope, receive, send)
            return
        response: Response
        if scope["path"].startswith("/api/"):
            response = rate_limited_response(RateLimited(message, wait), scope)
        else:  # the web UI, the docs: a person reads it
            response = PlainTextResponse(
                f"Too many requests. Please wait {wait} seconds and try again.",
                status_code=429,
                headers={"Retry-After": str(wait), "Cache-Control": "no-store"},
            )
        await response(scope, receive, send)


class LoginThrottle:
    """Failed authentications per app key, and failed keys per client address, in a moving
    window.

    ``retry_after`` (before checking credentials) says how long attempts for the key or from
    the address must wait, ``record_failure`` counts a failed check. Both do the work in the
    calling thread (the UI's sign-in runs in one); ``retry_after_async`` and
    ``record_failure_async`` for the event loop.
    """

    MESSAGE = "too many failed authentications for this app key or from this address"

    def __init__(self, settings: Settings):
        self._counters = _Counters(settings.rate_limit_storage, MovingWindowRateLimiter)
        failures, window = settings.login_failures_max, settings.login_failures_window_seconds
        self._items: tuple[RateLimitItem, ...] = (
            (RateLimitItemPerSecond(failures, window, namespace="sentoffers-login"),)
            if failures
            else ()
        )

    def retry_after(self, app_key: str | None, address: str) -> int | None:
        """Seconds to wait before attempts for ``app_key`` or from ``address`` are checked
        again; None when they may be checked now."""
        if not self._items:
            return None
        names = [("ip", address)] + ([("key", _hashed(app_key))] if app_key else [])
        waits = [self._counters.spent(self._items, *name) for name in names]
        return max((wait for wait in waits if wait is not None), default=None)

    def record_failure(self, app_key: str | None, address: str) -> None:
        """Count a failure of ``app_key`` (None: a token), and against ``address`` when it
        is the key's first in the window."""
        if not self._items:
            return
        if app_key and not self._counters.first(self._items, "key", _hashed(app_key)):
            return
        self._counters.count(self._items, "ip", address)

    async def retry_after_async(self, app_key: str | None, address: str) -> int | None:
        return await self._counters.run(self.retry_after, app_key, address)

    async def record_failure_async(self, app_key: str | None, address: str) -> None:
        await self._counters.run(self.record_failure, app_key, address)

    async def refuse_if_throttled(self, app_key: str | None, address: str) -> None:
        """Raise ``RateLimited`` while attempts for ``app_key`` or from ``address`` wait."""
        wait = await self.retry_after_async(app_key, address)
        if wait is not None:
            raise RateLimited(self.MESSAGE, wait)


def _hashed(app_key: str) -> str:
    """Any string a client sends, as a short name for the store's keys."""
    return hashlib.sha256(app_key.encode()).hexdigest()[:32]


class StreamSlots:
    """Streams open at once: at most ``per_owner`` for one owner (a UI session) and ``total``
    in this process (0: no limit). ``acquire`` before a stream starts, ``release`` when it
    ends."""

    def __init__(self, per_owner: int, total: int):
        self.per_owner = per_owner
        self.total = total
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, owner: str) -> Literal["owner", "total"] | None:
        """Take a slot for ``owner``; else which limit is reached (nothing is taken)."""
        with self._lock:
            if self.per_owner and self._open[owner] >= self.per_owner:
                return "owner"
            if self.total and self._open.total() >= self.total:
                return "total"
            self._open[owner] += 1
            return None

    def release(self, owner: str) -> None:
        with self._lock:
            self._open[owner] -= 1
            if self._open[owner] <= 0:
                del self._open[owner]

    def open_count(self, owner: str | None = None) -> int:
        with self._lock:
            return self._open.total() if owner is None else self._open[owner]


@dataclass(frozen=True, slots=True)
class ServiceLimits:
    """Every limit of one app, made from its settings."""

    requests: RequestLimits
    logins: LoginThrottle
    streams: StreamSlots

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceLimits:
        return cls(
            requests=RequestLimits(settings),
            logins=LoginThrottle(settings),
            streams=StreamSlots(settings.ui_live_streams_per_session, settings.ui_live_streams_max),
        )
