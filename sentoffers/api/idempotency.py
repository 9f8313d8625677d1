"""Idempotency: a POST sent with an ``Idempotency-Key`` header writes once, however often
it is retried.

The key is scoped by account (the ``an`` parameter, else the key's one account). The
first request under a key claims it (a row inserted, conflicts ignored, so two workers
never both run it), runs, and its answer is stored unless it is a 5xx; a 5xx or an
exception gives the key up, so a retry runs again. Within the TTL (24 h by default):

- the same request (same method, path, query string, body and credentials) is answered
  the stored answer again, byte for byte, with ``Idempotent-Replayed: true``;
- a different request: 409 ``idempotency_key_reused``;
- the same request while the first still runs: 409 ``idempotency_key_in_use`` with
  ``Retry-After: 1``.

Requests without the header, and other methods, pass through untouched.
"""

from __future__ import annotations

import logging

import anyio
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentoffers.api.auth import PUBLIC_PREFIXES
from sentoffers.api.errors import error_response
from sentoffers.domain.idempotency import (
    IDEMPOTENCY_KEY_HEADER,
    idempotency_key_problem,
    request_fingerprint,
)
from sentoffers.errors import Conflict, InvalidInput, ServiceError
from sentoffers.keys.service import ALL_ACCOUNTS, Principal
from sentoffers.store.idempotency import Claim, ClaimState, KeyLedger, StoredResponse

logger = logging.getLogger("sentoffers.api")

REPLAYED_HEADER = "Idempotent-Replayed"
_HEADER = IDEMPOTENCY_KEY_HEADER.lower().encode("latin-1")


class IdempotencyMiddleware:
    """Runs inside ``AuthMiddleware`` (it needs the principal) and the body limit."""

    def __init__(self, app: ASGIApp, ledger: KeyLedger):
        self.app = app
        self.ledger = ledger

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
        claim = await self.ledger.claim(account, key, fingerprint)
        if claim.state is ClaimState.CLAIMED:
            await self._run(claim, body, scope, receive, send)
        elif claim.state is ClaimState.REPLAY:
            assert claim.response is not None
            await _replay(claim.response, send)
        elif claim.state is ClaimState.REUSED:
            reused = Conflict(
                f"the {IDEMPOTENCY_KEY_HEADER} {key!r} was used for a different request; "
                "use a new key for a new request",
                code="idempotency_key_reused",
                field=IDEMPOTENCY_KEY_HEADER,
            )
            await error_response(reused, scope)(scope, receive, send)
        else:
            in_use = Conflict(
                f"a request with the {IDEMPOTENCY_KEY_HEADER} {key!r} is still running; "
                "retry in a moment",
                code="idempotency_key_in_use",
                field=IDEMPOTENCY_KEY_HEADER,
            )
            response = error_response(in_use, scope)
            response.headers["Retry-After"] = "1"
            await response(scope, receive, send)

    async def _run(
        self, claim: Claim, body: bytes, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the claimed request with its body, keep its answer, then send it."""
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

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await self._release(claim)
            raise
        if start is None:
            await self._release(claim)
            return
        answer = StoredResponse(start["status"], _content_type(start), b"".join(chunks))
        if answer.status_code >= 500:
            await self._release(claim)
        else:
            try:
                await self.ledger.complete(claim, answer)
            except Exception:
                # The request did its work: the answer still goes out, and the claim stays
                # (a retry is told the key is in use) rather than letting a retry write twice.
                logger.exception("could not store the answer of idempotency key %r", claim.key)
        await send(start)
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})

    async def _release(self, claim: Claim) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await self.ledger.release(claim)
            except Exception:
                logger.exception("could not release idempotency key %r", claim.key)


def _applies(scope: Scope) -> bool:
    """POSTs to the authenticated API; other methods and public paths ignore the header."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    path: str = scope["path"]
    return path.startswith("/api/") and not path.startswith(PUBLIC_PREFIXES)


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
