"""Credentials: an AppKey/AppToken pair or a VTEX ID token (.NET ``SentOffersCredentials``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["SentOffersCredentials"]


@dataclass(frozen=True, slots=True)
class SentOffersCredentials:
    """Who calls the service: ``app_key`` with ``app_token``, or a VTEX ID ``token``.

    A client holds default credentials; every operation also takes ``credentials=`` to act
    as someone else for that call only.

    >>> SentOffersCredentials(app_key="vtexappkey-acme-XYZ", app_token="secret")
    SentOffersCredentials(app_key='vtexappkey-acme-XYZ', app_token=***)
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
