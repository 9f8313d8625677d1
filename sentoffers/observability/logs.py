"""Log lines: JSON (one object a line) or text, each tagged with its request.

Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; a line
written while a request runs adds its ``request_id`` and ``account`` (the ``an`` query
parameter, else the key's only account); fields given with ``extra=`` are added as they
are (the access log's ``method``, ``route``, ``status``, ``duration_ms``). A line with an
exception adds ``error: {"type", "message"}`` (the first line of the message); the
traceback only when the level is DEBUG, so that a failing request writes one line, not a
page.

``configure_logging`` installs the format on the root logger and routes uvicorn's loggers
through it; ``request_context`` tags the lines of one request.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, TextIO
from urllib.parse import parse_qs

__all__ = [
    "ACCESS_LOGGER",
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "configure_logging",
    "describe_error",
    "request_context",
]

ACCESS_LOGGER = "sentoffers.access"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.asgi")
LogFormat = Literal["json", "text"]
_MAX_ERROR_MESSAGE = 500
# What every LogRecord holds; anything else on a record came with `extra=`.
# uvicorn's `color_message` repeats the message with terminal colours.
_RECORD_ATTRIBUTES = frozenset(
    {*logging.makeLogRecord({}).__dict__, "message", "asctime", "taskName", "color_message"}
)


class _Request:
    """The request a task is serving. Emptied when the request ends: a task started while
    it ran (a shared writer) keeps a copy of the context, and must not go on naming it."""

    __slots__ = ("_account", "scope")

    def __init__(self, scope: MutableMapping[str, Any]):
        self.scope: MutableMapping[str, Any] | None = scope
        self._account: str | None = None

    def fields(self) -> dict[str, str]:
        if self.scope is None:
            return {}
        found: dict[str, str] = {}
        # Read when a line is written: the id is given by a layer inside the one that
        # opened the context.
        request_id = self.scope.get("state", {}).get("request_id")
        if request_id:
            found["request_id"] = str(request_id)
        account = self._account or self._find_account()
        if account:
            found["account"] = account
        return found

    def _find_account(self) -> str | None:
        assert self.scope is not None
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        named = [value.strip() for value in query.get("an", []) if value.strip()]
        if named:
            self._account = named[0][:128]
            return self._account
        principal = self.scope.get("state", {}).get("principal")
        accounts = getattr(principal, "accounts", ())
        if len(accounts) == 1:
            return str(next(iter(accounts)))
        return None


_current: ContextVar[_Request | None] = ContextVar("sentoffers_request", default=None)


@contextmanager
def request_context(scope: MutableMapping[str, Any]) -> Iterator[None]:
    """Tag the log lines written while the block runs with the request of ``scope``."""
    scope.setdefault("state", {})  # shared with the inner layers, which write the id there
    request = _Request(scope)
    token = _current.set(request)
    try:
        yield
    finally:
        request.scope = None
        _current.reset(token)


def request_fields() -> dict[str, str]:
    """The ``request_id`` and ``account`` of the request being served, if any."""
    request = _current.get()
    return request.fields() if request is not None else {}


_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def describe_error(error: BaseException) -> dict[str, str]:
    """``{"type", "message"}`` of ``error``: the message's first line, cut short. Later
    lines are dropped: a database error's hold the statement and its parameters."""
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    if len(message) > _MAX_ERROR_MESSAGE:
        message = message[:_MAX_ERROR_MESSAGE] + "..."
    return {"type": type(error).__name__, "message": message}


class JsonFormatter(logging.Formatter):
    """One JSON object a line; tracebacks only when ``tracebacks`` (the DEBUG level)."""

    def __init__(self, *, tracebacks: bool = False):
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **request_fields(),
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = value
        error = _exc_info(record)
        if error is not None:
            entry["error"] = describe_error(error[1])
            if self.tracebacks:
                entry["traceback"] = self.formatException(error)
        if record.stack_info and self.tracebacks:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request account] message``, for a person at a terminal."""

    def __init__(self, *, tracebacks: bool = False):
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        fields = request_fields()
        tag = " ".join(fields[name] for name in ("request_id", "account") if name in fields)
        line = f"{_timestamp(record)} {record.levelname} {record.name}"
        if tag:
            line += f" [{tag}]"
        line += f" {record.getMessage()}"
        error = _exc_info(record)
        if error is not None:
            described = describe_error(error[1])
            line += f" ({described['type']}: {described['message']})"
            if self.tracebacks:
                line += "\n" + self.formatException(error)
        return line


def configure_logging(
    level: str = "info",
    log_format: LogFormat = "json",
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every logger's lines (uvicorn's too) to ``stream`` (stderr) in ``log_format``,
    at ``level`` and above; the access log (``sentoffers.access``) writes at INFO whatever
    the level (its health-probe and metrics lines at DEBUG). Replaces the root logger's
    handlers, as ``logging.basicConfig(force=True)`` would; answers the handler installed."""
    numeric = logging.getLevelNamesMapping()[level.upper()]
    debugging = numeric <= logging.DEBUG
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    handler.setFormatter(formatter(tracebacks=debugging))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.DEBUG if debugging else logging.INFO)
    return handler


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _exc_info(record: logging.LogRecord) -> _ExcInfo | None:
    info = record.exc_info
    if not info or info[0] is None or info[1] is None:
        return None
    return (info[0], info[1], info[2])
