"""Credentials: an AppKey/AppToken pair or a VTEX ID token (.NET ``SentOffersCredentials``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = ["CredentialsLike", "SentOffersCredentials"]

# A mapping's keys, lower-cased without ``_``, ``-`` or blanks, and the field each one fills:
# this SDK's names, the .NET class's PascalCase ones, and the headers they travel in.
_KEYS = {
    "appkey": "app_key",
    "xvtexapiappkey": "app_key",
    "apptoken": "app_token",
    "xvtexapiapptoken": "app_token",
    "token": "token",
    "authtoken": "token",
    "vtexidtoken": "token",
    "vtexiotoken": "token",
    "iotoken": "token",
    "vtexidclientautcookie": "token",
}


@dataclass(frozen=True, slots=True)
class SentOffersCredentials:
    """Who calls the service: ``app_key`` with ``app_token``, or a VTEX ID ``token``.

    A client holds default credentials; every operation also takes ``credentials`` (after
    its body, as the .NET methods do, or by keyword) to act as someone else for that call
    only. ``token`` is the VTEX ID token a VTEX IO app holds (sent as
    ``VtexIdclientAutCookie``); when a pair is given too, the pair is sent.

    >>> SentOffersCredentials(app_key="vtexappkey-acme-XYZ", app_token="secret")
    SentOffersCredentials(app_key='vtexappkey-acme-XYZ', app_token=***)

    Where credentials are taken, a mapping with the .NET class's property names works too:
    ``{"AppKey": ..., "AppToken": ...}`` or ``{"VtexIdToken": ...}`` (see ``coerce``).
    """

    app_key: str | None = None
    app_token: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        pair = bool(self.app_key) or bool(self.app_token)
        if pair and not (self.app_key and self.app_token):
            raise ValueError("app_key and app_token go together")
        if not pair and not self.token:
            raise ValueError("give app_key and app_token, or a VTEX ID token")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SentOffersCredentials:
        """Read ``SENTOFFERS_APP_KEY``/``SENTOFFERS_APP_TOKEN`` or ``SENTOFFERS_VTEX_TOKEN``."""
        env = os.environ if environ is None else environ
        key, token = env.get("SENTOFFERS_APP_KEY"), env.get("SENTOFFERS_APP_TOKEN")
        if key or token:
            return cls(app_key=key, app_token=token)
        return cls(token=env.get("SENTOFFERS_VTEX_TOKEN"))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SentOffersCredentials:
        """Credentials from a mapping, keys in any case: ``app_key``/``AppKey``,
        ``app_token``/``AppToken``, and ``token``/``VtexIdToken``/``VtexIdclientAutCookie``
        (or the ``X-VTEX-API-*`` header names). An unknown key is refused, never ignored."""
        fields: dict[str, str | None] = {}
        unknown = []
        for key, value in values.items():
            name = _KEYS.get("".join(ch for ch in str(key).lower() if ch.isalnum()))
            if name is None:
                unknown.append(str(key))
            elif value is not None:
                fields[name] = str(value)
        if unknown:
            known = "AppKey, AppToken, VtexIdToken (or app_key, app_token, token)"
            raise ValueError(f"unknown credential keys {sorted(unknown)}; expected {known}")
        return cls(**fields)

    @classmethod
    def coerce(cls, value: CredentialsLike) -> SentOffersCredentials | None:
        """``value`` as credentials: ``None``, a ``SentOffersCredentials`` or a mapping."""
        if value is None or isinstance(value, SentOffersCredentials):
            return value
        if isinstance(value, Mapping):
            return cls.from_mapping(value)
        raise TypeError(
            "credentials are a SentOffersCredentials (or a mapping of AppKey/AppToken or "
            f"VtexIdToken), not a {type(value).__name__}"
        )

    def headers(self) -> dict[str, str]:
        """The request headers that carry these credentials."""
        if self.app_key and self.app_token:
            return {"X-VTEX-API-AppKey": self.app_key, "X-VTEX-API-AppToken": self.app_token}
        assert self.token is not None
        return {"VtexIdclientAutCookie": self.token}

    def __repr__(self) -> str:
        if self.app_key:
            return f"SentOffersCredentials(app_key={self.app_key!r}, app_token=***)"
        return "SentOffersCredentials(token=***)"


CredentialsLike: TypeAlias = SentOffersCredentials | Mapping[str, Any] | None
"""What a ``credentials`` argument takes (``None``: the client's own)."""
