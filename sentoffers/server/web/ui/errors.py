"""Error pages: the web UI answers HTML where the API answers JSON."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sentoffers.server.web.api.errors import request_id
from sentoffers.server.web.ui.security import SECURITY_HEADERS, is_ui_path
from sentoffers.server.web.ui.session import SignInRequired, redirect_to_signin, viewer_of
from sentoffers.server.web.ui.templating import render


def install_error_pages(app: FastAPI) -> None:
    """HTML error pages for UI paths; API paths keep the handlers installed before."""
    api_http_error = app.exception_handlers[StarletteHTTPException]
    api_validation_error = app.exception_handlers[RequestValidationError]
    api_unexpected = app.exception_handlers[Exception]

    async def sign_in_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInRequired)
        return redirect_to_signin(request, error)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if not is_ui_path(request.url.path):
            return await _call(api_http_error, request, error)
        return await error_page(request, error.status_code)

    async def validation_error(request: Request, error: Exception) -> Response:
        if not is_ui_path(request.url.path):
            return await _call(api_validation_error, request, error)
        return await error_page(request, 400)

    async def unexpected(request: Request, error: Exception) -> Response:
        # The API's handler logs the error with its request id, whatever the path.
        response = await _call(api_unexpected, request, error)
        if not is_ui_path(request.url.path):
            return response
        # Answered outside the middleware stack: the security headers are added here.
        page = render(
            request,
            "error.html",
            {
                "title": "Something went wrong",
                "message": "The page could not be shown. Please try again in a moment "
                f"(reference {request_id(request.scope)}).",
            },
            status_code=500,
        )
        page.headers.update({k.decode(): v.decode() for k, v in SECURITY_HEADERS})
        page.headers["cache-control"] = "no-store"
        page.headers["x-request-id"] = request_id(request.scope)
        return page

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


async def _call(
    handler: Callable[[Request, Exception], Response | Awaitable[Response]],
    request: Request,
    error: Exception,
) -> Response:
    response = handler(request, error)
    if inspect.isawaitable(response):
        response = await response
    assert isinstance(response, Response)
    return response


async def error_page(request: Request, status_code: int) -> Response:
    viewer = await anyio.to_thread.run_sync(viewer_of, request)
    if status_code == 404:
        return render(request, "not_found.html", {}, status_code=404, viewer=viewer)
    try:
        title = HTTPStatus(status_code).phrase
    except ValueError:
        title = "Error"
    return render(
        request,
        "error.html",
        {"title": title, "message": "The page could not be shown."},
        status_code=status_code,
        viewer=viewer,
    )
