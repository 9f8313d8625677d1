"""A ``kill -9`` of the service mid-run loses no keyed write and duplicates none.

The real service (``python -m sentoffers serve``) runs on a fresh store, SQLite and
PostgreSQL. Eight threads send unified calls over loopback, each on an SKU of its own and
with an ``Idempotency-Key`` of its own, until the service is killed with SIGKILL in the
middle of the run. It is started again on the same store, and every key that got no answer
is sent again (the same request), with a sample of the answered ones. Then:

- every retried key answers 201, the original answer or a first write, never 409;
- an answered key is answered its original answer again, byte for byte;
- every SKU acknowledged or retried holds exactly one interaction and one log, and no SKU
  holds two.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sentoffers.contract.channels import ChannelCreate
from sentoffers.contract.feeds import FeedCreate
from sentoffers.domain.model import Role
from sentoffers.server.app import open_database
from sentoffers.server.features import channels as channels
from sentoffers.server.features import feeds as feeds
from sentoffers.server.features.keys import create_key
from sentoffers.server.settings import Settings
from sentoffers.server.store.tables import interactions, logs
from tests.support.postgres import PostgresServer
from tests.support.stack import Process, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

HOST = "127.0.0.1"
ACCOUNT = "crash"
FEED = "vtex.amazon"
THREADS = 8
KILL_AFTER_ACKNOWLEDGED = 120
"""Answers received before the kill: the run is well under way, calls are in flight."""
RUN_TIMEOUT_S = 20.0
START_TIMEOUT_S = 30.0
ANSWERED_SAMPLE = 24
_databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store (the ``service`` fixture brings it to the latest schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sentoffers.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"crash_{next(_databases)}_{int(time.time())}"
    server.create_database(name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@dataclass(frozen=True, slots=True)
class Sent:
    """One keyed call and what it got back (``None``: no answer, the service died)."""

    key: str
    sku: str
    body: bytes
    status: int | None = None
    content_type: str | None = None
    answer: bytes | None = None


class Service:
    """``sentoffers serve`` on ``database_url``, started again on the same store at will."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.process: Process | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        self.url = f"http://{HOST}:{port}"
        command = [
            sys.executable, "-m", "sentoffers", "serve", "--host", HOST, "--port", str(port),
            "--database-url", self.database_url, "--log-level", "warning",
        ]  # fmt: skip
        # Eight writers as fast as they go: far past one key's fair share of requests.
        env = {
            "SENTOFFERS_BACKGROUND_JOBS": "false",
            "SENTOFFERS_ENVIRONMENT": "test",
            "SENTOFFERS_RATE_LIMIT_KEY_PER_SECOND": "0",
            "SENTOFFERS_RATE_LIMIT_KEY_PER_MINUTE": "0",
        }
        self.process = Process("service", command, self.workdir / "service.log", {
            **os.environ, **env,
        })  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.process.alive:
                    raise RuntimeError(f"the service exited\n{self.process.tail()}")
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"the service did not answer /health\n{self.process.tail()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[tuple[Service, dict[str, str]]]:
    """The service, with a connector key, a channel and an active feed of ``ACCOUNT``."""
    db = open_database(Settings(database_url=database_url))
    try:
        key = create_key(db, Role.CONNECTOR, [ACCOUNT], label="crash test")
        channels.create(db, ACCOUNT, ChannelCreate(vendor="vtex", name="Amazon", logo="x"))
        feeds.activate(
            db,
            ACCOUNT,
            FeedCreate.model_validate({"id": FEED, "affiliateId": "AMZ", "salesChannels": "1"}),
        )
    finally:
        db.dispose()
    headers = {"X-VTEX-API-AppKey": key.app_key, "X-VTEX-API-AppToken": key.app_token}
    running = Service(database_url, tmp_path)
    running.start()
    try:
        yield running, headers
    finally:
        running.stop()


def call(thread: int, number: int) -> tuple[str, str, bytes]:
    sku, key = f"t{thread}-{number}", f"crash-{thread}-{number}"
    body = {
        "source": "seller",
        "origin": "price",
        "context": "ongoing",
        "type": "success",
        "description": f"price of {sku}",
        "agent": "crash test",
        "data": {"price": f"{number}.90", "currency": "BRL"},
    }
    return key, sku, json.dumps(body).encode()


def post(client: httpx.Client, url: str, headers: dict[str, str], sent: Sent) -> httpx.Response:
    return client.post(
        f"{url}/api/sent-offers/feeds/{FEED}/skus/{sent.sku}/interactions/unified",
        params={"an": ACCOUNT},
        content=sent.body,
        headers={**headers, "Idempotency-Key": sent.key, "Content-Type": "application/json"},
    )


