"""API keys and who they let in.

A key is an ``appKey`` with a secret ``appToken`` (stored as a SHA-256 hash), a role and
the accounts it may touch (``*`` for every account, admin keys only; none for a platform
key, the operator's, which acts on global objects only). A key may also be exchanged for a
signed token, sent as ``VtexIdclientAutCookie``. Who may make or revoke which key is in
``sentoffers.domain.permissions``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import TTLCache
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import insert, select, update

from sentoffers.domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from sentoffers.domain.model import Role
from sentoffers.domain.permissions import (
    EVERY_ACCOUNT,
    Access,
    KeyHolder,
    holds_account,
    may_revoke_key,
)
from sentoffers.domain.vocabulary import parse_line
from sentoffers.server.store.tables import api_keys
from sentoffers.sql.db import Database

ALL_ACCOUNTS = EVERY_ACCOUNT
_ALPHABET = string.ascii_uppercase + string.digits
TOKEN_SALT = "sentoffers.vtexid.token"
TOKEN_TTL_SECONDS = 3600
# Keys whose good credentials are remembered at once; past it, the oldest are forgotten.
CACHED_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as."""

    app_key: str
    role: Role
    accounts: frozenset[str]

    def has_account(self, account: str) -> bool:
        return holds_account(self, account)

    def require_read(self, account: str) -> None:
        if not self.has_account(account):
            raise Forbidden(f"this key has no access to account {account!r}", field="an")

    def require_write(self, account: str) -> None:
        self.require_read(account)
        if self.role == Role.VIEWER:
            raise Forbidden("a viewer key cannot write", code="read_only")


@dataclass(frozen=True, slots=True)
class NewKey:
    app_key: str
    app_token: str
    role: Role
    accounts: tuple[str, ...]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(
    db: Database, role: Role, accounts: list[str], *, label: str | None = None
) -> NewKey:
    """Create a key for ``accounts``; the token is shown once and only its hash is kept.

    Who may ask for it is the caller's check (``may_grant_role``); here, what a key of
    ``role`` may hold: a platform key no account, any other key at least one.
    """
    cleaned = tuple(dict.fromkeys(a.strip() for a in accounts if a.strip()))
    if role == Role.PLATFORM and cleaned:
        raise InvalidInput(
            "a platform key holds no account: it acts on keys, error codes and channels, "
            "never on an account's data",
            field="accounts",
        )
    if role != Role.PLATFORM and not cleaned:
        raise InvalidInput("a key needs at least one account", field="accounts")
    if ALL_ACCOUNTS in cleaned and role != Role.ADMIN:
        raise InvalidInput("only admin keys may hold every account ('*')", field="accounts")
    first = cleaned[0] if cleaned else role.value
    prefix = "".join(c for c in first.lower() if c.isalnum())[:20] or "all"
    app_key = f"vtexappkey-{prefix}-{''.join(secrets.choice(_ALPHABET) for _ in range(6))}"
    app_token = "".join(secrets.choice(_ALPHABET) for _ in range(100))
    with db.unit_of_work() as uow:
        uow.conn.execute(
            insert(api_keys).values(
                app_key=app_key,
                token_hash=hash_token(app_token),
                role=role.value,
                accounts=list(cleaned),
                label=label,
                created_at=datetime.now(UTC),
            )
        )
        uow.commit()
    return NewKey(app_key, app_token, role, cleaned)


def has_keys(db: Database) -> bool:
    with db.unit_of_work(write=False) as uow:
        return uow.conn.execute(select(api_keys.c.app_key).limit(1)).first() is not None


def revoke_key(db: Database, app_key: str, *, revoker: KeyHolder | None = None) -> None:
    """Revoke ``app_key``, as ``revoker`` (None: the operator, from the command line).

    A key the revoker may not revoke is answered exactly like an unknown one, so an admin
    learns nothing of other accounts' keys.
    """
    active = (api_keys.c.app_key == app_key, api_keys.c.revoked_at.is_(None))
    with db.unit_of_work() as uow:
        row = uow.conn.execute(select(api_keys.c.role, api_keys.c.accounts).where(*active)).first()
        key = None if row is None else Access(Role(row.role), frozenset(row.accounts))
        if key is None or (revoker is not None and not may_revoke_key(revoker, key)):
            raise NotFound("no active key has this appKey", field="appKey")
        uow.conn.execute(update(api_keys).where(*active).values(revoked_at=datetime.now(UTC)))
        uow.commit()


