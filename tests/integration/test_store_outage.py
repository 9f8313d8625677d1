"""A store outage answers 503 with ``Retry-After``, logs one line per failed request, and
leaves the client's keep-alive connection open; so does an unexpected error (500)."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sentoffers.domain.model import Role
from sentoffers.observability.logs import ACCESS_LOGGER, configure_logging
from sentoffers.server.app import create_app
from sentoffers.server.features.keys import NewKey, create_key
from sentoffers.server.settings import Settings
from tests.integration.conftest import ACCOUNT, FEED, Api
from tests.support.outage import StoreOutage

UNIFIED = {
    "source": "seller",
    "origin": "catalog",
    "context": "ongoing",
    "type": "success",
    "description": "done",
    "agent": "connector",
}


@pytest.fixture
def outage(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[StoreOutage]:
    sqlite = database_url.startswith("sqlite")
    server = None if sqlite else request.getfixturevalue("postgres_server")
    with StoreOutage.of(database_url, tmp_path / "volume", server) as store:
        yield store


@pytest.fixture
def key(outage: StoreOutage) -> NewKey:
    return create_key(outage.db, Role.CONNECTOR, [ACCOUNT])


def _app(outage: StoreOutage, **values: Any) -> FastAPI:
    # A secret of its own: a development app would otherwise keep one in ./data.
    secret = "outage-tests-secret-0123456789abcdef"
    values = {"background_jobs": False, "environment": "test", "secret_key": secret, **values}
    return create_app(Settings(database_url=outage.url, **values), outage.db)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The service's log lines, as JSON, at INFO; the logging set-up is restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    touched = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER)]
    saved_loggers = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in touched]
    stream = io.StringIO()
    configure_logging("info", "json", stream=stream)
    yield stream
    root.handlers[:], root.level = saved
    for lg, handlers, level, propagate in saved_loggers:
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("cached_key", [True, False], ids=["in-the-route", "in-authentication"])
def test_a_store_outage_answers_503_with_retry_after_not_500(
    outage: StoreOutage, key: NewKey, cached_key: bool
) -> None:
    # A key seen within auth_cache_seconds is not looked up: the route meets the outage.
    app = _app(outage, auth_cache_seconds=30 if cached_key else 0)
    with TestClient(app) as client:
        api = Api(client, key.app_key, key.app_token, ACCOUNT)
        assert api.get("/feeds").status_code == 200
        outage.take_away()
        answers = [
            api.get("/feeds"),
            api.unified("S1", UNIFIED),  # through the group commit's writer
            api.post("/channels", {"vendor": "vtex", "name": "Amazon", "logo": "https://l/x"}),
        ]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "5"
            assert answer.headers["x-request-id"]
            (problem,) = answer.json()["errors"]
            assert problem["code"] == "store_unavailable"
            assert "retry in 5 seconds" in problem["message"]
        outage.give_back()
        assert api.get("/feeds").status_code == 200


def test_each_failed_request_is_one_json_error_line_with_its_id_and_account(
    outage: StoreOutage, key: NewKey, log_lines: io.StringIO
) -> None:
    with TestClient(_app(outage)) as client:
        api = Api(client, key.app_key, key.app_token, ACCOUNT)
        outage.take_away()
        for n in (1, 2):
            answer = api.get(f"/feeds/{FEED}", headers={"X-Request-Id": f"outage-{n}"})
            assert answer.status_code == 503
    lines = _lines(log_lines)
    assert "Traceback" not in log_lines.getvalue()
    for n in (1, 2):
        mine = [line for line in lines if line.get("request_id") == f"outage-{n}"]
        errors = [line for line in mine if line["level"] == "error"]
        assert len(errors) == 1, mine
        (error,) = errors
        assert error["account"] == ACCOUNT
        assert error["logger"] == "sentoffers.api"
        assert error["error"]["type"] == "OperationalError"
        assert "traceback" not in error
        (access,) = [line for line in mine if line["logger"] == ACCESS_LOGGER]
        assert access["status"] == 503
        assert access["route"] == "/api/sent-offers/feeds/{feedId}"
        assert access["method"] == "GET"
        assert access["account"] == ACCOUNT
        assert isinstance(access["duration_ms"], float)


def _broken(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a bug\nwith a second line")


def test_an_unexpected_error_is_a_generic_500_with_the_request_id_and_one_line(
    outage: StoreOutage, key: NewKey, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentoffers.server.features import feeds as service

    monkeypatch.setattr(service, "list_feeds", _broken)
    with TestClient(_app(outage, environment="development")) as client:
        api = Api(client, key.app_key, key.app_token, ACCOUNT)
        answer = api.get("/feeds", headers={"X-Request-Id": "bug-1"})
    assert answer.status_code == 500
    (problem,) = answer.json()["errors"]
    assert problem == {
        "code": "internal_error",
        "message": "unexpected error; request id bug-1",
        "field": None,
    }
    errors = [line for line in _lines(log_lines) if line["level"] == "error"]
    assert len(errors) == 1, errors
    assert errors[0]["request_id"] == "bug-1"
    assert errors[0]["error"] == {"type": "RuntimeError", "message": "a bug"}
    assert "Traceback" not in log_lines.getvalue()


def test_in_tests_an_unexpected_error_reaches_the_test_client(
    outage: StoreOutage, key: NewKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentoffers.server.features import feeds as service

    monkeypatch.setattr(service, "list_feeds", _broken)
    with TestClient(_app(outage)) as client:
        api = Api(client, key.app_key, key.app_token, ACCOUNT)
        with pytest.raises(RuntimeError, match="a bug"):
            api.get("/feeds")


# Keep-alive on a real server -----------------------------------------------------------------


@contextmanager
def _serving(app: FastAPI) -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_config=None, access_log=False, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


def _exchange(reader: Any, conn: socket.socket, request: str) -> tuple[int, dict[str, str]]:
    """Send one HTTP/1.1 request on ``conn``; its answer's status and headers (the body is
    read and dropped). Fails if the server closed the connection."""
    conn.sendall(request.encode("latin-1"))
    status_line = reader.readline()
    assert status_line, "the server closed the connection"
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := reader.readline().decode("latin-1").strip()) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    reader.read(int(headers.get("content-length", "0")))
    return status, headers


@pytest.mark.parametrize("failure", ["store-outage", "bug"])
def test_the_connection_stays_open_after_a_failed_request(
    outage: StoreOutage,
    key: NewKey,
    failure: str,
    log_lines: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Outside tests, an unexpected error is answered and not raised again.
    app = _app(outage, environment="development")
    if failure == "bug":
        from sentoffers.server.features import feeds as service

        monkeypatch.setattr(service, "list_feeds", _broken)
    credentials = f"X-VTEX-API-AppKey: {key.app_key}\r\nX-VTEX-API-AppToken: {key.app_token}\r\n"
    failing = f"GET /api/sent-offers/feeds?an={ACCOUNT} HTTP/1.1\r\nHost: t\r\n{credentials}\r\n"
    with _serving(app) as port, socket.create_connection(("127.0.0.1", port), 10) as conn:
        reader = conn.makefile("rb")
        if failure == "store-outage":
            outage.take_away()
        status, headers = _exchange(reader, conn, failing)
        assert status == (503 if failure == "store-outage" else 500)
        assert headers.get("connection") != "close"
        status, _ = _exchange(reader, conn, "GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status == 200
        reader.close()
    assert "Traceback" not in log_lines.getvalue()
    assert "Exception in ASGI application" not in log_lines.getvalue()
