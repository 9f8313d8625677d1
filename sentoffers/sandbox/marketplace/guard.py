"""What stands between a connector and the sample marketplace: tokens, a per-second rate
limit, random transient failures and a "down" switch. Each is thread-safe and reads time
from an injected clock (seconds, monotonic), so tests can move time by hand."""

from __future__ import annotations

import math
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

FAILURE_STATUSES = (500, 502, 503)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenRefused(Exception):
    """The bearer token is missing, unknown or expired; ``code`` says which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Tokens:
    """Bearer tokens for client-credentials logins, each valid ``ttl_seconds``."""

    def __init__(self, clock: Clock, ttl_seconds: float):
        self._clock = clock
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def issue(self, client_id: str) -> IssuedToken:
        """A new token for the client, valid ``ttl_seconds`` from now."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            # forget the expired ones, so a long run does not grow without bound
            for old in [t for t, (_, end) in self._tokens.items() if end <= now]:
                del self._tokens[old]
            self._tokens[token] = (client_id, now + self.ttl_seconds)
        return IssuedToken(token, max(1, math.floor(self.ttl_seconds)))

    def client_of(self, authorization: str | None) -> str:
        """The client id behind an ``Authorization: Bearer ...`` header, or ``TokenRefused``."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRefused("token.missing", "send Authorization: Bearer <access_token>")
        with self._lock:
            found = self._tokens.get(token.strip())
        if found is None:
            raise TokenRefused("token.invalid", "the access token is not known")
        client_id, expires_at = found
        if self._clock() >= expires_at:
            raise TokenRefused("token.expired", "the access token expired; ask for a new one")
        return client_id

    def expire_all(self) -> None:
        """Make every issued token expire now (to test a connector's re-login)."""
        with self._lock:
            now = self._clock()
            self._tokens = {t: (client, now) for t, (client, _) in self._tokens.items()}


class RateLimiter:
    """At most ``per_second`` requests per client in each one-second window (None: no limit)."""

    def __init__(self, clock: Clock, per_second: int | None):
        self._clock = clock
        self.per_second = per_second
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def retry_after(self, client_id: str) -> int | None:
        """Count one request; ``None`` if allowed, else whole seconds to wait (at least 1)."""
        limit = self.per_second
        if limit is None or limit <= 0:
            return None
        with self._lock:
            now = self._clock()
            window = math.floor(now)
            start, used = self._windows.get(client_id, (window, 0))
            if start != window:
                start, used = window, 0
            if used >= limit:
                return max(1, math.ceil(window + 1 - now))
            self._windows[client_id] = (start, used + 1)
        return None


class Faults:
    """Transient failures: a share of requests answered 5xx before anything is applied
    (``failure_rate``), a share of writes applied and then answered 5xx as if the answer was
    lost (``lost_answer_rate``), and periods of being down, which end by themselves.

    The rates (0 to 1) are drawn from a seeded generator, so a run repeats itself.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        failure_rate: float = 0.0,
        lost_answer_rate: float = 0.0,
        seed: int = 0,
    ):
        self._clock = clock
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.failure_rate = failure_rate
        self.lost_answer_rate = lost_answer_rate
        self._down: tuple[float, float] | None = None  # the current or next period
        self._down_total = 0.0  # seconds of the periods that ended
        self._down_periods = 0

    def _settle(self, now: float) -> None:
        """Close the period if it is over (a period ends by itself: no timer needed)."""
        if self._down is not None and now >= self._down[1]:
            start, end = self._down
            self._down_total += end - start
            self._down = None

    def _cut(self, now: float) -> None:
        """End the period now if it began; drop it if it has not."""
        if self._down is not None and self._down[0] <= now:
            self._down_total += now - self._down[0]
        self._down = None

    def down_for(self, seconds: float, *, after: float = 0.0) -> None:
        """Answer 503 to everything for ``seconds``, starting ``after`` seconds from now; it
        replaces a period under way (ended now) or planned."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            self._cut(now)
            self._down = (now + after, now + after + seconds)
            self._down_periods += 1

    def up(self) -> None:
        """End a down period at once (and cancel a planned one)."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            self._cut(now)

    def down_remaining(self) -> float | None:
        """Seconds left of the current down period, or ``None`` when up."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            if self._down is None or now < self._down[0]:
                return None
            return self._down[1] - now

    def down_starts_in(self) -> float | None:
        """Seconds until a planned down period begins, or ``None`` if none is planned."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            if self._down is None or now >= self._down[0]:
                return None
            return self._down[0] - now

    def down_seconds(self) -> float:
        """Seconds spent down so far, the current period included."""
        with self._lock:
            now = self._clock()
            self._settle(now)
            current = now - self._down[0] if self._down and self._down[0] <= now else 0.0
            return self._down_total + current

    def down_periods(self) -> int:
        """Down periods asked for so far (``down_for`` calls)."""
        with self._lock:
            return self._down_periods

    def failure(self) -> int | None:
        """A 5xx status to answer this request with, before applying it, or ``None``."""
        return self._draw(self.failure_rate)

    def lost_answer(self) -> int | None:
        """A 5xx status to answer this write with, after applying it, or ``None``."""
        return self._draw(self.lost_answer_rate)

    def _draw(self, rate: float) -> int | None:
        if rate <= 0:
            return None
        with self._lock:
            if self._random.random() >= rate:
                return None
            return self._random.choice(FAILURE_STATUSES)