class Authenticator:
    """Checks credentials, remembering good ones for a few seconds to spare the store."""

    def __init__(
        self,
        db: Database,
        secret: str,
        *,
        cache_seconds: float = 30.0,
        token_max_seconds: int = 86400,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._db = db
        self._tokens = URLSafeSerializer(secret, salt=TOKEN_SALT)
        self._token_max_seconds = token_max_seconds
        # Good credentials for ``cache_seconds``: the key's stored hash and its principal.
        self._cache: TTLCache[str, tuple[str, Principal]] = TTLCache(
            maxsize=CACHED_KEYS, ttl=cache_seconds, timer=clock
        )
        self._lock = threading.Lock()

    def cached(self, app_key: str, app_token: str) -> Principal | None:
        """The principal of credentials checked a moment ago, without touching the store."""
        cached = self._recall(app_key)
        if cached and hmac.compare_digest(cached[0], hash_token(app_token)):
            return cached[1]
        return None

    def authenticate(self, app_key: str, app_token: str) -> Principal:
        principal = self.cached(app_key, app_token)
        if principal is not None:
            return principal
        digest = hash_token(app_token)
        stored_hash, principal = self._load(app_key)
        if not hmac.compare_digest(stored_hash, digest):
            raise Unauthorized("invalid appKey or appToken")
        self._remember(app_key, stored_hash, principal)
        return principal

    def principal_for_key(self, app_key: str) -> Principal:
        """The principal of a key checked before (a web session): Unauthorized once revoked.

        Uses the same short cache as ``authenticate``, so a revoked key stops working within
        ``cache_seconds``.
        """
        cached = self._recall(app_key)
        if cached:
            return cached[1]
        stored_hash, principal = self._load(app_key)
        self._remember(app_key, stored_hash, principal)
        return principal

    def _load(self, app_key: str) -> tuple[str, Principal]:
        try:  # no key holds a control character, and PostgreSQL text cannot even hold NUL
            parse_line(app_key)
        except ValueError:
            raise Unauthorized("invalid appKey or appToken") from None
        with self._db.unit_of_work(write=False) as uow:
            row = uow.conn.execute(
                select(api_keys).where(
                    api_keys.c.app_key == app_key, api_keys.c.revoked_at.is_(None)
                )
            ).first()
        if row is None:
            raise Unauthorized("invalid appKey or appToken")
        return row.token_hash, Principal(app_key, Role(row.role), frozenset(row.accounts))

    def _recall(self, app_key: str) -> tuple[str, Principal] | None:
        with self._lock:
            return self._cache.get(app_key)

    def _remember(self, app_key: str, stored_hash: str, principal: Principal) -> None:
        with self._lock:
            self._cache[app_key] = (stored_hash, principal)

    def forget(self, app_key: str) -> None:
        with self._lock:
            self._cache.pop(app_key, None)

    def issue_token(
        self, principal: Principal, ttl_seconds: int = TOKEN_TTL_SECONDS
    ) -> tuple[str, int]:
        """A signed token standing for ``principal`` until the returned expiry (epoch s).

        The lifetime is at most ``token_max_seconds``, whatever is asked.
        """
        ttl = max(1, min(ttl_seconds, self._token_max_seconds))
        expires = int(time.time()) + ttl
        return self._tokens.dumps({"k": principal.app_key, "exp": expires}), expires

    def authenticate_token(self, token: str) -> Principal:
        try:
            claims = self._tokens.loads(token.strip())
            app_key, expires = str(claims["k"]), int(claims["exp"])
        except (BadData, KeyError, TypeError, ValueError):
            raise Unauthorized("invalid VtexIdclientAutCookie token") from None
        now = time.time()
        if expires < now:
            raise Unauthorized("the VtexIdclientAutCookie token has expired", code="token_expired")
        # No token this service issues lasts longer: one that does was not issued as is.
        if expires > now + self._token_max_seconds:
            raise Unauthorized("invalid VtexIdclientAutCookie token")
        cached = self._recall(app_key)
        if cached:
            return cached[1]
        return self._load(app_key)[1]
