from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response

from sentoffers.api.auth import CurrentPrincipal
from sentoffers.api.compat import ContractRoute
from sentoffers.errors import Forbidden
from sentoffers.keys import service
from sentoffers.keys.schemas import AppTokenIssued, AppTokenLogin, KeyCreate, KeyCreated

router = APIRouter(tags=["Keys"], route_class=ContractRoute)


@router.post(
    "/api/sent-offers/keys",
    status_code=201,
    response_model=KeyCreated,
    summary="Create an API key (admin)",
)
def create_key(body: KeyCreate, principal: CurrentPrincipal, request: Request) -> KeyCreated:
    """An admin creates keys for the accounts it holds; the token is shown only here."""
    principal.require_admin()
    outside = [a for a in body.accounts if not principal.has_account(a)]
    if outside:
        raise Forbidden(f"this key cannot grant accounts it does not hold: {outside}")
    key = service.create_key(request.app.state.db, body.role, body.accounts, label=body.label)
    return KeyCreated(
        app_key=key.app_key, app_token=key.app_token, role=key.role, accounts=list(key.accounts)
    )


@router.delete(
    "/api/sent-offers/keys/{appKey}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API key (admin)",
)
def revoke_key(
    app_key: Annotated[str, Path(alias="appKey")], principal: CurrentPrincipal, request: Request
) -> Response:
    principal.require_admin()
    service.revoke_key(request.app.state.db, app_key)
    request.app.state.authenticator.forget(app_key)
    return Response(status_code=204)


@router.post(
    "/api/vtexid/apptoken/login",
    response_model=AppTokenIssued,
    summary="Exchange an appKey and appToken for a VtexIdclientAutCookie token",
)
async def app_token_login(body: AppTokenLogin, request: Request) -> AppTokenIssued:
    authenticator: service.Authenticator = request.app.state.authenticator
    principal = await anyio.to_thread.run_sync(
        authenticator.authenticate, body.app_key, body.app_token
    )
    token, expires = authenticator.issue_token(principal)
    return AppTokenIssued(auth_status="Success", token=token, expires=expires)
