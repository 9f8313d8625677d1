"""ASGI middleware: request ids, printable request lines and headers, the request body limit;
request logs and metrics, and the last resort for errors."""

from __future__ import annotations

import inspect
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentoffers.domain.errors import InvalidInput, PayloadTooLarge, Problem
from sentoffers.domain.vocabulary import parse_line
from sentoffers.observability.logs import ACCESS_LOGGER, request_context
from sentoffers.observability.metrics import observe_request
from sentoffers.server.web.api.errors import error_response, request_id

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""A client's ``X-Request-Id`` is kept only if it matches; otherwise the request gets a new
id, so that what is echoed back and written to the logs is never the client's raw bytes."""

# RFC 9110 field values: visible characters, spaces and tabs, and obs-text; never a control.
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class RequestIdMiddleware:
    """Names the request, and checks what the layers inside it read before any of them
    reads it.

    The request's id is the client's ``X-Request-Id`` when sane (``SANE_REQUEST_ID``), else
    a new one; it is answered in ``X-Request-Id``. A path, query parameter or header holding
    a control character is answered 400 here, each one listed with its name, before
    authentication, idempotency, the API's routes or the web UI look a key, an account or
    an id up in the store (where PostgreSQL cannot hold NUL).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        if SANE_REQUEST_ID.fullmatch(incoming):
            scope.setdefault("state", {})["request_id"] = incoming
        rid = request_id(scope).encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", rid)]
            await send(message)

        problems = unprintable_request_parts(scope)
        if problems:
            await error_response(InvalidInput.of(problems), scope)(scope, receive, send_with_id)
            return
        await self.app(scope, receive, send_with_id)


def unprintable_request_parts(scope: Scope) -> list[Problem]:
    """A problem for each path parameter, query parameter or header holding a control
    character (``parse_line``; a header may hold tabs, as HTTP allows). ``X-Request-Id`` is
    not checked: an insane one is replaced, not refused."""
    problems: list[Problem] = []
    try:
        parse_line(scope["path"])
    except ValueError:
        problems.extend(_path_problems(scope))
    # Read as Starlette reads it for the routes, so the check sees what they would see.
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    for name, value in query:
        try:
            parse_line(name)
        except ValueError as error:
            problems.append(Problem("invalid", f"a query parameter's name: {error}", "query"))
            continue
        try:
            parse_line(value)
        except ValueError as error:
            problems.append(Problem("invalid", str(error), name))
    for raw_name, raw_value in scope["headers"]:
        found = _HEADER_CONTROL.search(raw_value)
        if found and raw_name != b"x-request-id":
            problems.append(
                Problem(
                    "invalid",
                    f"the value holds the control character U+{found.group()[0]:04X} at "
                    f"character {found.start() + 1}; header values take no control characters",
                    raw_name.decode("latin-1"),
                )
            )
    return problems


def _path_problems(scope: Scope) -> list[Problem]:
    """The path's problems, each named by the path parameter that holds it, as the API's
    schema names it; outside the API (the web UI), the whole path is named ``path``."""
    segments = scope["path"].split("/")
    for template in _path_templates(scope.get("app")):
        names = template.split("/")
        if len(names) != len(segments) or not all(
            name == segment or _is_parameter(name)
            for name, segment in zip(names, segments, strict=True)
        ):
            continue
        problems = []
        for name, segment in zip(names, segments, strict=True):
            try:
                parse_line(segment)
            except ValueError as error:
                problems.append(Problem("invalid", str(error), name.strip("{}")))
        return problems
    try:
        parse_line(scope["path"])
    except ValueError as error:
        return [Problem("invalid", str(error), "path")]
    return []


def _path_templates(app: Any) -> list[str]:
    openapi = getattr(app, "openapi", None)
    return list(openapi().get("paths", {})) if callable(openapi) else []


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


class BodyLimitMiddleware:
    """Answer 413 to bodies over ``max_bytes``, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = PayloadTooLarge(
            f"the request body is over the limit of {self.max_bytes} bytes", field="body"
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            # The server reads no more than the declared length.
            if declared.isdigit() and int(declared) > self.max_bytes:
                await error_response(too_large, scope)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No declared length (a chunked body): read it here, up to the limit, and hand it on
        # whole. Refused while the app reads it, the limit would become the reader's error
        # (FastAPI answers 400 to any failure while reading a body).
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before the end of its body
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await error_response(too_large, scope)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving ``body`` whole, then whatever the client sends next (its
    disconnection)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


# Request logs, metrics and the last resort for errors ---------------------------------------

access_logger = logging.getLogger(ACCESS_LOGGER)

QUIET_PATHS = ("/health", "/metrics")
"""Probes and scrapes come every few seconds: their access lines are written at DEBUG."""


class RequestLogMiddleware:
    """The outermost layer: tags the log lines written while a request runs with its id and
    account, counts it in the metrics by route template and status and, with
    ``access_log``, writes one access line once it is answered."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True):
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before answering

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with request_context(scope):
            try:
                await self.app(scope, receive, recording_send)
            finally:
                seconds = time.perf_counter() - started
                route = route_template(scope)
                observe_request(scope["method"], route, status, seconds)
                if self.access_log:
                    _log_access(scope, route, status, seconds)


def _log_access(scope: Scope, route: str, status: int, seconds: float) -> None:
    level = logging.DEBUG if scope["path"].startswith(QUIET_PATHS) else logging.INFO
    if not access_logger.isEnabledFor(level):
        return
    method, path, duration_ms = scope["method"], scope["path"], round(seconds * 1000, 1)
    access_logger.log(
        level,
        "%s %s %s %sms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/api/sent-offers/feeds/{feedId}``), or
    of the API route that would have, for an answer given before routing (401); else
    ``unmatched``. Never the raw path, so that the metrics' labels stay few."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str) and template:
        return template
    segments = scope["path"].split("/")
    best, best_literals = "unmatched", -1
    for candidate in _path_templates(scope.get("app")):
        names = candidate.split("/")
        if len(names) != len(segments):
            continue
        literals = 0
        for name, segment in zip(names, segments, strict=True):
            if name == segment:
                literals += 1
            elif not _is_parameter(name):
                break
        else:
            if literals > best_literals:  # `/feeds/batch` before `/feeds/{feedId}`
                best, best_literals = candidate, literals
    return best


class UnexpectedErrorMiddleware:
    """Answers an exception that no inner layer answered with the app's handler for its
    class (``install_error_handlers``: 503 for a store outage, else the generic 500).

    Starlette's own last resort answers with the same handler, but then raises the
    exception again to the server, which writes its traceback and closes the connection,
    keep-alive or not. Here the connection stays open. Left to Starlette: an exception
    met once part of the answer is out (only closing the connection tells the client its
    answer is cut) and, with ``reraise`` (tests), an unexpected one, so that the test
    client raises it and the test fails.
    """

    def __init__(self, app: ASGIApp, *, reraise: bool = False):
        self.app = app
        self.reraise = reraise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            handlers = getattr(scope.get("app"), "exception_handlers", {})
            handled_as = next((c for c in type(error).__mro__ if c in handlers), None)
            if started or handled_as is None or (self.reraise and handled_as is Exception):
                raise  # to Starlette's last resort (see the class's docstring)
            response = handlers[handled_as](Request(scope, receive), error)
            if inspect.isawaitable(response):
                response = await response
            assert isinstance(response, Response)
            await response(scope, receive, send)
