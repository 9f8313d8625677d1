"""The connector's affiliate endpoint refuses notifications without its secret (401) and
bodies over its limit (413, declared or chunked), and serves the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from sentoffers.connector.app import create_app
from sentoffers.connector.runtime import Connector
from sentoffers.connector.settings import ConnectorSettings, StoreSettings
from sentoffers.sandbox.adapter import SampleMarketplaceAdapter

SECRET = "a-long-notification-secret-0123456789"
NOTIFICATION = {"IdSku": "7", "An": "acme", "IdAffiliate": "SBX"}
ENDPOINT = "/api/notification/"


def connector_with(tmp_path: Path, **values: Any) -> Connector:
    store = StoreSettings(
        account="acme", vtex_base_url="http://127.0.0.1:9/{account}", app_key="k", app_token="t",
        affiliate_id="SBX",
    )  # fmt: skip
    settings = ConnectorSettings(
        stores=[store],
        marketplace_client_secret="s",
        database_url=f"sqlite:///{tmp_path / 'connector.db'}",
        **values,
    )
    return Connector(settings, SampleMarketplaceAdapter)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[tuple[Connector, FastAPI]]:
    connector = connector_with(tmp_path, notification_secret=SECRET)
    try:
        yield connector, create_app(connector)  # no lifespan: nothing is processed
    finally:
        connector.states.close()


def at(app: FastAPI, address: str = "203.0.113.9") -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_a_notification_needs_the_secret_in_the_query_or_a_header(
    guarded: tuple[Connector, FastAPI],
) -> None:
    connector, app = guarded
    client = at(app, "127.0.0.1")  # even from this machine, once a secret is set
    for params, headers in (
        ({}, {}),
        ({"secret": "wrong"}, {}),
        ({}, {"X-Notification-Secret": SECRET[:-1]}),
        ({"secret": ""}, {}),
    ):
        refused = client.post(ENDPOINT, json=NOTIFICATION, params=params, headers=headers)
        assert refused.status_code == 401, (params, headers, refused.text)
        assert refused.json()["errors"]
    assert connector.pending() == 0
    remote = at(app)
    by_query = remote.post(ENDPOINT, json=NOTIFICATION, params={"secret": SECRET})
    assert by_query.status_code == 200, by_query.text
    other = {**NOTIFICATION, "IdSku": "8"}
    by_header = remote.post(ENDPOINT, json=other, headers={"X-Notification-Secret": SECRET})
    assert by_header.status_code == 200, by_header.text
    assert connector.pending() == 2


def test_a_body_over_the_limit_is_refused_declared_or_chunked(
    guarded: tuple[Connector, FastAPI],
) -> None:
    connector, app = guarded
    client = at(app)
    padded = json.dumps({**NOTIFICATION, "padding": "x" * (64 * 1024)}).encode()
    declared = client.post(ENDPOINT, content=padded, params={"secret": SECRET})
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(padded), 4096):
            yield padded[start : start + 4096]

    chunked = client.post(ENDPOINT, content=chunks(), params={"secret": SECRET})
    assert chunked.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413
    assert connector.pending() == 0


def test_a_chunked_body_is_refused_before_it_is_read_whole(
    guarded: tuple[Connector, FastAPI],
) -> None:
    _, app = guarded
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b" " * 65536, "more_body": pulled < 5000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": ENDPOINT, "raw_path": ENDPOINT.encode(), "root_path": "",
        "query_string": f"secret={SECRET}".encode(), "server": ("127.0.0.1", 9000),
        "client": ("203.0.113.9", 40000),
        "headers": [(b"host", b"connector"), (b"transfer-encoding", b"chunked")],
    }  # fmt: skip
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 413
    assert pulled <= 2  # of 5,000 chunks (some 300 MB)


def test_without_a_secret_only_this_machine_is_served(tmp_path: Path) -> None:
    connector = connector_with(tmp_path)
    app = create_app(connector)
    try:
        assert at(app, "127.0.0.1").post(ENDPOINT, json=NOTIFICATION).status_code == 200
        assert at(app, "::1").post(ENDPOINT, json=NOTIFICATION).status_code == 200
        remote = at(app, "203.0.113.9").post(ENDPOINT, json=NOTIFICATION)
        assert remote.status_code == 401
        assert "SENTOFFERS_CONNECTOR_NOTIFICATION_SECRET" in remote.text
        proxied = at(app, "127.0.0.1").post(
            ENDPOINT, json=NOTIFICATION, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        assert proxied.status_code == 401
        # The body limit holds for this machine too.
        big = json.dumps({**NOTIFICATION, "padding": "x" * (64 * 1024)})
        assert at(app, "127.0.0.1").post(ENDPOINT, content=big).status_code == 413
        assert connector.pending() == 1
    finally:
        connector.states.close()
