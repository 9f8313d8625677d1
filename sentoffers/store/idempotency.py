"""Idempotency keys in storage: claim a key, then store or release what it answered.

A request claims its (account, key) by inserting a row with no status yet; the insert
ignores conflicts, so of two workers or processes racing on one key exactly one inserts
and runs the request. The other reads the row: a request still running, a different
request under the same key, or a stored answer to replay. A row older than the TTL no
longer counts: it is taken over (in the claim's transaction, the row locked) as if new.
Each step is one short transaction.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, select, update

from sentoffers.store.db import Database
from sentoffers.store.dialect import insert_ignoring_conflicts
from sentoffers.store.tables import idempotency_keys

# The claim may find the row gone between its insert and its read (the request that held
# it failed and released it); it then tries again, a few times at most.
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What a request answered, kept to answer its retries byte for byte."""

    status_code: int
    content_type: str | None
    body: bytes


class ClaimState(enum.Enum):
    CLAIMED = "claimed"
    """The key is this request's: run it, then ``complete_key`` or ``release_key``."""
    IN_USE = "in_use"
    """The same request runs elsewhere and has not answered yet."""
    REUSED = "reused"
    """The key was used for a different request."""
    REPLAY = "replay"
    """The same request already ran: answer ``response`` again."""


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    account: str
    key: str
    fingerprint: str
    claimed_at: datetime | None = None
    """When this request claimed the key (``CLAIMED`` only); identifies the claim."""
    response: StoredResponse | None = None
    """The stored answer (``REPLAY`` only)."""


def claim_key(
    db: Database, account: str, key: str, fingerprint: str, *, now: datetime, ttl: timedelta
) -> Claim:
    """Claim (account, key) for a request with ``fingerprint``, or say why it cannot run."""

    def outcome(state: ClaimState, response: StoredResponse | None = None) -> Claim:
        claimed_at = now if state is ClaimState.CLAIMED else None
        return Claim(state, account, key, fingerprint, claimed_at, response)

    row_key = _row(account, key)
    with db.unit_of_work() as uow:
        conn = uow.conn
        for _ in range(_CLAIM_ATTEMPTS):
            # RETURNING says whether the row went in (PostgreSQL's rowcount does not).
            inserted = conn.execute(
                insert_ignoring_conflicts(conn, idempotency_keys)
                .values(account=account, key=key, fingerprint=fingerprint, created_at=now)
                .returning(idempotency_keys.c.key)
            ).first()
            if inserted is not None:
                uow.commit()
                return outcome(ClaimState.CLAIMED)
            row = conn.execute(select(idempotency_keys).where(row_key).with_for_update()).first()
            if row is None:
                continue
            if row.created_at <= now - ttl:
                taken = conn.execute(
                    update(idempotency_keys)
                    .where(row_key, idempotency_keys.c.created_at == row.created_at)
                    .values(
                        fingerprint=fingerprint,
                        status_code=None,
                        content_type=None,
                        body=None,
                        created_at=now,
                    )
                ).rowcount
                if taken:
                    uow.commit()
                    return outcome(ClaimState.CLAIMED)
                continue
            if row.fingerprint != fingerprint:
                return outcome(ClaimState.REUSED)
            if row.status_code is None:
                return outcome(ClaimState.IN_USE)
            stored = StoredResponse(row.status_code, row.content_type, bytes(row.body or b""))
            return outcome(ClaimState.REPLAY, stored)
    return outcome(ClaimState.IN_USE)


def complete_key(db: Database, claim: Claim, response: StoredResponse) -> None:
    """Store what the claiming request answered, for its retries."""
    with db.unit_of_work() as uow:
        uow.conn.execute(
            update(idempotency_keys)
            .where(*_held(claim))
            .values(
                status_code=response.status_code,
                content_type=response.content_type,
                body=response.body,
            )
        )
        uow.commit()


def release_key(db: Database, claim: Claim) -> None:
    """Give the key up, so that a retry runs the request again."""
    with db.unit_of_work() as uow:
        uow.conn.execute(delete(idempotency_keys).where(*_held(claim)))
        uow.commit()


def _row(account: str, key: str) -> ColumnElement[bool]:
    return and_(idempotency_keys.c.account == account, idempotency_keys.c.key == key)


def _held(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    """The claim's row, as long as no later request took it over (after the TTL)."""
    assert claim.state is ClaimState.CLAIMED
    assert claim.claimed_at is not None
    return (
        _row(claim.account, claim.key),
        idempotency_keys.c.fingerprint == claim.fingerprint,
        idempotency_keys.c.created_at == claim.claimed_at,
        idempotency_keys.c.status_code.is_(None),
    )
