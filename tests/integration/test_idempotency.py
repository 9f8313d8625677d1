"""POSTs sent with an ``Idempotency-Key`` write once, however often they are retried, and
whenever the service dies: the key, the write and the answer commit together."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import func, select, update
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from typer.testing import CliRunner

from sentoffers.cli import app as cli
from sentoffers.contract.channels import ChannelCreate
from sentoffers.contract.interactions import UnifiedCreate
from sentoffers.domain.idempotency import StoredResponse
from sentoffers.domain.model import Role
from sentoffers.server.features import channels as channels_service
from sentoffers.server.features.interactions import service
from sentoffers.server.features.interactions import writer as writer_module
from sentoffers.server.features.interactions.service import Applied
from sentoffers.server.features.interactions.writer import UnifiedWriter
from sentoffers.server.features.keys import Principal
from sentoffers.server.features.retention import purge_expired
from sentoffers.server.store import idempotency as store_idempotency
from sentoffers.server.store.idempotency import (
    IN_PROGRESS_LEASE,
    Claim,
    ClaimState,
    KeyedRequest,
    KeyLedger,
    KeyTaken,
    claim,
    claim_key,
    claim_keys,
)
from sentoffers.server.store.tables import channels, feeds, idempotency_keys, interactions, logs
from sentoffers.server.web.api.idempotency import IdempotencyMiddleware, keyed_write
from sentoffers.sql.db import Database, create_db_engine
from tests.integration.conftest import ACCOUNT, FEED, OTHER_ACCOUNT, Api
from tests.support.postgres import PostgresServer

TTL = timedelta(hours=24)
OPEN = f"/feeds/{FEED}/skus/1/interactions"
UNIFIED = f"/feeds/{FEED}/skus/1/interactions/unified"
INTERACTION = {
    "startDate": "2024-03-01",
    "source": "seller",
    "origin": "catalog",
    "context": "setup",
}
REPORT = {
    "source": "seller",
    "origin": "price",
    "context": "ongoing",
    "type": "success",
    "description": "price sent",
    "agent": "connector",
    "data": {"price": "9.90", "currency": "BRL"},
}


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def count(db: Database, table: Any) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def stored_keys(db: Database) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(idempotency_keys).order_by(idempotency_keys.c.account))
        return [dict(row._mapping) for row in rows]


def age_keys(db: Database, by: timedelta) -> None:
    """Move every stored key's ``created_at`` back by ``by``."""
    table = idempotency_keys
    with db.engine.begin() as conn:
        for account, key, created in conn.execute(
            select(table.c.account, table.c.key, table.c.created_at)
        ).all():
            conn.execute(
                update(table)
                .where(table.c.account == account, table.c.key == key)
                .values(created_at=created - by)
            )


def test_a_retry_is_answered_the_first_answer_again_and_writes_nothing(
    ready: Api, db: Database
) -> None:
    first = ready.post(UNIFIED, REPORT, headers=keyed("retry-1"))
    again = ready.post(UNIFIED, REPORT, headers=keyed("retry-1"))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["X-Request-Id"]
    assert (count(db, interactions), count(db, logs)) == (1, 1)
    [row] = stored_keys(db)
    assert (row["account"], row["key"], row["status_code"]) == (ACCOUNT, "retry-1", 201)
    assert row["body"] == first.content


def test_replays_keep_the_status_content_type_and_empty_body_of_the_first_answer(
    ready: Api, db: Database
) -> None:
    interaction = ready.open("1")
    log_path = f"{OPEN}/{interaction}/logs"
    log = {"type": "information", "description": "working"}
    logged = [ready.post(log_path, log, headers=keyed("log-1")) for _ in range(2)]
    closed = [ready.post(f"{OPEN}/{interaction}/close", headers=keyed("close-1")) for _ in range(2)]

    assert logged[1].headers["content-type"] == "application/json; charset=utf-8"
    assert logged[1].content == logged[0].content
    assert count(db, logs) == 1
    assert [c.status_code for c in closed] == [204, 204]
    assert closed[1].content == b""
    assert closed[1].headers["Idempotent-Replayed"] == "true"


