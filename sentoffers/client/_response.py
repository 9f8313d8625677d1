"""``SentOffersResponse``: what every call returns, as in the .NET SDK."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sentoffers.client._errors import ApiError, TransportError, error_class

__all__ = ["ErrorItem", "SentOffersResponse"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One problem the service reported: a stable ``code``, a ``message`` and the ``field``."""

    code: str
    message: str
    field: str | None = None

    def describe(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}: {self.message}{where}"


@dataclass(frozen=True, slots=True)
class SentOffersResponse(Generic[T]):
    """The outcome of one call.

    ``ok`` is true for a 2xx answer, and ``data`` then holds the typed answer (``None`` for
    answers without a body). Otherwise ``errors`` lists what the service said, or a single
    ``transport_error`` when no answer came (``status_code`` is then 0).
    """

    status_code: int
    data: T | None = None
    errors: list[ErrorItem] = field(default_factory=list)
    request_id: str | None = None
    body: bytes = field(default=b"", repr=False)
    retry_after: float | None = None
    attempts: int = 1
    """How many requests were sent for this call (retries included)."""
    replayed: bool = False
    """True when the service answered from its Idempotency-Key record."""
    idempotency_key: str | None = None
    """The key the POST was sent under: send it again with the same key to retry safely."""

    @property
    def ok(self) -> bool:
        """A 2xx answer that was read as expected."""
        return 200 <= self.status_code < 300 and not self.errors

    def raise_for_errors(self) -> T:
        """Return ``data`` when the call succeeded; raise the matching ``SentOffersError``."""
        if self.ok:
            return self.data  # type: ignore[return-value]  # None only for bodiless answers
        if self.status_code == 0:
            raise TransportError(
                "; ".join(error.message for error in self.errors),
                request_id=self.request_id,
                idempotency_key=self.idempotency_key,
            )
        cls: type[ApiError] = error_class(self.status_code)
        raise cls(
            self.status_code,
            self.errors,
            request_id=self.request_id,
            body=self.body,
            retry_after=self.retry_after,
            idempotency_key=self.idempotency_key,
        )


def parse_errors(status_code: int, body: bytes) -> list[ErrorItem]:
    """The error list of an error answer; a body that is not the service's shape becomes one."""
    try:
        payload: Any = json.loads(body) if body else None
    except ValueError:
        payload = None
    items = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(items, list) and items:
        return [
            ErrorItem(
                code=str(item.get("code") or f"http_{status_code}"),
                message=str(item.get("message") or ""),
                field=item.get("field") if isinstance(item.get("field"), str) else None,
            )
            for item in items
            if isinstance(item, dict)
        ]
    text = body.decode("utf-8", "replace").strip()[:500]
    return [ErrorItem(code=f"http_{status_code}", message=text or f"HTTP {status_code}")]