def drive(url: str, headers: dict[str, str], kill: Callable[[], None]) -> list[Sent]:
    """Keyed calls from ``THREADS`` threads; ``kill`` once enough were answered; every call
    sent, answered or not, once each thread has met the dead service."""
    sent: list[Sent] = []
    lock = threading.Lock()
    acknowledged = threading.Semaphore(0)

    def run(thread: int) -> None:
        with httpx.Client(timeout=10.0) as client:
            for number in itertools.count():
                key, sku, body = call(thread, number)
                try:
                    answer = post(client, url, headers, Sent(key, sku, body))
                except httpx.TransportError:
                    with lock:
                        sent.append(Sent(key, sku, body))
                    return
                content_type = answer.headers.get("content-type")
                with lock:
                    sent.append(
                        Sent(key, sku, body, answer.status_code, content_type, answer.content)
                    )
                acknowledged.release()

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    answered = 0
    while answered < KILL_AFTER_ACKNOWLEDGED and time.monotonic() < deadline:
        if acknowledged.acquire(timeout=0.5):
            answered += 1
    kill()  # SIGKILL, calls in flight
    for thread in threads:
        thread.join(15)
    assert not any(thread.is_alive() for thread in threads), "a sender did not stop"
    return sent


def counts_per_sku(database_url: str) -> tuple[dict[str, int], dict[str, int]]:
    db = open_database(Settings(database_url=database_url), migrate=False)
    try:
        with db.engine.connect() as conn:
            found = [
                dict(
                    conn.execute(
                        select(table.c.sku_id, func.count())
                        .where(table.c.account == ACCOUNT)
                        .group_by(table.c.sku_id)
                    ).all()
                )
                for table in (interactions, logs)
            ]
    finally:
        db.dispose()
    return found[0], found[1]


def retry(url: str, headers: dict[str, str], calls: list[Sent]) -> list[httpx.Response]:
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(offset: int) -> None:
        with httpx.Client(timeout=10.0) as client:
            for index in range(offset, len(calls), THREADS):
                for _ in range(5):  # a 409 in_use asks to retry in a second: a few times
                    answer = post(client, url, headers, calls[index])
                    if answer.status_code != 409 or "in_use" not in answer.text:
                        break
                    time.sleep(0.25)
                answers[index] = answer

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(answer is not None for answer in answers), "a retry did not finish"
    return [answer for answer in answers if answer is not None]


def test_a_kill_mid_run_leaves_every_keyed_write_once_and_every_retry_answered(
    service: tuple[Service, dict[str, str]],
) -> None:
    running, headers = service
    sent = drive(running.url, headers, running.kill)
    running.start()  # the same store

    unanswered = [one for one in sent if one.status is None]
    answered = [one for one in sent if one.status is not None]
    refused = [one for one in answered if one.status != 201]
    sample = answered[:: max(1, len(answered) // ANSWERED_SAMPLE)]
    retried = retry(running.url, headers, unanswered)
    replayed = retry(running.url, headers, sample)
    per_sku_interactions, per_sku_logs = counts_per_sku(running.database_url)

    retry_failures = {
        one.key: (answer.status_code, answer.text[:120])
        for one, answer in zip(unanswered, retried, strict=True)
        if answer.status_code != 201
    }
    replay_failures = {
        one.key: (answer.status_code, answer.headers.get("idempotent-replayed"))
        for one, answer in zip(sample, replayed, strict=True)
        if answer.status_code != one.status
        or answer.content != one.answer
        or answer.headers.get("content-type") != one.content_type
        or answer.headers.get("idempotent-replayed") != "true"
    }
    retried_ok = [one for one, a in zip(unanswered, retried, strict=True) if a.status_code == 201]
    written = {one.sku for one in answered if one.status == 201} | {one.sku for one in retried_ok}
    not_once = {
        sku: (per_sku_interactions.get(sku, 0), per_sku_logs.get(sku, 0))
        for sku in written
        if (per_sku_interactions.get(sku, 0), per_sku_logs.get(sku, 0)) != (1, 1)
    }
    duplicates = {sku: n for sku, n in per_sku_interactions.items() if n > 1}
    replays = sum(answer.headers.get("idempotent-replayed") == "true" for answer in retried)
    refused_but_written = [  # the write committed, its answer did not: written again later
        one.key for one in unanswered if one.key in retry_failures and one.sku in per_sku_logs
    ]
    print(
        f"\n{running.database_url.split(':')[0]}: {len(sent)} keys sent, {len(answered)} "
        f"acknowledged, {len(unanswered)} unanswered and retried: {replays} replayed (written "
        f"before the kill), {len(retried_ok) - replays} written by the retry, "
        f"{len(retry_failures)} refused ({len(refused_but_written)} of them already written); "
        f"{len(sample)} answered keys retried, {len(replay_failures)} not replayed as first "
        f"answered; {len(duplicates)} SKU(s) written twice, {len(not_once)} not exactly once"
    )

    assert not refused, [(one.key, one.status, one.answer) for one in refused]
    assert unanswered, "the kill found no call in flight: nothing was tested"
    assert not retry_failures, retry_failures
    assert not replay_failures, replay_failures
    assert not not_once, not_once
    assert not duplicates, duplicates
