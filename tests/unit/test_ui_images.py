"""Which images the web UI shows, and the Content-Security-Policy that lets them load.

https: and data: images and the UI's own paths are shown as ever; a plain http image only
when its origin is listed in ``ui_image_origins`` (as the demo lists its sandbox), and the
policy's ``img-src`` names exactly those origins beside its usual sources.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from sentoffers.server.settings import Settings
from sentoffers.server.web.ui.security import (
    CONTENT_SECURITY_POLICY,
    SecurityHeadersMiddleware,
    content_security_policy,
    image_origins,
    origin_of,
)
from sentoffers.server.web.ui.templating import safe_src

SANDBOX = "http://127.0.0.1:8001"
ALLOWED = image_origins(SANDBOX)


def img_src(policy: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("img-src"))


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/a.jpg",
        "HTTPS://CDN.example.com/a.jpg",
        "data:image/png;base64,iVBORw0KGgo=",
        "/static/favicon.svg",
    ],
)
def test_https_data_images_and_own_paths_are_shown_with_or_without_extra_origins(
    url: str,
) -> None:
    assert safe_src(url) == url
    assert safe_src(url, ALLOWED) == url


def test_an_http_image_is_refused_when_no_origin_is_listed() -> None:
    assert safe_src(f"{SANDBOX}/arquivos/ids/1/a.jpg") is None


def test_an_http_image_of_a_listed_origin_is_shown() -> None:
    url = f"{SANDBOX}/arquivos/ids/150005/casa-lume-pillow-1.jpg"
    assert safe_src(url, ALLOWED) == url
    assert safe_src(f"  {url}\n", ALLOWED) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8002/a.jpg",  # another port
        "http://127.0.0.1/a.jpg",  # port 80
        "http://localhost:8001/a.jpg",  # another host name
        "http://127.0.0.1:8001@evil.example/a.jpg",  # user info: the host is evil.example
        "http://evil.example/?u=http://127.0.0.1:8001/a.jpg",
        "http://127.0.0.1.evil.example:8001/a.jpg",
        "//127.0.0.1:8001/a.jpg",
        "javascript:alert(1)//http://127.0.0.1:8001",
        "data:text/html,<script>alert(1)</script>",
        "ftp://127.0.0.1:8001/a.jpg",
        "http://127.0.0.1:99999/a.jpg",  # no such port
    ],
)
def test_every_other_http_or_unsafe_source_stays_refused(url: str) -> None:
    assert safe_src(url, ALLOWED) is None


def test_origins_are_compared_in_lower_case_and_without_default_ports() -> None:
    assert origin_of("HTTP://Images.Example:80/a.jpg") == "http://images.example"
    assert origin_of("https://images.example:443/a.jpg") == "https://images.example"
    assert origin_of("http://[::1]:8001/a.jpg") == "http://[::1]:8001"
    allowed = image_origins("http://images.example")
    assert safe_src("http://IMAGES.example:80/a.jpg", allowed) == "http://IMAGES.example:80/a.jpg"


def test_the_setting_lists_origins_separated_by_spaces_each_once() -> None:
    setting = Settings(
        ui_image_origins=" http://127.0.0.1:8001  http://Img.local http://img.local:80 "
    )
    assert image_origins(setting.ui_image_origins) == ("http://127.0.0.1:8001", "http://img.local")
    assert image_origins(Settings().ui_image_origins) == ()


@pytest.mark.parametrize(
    "value",
    [
        "http://127.0.0.1:8001; script-src *",
        "http://a.example 'unsafe-inline'",
        "http://a.example/images",
        "*",
        "http:",
        "http://a.examplehttp://b.example",
        "ftp://a.example",
    ],
)
def test_the_setting_refuses_anything_but_origins(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(ui_image_origins=value)


def test_the_default_policy_allows_images_from_the_ui_https_and_data_only() -> None:
    assert content_security_policy() == CONTENT_SECURITY_POLICY
    assert img_src(CONTENT_SECURITY_POLICY) == "img-src 'self' https: data:"
    assert "http:" not in CONTENT_SECURITY_POLICY.replace("https:", "")


def test_listed_origins_join_img_src_and_nothing_else_of_the_policy() -> None:
    policy = content_security_policy(image_origins(f"{SANDBOX} http://img.local"))
    assert img_src(policy) == f"img-src 'self' https: data: {SANDBOX} http://img.local"
    others = [part for part in policy.split("; ") if not part.startswith("img-src")]
    assert others == [
        part for part in CONTENT_SECURITY_POLICY.split("; ") if not part.startswith("img-src")
    ]


def _app(settings: Settings | None) -> TestClient:
    async def page(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("a page")

    app = Starlette(routes=[Route("/offers", page), Route("/api/x", page)])
    origins = image_origins(settings.ui_image_origins) if settings is not None else ()
    app.add_middleware(SecurityHeadersMiddleware, image_origins=origins)
    return TestClient(app)


def test_ui_pages_get_the_policy_with_the_apps_image_origins() -> None:
    with _app(Settings(ui_image_origins=SANDBOX)) as client:
        response = client.get("/offers")
    assert img_src(response.headers["content-security-policy"]) == (
        f"img-src 'self' https: data: {SANDBOX}"
    )


def test_an_app_without_image_origins_sends_the_default_policy() -> None:
    for settings in (Settings(), None):
        with _app(settings) as client:
            response = client.get("/offers")
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_api_responses_carry_no_ui_policy() -> None:
    with _app(Settings(ui_image_origins=SANDBOX)) as client:
        response = client.get("/api/x")
    assert "content-security-policy" not in response.headers
