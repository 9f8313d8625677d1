"""Signing in and out of the web UI, and who a page request is signed in as.

Signing in checks an app key and token like the API does and that the key holds the
account; the session cookie then holds the key and the account, signed with the service's
secret and timed. Every request checks the key again (through the Authenticator's short
cache), so a revoked key's sessions stop working. The token itself is never kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from sentoffers.domain.errors import Unauthorized
from sentoffers.server.features.keys import Principal
from sentoffers.server.secret import signing_secret
from sentoffers.server.settings import Settings
from sentoffers.server.web.api.deps import AppSettings, AuthenticatorDep, LoginThrottleDep, parts_of
from sentoffers.server.web.api.limits import client_address
from sentoffers.server.web.ui import csrf
from sentoffers.server.web.ui.templating import render

SESSION_COOKIE = "sentoffers_session"
SESSION_SALT = "sentoffers.ui.session"
DEFAULT_PAGE = "/offers"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who a page is shown to: one account, through one key."""

    account: str
    principal: Principal


class SignInRequired(Exception):
    """Raised by pages without a valid session; answered with a redirect to /signin."""

    def __init__(self, next_url: str, *, clear: bool):
        super().__init__(next_url)
        self.next_url = next_url
        self.clear = clear


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_secret(settings), salt=SESSION_SALT)


def viewer_of(request: Request) -> Viewer | None:
    """The request's session, if it is signed, fresh, and its key still holds the account."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    parts = parts_of(request.app)
    settings = parts.settings
    try:
        data = _serializer(settings).loads(cookie, max_age=int(settings.ui_session.total_seconds()))
        app_key, account = str(data["k"]), str(data["a"])
    except (BadSignature, KeyError, TypeError):
        return None
    try:
        principal = parts.authenticator.principal_for_key(app_key)
    except Unauthorized:
        return None
    if not principal.has_account(account):
        return None
    return Viewer(account, principal)


def signed_in(request: Request) -> Viewer:
    """The page's viewer; without one, the page redirects to the sign-in form."""
    viewer = viewer_of(request)
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target, clear=SESSION_COOKIE in request.cookies)
    return viewer


SignedIn = Annotated[Viewer, Depends(signed_in)]


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another origin."""
    value = (value or "").strip()
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(c in value for c in "\\\r\n\t")
        or value.startswith(("/signin", "/signout"))
    ):
        return DEFAULT_PAGE
    return value


def signin_url(next_url: str) -> str:
    target = safe_next(next_url)
    if target == DEFAULT_PAGE:
        return "/signin"
    return f"/signin?next={quote(target, safe='/')}"


def redirect_to_signin(request: Request, error: SignInRequired) -> RedirectResponse:
    response = RedirectResponse(signin_url(error.next_url), status_code=303)
    if error.clear:
        clear_session(request, response)
    return response


def _signin_form(
    request: Request,
    *,
    next_url: str,
    account: str = "",
    app_key: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "signin.html",
        {"next": safe_next(next_url), "account": account, "app_key": app_key, "error": error},
        status_code=status_code,
    )


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    return _signin_form(request, next_url=next or "")


@router.post("/signin")
def signin(
    request: Request,
    logins: LoginThrottleDep,
    authenticator: AuthenticatorDep,
    settings: AppSettings,
    account: Annotated[str, Form()] = "",
    app_key: Annotated[str, Form()] = "",
    app_token: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    account, app_key, app_token = account.strip()[:128], app_key.strip()[:256], app_token.strip()

    def again(message: str, status_code: int) -> Response:
        return _signin_form(
            request,
            next_url=next,
            account=account,
            app_key=app_key,
            error=message,
            status_code=status_code,
        )

    if not csrf.is_valid(request, csrf_token):
        return again("The form had expired. Please sign in again.", 403)
    if not (account and app_key and app_token):
        return again("Enter the account, the app key and the app token.", 401)
    # Past too many failures for the key or from the address, the token is not checked.
    address = client_address(request.scope)
    wait = logins.retry_after(app_key, address)
    if wait is not None:
        throttled = again(f"Too many failed sign-ins. Please wait {wait} s, then try again.", 429)
        throttled.headers["Retry-After"] = str(wait)
        return throttled
    try:
        principal = authenticator.authenticate(app_key, app_token)
    except Unauthorized:
        logins.record_failure(app_key, address)
        return again("The app key or the app token is not valid.", 401)
    if not principal.has_account(account):
        return again(f"This key has no access to the account “{account}”.", 403)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(settings).dumps({"k": principal.app_key, "a": account}),
        max_age=int(settings.ui_session.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=csrf.secure_cookies(request),
    )
    return response


@router.post("/signout")
def signout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    if not csrf.is_valid(request, csrf_token):
        return render(
            request,
            "error.html",
            {
                "title": "Sign-out not confirmed",
                "message": "The sign-out form had expired. Please try again.",
            },
            status_code=403,
            viewer=viewer_of(request),
        )
    response = RedirectResponse("/signin", status_code=303)
    clear_session(request, response)
    return response


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=csrf.secure_cookies(request),
    )
