"""Authentication (middleware) and tenancy (dependencies), done once for every route.

``AuthMiddleware`` turns the ``X-VTEX-API-AppKey``/``X-VTEX-API-AppToken`` headers, or a
``VtexIdclientAutCookie`` header or cookie, into a ``Principal`` before any body is read.
With a ``LoginThrottle``, credentials that fail count against their app key and the client's
address; past the limit, their attempts are answered 429 before any check (credentials
checked a moment ago, kept in the Authenticator's memory, still pass).
The ``reader``/``writer`` dependencies then check the ``an`` account against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Query, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sentoffers.domain.errors import ServiceError, Unauthorized
from sentoffers.server.features.keys import Authenticator, Principal
from sentoffers.server.web.api.errors import error_response
from sentoffers.server.web.api.limits import (
    LoginThrottle,
    RateLimited,
    client_address,
    rate_limited_response,
)

PUBLIC_PREFIXES = ("/health", "/docs", "/redoc", "/openapi.json", "/api/vtexid/")


class AuthMiddleware:
    def __init__(
        self, app: ASGIApp, authenticator: Authenticator, logins: LoginThrottle | None = None
    ):
        self.app = app
        self.authenticator = authenticator
        self.logins = logins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._principal(scope)
        except RateLimited as limited:
            await rate_limited_response(limited, scope)(scope, receive, send)
            return
        except ServiceError as error:
            await error_response(error, scope)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _principal(self, scope: Scope) -> Principal:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        app_key = headers.get("x-vtex-api-appkey", "").strip()
        app_token = headers.get("x-vtex-api-apptoken", "").strip()
        token = headers.get("vtexidclientautcookie", "").strip() or _cookie(
            headers.get("cookie", ""), "VtexIdclientAutCookie"
        )
        if app_key and app_token:
            known = self.authenticator.cached(app_key, app_token)
            if known is not None:
                return known
            return await self._checked(
                scope, app_key, self.authenticator.authenticate, app_key, app_token
            )
        if token:
            return await self._checked(scope, None, self.authenticator.authenticate_token, token)
        if app_key:
            raise Unauthorized("X-VTEX-API-AppToken header is missing", field="X-VTEX-API-AppToken")
        raise Unauthorized(
            "credentials are missing: send X-VTEX-API-AppKey and X-VTEX-API-AppToken, "
            "or a VtexIdclientAutCookie token"
        )

    async def _checked(
        self, scope: Scope, app_key: str | None, check: object, *args: str
    ) -> Principal:
        """``check(*args)``, unless ``app_key`` or the client's address is throttled; a failed
        check counts against both."""
        address = client_address(scope)
        if self.logins is not None:
            await self.logins.refuse_if_throttled(app_key, address)
        try:
            return await _call(check, *args)
        except Unauthorized as error:
            # An expired token was ours: not a guess.
            if self.logins is not None and error.problems[0].code != "token_expired":
                await self.logins.record_failure_async(app_key, address)
            raise


async def _call(check: object, *args: str) -> Principal:
    assert callable(check)
    result = await anyio.to_thread.run_sync(check, *args)
    assert isinstance(result, Principal)
    return result


def _cookie(header: str, name: str) -> str:
    if not header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return ""
    morsel = jar.get(name)
    return morsel.value.strip() if morsel else ""


async def principal_of(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise Unauthorized("credentials are missing")
    return principal


@dataclass(frozen=True, slots=True)
class Tenant:
    """The account a request acts on, and who acts."""

    account: str
    principal: Principal


AccountName = Annotated[
    str,
    Query(
        alias="an",
        min_length=1,
        max_length=128,
        description="The seller's VTEX account name.",
        examples=["grocery1"],
    ),
]


async def reader(request: Request, an: AccountName) -> Tenant:
    """Tenancy for reads; async because it does no I/O (no threadpool hop)."""
    principal = await principal_of(request)
    account = an.strip()
    principal.require_read(account)
    return Tenant(account, principal)


async def writer(request: Request, an: AccountName) -> Tenant:
    """Tenancy for writes; async because it does no I/O (no threadpool hop)."""
    principal = await principal_of(request)
    account = an.strip()
    principal.require_write(account)
    return Tenant(account, principal)


ReadTenant = Annotated[Tenant, Depends(reader)]
WriteTenant = Annotated[Tenant, Depends(writer)]
CurrentPrincipal = Annotated[Principal, Depends(principal_of)]
