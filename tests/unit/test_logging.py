"""The log lines: JSON objects (or text) tagged with the request, one line per error."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from sentoffers.observability.logs import (
    ACCESS_LOGGER,
    JsonFormatter,
    TextFormatter,
    configure_logging,
    request_context,
)


def _record(
    message: str = "hello %s",
    args: tuple[Any, ...] = ("world",),
    level: int = logging.INFO,
    error: BaseException | None = None,
    **extra: Any,
) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    record = logging.LogRecord("sentoffers.test", level, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    return record


def _raised(error: Exception) -> Exception:
    try:
        raise error
    except Exception as caught:
        return caught


def test_a_line_is_one_json_object_with_time_level_logger_and_message() -> None:
    line = JsonFormatter().format(_record())
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hello world"
    assert entry["level"] == "info"
    assert entry["logger"] == "sentoffers.test"
    assert entry["time"].endswith("Z")
    assert "T" in entry["time"]


def test_extra_fields_are_added_as_they_are_and_odd_values_as_text() -> None:
    entry = json.loads(JsonFormatter().format(_record(status=503, route="/health", odd=object())))
    assert entry["status"] == 503
    assert entry["route"] == "/health"
    assert entry["odd"].startswith("<object object")


def test_an_error_is_its_type_and_first_line_without_the_traceback() -> None:
    error = _raised(RuntimeError("the store fell over\n[SQL: SELECT secret FROM t]"))
    line = JsonFormatter().format(_record("failed", (), logging.ERROR, error))
    entry = json.loads(line)
    assert entry["error"] == {"type": "RuntimeError", "message": "the store fell over"}
    assert "traceback" not in entry
    assert "Traceback" not in line
    assert "SELECT secret" not in line


def test_the_traceback_is_written_only_when_asked_for_at_debug() -> None:
    error = _raised(ValueError("bad"))
    entry = json.loads(
        JsonFormatter(tracebacks=True).format(_record("failed", (), logging.ERROR, error))
    )
    assert entry["error"]["type"] == "ValueError"
    assert entry["traceback"].startswith("Traceback (most recent call last)")


def test_a_line_written_during_a_request_names_its_id_and_account() -> None:
    scope: dict[str, Any] = {"query_string": b"an=acme&x=1"}
    with request_context(scope):
        scope["state"]["request_id"] = "r-1"  # given by an inner layer, after the start
        entry = json.loads(JsonFormatter().format(_record()))
    assert entry["request_id"] == "r-1"
    assert entry["account"] == "acme"


def test_without_an_account_parameter_the_keys_only_account_is_named() -> None:
    class Principal:
        accounts = frozenset({"globex"})

    scope: dict[str, Any] = {"query_string": b"", "state": {"principal": Principal()}}
    with request_context(scope):
        entry = json.loads(JsonFormatter().format(_record()))
    assert entry["account"] == "globex"
    assert "request_id" not in entry


def test_a_task_started_during_a_request_stops_naming_it_once_it_ends() -> None:
    import contextvars

    scope: dict[str, Any] = {"query_string": b"an=acme", "state": {"request_id": "r-2"}}
    with request_context(scope):
        copied = contextvars.copy_context()  # what a task created now keeps
    entry = json.loads(copied.run(JsonFormatter().format, _record()))
    assert "request_id" not in entry
    assert "account" not in entry


def test_the_text_format_is_one_line_with_the_request_and_the_error() -> None:
    error = _raised(KeyError("sku"))
    scope: dict[str, Any] = {"query_string": b"an=acme", "state": {"request_id": "r-3"}}
    with request_context(scope):
        line = TextFormatter().format(_record("failed", (), logging.ERROR, error))
    assert "\n" not in line
    assert " ERROR sentoffers.test [r-3 acme] failed (KeyError: 'sku')" in line


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    touched = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER)]
    saved_loggers = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in touched]
    yield
    root.handlers[:], root.level = saved
    for lg, handlers, level, propagate in saved_loggers:
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


@pytest.mark.usefixtures("restored_logging")
def test_uvicorns_lines_and_the_services_share_one_json_format() -> None:
    stream = io.StringIO()
    uvicorn_logger = logging.getLogger("uvicorn.error")
    uvicorn_logger.addHandler(logging.StreamHandler(sys.stderr))  # as uvicorn's own setup
    configure_logging("warning", "json", stream=stream)
    uvicorn_logger.warning("Started server process [%d]", 7)
    logging.getLogger("sentoffers.jobs").info("not at warning")
    logging.getLogger(ACCESS_LOGGER).info("GET / 200", extra={"status": 200})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.error", "Started server process [7]"),
        (ACCESS_LOGGER, "GET / 200"),  # access lines are written whatever the level
    ]


@pytest.mark.usefixtures("restored_logging")
def test_at_debug_the_format_writes_tracebacks() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", "text", stream=stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("sentoffers.test").exception("failed")
    assert "Traceback (most recent call last)" in stream.getvalue()
