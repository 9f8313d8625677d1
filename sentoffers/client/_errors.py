"""Exceptions of the SDK, raised by ``SentOffersResponse.raise_for_errors()``.

Calls never raise for an answer of the service: they return a ``SentOffersResponse``
whose ``errors`` list says what went wrong. Those who prefer exceptions call
``raise_for_errors()``, which raises one of::

    SentOffersError
    ├── TransportError           no answer: connection refused, timeout, broken response
    └── ApiError                 the service answered an error status
        ├── AuthenticationError  401: credentials missing or wrong
        ├── PermissionDeniedError  403: the credentials may not act on this account
        ├── NotFoundError        404: no such feed, interaction, log, channel or code
        │   └── GoneError        410: purged after the retention period
        ├── ConflictError        409: already exists, or an Idempotency-Key reused
        ├── ValidationError      400, 413, 422: the request was refused as invalid
        ├── RateLimitedError     429: slow down; ``retry_after`` says for how long
        └── ServerError          5xx

Every ``ApiError`` carries the status, the service's error list, the request id and the
raw body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentoffers.client._response import ErrorItem

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "GoneError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "SentOffersError",
    "ServerError",
    "TransportError",
    "ValidationError",
]


class SentOffersError(Exception):
    """Base of every error the SDK raises."""


class TransportError(SentOffersError):
    """No answer came from the service, after every retry.

    A POST may still have been written: send it again with ``idempotency_key`` (the same
    key) to find out without writing twice.
    """

    def __init__(
        self, message: str, *, request_id: str | None = None, idempotency_key: str | None = None
    ) -> None:
        self.request_id = request_id
        self.idempotency_key = idempotency_key
        super().__init__(message)


class ApiError(SentOffersError):
    """The service answered with an error status."""

    def __init__(
        self,
        status_code: int,
        errors: list[ErrorItem],
        *,
        request_id: str | None = None,
        body: bytes = b"",
        retry_after: float | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.errors = errors
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after
        self.idempotency_key = idempotency_key
        detail = "; ".join(error.describe() for error in errors) or "no detail"
        suffix = f" (request {request_id})" if request_id else ""
        super().__init__(f"{status_code}: {detail}{suffix}")

    @property
    def codes(self) -> list[str]:
        """The error codes of the answer, e.g. ``["feed_not_found"]``."""
        return [error.code for error in self.errors]


class AuthenticationError(ApiError):
    """401: the credentials are missing, unknown or expired."""


class PermissionDeniedError(ApiError):
    """403: the credentials may not act on this account, or need another role."""


class NotFoundError(ApiError):
    """404: the feed, interaction, log, channel or error code does not exist."""


class GoneError(NotFoundError):
    """410: the interaction or log was purged after the retention period."""


class ConflictError(ApiError):
    """409: the thing exists already, or the Idempotency-Key was used for another request."""


class ValidationError(ApiError):
    """400, 413 or 422: the request was refused; ``errors`` lists every problem."""


class RateLimitedError(ApiError):
    """429: too many requests; wait ``retry_after`` seconds."""


class ServerError(ApiError):
    """5xx: the service failed; retried calls that still fail end here."""


def error_class(status_code: int) -> type[ApiError]:
    """The exception class for an error status (``ApiError`` for an unreadable 2xx)."""
    if status_code < 400:
        return ApiError
    if status_code == 401:
        return AuthenticationError
    if status_code == 403:
        return PermissionDeniedError
    if status_code == 404:
        return NotFoundError
    if status_code == 410:
        return GoneError
    if status_code == 409:
        return ConflictError
    if status_code == 429:
        return RateLimitedError
    if status_code >= 500:
        return ServerError
    return ValidationError
