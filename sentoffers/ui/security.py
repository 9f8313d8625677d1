"""Security headers on every web UI response, and which paths are the UI's.

The API (``/api``), its docs (``/docs``, ``/redoc``, ``/openapi.json``, which need their
CDN) and ``/health`` keep their own behaviour; everything else the service answers is the
web UI, error pages for unknown paths included.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOT_UI_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/health")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


def is_ui_path(path: str) -> bool:
    return path != "/api" and not path.startswith(NOT_UI_PREFIXES)


class SecurityHeadersMiddleware:
    """Adds the strict CSP and its companions to UI responses; pages are never cached."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_ui_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in SECURITY_HEADERS}
                if not static:
                    names.add(b"cache-control")
                headers = [(k, v) for k, v in message.get("headers", []) if k not in names]
                headers.extend(SECURITY_HEADERS)
                if not static:
                    # Pages hold a seller's data: never kept by the browser or a proxy.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
