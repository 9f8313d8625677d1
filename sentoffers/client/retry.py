"""When to retry and how long to wait, as pure functions.

The clients feed these with an injected clock, sleep and jitter, so the policy is tested
without waiting. POSTs are retried safely because every POST carries an Idempotency-Key:
the service answers a repeated key with the first answer and writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "backoff", "next_delay", "parse_retry_after", "should_retry"]

IN_PROGRESS_CODE = "idempotency_key_in_use"
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard a call tries.

    ``max_attempts`` counts the first request. Waits grow as ``backoff_base * 2**n`` up to
    ``backoff_max``, with full jitter. A ``Retry-After`` answer is waited for as asked; one
    longer than ``max_retry_after`` ends the retries. ``total_timeout`` bounds the whole
    call: no wait goes past it, and each attempt's timeouts are cut to the time left.
    """

    max_attempts: int = 4
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    max_retry_after: float = 60.0
    total_timeout: float = 60.0

    @classmethod
    def none(cls) -> RetryPolicy:
        """Send each request once."""
        return cls(max_attempts=1)


def should_retry(
    status_code: int | None, *, method: str, idempotent: bool, error_code: str | None = None
) -> bool:
    """Whether an outcome is worth another attempt.

    ``status_code`` is ``None`` when no answer came. A request is ``idempotent`` when
    repeating it cannot write twice: GET, PUT, DELETE, or a POST with an Idempotency-Key.
    429 is always retried (nothing was done); 5xx and lost answers only when idempotent.
    """
    if status_code == 429:
        return True
    if status_code == 409:
        # The first request with this key is still running: its answer will be replayed.
        return error_code == IN_PROGRESS_CODE
    safe = idempotent or method.upper() in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
    if status_code is None:
        return safe
    return safe and status_code >= 500


def backoff(attempt: int, policy: RetryPolicy, jitter: float) -> float:
    """The wait before retry number ``attempt`` (1-based); ``jitter`` is drawn from [0, 1)."""
    ceiling = min(policy.backoff_max, policy.backoff_base * 2.0 ** (attempt - 1))
    return ceiling * jitter


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def next_delay(
    policy: RetryPolicy,
    *,
    attempt: int,
    elapsed: float,
    retryable: bool,
    retry_after: float | None,
    jitter: float,
) -> float | None:
    """Seconds to wait before the next attempt, or ``None`` to stop.

    ``attempt`` is the number of requests sent so far; ``elapsed`` the seconds since the
    first was sent.
    """
    if not retryable or attempt >= policy.max_attempts:
        return None
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return None
        delay = retry_after
    else:
        delay = backoff(attempt, policy, jitter)
    if elapsed + delay > policy.total_timeout:
        return None
    return delay