def test_the_same_key_on_a_different_request_is_refused_and_writes_nothing(
    ready: Api, db: Database
) -> None:
    assert ready.post(UNIFIED, REPORT, headers=keyed("k")).status_code == 201
    other_body = ready.post(UNIFIED, {**REPORT, "description": "other"}, headers=keyed("k"))
    other_path = ready.post(
        f"/feeds/{FEED}/skus/2/interactions/unified", REPORT, headers=keyed("k")
    )

    for response in (other_body, other_path):
        assert response.status_code == 409
        assert response.json() == {
            "errors": [
                {
                    "code": "idempotency_key_reused",
                    "message": response.json()["errors"][0]["message"],
                    "field": "Idempotency-Key",
                }
            ]
        }
        assert "different request" in response.json()["errors"][0]["message"]
    assert (count(db, interactions), count(db, logs)) == (1, 1)


def test_other_credentials_of_the_same_account_are_never_replayed_the_first_answer(
    ready: Api, make_api: Callable[..., Api], db: Database
) -> None:
    assert ready.post(OPEN, INTERACTION, headers=keyed("shared")).status_code == 201

    response = make_api().post(OPEN, INTERACTION, headers=keyed("shared"))

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert count(db, interactions) == 1


def test_a_request_still_running_answers_in_use_with_retry_after(ready: Api, db: Database) -> None:
    assert ready.post(UNIFIED, REPORT, headers=keyed("busy")).status_code == 201
    # The claim of a request that has not answered yet: a row with no status.
    with db.engine.begin() as conn:
        conn.execute(update(idempotency_keys).values(status_code=None, body=None))

    response = ready.post(UNIFIED, REPORT, headers=keyed("busy"))

    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    [problem] = response.json()["errors"]
    assert (problem["code"], problem["field"]) == ("idempotency_key_in_use", "Idempotency-Key")
    assert count(db, interactions) == 1


def test_a_claim_left_unanswered_past_the_lease_is_taken_over(ready: Api, db: Database) -> None:
    """The process that claimed the key died mid-request: its claim must not block for 24 h."""
    assert ready.post(UNIFIED, REPORT, headers=keyed("orphan")).status_code == 201
    with db.engine.begin() as conn:
        conn.execute(update(idempotency_keys).values(status_code=None, body=None))
    age_keys(db, IN_PROGRESS_LEASE + timedelta(seconds=1))

    again = ready.post(UNIFIED, REPORT, headers=keyed("orphan"))

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert ready.post(UNIFIED, REPORT, headers=keyed("orphan")).content == again.content


