"""Idempotency: a POST sent with an ``Idempotency-Key`` header writes once, however often
it is retried, and whenever the service dies.

The key is scoped by account (the ``an`` parameter, else the key's one account). The
middleware looks the key up (``KeyLedger.look_up``); within the TTL (24 h by default):

- the same request (same method, path, query string, body and credentials) is answered
  the stored answer again, byte for byte, with ``Idempotent-Replayed: true``;
- a different request: 409 ``idempotency_key_reused``;
- the same request while the first still runs (in this process, or in another one's
  transaction): 409 ``idempotency_key_in_use`` with ``Retry-After: 1``.

A free key lets the request through with its ``KeyedRequest`` (``IdempotencyKeyDep``). The
route's write claims the key, writes, and keeps its answer in ONE transaction
(``keyed_write``; the unified writer does the same inside its group's transaction), so
a crash before the commit leaves nothing behind (the retry writes once) and a crash after
it leaves the answer (the retry is answered it). An answer no write kept (a refusal before
any write; a route whose write does not take the key) is kept afterwards, unless it is a
5xx; a 5xx or an exception keeps nothing, so a retry runs again.

Requests without the header, and other methods, pass through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentoffers.contract import ReadModel
from sentoffers.domain.errors import Conflict, InvalidInput, ServiceError
from sentoffers.domain.idempotency import (
    IDEMPOTENCY_KEY_HEADER,
    StoredResponse,
    idempotency_key_problem,
    is_kept,
    request_fingerprint,
)
from sentoffers.server.features.keys import ALL_ACCOUNTS, Principal
from sentoffers.server.store.idempotency import Claim, ClaimState, KeyedRequest, KeyLedger, joined
from sentoffers.server.web.api.auth import PUBLIC_PREFIXES
from sentoffers.server.web.api.errors import error_response
from sentoffers.sql.db import Database, UnitOfWork

__all__ = [
    "REPLAYED_HEADER",
    "IdempotencyKeyDep",
    "IdempotencyMiddleware",
    "KeyedWrite",
    "keyed_write",
    "respond",
    "scope_account",
]

logger = logging.getLogger("sentoffers.api")

REPLAYED_HEADER = "Idempotent-Replayed"
_HEADER = IDEMPOTENCY_KEY_HEADER.lower().encode("latin-1")
_STATE = "keyed_request"
"""Where the middleware leaves the ``KeyedRequest`` in the ASGI scope's state."""


class IdempotencyMiddleware:
    """Runs inside ``AuthMiddleware`` (it needs the principal) and the body limit."""

    def __init__(self, app: ASGIApp, ledger: KeyLedger):
        self.app = app
        self.ledger = ledger
        self._running: dict[tuple[str, str], tuple[str, object]] = {}
        """The keys of this process's requests that run, with their fingerprints."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _applies(scope):
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope["headers"] if name == _HEADER]
        if not values:
            await self.app(scope, receive, send)
            return
        try:
            key = _parse_key(values)
        except ServiceError as error:
            await error_response(error, scope)(scope, receive, send)
            return
        principal = scope.get("state", {}).get("principal")
        principal = principal if isinstance(principal, Principal) else None
        query_account = QueryParams(scope["query_string"]).get("an")
        account = scope_account(query_account, principal)
        if query_account is not None and principal and not principal.has_account(account):
            # The route answers 403; no claim is made for another account's key.
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its body
        fingerprint = request_fingerprint(
            scope["method"],
            scope["path"],
            scope["query_string"],
            body,
            caller=principal.app_key if principal else "",
        )
        keyed = self.ledger.request(account, key, fingerprint)
        mine = (fingerprint, object())
        running = self._running.setdefault((account, key), mine)  # atomic: one request wins
        if running is not mine:
            state = ClaimState.IN_USE if running[0] == fingerprint else ClaimState.REUSED
            await _refuse(state, key, scope, receive, send)
            return
        try:
            found = await self.ledger.look_up(keyed)
            if found.state is ClaimState.FREE:
                await self._run(keyed, body, scope, receive, send)
            else:
                await _answer_from(found, scope, receive, send)
        finally:
            del self._running[(account, key)]

    async def _run(
        self, keyed: KeyedRequest, body: bytes, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the request with its body and its key; keep its answer unless its write did."""
        body_sent = False

        async def replay_body() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            else:
                await send(message)

        scope.setdefault("state", {})[_STATE] = keyed
        # An exception keeps nothing: the write's transaction, claim included, rolled back.
        await self.app(scope, replay_body, capture)
        if start is None:
            return
        if keyed.taken is not None:  # claimed by another request since the look-up
            await _answer_from(keyed.taken, scope, receive, send)
            return
        answer = StoredResponse(start["status"], _content_type(start), b"".join(chunks))
        if is_kept(answer.status_code) and keyed.answer != answer:
            # Nothing was written under the key (a refusal, or a write that does not take
            # the key): the answer is kept now, in a transaction of its own.
            try:
                await self.ledger.keep(keyed, answer)
            except Exception:
                logger.exception("could not keep the answer of idempotency key %r", keyed.key)
        await send(start)
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})


