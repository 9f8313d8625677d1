"""What the async and sync clients share, none of it I/O: configuration, the request of a
call, reading an answer, and the retry decisions of one call."""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, Generic, TypedDict, TypeVar

import httpx
from pydantic import ValidationError as ModelError

from sentoffers import __version__
from sentoffers.client._credentials import CredentialsLike, SentOffersCredentials
from sentoffers.client._operations import Call
from sentoffers.client._response import ErrorItem, SentOffersResponse, parse_errors
from sentoffers.client.retry import RetryPolicy, next_delay, parse_retry_after, should_retry

__all__ = ["BaseClient", "ClientOptions"]

T = TypeVar("T")

log = logging.getLogger("sentoffers.client")

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
DEFAULT_URL = "http://127.0.0.1:8000"


def default_clock() -> float:
    return time.monotonic()


def default_jitter() -> float:
    return random.random()


class ClientOptions(TypedDict, total=False):
    """The options both clients take, besides ``base_url``, ``transport`` and ``sleep``."""

    credentials: CredentialsLike
    timeout: float | httpx.Timeout
    retry: RetryPolicy | None
    idempotency_keys: bool
    limits: httpx.Limits
    user_agent: str | None
    clock: Callable[[], float]
    jitter: Callable[[], float]


class BaseClient:
    """Configuration shared by ``SentOffersClient`` and ``AsyncSentOffersClient``.

    ``base_url`` defaults to ``SENTOFFERS_URL``, then ``http://127.0.0.1:8000``.
    ``credentials`` (a ``SentOffersCredentials``, or a mapping of its .NET property names)
    are used unless a call passes its own. ``timeout`` applies to each request (10 s, 5 s
    to connect), ``retry`` is the ``RetryPolicy``, ``limits`` the connection pool's.
    ``idempotency_keys=False`` sends POSTs without a key (they are then not retried once
    sent). ``clock`` and ``jitter`` exist for tests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        credentials: CredentialsLike = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        idempotency_keys: bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        user_agent: str | None = None,
        clock: Callable[[], float] = default_clock,
        jitter: Callable[[], float] = default_jitter,
    ) -> None:
        url = base_url or os.environ.get("SENTOFFERS_URL") or DEFAULT_URL
        self.base_url = url.rstrip("/")
        self.credentials = SentOffersCredentials.coerce(credentials)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = retry or RetryPolicy()
        self.idempotency_keys = idempotency_keys
        self.limits = limits
        self.user_agent = user_agent or f"sentoffers-python/{__version__}"
        self._clock = clock
        self._jitter = jitter

    def attempts(self, call: Call[T]) -> Attempts[T]:
        """The attempts of one call, to be driven by a client's I/O loop."""
        return Attempts(self, call)

    def request(
        self, call: Call[Any], idempotency_key: str | None, request_id: str
    ) -> httpx.Request:
        credentials = call.caller() or self.credentials
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        headers["X-Request-Id"] = request_id
        if credentials is not None:
            headers.update(credentials.headers())
        content = call.content()
        if content is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return httpx.Request(
            call.method,
            self.base_url + call.path,
            params=call.query(),
            headers=headers,
            content=content,
            extensions={"timeout": self.timeout.as_dict()},
        )

    def idempotency_key(self, call: Call[Any]) -> str | None:
        if call.idempotency_key is not None:
            return call.idempotency_key
        if call.method == "POST" and self.idempotency_keys:
            return uuid.uuid4().hex
        return None


class Attempts(Generic[T]):
    """One call's attempts: the request to send, and after each outcome, whether to wait
    and send it again (the same request, with the same Idempotency-Key)."""

    def __init__(self, client: BaseClient, call: Call[T]) -> None:
        self.client = client
        self.call = call
        self.key = client.idempotency_key(call)
        self.request = client.request(call, self.key, uuid.uuid4().hex)
        self.attempts = 0
        self.started = client._clock()
        self.result: SentOffersResponse[T] = SentOffersResponse(status_code=0)

    def next_request(self) -> httpx.Request:
        """The request to send now, its timeouts cut to what is left of ``total_timeout``."""
        left = self.client.retry.total_timeout - (self.client._clock() - self.started)
        configured = self.client.timeout.as_dict()
        self.request.extensions["timeout"] = {
            phase: max(0.001, min(value, left)) if value is not None else max(0.001, left)
            for phase, value in configured.items()
        }
        return self.request

    def answered(self, response: httpx.Response) -> float | None:
        """Record an answer; the seconds to wait before retrying, or ``None`` when done."""
        self.attempts += 1
        status = response.status_code
        body = response.content
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        common: dict[str, Any] = {
            "request_id": response.headers.get("x-request-id") or self.request_id,
            "idempotency_key": self.key,
            "body": body,
            "retry_after": retry_after,
            "attempts": self.attempts,
            "replayed": response.headers.get("idempotent-replayed") == "true",
        }
        if 200 <= status < 300:
            try:
                data = self.call.decode(body)
            except (ModelError, ValueError) as error:
                problem = ErrorItem("invalid_answer", f"the answer did not parse: {error}")
                self.result = SentOffersResponse(status, errors=[problem], **common)
            else:
                self.result = SentOffersResponse(status, data=data, **common)
            return None
        errors = parse_errors(status, body)
        self.result = SentOffersResponse(status, errors=errors, **common)
        return self._delay(status, errors[0].code if errors else None, retry_after)

    def lost(self, error: httpx.TransportError) -> float | None:
        """Record a request that got no answer; the wait before retrying, or ``None``."""
        self.attempts += 1
        message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        self.result = SentOffersResponse(
            0,
            errors=[ErrorItem("transport_error", message)],
            request_id=self.request_id,
            idempotency_key=self.key,
            attempts=self.attempts,
        )
        # A request that never reached the service can be sent again whatever it is.
        unsent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        return self._delay(None, None, None, unsent=unsent)

    @property
    def request_id(self) -> str | None:
        value: str | None = self.request.headers.get("x-request-id")
        return value

    def _delay(
        self, status: int | None, code: str | None, retry_after: float | None, unsent: bool = False
    ) -> float | None:
        idempotent = self.key is not None or unsent
        retryable = should_retry(
            status, method=self.call.method, idempotent=idempotent, error_code=code
        )
        delay = next_delay(
            self.client.retry,
            attempt=self.attempts,
            elapsed=self.client._clock() - self.started,
            retryable=retryable,
            retry_after=retry_after,
            jitter=self.client._jitter(),
        )
        if delay is not None:
            log.info(
                "retrying %s %s in %.2fs after %s (attempt %d)",
                self.call.method, self.call.path, delay, status or "no answer", self.attempts,
            )  # fmt: skip
        return delay
