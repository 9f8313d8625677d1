"""Idempotency keys: which keys are valid, what makes two requests the same request, and
which answers are kept.

A POST sent with an ``Idempotency-Key`` header runs once per (account, key); a retry of
the same request is answered the first answer again, and a different request under the
same key is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def idempotency_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid idempotency key (1 to 255 visible ASCII characters), or None."""
    if not key:
        return f"the {IDEMPOTENCY_KEY_HEADER} header is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"the {IDEMPOTENCY_KEY_HEADER} header is over {MAX_KEY_LENGTH} characters"
    if not all("!" <= char <= "~" for char in key):
        return (
            f"the {IDEMPOTENCY_KEY_HEADER} header must be visible ASCII characters only "
            "(no spaces or control characters)"
        )
    return None


def request_fingerprint(
    method: str, path: str, query: bytes, body: bytes, *, caller: str = ""
) -> str:
    """The SHA-256 (hex) of a request's method, path, query string and body, and its caller.

    Each part is length-prefixed, so no two different requests share a fingerprint by
    moving bytes from one part to the next. ``caller`` (the credentials' app key) makes a
    stored answer replay only to the credentials that made it.
    """
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query, body, caller.encode()):
        digest.update(f"{len(part)}:".encode())
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What a request answered, kept to answer its retries byte for byte."""

    status_code: int
    content_type: str | None
    body: bytes


def is_kept(status_code: int) -> bool:
    """Whether an answer is kept for retries: all but 5xx, whose retries run again."""
    return status_code < 500


def lock_id(account: str, key: str) -> int:
    """A signed 64-bit number standing for (account, key), for a database's advisory lock."""
    digest = hashlib.sha256(f"{len(account)}:{account}{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