async def keyed_request(request: Request) -> KeyedRequest | None:
    """The request's ``KeyedRequest``: it came with a free ``Idempotency-Key``; else None."""
    found = request.scope.get("state", {}).get(_STATE)
    return found if isinstance(found, KeyedRequest) else None


IdempotencyKeyDep = Annotated[KeyedRequest | None, Depends(keyed_request)]


class KeyedWrite:
    """What a route writes through (``db``) and answers with (``answer``)."""

    def __init__(
        self, db: Database, keyed: KeyedRequest | None = None, work: UnitOfWork | None = None
    ):
        self.db = db
        self.answered = False
        self._keyed = keyed
        self._work = work

    def answer(
        self,
        status_code: int,
        view: ReadModel | None = None,
        *,
        media_type: str = "application/json",
    ) -> Response:
        """The route's answer: ``view`` as JSON, or no body. Under a key it is kept, and the
        transaction of the write commits with it."""
        body = b"" if view is None else view.to_json()
        response = Response(body, status_code, media_type=None if view is None else media_type)
        if self._work is not None:
            assert self._keyed is not None
            kept = StoredResponse(status_code, response.headers.get("content-type"), body)
            self._keyed.keep(self._work.conn, kept)
            self._work.commit()
        self.answered = True
        return response


@contextmanager
def keyed_write(db: Database, keyed: KeyedRequest | None) -> Iterator[KeyedWrite]:
    """A route's write and its answer::

        with keyed_write(db, keyed) as write:
            created = service.create(write.db, ...)
            return write.answer(201, created)

    Under a key: one transaction that claims the key (``KeyTaken`` if another request holds
    it), runs the service's units of work as savepoints of it, and commits with the answer
    kept. Without a key, the service writes as always.
    """
    if keyed is None:
        yield KeyedWrite(db)
        return
    with db.unit_of_work() as work:
        keyed.claim(work.conn, datetime.now(UTC))
        write = KeyedWrite(joined(db, work.conn), keyed, work)
        yield write
        if not write.answered:
            raise RuntimeError("a keyed write ended without its answer: nothing was written")


def respond(answer: StoredResponse) -> Response:
    """An answer built by a write path, as the route sends it."""
    return Response(answer.body, answer.status_code, media_type=answer.content_type)


async def _refuse(state: ClaimState, key: str, scope: Scope, receive: Receive, send: Send) -> None:
    if state is ClaimState.REUSED:
        reused = Conflict(
            f"the {IDEMPOTENCY_KEY_HEADER} {key!r} was used for a different request; "
            "use a new key for a new request",
            code="idempotency_key_reused",
            field=IDEMPOTENCY_KEY_HEADER,
        )
        await error_response(reused, scope)(scope, receive, send)
        return
    in_use = Conflict(
        f"a request with the {IDEMPOTENCY_KEY_HEADER} {key!r} is still running; retry in a moment",
        code="idempotency_key_in_use",
        field=IDEMPOTENCY_KEY_HEADER,
    )
    response = error_response(in_use, scope)
    response.headers["Retry-After"] = "1"
    await response(scope, receive, send)


async def _answer_from(found: Claim, scope: Scope, receive: Receive, send: Send) -> None:
    """A stored answer again, or why the key cannot run."""
    if found.state is ClaimState.REPLAY:
        assert found.response is not None
        await _replay(found.response, send)
    else:
        await _refuse(found.state, found.key, scope, receive, send)


# Answers that carry a secret shown once (a new key's token) are never kept: a retry of a
# lost one makes another key, and the unused one can be revoked.
SECRET_ANSWERS = ("/api/sent-offers/keys",)


def _applies(scope: Scope) -> bool:
    """POSTs to the authenticated API; other methods, public paths and answers holding a
    secret ignore the header."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    path: str = scope["path"]
    return (
        path.startswith("/api/")
        and not path.startswith(PUBLIC_PREFIXES)
        and path.rstrip("/") not in SECRET_ANSWERS
    )


def _parse_key(values: list[bytes]) -> str:
    if len(values) > 1:
        raise InvalidInput(
            f"send one {IDEMPOTENCY_KEY_HEADER} header, not {len(values)}",
            field=IDEMPOTENCY_KEY_HEADER,
        )
    key = values[0].decode("latin-1")
    problem = idempotency_key_problem(key)
    if problem is not None:
        raise InvalidInput(problem, field=IDEMPOTENCY_KEY_HEADER)
    return key


def scope_account(query_account: str | None, principal: Principal | None) -> str:
    """The account a key is scoped by: ``an`` (stripped), else the credentials' only account.

    Keys of several accounts (or of every account) that send no ``an`` share the empty
    account; the fingerprint still tells their requests apart by credentials.
    """
    if query_account is not None:
        return query_account.strip()
    if principal is not None and len(principal.accounts) == 1:
        [only] = principal.accounts
        if only != ALL_ACCOUNTS:
            return only
    return ""


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)


def _content_type(start: Message) -> str | None:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).decode("latin-1")
    return None


async def _replay(response: StoredResponse, send: Send) -> None:
    headers = []
    if response.status_code >= 200 and response.status_code not in (204, 304):
        headers.append((b"content-length", str(len(response.body)).encode()))
    if response.content_type is not None:
        headers.append((b"content-type", response.content_type.encode("latin-1")))
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})