def test_a_retry_while_the_first_request_runs_is_told_to_wait_then_replayed(
    ready: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real_open = service.open_interaction

    def slow_open(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(10)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(service, "open_interaction", slow_open)
    answers: list[httpx.Response] = []
    first = threading.Thread(
        target=lambda: answers.append(ready.post(OPEN, INTERACTION, headers=keyed("slow")))
    )
    first.start()
    try:
        assert entered.wait(10)
        waiting = ready.post(OPEN, INTERACTION, headers=keyed("slow"))
    finally:
        release.set()
        first.join(10)

    assert waiting.status_code == 409
    assert waiting.json()["errors"][0]["code"] == "idempotency_key_in_use"
    assert waiting.headers["Retry-After"] == "1"
    [answer] = answers
    assert answer.status_code == 201
    replay = ready.post(OPEN, INTERACTION, headers=keyed("slow"))
    assert (replay.status_code, replay.content) == (201, answer.content)
    assert count(db, interactions) == 1


def test_two_claims_racing_on_one_key_leave_exactly_one_running(db: Database) -> None:
    barrier = threading.Barrier(4)
    states: list[ClaimState] = []

    def claim() -> None:
        barrier.wait()
        now = datetime.now(UTC)
        states.append(claim_key(db, ACCOUNT, "race", "f" * 64, now=now, ttl=TTL).state)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(s.value for s in states) == ["claimed", "in_use", "in_use", "in_use"]


def test_a_key_older_than_the_ttl_no_longer_counts_and_the_request_runs_again(
    ready: Api, db: Database
) -> None:
    first = ready.post(UNIFIED, REPORT, headers=keyed("old"))
    age_keys(db, TTL + timedelta(minutes=1))

    again = ready.post(UNIFIED, REPORT, headers=keyed("old"))

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert count(db, interactions) == 2
    [row] = stored_keys(db)
    assert row["created_at"] > datetime.now(UTC) - timedelta(minutes=1)
    assert ready.post(UNIFIED, REPORT, headers=keyed("old")).content == again.content


def test_an_unexpected_error_gives_the_key_up_and_a_retry_runs_again(
    ready: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = service.open_interaction

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(service, "open_interaction", broken)
    with pytest.raises(RuntimeError, match="went away"):
        ready.post(OPEN, INTERACTION, headers=keyed("flaky"))
    assert stored_keys(db) == []

    monkeypatch.setattr(service, "open_interaction", real_open)
    retry = ready.post(OPEN, INTERACTION, headers=keyed("flaky"))
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert count(db, interactions) == 1


def test_a_5xx_answer_is_not_kept(db: Database) -> None:
    """Any answer of 500 and over gives the key up, exception or not."""
    principal = Principal("app-key", Role.CONNECTOR, frozenset({ACCOUNT}))
    answers = iter([503, 201])

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        status = next(answers)
        await JSONResponse({"status": status}, status_code=status)(scope, receive, send)

    middleware = IdempotencyMiddleware(endpoint, KeyLedger(db, TTL))

    async def authenticated(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["principal"] = principal
        await middleware(scope, receive, send)

    client = TestClient(authenticated)
    url = f"/api/sent-offers/things?an={ACCOUNT}"
    assert client.post(url, json={}, headers=keyed("k")).status_code == 503
    assert stored_keys(db) == []
    assert client.post(url, json={}, headers=keyed("k")).status_code == 201
    replay = client.post(url, json={}, headers=keyed("k"))
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (201, "true")


def test_a_400_answer_is_kept_and_replayed(ready: Api, db: Database) -> None:
    bad = {**INTERACTION, "origin": "nowhere"}
    first = ready.post(OPEN, bad, headers=keyed("bad-body"))
    again = ready.post(OPEN, bad, headers=keyed("bad-body"))

    assert first.status_code == again.status_code == 400
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert stored_keys(db)[0]["status_code"] == 400


def test_requests_without_the_header_run_every_time_and_store_no_key(
    ready: Api, db: Database
) -> None:
    answers = [ready.post(UNIFIED, REPORT) for _ in range(2)]

    assert [a.status_code for a in answers] == [201, 201]
    assert "Idempotent-Replayed" not in answers[1].headers
    assert count(db, interactions) == 2
    assert stored_keys(db) == []


def test_other_methods_ignore_the_header(ready: Api, db: Database) -> None:
    feed = {"affiliateId": "AMZ", "salesChannels": "1"}
    for _ in range(2):
        updated = ready.request("PUT", f"/feeds/{FEED}", json=feed, headers=keyed("same"))
        assert updated.status_code == 204
        assert "Idempotent-Replayed" not in updated.headers
    read = ready.get(f"/feeds/{FEED}", headers=keyed("not a valid key"))
    assert read.status_code == 200
    assert stored_keys(db) == []


@pytest.mark.parametrize("key", ["", "has space", "tab\there", "x" * 256, "ключ"])
def test_a_key_that_is_not_1_to_255_visible_ascii_characters_is_refused(
    ready: Api, db: Database, key: str
) -> None:
    response = ready.post(UNIFIED, REPORT, headers={"Idempotency-Key": key.encode("utf-8")})

    assert response.status_code == 400
    [problem] = response.json()["errors"]
    assert (problem["code"], problem["field"]) == ("invalid", "Idempotency-Key")
    assert (count(db, interactions), stored_keys(db)) == (0, [])


def test_a_key_of_255_visible_characters_is_accepted(ready: Api) -> None:
    key = "!~" + "a" * 253
    assert ready.post(UNIFIED, REPORT, headers=keyed(key)).status_code == 201
    assert ready.post(UNIFIED, REPORT, headers=keyed(key)).headers["Idempotent-Replayed"] == "true"


def test_keys_are_scoped_by_account(make_api: Callable[..., Api], db: Database) -> None:
    both = make_api(accounts=[ACCOUNT, OTHER_ACCOUNT])
    for account in (ACCOUNT, OTHER_ACCOUNT):
        api = Api(both.client, *both.headers.values(), account)
        assert api.channel().status_code in (201, 409)
        assert api.activate().status_code == 201
        assert api.post(UNIFIED, REPORT, headers=keyed("per-account")).status_code == 201

    assert count(db, interactions) == 2
    assert [(row["account"], row["key"]) for row in stored_keys(db)] == [
        (ACCOUNT, "per-account"),
        (OTHER_ACCOUNT, "per-account"),
    ]


def test_a_key_without_the_account_gets_403_and_claims_nothing(
    make_api: Callable[..., Api], db: Database
) -> None:
    outsider = make_api(account=OTHER_ACCOUNT)
    outsider.account = ACCOUNT

    response = outsider.post(UNIFIED, REPORT, headers=keyed("not-mine"))

    assert response.status_code == 403
    assert stored_keys(db) == []


def test_without_an_the_key_is_scoped_by_the_credentials_only_account(
    make_api: Callable[..., Api], db: Database
) -> None:
    connector = make_api(Role.CONNECTOR)
    channel = {"vendor": "vtex", "name": "Scoped", "logo": "https://l/x.png"}
    # ``an`` left out: the refusal is kept under the key's only account, and replayed.
    url = "/api/sent-offers/channels"
    headers = {**connector.headers, **keyed("c")}
    answers = [connector.client.post(url, json=channel, headers=headers) for _ in range(2)]

    assert [a.status_code for a in answers] == [400, 400]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert answers[1].content == answers[0].content
    assert [(row["account"], row["key"]) for row in stored_keys(db)] == [(ACCOUNT, "c")]


@pytest.fixture
def expired_and_fresh(ready: Api, db: Database) -> None:
    for key in ("old-1", "old-2", "old-3"):
        response = ready.post(UNIFIED, {**REPORT, "description": key}, headers=keyed(key))
        assert response.status_code == 201
    age_keys(db, TTL + timedelta(minutes=1))
    assert ready.post(UNIFIED, REPORT, headers=keyed("fresh")).status_code == 201


def test_the_purge_deletes_expired_keys_in_chunks_and_keeps_fresh_ones(
    db: Database, expired_and_fresh: None
) -> None:
    report = purge_expired(db, timedelta(days=10), chunk_rows=2, idempotency_ttl=TTL)

    assert report.idempotency_keys == 3
    assert report.transactions == 2
    assert "3 expired idempotency key(s)" in report.describe()
    assert [row["key"] for row in stored_keys(db)] == ["fresh"]
    assert purge_expired(db, timedelta(days=10)).idempotency_keys == 0


def test_the_purge_command_deletes_expired_keys(
    db: Database, database_url: str, expired_and_fresh: None
) -> None:
    result = CliRunner().invoke(cli, ["purge", "--database-url", database_url])

    assert result.exit_code == 0, result.output
    assert "3 expired idempotency key(s)" in result.output
    assert [row["key"] for row in stored_keys(db)] == ["fresh"]


def test_the_purge_honours_a_shorter_ttl(ready: Api, db: Database) -> None:
    assert ready.post(UNIFIED, REPORT, headers=keyed("brief")).status_code == 201
    time.sleep(0.05)

    report = purge_expired(db, timedelta(days=10), idempotency_ttl=timedelta(seconds=0.01))

    assert report.idempotency_keys == 1
    assert stored_keys(db) == []
    with pytest.raises(ValueError, match="TTL"):
        purge_expired(db, timedelta(days=10), idempotency_ttl=timedelta(0))


def test_the_openapi_documents_the_header(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    parameter = schema["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["name"], parameter["in"], parameter["required"]) == (
        "Idempotency-Key",
        "header",
        False,
    )
    assert parameter["schema"]["maxLength"] == 255
    for said in ("Idempotency-Key", "idempotency_key_reused", "idempotency_key_in_use"):
        assert said in schema["info"]["description"]


# The key, the write and the answer: one transaction -------------------------------------

BATCH = f"/feeds/{FEED}/interactions/unified/batch"
DAFITI = {"vendor": "vtex", "name": "Dafiti", "logo": "https://l/d.png"}
WRITES: dict[str, tuple[str, Any, tuple[int, int, int, int]]] = {
    # path, body, what one write adds to (interactions, logs, channels, feeds)
    "open": (OPEN, INTERACTION, (1, 0, 0, 0)),
    "unified": (UNIFIED, REPORT, (1, 1, 0, 0)),
    "batch": (BATCH, [{"skuId": "1", **REPORT}, {"skuId": "2", **REPORT}], (2, 2, 0, 0)),
    "channel": ("/channels", DAFITI, (0, 0, 1, 0)),
    "feed": ("/feeds", {"id": "vtex.netshoes", "affiliateId": "NTS", "salesChannels": "1"},
             (0, 0, 0, 1)),
}  # fmt: skip


def written(db: Database) -> tuple[int, ...]:
    """How many interactions, logs, channels and feeds the store holds."""
    return tuple(count(db, table) for table in (interactions, logs, channels, feeds))


def plus(counts: tuple[int, ...], added: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(a + b for a, b in zip(counts, added, strict=True))


@pytest.fixture
def writable(ready: Api) -> Api:
    """``ready``, with the Netshoes channel (its feed is activated by the "feed" write)."""
    if ready.channel("vtex", "Netshoes").status_code != 201:
        raise AssertionError("the Netshoes channel was not created")
    return ready


def answer_lost(app: ASGIApp) -> ASGIApp:
    """``app`` in a process that dies once its answer is ready, before it goes out."""

    async def dying(scope: Scope, receive: Receive, send: Send) -> None:
        async def lose(message: Message) -> None:
            if message["type"] == "http.response.start":
                raise ConnectionResetError("the process died before answering")
            await send(message)

        await app(scope, receive, lose)

    return dying


@pytest.mark.parametrize("write", WRITES)
def test_a_failure_between_the_write_and_its_answer_leaves_nothing_and_the_retry_writes_once(
    writable: Api, db: Database, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    path, body, adds = WRITES[write]
    before = written(db)

    def die(conn: Any, answers: Any) -> None:
        raise RuntimeError("the process died before the commit")

    with monkeypatch.context() as patched:  # where the answers are kept, before the commit
        patched.setattr(store_idempotency, "keep_answers", die)
        patched.setattr(writer_module, "keep_answers", die)
        with pytest.raises(RuntimeError, match="died before the commit"):
            writable.post(path, body, headers=keyed("crash"))
    assert written(db) == before
    assert stored_keys(db) == []

    retry = writable.post(path, body, headers=keyed("crash"))
    again = writable.post(path, body, headers=keyed("crash"))

    assert retry.status_code in (200, 201), retry.text
    assert "Idempotent-Replayed" not in retry.headers
    assert (again.status_code, again.content) == (retry.status_code, retry.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert written(db) == plus(before, adds)


@pytest.mark.parametrize("write", WRITES)
def test_a_crash_after_the_commit_leaves_the_answer_and_the_retry_replays_it(
    writable: Api, db: Database, write: str
) -> None:
    path, body, adds = WRITES[write]
    before = written(db)
    dying = Api(TestClient(answer_lost(writable.client.app)), *writable.headers.values(), ACCOUNT)

    with pytest.raises(ConnectionResetError):
        dying.post(path, body, headers=keyed("lost"))
    [row] = stored_keys(db)
    assert written(db) == plus(before, adds)

    retry = writable.post(path, body, headers=keyed("lost"))

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert (retry.status_code, retry.content) == (row["status_code"], row["body"])
    assert written(db) == plus(before, adds)


def test_the_answer_of_a_write_is_kept_by_the_write_not_after_it(
    writable: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept_after: list[str] = []
    real_keep = KeyLedger.keep

    async def keep(self: KeyLedger, request: KeyedRequest, answer: StoredResponse) -> None:
        kept_after.append(request.key)
        await real_keep(self, request, answer)

    monkeypatch.setattr(KeyLedger, "keep", keep)
    for write, (path, body, _) in WRITES.items():
        assert writable.post(path, body, headers=keyed(write)).status_code in (200, 201)
    refused = writable.post(OPEN, {**INTERACTION, "origin": "nowhere"}, headers=keyed("bad"))

    assert refused.status_code == 400
    assert kept_after == ["bad"]  # a refusal wrote nothing: its answer is kept on its own
    assert sorted(row["key"] for row in stored_keys(db)) == sorted([*WRITES, "bad"])


@pytest.mark.parametrize("write", ["open", "unified"])
def test_a_key_claimed_elsewhere_since_the_look_up_is_answered_from_it_and_writes_nothing(
    ready: Api, db: Database, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """Another process took the key between this request's look-up and its write."""
    path, body, _ = WRITES[write]
    first = ready.post(path, body, headers=keyed("raced"))
    before = written(db)

    async def free(self: KeyLedger, request: KeyedRequest) -> Claim:
        return Claim(ClaimState.FREE, request.account, request.key, request.fingerprint)

    monkeypatch.setattr(KeyLedger, "look_up", free)
    replayed = ready.post(path, body, headers=keyed("raced"))
    reused = ready.post(path, {**body, "origin": "inventory"}, headers=keyed("raced"))
    with db.engine.begin() as conn:  # the key's request still runs elsewhere
        conn.execute(update(idempotency_keys).values(status_code=None, body=None))
    in_use = ready.post(path, body, headers=keyed("raced"))

    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert (replayed.status_code, replayed.content) == (first.status_code, first.content)
    assert reused.status_code == in_use.status_code == 409
    assert reused.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert in_use.json()["errors"][0]["code"] == "idempotency_key_in_use"
    assert in_use.headers["Retry-After"] == "1"
    assert written(db) == before


def test_a_keyed_write_that_never_answers_writes_nothing(db: Database) -> None:
    mute = KeyLedger(db, TTL).request(ACCOUNT, "mute", "f" * 64)
    channel = ChannelCreate(vendor="vtex", name="Amazon", logo="https://l/x.png")

    with pytest.raises(RuntimeError, match="without its answer"), keyed_write(db, mute) as write:
        channels_service.create(write.db, ACCOUNT, channel)

    assert (count(db, channels), stored_keys(db)) == (0, [])


def test_keys_claimed_as_a_group_each_get_their_own_outcome_and_vanish_without_a_commit(
    db: Database,
) -> None:
    ledger = KeyLedger(db, TTL)
    done = ledger.request(ACCOUNT, "done", "f" * 64)
    with db.unit_of_work() as uow:
        done.claim(uow.conn, datetime.now(UTC))
        done.keep(uow.conn, StoredResponse(204, None, b""))
        uow.commit()
    group = [
        ledger.request(ACCOUNT, "new-1", "f" * 64),
        ledger.request(OTHER_ACCOUNT, "new-1", "f" * 64),
        ledger.request(ACCOUNT, "new-1", "f" * 64),  # the same key twice in one group
        ledger.request(ACCOUNT, "done", "f" * 64),
        ledger.request(ACCOUNT, "done", "e" * 64),
    ]

    with db.unit_of_work() as uow:
        claim_keys(uow.conn, group, datetime.now(UTC))
        outcomes = [(r.held or r.taken).state.value for r in group]  # type: ignore[union-attr]

    assert outcomes == ["claimed", "claimed", "in_use", "replay", "reused"]
    assert group[3].taken is not None
    assert group[3].taken.response == StoredResponse(204, None, b"")
    assert [row["key"] for row in stored_keys(db)] == ["done"]  # never committed


def unified_body(n: int) -> UnifiedCreate:
    return UnifiedCreate.model_validate({**REPORT, "description": f"call {n}"})


def submit_together(
    db: Database, calls: list[tuple[str, KeyedRequest | None]]
) -> tuple[list[Any], list[int]]:
    """The calls submitted at once to one writer; their outcomes, and the groups' sizes."""
    sizes: list[int] = []

    class Counted(UnifiedWriter):
        def _write(self, group: Any) -> Any:
            sizes.append(len(group))
            return super()._write(group)

    async def main() -> list[Any]:
        writer = Counted(db, lambda: {"PRICE-001"})
        try:
            submitted = (
                writer.submit(ACCOUNT, FEED, sku, unified_body(n), keyed=key)
                for n, (sku, key) in enumerate(calls)
            )
            return await asyncio.gather(*submitted, return_exceptions=True)
        finally:
            await writer.stop()

    return asyncio.run(main()), sizes


def test_a_group_commit_keeps_each_calls_answer_with_its_write_and_a_taken_key_fails_alone(
    ready: Api, db: Database
) -> None:
    ledger = KeyLedger(db, TTL)
    answered = ledger.request(ACCOUNT, "answered", "f" * 64)
    with db.unit_of_work() as uow:
        answered.claim(uow.conn, datetime.now(UTC))
        answered.keep(uow.conn, StoredResponse(201, "application/json", b"{}"))
        uow.commit()
    keys = [ledger.request(ACCOUNT, f"k{n}", "f" * 64) for n in range(4)]
    calls = [(f"s{n}", key) for n, key in enumerate(keys)]
    calls += [("s-unkeyed", None), ("s-answered", ledger.request(ACCOUNT, "answered", "f" * 64))]

    outcomes, sizes = submit_together(db, calls)

    assert sizes == [6]
    *applied, unkeyed, taken = outcomes
    assert isinstance(taken, KeyTaken)
    assert taken.claim.state is ClaimState.REPLAY
    assert all(isinstance(outcome, Applied) for outcome in [*applied, unkeyed])
    rows = {row["key"]: row for row in stored_keys(db)}
    for key, outcome in zip(keys, applied, strict=True):
        assert key.answer == outcome.answer
        assert rows[key.key]["body"] == outcome.answer.body
        assert outcome.answer.body.startswith(b"{")
    assert unkeyed.answer.status_code == 201
    assert (count(db, interactions), count(db, logs)) == (5, 5)


def test_a_failed_group_is_rewritten_call_by_call_each_key_with_its_own_write(
    ready: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[..., Any] = writer_module.write_unified

    def poisoned(conn: Any, account: str, feed: str, items: Any, *args: Any) -> Any:
        if any(sku == "poison" for sku, _ in items):
            raise RuntimeError("storage refused the row")
        return real(conn, account, feed, items, *args)

    monkeypatch.setattr(writer_module, "write_unified", poisoned)
    ledger = KeyLedger(db, TTL)
    calls = [(sku, ledger.request(ACCOUNT, sku, "f" * 64)) for sku in ("1", "poison", "2")]

    first, failed, second = submit_together(db, calls)[0]

    assert isinstance(failed, RuntimeError)
    assert isinstance(first, Applied)
    assert isinstance(second, Applied)
    assert sorted(row["key"] for row in stored_keys(db)) == ["1", "2"]
    assert (count(db, interactions), count(db, logs)) == (2, 2)


def test_a_refused_call_of_a_group_gives_its_key_up_in_the_groups_transaction(
    ready: Api, db: Database
) -> None:
    ledger = KeyLedger(db, TTL)
    ok, refused = ledger.request(ACCOUNT, "ok", "f" * 64), ledger.request(ACCOUNT, "no", "f" * 64)

    async def main() -> list[Any]:
        writer = UnifiedWriter(db, lambda: {"PRICE-001"})
        try:
            return await asyncio.gather(
                writer.submit(ACCOUNT, FEED, "1", unified_body(1), keyed=ok),
                writer.submit(ACCOUNT, "vtex.nowhere", "1", unified_body(2), keyed=refused),
                return_exceptions=True,
            )
        finally:
            await writer.stop()

    written_call, refused_call = asyncio.run(main())

    assert isinstance(written_call, Applied)
    assert refused_call.status_code == 404
    assert refused.held is None
    assert [row["key"] for row in stored_keys(db)] == ["ok"]


_databases = itertools.count()


@pytest.fixture
def postgres_db(postgres_server: PostgresServer, postgres_template: str) -> Iterator[Database]:
    name = f"idempotency_{next(_databases)}"
    with psycopg.connect(postgres_server.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(postgres_template)
            )
        )
    database = Database(create_db_engine(postgres_server.url(name), pool_size=2))
    yield database
    database.dispose()
    postgres_server.drop_database(name)


def test_on_postgresql_a_claim_never_waits_on_an_uncommitted_claim_of_the_same_key(
    postgres_db: Database,
) -> None:
    """Two processes' writes on one key: the second is told the key is in use at once."""
    now = datetime.now(UTC)
    with postgres_db.unit_of_work() as first:
        assert claim(first.conn, ACCOUNT, "k", "f" * 64, now=now, ttl=TTL).state.value == "claimed"
        with postgres_db.unit_of_work() as second:
            second.conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            other = claim(second.conn, ACCOUNT, "k", "f" * 64, now=now, ttl=TTL)
        assert other.state is ClaimState.IN_USE
    # The first never committed: neither its claim nor its lock is left.
    assert claim_key(postgres_db, ACCOUNT, "k", "f" * 64, now=now, ttl=TTL).state.value == (
        "claimed"
    )


def test_a_new_keys_token_is_never_kept_for_replays(
    make_api: Callable[..., Api], db: Database
) -> None:
    admin = make_api(Role.ADMIN)
    body = {"role": "viewer", "accounts": [ACCOUNT]}

    first = admin.post("/keys", body, headers=keyed("key-1"))
    again = admin.post("/keys", body, headers=keyed("key-1"))

    assert first.status_code == again.status_code == 201
    assert first.json()["appKey"] != again.json()["appKey"]  # a second key, not a replay
    assert stored_keys(db) == []
    assert first.json()["appToken"].encode() not in b"".join(
        row["body"] or b"" for row in stored_keys(db)
    )


def test_a_keyed_error_code_creation_is_written_once_and_replayed(
    db: Database, client: TestClient
) -> None:
    from sentoffers.server.features.keys import create_key

    platform = create_key(db, Role.PLATFORM, [])
    headers = {
        "X-VTEX-API-AppKey": platform.app_key,
        "X-VTEX-API-AppToken": platform.app_token,
        **keyed("code-1"),
    }
    body = {"id": "SHIP-001", "type": "Shipping", "description": "Carrier refused"}

    first = client.post("/api/sent-offers/error-codes", json=body, headers=headers)
    again = client.post("/api/sent-offers/error-codes", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (
        client.get("/api/sent-offers/error-codes/SHIP-001", headers=headers).json()[0][
            "description"
        ]
        == "Carrier refused"
    )
