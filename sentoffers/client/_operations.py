"""Operations described once, run by the async and the sync client alike.

Each operation is a builder: a pure function from the caller's arguments to a ``Call``
(method, path, query, body, the type of the answer). ``Operation`` and ``Unscoped`` are
descriptors that turn a builder into a method of whichever object reads them: a coroutine
function on ``AsyncSentOffersClient``, a plain function on ``SentOffersClient``, and the
same without the leading ``account`` on a client bound to an account (``for_account``).
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from sentoffers.client._credentials import CredentialsLike, SentOffersCredentials

if TYPE_CHECKING:
    from sentoffers.client._client import (
        AccountClient,
        AsyncAccountClient,
        AsyncSentOffersClient,
        SentOffersClient,
    )
    from sentoffers.client._response import SentOffersResponse

__all__ = ["Call", "Operation", "Unscoped"]

P = ParamSpec("P")
T = TypeVar("T")

API = "/api/sent-offers"


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request to send: everything but the transport."""

    method: str
    path: str
    answer: Any = None
    """The type the answer's JSON decodes to; ``None`` for answers without a body."""
    account: str | None = None
    params: Mapping[str, str | None] = field(default_factory=dict)
    body: Any = None
    credentials: CredentialsLike = None
    """Who sends it, instead of the client's credentials; a mapping becomes
    ``SentOffersCredentials`` here, so a wrong one fails when the call is made."""
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "credentials", SentOffersCredentials.coerce(self.credentials))

    def caller(self) -> SentOffersCredentials | None:
        """The call's own credentials, if it has any."""
        return SentOffersCredentials.coerce(self.credentials)

    def query(self) -> dict[str, str]:
        query = {key: value for key, value in self.params.items() if value is not None}
        if self.account is not None:
            query["an"] = self.account
        return query

    def content(self) -> bytes | None:
        """The JSON body, camelCase, without null values."""
        if self.body is None:
            return None
        return json.dumps(_plain(self.body), separators=(",", ":"), default=_json_default).encode()

    def decode(self, content: bytes) -> T:
        """The typed answer of a successful response."""
        if self.answer is None or not content:
            return None  # type: ignore[return-value]
        return _adapter(self.answer).validate_json(content)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _json_default(value: Any) -> Any:
    """Values of a plain mapping body that JSON has no word for: dates, enums, decimals."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


@cache
def _adapter(answer: Any) -> TypeAdapter[Any]:
    return TypeAdapter(answer)


def segment(value: str) -> str:
    """A path segment, percent-encoded (SKU ids may hold slashes or spaces)."""
    return quote(str(value), safe="")


class Operation(Generic[P, T]):
    """An account-scoped operation; its builder takes the account first."""

    def __init__(self, build: Callable[Concatenate[str, P], Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__

    def builder(self, account: str | None) -> Callable[..., Call[Any]]:
        if account is None:
            return self.build
        return functools.partial(self.build, account)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: AsyncSentOffersClient, owner: type[Any]
    ) -> Callable[Concatenate[str, P], Awaitable[SentOffersResponse[T]]]: ...
    @overload
    def __get__(
        self, obj: SentOffersClient, owner: type[Any]
    ) -> Callable[Concatenate[str, P], SentOffersResponse[T]]: ...
    @overload
    def __get__(
        self, obj: AsyncAccountClient, owner: type[Any]
    ) -> Callable[P, Awaitable[SentOffersResponse[T]]]: ...
    @overload
    def __get__(
        self, obj: AccountClient, owner: type[Any]
    ) -> Callable[P, SentOffersResponse[T]]: ...
    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        return obj._bind(self)


class Unscoped(Generic[P, T]):
    """An operation that names no account (error codes, keys, tokens)."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__

    def builder(self, account: str | None) -> Callable[..., Call[Any]]:
        return self.build

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: AsyncSentOffersClient | AsyncAccountClient, owner: type[Any]
    ) -> Callable[P, Awaitable[SentOffersResponse[T]]]: ...
    @overload
    def __get__(
        self, obj: SentOffersClient | AccountClient, owner: type[Any]
    ) -> Callable[P, SentOffersResponse[T]]: ...
    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        return obj._bind(self)
