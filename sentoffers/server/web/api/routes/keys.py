from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from sentoffers.contract.keys import AppTokenIssued, AppTokenLogin, KeyCreate, KeyCreated
from sentoffers.domain import permissions
from sentoffers.domain.errors import Forbidden, Unauthorized
from sentoffers.server.features import keys as service
from sentoffers.server.features.keys import Principal
from sentoffers.server.web.api.auth import CurrentPrincipal
from sentoffers.server.web.api.compat import ContractRoute
from sentoffers.server.web.api.deps import AuthenticatorDep, Db, LoginThrottleDep
from sentoffers.server.web.api.limits import (
    LoginThrottle,
    RateLimited,
    client_address,
    rate_limited_response,
)

router = APIRouter(tags=["Keys"], route_class=ContractRoute)


@router.post(
    "/api/sent-offers/keys",
    status_code=201,
    response_model=KeyCreated,
    summary="Create an API key (admin or platform)",
)
def create_key(body: KeyCreate, principal: CurrentPrincipal, db: Db) -> KeyCreated:
    """An admin creates keys for the accounts it holds; a platform key, any key.

    The token is shown only here.
    """
    _require_key_manager(principal)
    if not permissions.may_grant_role(principal, body.role):
        raise Forbidden(
            "only a platform key (or the `sentoffers keys create` command) can create a "
            "platform key",
            code="platform_only",
            field="role",
        )
    outside = permissions.accounts_beyond_grant(principal, body.accounts)
    if outside:
        raise Forbidden(f"this key cannot grant accounts it does not hold: {outside}")
    key = service.create_key(db, body.role, body.accounts, label=body.label)
    return KeyCreated(
        app_key=key.app_key, app_token=key.app_token, role=key.role, accounts=list(key.accounts)
    )


@router.delete(
    "/api/sent-offers/keys/{appKey}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API key (admin or platform)",
)
def revoke_key(
    app_key: Annotated[str, Path(alias="appKey")],
    principal: CurrentPrincipal,
    db: Db,
    authenticator: AuthenticatorDep,
) -> Response:
    """A platform key revokes any key; an admin, the keys whose accounts are all its own.

    Any other key answers 404, exactly as an unknown key does.
    """
    _require_key_manager(principal)
    service.revoke_key(db, app_key, revoker=principal)
    authenticator.forget(app_key)
    return Response(status_code=204)


def _require_key_manager(principal: Principal) -> None:
    if not permissions.may_manage_keys(principal):
        raise Forbidden("only an admin or platform key can manage keys", code="admin_only")


@router.post(
    "/api/vtexid/apptoken/login",
    response_model=AppTokenIssued,
    summary="Exchange an appKey and appToken for a VtexIdclientAutCookie token",
)
async def app_token_login(
    body: AppTokenLogin,
    request: Request,
    logins: LoginThrottleDep,
    authenticator: AuthenticatorDep,
) -> AppTokenIssued | JSONResponse:
    """The token stands for the key for an hour. After too many failed attempts for the
    appKey, or with several appKeys from the caller's address, the answer is 429 with
    `Retry-After`, whatever the token."""
    address = client_address(request.scope)
    wait = await logins.retry_after_async(body.app_key, address)
    if wait is not None:
        return rate_limited_response(RateLimited(LoginThrottle.MESSAGE, wait), request.scope)
    try:
        principal = await anyio.to_thread.run_sync(
            authenticator.authenticate, body.app_key, body.app_token
        )
    except Unauthorized:
        await logins.record_failure_async(body.app_key, address)
        raise
    token, expires = authenticator.issue_token(principal)
    return AppTokenIssued(auth_status="Success", token=token, expires=expires)
