"""Double-submit form tokens: a random token in a SameSite=Strict cookie, echoed by forms.

A cross-site form cannot read the cookie, so it cannot send the matching field; and with
SameSite=Strict the browser does not even send the cookie on a cross-site POST.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from sentoffers.server.web.api.deps import parts_of

CSRF_COOKIE = "sentoffers_csrf"
CSRF_FIELD = "csrf_token"


def secure_cookies(request: Request) -> bool:
    """Whether the UI's cookies are ``Secure``: on a request that came over HTTPS (directly,
    or through a proxy whose ``X-Forwarded-Proto`` uvicorn trusts), or always if configured."""
    return request.url.scheme == "https" or bool(parts_of(request.app).settings.ui_secure_cookie)


def token_for(request: Request) -> str:
    """The request's form token: the cookie's, or a new one ``remember`` will set."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if _well_formed(existing):
        return existing
    token: str | None = getattr(request.state, "new_csrf_token", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf_token = token
    return token


def remember(request: Request, response: Response) -> None:
    """Set the cookie of a token made for this request."""
    token = getattr(request.state, "new_csrf_token", None)
    if token is None:
        return
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


def is_valid(request: Request, submitted: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return _well_formed(cookie) and hmac.compare_digest(cookie.encode(), (submitted or "").encode())


def _well_formed(token: str) -> bool:
    return 20 <= len(token) <= 100 and token.replace("-", "").replace("_", "").isalnum()
