"""Rendering errors as ``{"errors": [{"code", "message", "field"}]}``, every problem listed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from sentoffers.contract import validation_problems
from sentoffers.domain.errors import Problem, ServiceError

logger = logging.getLogger("sentoffers.api")

STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,  # the database is down, unreachable, locked, or its disk failed
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,  # every connection of the pool is busy
)
"""Errors that say the store cannot be used now, not that the request is wrong: answered
503 ``store_unavailable`` with ``Retry-After``."""
STORE_RETRY_AFTER_SECONDS = 5

_STATUS_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ProblemBody(BaseModel):
    code: str
    message: str
    field: str | None


class ErrorBody(BaseModel):
    """What every error answers: each problem found, with its code and field."""

    errors: list[ProblemBody]


_ERROR_DESCRIPTIONS = {
    400: "Invalid input: every problem found is listed",
    401: "Credentials are missing or wrong",
    403: "The credentials do not give access to this account or operation",
    404: "No such resource",
    409: "Conflicts with the resource's current state",
    410: "The resource's details were purged",
    413: "The request body is over the limit",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in _ERROR_DESCRIPTIONS.items()
}
"""The error answers documented on every route (``ContractRoute``)."""


def render(problems: Sequence[Problem]) -> dict[str, Any]:
    return {"errors": [{"code": p.code, "message": p.message, "field": p.field} for p in problems]}


def request_id(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    rid = state.get("request_id")
    if not rid:
        rid = uuid.uuid4().hex
        state["request_id"] = rid
    return str(rid)


def error_response(error: ServiceError, scope: Scope) -> JSONResponse:
    headers = {"X-Request-Id": request_id(scope)}
    if error.status_code == 401:
        headers["WWW-Authenticate"] = 'VtexAppKey realm="sent-offers"'
    return JSONResponse(render(error.problems), status_code=error.status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, error: ServiceError) -> JSONResponse:
        return error_response(error, request.scope)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            render(validation_problems(error.errors())),
            status_code=400,
            headers={"X-Request-Id": request_id(request.scope)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(error.status_code, "error")
        message = str(error.detail)
        if error.status_code == 404:
            message = f"no such resource: {request.method} {request.url.path}"
        return JSONResponse(
            render([Problem(code, message)]),
            status_code=error.status_code,
            headers={**(error.headers or {}), "X-Request-Id": request_id(request.scope)},
        )

    async def _store_unavailable(request: Request, error: Exception) -> JSONResponse:
        rid = request_id(request.scope)
        # One line, no traceback (unless at DEBUG): an outage fails every request.
        logger.error("store unavailable handling request %s", rid, exc_info=error)
        message = f"the store is unavailable; retry in {STORE_RETRY_AFTER_SECONDS} seconds"
        return JSONResponse(
            render([Problem("store_unavailable", message)]),
            status_code=503,
            headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS), "X-Request-Id": rid},
        )

    for unavailable in STORE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _store_unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        rid = request_id(request.scope)
        # One line with the error's type and message; the traceback only at DEBUG.
        logger.error("unexpected error handling request %s", rid, exc_info=error)
        return JSONResponse(
            render([Problem("internal_error", f"unexpected error; request id {rid}")]),
            status_code=500,
            headers={"X-Request-Id": rid},
        )
