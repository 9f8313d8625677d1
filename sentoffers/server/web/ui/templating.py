"""Jinja2 templates (autoescaped, always) and the filters pages use.

Connector-supplied text reaches templates as plain strings and is escaped on output; no
template marks connector data ``|safe``. URLs a connector or an admin supplied go through
``safe_href``/``safe_src`` first, so no ``javascript:`` URL ever reaches an attribute, and no
image the page's Content-Security-Policy would refuse is shown broken (``security``).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from sentoffers.server.web.ui import csrf, views
from sentoffers.server.web.ui.security import image_origins_of, origin_of

TEMPLATES = Path(__file__).parent / "templates"


def human_date(value: str | datetime | None) -> str:
    """``24 Nov 2026, 08:31 UTC``; empty for no date."""
    moment = _as_datetime(value)
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def iso_date(value: str | datetime | None) -> str:
    moment = _as_datetime(value)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""


def _as_datetime(value: str | datetime | None) -> datetime | None:
    if not value:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def safe_href(url: str | None) -> str | None:
    """``url`` if it is an http(s) link or a path of this site, else None."""
    if not url:
        return None
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return url
    if not scheme and url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return None


def safe_src(url: str | None, image_origins: tuple[str, ...] = ()) -> str | None:
    """An image source the Content-Security-Policy lets load: https, data images, paths,
    and http URLs of the ``image_origins`` (``security.image_origins`` form) allowed."""
    if not url:
        return None
    url = url.strip()
    lowered = url.lower()
    if lowered.startswith("https://") or lowered.startswith("data:image/"):
        return url
    if url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    if image_origins and lowered.startswith("http://") and origin_of(url) in image_origins:
        return url
    return None


_page_image_origins: ContextVar[tuple[str, ...]] = ContextVar("page_image_origins", default=())
"""The extra image origins of the page ``render`` is rendering: macros imported from partials
(``product_image``) see no page context, so the filter reads them from here."""


def _safe_src_filter(url: str | None) -> str | None:
    """``safe_src`` with the image origins of the app rendering the page."""
    return safe_src(url, _page_image_origins.get())


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        human_date=human_date,
        iso_date=iso_date,
        safe_href=safe_href,
        safe_src=_safe_src_filter,
        thousands=lambda n: f"{n:,}",
    )
    env.globals.update(
        status_label=views.status_label,
        status_meaning=views.STATUS_MEANINGS,
        result_label=views.result_label,
        result_meaning=views.RESULT_MEANINGS,
        log_type_label=views.log_type_label,
        origin_label=views.origin_label,
        offer_url=views.offer_url,
        interaction_url=views.interaction_url,
        evidence_url=views.evidence_url,
    )
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    viewer: Any = None,
) -> HTMLResponse:
    """A page: ``context`` plus who is signed in and the form token of the sign-out form."""
    token = csrf.token_for(request)
    # The page is rendered here, at once, with the image origins of the app it is for.
    origins = _page_image_origins.set(image_origins_of(request.app))
    try:
        response = templates.TemplateResponse(
            request,
            name,
            {**context, "viewer": viewer, "csrf_token": token},
            status_code=status_code,
        )
    finally:
        _page_image_origins.reset(origins)
    csrf.remember(request, response)
    return response
