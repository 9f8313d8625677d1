"""Security headers on every web UI response, and which paths are the UI's.

The API (``/api``), its docs (``/docs``, ``/redoc``, ``/openapi.json``, which need their
CDN) and ``/health`` keep their own behaviour; everything else the service answers is the
web UI, error pages for unknown paths included.

Images load from the UI itself, from https: and data: URLs, and from the origins of the
``ui_image_origins`` setting (a catalog served over plain http, as the demo's sandbox): the
Content-Security-Policy's ``img-src`` (``SecurityHeadersMiddleware``, given them by
``create_app``) and the templates' ``safe_src`` filter (``image_origins_of(app)``) both read
them from the app's settings, so a page never shows an image its policy would refuse.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentoffers.server.web.api.deps import parts_of

NOT_UI_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/health")
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, in lower case and without a default port;
    None for any other URL, and for one with user info (``http://a@b/`` is b's)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, DEFAULT_PORTS[scheme]) else "")


@lru_cache(maxsize=16)
def image_origins(setting: str) -> tuple[str, ...]:
    """The origins a ``ui_image_origins`` value lists, each once, as ``origin_of`` writes them."""
    found = (origin_of(token) for token in setting.split())
    return tuple(dict.fromkeys(origin for origin in found if origin))


def image_origins_of(app: Starlette) -> tuple[str, ...]:
    """The extra image origins of the app's settings."""
    return image_origins(parts_of(app).settings.ui_image_origins)


def content_security_policy(image_origins: tuple[str, ...] = ()) -> str:
    """The UI's policy; ``image_origins`` are allowed images beside 'self', https: and data:."""
    img_src = " ".join(("'self'", "https:", "data:", *image_origins))
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {img_src}; "
        "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )


@lru_cache(maxsize=16)
def security_headers(image_origins: tuple[str, ...] = ()) -> tuple[tuple[bytes, bytes], ...]:
    """The headers of every UI response, the CSP allowing images from ``image_origins``."""
    return (
        (b"content-security-policy", content_security_policy(image_origins).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = security_headers()
"""The headers with no extra image origin: for pages that show no image (error pages)."""


def is_ui_path(path: str) -> bool:
    return path != "/api" and not path.startswith(NOT_UI_PREFIXES)


class SecurityHeadersMiddleware:
    """Adds the strict CSP and its companions to UI responses; pages are never cached.

    ``image_origins`` are the extra origins the CSP allows images from (``image_origins``
    of the app's ``ui_image_origins`` setting).
    """

    def __init__(self, app: ASGIApp, image_origins: tuple[str, ...] = ()):
        self.app = app
        self.headers = security_headers(image_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_ui_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        added = self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in added}
                if not static:
                    names.add(b"cache-control")
                headers = [(k, v) for k, v in message.get("headers", []) if k not in names]
                headers.extend(added)
                if not static:
                    # Pages hold a seller's data: never kept by the browser or a proxy.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
